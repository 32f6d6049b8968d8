//! `s3conform list`: the cases a `run` with the same filter would run, without an endpoint.

use std::io::Write;

use crate::exit_code;
use crate::runner::Selection;

use super::run::{RunError, SelectArgs};
use crate::profile::Profile;

/// Arguments of `s3conform list`: the same selection flags as `run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ListArgs {
    /// The selection (FILTER, --exact, --skip, --ignored, --include-ignored, --cases).
    #[command(flatten)]
    pub select: SelectArgs,
}

/// Prints one selected case per line (`operation::case-name`), and every malformed file on
/// stderr. Exit 0, 2 when a file is malformed, 4 when nothing is selected.
pub fn run(args: &ListArgs) -> Result<u8, RunError> {
    let suite = args.select.load()?;
    let opts = args.select.options(Profile::default());
    let mut out = std::io::stdout().lock();
    for case in &suite.cases {
        if opts.select(case) == Selection::Run {
            // A closed pipe (`| head`) is not an error worth reporting.
            if writeln!(out, "{}", case.id).is_err() {
                break;
            }
        }
    }
    for e in &suite.errors {
        eprintln!("error: malformed case: {e}");
    }
    Ok(if suite.errors.is_empty() {
        exit_code::SUCCESS
    } else {
        exit_code::SETUP_ERROR
    })
}
