//! The command line: clap definitions and dispatch. `main` only parses, calls [`run`], and maps
//! the result to an exit code.

use clap::{Parser, Subcommand};

use crate::commands::interrupt::{Cleanup, Interrupts, left_behind, report_stop};
use crate::commands::{
    bench::BenchArgs, certify::CertifyArgs, check::CheckArgs, clean::CleanArgs,
    compare::CompareArgs, fuzz::FuzzArgs, list::ListArgs, run::RunArgs, serve::ServeArgs,
    target::TargetArgs,
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
    /// Certify an endpoint against a profile's documented promises: the suite and a level's
    /// fuzz campaigns, judged per requirement, written as a certificate (JSON, Markdown, HTML,
    /// badge) with its evidence; `--verify CERT.json` checks one.
    Certify(CertifyArgs),
    /// Remove what killed or `--keep` runs left under a prefix: only objects and uploads that
    /// carry s3conform's marker.
    Clean(CleanArgs),
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> Result<u8, Error> {
    // Only the commands that talk to an endpoint get a runtime: starting and joining its worker
    // threads costs a file check a measurable part of its time.
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)
    };
    match cli.command {
        Command::Fuzz(args) => Ok(runtime()?.block_on(crate::commands::fuzz::run(&args))?),
        Command::Serve(args) => Ok(runtime()?.block_on(crate::commands::serve::run(&args))?),
        Command::Run(args) => run_suite(&args, &runtime()?),
        Command::List(args) => Ok(crate::commands::list::run(&args)?),
        Command::Check(args) => Ok(crate::commands::check::run(&args)?),
        Command::Compare(args) => Ok(crate::commands::compare::run(&args)?),
        Command::Bench(args) => Ok(crate::commands::bench::run(&args)?),
        Command::Certify(args) => Ok(crate::commands::certify::run(&args, &runtime()?)?),
        Command::Clean(args) => Ok(runtime()?.block_on(crate::commands::clean::run(&args))?),
    }
}

/// `run`: load the cases (failing fast on a bad directory or an empty selection), connect,
/// run every case on this runtime, clean up, then render every requested report.
fn run_suite(args: &RunCommand, runtime: &tokio::runtime::Runtime) -> Result<u8, Error> {
    let suite = args.run.load()?;
    let baseline = args.reports.load_baseline()?;
    let connected = runtime.block_on(args.target.connect())?;
    let halt = connected.session.halt().clone();
    let root = connected.session.root_prefix().to_string();
    let bucket = connected.session.bucket().to_owned();
    let interrupts = Interrupts::watch(
        runtime.handle(),
        halt.clone(),
        root.clone(),
        connected.session.cleanup_bound(),
    );
    eprintln!(
        "s3conform run: {} ({}), bucket {}, run prefix {} (after a kill: s3conform clean --prefix {})",
        connected.info.url,
        connected.info.label,
        connected.session.bucket(),
        connected.session.root_prefix(),
        connected.session.root_prefix()
    );
    let mut outcome = crate::commands::run::run(
        &args.run,
        &suite,
        &connected.session,
        connected.info.clone(),
        args.target.profile,
        runtime.handle(),
    );
    let keep = args.target.keep;
    let cleanup = runtime.block_on(interrupts.finish(connected, keep));
    let cleaned = Cleanup::of(cleanup.as_ref(), keep);
    if let Some(reason) = halt.reason() {
        let timeout = std::time::Duration::from_secs(args.target.timeout);
        return Ok(report_stop(reason, cleaned, &root, timeout));
    }
    if !keep && let Some(line) = left_behind(cleaned, &root) {
        eprintln!("warning: {line}");
    }
    if args.run.list {
        return Ok(outcome.exit_code);
    }
    outcome.report.location = Some(crate::report::model::RunLocation {
        bucket,
        run_prefix: root.clone(),
    });
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
    Ok(crate::exit_code::with_malformed(code, suite.errors.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Out-of-range numbers are usage errors (exit 2) that state the range, never panics.
    #[test]
    fn numeric_flags_state_their_range() {
        for (argv, range) in [
            (
                &["x", "fuzz", "--timeout", "18446744073709551615"][..],
                "1..=3600",
            ),
            (
                &["x", "fuzz", "--ops", "18446744073709551615"],
                "1..=1000000",
            ),
            (&["x", "fuzz", "--ops", "0"], "1..=1000000"),
            (
                &["x", "fuzz", "--duration", "99999999999999999999h"],
                "1ms to 24h",
            ),
            (&["x", "fuzz", "--check-budget", "0s"], "1ms to 24h"),
            (&["x", "run", "--test-threads", "0"], "1..=256"),
            (&["x", "run", "--timeout", "0"], "1..=3600"),
            (&["x", "fuzz", "--writers", "5000"], "1..=1024"),
            (
                &["x", "check", "h.jsonl", "--max-states", "0"],
                "1..=100000000",
            ),
            (
                &[
                    "x",
                    "check",
                    "h.jsonl",
                    "--max-states",
                    "18446744073709551615",
                ],
                "1..=100000000",
            ),
            (&["x", "check", "h.jsonl", "--threads", "0"], "1..=256"),
            (
                &["x", "bench", "--reps", "18446744073709551615"],
                "1..=1000",
            ),
            (&["x", "compare", "a.json", "--width", "5"], "20..=1000"),
        ] {
            let e = Cli::try_parse_from(argv).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{argv:?}");
            assert!(e.to_string().contains(range), "{argv:?}: {e}");
        }
    }

    /// A property test over random argv built from every subcommand, every flag and hostile
    /// values: parsing never panics, and an error is always exit 2 (or 0 for --help).
    #[test]
    fn random_argv_never_panics() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let cmd = Cli::command();
        let subcommands: Vec<String> = cmd
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        let mut flags: Vec<String> = Vec::new();
        for sub in cmd.get_subcommands() {
            for arg in sub.get_arguments() {
                if let Some(l) = arg.get_long() {
                    flags.push(format!("--{l}"));
                }
            }
        }
        let values = [
            "",
            "0",
            "1",
            "-1",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999h",
            "1e308",
            "NaN",
            "inf",
            "-0",
            "0.0000001ms",
            "3s",
            "24h",
            "25h",
            "\u{0}",
            "é",
            "../..",
            "/",
            "s3conform/",
            "http://127.0.0.1:1",
            "ftp://x",
            "rmw=0",
            "rmw=x,create",
            "=",
            "--",
            "-",
            "coreweave",
            "aws",
            "stale-read",
            "1024",
            "65536",
            "127.0.0.1:0",
            "[::1]:99999",
        ];
        let mut rng = StdRng::seed_from_u64(0x5afe);
        for _ in 0..4000 {
            let mut argv = vec!["s3conform".to_owned()];
            if rng.random_bool(0.95) {
                argv.push(subcommands[rng.random_range(0..subcommands.len())].clone());
            }
            for _ in 0..rng.random_range(0..6) {
                if rng.random_bool(0.7) {
                    argv.push(flags[rng.random_range(0..flags.len())].clone());
                }
                if rng.random_bool(0.7) {
                    argv.push(values[rng.random_range(0..values.len())].to_owned());
                }
            }
            let parsed = std::panic::catch_unwind(|| Cli::try_parse_from(&argv));
            match parsed {
                Err(_) => panic!("parsing {argv:?} panicked"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => assert!(
                    matches!(e.exit_code(), 0 | 2),
                    "{argv:?}: exit {}",
                    e.exit_code()
                ),
            }
        }
    }
}
