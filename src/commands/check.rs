//! `s3conform check FILE`: check a recorded history offline, name its anomalies, show the
//! witnesses, and optionally write JSON and HTML reports.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::check::{
    CheckOptions, CheckReport, KeyVerdict, Tier, Verdict, WitnessOptions, check_ops_validated,
    render, witness, witnesses,
};
use crate::exit_code;
use crate::history::{History, HistoryError, read_compact_unvalidated, write_history};
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
    #[arg(
        long,
        help = MAX_STATES_HELP,
        default_value_t = CheckOptions::DEFAULT_MAX_STATES,
        value_parser = max_states_parser()
    )]
    pub max_states: usize,
    /// Write a self-contained HTML timeline of the witnesses to PATH.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// Write the report as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Show each witness as found, without shrinking it (witnesses are shrunk by default, one
    /// per anomaly kind and key, as `fuzz` shows them; `--json` lists every anomaly).
    #[arg(long, conflicts_with = "shrink_dir")]
    pub no_shrink: bool,
    /// Refused: shrinking is the default, so the flag had no effect; `--no-shrink` turns it off.
    #[arg(long, hide = true)]
    pub shrink: bool,
    /// Write each shrunk history as JSONL into DIR (one file per anomaly kind and key).
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

/// The help of `--max-states`, which `check` and `fuzz` share.
pub const MAX_STATES_HELP: &str = "Cap on configurations the search caches per key (about 40 bytes each), 1 to 10^8: at the top that is about 4 GB per key being searched";

/// The parser of `--max-states`, which `check` and `fuzz` share: 1 to 10^8.
pub fn max_states_parser() -> impl clap::builder::TypedValueParser<Value = usize> {
    clap::builder::TypedValueParser::map(clap::value_parser!(u64).range(1..=100_000_000), |v| {
        v as usize
    })
}

/// Why `check` could not produce a verdict.
#[derive(Debug, thiserror::Error)]
pub enum CheckCommandError {
    #[error(transparent)]
    History(#[from] HistoryError),
    /// `--shrink` was given: it never changed anything, and a flag that silently does nothing
    /// misleads whoever passes it.
    #[error("--shrink was removed: witnesses are shrunk by default (--no-shrink turns it off)")]
    ShrinkIsTheDefault,
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

/// Saves a shrunk history to `path`, making its folder. The verdict is already out: a history
/// that cannot be saved is a warning, and the exit code stays the verdict's.
fn save_shrunk(path: &Path, small: &History, out: &mut dyn Write) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let saved = std::fs::create_dir_all(dir)
        .and_then(|()| {
            let bytes = write_history(Vec::new(), small)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            std::fs::write(path, bytes)
        })
        .map_err(|source| OutDirError::Write {
            path: path.to_path_buf(),
            source,
        });
    match saved {
        Ok(()) => writeln!(out, "wrote {}", path.display()),
        Err(e) => {
            outdir::warn(&e, &mut std::io::stderr());
            Ok(())
        }
    }
}

/// Runs the command, printing to `out` (for tests).
pub fn run_to(args: &CheckArgs, out: &mut dyn Write) -> Result<u8, CheckCommandError> {
    if args.shrink {
        return Err(CheckCommandError::ShrinkIsTheDefault);
    }
    // The check reads the compact form; full ops are rebuilt only where they are shown
    // (witnesses, JSON and HTML reports), and the compact form is dropped then.
    let read = read_compact_unvalidated(&args.file)?;
    let opts = CheckOptions {
        time_budget: args.time_budget,
        max_states: args.max_states,
        threads: args
            .threads
            .unwrap_or_else(|| CheckOptions::default().threads),
    };
    // The ops are validated while they are grouped by key; an invalid history is the same
    // error, and no verdict, as when it is validated first.
    let report = check_ops_validated(read.history(), &opts, || read.validate())?;
    let compact = read.into_history();
    let verdict = report.verdict();
    let shown = (matches!(verdict, Verdict::Anomalous(_))
        || args.json.is_some()
        || args.html.is_some()
        || args.out.is_some())
    .then(|| compact.to_history());
    drop(compact);
    let nothing_shown = History::default();
    let history = shown.as_ref().unwrap_or(&nothing_shown);
    let io = |e: std::io::Error| CheckCommandError::Write {
        path: PathBuf::from("<stdout>"),
        source: e,
    };
    writeln!(out, "{}", summary(&report)).map_err(io)?;
    write!(out, "{}", render::notes(&report)).map_err(io)?;
    match &verdict {
        Verdict::Linearizable => {
            writeln!(out, "linearizable").map_err(io)?;
        }
        Verdict::Unknown { reason } => {
            writeln!(out, "unknown: {reason}").map_err(io)?;
        }
        Verdict::Anomalous(anomalies) => {
            let found = witnesses(
                history,
                &report,
                &WitnessOptions {
                    shrink: !args.no_shrink,
                    check: opts,
                },
            );
            writeln!(
                out,
                "{} anomalies: {}\n",
                anomalies.len(),
                witness::names(&found)
            )
            .map_err(io)?;
            for w in &found {
                writeln!(out, "{}", render::witness(history, w)).map_err(io)?;
                if let (Some(dir), Some(small)) = (&args.shrink_dir, &w.shrunk) {
                    // One file per kind, named by the key too when the kind is on several.
                    let name = if found.iter().filter(|x| x.kind == w.kind).count() > 1 {
                        let key: String = w
                            .key
                            .chars()
                            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                            .collect();
                        format!("{}-{key}.jsonl", w.kind.name())
                    } else {
                        format!("{}.jsonl", w.kind.name())
                    };
                    save_shrunk(&dir.join(name), &small.history, out).map_err(io)?;
                }
            }
        }
    };
    let code = exit_code::of_verdict(&verdict);
    save_results(args, history, &report, out);
    Ok(code)
}
