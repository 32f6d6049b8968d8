//! The committed reports are what a regeneration would write: every run report parses, carries
//! no volatile value (so a regeneration's diff shows only behaviour), and
//! `reports/COMPARISON.md` and `reports/COMPARISON.html` are exactly what
//! `s3conform compare reports/*.json` makes of them.
//!
//! `S3CONFORM_WRITE_REPORTS=1 cargo test -- report_regenerate::` rewrites the run reports in
//! normalized form and the comparison from them, instead of checking (`reports/regenerate.sh`
//! does the same through the binary).

use std::path::PathBuf;
use std::process::Command;

use s3conform::report::compare::{self, html, markdown};
use s3conform::report::{RunReport, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn writing() -> bool {
    std::env::var_os("S3CONFORM_WRITE_REPORTS").is_some()
}

/// `reports/*.json` in the shell's glob order (bytewise by name), as `reports/regenerate.sh`
/// passes them to `compare`, with the relative path the comparison prints.
fn committed() -> Vec<(PathBuf, RunReport)> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("reports"))
        .expect("reports/ exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 2, "committed run reports: {names:?}");
    names
        .into_iter()
        .map(|n| {
            let rel = PathBuf::from("reports").join(&n);
            let report = json::read(&root().join(&rel)).unwrap_or_else(|e| panic!("{e}"));
            (rel, report)
        })
        .collect()
}

#[test]
fn committed_reports_carry_no_volatile_values() {
    let mut unstable = Vec::new();
    for (rel, report) in committed() {
        let mut normalized = report.clone();
        json::normalize(&mut normalized);
        let text = json::to_string(&normalized);
        let path = root().join(&rel);
        if writing() {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        if normalized != report || std::fs::read_to_string(&path).unwrap() != text {
            unstable.push(rel.display().to_string());
        }
    }
    assert!(
        unstable.is_empty(),
        "not normalized (regenerate with `reports/regenerate.sh`, or normalize with \
         `S3CONFORM_WRITE_REPORTS=1 cargo test -- report_regenerate::`): {unstable:?}"
    );
}

#[test]
fn the_comparison_regenerates_byte_identically() {
    let matrix = compare::build(committed());
    let outputs = [
        ("reports/COMPARISON.md", markdown::render(&matrix)),
        ("reports/COMPARISON.html", html::render(&matrix)),
    ];
    for (rel, fresh) in outputs {
        let path = root().join(rel);
        if writing() {
            std::fs::write(&path, &fresh).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap();
        if committed != fresh {
            let line = committed
                .lines()
                .zip(fresh.lines())
                .position(|(a, b)| a != b)
                .map_or_else(|| "the length".to_owned(), |i| format!("line {}", i + 1));
            panic!("{rel} differs from what `compare` makes of reports/*.json, first at {line}");
        }
    }
}

/// `run --stable-json` writes the normalized report `reports/regenerate.sh` commits.
#[test]
fn run_stable_json_writes_a_normalized_report() {
    let dir = std::env::temp_dir().join(format!("s3conform-stable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.json");
    let out = Command::new(env!("CARGO_BIN_EXE_s3conform"))
        .args([
            "run",
            "get::if-modified-since-past",
            "--exact",
            "--quiet",
            "--stable-json",
        ])
        .arg("--cases")
        .arg(root().join("cases"))
        .arg("--json")
        .arg(&path)
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = json::read(&path).unwrap();
    assert_eq!(report.started_at, "1970-01-01T00:00:00Z");
    assert_eq!(report.endpoint.url, "http://127.0.0.1 (ephemeral port)");
    let mut again = report.clone();
    json::normalize(&mut again);
    assert_eq!(again, report, "already normalized");
    let obs: Vec<_> = report.cases[0]
        .steps
        .iter()
        .flat_map(|s| &s.observations)
        .collect();
    assert!(!obs.is_empty());
    for o in obs {
        assert_eq!(o.header("date"), Some(json::VOLATILE));
        if let Some(lm) = &o.last_modified {
            assert!(lm.ends_with("2001 00:00:00 GMT"), "{lm}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
