//! What the tool can ask of an S3 endpoint: one [`Request`] per S3 call.
//!
//! Each operation carries exactly the precondition headers S3 defines for it, so a request that
//! puts `x-amz-copy-source-if-match` on a GET cannot be built. Anything else (a header the SDK has
//! no setter for, a malformed value on purpose, a duplicate) goes in [`Request::raw_headers`] and
//! is added through the SDK's `mutate_request`, before signing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::Serialize;

use super::key::Key;

/// An HTTP date with second precision, as S3's Last-Modified and the date preconditions use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HttpDate {
    /// Seconds since the Unix epoch.
    secs: i64,
}

impl HttpDate {
    /// From Unix seconds.
    pub fn from_unix(secs: i64) -> HttpDate {
        HttpDate { secs }
    }

    /// Parses an IMF-fixdate such as `Wed, 21 Oct 2015 07:28:00 GMT` (also the obsolete forms
    /// RFC 9110 requires recipients to accept).
    pub fn parse(s: &str) -> Option<HttpDate> {
        let t = httpdate::parse_http_date(s.trim()).ok()?;
        let secs = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
        Some(HttpDate {
            secs: i64::try_from(secs).ok()?,
        })
    }

    /// Unix seconds.
    pub fn unix(self) -> i64 {
        self.secs
    }

    /// This date shifted by a signed number of seconds (`${t1+1s}` in a case).
    pub fn offset(self, secs: i64) -> HttpDate {
        HttpDate {
            secs: self.secs.saturating_add(secs),
        }
    }

    /// The current wall-clock time, truncated to seconds.
    pub fn now() -> HttpDate {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        HttpDate {
            secs: i64::try_from(secs).unwrap_or(i64::MAX),
        }
    }

    /// As a `SystemTime`; dates before the epoch clamp to it.
    pub fn system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(u64::try_from(self.secs).unwrap_or(0))
    }

    /// For the SDK's typed setters.
    pub fn smithy(self) -> aws_sdk_s3::primitives::DateTime {
        aws_sdk_s3::primitives::DateTime::from_secs(self.secs)
    }
}

impl std::fmt::Display for HttpDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&httpdate::fmt_http_date(self.system_time()))
    }
}

impl Serialize for HttpDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The four RFC 9110 preconditions, as GET and HEAD (and RenameObject's destination) take them.
/// Values are sent verbatim: an ETag may be quoted, unquoted, weak, `*` or a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Preconditions {
    /// `If-Match`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_match: Option<String>,
    /// `If-None-Match`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_none_match: Option<String>,
    /// `If-Modified-Since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_modified_since: Option<HttpDate>,
    /// `If-Unmodified-Since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_unmodified_since: Option<HttpDate>,
}

impl Preconditions {
    /// Whether no header is set.
    pub fn is_empty(&self) -> bool {
        *self == Preconditions::default()
    }
}

/// The write preconditions of PutObject, CompleteMultipartUpload and CopyObject's destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WriteConditions {
    /// `If-Match`: compare-and-swap against the current ETag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_match: Option<String>,
    /// `If-None-Match`: `*` is a safe create; any other value is an error on every vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_none_match: Option<String>,
}

impl WriteConditions {
    /// Whether no header is set.
    pub fn is_empty(&self) -> bool {
        *self == WriteConditions::default()
    }
}

/// One completed part for CompleteMultipartUpload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompletedPart {
    /// 1-based part number.
    pub part_number: i32,
    /// The ETag UploadPart returned, verbatim.
    pub etag: String,
}

