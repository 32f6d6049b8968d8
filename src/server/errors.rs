//! The S3 errors the endpoint answers, with the extra XML fields AWS records.
//!
//! s3s serializes an `S3Error` as `<Code>`, `<Message>` and `<RequestId>` only, while AWS adds
//! `<Condition>`, `<Header>`, `<additionalMessage>` and `<Key>` that clients and the suite read.
//! An error carries those fields in an internal response header; [`super::http`] splices them
//! into the XML body and removes the header before the response leaves the process.

use hyper::HeaderMap;
use hyper::header::{ETAG, HeaderValue, LAST_MODIFIED};
use s3s::{S3Error, S3ErrorCode};
use time::OffsetDateTime;

use super::precondition::WriteHeaderError;
use crate::profile::Profile;

/// Internal header carrying ready-escaped XML elements to append inside `<Error>`.
pub(crate) const EXTRA_XML_HEADER: &str = "x-s3conform-internal-error-xml";
/// Internal header asking [`super::http`] to drop the connection instead of answering.
pub(crate) const RESET_HEADER: &str = "x-s3conform-internal-reset";

const PRECONDITION_FAILED_MSG: &str =
    "At least one of the pre-conditions you specified did not hold";
const CONFLICT_MSG: &str =
    "The conditional request cannot succeed due to a conflicting operation against this resource.";
const NOT_IMPLEMENTED_MSG: &str =
    "A header you provided implies functionality that is not implemented";

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds an error whose XML body gets the extra `(element, text)` fields.
pub(crate) fn with_fields(code: S3ErrorCode, message: &str, fields: &[(&str, &str)]) -> S3Error {
    let mut e = S3Error::with_message(code, message.to_owned());
    let xml: String = fields
        .iter()
        .map(|(name, text)| format!("<{name}>{}</{name}>", xml_escape(text)))
        .collect();
    // A value with control characters cannot travel in a header; the fields are then dropped,
    // which still leaves a valid standard error.
    if let Ok(v) = HeaderValue::from_bytes(xml.as_bytes()) {
        let mut headers = HeaderMap::new();
        headers.insert(EXTRA_XML_HEADER, v);
        e.set_headers(headers);
    }
    e
}

/// 412 PreconditionFailed with `<Condition>`.
pub(crate) fn precondition_failed(condition: &str) -> S3Error {
    with_fields(
        S3ErrorCode::PreconditionFailed,
        PRECONDITION_FAILED_MSG,
        &[("Condition", condition)],
    )
}

/// 409 ConditionalRequestConflict with `<Condition>` and `<Key>`, as AWS records it.
pub(crate) fn conflict(condition: &str, key: &str) -> S3Error {
    with_fields(
        S3ErrorCode::ConditionalRequestConflict,
        CONFLICT_MSG,
        &[("Condition", condition), ("Key", key)],
    )
}

/// 404 NoSuchKey with `<Key>`.
pub(crate) fn no_such_key(key: &str) -> S3Error {
    with_fields(
        S3ErrorCode::NoSuchKey,
        "The specified key does not exist.",
        &[("Key", key)],
    )
}

/// 404 NoSuchBucket with `<BucketName>`.
pub(crate) fn no_such_bucket(bucket: &str) -> S3Error {
    with_fields(
        S3ErrorCode::NoSuchBucket,
        "The specified bucket does not exist",
        &[("BucketName", bucket)],
    )
}

/// 501 NotImplemented naming the offending header (and why, when AWS says it).
pub(crate) fn not_implemented_header(header: &str, additional: &str) -> S3Error {
    with_fields(
        S3ErrorCode::NotImplemented,
        NOT_IMPLEMENTED_MSG,
        &[("Header", header), ("additionalMessage", additional)],
    )
}

/// 500 InternalError, for the write-then-500 fault.
pub(crate) fn internal_error() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InternalError,
        "We encountered an internal error. Please try again.",
    )
}

/// A 304 Not Modified carrying the validators (only the copy-source-304 fault answers a copy this way).
pub(crate) fn not_modified(etag: &str, last_modified: OffsetDateTime) -> S3Error {
    let mut e = S3Error::new(S3ErrorCode::NotModified);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        headers.insert(ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(last_modified)) {
        headers.insert(LAST_MODIFIED, v);
    }
    e.set_headers(headers);
    e
}

/// The answer to a write-condition header S3 refuses outright.
pub(crate) fn write_header_error(profile: Profile, err: WriteHeaderError) -> S3Error {
    match err {
        WriteHeaderError::Both => with_fields(
            S3ErrorCode::NotImplemented,
            NOT_IMPLEMENTED_MSG,
            &[
                ("Header", "If-Match,If-None-Match"),
                (
                    "additionalMessage",
                    "Multiple conditional request headers present in the request",
                ),
            ],
        ),
        WriteHeaderError::IfMatchAny => not_implemented_header(
            "If-Match",
            "We don't accept the provided value of If-Match header for this API",
        ),
        WriteHeaderError::IfNoneMatchValue => match profile {
            Profile::Coreweave => S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "If-None-Match on a write accepts only `*`",
            ),
            Profile::Aws => not_implemented_header(
                "If-None-Match",
                "We don't accept the provided value of If-None-Match header for this API",
            ),
        },
    }
}

/// Formats an HTTP-date (IMF-fixdate), as Last-Modified is sent.
pub(crate) fn http_date(t: OffsetDateTime) -> String {
    httpdate::fmt_http_date(t.into())
}

/// An error that makes [`super::http`] drop the connection (write-then-reset fault).
pub(crate) fn reset() -> S3Error {
    let mut e = internal_error();
    let mut headers = HeaderMap::new();
    headers.insert(RESET_HEADER, HeaderValue::from_static("1"));
    e.set_headers(headers);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_escaped_into_the_marker_header() {
        let e = with_fields(S3ErrorCode::NoSuchKey, "m", &[("Key", "a<b>&\"c\"")]);
        let v = e.headers().unwrap().get(EXTRA_XML_HEADER).unwrap();
        assert_eq!(
            v.to_str().unwrap(),
            "<Key>a&lt;b&gt;&amp;&quot;c&quot;</Key>"
        );
    }

    #[test]
    fn profiles_answer_if_none_match_etag_differently() {
        let cw = write_header_error(Profile::Coreweave, WriteHeaderError::IfNoneMatchValue);
        assert_eq!(cw.code(), &S3ErrorCode::InvalidRequest);
        let aws = write_header_error(Profile::Aws, WriteHeaderError::IfNoneMatchValue);
        assert_eq!(aws.code(), &S3ErrorCode::NotImplemented);
        assert_eq!(aws.status_code().map(|s| s.as_u16()), Some(501));
    }
}
