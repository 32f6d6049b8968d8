//! The checker's entry point: split by key, run the tiers, collect a report.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::anomaly::{Anomaly, AnomalyKind};
use super::convert::KeyGroups;
use super::detect::{self, Finding};
use super::model::KeyHistory;
use super::tier1::{Tier1Result, tier1};
use super::tier2::{Budget, Exhausted, SearchResult, search};
use super::validate::validate_certificate;
use crate::history::History;
use crate::history::view::OpSource;

/// Limits and parallelism of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckOptions {
    /// Wall-clock budget for the whole history; keys still searching when it runs out are
    /// Unknown.
    pub time_budget: Duration,
    /// Cap on the configurations Tier 2 caches per key (about 40 bytes each).
    pub max_states: usize,
    /// Worker threads; keys are checked in parallel.
    pub threads: usize,
}

impl Default for CheckOptions {
    /// 60 s and 5 million cached configurations (about 200 MB) per key, one thread per core.
    fn default() -> Self {
        CheckOptions {
            time_budget: Duration::from_secs(60),
            max_states: 5_000_000,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// Which tier decided a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The version graph: a validated certificate, or a pattern witness.
    VersionGraph,
    /// The WGL search.
    Search,
}

/// The linearizability verdict of one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum KeyVerdict {
    Linearizable,
    NotLinearizable,
    Unknown {
        reason: String,
        /// What the search exhausted and where it was stuck, when a budget ran out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exhausted: Option<Exhausted>,
    },
}

/// The result for one key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyReport {
    pub key: String,
    /// Ops recorded on the key.
    pub ops: usize,
    pub verdict: KeyVerdict,
    pub decided_by: Option<Tier>,
    /// The validated linearization (op ids), when linearizable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Vec<u64>>,
    /// Everything wrong on this key: model violations and protocol findings (spurious 409,
    /// duplicate ETag).
    pub anomalies: Vec<Anomaly>,
    /// Outcomes no documented status convention explains in any state: conformance questions
    /// for the suite, left out of the linearizability check (never anomalies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<ConformanceNote>,
    /// Why Tier 1 passed the key on, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier1_note: Option<String>,
    /// Configurations Tier 2 cached (0 if it did not run).
    pub states: usize,
    pub elapsed_ms: f64,
}

/// A status the checker does not judge: no state explains it under any documented convention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConformanceNote {
    pub key: String,
    /// The op's id in the history.
    pub op: u64,
    pub message: String,
}

/// The result for a whole history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub keys: Vec<KeyReport>,
    pub ops: usize,
    pub elapsed_ms: f64,
}

/// The overall verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "snake_case")]
pub enum Verdict {
    Linearizable,
    Anomalous(Vec<Anomaly>),
    Unknown { reason: String },
}

impl CheckReport {
    /// Anomalies win over Unknown: a found anomaly is certain whatever other keys did.
    pub fn verdict(&self) -> Verdict {
        let anomalies: Vec<Anomaly> = self
            .keys
            .iter()
            .flat_map(|k| k.anomalies.iter().cloned())
            .collect();
        if !anomalies.is_empty() {
            return Verdict::Anomalous(anomalies);
        }
        let unknown: Vec<String> = self
            .keys
            .iter()
            .filter_map(|k| match &k.verdict {
                KeyVerdict::Unknown { reason, .. } => Some(format!("key {}: {reason}", k.key)),
                _ => None,
            })
            .collect();
        if unknown.is_empty() {
            Verdict::Linearizable
        } else {
            Verdict::Unknown {
                reason: unknown.join("; "),
            }
        }
    }

    /// Every conformance note, key by key.
    pub fn notes(&self) -> impl Iterator<Item = &ConformanceNote> {
        self.keys.iter().flat_map(|k| k.notes.iter())
    }

    /// Every anomaly, key by key.
    pub fn anomalies(&self) -> impl Iterator<Item = &Anomaly> {
        self.keys.iter().flat_map(|k| k.anomalies.iter())
    }
}

/// Checks a whole history: keys independently, in parallel, largest first. Each key is
/// converted to its per-key form by the worker that checks it and dropped when its verdict is
/// in, so memory holds the keys being checked, not all of them.
pub fn check_history(history: &History, opts: &CheckOptions) -> CheckReport {
    check_ops(history, opts)
}

/// [`check_history`] on any store of ops: `check` runs it on the compact form it reads.
pub fn check_ops<S: OpSource + ?Sized>(history: &S, opts: &CheckOptions) -> CheckReport {
    check_ops_until(history, opts, &AtomicBool::new(false))
}

