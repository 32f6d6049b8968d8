//! `s3conform fuzz`: race seeded writer schedules against an endpoint, record the history, and
//! check it for linearizability.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::interrupt::{Cleanup, Interrupts, left_behind, report_stop};
use super::target::{TargetArgs, TargetError};
use crate::campaign::Campaign;
use crate::check::{self, CheckOptions, CheckReport, Verdict, Witness, WitnessOptions};
use crate::exit_code;
use crate::fuzz::{Counters, DriveError, Mix, Recording, Watch};
use crate::history::{History, write_history};
use crate::report::outdir::{self, OutDir, OutDirError};
use crate::report::{FuzzAnomaly, FuzzSummary};

/// Race concurrent writers against an endpoint and check the recorded history.
#[derive(Debug, Clone, clap::Args)]
pub struct FuzzArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Concurrent writers.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub writers: u32,

    /// Distinct keys the writers share.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=255))]
    pub keys: u8,

    /// Stop after this many recorded operations (1 to 1000000; the schedule and the history
    /// grow with it).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=MAX_OPS))]
    pub ops: u64,

    /// Stop after this long instead (e.g. `30s`, `5m`; 1ms to 24h); the op limit still applies.
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_flag)]
    pub duration: Option<Duration>,

    /// Seed of the schedule; printed at start, and replays the same programs.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Weights of the client behaviours, e.g. `rmw=35,create=10,read=15,cond_read=15,blind=5,delete=4,cond_delete=4,copy=6,multipart=6`.
    #[arg(long, value_parser = |s: &str| s.parse::<Mix>().map_err(|e| e.to_string()))]
    pub mix: Option<Mix>,

    /// Also save the history as JSON Lines to FILE (it is always saved in the results folder
    /// when the verdict is not linearizable).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,

    /// The results root: each campaign with something to keep (or every campaign, when this is
    /// given) gets a new folder `DIR/<UTC time>-<label>-<seed>/` with the history, the witnesses
    /// page and the summary, and `DIR/latest` links to it [default: s3conform-out].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Write a self-contained HTML timeline of the witnesses.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write the campaign summary as JSON (what `compare` shows beside a run report).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Time the checker may spend before answering Unknown (1ms to 24h).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = crate::duration::parse_flag)]
    pub check_budget: Duration,

    #[arg(
        long,
        help = super::check::MAX_STATES_HELP,
        default_value_t = CheckOptions::DEFAULT_MAX_STATES,
        value_parser = super::check::max_states_parser()
    )]
    pub max_states: usize,

    /// Show each witness as found, without shrinking it (witnesses are shrunk by default, one
    /// per anomaly kind and key, as `check` shows them).
    #[arg(long)]
    pub no_shrink: bool,

    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Why a fuzz campaign could not run.
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    /// The target could not be set up.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The drive failed before completion.
    #[error(transparent)]
    Drive(#[from] DriveError),
}

/// The most operations one campaign records: the schedule is drawn and the history kept in
/// memory, so this bounds both.
pub const MAX_OPS: u64 = 1_000_000;

