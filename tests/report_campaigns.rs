//! A fuzz campaign that did not run stays in every rendering of the report and of the
//! comparison, as failed and with its reason: a campaign that silently vanished would read as
//! a server that was never tried, or as one that passed.

use crate::support::reports;

use std::path::PathBuf;

use s3conform::exit_code;
use s3conform::profile::Profile;
use s3conform::report::compare::{self, html, markdown as compare_markdown, table};
use s3conform::report::{FuzzSummary, RunReport, json, junit, markdown, terminal, text};

const WHY: &str = "s3rver stopped answering: connection refused";

/// A clean report with one campaign that ran and one that did not.
fn with_failed_campaign() -> RunReport {
    let mut r = reports::clean("s3rver", Profile::Coreweave);
    r.fuzz = vec![
        FuzzSummary {
            seed: 7001,
            writers: 16,
            ops: 1000,
            verdict: "linearizable".to_owned(),
            anomalies: Vec::new(),
            history_file: None,
            campaign: Some("the default mix".to_owned()),
            error: None,
        },
        FuzzSummary::failed(
            7003,
            16,
            Some("read-modify-write loops".to_owned()),
            WHY.to_owned(),
        ),
    ];
    r
}

#[test]
fn a_failed_campaign_survives_the_json_round_trip() {
    let report = with_failed_campaign();
    let text = json::to_string(&report);
    let back = json::from_str(&text, &PathBuf::from("r.json")).unwrap();
    assert_eq!(back, report);
    let failed = &back.fuzz[1];
    assert!(failed.is_failed());
    assert_eq!(failed.error.as_deref(), Some(WHY));
    // A report written before campaigns could fail still reads, with no error.
    let old = text.replace(",\n      \"campaign\": \"the default mix\"", "");
    let old = json::from_str(&old, &PathBuf::from("old.json")).unwrap();
    assert_eq!(old.fuzz[0].campaign, None);
    assert!(!old.fuzz[0].is_failed());
}

#[test]
fn a_failed_campaign_is_shown_in_the_run_report() {
    let report = with_failed_campaign();
    let md = markdown::render(&report);
    assert!(md.contains("| failed | 7003 | 16 | 0 | 0 |"), "{md}");
    assert!(
        md.contains(&format!("Campaign of seed 7003 **failed to run**: {WHY}")),
        "{md}"
    );
    let term = terminal::render(&report, 200);
    assert!(term.contains(&format!("did not run: {WHY}")), "{term}");
    let xml = junit::render(&report);
    assert!(xml.contains("fuzz::seed-7003"), "{xml}");
    assert!(xml.contains(WHY), "{xml}");
    assert!(xml.contains("<error"), "{xml}");
    let line = text::summary_line(&report);
    assert!(line.contains("1 fuzz campaign failed to run"), "{line}");
    // No verdict was reached: the run is not a success, nor is it an anomaly.
    assert_eq!(exit_code::of_run(&report, false), exit_code::UNKNOWN);
    let mut ran = report.clone();
    ran.fuzz.truncate(1);
    assert_eq!(exit_code::of_run(&ran, false), exit_code::SUCCESS);
}

#[test]
fn a_failed_campaign_is_shown_in_the_comparison() {
    let reference = reports::clean("reference", Profile::Coreweave);
    let matrix = compare::build(vec![
        (PathBuf::from("reports/reference.json"), reference),
        (PathBuf::from("reports/s3rver.json"), with_failed_campaign()),
    ]);
    let s3rver = &matrix.endpoints[1].summary;
    assert_eq!(s3rver.fuzz_campaigns, 2);
    assert_eq!(s3rver.fuzz_failed, 1);
    assert_eq!(matrix.endpoints[0].summary.fuzz_failed, 0);

    let md = compare_markdown::render(&matrix);
    assert!(md.contains("0 (1 fuzz campaign failed to run)"), "{md}");
    assert!(
        md.contains(&format!(
            "| s3rver | read-modify-write loops | {WHY} | 7003 | 16 |"
        )),
        "{md}"
    );

    let page = html::render(&matrix);
    assert!(page.contains("0 (1 fuzz campaign failed to run)"), "{page}");
    assert!(
        page.contains(&format!("<strong>did not run</strong>: {WHY}")),
        "{page}"
    );

    let term = table::render(&matrix, 200);
    assert!(
        term.contains("Fuzz campaigns that failed to run (1):"),
        "{term}"
    );
    assert!(
        term.contains(&format!("s3rver (seed 7003): {WHY}")),
        "{term}"
    );
}
