//! A seed printed by `fuzz`, kept in a report or pasted into a bug ticket must replay the same
//! schedule in every later build. These digests pin the schedules of a few seeds: if one
//! changes, a generator, a sampling routine or the mix changed, and old seeds no longer replay.
//! Change a digest only on purpose, and say so in the release notes.

use md5::{Digest, Md5};
use rand::Rng;
use s3conform::fuzz::Mix;
use s3conform::fuzz::schedule::{Schedule, schedule_rng};

/// MD5 of the schedule's `Debug` form: every action of every writer, in order.
fn digest(schedule: &Schedule) -> String {
    hex::encode(Md5::digest(format!("{schedule:?}").as_bytes()))
}

#[test]
fn seeds_replay_the_pinned_schedules() {
    let pinned: [(u64, usize, usize, u8, &str, &str); 4] = [
        (0, 4, 25, 2, "", "f5a58e0565c3999408b22daaca3bfb4c"),
        (1, 16, 125, 2, "", "da03f6be5bd6f230c5e9abc45acfeab5"),
        (
            7001,
            8,
            50,
            1,
            "create=90,delete=5,read=5",
            "4b5806337c0fc66ba68a9ecc084a73d6",
        ),
        (
            u64::MAX,
            3,
            40,
            5,
            "rmw=80,read=20",
            "6ec8a09bb1745fc18e29d2843028f931",
        ),
    ];
    let mut drift = Vec::new();
    for (seed, writers, per_writer, keys, mix, expected) in pinned {
        let mix: Mix = if mix.is_empty() {
            Mix::default()
        } else {
            mix.parse().unwrap()
        };
        let got = digest(&Schedule::from_seed(seed, writers, per_writer, keys, &mix));
        if got != expected {
            drift.push(format!("seed {seed}: {got} (pinned {expected})"));
        }
    }
    assert!(drift.is_empty(), "schedules changed:\n{}", drift.join("\n"));
}

/// The generator itself, apart from any sampling on top: ChaCha8 keyed by the seed's bytes.
/// The expected words are the first four of the RFC 8439 block function run for 8 rounds with
/// key `42u64.to_le_bytes()` padded with zeros, nonce 0 and counter 0, computed by a separate
/// implementation, so they pin the algorithm, not just this build's output.
#[test]
fn the_generator_is_chacha8_keyed_by_the_seed() {
    let mut rng = schedule_rng(42);
    let words: Vec<u32> = (0..4).map(|_| rng.next_u32()).collect();
    assert_eq!(
        words,
        [428_845_191, 1_495_741_553, 379_451_179, 1_227_066_020]
    );
}
