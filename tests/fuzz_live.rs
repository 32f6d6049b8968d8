//! Checking a campaign as it goes (docs/checker.md §10): snapshots taken while the writers run
//! (ops in flight as unanswered) show only anomalies the whole run shows, the watcher sees an
//! injected fault before the campaign ends, and the final verdict is the whole history's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use s3conform::bench::{Bug, GenConfig, generate_seeded};
use s3conform::campaign::Campaign;
use s3conform::check::{CheckOptions, CheckReport, Verdict, check_history};
use s3conform::embedded::{self, Embedded};
use s3conform::fuzz::{Counters, Mix, PrefixChecker, Recording, Watch};
use s3conform::history::{History, read_history, write_history};
use s3conform::s3::RunPrefix;
use s3conform::server::{Fault, ServerConfig};

async fn watched(faults: &[Fault], seed: u64) -> (History, Vec<History>, Option<String>) {
    let config = ServerConfig {
        faults: faults.iter().copied().collect(),
        ..ServerConfig::default()
    };
    let Embedded { session, server } = embedded::start(config, "live", RunPrefix::fresh())
        .await
        .unwrap();
    let campaign = Campaign {
        seed,
        writers: 16,
        keys: 2,
        ops: 2000,
        duration: None,
        mix: Mix::default(),
    };
    let recording = Arc::new(Recording::default());
    let watch = Watch::start(recording.clone(), CheckOptions::default());
    let done = Arc::new(AtomicBool::new(false));
    let snapper = {
        let (recording, done) = (recording.clone(), done.clone());
        tokio::spawn(async move {
            let mut snaps = Vec::new();
            while !done.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(150)).await;
                snaps.push(recording.snapshot());
            }
            snaps
        })
    };
    let history = campaign
        .run_recorded(&session, Arc::new(Counters::default()), recording)
        .await
        .unwrap();
    done.store(true, Ordering::Relaxed);
    let seen = watch.stop().filter(|s| s.anomalies > 0).map(|s| s.line());
    server.shutdown().await;
    (history, snapper.await.unwrap(), seen)
}

fn anomalous(h: &History) -> bool {
    matches!(
        check_history(h, &CheckOptions::default()).verdict(),
        Verdict::Anomalous(_)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_prefix_shows_only_anomalies_of_the_whole_run() {
    // Campaigns measure races: none beside another timed test.
    let _one = crate::support::TIMED.lock().await;
    for (faults, seed) in [
        (vec![], 31),
        (vec![Fault::WriteThen500], 32),
        (vec![Fault::IgnoreIfMatch], 33),
    ] {
        let (history, snaps, seen) = watched(&faults, seed).await;
        assert!(snaps.len() >= 2, "{faults:?}: {} snapshots", snaps.len());
        let whole = check_history(&history, &CheckOptions::default()).verdict();
        // The final verdict is the whole history's, as a file re-checked later sees it.
        let again = read_history_bytes(&write_history(Vec::new(), &history).unwrap());
        assert_eq!(
            check_history(&again, &CheckOptions::default()).verdict(),
            whole
        );
        let whole_anomalous = matches!(whole, Verdict::Anomalous(_));
        // Re-checking only the keys that saw a new op gives what checking it all gives.
        let mut prefixes = PrefixChecker::default();
        for (i, snap) in snaps.iter().enumerate() {
            assert_eq!(
                timeless(prefixes.check(snap, &CheckOptions::default(), &AtomicBool::new(false))),
                timeless(check_history(snap, &CheckOptions::default())),
                "{faults:?}: snapshot {i}"
            );
        }
        for (i, snap) in snaps.iter().enumerate() {
            // Ops in flight are unanswered in a snapshot: a fault-free run with lost answers
            // (500 after the write) must never look anomalous in any prefix.
            if anomalous(snap) {
                assert!(
                    whole_anomalous,
                    "{faults:?}: snapshot {i} ({} ops) is anomalous but the whole run is {whole:?}",
                    snap.ops.len()
                );
            }
        }
        if faults.contains(&Fault::IgnoreIfMatch) {
            assert!(whole_anomalous, "{whole:?}");
            assert!(
                seen.is_some() || snaps.iter().any(anomalous),
                "the fault was not seen while the campaign ran"
            );
        } else {
            assert_eq!(whole, Verdict::Linearizable, "{faults:?}");
            assert_eq!(seen, None);
        }
    }
}

fn read_history_bytes(bytes: &[u8]) -> History {
    let path = std::env::temp_dir().join(format!("s3conform-live-{}.jsonl", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let h = read_history(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    h
}

/// A report without its timings, which differ from run to run.
fn timeless(mut r: CheckReport) -> CheckReport {
    r.elapsed_ms = 0.0;
    for k in &mut r.keys {
        k.elapsed_ms = 0.0;
    }
    r
}

#[test]
fn snapshots_re_check_only_the_keys_with_new_ops_and_agree_with_a_whole_check() {
    // Eight keys with a lost update each, recorded key after key, some ops left in flight
    // across snapshots: most snapshots change one key, and the rest carry over.
    let h = generate_seeded(
        &GenConfig {
            keys: 8,
            ops: 150,
            bug: Some(Bug::LostUpdate),
            ..GenConfig::default()
        },
        5,
    );
    let mut ops = h.ops.clone();
    ops.sort_by_key(|o| (o.key.clone(), o.call_ns));
    let recording = Recording::default();
    let mut prefixes = PrefixChecker::default();
    let opts = CheckOptions::default();
    let mut reused = 0;
    let mut open: Vec<(u64, s3conform::history::Op)> = Vec::new();
    for (n, chunk) in ops.chunks(40).enumerate() {
        for op in chunk {
            let token = recording.begin(op.clone());
            open.push((token, op.clone()));
        }
        // Leave the chunk's last two ops in flight until the next chunk.
        let keep = open.len().saturating_sub(2);
        for (token, op) in open.drain(..keep) {
            recording.finish(token, op);
        }
        let snap = recording.snapshot();
        let mine = prefixes.check(&snap, &opts, &AtomicBool::new(false));
        reused += prefixes.reused_ops;
        assert_eq!(
            timeless(mine),
            timeless(check_history(&snap, &opts)),
            "snapshot {n}"
        );
    }
    assert!(reused > 1000, "only {reused} ops re-used");
    let whole = prefixes.check(&recording.snapshot(), &opts, &AtomicBool::new(false));
    assert!(matches!(whole.verdict(), Verdict::Anomalous(_)));
}
