//! `s3conform clean`: remove what killed or `--keep` runs left under a prefix, and only that.
//!
//! Only objects carrying the tool's marker metadata are deleted (each with `If-Match` on the
//! ETag it was examined with), and only multipart uploads under a run root whose root marker
//! carries it are aborted; a foreign object that sits under the same prefix is never touched.

use std::time::Duration;

use crate::exit_code;
use crate::s3::{EndpointUrl, RunPrefix, Session, SweepOptions, Target, Timeouts};

use super::target::MAX_TIMEOUT_SECS;

/// Arguments of `s3conform clean`.
#[derive(Debug, Clone, clap::Args)]
pub struct CleanArgs {
    /// The prefix to clean, e.g. the run prefix a run printed, or a `--prefix` base; must end
    /// with `/`.
    #[arg(long, value_name = "PREFIX")]
    pub prefix: String,

    /// Only what was written at least this long ago (e.g. `1h`, `30m`; 1ms to 24h), so a run
    /// still going under the same prefix is left alone.
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_flag)]
    pub older_than: Option<Duration>,

    /// List what would be removed without removing anything.
    #[arg(long)]
    pub dry_run: bool,

    /// S3 endpoint URL.
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint: String,

    /// Bucket to clean in.
    #[arg(long, env = "S3CONFORM_BUCKET", default_value = "s3conform")]
    pub bucket: String,

    /// Signing region.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,

    /// Use virtual-hosted addressing instead of path-style.
    #[arg(long)]
    pub virtual_hosted: bool,

    /// Per-request timeout in seconds (1 to 3600).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS)
    )]
    pub timeout: u64,
}

/// Why `clean` could not run.
#[derive(Debug, thiserror::Error)]
pub enum CleanError {
    /// `--endpoint` is not a usable URL.
    #[error(transparent)]
    Endpoint(#[from] crate::s3::EndpointError),
    /// `--prefix` is not a usable prefix.
    #[error(transparent)]
    Prefix(#[from] crate::s3::KeyError),
    /// The endpoint or bucket is unusable, or a listing failed.
    #[error(transparent)]
    Setup(#[from] crate::s3::SetupError),
}

/// Cleans, prints one line per removed object or upload and a summary. Exit 0 when everything
/// found was removed, 1 when something marked could not be, 2 when the endpoint is unusable.
pub async fn run(args: &CleanArgs) -> Result<u8, CleanError> {
    let prefix = RunPrefix::parse(&args.prefix)?;
    let mut target = Target::new(EndpointUrl::parse(&args.endpoint)?, args.bucket.clone());
    target.region = args.region.clone();
    target.path_style = !args.virtual_hosted;
    target.timeouts = Timeouts {
        operation: Duration::from_secs(args.timeout),
        ..Timeouts::default()
    };
    let session = Session::connect(target, prefix).await?;
    // Deleting by key on a versioned bucket only adds delete markers: refuse rather than
    // report objects as removed while every version stays.
    session.refuse_versioning().await?;
    let opts = SweepOptions {
        older_than: args.older_than,
        dry_run: args.dry_run,
    };
    let report = session.sweep(opts).await?;
    if session.halt().reason() == Some(crate::s3::HaltReason::Stuck) {
        eprintln!(
            "s3conform: error: the endpoint stopped answering (no response for {} s); {} objects \
             removed before it did, the rest remain under {}",
            crate::s3::Halt::stall_for(Duration::from_secs(args.timeout)).as_secs(),
            report.deleted.len(),
            args.prefix
        );
        return Ok(exit_code::SETUP_ERROR);
    }
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    for key in &report.deleted {
        println!("{verb} {key}");
    }
    let verb_abort = if args.dry_run {
        "would abort"
    } else {
        "aborted"
    };
    for upload in &report.aborted {
        println!("{verb_abort} {upload}");
    }
    for failure in &report.failures {
        eprintln!("error: {failure}");
    }
    println!(
        "{} objects under {}: {} {verb}, {} uploads {verb_abort}, {} without the s3conform marker \
         left alone, {} newer than --older-than, {} failed",
        report.examined,
        args.prefix,
        report.deleted.len(),
        report.aborted.len(),
        report.foreign,
        report.recent,
        report.failures.len()
    );
    Ok(if report.failures.is_empty() {
        exit_code::SUCCESS
    } else {
        exit_code::FAILURE
    })
}
