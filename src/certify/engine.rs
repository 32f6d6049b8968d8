//! Running a certification: the suite through the runner `s3conform run` uses, then the level's
//! campaigns through [`Campaign::run`] and the checker `s3conform fuzz` uses, each campaign under
//! its own sub-prefix of the run root so that no campaign meets another's keys or the suite's.
//!
//! The caller owns the connection and the run's safety (run prefix, interrupts, cleanup); this
//! module stops starting campaigns as soon as the session's halt trips.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::evidence::{CampaignRecord, CheckerVerdict, FileDigest, Finding, sha256_hex};
use super::levels::{CampaignPlan, campaign_seed};
use super::refutation::Operation;
use crate::campaign::Campaign;
use crate::case::Suite;
use crate::check::{self, CheckOptions, Verdict, WitnessOptions};
use crate::fuzz::{Counters, Recording};
use crate::history::write_history;
use crate::profile::Profile;
use crate::report::outdir::OutDir;
use crate::report::{CaseReport, EndpointInfo};
use crate::runner::{RunOptions, run_suite};
use crate::s3::{HaltReason, Session};

/// How much progress to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Phase lines on stderr (off with `-q`).
    pub lines: bool,
    /// Live output: the suite's per-case marks on stdout and a bar per campaign (only on a
    /// terminal, and never with `-q`).
    pub live: bool,
}

impl Progress {
    /// Live output only when stderr is a terminal; nothing but the verdict with `quiet`.
    pub fn detect(quiet: bool) -> Progress {
        Progress {
            lines: !quiet,
            live: !quiet && std::io::stderr().is_terminal(),
        }
    }

    fn line(&self, text: &str) {
        if self.lines {
            eprintln!("{text}");
        }
    }
}

/// What one certification needs.
pub struct Inputs<'a> {
    /// The connected session (its root is the run prefix).
    pub session: &'a Session,
    /// The loaded suite.
    pub suite: &'a Suite,
    /// The profile to judge the cases by.
    pub profile: Profile,
    /// The endpoint, as reports name it.
    pub endpoint: EndpointInfo,
    /// The campaigns to run.
    pub plan: &'a [CampaignPlan],
    /// The certify seed.
    pub seed: u64,
    /// The results folder: the suite's log (when not live) and the histories go here.
    pub dir: &'a OutDir,
    /// What to show.
    pub progress: Progress,
}

/// The raw results: the suite's cases and the campaigns.
#[derive(Debug)]
pub struct Ran {
    /// Every case, sorted by name.
    pub cases: Vec<CaseReport>,
    /// Every campaign run, in plan order (fewer than planned when the run was stopped).
    pub campaigns: Vec<CampaignRecord>,
    /// Set when the session halted: where, and which campaigns did not run to their end.
    pub halted: Option<Halted>,
}

/// Where a run halted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Halted {
    /// `the suite` or `campaign <id>`.
    pub during: String,
    /// The plan's campaigns cut short or never started.
    pub campaigns_unfinished: Vec<String>,
}

