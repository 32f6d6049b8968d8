//! The one error type that reaches `main`, and its exit code.

use crate::exit_code;

/// Everything that can stop a subcommand before it has a verdict.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The async runtime could not start.
    #[error("failed to start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// `serve` failed.
    #[error(transparent)]
    Serve(#[from] crate::commands::serve::ServeError),
    /// A report could not be read or written (`compare`, `run --json`, ...).
    #[error(transparent)]
    Report(#[from] crate::report::errors::ReportError),
    /// `run` or `list` could not load or select cases.
    #[error(transparent)]
    Run(#[from] crate::commands::run::RunError),
    /// The target could not be reached or set up.
    #[error(transparent)]
    Target(#[from] crate::commands::target::TargetError),
    /// `fuzz` failed.
    #[error(transparent)]
    Fuzz(#[from] crate::commands::fuzz::FuzzError),
    /// `check` failed.
    #[error(transparent)]
    Check(#[from] crate::commands::check::CheckCommandError),
    /// `clean` failed.
    #[error(transparent)]
    Clean(#[from] crate::commands::clean::CleanError),
    /// `bench` failed.
    #[error(transparent)]
    Bench(#[from] crate::commands::bench::BenchError),
}

impl Error {
    /// The documented exit code (see [`crate::exit_code`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Serve(e) => e.exit_code(),
            Error::Report(e) => e.exit_code(),
            Error::Check(e) => e.exit_code(),
            Error::Run(e) => e.exit_code(),
            Error::Runtime(_)
            | Error::Fuzz(_)
            | Error::Bench(_)
            | Error::Target(_)
            | Error::Clean(_) => exit_code::SETUP_ERROR,
        }
    }
}