/// One object of a DeleteObjects request, with its own conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeleteTarget {
    /// The object.
    pub key: Key,
    /// `<ETag>`, sent as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `<LastModifiedTime>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_time: Option<HttpDate>,
    /// `<Size>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// One S3 call.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// GetObject; the body is read to the end and digested.
    GetObject {
        /// The object.
        key: Key,
        /// Read preconditions.
        #[serde(skip_serializing_if = "Preconditions::is_empty")]
        cond: Preconditions,
    },
    /// HeadObject.
    HeadObject {
        /// The object.
        key: Key,
        /// Read preconditions.
        #[serde(skip_serializing_if = "Preconditions::is_empty")]
        cond: Preconditions,
    },
    /// PutObject.
    PutObject {
        /// The object.
        key: Key,
        /// The bytes to store.
        #[serde(serialize_with = "body_summary")]
        body: Bytes,
        /// User metadata (`x-amz-meta-*`), e.g. the fuzzer's write id.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        metadata: Vec<(String, String)>,
        /// Write preconditions.
        #[serde(skip_serializing_if = "WriteConditions::is_empty")]
        cond: WriteConditions,
    },
    /// CreateMultipartUpload.
    CreateMultipartUpload {
        /// The object.
        key: Key,
        /// User metadata.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        metadata: Vec<(String, String)>,
    },
    /// UploadPart.
    UploadPart {
        /// The object.
        key: Key,
        /// From CreateMultipartUpload.
        upload_id: String,
        /// 1-based.
        part_number: i32,
        /// The part's bytes.
        #[serde(serialize_with = "body_summary")]
        body: Bytes,
    },
    /// CompleteMultipartUpload; preconditions are evaluated at completion.
    CompleteMultipartUpload {
        /// The object.
        key: Key,
        /// From CreateMultipartUpload.
        upload_id: String,
        /// The parts, in order.
        parts: Vec<CompletedPart>,
        /// Write preconditions.
        #[serde(skip_serializing_if = "WriteConditions::is_empty")]
        cond: WriteConditions,
    },
    /// AbortMultipartUpload.
    AbortMultipartUpload {
        /// The object.
        key: Key,
        /// From CreateMultipartUpload.
        upload_id: String,
    },
    /// CopyObject within the session's bucket.
    CopyObject {
        /// The copy source.
        source: Key,
        /// The destination.
        key: Key,
        /// Destination preconditions (`If-Match`, `If-None-Match`).
        #[serde(skip_serializing_if = "WriteConditions::is_empty")]
        cond: WriteConditions,
        /// `x-amz-copy-source-if-*`.
        #[serde(skip_serializing_if = "Preconditions::is_empty")]
        source_cond: Preconditions,
    },
    /// DeleteObject.
    DeleteObject {
        /// The object.
        key: Key,
        /// `If-Match` (an ETag or `*`).
        #[serde(skip_serializing_if = "Option::is_none")]
        if_match: Option<String>,
    },
    /// DeleteObjects (`POST /?delete`): each object deleted or refused on its own.
    DeleteObjects {
        /// The objects, in request order.
        objects: Vec<DeleteTarget>,
    },
    /// RenameObject (`PUT /{key}?renameObject`) within the session's bucket.
    RenameObject {
        /// `x-amz-rename-source`.
        source: Key,
        /// The destination.
        key: Key,
        /// Destination preconditions.
        #[serde(skip_serializing_if = "Preconditions::is_empty")]
        cond: Preconditions,
        /// `x-amz-rename-source-if-*`.
        #[serde(skip_serializing_if = "Preconditions::is_empty")]
        source_cond: Preconditions,
        /// `x-amz-client-token`, the idempotency token.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_token: Option<String>,
    },
    /// ListObjectsV2, always restricted to the session's prefix.
    ListObjectsV2 {
        /// A further prefix relative to the session's.
        #[serde(skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
    /// CreateBucket of the session's bucket.
    CreateBucket,
    /// DeleteBucket of the session's bucket; refused unless this run created it.
    DeleteBucket,
}

