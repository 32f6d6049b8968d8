//! `s3conform serve`: run the embedded reference endpoint until Ctrl-C or SIGTERM.
//!
//! Unknown profile or fault names are rejected by clap (exit 2) with the list of valid names.

use std::io::Write;
use std::net::SocketAddr;

use clap::builder::{PossibleValuesParser, TypedValueParser};

use crate::exit_code;
use crate::profile::Profile;
use crate::server::{
    self, DEFAULT_ACCESS_KEY, DEFAULT_REGION, DEFAULT_SECRET_KEY, Fault, ServerConfig, ServerError,
};

/// Arguments of `s3conform serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (HOST:PORT; port 0 picks a free port).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:9000")]
    pub addr: SocketAddr,

    /// Whose conditional-request semantics to implement.
    #[arg(
        long,
        value_name = "PROFILE",
        default_value = "coreweave",
        value_parser = PossibleValuesParser::new(Profile::ALL.map(Profile::name))
            .map(|s| s.parse::<Profile>().expect("listed profile names parse")),
    )]
    pub profile: Profile,

    /// The only access key accepted (SigV4).
    #[arg(long, value_name = "KEY", default_value = DEFAULT_ACCESS_KEY)]
    pub access_key: String,

    /// The secret key for --access-key.
    #[arg(long, value_name = "KEY", default_value = DEFAULT_SECRET_KEY)]
    pub secret_key: String,

    /// Inject a bug (repeatable) to prove the suite and the checker catch it.
    #[arg(
        long = "fault",
        value_name = "NAME",
        value_parser = PossibleValuesParser::new(
            Fault::ALL.map(|f| clap::builder::PossibleValue::new(f.name()).help(f.summary()))
        )
            .map(|s| s.parse::<Fault>().expect("listed fault names parse")),
    )]
    pub faults: Vec<Fault>,

    /// Region reported by the endpoint.
    #[arg(long, value_name = "REGION", default_value = DEFAULT_REGION)]
    pub region: String,
}

/// Why `serve` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The endpoint could not start.
    #[error(transparent)]
    Start(#[from] ServerError),
    /// Waiting for a signal failed.
    #[error("cannot wait for a shutdown signal: {0}")]
    Signal(#[source] std::io::Error),
}

impl ServeError {
    /// The documented exit code: every `serve` error is a setup error.
    pub fn exit_code(&self) -> u8 {
        exit_code::SETUP_ERROR
    }
}

impl ServeArgs {
    /// The server configuration these arguments describe.
    pub fn config(&self) -> ServerConfig {
        ServerConfig {
            addr: self.addr,
            profile: self.profile,
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
            faults: self.faults.iter().copied().collect(),
            region: self.region.clone(),
        }
    }
}

/// Starts the endpoint, prints how to reach it, and serves until Ctrl-C or SIGTERM.
pub async fn run(args: &ServeArgs) -> Result<u8, ServeError> {
    let config = args.config();
    let handle = server::spawn(config.clone()).await?;
    {
        let mut out = std::io::stdout().lock();
        // The keys are printed on purpose: they only guard a local test endpoint.
        let _ = writeln!(
            out,
            "s3conform reference endpoint listening on {}",
            handle.endpoint_url()
        );
        let _ = writeln!(out, "  profile:    {}", config.profile);
        let _ = writeln!(out, "  access key: {}", config.access_key);
        let _ = writeln!(out, "  secret key: {}", config.secret_key);
        let _ = writeln!(out, "  region:     {}", config.region);
        let _ = writeln!(out, "  faults:     {}", config.faults);
        let _ = writeln!(out, "  addressing: path-style; press Ctrl-C to stop");
        let _ = out.flush();
    }
    let waited = wait_for_signal().await;
    handle.shutdown().await;
    waited.map_err(ServeError::Signal)?;
    Ok(exit_code::SUCCESS)
}

#[cfg(unix)]
async fn wait_for_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn defaults_and_repeated_faults() {
        let cli = Cli::try_parse_from([
            "x",
            "--fault",
            "stale-read",
            "--fault",
            "412-for-404",
            "--profile",
            "aws",
        ])
        .unwrap();
        let c = cli.serve.config();
        assert_eq!(c.profile, Profile::Aws);
        assert!(c.faults.has(Fault::StaleRead) && c.faults.has(Fault::FourTwelveFor404));
        assert_eq!(c.addr.port(), 9000);
        assert_eq!(c.access_key, DEFAULT_ACCESS_KEY);
    }

    #[test]
    fn unknown_names_are_usage_errors_listing_valid_ones() {
        let e = Cli::try_parse_from(["x", "--profile", "minio"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("coreweave"), "{e}");
        let e = Cli::try_parse_from(["x", "--fault", "nope"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("write-then-reset"), "{e}");
    }
}