/// Runs a campaign: prints the seed, drives, checks, prints the verdict. Returns the exit code.
pub async fn run(args: &FuzzArgs) -> Result<u8, FuzzError> {
    let seed = args.seed.unwrap_or_else(rand::random);
    println!("s3conform fuzz: seed {seed} (replay the same schedule with --seed {seed})");
    let connected = args.target.connect().await?;
    let halt = connected.session.halt().clone();
    let connected_root = connected.session.root_prefix().to_string();
    let interrupts = Interrupts::watch(
        &tokio::runtime::Handle::current(),
        halt.clone(),
        connected_root.clone(),
        connected.session.cleanup_bound(),
    );
    println!(
        "  endpoint {} ({}), profile {}, {} writers, {} keys, up to {} ops",
        connected.info.url,
        connected.info.label,
        args.target.profile,
        args.writers,
        args.keys,
        args.ops
    );
    println!(
        "  bucket {}, run prefix {} (after a kill: s3conform clean --prefix {})",
        connected.session.bucket(),
        connected.session.root_prefix(),
        connected.session.root_prefix()
    );
    let campaign = Campaign {
        seed,
        writers: args.writers as usize,
        keys: args.keys,
        ops: args.ops,
        duration: args.duration,
        mix: args.mix.unwrap_or_default(),
    };
    let opts = CheckOptions {
        time_budget: args.check_budget,
        max_states: args.max_states,
        ..CheckOptions::default()
    };
    let counters = Arc::new(Counters::default());
    let recording = Arc::new(Recording::default());
    let watch = (!args.no_progress).then(|| Watch::start(recording.clone(), opts));
    let bar = progress_bar(args, counters.clone(), watch.as_ref());
    let started = Instant::now();
    let mut drove = campaign
        .run_recorded(&connected.session, counters.clone(), recording)
        .await;
    let ended = Instant::now();
    let since_last_answer = match &drove {
        Ok(h) => {
            let last = h
                .ops
                .iter()
                .filter(|o| !o.out.is_ambiguous())
                .map(|o| o.ret_ns)
                .max()
                .unwrap_or(0);
            Duration::from_nanos(connected.session.now_ns().saturating_sub(last))
        }
        Err(_) => Duration::ZERO,
    };
    let seen_while_running = watch.as_ref().and_then(Watch::stop);
    if let Some((bar, ticker)) = bar {
        ticker.abort();
        bar.finish_and_clear();
    }
    let elapsed = started.elapsed();
    let label = connected.info.label.clone();
    let connected_bucket = connected.session.bucket().to_owned();
    if let Ok(history) = &mut drove {
        history.header.profile = Some(args.target.profile.to_string());
        history.header.note = Some(format!(
            "s3conform fuzz against {label}, bucket {}, run prefix {}",
            connected_bucket, connected_root
        ));
    }
    // The verdict and its witnesses are made while the cleanup runs; an interrupted run
    // cancels the check's searches, so the process does not wait for a verdict it will not
    // print.
    let cancel = Arc::new(AtomicBool::new(false));
    let checking = drove.as_ref().ok().map(|history| {
        let history = history.clone();
        let shrink = !args.no_shrink;
        let cancel = cancel.clone();
        tokio::task::spawn_blocking(move || {
            let report = check::check_ops_until(&history, &opts, &cancel);
            let found = match report.verdict() {
                Verdict::Anomalous(_) => check::witnesses(
                    &history,
                    &report,
                    &WitnessOptions {
                        shrink,
                        check: opts,
                    },
                ),
                _ => Vec::new(),
            };
            (report, found, Instant::now())
        })
    });
    let keep = args.target.keep;
    let cleanup = interrupts.finish(connected, keep).await;
    let cleaned = Cleanup::of(cleanup.as_ref(), keep);
    if let Some(reason) = halt.reason() {
        cancel.store(true, Ordering::Relaxed);
        let timeout = Duration::from_secs(args.target.timeout);
        return Ok(report_stop(reason, cleaned, &connected_root, timeout));
    }
    let cleanup = cleanup.unwrap_or_default();
    let history = drove?;
    let n = history.ops.len();
    println!(
        "  drove {n} ops in {:.2} s ({:.0} ops/s), {} ambiguous, {} x 412, {} x 409",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64().max(1e-9),
        counters.ambiguous.load(Ordering::Relaxed),
        counters.precondition_failed.load(Ordering::Relaxed),
        counters.conflicts.load(Ordering::Relaxed),
    );
    if !keep && let Some(line) = left_behind(Cleanup::Done(&cleanup), &connected_root) {
        eprintln!("warning: {line}");
    }
    let (report, found, ready) = match checking {
        Some(task) => task
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())),
        // Not reached: a drive that succeeded is always being checked.
        None => (
            check::check_history(&history, &opts),
            Vec::new(),
            Instant::now(),
        ),
    };
    let verdict = report.verdict();
    println!(
        "  verdict ready {:.1} ms after the last answer{}",
        (since_last_answer + ready.saturating_duration_since(ended)).as_secs_f64() * 1e3,
        seen_while_running
            .map(|s| format!(" (while running: {})", s.line()))
            .unwrap_or_default()
    );
    print!("{}", check::render::notes(&report));
    let mut summary = FuzzSummary {
        seed,
        writers: args.writers,
        ops: n as u64,
        verdict: String::new(),
        anomalies: Vec::new(),
        history_file: None,
        campaign: None,
        error: None,
    };
    match &verdict {
        Verdict::Linearizable => {
            println!("verdict: linearizable ({} keys checked)", report.keys.len());
            summary.verdict = "linearizable".to_owned();
        }
        Verdict::Unknown { reason } => {
            println!("verdict: unknown: {reason}");
            summary.verdict = "unknown".to_owned();
        }
        Verdict::Anomalous(_) => {
            summary.verdict = "anomalous".to_owned();
            println!(
                "verdict: NOT linearizable: {}",
                check::witness::names(&found)
            );
            for w in &found {
                print!("\n{}", check::render::witness(&history, w));
                summary.anomalies.push(witness(&history, w));
            }
        }
    };
    let code = exit_code::of_verdict(&verdict);
    save_results(args, &label, &history, &report, &mut summary);
    Ok(code)
}

