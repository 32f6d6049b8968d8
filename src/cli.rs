//! The command line: clap definitions and dispatch. `main` only parses, calls [`run`], and maps
//! the result to an exit code.

use clap::{Parser, Subcommand};

use crate::commands::{
    bench::BenchArgs, check::CheckArgs, compare::CompareArgs, fuzz::FuzzArgs, list::ListArgs,
    run::RunArgs, serve::ServeArgs, target::TargetArgs,
};
use crate::error::Error;
use crate::report::sinks::ReportArgs;
use crate::report::terminal::Style;

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

/// `run`'s flags: case selection, target, reports.
#[derive(Debug, Clone, clap::Args)]
pub struct RunCommand {
    /// Which cases.
    #[command(flatten)]
    pub run: RunArgs,
    /// Which endpoint.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Which reports.
    #[command(flatten)]
    pub reports: ReportArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the YAML conformance suite against an endpoint.
    Run(RunCommand),
    /// List the cases a `run` would select.
    List(ListArgs),
    /// Race concurrent writers against an endpoint and check the history for linearizability.
    Fuzz(FuzzArgs),
    /// Check a recorded history (JSON Lines) for linearizability.
    Check(CheckArgs),
    /// Serve the embedded reference endpoint until Ctrl-C.
    Serve(ServeArgs),
    /// Compare run reports of several endpoints in one matrix.
    Compare(CompareArgs),
    /// Benchmark the checker on generated histories.
    Bench(BenchArgs),
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> Result<u8, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    match cli.command {
        Command::Fuzz(args) => Ok(runtime.block_on(crate::commands::fuzz::run(&args))?),
        Command::Serve(args) => Ok(runtime.block_on(crate::commands::serve::run(&args))?),
        Command::Run(args) => run_suite(&args, &runtime),
        Command::List(args) => Ok(crate::commands::list::run(&args)?),
        Command::Check(args) => Ok(crate::commands::check::run(&args)?),
        Command::Compare(args) => Ok(crate::commands::compare::run(&args)?),
        Command::Bench(args) => Ok(crate::commands::bench::run(&args)?),
    }
}

/// `run`: load the cases (failing fast on a bad directory or an empty selection), connect,
/// run every case on this runtime, clean up, then render every requested report.
fn run_suite(args: &RunCommand, runtime: &tokio::runtime::Runtime) -> Result<u8, Error> {
    let suite = args.run.load()?;
    let baseline = args.reports.load_baseline()?;
    let connected = runtime.block_on(args.target.connect())?;
    let mut outcome = crate::commands::run::run(
        &args.run,
        &suite,
        &connected.session,
        connected.info.clone(),
        args.target.profile,
        runtime.handle(),
    );
    let cleanup = runtime.block_on(connected.finish(args.target.keep));
    if !cleanup.failures.is_empty() {
        eprintln!(
            "warning: cleanup could not remove: {}",
            cleanup.failures.join("; ")
        );
    }
    if args.run.list {
        return Ok(outcome.exit_code);
    }
    // A failing run keeps its evidence in a results folder even when `--out` was not given.
    let mut reports = args.reports.clone();
    if reports.out.is_none() && outcome.report.has_regressions() {
        reports.out = Some(crate::report::outdir::DEFAULT_ROOT.into());
    }
    let code = crate::report::sinks::finish(
        &mut outcome.report,
        baseline.as_ref(),
        &reports,
        Style::detect(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )?;
    Ok(crate::commands::run::final_exit_code(code, &suite))
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
