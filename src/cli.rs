//! The command line: clap definitions and dispatch. `main` only parses, calls [`run`], and maps
//! the result to an exit code.

use clap::{Parser, Subcommand};

use crate::commands::{compare::CompareArgs, serve::ServeArgs};
use crate::error::Error;

/// Conformance suite and linearizability fuzzer for S3 conditional requests.
///
/// With no --endpoint (or AWS_ENDPOINT_URL), `run` and `fuzz` start an embedded reference
/// endpoint on 127.0.0.1 and test it. Credentials for a real endpoint come from the standard AWS
/// chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...). Exit codes: 0 pass, 1 failure or anomaly,
/// 2 usage or setup error, 3 checker budget exhausted, 4 nothing selected.
#[derive(Debug, Parser)]
#[command(name = "s3conform", version, propagate_version = true)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Arguments of a subcommand that does not exist yet.
#[derive(Debug, Clone, clap::Args)]
pub struct NotBuiltArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the YAML conformance suite against an endpoint.
    Run(NotBuiltArgs),
    /// List the cases a `run` would select.
    List(NotBuiltArgs),
    /// Race concurrent writers against an endpoint and check the history for linearizability.
    Fuzz(NotBuiltArgs),
    /// Check a recorded history (JSON Lines) for linearizability.
    Check(NotBuiltArgs),
    /// Serve the embedded reference endpoint until Ctrl-C.
    Serve(ServeArgs),
    /// Compare run reports of several endpoints in one matrix.
    Compare(CompareArgs),
    /// Benchmark the checker on generated histories.
    Bench(NotBuiltArgs),
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> Result<u8, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    match cli.command {
        Command::Fuzz(_) => Err(Error::NotBuilt("fuzz")),
        Command::Serve(args) => Ok(runtime.block_on(crate::commands::serve::run(&args))?),
        Command::Run(_) => Err(Error::NotBuilt("run")),
        Command::List(_) => Err(Error::NotBuilt("list")),
        Command::Check(_) => Err(Error::NotBuilt("check")),
        Command::Compare(args) => Ok(crate::commands::compare::run(&args)?),
        Command::Bench(_) => Err(Error::NotBuilt("bench")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
