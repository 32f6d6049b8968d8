//! The committed reports are what a regeneration would write: every run report parses, carries
//! no volatile value (so a regeneration's diff shows only behaviour), and
//! `reports/COMPARISON.md` and `reports/COMPARISON.html` are exactly what
//! `s3conform compare reports/*.json` makes of them.
//!
//! `S3CONFORM_WRITE_REPORTS=1 cargo test --test report_regenerate` rewrites the run reports in
//! normalized form and the comparison from them, instead of checking (`reports/regenerate.sh`
//! does the same through the binary).

use std::path::PathBuf;

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
         `S3CONFORM_WRITE_REPORTS=1 cargo test --test report_regenerate`): {unstable:?}"
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
