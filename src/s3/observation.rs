//! What an endpoint answered to one [`Request`](super::Request), recorded verbatim.
//!
//! An observation is judged by the raw HTTP status, not by SDK error variants: HEAD and 304
//! responses carry no error body, and an SDK may map the same status to different errors.
//! Anything that leaves the effect of the call unknown (a timeout, a dropped connection, a 5xx)
//! is [`Outcome::Ambiguous`]: the operation may or may not have happened, so it is never a
//! failure of the endpoint.

use std::collections::BTreeMap;

use bytes::Bytes;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::request::HttpDate;

/// Why the effect of a call is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum AmbiguityCause {
    /// No complete response within the timeout.
    Timeout,
    /// The connection failed or was reset before a complete response arrived.
    ConnectionLost {
        /// The transport's description.
        detail: String,
    },
    /// The server answered 5xx; S3 documents that such a request may still have been applied.
    ServerError {
        /// The status.
        status: u16,
    },
    /// A response arrived but could not be understood, so what it reported is unknown.
    Unparseable {
        /// The parser's description.
        detail: String,
    },
}

impl std::fmt::Display for AmbiguityCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AmbiguityCause::Timeout => f.write_str("timeout"),
            AmbiguityCause::ConnectionLost { detail } => write!(f, "connection lost: {detail}"),
            AmbiguityCause::ServerError { status } => write!(f, "server error {status}"),
            AmbiguityCause::Unparseable { detail } => write!(f, "unparseable response: {detail}"),
        }
    }
}

/// Whether the call definitely did or did not take effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A complete response with a status below 500: its status says what happened.
    Definite,
    /// The call may or may not have taken effect.
    Ambiguous(AmbiguityCause),
}

/// A body reduced to what reports and comparisons need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyDigest {
    /// Length in bytes.
    pub len: usize,
    /// MD5, lowercase hex.
    pub md5: String,
    /// The body as text, when it is UTF-8 and at most [`BodyDigest::PREVIEW`] bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl BodyDigest {
    /// Bodies up to this size are kept as text in reports.
    pub const PREVIEW: usize = 1024;

    /// Digests a body.
    pub fn of(bytes: &[u8]) -> BodyDigest {
        let text = (bytes.len() <= Self::PREVIEW)
            .then(|| std::str::from_utf8(bytes).ok().map(str::to_owned))
            .flatten();
        BodyDigest {
            len: bytes.len(),
            md5: hex::encode(Md5::digest(bytes)),
            text,
        }
    }
}

/// What a DeleteObjects answer reported per key, keys relative to the session prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteResults {
    /// The keys under `<Deleted>`, sorted.
    pub deleted: Vec<String>,
    /// The keys under `<Error>`, each with its `<Code>`.
    pub errors: BTreeMap<String, String>,
}

impl std::fmt::Display for DeleteResults {
    /// `deleted [a, b]; errors {c: PreconditionFailed}`, as reports show it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "deleted {:?}; errors {:?}", self.deleted, self.errors)
    }
}

/// Everything recorded about one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Definite or ambiguous.
    pub outcome: Outcome,
    /// The raw HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// The S3 error code from the error body (`PreconditionFailed`, ...); `None` for HEAD and 304.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The S3 error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The `ETag` header (or the result's ETag element for Copy/Complete), verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The `Last-Modified` header, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Response headers, names lowercased; repeated headers joined with `, `.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The response body of a successful GetObject, digested. `None` when no body was returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyDigest>,
    /// The raw body bytes of a successful GetObject (not serialized).
    #[serde(skip)]
    pub body_bytes: Option<Bytes>,
    /// UploadId from CreateMultipartUpload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    /// Keys listed by ListObjectsV2, relative to the session prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_keys: Option<Vec<String>>,
    /// The per-key results of DeleteObjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_results: Option<DeleteResults>,
    /// A note when the response was understood only in part (e.g. a 2xx with a garbled body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Monotonic nanoseconds since the session epoch, taken just before the call.
    pub call_ns: u64,
    /// Monotonic nanoseconds since the session epoch, taken just after the response (and body).
    pub ret_ns: u64,
}

impl Observation {
    /// A definite answer with just a status, an error code and an ETag, the rest empty: what a
    /// judge or a report needs to be exercised without a server (tests, fixtures).
    pub fn answered(status: u16, code: Option<&str>, etag: Option<&str>) -> Observation {
        Observation {
            outcome: Outcome::Definite,
            status: Some(status),
            error_code: code.map(str::to_owned),
            error_message: None,
            etag: etag.map(str::to_owned),
            last_modified: None,
            headers: BTreeMap::new(),
            body: None,
            body_bytes: None,
            upload_id: None,
            listed_keys: None,
            delete_results: None,
            note: None,
            call_ns: 0,
            ret_ns: 0,
        }
    }

    /// Whether the effect of the call is unknown.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self.outcome, Outcome::Ambiguous(_))
    }

    /// The status when the outcome is definite.
    pub fn definite_status(&self) -> Option<u16> {
        match self.outcome {
            Outcome::Definite => self.status,
            Outcome::Ambiguous(_) => None,
        }
    }

    /// Whether the status is 2xx and definite.
    pub fn succeeded(&self) -> bool {
        self.definite_status()
            .is_some_and(|s| (200..300).contains(&s))
    }

    /// Last-Modified, parsed.
    pub fn last_modified_date(&self) -> Option<HttpDate> {
        self.last_modified.as_deref().and_then(HttpDate::parse)
    }

    /// A response header by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// One line for logs and diffs: `412 PreconditionFailed`, `304`, `ambiguous (timeout)`.
    pub fn summary(&self) -> String {
        match (&self.outcome, self.status, &self.error_code) {
            (Outcome::Ambiguous(cause), _, _) => format!("ambiguous ({cause})"),
            (Outcome::Definite, Some(s), Some(code)) => format!("{s} {code}"),
            (Outcome::Definite, Some(s), None) => s.to_string(),
            (Outcome::Definite, None, _) => "no status".to_owned(),
        }
    }
}

pub use crate::etag::normalize as normalize_etag;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_keeps_small_text() {
        let d = BodyDigest::of(b"hello");
        assert_eq!(d.len, 5);
        assert_eq!(d.md5, "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(d.text.as_deref(), Some("hello"));
        assert_eq!(BodyDigest::of(&[0xff, 0xfe]).text, None);
        assert_eq!(BodyDigest::of(&vec![b'a'; 2000]).text, None);
    }
}
