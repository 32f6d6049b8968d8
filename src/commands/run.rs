//! `s3conform run`: the YAML conformance suite as a `cargo test`-like harness.
//!
//! The CLI (`cli.rs`) resolves the endpoint (or starts the embedded one), the bucket and the
//! credentials, connects a [`Session`], and hands it here with an [`EndpointInfo`]. This module
//! owns the flags that choose and judge cases, loading the cases, running them, and the exit
//! code; the report sinks (table, JSON, JUnit, Markdown, baseline) render the returned
//! [`RunReport`].
//!
//! Order of work for the caller:
//! 1. [`RunArgs::load`]: reads the cases and fails early (exit 2 for an unreadable directory,
//!    exit 4 when the filter selects nothing) before any endpoint is contacted;
//! 2. connect the session (`TargetArgs::connect`; its `--profile` is also the one to judge by);
//! 3. [`run`], *outside* the tokio runtime (each case blocks on `rt`);
//! 4. `session.cleanup()` (the runner leaves every case's objects for inspection until then);
//! 5. hand [`RunOutcome::report`] to `report::sinks::finish`, and exit with
//!    [`exit_code::with_malformed`]`(sink_code, suite.errors.len())` (without sinks:
//!    [`RunOutcome::exit_code`]).
//!
//! ```no_run
//! use s3conform::commands::run::{self, RunArgs};
//! use s3conform::commands::target::TargetArgs;
//! use s3conform::report::sinks::{self, ReportArgs};
//! use s3conform::report::terminal::Style;
//!
//! fn run_command(
//!     args: &RunArgs,
//!     target: &TargetArgs,
//!     out: &ReportArgs,
//! ) -> Result<u8, Box<dyn std::error::Error>> {
//!     let suite = args.load()?; // exit 2 or 4 (RunError::exit_code) before any connection
//!     let baseline = out.load_baseline()?;
//!     let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
//!     let connected = rt.block_on(target.connect())?;
//!     let mut outcome = run::run(
//!         args,
//!         &suite,
//!         &connected.session,
//!         connected.info.clone(),
//!         target.profile,
//!         rt.handle(),
//!     );
//!     rt.block_on(connected.finish(target.keep));
//!     if args.list {
//!         return Ok(outcome.exit_code);
//!     }
//!     let code = sinks::finish(
//!         &mut outcome.report,
//!         baseline.as_ref(),
//!         out,
//!         Style::detect(),
//!         &mut std::io::stdout(),
//!         &mut std::io::stderr(),
//!     )?;
//!     Ok(s3conform::exit_code::with_malformed(code, suite.errors.len()))
//! }
//! ```

use std::path::PathBuf;

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

/// Which cases: the selection flags `run` and `list` share (libtest's).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SelectArgs {
    /// Run only cases whose name (`operation::case-name`) contains FILTER.
    #[arg(value_name = "FILTER")]
    pub filter: Option<String>,

    /// Match FILTER and --skip exactly instead of as substrings.
    #[arg(long)]
    pub exact: bool,

    /// Skip cases whose name contains PATTERN (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub skip: Vec<String>,

    /// Run only the cases marked `ignored: true`.
    #[arg(long)]
    pub ignored: bool,

    /// Run ignored cases as well.
    #[arg(long)]
    pub include_ignored: bool,

    /// The cases directory (default: ./cases if it exists, else the one the binary was built
    /// with).
    #[arg(long = "cases", value_name = "DIR", env = "S3CONFORM_CASES")]
    pub cases: Option<PathBuf>,
}

/// Arguments of `s3conform run` that choose and run cases. The profile that picks the
/// expectations is `TargetArgs::profile` (it also decides what the embedded endpoint
/// implements), passed to [`run`].
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Which cases.
    #[command(flatten)]
    pub select: SelectArgs,

    /// List the selected cases instead of running them.
    #[arg(long)]
    pub list: bool,

    /// Number of cases run at once (1 to 256; default 16: cases wait on the network, not the
    /// CPU).
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::builder::TypedValueParser::map(
            clap::value_parser!(u16).range(1..=256),
            usize::from
        )
    )]
    pub test_threads: Option<usize>,

    /// One character per case instead of one line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Why `run` (or `list`) could not run cases.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The cases directory cannot be read.
    #[error(transparent)]
    Cases(#[from] LoadError),
    /// Nothing could be selected because case files are malformed: their errors, not "no case
    /// matches", are what the user needs to see.
    #[error("{} malformed case file(s) and no case to run:\n  {}", .0.len(), list_errors(.0))]
    Malformed(Vec<crate::case::CaseError>),
    /// The filter matched no case.
    #[error("no case matches {}", describe_filter(.filter, .exact))]
    NothingSelected {
        /// The filter given.
        filter: Option<String>,
        /// Whether it had to match exactly.
        exact: bool,
    },
}

fn list_errors(errors: &[crate::case::CaseError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n  ")
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
        exit_code::of_error(self)
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

impl SelectArgs {
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

    /// The runner options for this selection (judging by `profile`).
    pub fn options(&self, profile: Profile) -> RunOptions {
        RunOptions {
            profile,
            filter: self.filter.clone(),
            exact: self.exact,
            skip: self.skip.clone(),
            ignored: self.ignored,
            include_ignored: self.include_ignored,
            ..RunOptions::default()
        }
    }

    /// Loads the cases and checks that the flags select at least one. Malformed files beside
    /// selected cases do not fail this: they are in [`Suite::errors`], listed by [`run`], and
    /// make it exit 2. When nothing is selected and files are malformed, their errors are the
    /// answer (exit 2), not "no case matches" (exit 4).
    pub fn load(&self) -> Result<Suite, RunError> {
        let suite = Suite::load(&self.cases_dir())?;
        if self.options(Profile::default()).selected(&suite) == 0 {
            if !suite.errors.is_empty() {
                return Err(RunError::Malformed(suite.errors));
            }
            return Err(RunError::NothingSelected {
                filter: self.filter.clone(),
                exact: self.exact,
            });
        }
        Ok(suite)
    }
}

impl RunArgs {
    /// The runner options (judging by `profile`).
    pub fn options(&self, profile: Profile) -> RunOptions {
        RunOptions {
            list: self.list,
            test_threads: self.test_threads,
            quiet: self.quiet,
            ..self.select.options(profile)
        }
    }

    /// [`SelectArgs::load`]: the cases, or exit 2 / exit 4 before any endpoint is contacted.
    pub fn load(&self) -> Result<Suite, RunError> {
        self.select.load()
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
    profile: Profile,
    rt: &tokio::runtime::Handle,
) -> RunOutcome {
    let report = run_suite(session, suite, &args.options(profile), endpoint, rt);
    let exit_code = if args.list {
        exit_code::SUCCESS
    } else {
        exit_code::with_malformed(exit_code::of_run(&report, false), suite.errors.len())
    };
    RunOutcome { report, exit_code }
}
