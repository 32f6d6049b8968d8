//! `s3conform compare` on three hand-made reports: the matrix, its renderings and bad inputs.

use crate::support::reports;

use std::path::{Path, PathBuf};

use clap::Parser;
use s3conform::commands::compare::{CompareArgs, run_to};
use s3conform::profile::Profile;
use s3conform::report::compare::{self, CellKind, Matrix, html, markdown, table};
use s3conform::report::{ObservedValue, RunReport, json};

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_compare");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn set_observed(r: &mut RunReport, value: &str) {
    let c = r
        .cases
        .iter_mut()
        .find(|c| c.name == "put::if-none-match-etag")
        .unwrap();
    c.verdict = s3conform::report::Verdict::Observed;
    c.observed = vec![ObservedValue {
        step: 0,
        field: "status".into(),
        value: value.into(),
    }];
}

/// The reference endpoint under both profiles (same label) and a buggy third-party server.
fn reports() -> Vec<(PathBuf, RunReport)> {
    let mut cw = reports::clean("reference", Profile::Coreweave);
    cw.endpoint.embedded = true;
    set_observed(&mut cw, "400");
    let mut aws = reports::clean("reference", Profile::Aws);
    aws.endpoint.embedded = true;
    set_observed(&mut aws, "501");
    aws.cases.retain(|c| c.name != "delete::if-match-slow");
    let mut s3rver = reports::sample();
    s3rver.endpoint.label = "s3rver".into();
    s3rver.endpoint.url = "http://127.0.0.1:4568".into();
    let mut extra = reports::case(
        "head::if-modified-since-future",
        reports::status_fail(1, "304", "412"),
        Vec::new(),
    );
    extra.operation = "head".into();
    s3rver.cases.push(extra);
    s3rver.cases.sort_by(|a, b| a.name.cmp(&b.name));
    vec![
        ("reports/reference-coreweave.json".into(), cw),
        ("reports/reference-aws.json".into(), aws),
        ("reports/s3rver.json".into(), s3rver),
    ]
}

fn matrix() -> Matrix {
    compare::build(reports())
}

fn row<'a>(m: &'a Matrix, case: &str) -> &'a compare::Row {
    m.rows.iter().find(|r| r.case == case).unwrap()
}

#[test]
fn matrix_names_columns_and_judges_cells() {
    let m = matrix();
    let names: Vec<&str> = m.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["reference/coreweave", "reference/aws", "s3rver"]);
    assert_eq!(m.rows.len(), 9, "the union of every report's cases");

    let texts = |case: &str| -> Vec<String> {
        row(&m, case).cells.iter().map(|c| c.text.clone()).collect()
    };
    assert_eq!(texts("get::if-none-match-current"), ["✓", "✓", "✗ 200"]);
    assert_eq!(
        texts("put::safe-create-existing"),
        ["✓", "✓", "✗ 200 (known)"]
    );
    assert_eq!(
        texts("put::if-none-match-etag"),
        ["◆ 400", "◆ 501", "◆ 501"]
    );
    assert_eq!(texts("put::race-create-16"), ["✓", "✓", "! error"]);
    assert_eq!(texts("delete::if-match-slow"), ["✓", "—", "○ skipped"]);
    assert_eq!(texts("head::if-modified-since-future"), ["—", "—", "✗ 412"]);
    let kinds: Vec<CellKind> = row(&m, "delete::if-match-slow")
        .cells
        .iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(kinds, [CellKind::Pass, CellKind::NotRun, CellKind::Skipped]);

    let s = &m.endpoints[2].summary;
    assert_eq!((s.passed, s.failed, s.errored, s.observed), (2, 3, 2, 1));
    assert_eq!(
        (s.known, s.not_run, s.fuzz_ops, s.anomalies),
        (2, 0, 2500, 1)
    );
    assert_eq!(m.endpoints[1].summary.not_run, 2);
}

#[test]
fn fail_cells_show_what_was_answered() {
    use reports::{case, obs, step};
    use s3conform::report::{Mismatch, Verdict};
    let mismatch = |step: usize, field: &str, expected: &str, observed: &str| Mismatch {
        step,
        field: field.into(),
        expected: expected.into(),
        observed: observed.into(),
    };
    let mut r = reports::clean("minio", Profile::Aws);
    r.cases = vec![
        case(
            "get::if-match-missing",
            Verdict::Fail {
                mismatches: vec![mismatch(0, "error_code", "NoSuchKey", "PreconditionFailed")],
            },
            vec![step(
                0,
                "get k If-Match: x",
                serde_json::json!({}),
                vec![obs(412, Some("PreconditionFailed"), None)],
            )],
        ),
        case(
            "put::race-create",
            Verdict::Fail {
                mismatches: vec![mismatch(1, "winners", "1", "2")],
            },
            Vec::new(),
        ),
        case(
            "put::no-steps-recorded",
            Verdict::Fail {
                mismatches: vec![mismatch(3, "status", "412", "200")],
            },
            Vec::new(),
        ),
    ];
    let m = compare::build(vec![("m.json".into(), r)]);
    let cells: Vec<(&str, &str)> = m
        .rows
        .iter()
        .map(|r| (r.cells[0].text.as_str(), r.cells[0].short.as_str()))
        .collect();
    assert_eq!(
        cells,
        [
            ("✗ 412 PreconditionFailed", "✗ 412"),
            ("✗ 200", "✗ 200"),
            ("✗ winners: 2", "✗ winners"),
        ]
    );
}

