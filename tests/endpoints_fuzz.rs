//! Fuzz campaigns against third-party S3 servers. Every server gets the default mix (what
//! `s3conform fuzz` runs with no `--mix`: conditional reads, copies and multipart included);
//! the narrower mixes are extra campaigns aimed at one race. Every assertion is about what the
//! server did, and only what holds run after run: an anomaly is asserted where a few seeds
//! find it reliably (and its witness was read and found true), "no anomaly" only where no run
//! ever found one.

use crate::support;

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

/// Conditional CompleteMultipartUploads racing conditional PUTs on one key, with deletes so
/// that creates keep racing: a store whose multipart completion skips the per-key
/// serialization its PUTs get lets both racers win.
fn cmu_vs_put_mix() -> Mix {
    "multipart=45,create=45,delete=10".parse().unwrap()
}

/// The shape of one campaign.
struct Shape {
    writers: usize,
    ops: u64,
    keys: u8,
    mix: Mix,
}

/// The default mix over 2 keys (so that copies go from one key to the other), as
/// `s3conform fuzz` runs it, cut to seconds.
fn default_shape(writers: usize) -> Shape {
    Shape {
        writers,
        ops: 1000,
        keys: 2,
        mix: Mix::default(),
    }
}

/// One of the narrow mixes on one key.
fn one_key(mix: Mix) -> Shape {
    Shape {
        writers: 16,
        ops: 1000,
        keys: 1,
        mix,
    }
}

async fn campaign(ep: &endpoints::Endpoint, seed: u64, shape: &Shape) -> Vec<AnomalyKind> {
    try_campaign(ep, seed, shape)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A campaign on a server that sometimes stops answering under load (LocalStack 2026.3.0 leaves
/// racing requests unanswered until the run is declared stuck): one retry of the same seed, and
/// a second failure fails the test. A campaign that did not run proves nothing either way.
async fn campaign_retrying(ep: &endpoints::Endpoint, seed: u64, shape: &Shape) -> Vec<AnomalyKind> {
    match try_campaign(ep, seed, shape).await {
        Ok(found) => found,
        Err(e) => {
            eprintln!(
                "{} seed {seed} did not run to a verdict ({e}); once more",
                ep.kind.label()
            );
            campaign(ep, seed, shape).await
        }
    }
}

async fn try_campaign(
    ep: &endpoints::Endpoint,
    seed: u64,
    shape: &Shape,
) -> Result<Vec<AnomalyKind>, String> {
    let started = std::time::Instant::now();
    let history =
        endpoints::drive_campaign(ep, seed, shape.writers, shape.ops, shape.keys, &shape.mix)
            .await?;
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
    Ok(match verdict {
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
    })
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

/// Runs campaigns with successive seeds, each on a fresh server, until one finds any of
/// `wanted`, up to `tries`; returns every kind found, or `None` when the server is skipped.
async fn find(
    kind: Kind,
    first_seed: u64,
    tries: u64,
    shape: &Shape,
    wanted: &[AnomalyKind],
) -> Option<Vec<AnomalyKind>> {
    let mut all = Vec::new();
    for seed in first_seed..first_seed + tries {
        // A fresh server per campaign: s3rver 3.7.1 has been seen to exit under 16 racing
        // writers, and a campaign should not inherit another's wreckage.
        let ep = endpoints::start(kind).await?;
        let found = campaign(&ep, seed, shape).await;
        let hit = found.iter().any(|k| wanted.contains(k));
        all.extend(found);
        if hit {
            break;
        }
    }
    Some(all)
}

/// s3s-fs 0.14 creates with a check then a write: two racing `If-None-Match: *` PUTs both
/// win. The default mix shows it in its first campaign; up to 4 seeds are allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3s_fs_double_create_is_found() {
    let _one = support::TIMED.lock().await;
    let wanted = [AnomalyKind::DoubleCreate];
    let Some(found) = find(Kind::S3sFs, 7101, 4, &default_shape(16), &wanted).await else {
        return;
    };
    assert!(
        found.contains(&AnomalyKind::DoubleCreate),
        "s3s-fs races creates, yet no double create: {found:?}"
    );
}

/// s3s-fs 0.14 writes objects in place: a read racing a write returns one write's ETag with
/// another's body (a garbage read). Creates racing deletes show it in every campaign; there,
/// the torn objects also hide the double creates behind them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3s_fs_torn_objects_are_found() {
    let _one = support::TIMED.lock().await;
    let wanted = [AnomalyKind::GarbageRead];
    let shape = Shape {
        ops: 2000,
        ..one_key(create_race_mix())
    };
    let Some(found) = find(Kind::S3sFs, 11, 3, &shape, &wanted).await else {
        return;
    };
    assert!(
        found.contains(&AnomalyKind::GarbageRead),
        "s3s-fs tears objects under races, yet: {found:?}"
    );
}

#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3rver_anomalies_are_found() {
    let _one = support::TIMED.lock().await;
    let Some(creates) = find(
        Kind::S3rver,
        21,
        4,
        &Shape {
            ops: 2000,
            ..one_key(create_race_mix())
        },
        &[AnomalyKind::DoubleCreate],
    )
    .await
    else {
        return;
    };
    assert!(
        creates.contains(&AnomalyKind::DoubleCreate),
        "s3rver ignores If-None-Match, yet: {creates:?}"
    );
    let cas = Shape {
        ops: 2000,
        ..one_key(cas_mix())
    };
    let Some(cas) = find(Kind::S3rver, 31, 4, &cas, &[AnomalyKind::LostUpdate]).await else {
        return;
    };
    assert!(
        cas.contains(&AnomalyKind::LostUpdate),
        "s3rver ignores If-Match, yet: {cas:?}"
    );
}

