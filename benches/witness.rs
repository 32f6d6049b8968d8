//! Witness latency: an illegal history of 8 clients × 2000 ops (a lost update), checked, then
//! its witnesses made (grouped, shrunk, re-checked) and rendered as `check` prints them. Prints
//! the median and spread of the check and of the shrink + render step over several rounds.
//!
//! `cargo bench --bench witness` (add `-- --quick` for fewer rounds).

use std::time::Instant;

use s3conform::bench::{Bug, GenConfig, generate_seeded};
use s3conform::check::{CheckOptions, WitnessOptions, check_history, render, witnesses};

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn main() {
    let rounds = if std::env::args().any(|a| a == "--quick") {
        5
    } else {
        21
    };
    let opts = CheckOptions::default();
    let mut printed = false;
    let others = [
        Bug::DoubleCreate,
        Bug::StaleRead,
        Bug::Phantom304,
        Bug::LostAckWrite,
        Bug::Resurrection,
    ];
    let runs = std::iter::once((Bug::LostUpdate, 0..5u64)).chain(others.map(|b| (b, 0..2u64)));
    for (bug, seeds) in runs {
        for seed in seeds {
            let cfg = GenConfig {
                writers: 8,
                ops: 2000,
                delete_rate: if bug == Bug::Resurrection { 0.15 } else { 0.0 },
                blind_rate: if bug == Bug::LostAckWrite { 0.1 } else { 0.0 },
                create_rate: if bug == Bug::DoubleCreate { 0.1 } else { 0.02 },
                bug: Some(bug),
                ..GenConfig::default()
            };
            let history = generate_seeded(&cfg, seed);
            let (mut check, mut shown) = (Vec::new(), Vec::new());
            let mut lines = 0;
            for _ in 0..rounds {
                let t = Instant::now();
                let report = check_history(&history, &opts);
                check.push(t.elapsed().as_secs_f64() * 1e3);
                let t = Instant::now();
                let found = witnesses(
                    &history,
                    &report,
                    &WitnessOptions {
                        shrink: true,
                        check: opts,
                    },
                );
                let text: String = found.iter().map(|w| render::witness(&history, w)).collect();
                shown.push(t.elapsed().as_secs_f64() * 1e3);
                lines = text.lines().count();
                if !printed && !found.is_empty() {
                    println!("{text}");
                    printed = true;
                }
            }
            let (c0, c, c1) = median(check);
            let (s0, s, s1) = median(shown);
            println!(
                "{bug:?} seed {seed}: {} ops; check median {c:.2} ms ({c0:.2}–{c1:.2}); shrink + render median {s:.2} ms ({s0:.2}–{s1:.2}), {lines} lines",
                history.ops.len()
            );
        }
    }
}
