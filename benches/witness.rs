//! Witness latency: an illegal history of 8 clients × 2000 ops (a lost update), checked, then
//! its witnesses made (grouped, shrunk, re-checked) and rendered as `check` prints them. Prints
//! the median and spread of the check and of the shrink + render step over several rounds.
//!
//! `cargo bench --bench witness` (add `-- --quick` for fewer rounds).
//!
//! `cargo bench --bench witness -- FILE.jsonl...` times recorded histories instead (a fuzz
//! campaign's `--history`, a `bench --emit` file): each step of what `check FILE` does after
//! starting (read, check, rebuild the shown ops, witnesses, render) and each witness's shrink
//! on its own, with how it was shrunk, in how many checks, and whether it is minimal.

use std::path::Path;
use std::time::Instant;

use s3conform::bench::{Bug, GenConfig, generate_seeded};
use s3conform::check::shrink::{Work, shrink_within};
use s3conform::check::{
    CheckOptions, WitnessOptions, check_history, check_ops, render, witness, witnesses,
};
use s3conform::history::read_compact;

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

/// The steps of `check FILE` after the process starts, medians over `rounds`, then each
/// witness's shrink.
fn file(path: &Path, rounds: usize) {
    let opts = CheckOptions::default();
    let mut steps: [Vec<f64>; 5] = Default::default();
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    for _ in 0..rounds {
        let t = Instant::now();
        let compact = read_compact(path).expect("a readable history");
        steps[0].push(ms(t));
        let t = Instant::now();
        let report = check_ops(&compact, &opts);
        steps[1].push(ms(t));
        let t = Instant::now();
        let history = compact.to_history();
        drop(compact);
        steps[2].push(ms(t));
        let t = Instant::now();
        let found = witnesses(
            &history,
            &report,
            &WitnessOptions {
                shrink: true,
                check: opts,
            },
        );
        steps[3].push(ms(t));
        let t = Instant::now();
        let text: String = found.iter().map(|w| render::witness(&history, w)).collect();
        std::hint::black_box(text);
        steps[4].push(ms(t));
    }
    let [read, check, rebuild, shrink, show] = steps.map(median);
    println!(
        "{}: medians of {rounds}: read {:.2} ms, check {:.2}, rebuild ops {:.2}, witnesses {:.2} ({:.2}–{:.2}), render {:.2}",
        path.display(),
        read.1,
        check.1,
        rebuild.1,
        shrink.1,
        shrink.0,
        shrink.2,
        show.1
    );
    let history = read_compact(path).expect("a readable history").to_history();
    let report = check_history(&history, &opts);
    let found = witnesses(
        &history,
        &report,
        &WitnessOptions {
            shrink: false,
            check: opts,
        },
    );
    let mut work = Work::default();
    for w in &found {
        let t = Instant::now();
        let s = shrink_within(&history, &w.anomaly, &opts, &mut work);
        println!(
            "  {:<40} {:>8.2} ms  {:?}, {} checks, {} -> {} ops{}",
            witness::Witness::name(w),
            ms(t),
            s.method,
            s.checks,
            history.ops.len(),
            s.history.ops.len(),
            if s.complete { "" } else { ", budget ran out" }
        );
    }
}

fn main() {
    let rounds = if std::env::args().any(|a| a == "--quick") {
        5
    } else {
        21
    };
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a.ends_with(".jsonl"))
        .collect();
    if !files.is_empty() {
        for f in &files {
            file(Path::new(f), rounds);
        }
        return;
    }
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
