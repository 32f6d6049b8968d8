//! `s3conform bench`: the checker benchmark (docs/checker.md §9).
//!
//! Generates histories from the in-memory linearizable model (with and without injected bugs)
//! across writers, ops per key, ambiguous and blind-write rates, checks each, and prints per
//! class the median check time, ops/s, peak memory, Unknown count and detection rate.
//! `--emit DIR` writes the histories as JSONL so other checkers can run on the same files.
//!
//! The user-path table ([`crate::bench::user_path`]) writes histories to disk and times
//! `s3conform check FILE` on them as a child process: what a user waits for, reading included.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::bench::user_path::{self, UserPathError};
use crate::bench::{Bug, GenConfig, generate_seeded};
use crate::check::{CheckOptions, KeyVerdict, Tier, Verdict, check_history};
use crate::exit_code;
use crate::history::{HistoryError, write_history};

/// Arguments of `s3conform bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// A reduced matrix that finishes in well under a minute (for CI).
    #[arg(long)]
    pub quick: bool,
    /// Write every generated history (first repetition of each class) as JSONL into DIR.
    #[arg(long, value_name = "DIR")]
    pub emit: Option<PathBuf>,
    /// Base seed; repetition r of a class uses seed + r.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Repetitions per class (the median is reported), 1 to 1000; default 3, or 1 for
    /// 10^6-op classes, in the checker table; 7, or 3 for 10^6 ops, in the user-path table.
    #[arg(
        long,
        value_parser = clap::builder::TypedValueParser::map(
            clap::value_parser!(u64).range(1..=1000),
            |v| v as usize
        )
    )]
    pub reps: Option<usize>,
    /// Time budget per check.
    #[arg(long, default_value = "60s", value_parser = crate::duration::parse_flag)]
    pub time_budget: Duration,
    /// Run one table only: `io` (files on disk checked by `s3conform check` as a process) or
    /// `checker` (the in-memory checker matrix); default both.
    #[arg(long, value_enum)]
    pub only: Option<Table>,
}

/// The two tables of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Table {
    /// Histories on disk, checked by `s3conform check FILE` as a child process.
    Io,
    /// The in-memory checker matrix.
    Checker,
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("failed to write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    UserPath(#[from] UserPathError),
}

/// One benchmark class.
#[derive(Debug, Clone)]
pub struct Class {
    pub writers: usize,
    pub ops: usize,
    pub ambiguous: f64,
    pub blind: f64,
    pub bug: Option<Bug>,
}

/// The measured result of one class.
#[derive(Debug, Clone)]
pub struct Row {
    pub class: Class,
    pub median_ms: f64,
    pub ops_per_s: f64,
    pub peak_rss_mb: f64,
    pub check_mb: f64,
    pub unknown: usize,
    pub by_search: usize,
    pub reps: usize,
    /// Repetitions in which the bug found an opportunity (the history differs from the
    /// bug-free one with the same seed).
    pub injected: usize,
    pub detected: usize,
    pub named: usize,
    pub witness_ops: usize,
}

/// The classes of the full or quick matrix.
pub fn classes(quick: bool) -> Vec<Class> {
    let c = |writers, ops, ambiguous, blind, bug| Class {
        writers,
        ops,
        ambiguous,
        blind,
        bug,
    };
    let mut v = Vec::new();
    let sizes: &[usize] = if quick {
        &[1_000, 10_000, 100_000]
    } else {
        &[1_000, 10_000, 100_000, 1_000_000]
    };
    for &n in sizes {
        v.push(c(8, n, 0.0, 0.0, None));
    }
    let wide = if quick { 10_000 } else { 100_000 };
    for w in [4, 16, 32, 64] {
        v.push(c(w, wide, 0.0, 0.0, None));
    }
    if !quick {
        v.push(c(32, 1_000_000, 0.0, 0.0, None));
        v.push(c(64, 1_000_000, 0.0, 0.0, None));
    }
    for amb in [0.01, 0.05] {
        for w in [8, 32] {
            v.push(c(w, wide, amb, 0.0, None));
        }
    }
    for w in [8, 32] {
        v.push(c(w, wide, 0.0, 0.1, None));
        v.push(c(w, wide, 0.01, 0.1, None));
    }
    if !quick {
        v.push(c(32, 1_000_000, 0.01, 0.0, None));
        v.push(c(32, 1_000_000, 0.05, 0.1, None));
    }
    let bug_ops = if quick { 1_000 } else { 10_000 };
    for bug in Bug::ALL {
        for w in [8, 32] {
            v.push(c(
                w,
                bug_ops,
                0.0,
                if bug == Bug::LostAckWrite { 0.1 } else { 0.0 },
                Some(bug),
            ));
        }
    }
    v
}

