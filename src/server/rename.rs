//! RenameObject: `PUT /{bucket}/{key}?renameObject` with `x-amz-rename-source`.
//!
//! Order of checks: request validation (400/501), idempotency token, the source (404 if
//! missing, then `x-amz-rename-source-if-*`, all failures 412), then the destination
//! (`If-Match`/`If-None-Match` as on PutObject, and its dates), all under one lock: the move is
//! atomic, so no reader ever sees both keys or neither. The destination receives the source
//! version unchanged (bytes, ETag, Last-Modified, metadata).

use std::sync::Arc;

use hyper::HeaderMap;
use s3s::{Body, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::decide::{Arrival, WriteCtx, missing_key};
use super::errors;
use super::fault::{Fault, Faults};
use super::precondition::{
    ReadConditions, ReadOutcome, Validators, WriteCondition, parse_http_date,
};
use super::route::object_path;
use super::s3_impl::header;
use super::store::{Store, now_seconds};
use crate::profile::Profile;

/// The longest `x-amz-client-token` accepted (docs/semantics.md §1.6).
const MAX_TOKEN_LEN: usize = 64;

/// Every header whose value is part of a rename's identity for idempotency.
const FINGERPRINT_HEADERS: [&str; 9] = [
    "x-amz-rename-source",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "x-amz-rename-source-if-match",
    "x-amz-rename-source-if-none-match",
    "x-amz-rename-source-if-modified-since",
    "x-amz-rename-source-if-unmodified-since",
];

/// Serves RenameObject.
pub(crate) struct Renamer {
    pub(crate) store: Arc<Store>,
    pub(crate) faults: Arc<Faults>,
    pub(crate) profile: Profile,
}

fn invalid(code: S3ErrorCode, msg: &str) -> S3Error {
    S3Error::with_message(code, msg.to_owned())
}

/// Decodes `x-amz-rename-source` (`bucket/key` or `/bucket/key`, URL-encoded).
fn parse_source(raw: &str) -> Option<(String, String)> {
    let decoded = urlencoding::decode(raw.trim()).ok()?;
    let s = decoded.strip_prefix('/').unwrap_or(&decoded);
    let (b, k) = s.split_once('/')?;
    (!b.is_empty() && !k.is_empty()).then(|| (b.to_owned(), k.to_owned()))
}

fn fingerprint(dest: &str, headers: &HeaderMap) -> String {
    let mut fp = dest.to_owned();
    for h in FINGERPRINT_HEADERS {
        fp.push('\n');
        fp.push_str(header(headers, h).unwrap_or(""));
    }
    fp
}

impl Renamer {
    pub(crate) async fn rename(&self, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        let arrival = req.extensions.get::<Arrival>().cloned();
        let ctx = WriteCtx {
            profile: self.profile,
            faults: &self.faults,
            arrival: arrival.as_ref(),
        };
        let h = &req.headers;
        let Some((bucket, dest)) = object_path(&req.uri) else {
            return Err(S3Error::new(S3ErrorCode::InvalidURI));
        };
        let Some(raw_source) = header(h, "x-amz-rename-source") else {
            return Err(invalid(
                S3ErrorCode::InvalidRequest,
                "Missing required header: x-amz-rename-source",
            ));
        };
        let Some((src_bucket, src)) = parse_source(raw_source) else {
            return Err(invalid(
                S3ErrorCode::InvalidArgument,
                "Invalid x-amz-rename-source",
            ));
        };
        if src_bucket != bucket {
            return Err(invalid(
                S3ErrorCode::InvalidRequest,
                "RenameObject works within one bucket only",
            ));
        }
        if src.ends_with('/') || dest.ends_with('/') {
            return Err(invalid(
                S3ErrorCode::InvalidRequest,
                "Keys ending in '/' cannot be renamed",
            ));
        }
        let token = header(h, "x-amz-client-token");
        if let Some(t) = token
            && (t.is_empty()
                || t.len() > MAX_TOKEN_LEN
                || !t.bytes().all(|b| (33..=126).contains(&b)))
        {
            return Err(invalid(
                S3ErrorCode::InvalidArgument,
                "x-amz-client-token must be 1 to 64 ASCII characters in the range 33-126",
            ));
        }
        let cond = WriteCondition::parse(header(h, "if-match"), header(h, "if-none-match"))
            .map_err(|e| errors::write_header_error(self.profile, e));
        // A refused header value is answered first, unless `refused-write-applied` wants the
        // source to apply it to.
        let cond = match cond {
            Err(e) if !self.faults.has(Fault::RefusedWriteApplied) => return Err(e),
            other => other,
        };
        let dest_ims = header(h, "if-modified-since").and_then(parse_http_date);
        let dest_ius = header(h, "if-unmodified-since").and_then(parse_http_date);
        let src_conds = ReadConditions::from_lookup("x-amz-rename-source-", |n| header(h, n));
        let fp = fingerprint(&dest, h);

        let mut state = self.store.lock();
        let b = state.bucket(&bucket)?;
        if let Some(t) = token
            && let Some(seen) = b.rename_tokens.get(t)
        {
            if *seen == fp {
                return Ok(S3Response::new(Body::empty()));
            }
            let mut e = invalid(
                S3ErrorCode::Custom("IdempotencyParameterMismatch".into()),
                "The same client token was used with different parameters",
            );
            e.set_status_code(hyper::StatusCode::BAD_REQUEST);
            return Err(e);
        }

        let Some(src_obj) = b.current(&src).cloned() else {
            return Err(missing_key(
                &self.faults,
                &src,
                src_conds.any(),
                "x-amz-rename-source-If-Match",
            ));
        };
        let now = now_seconds();
        let dest_obj = b.current(&dest).cloned();
        let checked = cond.and_then(|cond| {
            let v = Validators {
                etag: &src_obj.etag,
                last_modified: src_obj.last_modified,
            };
            match src_conds.evaluate(v, now, None) {
                ReadOutcome::Proceed => {}
                ReadOutcome::Failed(w) | ReadOutcome::NotModified(w) => {
                    return Err(errors::precondition_failed(
                        &w.condition("x-amz-rename-source-"),
                    ));
                }
            }
            // Date conditions on the destination apply only when it exists (RFC 9110 §13.1.4
            // has a recipient ignore If-Unmodified-Since without a modification date); If-Match
            // wins over If-Unmodified-Since and If-None-Match over If-Modified-Since, as on
            // reads.
            if let Some(d) = &dest_obj {
                if let Some(ius) = dest_ius
                    && header(h, "if-match").is_none()
                    && d.last_modified > ius
                {
                    return Err(errors::precondition_failed("If-Unmodified-Since"));
                }
                if let Some(ims) = dest_ims
                    && header(h, "if-none-match").is_none()
                    && ims <= now
                    && d.last_modified <= ims
                {
                    return Err(errors::precondition_failed("If-Modified-Since"));
                }
            }
            ctx.check_destination(&cond, dest_obj.as_ref().map(|o| o.etag.as_str()), &dest)
        });
        if let Err(e) = checked {
            if self.faults.has(Fault::RefusedWriteApplied) && src != dest {
                state.commit(&bucket, &dest, Some(src_obj))?;
                state.commit(&bucket, &src, None)?;
            }
            return Err(e);
        }

        if src != dest {
            state.commit(&bucket, &dest, Some(src_obj))?;
            state.commit(&bucket, &src, None)?;
        }
        if let Some(t) = token {
            state
                .bucket_mut(&bucket)?
                .rename_tokens
                .insert(t.to_owned(), fp);
        }
        drop(state);
        Ok(S3Response::new(Body::empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_with_or_without_slash() {
        assert_eq!(parse_source("b/a%20k"), Some(("b".into(), "a k".into())));
        assert_eq!(parse_source("/b/dir/k"), Some(("b".into(), "dir/k".into())));
        assert_eq!(parse_source("b"), None);
        assert_eq!(parse_source("/b/"), None);
    }
}
