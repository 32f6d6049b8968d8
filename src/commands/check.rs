//! `s3conform check FILE`: check a recorded history offline, name its anomalies, show the
//! witnesses, and optionally write JSON and HTML reports.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::check::{
    CheckOptions, CheckReport, KeyVerdict, Tier, Verdict, check_history, render, shrink,
};
use crate::exit_code;
use crate::history::{History, HistoryError, read_history, write_history};
use crate::report::outdir::{self, OutDir, OutDirError};

/// Arguments of `s3conform check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The history to check (JSON Lines, format s3conform-history version 2; version 1 is still
    /// read).
    pub file: PathBuf,
    /// Wall-clock budget for the search fallback (e.g. 500ms, 30s, 2m); when it runs out the
    /// verdict is Unknown (exit 3), never a guess.
    #[arg(long, default_value = "60s", value_parser = crate::duration::parse_flag)]
    pub time_budget: Duration,
    /// Cap on configurations the search caches per key (about 40 bytes each), 1 to 10^8: at
    /// the top that is about 4 GB per key being searched.
    #[arg(
        long,
        default_value_t = 5_000_000,
        value_parser = clap::builder::TypedValueParser::map(
            clap::value_parser!(u64).range(1..=100_000_000),
            |v| v as usize
        )
    )]
    pub max_states: usize,
    /// Write a self-contained HTML timeline of the witnesses to PATH.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// Write the report as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Shrink each anomaly's history to a minimal one showing the same anomaly (the default).
    #[arg(long, overrides_with = "no_shrink")]
    pub shrink: bool,
    /// Do not shrink.
    #[arg(long, overrides_with = "shrink")]
    pub no_shrink: bool,
    /// Write each shrunk history as JSONL into DIR (one file per anomaly kind).
    #[arg(long, value_name = "DIR")]
    pub shrink_dir: Option<PathBuf>,
    /// Write `report.json` and `witnesses.html` into a new folder
    /// `DIR/<UTC time>-<history name>-check/` (`DIR/latest` links to it).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (keys are checked in parallel), 1 to 256; default: one per core.
    #[arg(
        long,
        value_parser = clap::builder::TypedValueParser::map(
            clap::value_parser!(u64).range(1..=256),
            |v| v as usize
        )
    )]
    pub threads: Option<usize>,
}

/// Why `check` could not produce a verdict.
#[derive(Debug, thiserror::Error)]
pub enum CheckCommandError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("failed to write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl CheckCommandError {
    /// Every error of this command is bad input or setup.
    pub fn exit_code(&self) -> u8 {
        exit_code::of_error(self)
    }
}

/// Runs the command, printing to stdout; returns the process exit code.
pub fn run(args: &CheckArgs) -> Result<u8, CheckCommandError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    run_to(args, &mut out)
}

/// Writes the requested files after the verdict has printed; a file that cannot be written is
/// a warning naming it, and the verdict's exit code stands.
fn save_results(args: &CheckArgs, history: &History, report: &CheckReport, out: &mut dyn Write) {
    let mut stderr = std::io::stderr();
    let wanted = |file: &Option<PathBuf>| file.is_some() || args.out.is_some();
    let json = if wanted(&args.json) {
        render::json(history, report)
    } else {
        String::new()
    };
    let html = if wanted(&args.html) {
        render::html(history, report)
    } else {
        String::new()
    };
    let explicit = [(&args.json, &json), (&args.html, &html)];
    for (path, text) in explicit {
        if let Some(path) = path
            && let Err(source) = std::fs::write(path, text)
        {
            let e = OutDirError::Write {
                path: path.clone(),
                source,
            };
            outdir::warn(&e, &mut stderr);
        }
    }
    let Some(root) = &args.out else { return };
    let label = args
        .file
        .file_stem()
        .map_or_else(|| "history".into(), |s| s.to_string_lossy());
    match OutDir::create(Some(root), &label, "check") {
        Ok(dir) => {
            for (name, text) in [("report.json", &json), ("witnesses.html", &html)] {
                if let Err(e) = dir.write(name, text.as_bytes()) {
                    outdir::warn(&e, &mut stderr);
                }
            }
            let _ = writeln!(out, "results saved in {}", dir.path().display());
        }
        Err(e) => outdir::warn(&e, &mut stderr),
    }
}

