//! Which endpoint to talk to and how: the one place an `aws_sdk_s3::Client` is configured.
//!
//! The client is set up for recording outcomes, not for convenience: SDK retries are off (a
//! silently retried create turns a win into a 412), request checksums are sent only when an
//! operation requires them (many S3-compatible servers reject aws-chunked bodies with CRC
//! trailers), and path-style addressing is the default for a custom endpoint.

use std::time::Duration;

use aws_sdk_s3::config::SharedHttpClient;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_smithy_http_client::tls;

/// The error for an endpoint URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid endpoint URL `{url}`: {reason}")]
pub struct EndpointError {
    /// What the user gave.
    pub url: String,
    /// Why it is refused.
    pub reason: &'static str,
}

/// A validated `http://` or `https://` endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(String);

impl EndpointUrl {
    /// Validates a URL: an http or https scheme, a host, and no query or fragment.
    pub fn parse(url: &str) -> Result<EndpointUrl, EndpointError> {
        let err = |reason| EndpointError {
            url: url.to_owned(),
            reason,
        };
        let uri: http::Uri = url.parse().map_err(|_| err("not a URL"))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            Some(_) => return Err(err("the scheme must be http or https")),
            None => return Err(err("missing scheme (e.g. http://127.0.0.1:9000)")),
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(err("missing host"));
        }
        if uri.query().is_some() {
            return Err(err("a query string is not allowed"));
        }
        Ok(EndpointUrl(url.trim_end_matches('/').to_owned()))
    }

    /// The URL as given, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An access key pair given explicitly (the embedded endpoint's, or `--access-key`).
#[derive(Clone, PartialEq, Eq)]
pub struct StaticKeys {
    /// Access key id.
    pub access_key: String,
    /// Secret key. Never printed: see the `Debug` impl.
    pub secret_key: String,
}

impl std::fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKeys")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// Client-side time limits. A call that exceeds them is recorded as ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP (and TLS) connect.
    pub connect: Duration,
    /// One whole attempt, request to last response byte.
    pub operation: Duration,
}

impl Default for Timeouts {
    /// Generous enough for a loaded 2-core CI machine, short enough that a dead endpoint is
    /// reported within 10 s.
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(3),
            operation: Duration::from_secs(30),
        }
    }
}

/// Everything needed to reach one bucket on one endpoint.
#[derive(Debug, Clone)]
pub struct Target {
    /// The endpoint.
    pub endpoint: EndpointUrl,
    /// The bucket every key lives in.
    pub bucket: String,
    /// The signing region.
    pub region: String,
    /// Path-style (`host/bucket/key`) rather than virtual-hosted addressing.
    pub path_style: bool,
    /// Explicit keys; `None` uses the standard AWS credential chain.
    pub keys: Option<StaticKeys>,
    /// Create the bucket when it is missing, instead of failing.
    pub create_bucket: bool,
    /// Client time limits.
    pub timeouts: Timeouts,
}

impl Target {
    /// A target with the defaults: region us-east-1, path-style, credential chain.
    pub fn new(endpoint: EndpointUrl, bucket: impl Into<String>) -> Target {
        Target {
            endpoint,
            bucket: bucket.into(),
            region: "us-east-1".to_owned(),
            path_style: true,
            keys: None,
            create_bucket: false,
            timeouts: Timeouts::default(),
        }
    }

    /// Builds the SDK client for this target.
    pub async fn client(&self) -> aws_sdk_s3::Client {
        let http = http_client();
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(self.timeouts.connect)
            .operation_attempt_timeout(self.timeouts.operation)
            .operation_timeout(self.timeouts.operation)
            .build();
        let mut builder = match &self.keys {
            Some(keys) => aws_sdk_s3::config::Builder::new()
                .behavior_version(BehaviorVersion::latest())
                .http_client(http)
                .credentials_provider(Credentials::new(
                    keys.access_key.clone(),
                    keys.secret_key.clone(),
                    None,
                    None,
                    "s3conform-static",
                )),
            None => {
                let shared = aws_config::defaults(BehaviorVersion::latest())
                    .region(Region::new(self.region.clone()))
                    .http_client(http)
                    .load()
                    .await;
                aws_sdk_s3::config::Builder::from(&shared)
            }
        };
        builder = builder
            .region(Region::new(self.region.clone()))
            .endpoint_url(self.endpoint.as_str())
            .force_path_style(self.path_style)
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        aws_sdk_s3::Client::from_conf(builder.build())
    }
}

/// The HTTP(S) client every SDK client of this tool uses: rustls on ring, with the platform's
/// trusted roots. One place, so that tests and benches build clients exactly as the tool does.
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_validated() {
        assert!(EndpointUrl::parse("http://127.0.0.1:9000").is_ok());
        assert!(EndpointUrl::parse("https://s3.example.com/").is_ok());
        for bad in [
            "",
            "127.0.0.1:9000",
            "ftp://x",
            "http://",
            "http://h/?a=b",
            "not a url",
        ] {
            assert!(
                EndpointUrl::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn secrets_are_not_printed() {
        let k = StaticKeys {
            access_key: "AK".into(),
            secret_key: "very-secret".into(),
        };
        assert!(!format!("{k:?}").contains("very-secret"));
    }
}