impl Operation {
    /// The S3 API name, as reports show it.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::GetObject { .. } => "GetObject",
            Operation::HeadObject { .. } => "HeadObject",
            Operation::PutObject { .. } => "PutObject",
            Operation::CreateMultipartUpload { .. } => "CreateMultipartUpload",
            Operation::UploadPart { .. } => "UploadPart",
            Operation::CompleteMultipartUpload { .. } => "CompleteMultipartUpload",
            Operation::AbortMultipartUpload { .. } => "AbortMultipartUpload",
            Operation::CopyObject { .. } => "CopyObject",
            Operation::DeleteObject { .. } => "DeleteObject",
            Operation::DeleteObjects { .. } => "DeleteObjects",
            Operation::RenameObject { .. } => "RenameObject",
            Operation::ListObjectsV2 { .. } => "ListObjectsV2",
            Operation::CreateBucket => "CreateBucket",
            Operation::DeleteBucket => "DeleteBucket",
        }
    }

    /// Every key this operation may create or overwrite; cleanup deletes exactly these.
    pub fn written_keys(&self) -> Vec<&Key> {
        match self {
            Operation::PutObject { key, .. }
            | Operation::CompleteMultipartUpload { key, .. }
            | Operation::CopyObject { key, .. }
            | Operation::RenameObject { key, .. } => vec![key],
            _ => Vec::new(),
        }
    }

    /// Every key this operation addresses.
    pub fn keys(&self) -> Vec<&Key> {
        match self {
            Operation::GetObject { key, .. }
            | Operation::HeadObject { key, .. }
            | Operation::PutObject { key, .. }
            | Operation::CreateMultipartUpload { key, .. }
            | Operation::UploadPart { key, .. }
            | Operation::CompleteMultipartUpload { key, .. }
            | Operation::AbortMultipartUpload { key, .. }
            | Operation::DeleteObject { key, .. } => vec![key],
            Operation::CopyObject { source, key, .. }
            | Operation::RenameObject { source, key, .. } => {
                vec![source, key]
            }
            Operation::DeleteObjects { objects } => objects.iter().map(|o| &o.key).collect(),
            Operation::ListObjectsV2 { .. } | Operation::CreateBucket | Operation::DeleteBucket => {
                Vec::new()
            }
        }
    }
}

/// A header added verbatim after the SDK built the request, before signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawHeader {
    /// Header name (validated as an HTTP token).
    pub name: String,
    /// Header value (validated as a visible-ASCII HTTP field value).
    pub value: String,
    /// Append beside an existing header of the same name instead of replacing it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub append: bool,
}

/// The error for a raw header that cannot travel in HTTP/1.1 at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid raw header `{name}: {value}`: {reason}")]
pub struct RawHeaderError {
    /// The name given.
    pub name: String,
    /// The value given.
    pub value: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl RawHeader {
    /// A header that replaces any header of the same name the SDK set.
    pub fn new(name: &str, value: &str) -> Result<RawHeader, RawHeaderError> {
        let err = |reason| RawHeaderError {
            name: name.to_owned(),
            value: value.to_owned(),
            reason,
        };
        http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| err("not a valid header name"))?;
        http::HeaderValue::from_str(value).map_err(|_| err("not a valid header value"))?;
        Ok(RawHeader {
            name: name.to_ascii_lowercase(),
            value: value.to_owned(),
            append: false,
        })
    }
}

/// One S3 call plus any raw headers.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    /// The operation and its typed parameters.
    #[serde(flatten)]
    pub op: Operation,
    /// Extra headers, added verbatim before signing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub raw_headers: Vec<RawHeader>,
}

impl Request {
    /// A request with no raw headers.
    pub fn new(op: Operation) -> Request {
        Request {
            op,
            raw_headers: Vec::new(),
        }
    }

    /// Adds a raw header.
    pub fn with_header(mut self, header: RawHeader) -> Request {
        self.raw_headers.push(header);
        self
    }
}

impl From<Operation> for Request {
    fn from(op: Operation) -> Request {
        Request::new(op)
    }
}

/// Reports show a body as its length, MD5 and a short UTF-8 preview, never the whole payload.
fn body_summary<S: serde::Serializer>(body: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    super::observation::BodyDigest::of(body).serialize(s)
}
