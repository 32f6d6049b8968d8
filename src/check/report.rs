//! The checker's entry point: split by key, run the tiers, collect a report.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::anomaly::{Anomaly, AnomalyKind};
use super::convert::KeyGroups;
use super::detect::{self, Finding};
use super::model::KeyHistory;
use super::tier1::{Graph, Tier1Result, graph_beside, tier1, tier1_orders};
use super::tier2::{Budget, Exhausted, SearchResult, search};
use super::two_cores;
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

impl CheckOptions {
    /// The default cap on cached configurations: about 200 MB per key.
    pub const DEFAULT_MAX_STATES: usize = 5_000_000;
}

impl Default for CheckOptions {
    /// 60 s and [`Self::DEFAULT_MAX_STATES`] per key, one thread per core.
    fn default() -> Self {
        CheckOptions {
            time_budget: Duration::from_secs(60),
            max_states: Self::DEFAULT_MAX_STATES,
            threads: crate::cores::available().map_or(2, |n| n.get()),
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
    let (groups, ()) = KeyGroups::beside(history, opts.threads, || ());
    check_groups(history, groups, opts, cancel, start)
}

/// [`check_ops`] on a history read but not yet validated: `validate` runs on a second thread
/// while the ops are grouped, and its error, if any, is returned before any key is checked.
/// The groups do not rely on the history being valid, so a history that `validate` rejects
/// gives its error and no verdict, as validating first would.
pub fn check_ops_validated<S: OpSource + ?Sized, E: Send>(
    history: &S,
    opts: &CheckOptions,
    validate: impl FnOnce() -> Result<(), E> + Send,
) -> Result<CheckReport, E> {
    let start = Instant::now();
    let (groups, valid) = KeyGroups::beside(history, opts.threads, validate);
    valid?;
    Ok(check_groups(
        history,
        groups,
        opts,
        &AtomicBool::new(false),
        start,
    ))
}

/// Checks every key of `groups` on the workers; `start` is when the check began (its budget
/// and its reported time count from there).
fn check_groups<S: OpSource + ?Sized>(
    history: &S,
    groups: KeyGroups<'_, S>,
    opts: &CheckOptions,
    cancel: &AtomicBool,
    start: Instant,
) -> CheckReport {
    let deadline = start + opts.time_budget;
    let order: Vec<usize> = {
        let mut o: Vec<usize> = (0..groups.len()).collect();
        o.sort_by_key(|&i| std::cmp::Reverse(groups.ops(i)));
        o
    };
    let results: Mutex<Vec<Option<KeyReport>>> = Mutex::new(vec![None; groups.len()]);
    let next = AtomicUsize::new(0);
    let threads = opts.threads.clamp(1, groups.len().max(1));
    // With fewer keys than threads, each key's check takes a second thread beside Tier 1 (for
    // the protocol and garbage checks, Tier 1's split work, and the detectors and search if
    // Tier 1 fails); most often a history of one key on two cores.
    let helper = threads < opts.threads;
    let worker = || {
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = order.get(n) else { break };
            let budget = Budget {
                deadline,
                max_states: opts.max_states,
                cancel: Some(cancel),
            };
            let kh = groups.convert_on(i, helper);
            let r = check_key_on(&kh, &budget, helper);
            drop(kh);
            results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
        }
    };
    // This thread is one of the workers: a thread started only to be waited for would cost
    // its start and a wake-up (tens of microseconds each here) on every check. A second worker
    // is the process's kept thread (see `second_core`); any more are started here.
    std::thread::scope(|s| {
        for _ in 2..threads {
            s.spawn(worker);
        }
        if threads >= 2 {
            crate::second_core::join(worker, worker);
        } else {
            worker();
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
    check_key_on(kh, budget, false)
}

/// What the key's check found besides Tier 1: the protocol findings, whether a read saw
/// garbage, and (when it was needed) the detectors' findings and the search's answer.
struct Rest {
    protocol: Vec<Finding>,
    garbage: bool,
    fallback: Option<Fallback>,
}

/// The detectors' findings, and the search's answer when they found nothing.
struct Fallback {
    findings: Vec<Finding>,
    searched: Option<SearchResult>,
}

/// Runs the detectors, then the search if they found nothing; `None` when `stop` ended it
/// between two detectors.
fn fallback(kh: &KeyHistory, budget: &Budget, stop: &dyn Fn() -> bool) -> Option<Fallback> {
    let findings = detect::model_findings_until(kh, stop)?;
    let searched = findings.is_empty().then(|| search(kh, budget));
    Some(Fallback { findings, searched })
}

/// The two-thread form of [`check_key_on`]: Tier 1 here, everything else beside it.
///
/// The protocol and garbage checks run on the kept second thread while this one builds Tier
/// 1's graph. A read of garbage makes Tier 1's answer moot, so the detectors (then the search)
/// run at once, here. Otherwise Tier 1 tries its strategies, splitting the first with the
/// second thread from `split_min` ops on; once one fails, a helper runs the detectors and the
/// search while the others are tried, and a certificate from a later strategy stops it.
fn tier1_beside_the_rest(
    kh: &KeyHistory,
    budget: &Budget,
    split_min: usize,
) -> (Option<Tier1Result>, Rest) {
    let (graph, (protocol, garbage)) = graph_beside(kh, || {
        (detect::protocol_findings(kh), detect::has_garbage_read(kh))
    });
    let (first, fallback) = if garbage {
        (None, fallback(kh, budget, &|| false))
    } else {
        let (first, fallback) = tier1_with_helper(kh, graph, budget, split_min);
        (Some(first), fallback)
    };
    (
        first,
        Rest {
            protocol,
            garbage,
            fallback,
        },
    )
}

/// Tier 1's strategies from `graph`, the first split with the second thread from `split_min`
/// ops on; a helper runs the detectors and the search from the first failed strategy on, and
/// a certificate from a later one stops it.
fn tier1_with_helper(
    kh: &KeyHistory,
    graph: Result<Graph<'_>, String>,
    budget: &Budget,
    split_min: usize,
) -> (Tier1Result, Option<Fallback>) {
    // Set once the helper's answer is no longer needed (or the caller cancelled the check):
    // stops it between two detectors, and cancels its search.
    let stop = AtomicBool::new(false);
    let helper_budget = Budget {
        cancel: Some(&stop),
        ..*budget
    };
    let outer = budget.cancel;
    let me = std::thread::current();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let (stop, done, helper_budget, me) = (&stop, &done, &helper_budget, &me);
        let mut helper = None;
        let first = tier1_orders(kh, graph, kh.ops.len() >= split_min, &mut || {
            helper.get_or_insert_with(|| {
                s.spawn(move || {
                    let found = fallback(kh, helper_budget, &|| stop.load(Ordering::SeqCst));
                    done.store(true, Ordering::SeqCst);
                    me.unpark();
                    found
                })
            });
            true
        });
        let certified = matches!(first, Tier1Result::Certificate(_));
        let Some(helper) = helper else {
            // No strategy failed: a certificate at once, or no graph (the detectors and the
            // search then decide, with nothing left to run beside them).
            let found = (!certified)
                .then(|| fallback(kh, budget, &|| false))
                .flatten();
            return (first, found);
        };
        if certified {
            stop.store(true, Ordering::SeqCst);
        }
        // Pass a cancellation of the whole check on to the helper's search.
        if let Some(outer) = outer {
            while !done.load(Ordering::SeqCst) {
                if outer.load(Ordering::Relaxed) {
                    stop.store(true, Ordering::SeqCst);
                }
                std::thread::park_timeout(Duration::from_millis(10));
            }
        }
        let found = helper
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (first, found)
    })
}

/// [`check_key`]; with `helper`, on two threads. The verdict is the same either way: the
/// sequential order is garbage check, Tier 1, detectors, search, each consulted only when the
/// previous one did not decide, and the parallel form computes the same answers, only sooner.
///
/// With a helper, the protocol checks and the garbage-read check run on the second thread
/// while this one builds Tier 1's graph; a read of garbage sends the key straight to the
/// detectors (then the search), since Tier 1's answer would not be used. Otherwise a helper
/// starts the detectors (then the search) only once Tier 1's first strategy has failed, and a
/// certificate from a later strategy stops it between two detectors or cancels its search,
/// whose answer is then not used. So a key Tier 1 certifies at once costs no extra work, and
/// one it cannot order costs the longer of Tier 1's remaining strategies and the detectors
/// plus the search, not their sum.
fn check_key_on(kh: &KeyHistory, budget: &Budget, helper: bool) -> KeyReport {
    check_key_split(kh, budget, helper.then_some(two_cores::SPLIT_MIN))
}

/// [`check_key_on`]; with a helper, Tier 1 splits its work from `Some(split_min)` ops on.
fn check_key_split(kh: &KeyHistory, budget: &Budget, helper: Option<usize>) -> KeyReport {
    let start = Instant::now();
    let (first, rest) = if let Some(split_min) = helper {
        tier1_beside_the_rest(kh, budget, split_min)
    } else {
        let protocol = detect::protocol_findings(kh);
        let garbage = detect::has_garbage_read(kh);
        let first = if garbage { None } else { Some(tier1(kh)) };
        let fallback = match first {
            Some(Tier1Result::Certificate(_)) => None,
            _ => fallback(kh, budget, &|| false),
        };
        (
            first,
            Rest {
                protocol,
                garbage,
                fallback,
            },
        )
    };
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
    let mut anomalies: Vec<Anomaly> = rest
        .protocol
        .into_iter()
        .map(|f| to_anomaly(kh, f))
        .collect();
    // The model leaves a copy's content open, so a read of content no copy could bring must be
    // caught before a certificate is looked for.
    let first = match first {
        Some(r) if !rest.garbage => r,
        _ => Tier1Result::Inconclusive("a read saw content no write produced".into()),
    };
    match first {
        Tier1Result::Certificate(order) => report.certificate = Some(order),
        Tier1Result::Inconclusive(note) => {
            report.tier1_note = Some(note);
            // Both forms have it here; computing it again would only cost time.
            let Fallback { findings, searched } = rest.fallback.unwrap_or_else(|| Fallback {
                findings: detect::model_findings(kh),
                searched: None,
            });
            if !findings.is_empty() {
                report.verdict = KeyVerdict::NotLinearizable;
                anomalies.extend(findings.into_iter().map(|f| to_anomaly(kh, f)));
            } else {
                report.decided_by = Some(Tier::Search);
                match searched.unwrap_or_else(|| search(kh, budget)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::convert::split_by_key;

    /// A key's report without its timing, which is all that may differ between two runs.
    fn timeless(mut r: KeyReport) -> KeyReport {
        r.elapsed_ms = 0.0;
        if let KeyVerdict::Unknown {
            exhausted: Some(e), ..
        } = &mut r.verdict
        {
            e.elapsed_ms = 0;
        }
        r
    }

    #[test]
    fn a_garbage_read_beside_a_protocol_fault_reports_both_on_either_path() {
        // A duplicate ETag (two writes of different content answered with one ETag, a
        // protocol finding) and a read of a write id nobody wrote (garbage): with a helper the
        // garbage sends the key straight to the detectors, and the protocol finding computed
        // beside the graph must still be reported.
        let text = concat!(
            r#"{"format":"s3conform-history","version":2}"#,
            "\n",
            r#"{"id":0,"client":1,"key":"k","call_ns":0,"ret_ns":10,"req":{"type":"put","write_id":"w1","etag_if_applied":"\"a1\"","if_match":null,"if_none_match":"*","via":"put"},"out":{"type":"ok","status":200,"etag":"\"a1\"","write_id":null}}"#,
            "\n",
            r#"{"id":1,"client":2,"key":"k","call_ns":20,"ret_ns":30,"req":{"type":"put","write_id":"w2","etag_if_applied":"\"a2\"","if_match":null,"if_none_match":null,"via":"put"},"out":{"type":"ok","status":200,"etag":"\"a1\"","write_id":null}}"#,
            "\n",
            r#"{"id":2,"client":3,"key":"k","call_ns":40,"ret_ns":50,"req":{"type":"get","if_match":null,"if_none_match":null},"out":{"type":"ok","status":200,"etag":"\"a9\"","write_id":"w999"}}"#,
            "\n",
        );
        let h = crate::history::parse_history(text.as_bytes(), "t.jsonl").expect("valid");
        let kh = split_by_key(&h).remove(0);
        let budget = Budget {
            deadline: Instant::now() + Duration::from_secs(60),
            max_states: 1_000_000,
            cancel: None,
        };
        let alone = timeless(check_key_on(&kh, &budget, false));
        let kinds: Vec<AnomalyKind> = alone.anomalies.iter().map(|a| a.kind).collect();
        assert!(kinds.contains(&AnomalyKind::DuplicateEtag), "{kinds:?}");
        assert!(kinds.contains(&AnomalyKind::GarbageRead), "{kinds:?}");
        assert_eq!(alone, timeless(check_key_on(&kh, &budget, true)));
        assert_eq!(alone, timeless(check_key_split(&kh, &budget, Some(0))));
    }

    /// The two-thread check of a key gives the report the one-thread check gives, on every
    /// committed history (each anomaly kind, garbage reads, Tier 1 failures, the search) and on
    /// generated ones with ambiguous and blind writes and injected bugs; so does the check
    /// whose Tier 1 splits its work with the helper's core, forced on every key.
    #[test]
    fn a_key_checked_beside_a_helper_gets_the_same_report() {
        let all = crate::check::test_corpus::committed_and_generated(2_000, 1);
        let cancel = AtomicBool::new(false);
        let budget = Budget {
            deadline: Instant::now() + Duration::from_secs(60),
            max_states: 1_000_000,
            cancel: Some(&cancel),
        };
        let mut keys = 0;
        for h in &all {
            for kh in split_by_key(h) {
                let alone = timeless(check_key_on(&kh, &budget, false));
                let beside = timeless(check_key_on(&kh, &budget, true));
                assert_eq!(alone, beside, "key {}", kh.key);
                let split = timeless(check_key_split(&kh, &budget, Some(0)));
                assert_eq!(alone, split, "key {}", kh.key);
                keys += 1;
            }
        }
        assert!(keys > 50, "{keys} keys");
    }

    /// Validating beside the grouping gives the validation's error and no report when it
    /// fails, and otherwise the report the check without it gives.
    #[test]
    fn a_check_validated_beside_the_grouping_is_the_error_or_the_same_report() {
        let opts = CheckOptions::default();
        for h in &crate::check::test_corpus::committed_and_generated(3_000, 4) {
            let refused = check_ops_validated(h, &opts, || Err::<(), _>("invalid"));
            assert_eq!(refused.map(|r| r.keys.len()), Err("invalid"));
            let checked = check_ops_validated(h, &opts, || Ok::<(), ()>(())).unwrap();
            let plain = check_ops(h, &opts);
            let strip = |r: &CheckReport| -> Vec<_> {
                r.keys
                    .iter()
                    .map(|k| (k.key.clone(), k.ops, k.verdict.clone(), k.anomalies.clone()))
                    .collect()
            };
            assert_eq!(strip(&checked), strip(&plain), "{:?}", h.header.note);
        }
    }
}