/// s3rver 3.7.1 ignores `If-None-Match: *` altogether: the default mix's creates all win.
#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3rver_default_mix_finds_double_creates() {
    let _one = support::TIMED.lock().await;
    let wanted = [AnomalyKind::DoubleCreate];
    let Some(found) = find(Kind::S3rver, 7101, 3, &default_shape(16), &wanted).await else {
        return;
    };
    assert!(
        found.contains(&AnomalyKind::DoubleCreate),
        "s3rver ignores If-None-Match, yet: {found:?}"
    );
}

/// SeaweedFS 4.48 serializes conditional PUTs but not conditional CompleteMultipartUploads: a
/// `CompleteMultipartUpload If-None-Match: *` succeeds on a key another create has just
/// written, and a `CompleteMultipartUpload If-Match: E` succeeds beside a PUT or DELETE
/// `If-Match: E` that also succeeded. Every anomaly its campaigns name is that one violation
/// seen from a different side: two creates that both won (double create), two updates of one
/// version that both won (lost update), or a later `If-Match` on the second winner's ETag
/// showing the first winner's write replaced (lost acknowledged write); the search names it
/// non-linearizable where the pattern detectors miss it.
const MULTIPART_RACES: [AnomalyKind; 4] = [
    AnomalyKind::DoubleCreate,
    AnomalyKind::LostUpdate,
    AnomalyKind::LostAcknowledgedWrite,
    AnomalyKind::NonLinearizable,
];

#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seaweedfs_put_only_races_are_linearizable() {
    let _one = support::TIMED.lock().await;
    let Some(ep) = endpoints::start(Kind::SeaweedFs).await else {
        return;
    };
    for (seed, mix) in [(31, create_race_mix()), (32, cas_mix())] {
        let shape = Shape {
            ops: 2000,
            ..one_key(mix)
        };
        let found = campaign(&ep, seed, &shape).await;
        assert!(found.is_empty(), "seaweedfs seed {seed}: {found:?}");
    }
}

/// The default mix meets the same race: its conditional multipart completions race its
/// conditional PUTs and deletes, and both win. A campaign finds it in most runs.
#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seaweedfs_default_mix_finds_racing_creates() {
    let _one = support::TIMED.lock().await;
    let shape = default_shape(16);
    let Some(found) = find(Kind::SeaweedFs, 7101, 6, &shape, &MULTIPART_RACES).await else {
        return;
    };
    assert!(
        found.iter().any(|k| MULTIPART_RACES.contains(k)),
        "seaweedfs default mix: {found:?}"
    );
}

#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seaweedfs_multipart_and_put_creates_both_win() {
    let _one = support::TIMED.lock().await;
    let Some(found) = find(
        Kind::SeaweedFs,
        7201,
        4,
        &one_key(cmu_vs_put_mix()),
        &MULTIPART_RACES,
    )
    .await
    else {
        return;
    };
    assert!(
        found.iter().any(|k| MULTIPART_RACES.contains(k)),
        "seaweedfs conditional CompleteMultipartUpload vs PUT: {found:?}"
    );
}

#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn localstack_is_linearizable() {
    let _one = support::TIMED.lock().await;
    let Some(ep) = endpoints::start(Kind::LocalStack).await else {
        return;
    };
    // 4 writers: with 8 or more, LocalStack 2026.3.0 leaves most racing `If-None-Match: *` PUTs
    // unanswered (650 of 1000 timed out at 8 writers), and with 16 it also breaks GETs that
    // race an overwrite ("I/O operation on closed file" in its ephemeral storage). Those are
    // recorded as ambiguous, never as anomalies, but they make the campaign slow.
    for (seed, mix) in [(41, create_race_mix()), (42, cas_mix())] {
        let ops = if seed == 41 { 200 } else { 1000 };
        let shape = Shape {
            writers: 4,
            ops,
            ..one_key(mix)
        };
        let found = campaign_retrying(&ep, seed, &shape).await;
        assert!(found.is_empty(), "localstack seed {seed}: {found:?}");
    }
}

/// LocalStack 2026.3.0 under the default mix, at the 4 writers it can take: the campaign must
/// run and the checker must reach a verdict. What it finds is printed, not asserted: a
/// CopyObject answered 412 that still overwrote its destination's bytes (true, but only in
/// some runs), beside GET/HEAD `If-None-Match: *` answered 200 on an existing object, a status
/// convention that moto and Ceph RGW share, which is not an anomaly.
#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn localstack_default_mix_reaches_a_verdict() {
    let _one = support::TIMED.lock().await;
    let Some(ep) = endpoints::start(Kind::LocalStack).await else {
        return;
    };
    let shape = Shape {
        ops: 200,
        ..default_shape(4)
    };
    let found = campaign_retrying(&ep, 7101, &shape).await;
    eprintln!("localstack default mix: {found:?}");
}

#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moto_plain_put_races_are_linearizable_at_low_load() {
    let _one = support::TIMED.lock().await;
    let Some(ep) = endpoints::start(Kind::Moto).await else {
        return;
    };
    let found = campaign(&ep, 51, &one_key(cas_mix())).await;
    assert!(found.is_empty(), "moto CAS on PUT: {found:?}");
}

/// moto 5.2.5 ignores CopyObject's destination preconditions: a copy with
/// `If-None-Match: *` overwrites an existing destination, and the default mix's copies show it
/// as a double create.
#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moto_default_mix_finds_copies_overwriting() {
    let _one = support::TIMED.lock().await;
    let wanted = [AnomalyKind::DoubleCreate];
    let Some(found) = find(Kind::Moto, 7101, 3, &default_shape(16), &wanted).await else {
        return;
    };
    assert!(
        found.contains(&AnomalyKind::DoubleCreate),
        "moto ignores copy destination conditions, yet: {found:?}"
    );
}
