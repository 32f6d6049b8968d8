//! Failure paths of the binary print their top message once and each cause once: the OS error
//! behind a missing or unwritable file appears exactly one time, after "caused by:" or the
//! warning's colon, never repeated by a wrapper.

use std::path::PathBuf;
use std::process::Output;

use crate::support::binary::run as s3conform;

/// A path under a directory that does not exist, so opening it fails with ENOENT.
fn missing(name: &str) -> String {
    std::env::temp_dir()
        .join(format!("s3conform-no-such-dir-{}", std::process::id()))
        .join(name)
        .display()
        .to_string()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_os_error_once(stderr: &str, top: &str) {
    assert!(stderr.contains(top), "expected `{top}` in:\n{stderr}");
    // The OS's own words for ENOENT, e.g. "No such file or directory (os error 2)".
    let os_text = std::io::Error::from_raw_os_error(2).to_string();
    assert_eq!(stderr.matches(&os_text).count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_missing_cases_directory_names_the_os_error_once() {
    let dir = missing("cases");
    for cmd in ["run", "list"] {
        let out = s3conform(&[cmd, "--cases", &dir]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = stderr_of(&out);
        assert_os_error_once(&err, "error: failed to read the cases directory");
        assert!(err.contains("\n  caused by: "), "{err}");
    }
}

#[test]
fn a_missing_history_file_names_the_os_error_once() {
    let file = missing("history.jsonl");
    let out = s3conform(&["check", &file]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert_os_error_once(&err, &format!("error: failed to read {file}"));
    assert!(err.contains("\n  caused by: "), "{err}");
}

#[test]
fn an_unwritable_json_path_names_the_os_error_once() {
    let json = missing("report.json");
    let out_root: PathBuf =
        std::env::temp_dir().join(format!("s3conform-error-chain-{}", std::process::id()));
    let out = s3conform(&[
        "run",
        "--exact",
        "get::if-match-hit",
        "--json",
        &json,
        "--out",
        &out_root.display().to_string(),
    ]);
    let _ = std::fs::remove_dir_all(&out_root);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_os_error_once(&err, &format!("failed to write `{json}`"));
}