#[test]
fn observed_cells_are_compact_in_the_terminal_only() {
    let mut r = reports::clean("minio", Profile::Aws);
    set_observed(&mut r, "412 PreconditionFailed x15");
    let case = r
        .cases
        .iter_mut()
        .find(|c| c.name == "put::if-none-match-etag")
        .unwrap();
    case.observed.push(ObservedValue {
        step: 1,
        field: "error_code".into(),
        value: "NotImplemented".into(),
    });
    let m = compare::build(vec![("o.json".into(), r)]);
    let c = &row(&m, "put::if-none-match-etag").cells[0];
    assert_eq!(c.text, "◆ 412 PreconditionFailed x15, NotImplemented");
    assert_eq!(c.short, "◆ 412 x15, NotImplemented");
}

#[test]
fn repeated_label_and_profile_are_numbered() {
    let a = reports::clean("minio", Profile::Aws);
    let m = compare::build(vec![
        ("a.json".into(), a.clone()),
        ("b.json".into(), a.clone()),
        ("c.json".into(), reports::clean("moto", Profile::Aws)),
    ]);
    let names: Vec<&str> = m.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["minio/aws #1", "minio/aws #2", "moto"]);
}

#[test]
fn terminal_matrix_is_pinned() {
    insta::assert_snapshot!("compare_terminal_100", table::render(&matrix(), 100));
}

#[test]
fn terminal_matrix_fits_a_narrow_terminal() {
    let out = table::render(&matrix(), 70);
    for line in out.lines() {
        assert!(line.chars().count() <= 70, "wider than 70: {line:?}");
    }
    insta::assert_snapshot!("compare_terminal_70", out);
}

#[test]
fn markdown_matrix_is_pinned() {
    insta::assert_snapshot!("compare_markdown", markdown::render(&matrix()));
}

#[test]
fn html_is_self_contained_and_carries_the_evidence() {
    let m = matrix();
    let page = html::render(&m);
    for e in &m.endpoints {
        assert!(
            page.contains(&format!("<th>{}</th>", e.name)),
            "no column {}",
            e.name
        );
    }
    // The failing cell of s3rver on get::if-none-match-current links to its evidence...
    let ri = m
        .rows
        .iter()
        .position(|r| r.case == "get::if-none-match-current")
        .unwrap();
    let id = format!("d-{ri}-2");
    assert!(page.contains(&format!("data-detail=\"{id}\">✗ 200</a>")));
    // ...which holds the request as sent and the response as answered.
    let start = page
        .find(&format!("<section class=\"detail\" id=\"{id}\">"))
        .unwrap();
    let section = &page[start..start + page[start..].find("</section>").unwrap()];
    assert!(section.contains("&quot;if_none_match&quot;: &quot;\\&quot;5d41402abc4b2a76b9719d911017c592\\&quot;&quot;"), "{section}");
    assert!(section.contains("Response: <b>200</b>"), "{section}");
    assert!(
        section.contains(
            "<div class=\"step failing\"><p><b>1. get k If-None-Match: ${e0}</b> (mismatch)</p>"
        ),
        "{section}"
    );
    assert!(
        section.contains("<div class=\"step\"><p><b>0. put k</b></p>"),
        "{section}"
    );
    assert!(section.contains("&quot;status&quot;: 200"), "{section}");
    assert!(
        section.contains("<td><code>304</code></td><td><code>200</code></td>"),
        "{section}"
    );
    // Passing cells have no evidence section.
    assert!(!page.contains(&format!("id=\"d-{ri}-0\"")));
    // The anomaly opens to its explanation and lane timeline.
    assert!(page.contains(
        "<details class=\"anomaly\"><summary>double-create on <code>k3</code> (seed 42)</summary>"
    ));
    assert!(page.contains("w1 got 200 &quot;e1&quot;, w2 got 200 &quot;e2&quot;"));
    assert!(page.contains("w2   |--put k3 INM:* -&gt; 200 e2--|"));
    assert!(page.contains("<a href=\"#anomalies-2\">1</a>"));
}

