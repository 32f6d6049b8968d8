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
    #[arg(
        long,
        value_name = "KEY",
        env = "S3CONFORM_ACCESS_KEY",
        default_value = DEFAULT_ACCESS_KEY
    )]
    pub access_key: String,

    /// The secret key for --access-key. Prefer S3CONFORM_SECRET_KEY or --secret-key-file: a
    /// command line is visible to every user in `ps`. Never printed.
    #[arg(
        long,
        value_name = "KEY",
        env = "S3CONFORM_SECRET_KEY",
        hide_env_values = true,
        hide_default_value = true,
        default_value = DEFAULT_SECRET_KEY,
        conflicts_with = "secret_key_file",
        value_parser = |s: &str| Ok::<Secret, String>(Secret(s.to_owned()))
    )]
    pub secret_key: Secret,

    /// Read the secret key from FILE (its first line).
    #[arg(long, value_name = "FILE", value_parser = read_secret_file)]
    pub secret_key_file: Option<Secret>,

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
    #[error("failed to wait for a shutdown signal")]
    Signal(#[source] std::io::Error),
}

impl ServeError {
    /// The documented exit code: every `serve` error is a setup error.
    pub fn exit_code(&self) -> u8 {
        exit_code::of_error(self)
    }
}

/// A secret key; `Debug` does not show it.
#[derive(Clone)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Reads `--secret-key-file` at parse time, so a missing or empty file is a usage error
/// (exit 2) naming the file.
fn read_secret_file(path: &str) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read secret key file {path}: {e}"))?;
    let secret = text.lines().next().unwrap_or("").trim().to_owned();
    if secret.is_empty() {
        return Err(format!("secret key file {path} is empty"));
    }
    Ok(Secret(secret))
}

impl ServeArgs {
    /// Where the secret key came from, as the banner says it (the key itself is never shown).
    pub fn secret_source(&self) -> &'static str {
        if self.secret_key_file.is_some() {
            "from --secret-key-file"
        } else if std::env::var_os("S3CONFORM_SECRET_KEY").is_some() {
            "from S3CONFORM_SECRET_KEY"
        } else if self.secret_key.0 == DEFAULT_SECRET_KEY {
            "the default (see --help)"
        } else {
            "from --secret-key"
        }
    }

    /// The server configuration these arguments describe.
    pub fn config(&self) -> ServerConfig {
        let secret_key = match &self.secret_key_file {
            Some(Secret(s)) => s.clone(),
            None => self.secret_key.0.clone(),
        };
        ServerConfig {
            addr: self.addr,
            profile: self.profile,
            access_key: self.access_key.clone(),
            secret_key,
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
        let _ = writeln!(
            out,
            "s3conform reference endpoint listening on {}",
            handle.endpoint_url()
        );
        let _ = writeln!(out, "  profile:    {}", config.profile);
        let _ = writeln!(out, "  access key: {}", config.access_key);
        let _ = writeln!(out, "  secret key: <not shown> ({})", args.secret_source());
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
    fn the_secret_comes_from_a_file_and_is_never_in_debug_output() {
        let path = std::env::temp_dir().join(format!("s3conform-secret-{}", std::process::id()));
        std::fs::write(&path, "from-the-file\n").unwrap();
        let cli = Cli::try_parse_from(["x", "--secret-key-file", path.to_str().unwrap()]).unwrap();
        assert_eq!(cli.serve.config().secret_key, "from-the-file");
        assert_eq!(cli.serve.secret_source(), "from --secret-key-file");
        assert!(!format!("{:?}", cli.serve).contains("from-the-file"));
        let cli = Cli::try_parse_from(["x", "--secret-key", "on-argv"]).unwrap();
        assert!(!format!("{:?}", cli.serve).contains("on-argv"));
        assert_eq!(cli.serve.config().secret_key, "on-argv");
        std::fs::write(&path, "\n").unwrap();
        let e =
            Cli::try_parse_from(["x", "--secret-key-file", path.to_str().unwrap()]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("is empty"), "{e}");
        let _ = std::fs::remove_file(&path);
        let e = Cli::try_parse_from(["x", "--secret-key-file", "/nonexistent/secret"]).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/secret"), "{e}");
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
