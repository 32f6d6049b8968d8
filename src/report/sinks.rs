//! The report flags of `s3conform run` and the one call that honours them all.
//!
//! `run` builds its [`RunReport`], then calls [`finish`]: apply the `--baseline`, write every
//! requested file, print the terminal summary, and return the exit code. Keeping this here means
//! the runner never needs to know which sinks exist.

use std::io::Write;
use std::path::PathBuf;

use super::baseline::{self, Baseline};
use super::errors::ReportError;
use super::model::RunReport;
use super::terminal::{self, Style};
use super::{json, junit, markdown};

/// Report and baseline flags, to `#[command(flatten)]` into `run`'s arguments.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportArgs {
    /// Write the run report as JSON: the versioned format `s3conform compare` reads.
    #[arg(long, value_name = "FILE", help_heading = "Reports")]
    pub json: Option<PathBuf>,

    /// Write JUnit XML for CI (one testsuite per operation, one testcase per case).
    #[arg(long, value_name = "FILE", help_heading = "Reports")]
    pub junit: Option<PathBuf>,

    /// Write a Markdown report (summary, per-operation tables, failure details).
    #[arg(long, value_name = "FILE", help_heading = "Reports")]
    pub markdown: Option<PathBuf>,

    /// Known divergences of this endpoint: listed failures are expected and do not fail the run.
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub baseline: Option<PathBuf>,

    /// Write a baseline listing every failing case of this run.
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub write_baseline: Option<PathBuf>,

    /// Also fail the run when a baseline entry now passes (CI against third-party servers).
    #[arg(long, requires = "baseline", help_heading = "Baseline")]
    pub strict_baseline: bool,
}

impl ReportArgs {
    /// Loads `--baseline`, if given; call before running so a bad file fails fast (exit 2).
    pub fn load_baseline(&self) -> Result<Option<Baseline>, ReportError> {
        self.baseline.as_deref().map(baseline::load).transpose()
    }
}

/// Applies the baseline, writes every requested file, prints the summary to `out` (warnings to
/// `err`) in `style` (use [`Style::detect`] for stdout), and returns the run's exit code
/// ([`baseline::exit_code`], strict when `--strict-baseline`).
pub fn finish(
    report: &mut RunReport,
    baseline: Option<&Baseline>,
    args: &ReportArgs,
    style: Style,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, ReportError> {
    let stderr = |e| ReportError::Write {
        path: "<stderr>".into(),
        source: e,
    };
    if let Some(b) = baseline {
        let applied = baseline::apply(report, b);
        for w in applied.warnings() {
            writeln!(err, "warning: {w}").map_err(stderr)?;
        }
    }
    if let Some(path) = &args.json {
        json::write(report, path)?;
    }
    if let Some(path) = &args.junit {
        junit::write(report, path)?;
    }
    if let Some(path) = &args.markdown {
        markdown::write(report, path)?;
    }
    if let Some(path) = &args.write_baseline {
        baseline::write(&baseline::from_report(report), path)?;
    }
    let stdout = |e| ReportError::Write {
        path: "<stdout>".into(),
        source: e,
    };
    out.write_all(terminal::render_styled(report, style).as_bytes())
        .map_err(stdout)?;
    let code = baseline::exit_code(report, args.strict_baseline);
    if args.strict_baseline && code != baseline::exit_code(report, false) {
        writeln!(
            out,
            "strict baseline: {} fixed entr{} fail the run; update the baseline",
            report.counts().fixed,
            if report.counts().fixed == 1 {
                "y"
            } else {
                "ies"
            }
        )
        .map_err(stdout)?;
    }
    Ok(code)
}