/// Checks that every non-void element is closed in order (the page is hand-written HTML).
fn assert_balanced(page: &str) {
    const VOID: [&str; 3] = ["meta", "br", "!DOCTYPE"];
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("unterminated tag");
        let tag = &rest[..end];
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap();
        if let Some(closing) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(closing), "misnested </{closing}>");
        } else if !VOID.contains(&name) && !tag.ends_with('/') {
            stack.push(name);
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

#[test]
fn html_is_well_nested() {
    assert_balanced(&html::render(&matrix()));
    assert_balanced(&html::render(&compare::build(Vec::new())));
}

#[test]
fn html_loads_nothing_from_outside() {
    let page = html::render(&matrix());
    for banned in ["<link", " src=", "url(", "@import", "<iframe", "<img"] {
        assert!(!page.contains(banned), "page contains {banned:?}");
    }
    for (i, _) in page.match_indices("href=") {
        let rest = &page[i + 5..];
        assert!(
            rest.starts_with("\"#"),
            "non-local link: {}",
            &rest[..rest.len().min(60)]
        );
    }
    // Escaping held: the description with `<Not Modified>` never became markup.
    assert!(!page.contains("<Not Modified>"));
}

#[test]
fn matrix_json_is_documented_shape() {
    let m = matrix();
    let v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
    assert_eq!(v["format"], "s3conform-compare");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["endpoints"][1]["name"], "reference/aws");
    assert_eq!(v["endpoints"][2]["summary"]["anomalies"], 1);
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case"] == "delete::if-match-slow")
        .unwrap();
    assert_eq!(row["cells"][1]["kind"], "not_run");
    assert_eq!(row["cells"][1]["text"], "—");
    assert!(
        row["cells"][0].get("case").is_none(),
        "internal index is not serialized"
    );
}

/// A command line for `compare`, parsed by clap like the real CLI would.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: CompareArgs,
}

#[test]
fn cli_definition_is_valid() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
    assert!(
        Cli::try_parse_from(["compare"]).is_err(),
        "at least one report is required"
    );
}

/// Writes the three reports under `dir` (one per test: tests run in parallel).
fn write_reports(dir: &str) -> Vec<String> {
    std::fs::create_dir_all(tmp(dir)).unwrap();
    reports()
        .into_iter()
        .map(|(p, r)| {
            let path = tmp(dir).join(p.file_name().unwrap());
            json::write(&r, &path).unwrap();
            path.display().to_string()
        })
        .collect()
}

#[test]
fn command_writes_every_output() {
    let mut argv = vec!["compare".to_owned()];
    argv.extend(write_reports("command"));
    let (md, page, js) = (tmp("cmp.md"), tmp("cmp.html"), tmp("cmp.json"));
    for (flag, p) in [("--markdown", &md), ("--html", &page), ("--json", &js)] {
        argv.push(flag.into());
        argv.push(p.display().to_string());
    }
    argv.extend(["--width".into(), "90".into()]);
    let cli = Cli::try_parse_from(&argv).unwrap();
    let mut out = Vec::new();
    assert_eq!(run_to(&cli.args, &mut out).unwrap(), 0);
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("s3rver") && out.contains("✗ 200*"), "{out}");
    assert!(
        std::fs::read_to_string(&md)
            .unwrap()
            .starts_with("# s3conform vendor comparison")
    );
    assert!(
        std::fs::read_to_string(&page)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 9);
}

fn bad_input(name: &str, contents: Option<&str>) -> String {
    let mut argv = vec!["compare".to_owned()];
    argv.extend(write_reports(&format!("bad-{name}")));
    let bad = tmp(name);
    match contents {
        Some(c) => std::fs::write(&bad, c).unwrap(),
        None => {
            let _ = std::fs::remove_file(&bad);
        }
    }
    argv.insert(2, bad.display().to_string());
    let html_out = tmp(&format!("{name}.html"));
    let _ = std::fs::remove_file(&html_out);
    argv.extend(["--html".into(), html_out.display().to_string()]);
    let cli = Cli::try_parse_from(&argv).unwrap();
    let err = run_to(&cli.args, &mut Vec::new()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        !html_out.exists(),
        "nothing is written when an input is bad"
    );
    let msg = s3conform::error::Chain(&err).to_string();
    assert!(msg.contains(name), "error does not name {name}: {msg}");
    msg
}

#[test]
fn bad_inputs_fail_with_the_file_named() {
    assert!(bad_input("missing.json", None).starts_with("failed to read"));
    assert!(bad_input("junk.json", Some("\u{7f}ELF binary junk")).contains("is not JSON"));
    assert!(
        bad_input(
            "history.json",
            Some(r#"{"format": "s3conform-history", "format_version": 1}"#)
        )
        .contains("is not an s3conform run report")
    );
    assert!(bad_input("empty.json", Some("")).contains("is not JSON"));
}

#[test]
fn terminal_matrix_fits_every_reasonable_width() {
    let m = matrix();
    for width in [50u16, 60, 80, 100, 120, 200] {
        let out = table::render(&m, width);
        for line in out.lines() {
            assert!(
                line.chars().count() <= usize::from(width),
                "wider than {width}: {line:?}"
            );
        }
    }
}

#[test]
fn html_page_is_pinned() {
    insta::assert_snapshot!("compare_html", html::render(&matrix()));
}