/// [`check_ops`], abandoning every search once `cancel` is set (its key is then Unknown,
/// "cancelled"): a check nobody will read any more, one superseded or interrupted, gives its
/// core back.
pub fn check_ops_until<S: OpSource + ?Sized>(
    history: &S,
    opts: &CheckOptions,
    cancel: &AtomicBool,
) -> CheckReport {
    let start = Instant::now();
    let deadline = start + opts.time_budget;
    let groups = KeyGroups::new(history);
    let order: Vec<usize> = {
        let mut o: Vec<usize> = (0..groups.len()).collect();
        o.sort_by_key(|&i| std::cmp::Reverse(groups.ops(i)));
        o
    };
    let results: Mutex<Vec<Option<KeyReport>>> = Mutex::new(vec![None; groups.len()]);
    let next = AtomicUsize::new(0);
    let threads = opts.threads.clamp(1, groups.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(n) else { break };
                    let budget = Budget {
                        deadline,
                        max_states: opts.max_states,
                        cancel: Some(cancel),
                    };
                    let kh = groups.convert(i);
                    let r = check_key(&kh, &budget);
                    drop(kh);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                }
            });
        }
    });
    let keys: Vec<KeyReport> = results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect();
    CheckReport {
        keys,
        ops: history.len(),
        elapsed_ms: start.elapsed().as_secs_f64() * 1e3,
    }
}

fn to_anomaly(kh: &KeyHistory, f: Finding) -> Anomaly {
    Anomaly {
        kind: f.kind,
        key: kh.key.clone(),
        ops: f.ops.iter().map(|&i| kh.ops[i].id).collect(),
        explanation: f.lines.join("\n"),
    }
}

/// Checks one key: Tier 1's certificate, else Tier 1's pattern witnesses, else Tier 2.
pub fn check_key(kh: &KeyHistory, budget: &Budget) -> KeyReport {
    let start = Instant::now();
    let mut anomalies: Vec<Anomaly> = detect::protocol_findings(kh)
        .into_iter()
        .map(|f| to_anomaly(kh, f))
        .collect();
    let mut report = KeyReport {
        key: kh.key.clone(),
        ops: kh.ops.len(),
        verdict: KeyVerdict::Linearizable,
        decided_by: Some(Tier::VersionGraph),
        certificate: None,
        anomalies: Vec::new(),
        notes: kh
            .notes
            .iter()
            .map(|n| ConformanceNote {
                key: kh.key.clone(),
                op: kh.ops[n.op].id,
                message: n.message.clone(),
            })
            .collect(),
        tier1_note: None,
        states: 0,
        elapsed_ms: 0.0,
    };
    // The model leaves a copy's content open, so a read of content no copy could bring must be
    // caught before a certificate is looked for.
    let first = if detect::has_garbage_read(kh) {
        Tier1Result::Inconclusive("a read saw content no write produced".into())
    } else {
        tier1(kh)
    };
    match first {
        Tier1Result::Certificate(order) => report.certificate = Some(order),
        Tier1Result::Inconclusive(note) => {
            report.tier1_note = Some(note);
            let findings = detect::model_findings(kh);
            if !findings.is_empty() {
                report.verdict = KeyVerdict::NotLinearizable;
                anomalies.extend(findings.into_iter().map(|f| to_anomaly(kh, f)));
            } else {
                report.decided_by = Some(Tier::Search);
                match search(kh, budget) {
                    SearchResult::Linearizable(order) => match validate_certificate(kh, &order) {
                        Ok(()) => report.certificate = Some(order),
                        Err(e) => {
                            report.decided_by = None;
                            report.verdict = KeyVerdict::Unknown {
                                reason: format!(
                                    "internal error: the search's order did not validate ({e})"
                                ),
                                exhausted: None,
                            };
                        }
                    },
                    SearchResult::Illegal { blocking } => {
                        report.verdict = KeyVerdict::NotLinearizable;
                        let (ops, lines) = match blocking {
                            Some(b) => (
                                vec![b],
                                vec![
                                    "No order of this key's ops respects both real time and S3's conditional semantics (exhaustive search).".to_string(),
                                    "The search got furthest with A still pending: no legal state was reachable in which A's outcome fits before A returned.".to_string(),
                                ],
                            ),
                            None => (Vec::new(), vec!["No order of this key's ops respects both real time and S3's conditional semantics (exhaustive search).".to_string()]),
                        };
                        anomalies.push(Anomaly {
                            kind: AnomalyKind::NonLinearizable,
                            key: kh.key.clone(),
                            ops,
                            explanation: lines.join("\n"),
                        });
                    }
                    SearchResult::Unknown(exhausted) => {
                        report.decided_by = None;
                        report.states = exhausted.states;
                        report.verdict = KeyVerdict::Unknown {
                            reason: exhausted.to_string(),
                            exhausted: Some(exhausted),
                        };
                    }
                }
            }
        }
    }
    report.anomalies = anomalies;
    report.elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    report
}
