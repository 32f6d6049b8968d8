//! Every sink of one hand-built RunReport: terminal and Markdown pinned by snapshots, JSON
//! round-tripped, JUnit parsed back as XML.

use crate::support::reports;

use std::path::{Path, PathBuf};

use quick_junit::{NonSuccessKind, TestCaseStatus};
use quick_xml::events::Event;
use s3conform::report::{ReportError, RunReport, json, junit, markdown, terminal, text};

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_sinks");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn terminal_output_is_pinned() {
    let out = terminal::render(&reports::sample(), 100);
    insta::assert_snapshot!("terminal_100", out);
}

#[test]
fn terminal_output_fits_a_narrow_terminal() {
    let out = terminal::render(&reports::sample(), 60);
    for line in out.lines() {
        assert!(
            line.chars().count() <= 60,
            "line wider than 60 columns: {line:?}"
        );
    }
    insta::assert_snapshot!("terminal_60", out);
}

#[test]
fn terminal_output_has_no_colour_codes() {
    let out = terminal::render(&reports::sample(), 100);
    assert!(!out.contains('\u{1b}'), "escape sequence in output");
}

#[test]
fn markdown_output_is_pinned() {
    let out = markdown::render(&reports::sample());
    insta::assert_snapshot!("markdown", out);
}

#[test]
fn markdown_escapes_table_breaking_text() {
    let out = markdown::render(&reports::sample());
    // The description of get::if-none-match-current holds `|` and `<...>`.
    assert!(
        out.contains("If-None-Match with the current ETag \\| answers 304 &lt;Not Modified&gt;")
    );
    assert!(!out.contains("<Not Modified>"));
}

#[test]
fn counts_by_operation_add_up_to_the_report_counts() {
    let report = reports::sample();
    let all = text::tally(text::by_operation(&report).into_iter().flat_map(|(_, c)| c));
    assert_eq!(all, report.counts());
}

#[test]
fn json_round_trips() {
    let report = reports::sample();
    let text = json::to_string(&report);
    let back = json::from_str(&text, Path::new("mem.json")).unwrap();
    assert_eq!(back, report);

    let path = tmp("round-trip.json");
    json::write(&report, &path).unwrap();
    assert_eq!(json::read(&path).unwrap(), report);
}

#[test]
fn json_reader_ignores_unknown_fields() {
    let mut value = serde_json::to_value(reports::sample()).unwrap();
    value["from_the_future"] = serde_json::json!({ "x": 1 });
    value["cases"][0]["also_new"] = serde_json::json!(true);
    let back = json::from_str(&value.to_string(), Path::new("mem.json")).unwrap();
    assert_eq!(back, reports::sample());
}

fn read_err(text: &str) -> String {
    let path = tmp("bad.json");
    std::fs::write(&path, text).unwrap();
    let err = json::read(&path).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let msg = s3conform::error::Chain(&err).to_string();
    assert!(
        msg.contains("bad.json"),
        "error does not name the file: {msg}"
    );
    msg
}

#[test]
fn json_reader_explains_bad_files() {
    assert!(read_err("garbage {").contains("is not JSON"));
    assert!(read_err("[1, 2]").contains("is not an s3conform run report"));
    assert!(read_err("{\"cases\": []}").contains("`format` is missing"));
    let history = read_err("{\"format\": \"s3conform-history\", \"format_version\": 1}");
    assert!(history.contains("\"s3conform-history\""), "{history}");
    let mut v = serde_json::to_value(reports::sample()).unwrap();
    let next = s3conform::report::model::FORMAT_VERSION + 1;
    v["format_version"] = next.into();
    let newer = read_err(&v.to_string());
    assert!(
        newer.contains(&format!("format version {next}")) && newer.contains("upgrade"),
        "{newer}"
    );
    v["format_version"] = 1.into();
    v["cases"][0]["verdict"] = serde_json::json!({ "kind": "maybe" });
    let invalid = read_err(&v.to_string());
    assert!(
        invalid.contains("not a valid run report") && invalid.contains("maybe"),
        "{invalid}"
    );
}

