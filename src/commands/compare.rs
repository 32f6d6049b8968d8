//! `s3conform compare REPORT.json...`: one vendor x case matrix from several run reports.
//!
//! Every input is read and validated before anything is written, so a bad file (missing, not
//! JSON, not a run report, a newer format) fails the command with an error naming it, and exit
//! code 2 ([`ReportError::exit_code`]), without leaving half the outputs behind.

use std::io::Write;
use std::path::PathBuf;

use crate::exit_code;
use crate::report::compare::{self, html, markdown, table};
use crate::report::{ReportError, files, json, terminal};

/// Arguments of `s3conform compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// Run reports written by `s3conform run --json`, one matrix column each, in this order.
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,

    /// Also write the matrix as Markdown (summary, matrix, failure evidence, anomalies).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Also write a self-contained HTML page where each failing cell opens its request and
    /// response, and each fuzz anomaly its witness.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Also write the matrix itself as JSON (format `s3conform-compare`, version 1).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Terminal width to fit the table to, 20 to 1000 (default: the terminal's, or $COLUMNS, or
    /// 100).
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(20..=1000))]
    pub width: Option<u16>,

    /// Print nothing to stdout (only write the requested files).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `compare`, printing the matrix to stdout.
pub fn run(args: &CompareArgs) -> Result<u8, ReportError> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    run_to(args, &mut lock)
}

/// Runs `compare`, printing the matrix to `out` (for tests).
pub fn run_to(args: &CompareArgs, out: &mut dyn Write) -> Result<u8, ReportError> {
    let reports = args
        .reports
        .iter()
        .map(|p| json::read(p).map(|r| (p.clone(), r)))
        .collect::<Result<Vec<_>, _>>()?;
    let matrix = compare::build(reports);
    if let Some(path) = &args.markdown {
        files::write(path, &markdown::render(&matrix))?;
    }
    if let Some(path) = &args.html {
        files::write(path, &html::render(&matrix))?;
    }
    if let Some(path) = &args.json {
        files::write(path, &matrix.to_json())?;
    }
    if !args.quiet {
        let width = args.width.unwrap_or_else(terminal::width);
        out.write_all(table::render(&matrix, width).as_bytes())
            .map_err(|source| ReportError::Write {
                path: "<stdout>".into(),
                source,
            })?;
    }
    Ok(exit_code::SUCCESS)
}
