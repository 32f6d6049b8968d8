//! An endpoint that freezes mid-run: every command ends within a stated bound, exits 2, and
//! says what it left behind. The endpoint is the reference server behind a proxy that forwards
//! the first N requests and then never answers again (see `support/freeze.rs`).
//!
//! Bounds, all with `--timeout 1`: a stuck endpoint is declared after two silent requests
//! spanning 2 s (twice the timeout); in-flight requests end within timeout + 1 s; cleanup gets
//! 2 × (timeout + 1 s) = 4 s in all. So `run` and `fuzz` end within [`BOUND`] of the freeze,
//! and setup against an endpoint frozen from the start ends within the same bound.

use crate::support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use s3conform::server::{self, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, ServerConfig, ServerHandle};

/// The most any command may take against a frozen endpoint with `--timeout 1`.
const BOUND: Duration = Duration::from_secs(15);

/// Runs the binary without blocking the runtime, killing it if it outlives twice the bound
/// (so a regression fails the test instead of hanging it).
async fn s3conform(args: Vec<String>) -> (Output, Duration) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_s3conform"))
        .args(&args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("S3CONFORM_PROFILE")
        .env("AWS_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let waited = tokio::time::timeout(
        BOUND * 2,
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await;
    match waited {
        Ok(out) => (out.unwrap().unwrap(), started.elapsed()),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("s3conform {args:?} still running after {:?}", BOUND * 2);
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn frozen_after(requests: usize) -> (ServerHandle, support::freeze::Freezer) {
    let handle = server::spawn(ServerConfig::default()).await.unwrap();
    let upstream = handle
        .endpoint_url()
        .trim_start_matches("http://")
        .to_owned();
    let proxy = support::freeze::start(upstream, requests).await;
    (handle, proxy)
}

fn args(cmd: &str, url: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        cmd,
        "--endpoint",
        url,
        "--bucket",
        "hang",
        "--create-bucket",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(["--timeout", "1"].iter().map(|s| s.to_string()));
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn assert_stuck(what: &str, out: &Output, took: Duration) {
    let t = text(out);
    eprintln!(
        "{what}: exit {:?} after {:.1} s\n{}",
        out.status.code(),
        took.as_secs_f64(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < BOUND, "{what} took {took:?} (bound {BOUND:?}):\n{t}");
    assert_eq!(out.status.code(), Some(2), "{what}:\n{t}");
    assert!(t.contains("stopped answering"), "{what}:\n{t}");
    assert!(
        t.contains("s3conform clean --prefix"),
        "{what} names the leftovers:\n{t}"
    );
    assert!(!t.contains("panicked"), "{what}:\n{t}");
    assert!(
        !t.contains("verdict: NOT"),
        "{what} judged a frozen endpoint:\n{t}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_against_an_endpoint_that_freezes_mid_suite_ends_within_the_bound() {
    let _one = support::TIMED.lock().await;
    let (_server, proxy) = frozen_after(60).await;
    let (out, took) = s3conform(args("run", &proxy.url, &["-q"])).await;
    assert!(proxy.frozen(), "the proxy froze mid-run");
    assert_stuck("run", &out, took);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzz_against_an_endpoint_that_freezes_mid_campaign_ends_within_the_bound() {
    let _one = support::TIMED.lock().await;
    let (_server, proxy) = frozen_after(60).await;
    let extra = ["--ops", "1000000", "--duration", "60s", "--no-progress"];
    let (out, took) = s3conform(args("fuzz", &proxy.url, &extra)).await;
    assert!(proxy.frozen(), "the proxy froze mid-campaign");
    assert_stuck("fuzz", &out, took);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_frozen_from_the_start_fails_setup_within_the_bound() {
    let _one = support::TIMED.lock().await;
    let (_server, proxy) = frozen_after(0).await;
    for cmd in ["run", "fuzz"] {
        let (out, took) = s3conform(args(cmd, &proxy.url, &[])).await;
        let t = text(&out);
        eprintln!(
            "{cmd} (frozen at start): exit {:?} after {:.1} s",
            out.status.code(),
            took.as_secs_f64()
        );
        assert!(took < BOUND, "{cmd} took {took:?}:\n{t}");
        assert_eq!(out.status.code(), Some(2), "{cmd}:\n{t}");
        assert!(t.contains("unreachable"), "{cmd}:\n{t}");
    }
}

/// Starts `run` against an endpoint that freezes mid-suite, sends SIGINT once it froze (and
/// again after `second` if given), and returns the output and the time from the first signal.
async fn interrupted_run(timeout: &str, second: Option<Duration>) -> (Output, Duration) {
    let (_server, proxy) = frozen_after(60).await;
    let mut argv = args("run", &proxy.url, &["-q"]);
    let i = argv.iter().position(|a| a == "--timeout").unwrap();
    argv[i + 1] = timeout.to_owned();
    let child = Command::new(env!("CARGO_BIN_EXE_s3conform"))
        .args(&argv)
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !proxy.frozen() {
        assert!(Instant::now() < deadline, "the proxy never froze");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = Instant::now();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    if let Some(after) = second {
        tokio::time::sleep(after).await;
        let _ = Command::new("kill").args(["-INT", &pid]).status();
    }
    let waited = tokio::time::timeout(
        BOUND * 2,
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await;
    match waited {
        Ok(out) => (out.unwrap().unwrap(), sent.elapsed()),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            panic!("run still going {:?} after SIGINT", BOUND * 2);
        }
    }
}

/// One Ctrl-C against a frozen endpoint: requests in flight end within the timeout (2 s + 1 s
/// backstop), cleanup within 2 × 3 s; exit 130 and the prefix to clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_a_frozen_run_cleans_up_within_the_bound_and_exits_130() {
    let _one = support::TIMED.lock().await;
    let (out, took) = interrupted_run("2", None).await;
    let t = text(&out);
    eprintln!(
        "run, one SIGINT: exit {:?} {:.1} s after it",
        out.status.code(),
        took.as_secs_f64()
    );
    assert_eq!(out.status.code(), Some(130), "{t}");
    assert!(took < Duration::from_secs(12), "{took:?}:\n{t}");
    assert!(t.contains("interrupted; no verdict"), "{t}");
    assert!(t.contains("s3conform clean --prefix"), "{t}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| l.contains("interrupted"))
        .unwrap_or("");
    assert!(
        last.contains("no verdict"),
        "the last word is that nothing was judged:\n{t}"
    );
}

/// A second Ctrl-C abandons the requests in flight and the cleanup at once, even with a
/// 20 s timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_abandons_at_once() {
    let _one = support::TIMED.lock().await;
    let (out, took) = interrupted_run("20", Some(Duration::from_millis(500))).await;
    let t = text(&out);
    eprintln!(
        "run, two SIGINTs: exit {:?} {:.1} s after the first",
        out.status.code(),
        took.as_secs_f64()
    );
    assert_eq!(out.status.code(), Some(130), "{t}");
    assert!(took < Duration::from_secs(4), "{took:?}:\n{t}");
    assert!(t.contains("cleanup abandoned"), "{t}");
    assert!(t.contains("s3conform clean --prefix"), "{t}");
}

/// `clean` against an endpoint that freezes while it examines objects: exit 2 within the
/// bound. The objects come from a `fuzz --keep` through the same proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_against_an_endpoint_that_freezes_mid_sweep_ends_within_the_bound() {
    let _one = support::TIMED.lock().await;
    let (_server, proxy) = frozen_after(usize::MAX).await;
    let keep = ["--ops", "200", "--keep", "--no-progress", "--keys", "40"];
    let (out, _) = s3conform(args("fuzz", &proxy.url, &keep)).await;
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "{}",
        text(&out)
    );
    proxy.freeze_after(proxy.requests() + 6);
    let mut argv: Vec<String> = ["clean", "--endpoint", &proxy.url, "--bucket", "hang"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    argv.extend(["--prefix", "s3conform/", "--timeout", "1"].map(String::from));
    let (out, took) = s3conform(argv).await;
    let t = text(&out);
    eprintln!(
        "clean: exit {:?} after {:.1} s\n{t}",
        out.status.code(),
        took.as_secs_f64()
    );
    assert!(proxy.frozen(), "the proxy froze mid-sweep");
    assert!(took < BOUND, "{took:?}:\n{t}");
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("stopped answering"), "{t}");
}
