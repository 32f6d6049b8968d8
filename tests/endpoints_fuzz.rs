//! Fuzz campaigns against third-party S3 servers: the checker must find the anomalies real
//! servers have (double create on s3s-fs and s3rver, lost update on s3rver) and find nothing on
//! servers that are atomic. Every assertion is about what the server did.

mod support;

use std::sync::Arc;

use s3conform::check::{self, AnomalyKind, CheckOptions, Verdict};
use s3conform::fuzz::{Counters, DriveLimits, Mix, Schedule, drive};
use s3conform::s3::{RunPrefix, Session};
use support::endpoints::{self, Kind};

/// Safe creates racing with deletes on one key: where create is a check-then-write, two
/// creators win.
fn create_race_mix() -> Mix {
    "create=90,delete=5,read=5".parse().unwrap()
}

/// Read-modify-write loops on one key: where If-Match is ignored, updates are lost.
fn cas_mix() -> Mix {
    "rmw=80,read=20".parse().unwrap()
}

async fn campaign(
    ep: &endpoints::Endpoint,
    seed: u64,
    writers: usize,
    ops: u64,
    keys: u8,
    mix: &Mix,
) -> Vec<AnomalyKind> {
    let session = Session::connect(endpoints::target(ep, "s3conform-fuzz"), RunPrefix::fresh())
        .await
        .expect("connect");
    let schedule = Schedule::from_seed(seed, writers, (ops as usize).div_ceil(writers), keys, mix);
    let history = drive(
        &session,
        &schedule,
        DriveLimits {
            max_ops: ops,
            max_duration: None,
        },
        Arc::new(Counters::default()),
    )
    .await
    .expect("drive");
    session.cleanup().await;
    let saved = std::env::temp_dir().join(format!("s3conform-{}-{seed}.jsonl", ep.kind.label()));
    if let Ok(file) = std::fs::File::create(&saved) {
        let _ = s3conform::history::write_history(std::io::BufWriter::new(file), &history);
        eprintln!(
            "history of {} seed {seed}: {}",
            ep.kind.label(),
            saved.display()
        );
    }
    let report = check::check_history(&history, &CheckOptions::default());
    let verdict = report.verdict();
    eprintln!(
        "{} seed {seed}: {} ops -> {:?}",
        ep.kind.label(),
        history.ops.len(),
        summarize(&verdict)
    );
    match verdict {
        Verdict::Linearizable => Vec::new(),
        Verdict::Anomalous(a) => {
            for anomaly in &a {
                eprintln!(
                    "  {} on {}: {}",
                    anomaly.kind.name(),
                    anomaly.key,
                    anomaly.explanation
                );
            }
            a.iter().map(|x| x.kind).collect()
        }
        Verdict::Unknown { reason } => {
            panic!("checker budget exhausted on {}: {reason}", ep.kind.label())
        }
    }
}

fn summarize(v: &Verdict) -> String {
    match v {
        Verdict::Linearizable => "linearizable".into(),
        Verdict::Anomalous(a) => a
            .iter()
            .map(|x| x.kind.name())
            .collect::<Vec<_>>()
            .join(", "),
        Verdict::Unknown { reason } => format!("unknown: {reason}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3s_fs_double_create_is_found() {
    let Some(ep) = endpoints::start(Kind::S3sFs).await else {
        return;
    };
    let found = campaign(&ep, 11, 16, 2000, 1, &create_race_mix()).await;
    assert!(
        found.contains(&AnomalyKind::DoubleCreate),
        "s3s-fs races creates, yet no double create: {found:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3rver_anomalies_are_found() {
    let Some(ep) = endpoints::start(Kind::S3rver).await else {
        return;
    };
    let creates = campaign(&ep, 21, 16, 2000, 1, &create_race_mix()).await;
    assert!(
        creates.contains(&AnomalyKind::DoubleCreate),
        "s3rver ignores If-None-Match, yet: {creates:?}"
    );
    let cas = campaign(&ep, 22, 16, 2000, 1, &cas_mix()).await;
    assert!(
        cas.contains(&AnomalyKind::LostUpdate),
        "s3rver ignores If-Match, yet: {cas:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seaweedfs_is_linearizable() {
    let Some(ep) = endpoints::start(Kind::SeaweedFs).await else {
        return;
    };
    for (seed, mix) in [(31, create_race_mix()), (32, cas_mix())] {
        let found = campaign(&ep, seed, 16, 2000, 1, &mix).await;
        assert!(found.is_empty(), "seaweedfs seed {seed}: {found:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn localstack_is_linearizable() {
    let Some(ep) = endpoints::start(Kind::LocalStack).await else {
        return;
    };
    for (seed, mix) in [(41, create_race_mix()), (42, cas_mix())] {
        let found = campaign(&ep, seed, 16, 2000, 1, &mix).await;
        assert!(found.is_empty(), "localstack seed {seed}: {found:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moto_plain_put_races_are_linearizable_at_low_load() {
    let Some(ep) = endpoints::start(Kind::Moto).await else {
        return;
    };
    let found = campaign(&ep, 51, 16, 1000, 1, &cas_mix()).await;
    assert!(found.is_empty(), "moto CAS on PUT: {found:?}");
}
