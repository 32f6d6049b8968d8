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
use super::outdir::{self, OutDir};
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

    /// The results root: a run with a failing case (or every run, when this is given) gets a
    /// new folder `DIR/<UTC time>-<label>-<profile>/` with `report.json` and `report.md`, and
    /// `DIR/latest` links to it [default: s3conform-out].
    #[arg(long, value_name = "DIR", help_heading = "Reports")]
    pub out: Option<PathBuf>,

    /// Leave volatile values (times, dates, request and upload ids, ports) out of the JSON
    /// report, so two runs against an unchanged endpoint write the same file
    /// (`reports/regenerate.sh` uses it for the committed reports).
    #[arg(long, help_heading = "Reports")]
    pub stable_json: bool,
}

impl ReportArgs {
    /// Loads `--baseline`, if given; call before running so a bad file fails fast (exit 2).
    pub fn load_baseline(&self) -> Result<Option<Baseline>, ReportError> {
        self.baseline.as_deref().map(baseline::load).transpose()
    }
}

/// Applies the baseline, prints the summary to `out` in `style` (use [`Style::detect`] for
/// stdout), writes every requested file (a file that cannot be written is a warning on `err`,
/// never a different exit code), and returns the run's exit code ([`crate::exit_code::of_run`],
/// strict when `--strict-baseline`).
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
    let stdout = |e| ReportError::Write {
        path: "<stdout>".into(),
        source: e,
    };
    // The verdict first: a report file that cannot be written must not hide it.
    out.write_all(terminal::render_styled(report, style).as_bytes())
        .map_err(stdout)?;
    write_files(report, args, out, err);
    let code = crate::exit_code::of_run(report, args.strict_baseline);
    if args.strict_baseline && code != crate::exit_code::of_run(report, false) {
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

/// Writes the files `args` asks for, and a new results folder under `--out` (its path printed on
/// `out`); every failure is a warning on `err` naming the file.
fn write_files(report: &RunReport, args: &ReportArgs, out: &mut dyn Write, err: &mut dyn Write) {
    let stable = args.stable_json.then(|| {
        let mut r = report.clone();
        json::normalize(&mut r);
        r
    });
    let json_report = stable.as_ref().unwrap_or(report);
    let mut warn = |e: ReportError| {
        let reason = std::error::Error::source(&e)
            .map(|s| format!(": {s}"))
            .unwrap_or_default();
        let _ = writeln!(err, "warning: {e}{reason} (the verdict above stands)");
    };
    let written = [
        args.json.as_ref().map(|p| json::write(json_report, p)),
        args.junit.as_ref().map(|p| junit::write(report, p)),
        args.markdown.as_ref().map(|p| markdown::write(report, p)),
        args.write_baseline
            .as_ref()
            .map(|p| baseline::write(&baseline::from_report(report), p)),
    ];
    for e in written.into_iter().flatten().filter_map(Result::err) {
        warn(e);
    }
    let Some(root) = &args.out else { return };
    match OutDir::create(Some(root), &report.endpoint.label, report.profile.name()) {
        Ok(dir) => {
            let files = [
                ("report.json", json::to_string(json_report)),
                ("report.md", markdown::render(report)),
            ];
            for (name, text) in files {
                if let Err(e) = dir.write(name, text.as_bytes()) {
                    outdir::warn(&e, err);
                }
            }
            let _ = writeln!(out, "results saved in {}", dir.path().display());
        }
        Err(e) => outdir::warn(&e, err),
    }
}
