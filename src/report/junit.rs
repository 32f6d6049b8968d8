//! The `--junit` sink (quick-junit), for CI systems that show test results.
//!
//! One `<testsuite>` per operation, one `<testcase>` per case (`name` is the full
//! `operation::case` trial name, `classname` the operation), plus one `fuzz` suite with a
//! testcase per campaign when the report has any.
//!
//! | case | JUnit |
//! |---|---|
//! | pass | success |
//! | observed | `<skipped type="observed">`: nothing was judged, so it is not shown as passed |
//! | fail | `<failure type="mismatch">`, one line per mismatch, then the steps |
//! | error | `<error type="error">` with the message |
//! | skipped | `<skipped>` with the reason |
//! | baseline known | success, with property `s3conform.baseline = known` and a `<system-out>` note |
//! | baseline fixed | success, with property `s3conform.baseline = fixed` and a `<system-out>` note |
//!
//! A baseline-known failure is a *success* in JUnit on purpose: CI dashboards (GitLab, Jenkins,
//! GitHub annotations) paint any `<failure>` red, which is exactly what a baseline exists to
//! prevent. The evidence is not lost: the property lets tools count expected failures, and the
//! system-out note keeps the mismatches next to the testcase for a human.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::errors::ReportError;
use super::files;
use super::model::{BaselineMark, CaseReport, FuzzSummary, RunReport, Verdict};
use super::text;

/// The property name marking baseline cases.
pub const BASELINE_PROPERTY: &str = "s3conform.baseline";

/// Renders the report as JUnit XML.
pub fn render(report: &RunReport) -> String {
    let mut junit = Report::new(format!("s3conform {}", report.endpoint.label));
    junit.set_time(Duration::from_millis(report.duration_ms));
    for (op, cases) in text::by_operation(report) {
        let mut suite = TestSuite::new(op);
        suite.add_properties(run_properties(report));
        suite.set_time(Duration::from_millis(
            cases.iter().map(|c| c.duration_ms).sum(),
        ));
        suite.add_test_cases(cases.iter().map(|c| test_case(c)));
        junit.add_test_suite(suite);
    }
    if !report.fuzz.is_empty() {
        let mut suite = TestSuite::new("fuzz");
        suite.add_properties(run_properties(report));
        suite.add_test_cases(report.fuzz.iter().map(fuzz_case));
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .expect("quick-junit serializes to a String without I/O errors")
}

/// Writes the JUnit XML to `path`.
pub fn write(report: &RunReport, path: &std::path::Path) -> Result<(), ReportError> {
    files::write(path, &render(report))
}

fn run_properties(report: &RunReport) -> Vec<Property> {
    let mut properties = vec![
        Property::new("s3conform.endpoint", report.endpoint.label.as_str()),
        Property::new("s3conform.url", report.endpoint.url.as_str()),
        Property::new("s3conform.profile", report.profile.name()),
        Property::new("s3conform.tool_version", report.tool_version.as_str()),
        Property::new("s3conform.started_at", report.started_at.as_str()),
    ];
    if let Some(at) = &report.location {
        properties.push(Property::new("s3conform.bucket", at.bucket.as_str()));
        properties.push(Property::new(
            "s3conform.run_prefix",
            at.run_prefix.as_str(),
        ));
    }
    properties
}

/// Mismatches and the steps they point at, as the failure body.
fn failure_text(case: &CaseReport) -> String {
    let mut out = format!("{}\n", case.description);
    if let Verdict::Fail { mismatches } = &case.verdict {
        for m in mismatches {
            out.push_str(&text::mismatch_line(m));
            out.push('\n');
        }
    }
    if let Verdict::Error { message } = &case.verdict {
        out.push_str(message);
        out.push('\n');
    }
    if !case.steps.is_empty() {
        out.push_str("steps:\n");
        for s in &case.steps {
            out.push_str("  ");
            out.push_str(&text::step_line(s));
            out.push('\n');
        }
    }
    out
}

fn test_case(case: &CaseReport) -> TestCase {
    let status = match (&case.verdict, &case.baseline) {
        (_, Some(BaselineMark::Known { .. })) | (Verdict::Pass, _) => TestCaseStatus::success(),
        (Verdict::Fail { mismatches }, None | Some(BaselineMark::Fixed)) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let first = mismatches
                .first()
                .map(text::mismatch_line)
                .unwrap_or_else(|| "failed".to_owned());
            let more = mismatches.len().saturating_sub(1);
            s.set_type("mismatch")
                .set_message(if more > 0 {
                    format!("{first} (+{more} more)")
                } else {
                    first
                })
                .set_description(failure_text(case));
            s
        }
        (Verdict::Error { message }, None | Some(BaselineMark::Fixed)) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("error")
                .set_message(message.as_str())
                .set_description(failure_text(case));
            s
        }
        (Verdict::Observed, None | Some(BaselineMark::Fixed)) => {
            let mut s = TestCaseStatus::skipped();
            s.set_type("observed")
                .set_message("observed, not judged: nothing is asserted under this profile");
            s
        }
        (Verdict::Skipped { reason }, None | Some(BaselineMark::Fixed)) => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(reason.as_str());
            s
        }
    };
    let mut tc = TestCase::new(case.name.as_str(), status);
    tc.set_classname(case.operation.as_str())
        .set_time(Duration::from_millis(case.duration_ms));
    for o in &case.observed {
        tc.add_property(Property::new(
            format!("s3conform.observed.step{}.{}", o.step, o.field),
            o.value.as_str(),
        ));
    }
    match &case.baseline {
        Some(BaselineMark::Known { reason }) => {
            tc.add_property(Property::new(BASELINE_PROPERTY, "known"));
            tc.add_property(Property::new("s3conform.baseline.reason", reason.as_str()));
            tc.set_system_out(format!(
                "expected failure (listed in the baseline: {reason})\n{}",
                failure_text(case)
            ));
        }
        Some(BaselineMark::Fixed) => {
            tc.add_property(Property::new(BASELINE_PROPERTY, "fixed"));
            tc.set_system_out(
                "listed in the baseline but passed: remove the entry so the baseline shrinks\n",
            );
        }
        None => {}
    }
    tc
}

fn fuzz_case(f: &FuzzSummary) -> TestCase {
    let status = match f.verdict.as_str() {
        _ if !f.anomalies.is_empty() || f.verdict == "anomalous" => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let body: Vec<String> = f
                .anomalies
                .iter()
                .map(|a| format!("{} on `{}`:\n{}\n{}", a.kind, a.key, a.explanation, a.lanes))
                .collect();
            s.set_type("anomaly")
                .set_message(format!("{} anomalies", f.anomalies.len()))
                .set_description(body.join("\n"));
            s
        }
        _ if f.is_failed() => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("failed").set_message(format!(
                "the campaign did not run: {}",
                f.error.as_deref().unwrap_or("no reason recorded")
            ));
            s
        }
        "unknown" => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("unknown")
                .set_message("the checker ran out of budget before a verdict");
            s
        }
        _ => TestCaseStatus::success(),
    };
    let mut tc = TestCase::new(format!("fuzz::seed-{}", f.seed), status);
    tc.set_classname("fuzz");
    tc.add_property(Property::new(
        "s3conform.fuzz.writers",
        f.writers.to_string(),
    ));
    tc.add_property(Property::new("s3conform.fuzz.ops", f.ops.to_string()));
    if let Some(h) = &f.history_file {
        tc.add_property(Property::new("s3conform.fuzz.history", h.as_str()));
    }
    tc
}
