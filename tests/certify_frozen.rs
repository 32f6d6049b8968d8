//! `s3conform certify` against an endpoint that stops answering mid-run: it still writes a
//! certificate, an inconclusive one (exit 3) that says where and why it stopped, keeps what was
//! established before (the suite's promises when the freeze came during a campaign), leaves
//! every promise that rested on the unfinished part not established, violates nothing on a
//! correct endpoint (the cut campaign's answered prefix is checked and is clean), verifies, and
//! names the prefix to clean. The endpoint is the reference server behind the freezing proxy of
//! `support/freeze.rs`.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use s3conform::certify::model::{Certificate, Overall, State};
use s3conform::certify::requirements::{self, CampaignKind};
use s3conform::certify::{levels::Level, verify};
use s3conform::profile::Profile;
use s3conform::server::{self, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, ServerConfig};

/// The most a frozen certification may take after the freeze: the stall (2 × the 3 s timeout),
/// requests in flight (timeout + 1 s), cleanup (2 × 4 s), and a loaded machine's slack.
const AFTER_FREEZE: Duration = Duration::from_secs(45);

fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("certify-frozen-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The one results folder under `root`, once it exists.
fn folder(root: &Path) -> Option<PathBuf> {
    std::fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir() && !p.ends_with("latest"))
}

