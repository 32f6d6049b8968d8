//! Fuzz campaigns against third-party S3 servers: the checker must find the anomalies real
//! servers have (double create on s3s-fs and s3rver, lost update on s3rver) and find nothing on
//! servers that are atomic. Every assertion is about what the server did.

mod support;

use s3conform::check::{self, AnomalyKind, CheckOptions, Verdict};
use s3conform::fuzz::Mix;
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
    let started = std::time::Instant::now();
    let history = endpoints::drive_campaign(ep, seed, writers, ops, keys, mix)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let saved = std::env::temp_dir().join(format!("s3conform-{}-{seed}.jsonl", ep.kind.label()));
    if let Ok(file) = std::fs::File::create(&saved) {
        let _ = s3conform::history::write_history(std::io::BufWriter::new(file), &history);
        eprintln!(
            "history of {} seed {seed}: {}",
            ep.kind.label(),
            saved.display()
        );
    }
    eprintln!(
        "{} seed {seed}: drove {} ops in {:.1} s",
        ep.kind.label(),
        history.ops.len(),
        started.elapsed().as_secs_f64()
    );
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

/// One server at a time: the campaigns measure races, and two campaigns sharing 2 cores would
/// measure each other.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs campaigns with successive seeds until one finds `kind`, up to `tries`.
async fn find(
    kind: Kind,
    first_seed: u64,
    tries: u64,
    mix: &Mix,
    wanted: AnomalyKind,
) -> Option<Vec<AnomalyKind>> {
    let mut all = Vec::new();
    for seed in first_seed..first_seed + tries {
        // A fresh server per campaign: s3rver 3.7.1 has been seen to exit under 16 racing
        // writers, and a campaign should not inherit another's wreckage.
        let ep = endpoints::start(kind).await?;
        let found = campaign(&ep, seed, 16, 2000, 1, mix).await;
        let hit = found.contains(&wanted);
        all.extend(found);
        if hit {
            break;
        }
    }
    Some(all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3s_fs_double_create_is_found() {
    let _one = SERIAL.lock().await;
    let Some(found) = find(
        Kind::S3sFs,
        11,
        4,
        &create_race_mix(),
        AnomalyKind::DoubleCreate,
    )
    .await
    else {
        return;
    };
    assert!(
        found.contains(&AnomalyKind::DoubleCreate),
        "s3s-fs races creates, yet no double create: {found:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3rver_anomalies_are_found() {
    let _one = SERIAL.lock().await;
    let Some(creates) = find(
        Kind::S3rver,
        21,
        4,
        &create_race_mix(),
        AnomalyKind::DoubleCreate,
    )
    .await
    else {
        return;
    };
    assert!(
        creates.contains(&AnomalyKind::DoubleCreate),
        "s3rver ignores If-None-Match, yet: {creates:?}"
    );
    let Some(cas) = find(Kind::S3rver, 31, 4, &cas_mix(), AnomalyKind::LostUpdate).await else {
        return;
    };
    assert!(
        cas.contains(&AnomalyKind::LostUpdate),
        "s3rver ignores If-Match, yet: {cas:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seaweedfs_is_linearizable() {
    let _one = SERIAL.lock().await;
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
    let _one = SERIAL.lock().await;
    let Some(ep) = endpoints::start(Kind::LocalStack).await else {
        return;
    };
    // 4 writers: with 8 or more, LocalStack 2026.3.0 leaves most racing `If-None-Match: *` PUTs
    // unanswered (650 of 1000 timed out at 8 writers), and with 16 it also breaks GETs that
    // race an overwrite ("I/O operation on closed file" in its ephemeral storage). Those are
    // recorded as ambiguous, never as anomalies, but they make the campaign slow.
    for (seed, mix) in [(41, create_race_mix()), (42, cas_mix())] {
        let ops = if seed == 41 { 200 } else { 1000 };
        let found = campaign(&ep, seed, 4, ops, 1, &mix).await;
        assert!(found.is_empty(), "localstack seed {seed}: {found:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moto_plain_put_races_are_linearizable_at_low_load() {
    let _one = SERIAL.lock().await;
    let Some(ep) = endpoints::start(Kind::Moto).await else {
        return;
    };
    let found = campaign(&ep, 51, 16, 1000, 1, &cas_mix()).await;
    assert!(found.is_empty(), "moto CAS on PUT: {found:?}");
}
