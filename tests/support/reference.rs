//! A running reference endpoint plus an aws-sdk-s3 client configured the way the tool measures:
//! retries off, checksums only when required, path-style.

use std::fmt::Debug;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse as RawResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{
    Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use s3conform::profile::Profile;
use s3conform::server::{self, Fault, FaultSet, ServerConfig, ServerHandle};

pub const BUCKET: &str = "ref";

pub struct Env {
    pub handle: ServerHandle,
    pub client: Client,
}

pub fn client_for(url: &str) -> Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .http_client(s3conform::s3::http_client())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            server::DEFAULT_ACCESS_KEY,
            server::DEFAULT_SECRET_KEY,
            None,
            None,
            "test",
        ))
        .force_path_style(true)
        .retry_config(RetryConfig::disabled())
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    Client::from_conf(conf)
}

impl Env {
    pub async fn start(profile: Profile) -> Env {
        Env::with_faults(profile, FaultSet::none()).await
    }

    pub async fn with_fault(fault: Fault) -> Env {
        Env::with_faults(Profile::Coreweave, FaultSet::from(fault)).await
    }

    pub async fn with_faults(profile: Profile, faults: FaultSet) -> Env {
        let config = ServerConfig {
            profile,
            faults,
            ..ServerConfig::default()
        };
        let handle = server::spawn(config).await.expect("server starts");
        let client = client_for(&handle.endpoint_url());
        client
            .create_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .expect("bucket");
        Env { handle, client }
    }

    /// PUT and return the quoted ETag.
    pub async fn put(&self, key: &str, body: &str) -> String {
        let out = self
            .client
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .expect("put");
        out.e_tag.expect("etag")
    }

    /// GET and return the body, or the failure.
    pub async fn body(&self, key: &str) -> Result<String, Fail> {
        match self
            .client
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
        {
            Ok(o) => Ok(String::from_utf8(o.body.collect().await.unwrap().to_vec()).unwrap()),
            Err(e) => Err(Fail::from_sdk(e)),
        }
    }

    /// The quoted ETag of the current version, via HEAD.
    pub async fn etag(&self, key: &str) -> Option<String> {
        self.client
            .head_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .ok()
            .and_then(|o| o.e_tag)
    }
}

/// What a failed call showed on the wire.
#[derive(Debug, Clone)]
pub struct Fail {
    /// `None`: no response at all (dispatch failure, reset).
    pub status: Option<u16>,
    pub code: Option<String>,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Fail {
    pub fn from_sdk<E: ProvideErrorMetadata + Debug>(e: SdkError<E, RawResponse>) -> Fail {
        let code = e
            .as_service_error()
            .and_then(|s| s.code())
            .map(str::to_owned);
        match e.raw_response() {
            Some(raw) => Fail {
                status: Some(raw.status().as_u16()),
                code,
                body: raw.body().bytes().map(<[u8]>::to_vec).unwrap_or_default(),
                etag: raw.headers().get("etag").map(str::to_owned),
                last_modified: raw.headers().get("last-modified").map(str::to_owned),
            },
            None => Fail {
                status: None,
                code,
                body: vec![],
                etag: None,
                last_modified: None,
            },
        }
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The failure of a call that must fail.
pub fn fail<T: Debug, E: ProvideErrorMetadata + Debug>(
    r: Result<T, SdkError<E, RawResponse>>,
) -> Fail {
    match r {
        Ok(v) => panic!("expected a failure, got {v:?}"),
        Err(e) => Fail::from_sdk(e),
    }
}

/// Status of a call: 200 for success, the raw status otherwise (0 for no response).
pub fn status<T, E: ProvideErrorMetadata + Debug>(r: Result<T, SdkError<E, RawResponse>>) -> u16 {
    match r {
        Ok(_) => 200,
        Err(e) => Fail::from_sdk(e).status.unwrap_or(0),
    }
}

/// Asserts a failure's status and S3 error code.
#[track_caller]
pub fn expect(f: &Fail, status: u16, code: &str) {
    assert_eq!(f.status, Some(status), "{f:?} body={}", f.body_text());
    assert_eq!(
        f.code.as_deref(),
        Some(code),
        "{f:?} body={}",
        f.body_text()
    );
}

/// The expected answer to `If-None-Match: <etag>` on a write, per profile.
pub fn inm_value_answer(profile: Profile) -> (u16, &'static str) {
    match profile {
        Profile::Coreweave => (400, "InvalidRequest"),
        Profile::Aws => (501, "NotImplemented"),
    }
}

/// The expected status of a race loser, per profile.
pub fn loser_answer(profile: Profile) -> (u16, &'static str) {
    match profile {
        Profile::Coreweave => (409, "ConditionalRequestConflict"),
        Profile::Aws => (412, "PreconditionFailed"),
    }
}

pub fn unquoted(etag: &str) -> String {
    etag.trim_matches('"').to_owned()
}

/// An HTTP-date `secs` seconds from a given HTTP-date.
pub fn shift(http_date: &str, secs: i64) -> aws_sdk_s3::primitives::DateTime {
    let t = httpdate::parse_http_date(http_date).expect("http date");
    let t = if secs >= 0 {
        t + std::time::Duration::from_secs(secs as u64)
    } else {
        t - std::time::Duration::from_secs((-secs) as u64)
    };
    aws_sdk_s3::primitives::DateTime::from(t)
}
