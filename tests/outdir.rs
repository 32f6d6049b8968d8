//! Where the binary puts its files: one new results folder per run with something to keep,
//! `latest` pointing at it, its path printed after the verdict, earlier runs never overwritten,
//! and a file that cannot be written costing a warning, never the verdict or its exit code.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::binary;

fn s3conform(cwd: &Path, args: &[&str]) -> Output {
    binary::command()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("s3conform-outdir-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A campaign against a non-atomic create finds a double create within these few ops.
const DOUBLE_CREATE: &[&str] = &[
    "fuzz",
    "--fault",
    "non-atomic-create",
    "--mix",
    "create=90,delete=5,read=5",
    "--writers",
    "8",
    "--ops",
    "400",
    "--seed",
    "11",
    "--no-progress",
    "--no-shrink",
];

fn cases_dir() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/cases").to_owned()
}

#[test]
fn an_anomalous_campaign_keeps_its_evidence_in_a_new_folder_each_time() {
    let dir = scratch("fuzz");
    let first = s3conform(&dir, DOUBLE_CREATE);
    let text = stdout(&first);
    assert_eq!(first.status.code(), Some(1), "{text}{}", stderr(&first));
    let verdict = text.find("verdict: NOT linearizable").expect("a verdict");
    let saved = text
        .find("results saved in ")
        .expect("the folder is printed");
    assert!(verdict < saved, "the verdict prints first:\n{text}");
    let latest = dir.join("s3conform-out/latest");
    for file in ["history.jsonl", "witnesses.html", "summary.json"] {
        assert!(latest.join(file).is_file(), "{file} missing:\n{text}");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(latest.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["verdict"], "anomalous");
    assert_eq!(summary["seed"], 11);
    let first_folder = std::fs::canonicalize(&latest).unwrap();
    let history = std::fs::read(first_folder.join("history.jsonl")).unwrap();

    let second = s3conform(&dir, DOUBLE_CREATE);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let second_folder = std::fs::canonicalize(&latest).unwrap();
    assert_ne!(
        first_folder, second_folder,
        "a second run gets its own folder"
    );
    assert_eq!(
        std::fs::read(first_folder.join("history.jsonl")).unwrap(),
        history,
        "the first run's history is untouched"
    );
    let name = second_folder
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    // `<time>-<label>-<seed>`, the label naming the endpoint and its injected fault.
    assert!(name.contains("Z-reference_non-atomic-create-11"), "{name}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unwritable_results_folder_is_a_warning_and_the_verdict_stands() {
    let dir = scratch("unwritable");
    // A folder below a regular file cannot be created, even by root.
    std::fs::write(dir.join("file"), "").unwrap();
    let blocked = dir.join("file/out");
    let html = dir.join("file/w.html");
    let mut args = DOUBLE_CREATE.to_vec();
    let blocked_s = blocked.to_string_lossy().into_owned();
    let html_s = html.to_string_lossy().into_owned();
    args.extend(["--out", &blocked_s, "--html", &html_s]);
    let out = s3conform(&dir, &args);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}{err}");
    assert!(text.contains("verdict: NOT linearizable"), "{text}");
    assert!(
        err.contains(&format!(
            "warning: failed to create the results folder `{blocked_s}`"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("warning: failed to write `{html_s}`")),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unusable_default_root_is_a_warning_and_the_verdict_stands() {
    let dir = scratch("default-root");
    // The default root is taken by a regular file, as an unwritable current directory would be.
    std::fs::write(dir.join("s3conform-out"), "").unwrap();
    let out = s3conform(&dir, DOUBLE_CREATE);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}{err}");
    assert!(text.contains("verdict: NOT linearizable"), "{text}");
    assert!(
        err.contains("warning: failed to create the results folder `s3conform-out"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_linearizable_campaign_without_out_writes_nothing() {
    let dir = scratch("clean");
    let out = s3conform(
        &dir,
        &["fuzz", "--ops", "200", "--seed", "3", "--no-progress"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains("results saved"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failing_run_saves_its_report_and_an_unwritable_file_keeps_the_exit_code() {
    let dir = scratch("run");
    let cases = cases_dir();
    std::fs::write(dir.join("file"), "").unwrap();
    let out = s3conform(
        &dir,
        &[
            "run",
            "put::if-match-mismatch",
            "--exact",
            "--cases",
            &cases,
            "--fault",
            "ignore-if-match",
            "--json",
            "file/report.json",
        ],
    );
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}{err}");
    assert!(
        err.contains("warning: failed to write `file/report.json`"),
        "{err}"
    );
    let saved = text
        .find("results saved in ")
        .expect("the folder is printed");
    assert!(text[..saved].contains("failed"), "summary first:\n{text}");
    let latest = dir.join("s3conform-out/latest");
    let report = s3conform::report::json::read(&latest.join("report.json")).unwrap();
    assert!(report.has_regressions());
    assert!(latest.join("report.md").is_file());

    // A passing run whose report cannot be written still passes, and keeps no folder.
    std::fs::remove_dir_all(dir.join("s3conform-out")).unwrap();
    let out = s3conform(
        &dir,
        &[
            "run",
            "put::if-match-hit",
            "--exact",
            "--cases",
            &cases,
            "--json",
            "file/report.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: failed to write `file/report.json`"));
    assert!(!dir.join("s3conform-out").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_writes_into_the_folder_it_is_given() {
    let dir = scratch("check");
    let history = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/histories/bad/double-create--two-creates-succeed.jsonl"
    );
    let out = s3conform(&dir, &["check", history, "--out", "res", "--no-shrink"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let latest = dir.join("res/latest");
    assert!(latest.join("report.json").is_file());
    assert!(latest.join("witnesses.html").is_file());
    let name = std::fs::read_link(&latest).unwrap();
    assert!(
        name.to_string_lossy()
            .ends_with("-double-create--two-creates-succeed-check"),
        "{name:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_with_an_unwritable_shrink_dir_warns_and_keeps_the_verdict() {
    let dir = scratch("check-shrink");
    std::fs::write(dir.join("file"), "").unwrap();
    let history = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/histories/bad/double-create--two-creates-succeed.jsonl"
    );
    let out = s3conform(&dir, &["check", history, "--shrink-dir", "file/shrunk"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}{err}", stdout(&out));
    assert!(
        err.contains("warning: failed to write `file/shrunk/double-create.jsonl`"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