fn summary(report: &CheckReport) -> String {
    let by_graph = report
        .keys
        .iter()
        .filter(|k| k.decided_by == Some(Tier::VersionGraph))
        .count();
    let by_search = report
        .keys
        .iter()
        .filter(|k| k.decided_by == Some(Tier::Search))
        .count();
    let unknown = report
        .keys
        .iter()
        .filter(|k| matches!(k.verdict, KeyVerdict::Unknown { .. }))
        .count();
    format!(
        "checked {} ops on {} keys in {:.1} ms ({} by the version graph, {} by search, {} unknown)",
        report.ops,
        report.keys.len(),
        report.elapsed_ms,
        by_graph,
        by_search,
        unknown
    )
}

/// Runs the command, printing to `out` (for tests).
pub fn run_to(args: &CheckArgs, out: &mut dyn Write) -> Result<u8, CheckCommandError> {
    let history = read_history(&args.file)?;
    let opts = CheckOptions {
        time_budget: args.time_budget,
        max_states: args.max_states,
        threads: args
            .threads
            .unwrap_or_else(|| CheckOptions::default().threads),
    };
    let report = check_history(&history, &opts);
    let verdict = report.verdict();
    let io = |e: std::io::Error| CheckCommandError::Write {
        path: PathBuf::from("<stdout>"),
        source: e,
    };
    writeln!(out, "{}", summary(&report)).map_err(io)?;
    let notes: Vec<_> = report.notes().collect();
    if !notes.is_empty() {
        // Statuses the checker cannot judge are questions for the suite, never anomalies.
        writeln!(out, "{} conformance notes (not anomalies):", notes.len()).map_err(io)?;
        for n in notes {
            writeln!(out, "  key {}: {}", n.key, n.message).map_err(io)?;
        }
    }
    match &verdict {
        Verdict::Linearizable => {
            writeln!(out, "linearizable").map_err(io)?;
        }
        Verdict::Unknown { reason } => {
            writeln!(out, "unknown: {reason}").map_err(io)?;
        }
        Verdict::Anomalous(anomalies) => {
            let mut kinds: Vec<&str> = anomalies.iter().map(|a| a.kind.name()).collect();
            kinds.dedup();
            writeln!(out, "{} anomalies: {}\n", anomalies.len(), kinds.join(", ")).map_err(io)?;
            for a in anomalies {
                writeln!(
                    out,
                    "{}{}",
                    render::text(&history, a),
                    render::lanes(&history, a)
                )
                .map_err(io)?;
            }
            if args.shrink || !args.no_shrink {
                let mut done = std::collections::HashSet::new();
                for a in anomalies.iter().filter(|a| done.insert(a.kind)) {
                    let small = shrink(
                        &history,
                        a,
                        &CheckOptions {
                            time_budget: opts.time_budget.min(Duration::from_secs(30)),
                            ..opts
                        },
                    );
                    writeln!(out, "shrunk {} to {} ops:", a.kind, small.ops.len()).map_err(io)?;
                    if small.ops.len() <= 20 {
                        // A minimal history is the whole story; list it, in call order.
                        let mut ops: Vec<_> = small.ops.iter().collect();
                        ops.sort_by_key(|o| (o.call_ns, o.id));
                        for o in ops {
                            let ret = if o.out.is_ambiguous() {
                                "∞".to_string()
                            } else {
                                format!("{:.3}", o.ret_ns as f64 / 1e6)
                            };
                            writeln!(
                                out,
                                "  op {:<6} [{:.3} – {ret}] ms  {}",
                                o.id,
                                o.call_ns as f64 / 1e6,
                                render::describe_op(o)
                            )
                            .map_err(io)?;
                        }
                    }
                    let small_report = check_history(&small, &opts);
                    if let Some(sa) = small_report.anomalies().find(|x| x.kind == a.kind) {
                        writeln!(
                            out,
                            "{}{}",
                            render::text(&small, sa),
                            render::lanes(&small, sa)
                        )
                        .map_err(io)?;
                    }
                    if let Some(dir) = &args.shrink_dir {
                        // The verdict is already out: a history that cannot be saved is a
                        // warning, and the exit code stays the verdict's.
                        let path = dir.join(format!("{}.jsonl", a.kind.name()));
                        let saved = std::fs::create_dir_all(dir)
                            .and_then(|()| {
                                let bytes = write_history(Vec::new(), &small)
                                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                                std::fs::write(&path, bytes)
                            })
                            .map_err(|source| OutDirError::Write {
                                path: path.clone(),
                                source,
                            });
                        match saved {
                            Ok(()) => writeln!(out, "wrote {}", path.display()).map_err(io)?,
                            Err(e) => outdir::warn(&e, &mut std::io::stderr()),
                        }
                    }
                }
            }
        }
    };
    let code = exit_code::of_verdict(&verdict);
    save_results(args, &history, &report, out);
    Ok(code)
}