/// Runs the suite, then the campaigns. Must be called outside `rt` (the suite's cases block on
/// it).
pub fn run(inputs: &Inputs<'_>, rt: &tokio::runtime::Handle) -> Ran {
    let steps = inputs.plan.len() + 1;
    inputs.progress.line(&format!(
        "[1/{steps}] the suite: {} cases under profile {}",
        inputs.suite.cases.len(),
        inputs.profile
    ));
    let logfile = (!inputs.progress.live).then(|| {
        inputs
            .dir
            .path()
            .join("suite.log")
            .to_string_lossy()
            .into_owned()
    });
    let options = RunOptions {
        profile: inputs.profile,
        quiet: true,
        logfile,
        ..RunOptions::default()
    };
    let report = run_suite(
        inputs.session,
        inputs.suite,
        &options,
        inputs.endpoint.clone(),
        rt,
    );
    let counts = report.counts();
    inputs.progress.line(&format!(
        "      {} passed, {} failed, {} errored, {} observed",
        counts.passed, counts.failed, counts.errored, counts.observed
    ));
    let mut campaigns = Vec::new();
    let unfinished = |from: usize| inputs.plan[from..].iter().map(|p| p.id.clone()).collect();
    let mut halted = inputs.session.halt().reason().map(|_| Halted {
        during: "the suite".to_owned(),
        campaigns_unfinished: unfinished(0),
    });
    for (i, plan) in inputs.plan.iter().enumerate() {
        if halted.is_some() {
            break;
        }
        inputs
            .progress
            .line(&format!("[{}/{steps}] campaign {}", i + 2, plan.describe()));
        let record = campaign(inputs, plan, campaign_seed(inputs.seed, i), rt);
        inputs.progress.line(&format!(
            "      {} ops, {} x 412, {} x 409, {} ambiguous: {} (checked in {} ms)",
            record.ops,
            record.precondition_failed,
            record.conflicts,
            record.ambiguous,
            record.checker.name(),
            record.check_ms
        ));
        campaigns.push(record);
        if inputs.session.halt().reason().is_some() {
            halted = Some(Halted {
                during: format!("campaign {}", plan.id),
                campaigns_unfinished: unfinished(i),
            });
        }
    }
    Ran {
        cases: report.cases,
        campaigns,
        halted,
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Drives and checks one campaign; a campaign that cannot run is recorded as failed with why.
fn campaign(
    inputs: &Inputs<'_>,
    plan: &CampaignPlan,
    seed: u64,
    rt: &tokio::runtime::Handle,
) -> CampaignRecord {
    let mut record = CampaignRecord {
        id: plan.id.clone(),
        kind: plan.kind,
        mix: plan.mix.clone(),
        seed,
        writers: plan.writers,
        keys: plan.keys,
        ops: 0,
        precondition_failed: 0,
        conflicts: 0,
        ambiguous: 0,
        checker: CheckerVerdict::Failed,
        detail: None,
        drive_ms: 0,
        check_ms: 0,
        anomalies: Vec::new(),
        history: None,
    };
    let session = match inputs.session.scoped(&format!("campaign-{}", plan.id)) {
        Ok(s) => s,
        Err(e) => {
            record.detail = Some(format!("cannot make the campaign's prefix: {e}"));
            return record;
        }
    };
    let campaign = Campaign {
        seed,
        writers: plan.writers as usize,
        keys: plan.keys,
        ops: plan.ops,
        duration: Some(plan.cap()),
        mix: plan.mix(),
    };
    let counters = Arc::new(Counters::default());
    let bar = inputs
        .progress
        .live
        .then(|| progress_bar(plan.ops, counters.clone(), rt));
    let started = Instant::now();
    let recording = Arc::new(Recording::default());
    let drove = rt.block_on(campaign.run_recorded(&session, counters.clone(), recording.clone()));
    if let Some((bar, ticker)) = bar {
        ticker.abort();
        bar.finish_and_clear();
    }
    record.drive_ms = millis(started.elapsed());
    record.precondition_failed = counters.precondition_failed.load(Ordering::Relaxed);
    record.conflicts = counters.conflicts.load(Ordering::Relaxed);
    record.ambiguous = counters.ambiguous.load(Ordering::Relaxed);
    let halted = inputs.session.halt().reason();
    let mut history = match (drove, halted) {
        // A drive that ended holds every op it sent (the recording was taken from).
        (Ok(h), None | Some(HaltReason::Stuck)) => h,
        // The endpoint went silent mid-drive: what it answered (and what was in flight, as
        // unanswered) is a prefix of the campaign, and an anomaly in a prefix is one of any
        // run that extends it (docs/checker.md §10), so it is checked; it establishes nothing.
        (Err(_), Some(HaltReason::Stuck)) => {
            let mut h = recording.snapshot();
            h.header.seed = Some(seed);
            h.header.endpoint = Some(session.target().endpoint.to_string());
            h
        }
        (drove, Some(reason @ HaltReason::Interrupted)) => {
            record.ops = match drove {
                Ok(h) => h.ops.len(),
                Err(_) => recording.returned(),
            } as u64;
            record.detail = Some(format!("stopped: {reason}"));
            return record;
        }
        (Err(e), None) => {
            record.detail = Some(e.to_string());
            return record;
        }
    };
    history.header.profile = Some(inputs.profile.to_string());
    history.header.note = Some(format!(
        "s3conform certify campaign {} against {}, run prefix {}",
        plan.id,
        inputs.endpoint.label,
        inputs.session.root_prefix()
    ));
    record.ops = history.ops.len() as u64;
    let opts = CheckOptions::default();
    let checking = Instant::now();
    let report = check::check_history(&history, &opts);
    let verdict = report.verdict();
    record.checker = match &verdict {
        Verdict::Linearizable => CheckerVerdict::Linearizable,
        Verdict::Anomalous(_) => CheckerVerdict::Anomalous,
        Verdict::Unknown { reason } => {
            record.detail = Some(reason.clone());
            CheckerVerdict::Unknown
        }
    };
    if halted.is_some() {
        // Cut short: it vouches for nothing, whatever the prefix shows; its anomalies stand.
        let found = match record.checker {
            CheckerVerdict::Anomalous => "its anomalies stand",
            _ => "no anomaly in them, but the campaign vouches for nothing it did not run",
        };
        record.detail = Some(format!(
            "stopped after {} ops: the endpoint stopped answering; the ops it answered (and those \
             in flight, as unanswered) were checked as a prefix: {found}",
            history.ops.len()
        ));
        if record.checker != CheckerVerdict::Anomalous {
            record.checker = CheckerVerdict::Failed;
        }
    }
    if let Verdict::Anomalous(_) = verdict {
        let found = check::witnesses(
            &history,
            &report,
            &WitnessOptions {
                shrink: true,
                check: opts,
            },
        );
        record.anomalies = found
            .iter()
            .map(|w| {
                let (shown, anomaly) = w.shown(&history);
                Finding {
                    witness: crate::commands::fuzz::witness(&history, w),
                    culprit_condition: culprit_condition(shown, anomaly),
                    culprit_operations: culprit_operations(shown, anomaly),
                }
            })
            .collect();
    }
    record.check_ms = millis(checking.elapsed());
    match write_history(Vec::new(), &history) {
        Ok(bytes) => {
            let name = format!("history-{}.jsonl", plan.id);
            match inputs.dir.write(&name, &bytes) {
                Ok(_) => {
                    record.history = Some(FileDigest {
                        file: name,
                        sha256: sha256_hex(&bytes),
                    });
                }
                Err(e) => crate::report::outdir::warn(&e, &mut std::io::stderr()),
            }
        }
        Err(e) => eprintln!(
            "warning: failed to serialize the history of {}: {e}",
            plan.id
        ),
    }
    record
}

/// The precondition header of the write or delete an anomaly convicts (its last op); none for a
/// read.
///
/// The requirements narrow the precondition anomalies (ignored precondition, phantom 412,
/// spurious 409) to this condition to tell a broken safe create from a broken compare-and-swap;
/// a read's `If-Match` refused wrongly disproves neither, so a read names none and counts only
/// against promises that list the kind unnarrowed.
fn culprit_condition(
    history: &crate::history::History,
    anomaly: &check::Anomaly,
) -> Option<String> {
    let id = *anomaly.ops.last()?;
    let op = history.ops.iter().find(|o| o.id == id)?;
    if !op.req.is_mutation() {
        return None;
    }
    match op.req.conditions() {
        (_, Some(_)) => Some("If-None-Match".to_owned()),
        (Some(_), None) => Some("If-Match".to_owned()),
        (None, None) => None,
    }
}

/// The operation of every op the anomaly convicts ([`check::Anomaly::blamed`]), sorted, each
/// once. A promise narrowed to operations is disproved only when all of them are its own.
fn culprit_operations(
    history: &crate::history::History,
    anomaly: &check::Anomaly,
) -> Vec<Operation> {
    let mut ops: Vec<Operation> = anomaly
        .blamed()
        .iter()
        .filter_map(|id| history.ops.iter().find(|o| o.id == *id))
        .map(|o| Operation::of(&o.req))
        .collect();
    ops.sort_unstable();
    ops.dedup();
    ops
}

fn progress_bar(
    ops: u64,
    counters: Arc<Counters>,
    rt: &tokio::runtime::Handle,
) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = ProgressBar::with_draw_target(Some(ops), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("      {elapsed_precise} [{bar:30}] {pos}/{len} ops, {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let b = bar.clone();
    let ticker = rt.spawn(async move {
        loop {
            b.set_position(counters.ops.load(Ordering::Relaxed));
            b.set_message(format!(
                "{} ambiguous, {} x 412, {} x 409",
                counters.ambiguous.load(Ordering::Relaxed),
                counters.precondition_failed.load(Ordering::Relaxed),
                counters.conflicts.load(Ordering::Relaxed)
            ));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    (bar, ticker)
}
