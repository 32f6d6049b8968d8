//! `--endpoint`, `--bucket`, ... shared by `run` and `fuzz`: which endpoint to test, and the
//! embedded reference endpoint when none is given.

use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};

use crate::profile::Profile;
use crate::report::EndpointInfo;
use crate::s3::{EndpointUrl, RunPrefix, Session, Target, Timeouts};
use crate::server::{self, Fault, ServerConfig, ServerHandle};

/// The longest `--timeout`, in seconds.
pub const MAX_TIMEOUT_SECS: u64 = 3600;

/// Where to send requests. With no `--endpoint` (and no `AWS_ENDPOINT_URL`), an embedded
/// reference endpoint is started on 127.0.0.1 and used.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// S3 endpoint URL; when absent, the embedded reference endpoint is started and used.
    #[arg(
        long,
        env = "AWS_ENDPOINT_URL",
        value_name = "URL",
        help_heading = "Target"
    )]
    pub endpoint: Option<String>,

    /// Bucket to work in; every key goes under the run prefix inside it.
    #[arg(
        long,
        env = "S3CONFORM_BUCKET",
        default_value = "s3conform",
        help_heading = "Target"
    )]
    pub bucket: String,

    /// Signing region.
    #[arg(
        long,
        env = "AWS_REGION",
        default_value = "us-east-1",
        help_heading = "Target"
    )]
    pub region: String,

    /// Use virtual-hosted addressing instead of path-style (the default for custom endpoints).
    #[arg(long, help_heading = "Target")]
    pub virtual_hosted: bool,

    /// Create the bucket if it does not exist (otherwise a missing bucket is an error).
    #[arg(long, help_heading = "Target")]
    pub create_bucket: bool,

    /// Base prefix: this run's keys go under `<PREFIX><run-id>/`, a fresh root checked to be
    /// empty, so runs sharing a prefix never share a key (default `s3conform/`); must end
    /// with `/`.
    #[arg(long, value_name = "PREFIX", help_heading = "Target")]
    pub prefix: Option<String>,

    /// Leave the objects this run created instead of deleting them.
    #[arg(long, help_heading = "Target")]
    pub keep: bool,

    /// Per-request timeout in seconds (1 to 3600); a request that exceeds it is recorded as
    /// ambiguous, and every phase's deadline follows from it.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS),
        help_heading = "Target"
    )]
    pub timeout: u64,

    /// Name for this endpoint in reports and matrices (default: `reference` for the embedded
    /// endpoint, else the endpoint's host:port).
    #[arg(long, value_name = "NAME", help_heading = "Target")]
    pub label: Option<String>,

    /// Vendor profile: whose documented semantics the expectations follow, and what the
    /// embedded endpoint implements.
    #[arg(
        long,
        env = "S3CONFORM_PROFILE",
        default_value = "coreweave",
        value_parser = PossibleValuesParser::new(Profile::ALL.map(Profile::name))
            .map(|s| s.parse::<Profile>().unwrap_or_default()),
        help_heading = "Target"
    )]
    pub profile: Profile,

    /// Inject a bug into the embedded endpoint (repeatable); only without `--endpoint`. Used to
    /// show that the suite and the fuzzer catch it.
    #[arg(
        long = "fault",
        value_name = "NAME",
        value_parser = PossibleValuesParser::new(Fault::ALL.map(Fault::name))
            .map(|s| s.parse::<Fault>().expect("listed fault names parse")),
        help_heading = "Target"
    )]
    pub faults: Vec<Fault>,
}

/// The error for a target that cannot be reached or set up.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// `--endpoint` is not a usable URL.
    #[error(transparent)]
    Endpoint(#[from] crate::s3::EndpointError),
    /// `--prefix` is not a usable prefix.
    #[error(transparent)]
    Prefix(#[from] crate::s3::KeyError),
    /// The embedded endpoint could not start.
    #[error("failed to start the embedded reference endpoint")]
    Embedded(#[from] crate::server::ServerError),
    /// The endpoint or bucket is unusable.
    #[error(transparent)]
    Setup(#[from] crate::s3::SetupError),
    /// `--fault` only applies to the embedded endpoint.
    #[error(
        "--fault only applies to the embedded endpoint; drop --endpoint (and AWS_ENDPOINT_URL) to use it"
    )]
    FaultWithEndpoint,
}

/// A connected target: the session, how reports name it, and the embedded server if one was
/// started (dropping it stops the server).
#[derive(Debug)]
pub struct Connected {
    /// The session rooted at the run prefix.
    pub session: Session,
    /// The endpoint as reports name it.
    pub info: EndpointInfo,
    /// The embedded endpoint, when no `--endpoint` was given.
    pub server: Option<ServerHandle>,
}

impl Connected {
    /// Cleans up (unless `--keep`) and stops the embedded endpoint.
    pub async fn finish(self, keep: bool) -> crate::s3::CleanupReport {
        let report = if keep || self.server.is_some() {
            // The embedded endpoint's state dies with it; nothing to clean.
            crate::s3::CleanupReport::default()
        } else {
            self.session.cleanup().await
        };
        if let Some(server) = self.server {
            server.shutdown().await;
        }
        report
    }
}

impl TargetArgs {
    /// Starts the embedded endpoint if needed, connects, and checks the bucket.
    pub async fn connect(&self) -> Result<Connected, TargetError> {
        let base = RunPrefix::parse(self.prefix.as_deref().unwrap_or(RunPrefix::DEFAULT_BASE))?;
        let timeouts = Timeouts {
            operation: Duration::from_secs(self.timeout.max(1)),
            ..Timeouts::default()
        };
        let endpoint = self.endpoint.as_deref().filter(|e| !e.trim().is_empty());
        match endpoint {
            Some(url) => {
                if !self.faults.is_empty() {
                    return Err(TargetError::FaultWithEndpoint);
                }
                let url = EndpointUrl::parse(url)?;
                let label = self
                    .label
                    .clone()
                    .unwrap_or_else(|| host_label(url.as_str()));
                let mut target = Target::new(url.clone(), self.bucket.clone());
                target.region = self.region.clone();
                target.path_style = !self.virtual_hosted;
                target.create_bucket = self.create_bucket;
                target.timeouts = timeouts;
                let session = Session::connect_run(target, &base).await?;
                let info = EndpointInfo {
                    url: url.to_string(),
                    label,
                    embedded: false,
                };
                Ok(Connected {
                    session,
                    info,
                    server: None,
                })
            }
            None => {
                let config = ServerConfig {
                    profile: self.profile,
                    faults: self.faults.iter().copied().collect(),
                    region: self.region.clone(),
                    ..ServerConfig::default()
                };
                let handle = server::spawn(config.clone()).await?;
                let url = EndpointUrl::parse(&handle.endpoint_url())?;
                let mut target = crate::embedded::target(url.as_str(), &config, &self.bucket)?;
                target.timeouts = timeouts;
                let session = Session::connect_run(target, &base).await?;
                let mut label = self.label.clone().unwrap_or_else(|| "reference".to_owned());
                if !self.faults.is_empty() && self.label.is_none() {
                    let names: Vec<_> = self.faults.iter().map(|f| f.name()).collect();
                    label = format!("reference+{}", names.join("+"));
                }
                let info = EndpointInfo {
                    url: url.to_string(),
                    label,
                    embedded: true,
                };
                Ok(Connected {
                    session,
                    info,
                    server: Some(handle),
                })
            }
        }
    }
}

/// `host:port` of a URL, the default label of a custom endpoint.
fn host_label(url: &str) -> String {
    url.parse::<http::Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_else(|| url.to_owned())
}