/// Certifies the reference endpoint through a proxy that freezes after `after` requests, or,
/// with `after_file`, once the results folder holds that file (then after 60 more requests).
/// Returns the output, the results folder and the time from the freeze to the exit.
async fn frozen_certify(
    name: &str,
    after: usize,
    after_file: Option<&str>,
) -> (Output, PathBuf, Duration) {
    let handle = server::spawn(ServerConfig::default()).await.unwrap();
    let upstream = handle
        .endpoint_url()
        .trim_start_matches("http://")
        .to_owned();
    let proxy = support::freeze::start(upstream, after).await;
    let root = out_dir(name);
    let args: Vec<String> = [
        "certify",
        "-q",
        "--seed",
        "5",
        "--profile",
        "coreweave",
        "--endpoint",
        &proxy.url,
        "--bucket",
        "frozen",
        "--create-bucket",
        "--timeout",
        "3",
        "--out",
        &root.display().to_string(),
    ]
    .map(String::from)
    .to_vec();
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
    let pid = child.id().to_string();
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    let deadline = Instant::now() + Duration::from_secs(300);
    if let Some(file) = after_file {
        while !folder(&root).is_some_and(|f| f.join(file).is_file()) {
            assert!(
                Instant::now() < deadline && !waiting.is_finished(),
                "{file} never appeared"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        proxy.freeze_after(proxy.requests() + 60);
    }
    while !proxy.frozen() {
        assert!(
            Instant::now() < deadline && !waiting.is_finished(),
            "the proxy never froze"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let froze = Instant::now();
    let out = match tokio::time::timeout(AFTER_FREEZE * 2, waiting).await {
        Ok(out) => out.unwrap().unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            panic!(
                "certify still running {:?} after the freeze",
                AFTER_FREEZE * 2
            );
        }
    };
    let took = froze.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "{name}: exit {:?}, {took:?} after the freeze\n{text}",
        out.status.code()
    );
    assert!(
        took < AFTER_FREEZE,
        "{name}: {took:?} after the freeze:\n{text}"
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{name}: inconclusive exits 3:\n{text}"
    );
    assert!(text.contains("stopped answering"), "{name}:\n{text}");
    assert!(
        text.contains("s3conform clean --prefix"),
        "{name} names what it could not clean:\n{text}"
    );
    assert!(!text.contains("panicked"), "{name}:\n{text}");
    let folder = folder(&root).expect("a results folder");
    (out, folder, took)
}

fn load(folder: &Path) -> Certificate {
    let text = std::fs::read_to_string(folder.join("certificate.json")).expect("a certificate");
    serde_json::from_str(&text).expect("it parses")
}

/// What every frozen certificate must say: inconclusive, nothing violated on a correct endpoint,
/// where it stopped, and it verifies against its evidence.
fn inconclusive_and_verified(folder: &Path) -> Certificate {
    let cert = load(folder);
    assert_eq!(cert.verdict, Overall::Inconclusive, "{}", cert.because);
    assert_eq!(cert.counts.violated, 0, "{}", cert.because);
    assert!(cert.because.contains("did not finish"), "{}", cert.because);
    let found = verify::verify(&folder.join("certificate.json"), None, None).unwrap();
    assert!(found.differences.is_empty(), "{:?}", found.differences);
    for file in [
        "certificate.md",
        "certificate.html",
        "badge.svg",
        "evidence.json",
    ] {
        assert!(folder.join(file).is_file(), "{file}");
    }
    let page = std::fs::read_to_string(folder.join("certificate.html")).unwrap();
    assert!(page.contains("The run did not finish"), "the page says so");
    cert
}

fn plan_ids() -> Vec<String> {
    Level::Quick.campaigns().into_iter().map(|p| p.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_frozen_mid_suite_gets_an_inconclusive_certificate() {
    let _one = support::TIMED.lock().await;
    let (_, folder, _) = frozen_certify("suite", 300, None).await;
    let cert = inconclusive_and_verified(&folder);
    let stop = cert.stopped.as_ref().expect("where it stopped");
    assert_eq!(stop.during, "the suite");
    assert_eq!(stop.campaigns_unfinished, plan_ids());
    assert!(stop.cases_unjudged > 0, "{stop:?}");
    assert!(cert.campaigns.is_empty());
    // Every promise resting on a campaign is unproven: none ran.
    for r in &cert.requirements {
        if !r.refuted_by.is_empty() {
            assert_eq!(r.verdict, State::NotEstablished, "{}: {}", r.id, r.because);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_frozen_mid_campaign_keeps_what_the_suite_established() {
    let _one = support::TIMED.lock().await;
    let first = &plan_ids()[0];
    let (_, folder, _) = frozen_certify(
        "campaign",
        usize::MAX,
        Some(&format!("history-{first}.jsonl")),
    )
    .await;
    let cert = inconclusive_and_verified(&folder);
    let stop = cert.stopped.as_ref().expect("where it stopped");
    let plan = plan_ids();
    assert_eq!(stop.during, format!("campaign {}", plan[1]), "{stop:?}");
    assert_eq!(stop.campaigns_unfinished, plan[1..]);
    // The suite had finished: a case is unjudged only if the loaded machine made one of its
    // answers ambiguous before the freeze, and then its promises are unproven, never violated.
    let unjudged: Vec<&str> = cert
        .requirements
        .iter()
        .flat_map(|r| &r.cases)
        .chain(cert.extras.iter().map(|e| &e.case))
        .filter(|c| matches!(c.outcome.as_str(), "error" | "skipped"))
        .map(|c| c.case.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(stop.cases_unjudged, unjudged.len(), "{unjudged:?}");
    // The cut campaign's answered prefix was checked: clean on a correct endpoint, and it
    // vouches for nothing.
    let cut = cert
        .campaigns
        .iter()
        .find(|c| c.id == plan[1])
        .expect("the cut campaign");
    assert!(
        cut.anomalies.is_empty()
            && cut
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("stopped after")),
        "{cut:?}"
    );
    let reqs = requirements::embedded(Profile::Coreweave).unwrap();
    for r in &cert.requirements {
        let rests = &reqs
            .requirements
            .iter()
            .find(|x| x.id == r.id)
            .unwrap()
            .campaigns;
        let expected = if r.not_testable.is_some() {
            continue;
        } else if r.because.starts_with("could not be judged") {
            [State::NotEstablished, State::NotEstablished]
        } else if rests.is_empty() || rests == &[CampaignKind::SafeCreate] {
            // The suite finished and so did the safe-create storm: these stand.
            [State::Holds, State::NotApplicable]
        } else {
            [State::NotEstablished, State::NotEstablished]
        };
        assert!(
            expected.contains(&r.verdict),
            "{}: {:?} ({})",
            r.id,
            r.verdict,
            r.because
        );
    }
}
