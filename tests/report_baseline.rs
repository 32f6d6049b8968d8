//! The CI gate: applying, writing and reading baselines, and the exit codes they lead to.

use crate::support::reports;

use std::path::{Path, PathBuf};

use s3conform::exit_code;
use s3conform::profile::Profile;
use s3conform::report::baseline::{self, Baseline};
use s3conform::report::sinks::{self, ReportArgs};
use s3conform::report::terminal::Style;
use s3conform::report::{BaselineMark, ReportError, RunReport, Verdict, json};

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_baseline");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The sample with every baseline mark cleared, as a runner produces it.
fn unmarked() -> RunReport {
    let mut r = reports::sample();
    for c in &mut r.cases {
        c.baseline = None;
    }
    r.fuzz.clear();
    r
}

fn mark<'a>(r: &'a RunReport, name: &str) -> Option<&'a BaselineMark> {
    r.cases
        .iter()
        .find(|c| c.name == name)
        .unwrap()
        .baseline
        .as_ref()
}

#[test]
fn apply_marks_known_fixed_and_not_run() {
    let mut report = unmarked();
    let mut b = Baseline::new("seaweedfs");
    b.entries
        .insert("put::safe-create-existing".into(), "bug 42".into());
    b.entries
        .insert("put::race-create-16".into(), "flaky".into());
    b.entries
        .insert("get::if-match-current".into(), "was broken".into());
    b.entries
        .insert("delete::if-match-slow".into(), "skipped today".into());
    b.entries.insert("head::renamed-away".into(), "gone".into());
    let applied = baseline::apply(&mut report, &b);

    assert_eq!(
        mark(&report, "put::safe-create-existing"),
        Some(&BaselineMark::Known {
            reason: "bug 42".into()
        })
    );
    assert_eq!(
        mark(&report, "put::race-create-16"),
        Some(&BaselineMark::Known {
            reason: "flaky".into()
        })
    );
    assert_eq!(
        mark(&report, "get::if-match-current"),
        Some(&BaselineMark::Fixed)
    );
    assert_eq!(mark(&report, "delete::if-match-slow"), None);
    assert_eq!(mark(&report, "get::if-none-match-current"), None);
    assert_eq!(
        applied.known,
        ["put::race-create-16", "put::safe-create-existing"]
    );
    assert_eq!(applied.fixed, ["get::if-match-current"]);
    assert_eq!(
        applied.not_run,
        ["delete::if-match-slow", "head::renamed-away"]
    );
    assert_eq!(applied.mismatch, None);
    assert_eq!(applied.warnings().len(), 1);
    // Still failing: get::if-none-match-current and rename's error are not listed.
    assert!(report.has_regressions());
}

#[test]
fn apply_replaces_earlier_marks() {
    let mut report = reports::sample();
    baseline::apply(&mut report, &Baseline::new("seaweedfs"));
    assert!(report.cases.iter().all(|c| c.baseline.is_none()));
}

#[test]
fn apply_warns_about_another_endpoint_or_profile() {
    let mut report = unmarked();
    let applied = baseline::apply(&mut report, &Baseline::new("minio"));
    assert!(applied.mismatch.unwrap().contains("`minio`"));
    let mut b = Baseline::new("seaweedfs");
    b.profile = Some(Profile::Aws);
    let applied = baseline::apply(&mut report, &b);
    assert!(applied.mismatch.unwrap().contains("profile `aws`"));
}

#[test]
fn written_baseline_round_trips_and_excuses_every_failure() {
    let report = unmarked();
    let b = baseline::from_report(&report);
    assert_eq!(b.endpoint, "seaweedfs");
    assert_eq!(b.profile, Some(Profile::Coreweave));
    let names: Vec<&str> = b.entries.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "get::if-none-match-current",
            "put::race-create-16",
            "put::safe-create-existing",
            "rename::destination-if-none-match"
        ]
    );
    assert_eq!(
        b.entries["put::safe-create-existing"],
        "step 1 status: expected 412, observed 200"
    );
    assert!(b.entries["put::race-create-16"].starts_with("error: step 1"));

    let path = tmp("round-trip.yaml");
    baseline::write(&b, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# s3conform baseline"), "{text}");
    assert_eq!(baseline::load(&path).unwrap(), b);

    let mut again = unmarked();
    baseline::apply(&mut again, &b);
    assert!(!again.has_regressions());
    assert_eq!(exit_code::of_run(&again, false), exit_code::SUCCESS);
    assert_eq!(exit_code::of_run(&again, true), exit_code::SUCCESS);
}

