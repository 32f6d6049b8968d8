//! The libtest-mimic harness: every case is a `Trial` named `operation::case-name`, so
//! `s3conform run` filters, lists and reports like `cargo test`.
//!
//! Trials are synchronous closures on libtest-mimic's threads; each blocks on the one shared
//! tokio runtime (`Handle::block_on`) for its case, under its own key prefix. The runtime must
//! therefore be multi-threaded, and `run_suite` must not be called from inside it (use
//! `spawn_blocking` or call it from `main` before entering the runtime).

use std::sync::Arc;
use std::time::Instant;

use libtest_mimic::{Arguments, Failed, Trial};

use crate::case::{Case, Suite};
use crate::profile::Profile;
use crate::report::{CaseReport, EndpointInfo, RunReport, Verdict};
use crate::s3::Session;

use super::collector::Collector;
use super::exec::run_case;

/// Cases wait on the network, not the CPU, so more threads than cores pay off; sleeps (where a
/// Last-Modified second must pass) then overlap instead of queueing.
pub const DEFAULT_TEST_THREADS: usize = 16;

/// Which cases to run and how, mirroring `cargo test`'s flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Whose expectations to judge by.
    pub profile: Profile,
    /// Run only cases whose name contains this (or equals it, with `exact`).
    pub filter: Option<String>,
    /// Match `filter` and `skip` exactly.
    pub exact: bool,
    /// Skip cases whose name contains any of these.
    pub skip: Vec<String>,
    /// List the selected cases instead of running them.
    pub list: bool,
    /// Threads running cases (default [`DEFAULT_TEST_THREADS`]).
    pub test_threads: Option<usize>,
    /// Run only the cases marked `ignored`.
    pub ignored: bool,
    /// Run ignored cases too.
    pub include_ignored: bool,
    /// One character per case instead of one line.
    pub quiet: bool,
    /// Write libtest's progress and summary to this file instead of stdout (`certify` keeps it
    /// in its results folder when the terminal is not watched).
    pub logfile: Option<String>,
}

/// How the options treat one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Runs.
    Run,
    /// Matches the filter but is not run (skipped or ignored): reported as skipped.
    NotRun(&'static str),
    /// Does not match the filter: not reported at all.
    Excluded,
}

impl RunOptions {
    /// What these options do with `case`, with libtest's rules.
    pub fn select(&self, case: &Case) -> Selection {
        let name = case.id.as_str();
        let matches = |pat: &str| {
            if self.exact {
                name == pat
            } else {
                name.contains(pat)
            }
        };
        if let Some(f) = &self.filter
            && !matches(f)
        {
            return Selection::Excluded;
        }
        if self.skip.iter().any(|s| matches(s)) {
            return Selection::NotRun("skipped by --skip");
        }
        match (case.file.ignored, self.ignored, self.include_ignored) {
            (true, false, false) => Selection::NotRun("ignored (run with --ignored)"),
            (false, true, false) => Selection::Excluded,
            _ => Selection::Run,
        }
    }

    /// How many cases of `suite` would run: zero makes `run` exit 4.
    pub fn selected(&self, suite: &Suite) -> usize {
        suite
            .cases
            .iter()
            .filter(|c| self.select(c) == Selection::Run)
            .count()
    }

    fn arguments(&self) -> Arguments {
        Arguments {
            filter: self.filter.clone(),
            exact: self.exact,
            skip: self.skip.clone(),
            list: self.list,
            ignored: self.ignored,
            include_ignored: self.include_ignored,
            quiet: self.quiet,
            logfile: self.logfile.clone(),
            test_threads: Some(self.test_threads.unwrap_or(DEFAULT_TEST_THREADS).max(1)),
            ..Arguments::default()
        }
    }
}

/// Runs (or lists) the selected cases of `suite` against `session` and returns the report of
/// every selected case. Malformed files (`suite.errors`) are reported as `Verdict::Error`
/// entries named `<operation>::<file>` so that every output shows them.
///
/// Progress goes to stdout in libtest's format. Must be called outside the runtime `rt`
/// belongs to.
pub fn run_suite(
    session: &Session,
    suite: &Suite,
    opts: &RunOptions,
    endpoint: EndpointInfo,
    rt: &tokio::runtime::Handle,
) -> RunReport {
    let started_at = now_rfc3339();
    let clock = Instant::now();
    let collector = Collector::default();
    let profile = opts.profile;
    let mut trials = Vec::new();
    for case in &suite.cases {
        let ignored = case.file.ignored;
        let case = Arc::new(case.clone());
        let session = session.clone();
        let rt = rt.clone();
        let sink = collector.clone();
        let trial = Trial::test(case.id.clone(), move || {
            let scoped = match session.scoped(&case.id.replace("::", "/")) {
                Ok(s) => s,
                Err(e) => {
                    let report = error_report(&case, format!("cannot make the case prefix: {e}"));
                    sink.push(report);
                    return Err(Failed::from(format!(
                        "error: cannot make the case prefix: {e}"
                    )));
                }
            };
            let report = rt.block_on(run_case(&scoped, &case, profile));
            let outcome = trial_outcome(&report);
            sink.push(report);
            outcome
        })
        .with_ignored_flag(ignored);
        trials.push(trial);
    }
    if !opts.list {
        for e in &suite.errors {
            eprintln!("error: malformed case: {e}");
        }
    }
    let _conclusion = libtest_mimic::run(&opts.arguments(), trials);
    if opts.list {
        return collector.finish(endpoint, profile, started_at, 0);
    }
    for case in &suite.cases {
        if let Selection::NotRun(reason) = opts.select(case) {
            let mut r = error_report(case, String::new());
            r.verdict = Verdict::Skipped {
                reason: reason.to_owned(),
            };
            collector.push(r);
        }
    }
    for e in &suite.errors {
        collector.push(malformed_report(e, opts));
    }
    let duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    collector.finish(endpoint, profile, started_at, duration_ms)
}