/// Saves the campaign's files after the verdict has printed: the results folder when there is
/// something to keep (an anomaly or an Unknown, whose history is the evidence) or `--out` asks
/// for it, then the files named by `--history`, `--html`, `--json`. A file that cannot be
/// written is a warning; the verdict and its exit code stand.
fn save_results(
    args: &FuzzArgs,
    label: &str,
    history: &History,
    report: &CheckReport,
    summary: &mut FuzzSummary,
) {
    let mut stderr = std::io::stderr();
    let anomalous = summary.verdict == "anomalous";
    let history_text = match write_history(Vec::new(), history) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("warning: failed to serialize the history: {e}");
            return;
        }
    };
    let page = (anomalous || args.html.is_some()).then(|| check::render::html(history, report));
    if anomalous || summary.verdict == "unknown" || args.out.is_some() {
        match OutDir::create(args.out.as_deref(), label, &summary.seed.to_string()) {
            Ok(dir) => {
                match dir.write("history.jsonl", &history_text) {
                    Ok(p) => summary.history_file = Some(p.display().to_string()),
                    Err(e) => outdir::warn(&e, &mut stderr),
                }
                if let Some(page) = &page
                    && let Err(e) = dir.write("witnesses.html", page.as_bytes())
                {
                    outdir::warn(&e, &mut stderr);
                }
                if let Err(e) = dir.write("summary.json", summary_json(summary, report).as_bytes())
                {
                    outdir::warn(&e, &mut stderr);
                }
                println!("\nresults saved in {}", dir.path().display());
            }
            Err(e) => outdir::warn(&e, &mut stderr),
        }
    }
    let explicit = |path: &PathBuf, bytes: &[u8]| {
        if let Err(source) = std::fs::write(path, bytes) {
            let e = OutDirError::Write {
                path: path.clone(),
                source,
            };
            outdir::warn(&e, &mut std::io::stderr());
            false
        } else {
            true
        }
    };
    if let Some(path) = &args.history
        && explicit(path, &history_text)
    {
        summary.history_file = Some(path.display().to_string());
    }
    if let (Some(path), Some(page)) = (&args.html, &page) {
        explicit(path, page.as_bytes());
    }
    if let Some(path) = &args.json {
        explicit(path, summary_json(summary, report).as_bytes());
    }
    if anomalous && let Some(p) = &summary.history_file {
        println!("re-check the history with `s3conform check {p}`");
    }
}

/// The summary as JSON, with the conformance notes under the name `check`'s report gives them.
fn summary_json(summary: &FuzzSummary, report: &CheckReport) -> String {
    let mut value = serde_json::to_value(summary).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        let notes: Vec<_> = report.notes().collect();
        fields.insert(
            "conformance_notes".to_owned(),
            serde_json::to_value(notes).unwrap_or_default(),
        );
    }
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// A witness as reports show it.
pub fn witness(history: &History, witness: &Witness) -> FuzzAnomaly {
    let (shown, anomaly) = witness.shown(history);
    FuzzAnomaly {
        kind: witness.kind.name().to_owned(),
        key: witness.key.clone(),
        explanation: check::render::witness_explanation(history, witness),
        lanes: check::render::lanes(shown, anomaly),
    }
}

fn progress_bar(
    args: &FuzzArgs,
    counters: Arc<Counters>,
    watch: Option<&Watch>,
) -> Option<(ProgressBar, tokio::task::JoinHandle<()>)> {
    if args.no_progress {
        return None;
    }
    let bar = ProgressBar::new(args.ops);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} ops, {per_sec}, {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let b = bar.clone();
    let so_far = watch.map(Watch::reader);
    let ticker = tokio::spawn(async move {
        loop {
            b.set_position(counters.ops.load(Ordering::Relaxed));
            let checked = so_far
                .as_ref()
                .and_then(|r| r())
                .map_or_else(|| "checking as it goes".to_owned(), |s| s.line());
            b.set_message(format!(
                "{} ambiguous, {} x 412, {} x 409, {checked}",
                counters.ambiguous.load(Ordering::Relaxed),
                counters.precondition_failed.load(Ordering::Relaxed),
                counters.conflicts.load(Ordering::Relaxed)
            ));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    Some((bar, ticker))
}