#[test]
fn from_report_keeps_existing_reasons() {
    let b = baseline::from_report(&reports::sample());
    assert_eq!(
        b.entries["put::safe-create-existing"],
        "ignores If-None-Match on PUT (vendor ticket 42)"
    );
    // A fixed entry passes, so it leaves the baseline: that is how it shrinks.
    assert!(!b.entries.contains_key("copy::source-if-none-match-current"));
}

#[test]
fn baseline_in_json_syntax_loads() {
    let text = r#"{"format": "s3conform-baseline", "format_version": 1, "endpoint": "minio",
                   "entries": {"put::x": "reason"}}"#;
    let b = baseline::from_str(text, Path::new("b.json")).unwrap();
    assert_eq!(b.entries["put::x"], "reason");
    assert_eq!(b.profile, None);
}

fn load_err(text: &str) -> String {
    let path = tmp("bad-baseline.yaml");
    std::fs::write(&path, text).unwrap();
    let err = baseline::load(&path).unwrap_err();
    assert_eq!(err.exit_code(), exit_code::SETUP_ERROR);
    let msg = err.to_string();
    assert!(
        msg.contains("bad-baseline.yaml"),
        "error does not name the file: {msg}"
    );
    msg
}

#[test]
fn bad_baselines_are_named_errors() {
    let typo = load_err(
        "format: s3conform-baseline\nformat_version: 1\nendpoint: x\nentires:\n  a::b: c\n",
    );
    assert!(typo.contains("entires"), "{typo}");
    let wrong = load_err("format: s3conform-run\nformat_version: 1\nendpoint: x\n");
    assert!(wrong.contains("not an s3conform baseline"), "{wrong}");
    let newer = load_err("format: s3conform-baseline\nformat_version: 9\nendpoint: x\n");
    assert!(newer.contains("format version 9"), "{newer}");
    let junk = load_err("\u{0}\u{1}binary: [");
    assert!(junk.contains("not a valid baseline"), "{junk}");
    let missing = baseline::load(Path::new("/nonexistent/baseline.yaml")).unwrap_err();
    assert!(matches!(missing, ReportError::Read { .. }));
}

#[test]
fn exit_codes() {
    let code = |r: &RunReport, strict| exit_code::of_run(r, strict);
    // The sample has an unexcused failure and error.
    let sample = reports::sample();
    assert_eq!(code(&sample, false), exit_code::FAILURE);

    let mut clean = reports::clean("x", Profile::Aws);
    assert_eq!(code(&clean, false), exit_code::SUCCESS);

    // Known failures do not fail the run.
    clean.cases[0].verdict = reports::status_fail(0, "412", "200");
    assert_eq!(code(&clean, false), exit_code::FAILURE);
    clean.cases[0].baseline = Some(BaselineMark::Known { reason: "r".into() });
    assert_eq!(code(&clean, false), exit_code::SUCCESS);

    // A fixed entry fails only a strict run.
    clean.cases[1].baseline = Some(BaselineMark::Fixed);
    assert_eq!(code(&clean, false), exit_code::SUCCESS);
    assert_eq!(code(&clean, true), exit_code::FAILURE);
    clean.cases[1].baseline = None;

    // Fuzz: an anomaly fails, an out-of-budget checker is unknown.
    let mut fuzzed = clean.clone();
    fuzzed.fuzz = sample.fuzz.clone();
    assert_eq!(code(&fuzzed, false), exit_code::FAILURE);
    fuzzed.fuzz.remove(0);
    fuzzed.fuzz[0].verdict = "unknown".into();
    assert_eq!(code(&fuzzed, false), exit_code::UNKNOWN);

    // Skipped cases alone pass; nothing at all is "nothing selected".
    for c in &mut clean.cases {
        c.verdict = Verdict::Skipped {
            reason: "filtered".into(),
        };
    }
    assert_eq!(code(&clean, false), exit_code::SUCCESS);
    clean.cases.clear();
    assert_eq!(code(&clean, false), exit_code::NOTHING_SELECTED);
}

