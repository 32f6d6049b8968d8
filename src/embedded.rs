//! Starting the embedded reference endpoint and connecting to it: the one recipe `run`, `fuzz`
//! and the tests share, so a session on the embedded endpoint always signs with the keys the
//! endpoint was started with, in its region, and creates its bucket.

use crate::s3::{EndpointError, EndpointUrl, RunPrefix, Session, SetupError, StaticKeys, Target};
use crate::server::{self, ServerConfig, ServerError, ServerHandle};

/// Why the embedded endpoint could not be started or reached.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The endpoint could not start (the address could not be bound, ...).
    #[error("failed to start the embedded reference endpoint")]
    Start(#[from] ServerError),
    /// The endpoint's URL is not usable (a bug: the server chose it).
    #[error(transparent)]
    Url(#[from] EndpointError),
    /// The session could not be set up on it.
    #[error(transparent)]
    Setup(#[from] SetupError),
}

/// The embedded endpoint and a session on it; dropping `server` stops the endpoint.
#[derive(Debug)]
pub struct Embedded {
    /// The session, rooted at the prefix asked for.
    pub session: Session,
    /// The running endpoint.
    pub server: ServerHandle,
}

/// A target for the embedded endpoint reached at `url` (its own address, or a proxy in front of
/// it), signing with `config`'s keys in `config`'s region and creating `bucket` if missing.
pub fn target(url: &str, config: &ServerConfig, bucket: &str) -> Result<Target, EndpointError> {
    let mut target = Target::new(EndpointUrl::parse(url)?, bucket);
    target.region = config.region.clone();
    target.keys = Some(StaticKeys {
        access_key: config.access_key.clone(),
        secret_key: config.secret_key.clone(),
    });
    target.create_bucket = true;
    Ok(target)
}

/// Starts an embedded endpoint from `config` and connects a session on `bucket` under `prefix`.
pub async fn start(
    config: ServerConfig,
    bucket: &str,
    prefix: RunPrefix,
) -> Result<Embedded, EmbeddedError> {
    let server = server::spawn(config.clone()).await?;
    let target = target(&server.endpoint_url(), &config, bucket)?;
    let session = Session::connect(target, prefix).await?;
    Ok(Embedded { session, server })
}
