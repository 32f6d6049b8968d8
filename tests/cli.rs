//! The binary's edges: bad input gets a clear message and exit 2, never a panic; the default
//! fuzz campaign against the embedded endpoint is linearizable, and each injected fault is
//! caught by name within the default budget.

use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::binary::{run as s3conform, text};

fn assert_usage_error(out: &Output, needle: &str) {
    let t = text(out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains(needle), "expected `{needle}` in:\n{t}");
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn a_bad_endpoint_url_is_a_usage_error() {
    assert_usage_error(
        &s3conform(&["fuzz", "--endpoint", "not a url", "--ops", "5"]),
        "invalid endpoint URL",
    );
    assert_usage_error(
        &s3conform(&["fuzz", "--endpoint", "ftp://host", "--ops", "5"]),
        "scheme must be http or https",
    );
}

#[test]
fn an_unknown_profile_is_a_usage_error() {
    assert_usage_error(&s3conform(&["fuzz", "--profile", "minio"]), "coreweave");
    assert_usage_error(&s3conform(&["serve", "--profile", "minio"]), "aws");
}

#[test]
fn an_unknown_fault_or_bad_flag_is_a_usage_error() {
    assert_usage_error(
        &s3conform(&["fuzz", "--fault", "no-such-fault"]),
        "ignore-if-match",
    );
    assert_usage_error(&s3conform(&["fuzz", "--mix", "rmw=x"]), "invalid --mix");
    assert_usage_error(
        &s3conform(&["fuzz", "--duration", "3 fortnights"]),
        "duration",
    );
}

#[test]
fn an_unreachable_endpoint_fails_within_ten_seconds() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let out = s3conform(&[
        "fuzz",
        "--endpoint",
        &format!("http://127.0.0.1:{port}"),
        "--ops",
        "5",
    ]);
    assert_usage_error(&out, "unreachable");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn fault_flags_need_the_embedded_endpoint() {
    let out = s3conform(&[
        "fuzz",
        "--endpoint",
        "http://127.0.0.1:1",
        "--fault",
        "ignore-if-match",
    ]);
    assert_usage_error(&out, "--fault only applies to the embedded endpoint");
}

#[test]
fn out_of_range_numbers_are_usage_errors_naming_the_range() {
    for (args, range) in [
        (
            &["fuzz", "--duration", "99999999999999999999h"][..],
            "1ms to 24h",
        ),
        (
            &["fuzz", "--timeout", "18446744073709551615"][..],
            "1..=3600",
        ),
        (
            &["fuzz", "--ops", "18446744073709551615"][..],
            "1..=1000000",
        ),
        (
            &["fuzz", "--ops", "1000000000", "--duration", "3s"][..],
            "1..=1000000",
        ),
        (&["run", "--test-threads", "100000"][..], "1..=256"),
        (&["fuzz", "--max-states", "0"][..], "1..=100000000"),
        (
            &["check", "h.jsonl", "--max-states", "0"][..],
            "1..=100000000",
        ),
    ] {
        let started = Instant::now();
        let out = s3conform(args);
        assert_usage_error(&out, range);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{args:?} was refused before any work"
        );
    }
}

#[test]
fn every_duration_flag_takes_one_grammar_and_names_itself_when_refused() {
    for (args, flag) in [
        (&["fuzz", "--duration", "3y"][..], "--duration"),
        (&["fuzz", "--check-budget", "0s"][..], "--check-budget"),
        (
            &["check", "h.jsonl", "--time-budget", "5min"][..],
            "--time-budget",
        ),
        (
            &["bench", "--time-budget", "99999999999999999999h"][..],
            "--time-budget",
        ),
        (
            &["clean", "--prefix", "p/", "--older-than", "x"][..],
            "--older-than",
        ),
    ] {
        let out = s3conform(args);
        assert_usage_error(&out, flag);
        assert_usage_error(&out, "expected a number with a unit ms, s, m or h");
    }
}