#[test]
fn finish_applies_the_baseline_and_writes_every_file() {
    let mut b = baseline::from_report(&unmarked());
    b.entries
        .insert("get::if-match-current".into(), "fixed since".into());
    let bpath = tmp("finish-baseline.yaml");
    baseline::write(&b, &bpath).unwrap();
    let args = ReportArgs {
        json: Some(tmp("finish.json")),
        junit: Some(tmp("finish.xml")),
        markdown: Some(tmp("finish.md")),
        baseline: Some(bpath),
        write_baseline: Some(tmp("finish-new.yaml")),
        strict_baseline: false,
        ..ReportArgs::default()
    };
    let loaded = args.load_baseline().unwrap();
    let mut report = unmarked();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = sinks::finish(
        &mut report,
        loaded.as_ref(),
        &args,
        Style::plain(80),
        &mut out,
        &mut err,
    )
    .unwrap();
    assert_eq!(code, exit_code::SUCCESS);
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("test result: ok."), "{out}");
    assert!(out.contains("get::if-match-current [fixed]"), "{out}");

    let written = json::read(args.json.as_ref().unwrap()).unwrap();
    assert_eq!(written, report, "the JSON carries the baseline marks");
    assert!(
        std::fs::read_to_string(args.junit.as_ref().unwrap())
            .unwrap()
            .contains("<testsuites")
    );
    assert!(
        std::fs::read_to_string(args.markdown.as_ref().unwrap())
            .unwrap()
            .starts_with("# s3conform run")
    );
    let rewritten = baseline::load(args.write_baseline.as_ref().unwrap()).unwrap();
    assert!(!rewritten.entries.contains_key("get::if-match-current"));

    let strict = ReportArgs {
        strict_baseline: true,
        ..args
    };
    let mut report = unmarked();
    let mut out = Vec::new();
    let code = sinks::finish(
        &mut report,
        loaded.as_ref(),
        &strict,
        Style::plain(80),
        &mut out,
        &mut err,
    )
    .unwrap();
    assert_eq!(code, exit_code::FAILURE);
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("strict baseline: 1 fixed entry")
    );
}

#[test]
fn finish_warns_on_stderr_about_a_foreign_baseline() {
    let mut report = unmarked();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = sinks::finish(
        &mut report,
        Some(&Baseline::new("minio")),
        &ReportArgs::default(),
        Style::plain(80),
        &mut out,
        &mut err,
    )
    .unwrap();
    assert_eq!(code, exit_code::FAILURE);
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.starts_with("warning: the baseline was recorded for endpoint `minio`"),
        "{err}"
    );
}

/// An observed case never fails the run and is never written into a baseline; a baseline entry
/// for a case that is now observed no longer fails, so it is reported as fixed.
#[test]
fn observed_cases_neither_fail_nor_enter_a_baseline() {
    let mut r = unmarked();
    r.cases.retain(|c| c.name == "put::if-none-match-etag");
    assert_eq!(r.cases[0].verdict, Verdict::Observed);
    assert_eq!(exit_code::of_run(&r, true), exit_code::SUCCESS);
    assert!(baseline::from_report(&r).entries.is_empty());
    let mut listed = Baseline::new(r.endpoint.label.clone());
    listed
        .entries
        .insert("put::if-none-match-etag".into(), "answered 501".into());
    let applied = baseline::apply(&mut r, &listed);
    assert_eq!(applied.fixed, ["put::if-none-match-etag"]);
    assert_eq!(r.counts().observed, 1);
    assert_eq!(r.counts().passed, 0);
}
