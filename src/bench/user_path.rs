//! The user's path: histories written to disk in the documented format and checked by
//! `s3conform check FILE` as a separate process, the way a user runs it.
//!
//! Each class is generated once, written as JSON Lines, and then checked by the current
//! executable several times; the table gives the median wall time with its spread, the time
//! the check itself took (the child's own summary line), the child's exact peak RSS, and
//! beside them the in-process figures (reading the file, checking the in-memory history) so a
//! reader can see where the time goes.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

use super::child::{self, ChildError};
use super::generate::{Bug, GenConfig, generate_seeded};
use crate::check::{CheckOptions, check_history};
use crate::history::{History, HistoryError, write_history};

/// One history shape of the user-path table, with its goal.
#[derive(Debug, Clone)]
pub struct IoClass {
    pub label: &'static str,
    pub writers: usize,
    pub keys: usize,
    pub ops_per_key: usize,
    pub ambiguous: f64,
    pub blind: f64,
    pub bug: Option<Bug>,
    /// Process wall-time goal.
    pub goal_ms: Option<f64>,
    /// Process peak-RSS goal.
    pub goal_rss_mb: Option<f64>,
}

impl IoClass {
    pub fn ops(&self) -> usize {
        self.ops_per_key * self.keys
    }

    fn config(&self) -> GenConfig {
        GenConfig {
            writers: self.writers,
            ops: self.ops_per_key,
            keys: self.keys,
            ambiguous_rate: self.ambiguous,
            blind_rate: self.blind,
            bug: self.bug,
            ..GenConfig::default()
        }
    }

    /// The exit code `check` must give: 1 with an injected bug, 0 without.
    fn expected_code(&self) -> i32 {
        if self.bug.is_some() { 1 } else { 0 }
    }
}

/// The classes of the user-path table (`quick`: the small ones only).
pub fn io_classes(quick: bool) -> Vec<IoClass> {
    let c =
        |label, writers, keys, ops_per_key, ambiguous, blind, bug, goal_ms, goal_rss_mb| IoClass {
            label,
            writers,
            keys,
            ops_per_key,
            ambiguous,
            blind,
            bug,
            goal_ms,
            goal_rss_mb,
        };
    let mut v = vec![
        c("8 × 10^5", 8, 1, 100_000, 0.0, 0.0, None, Some(50.0), None),
        c(
            "16 × 10^5",
            16,
            1,
            100_000,
            0.0,
            0.0,
            None,
            Some(100.0),
            None,
        ),
    ];
    if !quick {
        v.push(c(
            "32 × 10^6",
            32,
            1,
            1_000_000,
            0.0,
            0.0,
            None,
            Some(2000.0),
            Some(300.0),
        ));
        v.push(c("4 × 10^6", 4, 1, 1_000_000, 0.0, 0.0, None, None, None));
        v.push(c(
            "32 × 10^6, 5 % amb, 10 % blind",
            32,
            1,
            1_000_000,
            0.05,
            0.1,
            None,
            Some(3000.0),
            None,
        ));
    }
    v.push(c(
        "100 keys × 32 × 10^3",
        32,
        100,
        1_000,
        0.0,
        0.0,
        None,
        Some(100.0),
        None,
    ));
    v.push(c(
        "lost update 8 × 2000, shrunk",
        8,
        1,
        2_000,
        0.0,
        0.0,
        Some(Bug::LostUpdate),
        Some(10.0),
        None,
    ));
    v
}

/// Why the user-path benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum UserPathError {
    #[error("failed to write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Child(#[from] ChildError),
    #[error("cannot find the running executable to start `check` with")]
    Exe(#[source] std::io::Error),
    #[error("no seed from {from} to {to} gives the {bug} bug an opportunity in {label}")]
    NoInjection {
        label: &'static str,
        bug: &'static str,
        from: u64,
        to: u64,
    },
}

/// What one class measured.
#[derive(Debug, Clone)]
pub struct IoRow {
    pub class: IoClass,
    pub file_bytes: u64,
    pub ops: usize,
    /// Process wall times, sorted.
    pub wall_ms: Vec<f64>,
    /// CPU time of the child (user and system), median.
    pub cpu_ms: f64,
    /// The check's own time, as the child reported it (median).
    pub check_ms: f64,
    /// Largest peak RSS of the runs.
    pub peak_rss: u64,
    /// Largest resident size of the benchmark itself at a spawn (the floor of `peak_rss`).
    pub floor_rss: u64,
    /// Reading the file in-process into what `check` checks (median), wall and CPU time.
    pub read_ms: f64,
    pub read_cpu_ms: f64,
    /// The bytes the read history is held in (the compact form `check` checks).
    pub held_bytes: usize,
    /// `check_history` on the generated in-memory history (median).
    pub in_memory_ms: f64,
    /// Exit codes of the runs that differed from the expected one.
    pub wrong_codes: Vec<Option<i32>>,
}

