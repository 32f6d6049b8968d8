//! `s3conform run`: the YAML conformance suite as a `cargo test`-like harness.
//!
//! The lead's CLI resolves the endpoint (or starts the embedded one), the bucket and the
//! credentials, connects a [`Session`], and hands it here with an [`EndpointInfo`]. This module
//! owns the flags that choose and judge cases, loading the cases, running them, and the exit
//! code; the report sinks (table, JSON, JUnit, Markdown, baseline) render the returned
//! [`RunReport`].
//!
//! Order of work for the caller:
//! 1. [`RunArgs::load`]: reads the cases and fails early (exit 2 for an unreadable directory,
//!    exit 4 when the filter selects nothing) before any endpoint is contacted;
//! 2. connect the session (for the embedded endpoint, with [`RunArgs::profile`]);
//! 3. [`run`], *outside* the tokio runtime (each case blocks on `rt`);
//! 4. `session.cleanup()` (the runner leaves every case's objects for inspection until then);
//! 5. hand [`RunOutcome::report`] to `report::sinks::finish`, and exit with
//!    [`final_exit_code`]`(sink_code, &suite)` (without sinks: [`RunOutcome::exit_code`]).

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};

use crate::case::{LoadError, Suite};
use crate::exit_code;
use crate::profile::Profile;
use crate::report::{EndpointInfo, RunReport};
use crate::runner::{RunOptions, run_suite};
use crate::s3::Session;

/// Where the cases are when `--cases` is not given and `./cases` does not exist: the source
/// tree the binary was built from. (Embedding the files in the binary would need a build
/// script or `include_dir`; a checkout-relative path keeps cases editable without a rebuild.)
pub const BUILT_IN_CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cases");

/// Arguments of `s3conform run` that choose and judge cases (libtest's flags).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Run only cases whose name (`operation::case-name`) contains FILTER.
    #[arg(value_name = "FILTER")]
    pub filter: Option<String>,

    /// Match FILTER and --skip exactly instead of as substrings.
    #[arg(long)]
    pub exact: bool,

    /// Skip cases whose name contains PATTERN (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub skip: Vec<String>,

    /// List the selected cases instead of running them.
    #[arg(long)]
    pub list: bool,

    /// Number of cases run at once (default 16: cases wait on the network, not the CPU).
    #[arg(long, value_name = "N")]
    pub test_threads: Option<usize>,

    /// Run only the cases marked `ignored: true`.
    #[arg(long)]
    pub ignored: bool,

    /// Run ignored cases as well.
    #[arg(long)]
    pub include_ignored: bool,

    /// One character per case instead of one line.
    #[arg(long, short)]
    pub quiet: bool,

    /// Whose expectations to judge by (and, for the embedded endpoint, whose semantics it
    /// implements).
    #[arg(
        long,
        value_name = "PROFILE",
        env = "S3CONFORM_PROFILE",
        default_value = "coreweave",
        value_parser = PossibleValuesParser::new(Profile::ALL.map(Profile::name))
            .map(|s| s.parse::<Profile>().expect("listed profile names parse")),
    )]
    pub profile: Profile,

    /// The cases directory (default: ./cases if it exists, else the one the binary was built
    /// with).
    #[arg(long = "cases", value_name = "DIR", env = "S3CONFORM_CASES")]
    pub cases: Option<PathBuf>,
}

/// Why `run` (or `list`) could not run cases.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The cases directory cannot be read.
    #[error(transparent)]
    Cases(#[from] LoadError),
    /// The filter matched no case.
    #[error("no case matches {}", describe_filter(.filter, .exact))]
    NothingSelected {
        /// The filter given.
        filter: Option<String>,
        /// Whether it had to match exactly.
        exact: bool,
    },
}

fn describe_filter(filter: &Option<String>, exact: &bool) -> String {
    match filter {
        Some(f) if *exact => format!("`{f}` exactly (list them with `s3conform list`)"),
        Some(f) => format!("`{f}` (list them with `s3conform list`)"),
        None => "the given flags".to_owned(),
    }
}

impl RunError {
    /// The documented exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Cases(_) => exit_code::SETUP_ERROR,
            RunError::NothingSelected { .. } => exit_code::NOTHING_SELECTED,
        }
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Every selected case's result (malformed files included as errors).
    pub report: RunReport,
    /// 0 all pass, 1 a case failed or errored, 2 a case file is malformed.
    pub exit_code: u8,
}

impl RunArgs {
    /// The cases directory these arguments name.
    pub fn cases_dir(&self) -> PathBuf {
        if let Some(dir) = &self.cases {
            return dir.clone();
        }
        let local = PathBuf::from("cases");
        if local.is_dir() {
            local
        } else {
            PathBuf::from(BUILT_IN_CASES)
        }
    }

    /// The runner options.
    pub fn options(&self) -> RunOptions {
        RunOptions {
            profile: self.profile,
            filter: self.filter.clone(),
            exact: self.exact,
            skip: self.skip.clone(),
            list: self.list,
            test_threads: self.test_threads,
            ignored: self.ignored,
            include_ignored: self.include_ignored,
            quiet: self.quiet,
        }
    }

    /// Loads the cases and checks that the flags select at least one. Malformed files do not
    /// fail this: they are in [`Suite::errors`], listed by [`run`], and make it exit 2.
    pub fn load(&self) -> Result<Suite, RunError> {
        let suite = Suite::load(&self.cases_dir())?;
        if self.options().selected(&suite) == 0 && !self.list {
            return Err(RunError::NothingSelected {
                filter: self.filter.clone(),
                exact: self.exact,
            });
        }
        Ok(suite)
    }
}

/// Runs the selected cases of `suite` (from [`RunArgs::load`]) against `session`.
///
/// Call it outside the runtime `rt` belongs to (e.g. from `spawn_blocking` or before
/// `block_on`): each case blocks on `rt`.
pub fn run(
    args: &RunArgs,
    suite: &Suite,
    session: &Session,
    endpoint: EndpointInfo,
    rt: &tokio::runtime::Handle,
) -> RunOutcome {
    let report = run_suite(session, suite, &args.options(), endpoint, rt);
    let exit_code = if args.list {
        exit_code::SUCCESS
    } else {
        exit_code_for(&report, suite.errors.len())
    };
    RunOutcome { report, exit_code }
}

/// The exit code of a run whose report went through the report sinks (which apply the
/// baseline and return their own code): a malformed case file still makes it 2.
pub fn final_exit_code(sink_code: u8, suite: &Suite) -> u8 {
    if suite.errors.is_empty() {
        sink_code
    } else {
        exit_code::SETUP_ERROR
    }
}

/// The exit code of a run without a baseline: 2 when a case file was malformed, else 1 when a case failed or
/// errored (and no baseline excuses it), else 0.
pub fn exit_code_for(report: &RunReport, malformed_files: usize) -> u8 {
    if malformed_files > 0 {
        exit_code::SETUP_ERROR
    } else if report.has_regressions() {
        exit_code::FAILURE
    } else {
        exit_code::SUCCESS
    }
}