fn config(class: &Class) -> GenConfig {
    GenConfig {
        writers: class.writers,
        ops: class.ops,
        keys: 1,
        ambiguous_rate: class.ambiguous,
        blind_rate: class.blind,
        delete_rate: if class.bug == Some(Bug::Resurrection) {
            0.15
        } else {
            0.0
        },
        create_rate: if class.bug == Some(Bug::DoubleCreate) {
            0.1
        } else {
            0.02
        },
        bug: class.bug,
        ..GenConfig::default()
    }
}

/// Peak resident set size in MB since the last reset (Linux; 0 elsewhere).
fn vm_hwm_mb() -> f64 {
    read_status_kb("VmHWM:") / 1024.0
}

fn vm_rss_mb() -> f64 {
    read_status_kb("VmRSS:") / 1024.0
}

fn read_status_kb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

/// Resets the kernel's peak-RSS counter so each class measures its own peak.
fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

/// Runs one class.
pub fn run_class(
    class: &Class,
    seed: u64,
    reps: usize,
    time_budget: Duration,
    emit: Option<&PathBuf>,
) -> Result<Row, BenchError> {
    let mut times = Vec::new();
    let mut row = Row {
        class: class.clone(),
        median_ms: 0.0,
        ops_per_s: 0.0,
        peak_rss_mb: 0.0,
        check_mb: 0.0,
        unknown: 0,
        by_search: 0,
        reps,
        injected: 0,
        detected: 0,
        named: 0,
        witness_ops: 0,
    };
    let opts = CheckOptions {
        time_budget,
        ..CheckOptions::default()
    };
    let cfg = config(class);
    for r in 0..reps {
        let history = generate_seeded(&cfg, seed + r as u64);
        if class.bug.is_some() {
            let clean = generate_seeded(
                &GenConfig {
                    bug: None,
                    ..cfg.clone()
                },
                seed + r as u64,
            );
            if clean.ops == history.ops {
                continue;
            }
            row.injected += 1;
        }
        if r == 0
            && let Some(dir) = emit
        {
            std::fs::create_dir_all(dir).map_err(|source| BenchError::Write {
                path: dir.clone(),
                source,
            })?;
            let name = format!(
                "w{}-n{}-a{}-b{}-{}-s{}.jsonl",
                class.writers,
                class.ops,
                (class.ambiguous * 100.0).round(),
                (class.blind * 100.0).round(),
                class.bug.map_or("ok", |b| b.name()),
                seed
            );
            let path = dir.join(name);
            let file = std::fs::File::create(&path).map_err(|source| BenchError::Write {
                path: path.clone(),
                source,
            })?;
            write_history(std::io::BufWriter::new(file), &history)?;
        }
        if r == 0 && class.ops <= 100_000 {
            // Warm-up: the first check of a size pays the page faults of fresh memory, which
            // says more about the order of the classes than about the checker.
            let _ = check_history(&history, &opts);
        }
        let before = vm_rss_mb();
        reset_hwm();
        let start = Instant::now();
        let report = check_history(&history, &opts);
        times.push(start.elapsed().as_secs_f64() * 1e3);
        let hwm = vm_hwm_mb();
        row.peak_rss_mb = row.peak_rss_mb.max(hwm);
        row.check_mb = row.check_mb.max(hwm - before);
        row.unknown += report
            .keys
            .iter()
            .filter(|k| matches!(k.verdict, KeyVerdict::Unknown { .. }))
            .count();
        row.by_search += report
            .keys
            .iter()
            .filter(|k| k.decided_by == Some(Tier::Search))
            .count();
        if let Verdict::Anomalous(a) = report.verdict() {
            row.detected += 1;
            if let Some(hit) = class
                .bug
                .and_then(|b| a.iter().find(|x| x.kind == b.expected()))
            {
                row.named += 1;
                row.witness_ops = row.witness_ops.max(hit.ops.len());
            }
        }
    }
    row.median_ms = median(&mut times);
    row.ops_per_s = class.ops as f64 / (row.median_ms / 1e3).max(1e-9);
    Ok(row)
}

fn pct(x: f64) -> String {
    format!("{}%", (x * 100.0).round())
}

/// Formats a row as a Markdown table line.
pub fn format_row(r: &Row) -> String {
    let c = &r.class;
    let detection = match c.bug {
        Some(_) if r.injected == 0 => "no opportunity to inject".to_string(),
        Some(_) => format!(
            "{}/{} detected, {} named right, witness ≤ {} ops",
            r.detected, r.injected, r.named, r.witness_ops
        ),
        None => format!("{} false alarms", r.detected),
    };
    let measured = c.bug.is_none() || r.injected > 0;
    let num = |v: f64, prec: usize| {
        if measured {
            format!("{v:.prec$}")
        } else {
            "-".to_string()
        }
    };
    format!(
        "| {:>3} | {:>9} | {:>4} | {:>4} | {:<23} | {:>10} | {:>12} | {:>8} | {:>8} | {:>3} | {:>4} | {} |",
        c.writers,
        c.ops,
        pct(c.ambiguous),
        pct(c.blind),
        c.bug.map_or("-", |b| b.name()),
        num(r.median_ms, 2),
        num(r.ops_per_s, 0),
        num(r.peak_rss_mb, 1),
        num(r.check_mb, 1),
        r.unknown,
        r.by_search,
        detection
    )
}