#[test]
fn json_reader_names_a_missing_file() {
    let err = json::read(Path::new("/nonexistent/run.json")).unwrap_err();
    assert!(matches!(err, ReportError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/run.json"));
}

/// Checks well-formedness with quick-xml (balanced, matching tags) and counts elements.
fn element_counts(xml: &str) -> std::collections::BTreeMap<String, usize> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut counts = std::collections::BTreeMap::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                *counts.entry(name.clone()).or_default() += 1;
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                *counts.entry(name).or_default() += 1;
            }
            Event::End(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert_eq!(
                    stack.pop().as_deref(),
                    Some(name.as_str()),
                    "unbalanced tags"
                );
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    counts
}

#[test]
fn junit_is_valid_xml_with_one_testcase_per_case() {
    let report = reports::sample();
    let xml = junit::render(&report);
    let counts = element_counts(&xml);
    assert_eq!(counts["testsuites"], 1);
    // One suite per operation (copy, delete, get, put, rename) and one for fuzz.
    assert_eq!(counts["testsuite"], 6);
    assert_eq!(counts["testcase"], report.cases.len() + report.fuzz.len());
    // get::if-none-match-current, and the fuzz campaign with an anomaly.
    assert_eq!(counts["failure"], 2);
    // put::race-create-16 (the known rename error is a success).
    assert_eq!(counts["error"], 1);
    // delete::if-match-slow (skipped) and put::if-none-match-etag (observed, not passed).
    assert_eq!(counts["skipped"], 2);
}

#[test]
fn junit_parses_back_with_the_right_statuses() {
    let report = reports::sample();
    let parsed = quick_junit::Report::deserialize_from_str(&junit::render(&report)).unwrap();
    let cases: Vec<_> = parsed
        .test_suites
        .iter()
        .filter(|s| s.name.as_str() != "fuzz")
        .flat_map(|s| s.test_cases.iter())
        .collect();
    assert_eq!(cases.len(), report.cases.len());
    for expected in &report.cases {
        let tc = cases
            .iter()
            .find(|t| t.name.as_str() == expected.name)
            .unwrap_or_else(|| panic!("no testcase for {}", expected.name));
        assert_eq!(
            tc.classname.as_ref().map(|c| c.as_str()),
            Some(expected.operation.as_str())
        );
        let kind = match &tc.status {
            TestCaseStatus::Success { .. } => "success",
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                ..
            } => "failure",
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Error,
                ..
            } => "error",
            TestCaseStatus::Skipped { .. } => "skipped",
        };
        let want = match expected.name.as_str() {
            "get::if-none-match-current" => "failure",
            "put::race-create-16" => "error",
            "delete::if-match-slow" | "put::if-none-match-etag" => "skipped",
            _ => "success",
        };
        assert_eq!(kind, want, "{}", expected.name);
        let baseline = tc
            .properties
            .iter()
            .find(|p| p.name.as_str() == junit::BASELINE_PROPERTY)
            .map(|p| p.value.as_str());
        let want = match expected.name.as_str() {
            "put::safe-create-existing" | "rename::destination-if-none-match" => Some("known"),
            "copy::source-if-none-match-current" => Some("fixed"),
            _ => None,
        };
        assert_eq!(baseline, want, "{}", expected.name);
    }
    let known = cases
        .iter()
        .find(|t| t.name.as_str() == "put::safe-create-existing")
        .unwrap();
    let out = known.system_out.as_ref().unwrap().as_str();
    assert!(
        out.contains("expected failure") && out.contains("expected 412, observed 200"),
        "{out}"
    );
}

/// The JSON report is a format other tools read: a change to it shows up here, on purpose.
#[test]
fn json_output_is_pinned() {
    insta::assert_snapshot!("json", json::to_string(&reports::sample()));
}

#[test]
fn junit_output_is_pinned() {
    insta::assert_snapshot!("junit", junit::render(&reports::sample()));
}

#[test]
fn empty_report_renders_everywhere() {
    let mut report: RunReport = reports::sample();
    report.cases.clear();
    report.fuzz.clear();
    let out = terminal::render(&report, 80);
    assert!(out.contains("NOTHING RUN"), "{out}");
    assert!(markdown::render(&report).contains("NOTHING RUN"));
    assert_eq!(
        element_counts(&junit::render(&report)).get("testcase"),
        None
    );
}

#[test]
fn junit_stays_valid_xml_with_control_characters() {
    let mut report = reports::sample();
    report.cases[0].verdict = s3conform::report::Verdict::Error {
        message: "binary \u{1}\u{1b}[31m junk & <tags> ]]>".to_owned(),
    };
    let xml = junit::render(&report);
    element_counts(&xml);
    assert!(quick_junit::Report::deserialize_from_str(&xml).is_ok());
}

#[test]
fn terminal_output_fits_every_reasonable_width() {
    let report = reports::sample();
    for width in [40u16, 50, 80, 100, 120, 200] {
        for line in terminal::render(&report, width).lines() {
            assert!(
                line.chars().count() <= usize::from(width),
                "wider than {width}: {line:?}"
            );
        }
    }
}

/// Removes SGR sequences (`ESC [ ... m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn colour_changes_nothing_but_colour() {
    let report = reports::sample();
    let style = terminal::Style {
        width: 80,
        colour: true,
    };
    let coloured = terminal::render_styled(&report, style);
    assert!(
        coloured.contains("\u{1b}[1;31mFailures (1):\u{1b}[0m"),
        "{coloured}"
    );
    assert!(
        coloured.contains("\u{1b}[1;31mtest result: FAILED."),
        "{coloured}"
    );
    assert_eq!(strip_ansi(&coloured), terminal::render(&report, 80));
}