impl IoRow {
    fn median_wall(&self) -> f64 {
        median(&self.wall_ms)
    }
    /// True when a run exited with a code other than the expected verdict's.
    pub fn failed(&self) -> bool {
        !self.wrong_codes.is_empty()
    }
}

fn median(sorted: &[f64]) -> f64 {
    if sorted.is_empty() {
        0.0
    } else {
        sorted[sorted.len() / 2]
    }
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Generates the class's history; with a bug, from the first seed at or after `seed` where
/// the bug found an opportunity (the history differs from the bug-free one).
fn history_for(class: &IoClass, seed: u64) -> Result<History, UserPathError> {
    let cfg = class.config();
    let Some(bug) = class.bug else {
        return Ok(generate_seeded(&cfg, seed));
    };
    let clean_cfg = GenConfig {
        bug: None,
        ..cfg.clone()
    };
    for s in seed..seed + 100 {
        let h = generate_seeded(&cfg, s);
        if h.ops != generate_seeded(&clean_cfg, s).ops {
            return Ok(h);
        }
    }
    Err(UserPathError::NoInjection {
        label: class.label,
        bug: bug.name(),
        from: seed,
        to: seed + 99,
    })
}

fn file_name(class: &IoClass, seed: u64) -> String {
    format!(
        "io-w{}-k{}-n{}-a{}-b{}-{}-s{seed}.jsonl",
        class.writers,
        class.keys,
        class.ops_per_key,
        (class.ambiguous * 100.0).round(),
        (class.blind * 100.0).round(),
        class.bug.map_or("ok", |b| b.name()),
    )
}

/// Generates, writes and measures one class; `reps` process runs (and as many in-process
/// reads), the file left in `dir`.
pub fn run_io_class(
    class: &IoClass,
    seed: u64,
    reps: usize,
    dir: &Path,
    read: &dyn Fn(&Path) -> Result<usize, HistoryError>,
) -> Result<IoRow, UserPathError> {
    // `read` gives the bytes the history it read is held in.
    let history = history_for(class, seed)?;
    let ops = history.ops.len();
    std::fs::create_dir_all(dir).map_err(|source| UserPathError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(file_name(class, seed));
    let file = std::fs::File::create(&path).map_err(|source| UserPathError::Write {
        path: path.clone(),
        source,
    })?;
    write_history(std::io::BufWriter::new(file), &history)?;
    let file_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);

    let opts = CheckOptions::default();
    let mut in_memory = Vec::new();
    for _ in 0..reps {
        let start = Instant::now();
        let _ = check_history(&history, &opts);
        in_memory.push(start.elapsed().as_secs_f64() * 1e3);
    }
    drop(history);

    let mut read_times = Vec::new();
    let mut read_cpu = Vec::new();
    let mut held_bytes = 0;
    for _ in 0..reps {
        let cpu = child::self_cpu();
        let start = Instant::now();
        held_bytes = read(&path)?;
        read_times.push(start.elapsed().as_secs_f64() * 1e3);
        read_cpu.push((child::self_cpu().saturating_sub(cpu)).as_secs_f64() * 1e3);
    }

    let exe = std::env::current_exe().map_err(UserPathError::Exe)?;
    let args: [&OsStr; 2] = ["check".as_ref(), path.as_os_str()];
    // One unmeasured run puts the file and the executable in the page cache, as they are for a
    // user who just wrote the history.
    child::run(&exe, &args)?;
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut checks = Vec::new();
    let mut peak_rss = 0;
    let mut floor_rss = 0;
    let mut wrong_codes = Vec::new();
    for _ in 0..reps {
        let run = child::run(&exe, &args)?;
        walls.push(run.wall.as_secs_f64() * 1e3);
        cpus.push(run.cpu.as_secs_f64() * 1e3);
        peak_rss = peak_rss.max(run.peak_rss);
        floor_rss = floor_rss.max(run.floor_rss);
        if let Some(ms) = reported_check_ms(&run.stdout) {
            checks.push(ms);
        }
        if run.code != Some(class.expected_code()) {
            wrong_codes.push(run.code);
        }
    }
    Ok(IoRow {
        class: class.clone(),
        file_bytes,
        ops,
        wall_ms: sorted(walls),
        cpu_ms: median(&sorted(cpus)),
        check_ms: median(&sorted(checks)),
        peak_rss,
        floor_rss,
        read_ms: median(&sorted(read_times)),
        read_cpu_ms: median(&sorted(read_cpu)),
        held_bytes,
        in_memory_ms: median(&sorted(in_memory)),
        wrong_codes,
    })
}

/// The check time from `check`'s summary line ("checked N ops on K keys in X ms (...)").
fn reported_check_ms(stdout: &str) -> Option<f64> {
    let line = stdout.lines().find(|l| l.starts_with("checked "))?;
    let (_, rest) = line.split_once(" in ")?;
    rest.split_whitespace().next()?.parse().ok()
}

fn fmt_ms(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

const MB: f64 = 1024.0 * 1024.0;

/// Memory per op of the history as read: the goal that reading the format keep every op in at
/// most this many bytes (strings interned, ops compact), apart from the check's own tables,
/// which the peak RSS columns include.
const HELD_GOAL_BYTES_PER_OP: usize = 100;

/// The user-path table: goals beside the measured values.
pub fn table(rows: &[IoRow]) -> String {
    let mut t = Table::new();
    t.load_style(presets::ASCII_MARKDOWN)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec![
            "history",
            "ops",
            "file MB",
            "goal ms",
            "process ms: median (min–max, n)",
            "× goal",
            "process CPU ms",
            "check itself ms",
            "read ms (MB/s)",
            "read CPU ms (MB per CPU-s)",
            "in-memory check ms",
            "peak RSS MB (goal)",
            "peak RSS B/op",
            "history held B/op (goal)",
            "exit",
        ]);
    for r in rows {
        let c = &r.class;
        let wall = r.median_wall();
        let spread = format!(
            "{} ({}–{}, {})",
            fmt_ms(wall),
            fmt_ms(r.wall_ms.first().copied().unwrap_or(0.0)),
            fmt_ms(r.wall_ms.last().copied().unwrap_or(0.0)),
            r.wall_ms.len()
        );
        let ratio = c
            .goal_ms
            .map_or_else(|| "-".to_string(), |g| format!("{:.2}", wall / g));
        let mb = r.file_bytes as f64 / MB;
        let read_rate = if r.read_ms > 0.0 {
            mb / (r.read_ms / 1e3)
        } else {
            0.0
        };
        let rss_mb = r.peak_rss as f64 / MB;
        // At the floor, the figure is the benchmark's own size, not the child's.
        let at_floor = if r.peak_rss <= r.floor_rss {
            " ≤"
        } else {
            ""
        };
        let exit = if r.failed() {
            format!("unexpected {:?}", r.wrong_codes)
        } else {
            format!("{} as expected", c.expected_code())
        };
        t.add_row(vec![
            c.label.to_string(),
            r.ops.to_string(),
            format!("{mb:.1}"),
            c.goal_ms.map_or_else(|| "-".into(), fmt_ms),
            spread,
            ratio,
            fmt_ms(r.cpu_ms),
            fmt_ms(r.check_ms),
            format!("{} ({read_rate:.0})", fmt_ms(r.read_ms)),
            format!(
                "{} ({:.0})",
                fmt_ms(r.read_cpu_ms),
                mb / (r.read_cpu_ms / 1e3).max(1e-9)
            ),
            fmt_ms(r.in_memory_ms),
            match c.goal_rss_mb {
                Some(g) => format!("{at_floor}{rss_mb:.0} ({g:.0})"),
                None => format!("{at_floor}{rss_mb:.0}"),
            },
            format!("{:.0}", r.peak_rss as f64 / r.ops.max(1) as f64),
            format!(
                "{:.0} ({HELD_GOAL_BYTES_PER_OP})",
                r.held_bytes as f64 / r.ops.max(1) as f64
            ),
            exit,
        ]);
    }
    for i in 1..14 {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    t.to_string()
}

/// The machine's load averages (1, 5, 15 minutes), to print beside timings.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_time_is_read_from_the_summary_line() {
        let out = "checked 2000 ops on 1 keys in 6.5 ms (1 by the version graph, 0 by search, 0 unknown)\nlinearizable\n";
        assert_eq!(reported_check_ms(out), Some(6.5));
        assert_eq!(reported_check_ms("linearizable\n"), None);
    }

    #[test]
    fn the_bug_row_gets_a_history_with_the_bug() {
        let class = io_classes(true)
            .into_iter()
            .find(|c| c.bug.is_some())
            .unwrap();
        let h = history_for(&class, 1).unwrap();
        let report = check_history(&h, &CheckOptions::default());
        assert!(report.anomalies().count() > 0);
    }
}
