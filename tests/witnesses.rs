//! The binary's witnesses: `check` and `fuzz` go through one pipeline, so the same history is
//! reported with the same findings grouped the same way, shrunk unless `--no-shrink` says not
//! to, and with the same conformance notes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn s3conform(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_s3conform"))
        .args(args)
        .current_dir(cwd)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("S3CONFORM_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn history(name: &str) -> String {
    format!(
        "{}/tests/histories/{name}.jsonl",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("s3conform-witnesses-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The text after `marker` up to the end of its line.
fn line_after<'a>(text: &'a str, marker: &str) -> &'a str {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no `{marker}` in:\n{text}"));
    let rest = &text[start + marker.len()..];
    rest.lines().next().unwrap_or_default()
}

#[test]
fn check_shrinks_by_default_and_no_shrink_shows_the_original() {
    let dir = std::env::temp_dir();
    let file = history("bad/garbage-read--on-a-key-with-a-copy");
    let shrunk = s3conform(&dir, &["check", &file]);
    let original = s3conform(&dir, &["check", &file, "--no-shrink"]);
    let (small, full) = (stdout(&shrunk), stdout(&original));
    assert_eq!(shrunk.status.code(), Some(1), "{small}");
    assert_eq!(original.status.code(), Some(1), "{full}");
    assert_eq!(
        line_after(&small, "anomalies: "),
        line_after(&full, "anomalies: "),
        "shrinking changes the witness, not the findings"
    );
    assert!(small.contains("(shrunk from 4 to 1 ops)"), "{small}");
    assert!(!full.contains("shrunk"), "{full}");
    // The shrunk witness lists the whole shrunk history: one op, where the original has more.
    let listed = |t: &str| t.lines().filter(|l| l.starts_with("  op ")).count();
    assert_eq!(listed(&small), 1, "{small}");
    let witness_ops = |t: &str| t.lines().filter(|l| l.contains(" = op ")).count();
    assert!(witness_ops(&small) <= witness_ops(&full), "{small}\n{full}");
}

#[test]
fn check_refuses_the_shrink_flag_saying_what_to_do() {
    let dir = std::env::temp_dir();
    let file = history("bad/double-create--two-creates-succeed");
    let out = s3conform(&dir, &["check", &file, "--shrink"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("shrunk by default"), "{err}");
    assert!(err.contains("--no-shrink"), "{err}");
}

#[test]
fn check_prints_conformance_notes_apart_from_anomalies() {
    let dir = std::env::temp_dir();
    let out = s3conform(
        &dir,
        &["check", &history("good/unknown-convention-is-a-note")],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("2 conformance notes (not anomalies):"),
        "{text}"
    );
    assert!(text.contains("  key k: op 1: c2 GET → 412"), "{text}");
}

#[test]
fn fuzz_and_check_name_the_same_findings_on_the_same_history() {
    let dir = scratch("fuzz-check");
    let fuzz = s3conform(
        &dir,
        &[
            "fuzz",
            "--fault",
            "ignore-if-match",
            "--seed",
            "2",
            "--ops",
            "300",
            "--writers",
            "4",
            "--keys",
            "2",
            "--mix",
            "rmw=80,read=20",
            "--no-progress",
            "--out",
            "out",
        ],
    );
    let fuzzed = stdout(&fuzz);
    assert_eq!(fuzz.status.code(), Some(1), "{fuzzed}");
    let saved = dir.join("out/latest/history.jsonl");
    let check = s3conform(&dir, &["check", &saved.to_string_lossy()]);
    let checked = stdout(&check);
    assert_eq!(check.status.code(), Some(1), "{checked}");

    let found = line_after(&fuzzed, "verdict: NOT linearizable: ");
    assert_eq!(found, line_after(&checked, "anomalies: "));
    assert!(found.contains("lost-update on k"), "{found}");
    let headers = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("== "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(headers(&fuzzed), headers(&checked));
    // Both shrink the same witnesses to the same size.
    let sizes = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("(shrunk from"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(sizes(&fuzzed), sizes(&checked));
    assert_eq!(sizes(&fuzzed).len(), headers(&fuzzed).len(), "{fuzzed}");

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/latest/summary.json")).unwrap())
            .unwrap();
    let in_summary: Vec<String> = summary["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} on {}",
                a["kind"].as_str().unwrap(),
                a["key"].as_str().unwrap()
            )
        })
        .collect();
    let in_headers: Vec<String> = headers(&checked)
        .iter()
        .map(|h| {
            let name = h.trim_start_matches("== ").trim_end_matches(" ==");
            name.split(" (x").next().unwrap().to_owned()
        })
        .collect();
    assert_eq!(in_summary, in_headers);
    assert!(summary["conformance_notes"].is_array(), "{summary}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The lines of the conformance notes block, header included.
fn notes_block(text: &str) -> Vec<&str> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.contains("conformance notes"));
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    std::iter::once(header)
        .chain(lines.take_while(|l| l.starts_with("  key ")))
        .collect()
}

#[test]
fn fuzz_prints_and_saves_the_conformance_notes_check_prints() {
    let dir = scratch("notes");
    let fuzz = s3conform(
        &dir,
        &[
            "fuzz",
            "--fault",
            "412-for-404",
            "--seed",
            "2",
            "--ops",
            "300",
            "--writers",
            "4",
            "--keys",
            "2",
            "--no-progress",
            "--out",
            "out",
        ],
    );
    let fuzzed = stdout(&fuzz);
    assert_eq!(fuzz.status.code(), Some(0), "{fuzzed}");
    let saved = dir.join("out/latest/history.jsonl");
    let check = s3conform(&dir, &["check", &saved.to_string_lossy()]);
    let checked = stdout(&check);
    assert_eq!(check.status.code(), Some(0), "{checked}");
    let notes = notes_block(&fuzzed);
    assert!(notes.len() > 1, "a 412 to a HEAD is a note:\n{fuzzed}");
    assert_eq!(notes, notes_block(&checked));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/latest/summary.json")).unwrap())
            .unwrap();
    let saved_notes = summary["conformance_notes"].as_array().unwrap();
    assert_eq!(saved_notes.len(), notes.len() - 1, "{summary}");
    assert!(saved_notes[0]["message"].as_str().unwrap().contains("412"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_shrink_with_a_shrink_dir_is_a_usage_error() {
    let dir = std::env::temp_dir();
    let file = history("bad/double-create--two-creates-succeed");
    let out = s3conform(&dir, &["check", &file, "--no-shrink", "--shrink-dir", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--shrink-dir"));
}