/// The table header.
pub const HEADER: &str = "| wr  | ops/key   | amb  | blnd | bug                     | median ms  | ops/s        | peak MB  | check MB | unk | srch | detection |\n|-----|-----------|------|------|-------------------------|------------|--------------|----------|----------|-----|------|-----------|";

/// Where the user-path histories go: `--emit DIR`, or a folder under the results folder that is
/// removed afterwards.
fn io_dir(args: &BenchArgs) -> (PathBuf, bool) {
    match &args.emit {
        Some(dir) => (dir.clone(), true),
        None => (
            PathBuf::from(crate::report::outdir::DEFAULT_ROOT).join("bench-io"),
            false,
        ),
    }
}

/// Reads a history file the way `s3conform check` does, for the in-process read columns: the
/// bytes the read history is held in.
fn read_like_check(path: &std::path::Path) -> Result<usize, HistoryError> {
    crate::history::read_compact(path).map(|h| h.heap_bytes())
}

/// Runs the user-path table; true when a run's exit code was not the expected verdict's.
fn run_io(args: &BenchArgs, out: &mut dyn Write) -> Result<bool, BenchError> {
    let io = |source| BenchError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    };
    let (dir, keep) = io_dir(args);
    writeln!(
        out,
        "s3conform bench, user path{}: seed {}; each history written to {} and checked by `s3conform check FILE` as a child process (after one unmeasured run); peak RSS = the child's ru_maxrss (\"≤\" when it is not above the benchmark's own resident size at spawn, which Linux folds in); check itself = the time the child's summary line reports; read = reading the file in-process into what check checks; load average at start {}",
        if args.quick { " --quick" } else { "" },
        args.seed,
        dir.display(),
        user_path::load_average()
    )
    .map_err(io)?;
    out.flush().map_err(io)?;
    let mut rows = Vec::new();
    let mut bad = false;
    for class in user_path::io_classes(args.quick) {
        let reps = args
            .reps
            .unwrap_or(if class.ops() >= 1_000_000 { 3 } else { 7 });
        let row = user_path::run_io_class(&class, args.seed, reps, &dir, &read_like_check)?;
        bad |= row.failed();
        rows.push(row);
    }
    writeln!(out, "{}", user_path::table(&rows)).map_err(io)?;
    writeln!(out, "load average at end {}", user_path::load_average()).map_err(io)?;
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(bad)
}

/// Runs the benchmark and prints the table; exit 1 if a clean history got an anomaly or an
/// injected bug went undetected, so CI notices a regression.
pub fn run(args: &BenchArgs) -> Result<u8, BenchError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let io = |source| BenchError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    };
    let mut bad = false;
    if args.only != Some(Table::Checker) {
        bad |= run_io(args, &mut out)?;
    }
    if args.only == Some(Table::Io) {
        return Ok(if bad {
            exit_code::FAILURE
        } else {
            exit_code::SUCCESS
        });
    }
    writeln!(out, "s3conform bench{}: seed {}; median check time over the repetitions (after one warm-up check for classes up to 10^5 ops); peak MB = process peak RSS during the check, the in-memory history included; check MB = RSS growth during the check; srch = keys decided by the Tier 2 search", if args.quick { " --quick" } else { "" }, args.seed).map_err(io)?;
    writeln!(out, "{HEADER}").map_err(io)?;
    for class in classes(args.quick) {
        let reps = args.reps.unwrap_or(if class.ops >= 1_000_000 {
            1
        } else if class.bug.is_some() {
            if args.quick { 5 } else { 10 }
        } else {
            3
        });
        let row = run_class(
            &class,
            args.seed,
            reps,
            args.time_budget,
            args.emit.as_ref(),
        )?;
        // A lost blind write that is overwritten before anyone looks is invisible (and
        // linearizable), so that class only has to be detected at all.
        bad |= match class.bug {
            Some(Bug::LostAckWrite) => row.injected > 0 && row.detected == 0,
            Some(_) => row.detected < row.injected,
            None => row.detected > 0,
        };
        writeln!(out, "{}", format_row(&row)).map_err(io)?;
        out.flush().map_err(io)?;
    }
    Ok(if bad {
        exit_code::FAILURE
    } else {
        exit_code::SUCCESS
    })
}