/// libtest's verdict and failure text for a case: the expected-versus-observed diff.
fn trial_outcome(report: &CaseReport) -> Result<(), Failed> {
    match &report.verdict {
        Verdict::Pass | Verdict::Observed | Verdict::Skipped { .. } => Ok(()),
        Verdict::Error { message } => Err(Failed::from(format!("error: {message}"))),
        Verdict::Fail { mismatches } => {
            let mut out = String::new();
            let mut last_step = usize::MAX;
            for m in mismatches {
                if m.step != last_step {
                    let label = report
                        .steps
                        .iter()
                        .find(|s| s.index == m.step)
                        .map(|s| s.label.as_str())
                        .unwrap_or("");
                    out.push_str(&format!("step {}: {label}\n", m.step));
                    last_step = m.step;
                }
                out.push_str(&format!(
                    "    {:<12} expected {:<28} observed {}\n",
                    m.field, m.expected, m.observed
                ));
            }
            if !report.observed.is_empty() {
                out.push_str("observed (not judged):\n");
                for o in &report.observed {
                    out.push_str(&format!("    step {} {}: {}\n", o.step, o.field, o.value));
                }
            }
            Err(Failed::from(out))
        }
    }
}

fn error_report(case: &Case, message: String) -> CaseReport {
    CaseReport {
        name: case.id.clone(),
        operation: case.operation.clone(),
        description: case.file.description.clone(),
        source: case.file.source.clone(),
        tags: case.file.tags.clone(),
        verdict: Verdict::Error { message },
        baseline: None,
        duration_ms: 0,
        steps: Vec::new(),
        observed: Vec::new(),
    }
}

/// A malformed file as a report entry, so it shows in every output. It is named after its
/// directory and file; a filter that excludes that name leaves it out of the cases but it still
/// makes the run exit 2.
fn malformed_report(e: &crate::case::CaseError, _opts: &RunOptions) -> CaseReport {
    let operation = e
        .path
        .parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = e
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    CaseReport {
        name: format!("{operation}::{stem}"),
        operation,
        description: "malformed case file".into(),
        source: e.path.display().to_string(),
        tags: vec!["malformed".into()],
        verdict: Verdict::Error {
            message: e.to_string(),
        },
        baseline: None,
        duration_ms: 0,
        steps: Vec::new(),
        observed: Vec::new(),
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_str;
    use crate::report::{Mismatch, ObservedValue, StepRecord};

    fn case(id: &str, ignored: bool) -> Case {
        let (op, name) = id.split_once("::").unwrap();
        let text = format!(
            "description: d\nsource: s\nignored: {ignored}\nsteps:\n  - op: put\n    key: k\n"
        );
        parse_str(op, name, &text).unwrap()
    }

    #[test]
    fn selection_follows_libtest() {
        let a = case("get::if-match-hit", false);
        let b = case("get::if-match-hit-unquoted", false);
        let ig = case("put::slow", true);
        let opts = RunOptions {
            filter: Some("if-match-hit".into()),
            ..RunOptions::default()
        };
        assert_eq!(opts.select(&a), Selection::Run);
        assert_eq!(opts.select(&b), Selection::Run);
        assert_eq!(opts.select(&ig), Selection::Excluded);
        let exact = RunOptions {
            filter: Some("get::if-match-hit".into()),
            exact: true,
            ..RunOptions::default()
        };
        assert_eq!(exact.select(&b), Selection::Excluded);
        let skip = RunOptions {
            skip: vec!["unquoted".into()],
            ..RunOptions::default()
        };
        assert!(matches!(skip.select(&b), Selection::NotRun(_)));
        assert!(matches!(
            RunOptions::default().select(&ig),
            Selection::NotRun(_)
        ));
        let only_ignored = RunOptions {
            ignored: true,
            ..RunOptions::default()
        };
        assert_eq!(only_ignored.select(&ig), Selection::Run);
        assert_eq!(only_ignored.select(&a), Selection::Excluded);
    }

    #[test]
    fn a_failure_reads_as_a_diff_per_step() {
        let mut report = error_report(&case("put::x", false), String::new());
        report.steps = vec![StepRecord {
            index: 1,
            label: "put k [If-Match: \"e\"]".into(),
            request: serde_json::Value::Null,
            observations: Vec::new(),
        }];
        report.verdict = Verdict::Fail {
            mismatches: vec![Mismatch {
                step: 1,
                field: "status".into(),
                expected: "412".into(),
                observed: "200".into(),
            }],
        };
        report.observed = vec![ObservedValue {
            step: 0,
            field: "status".into(),
            value: "501 NotImplemented".into(),
        }];
        let text = trial_outcome(&report)
            .unwrap_err()
            .message()
            .unwrap()
            .to_owned();
        assert!(text.contains("step 1: put k [If-Match: \"e\"]"), "{text}");
        assert!(
            text.contains("status") && text.contains("expected 412"),
            "{text}"
        );
        assert!(text.contains("observed 200"), "{text}");
        assert!(text.contains("501 NotImplemented"), "{text}");
    }
}
