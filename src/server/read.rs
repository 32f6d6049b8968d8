//! GetObject and HeadObject with every RFC 9110 precondition.
//!
//! Order (RFC 9110 §13.2.2, and AWS's documented precedence): If-Match, else
//! If-Unmodified-Since (412 when false); then If-None-Match, else If-Modified-Since (304 when
//! false). A missing key stays 404 NoSuchKey whatever the conditions (as AWS does,
//! docs/semantics.md §1.4). A 304 carries ETag and Last-Modified and no body; HEAD answers never carry a body.

use std::sync::Arc;

use hyper::header::{
    ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, HeaderName, HeaderValue,
    LAST_MODIFIED, RANGE,
};
use hyper::{HeaderMap, Method, StatusCode};
use s3s::{Body, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::decide::missing_key;
use super::errors::{self, http_date};
use super::fault::{Fault, Faults, STALE_READ_WINDOW};
use super::precondition::{ReadConditions, ReadOutcome, Validators};
use super::route::object_path;
use super::s3_impl::header;
use super::store::{Object, Store, now_seconds};

/// Serves object reads from the store.
pub(crate) struct Reader {
    pub(crate) store: Arc<Store>,
    pub(crate) faults: Arc<Faults>,
}

impl Reader {
    pub(crate) fn read(&self, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        let Some((bucket, key)) = object_path(&req.uri) else {
            return Err(S3Error::new(S3ErrorCode::InvalidURI));
        };
        let head = req.method == Method::HEAD;
        let conds = ReadConditions::from_lookup("", |n| header(&req.headers, n));

        let (served, previous) = {
            let state = self.store.lock();
            let b = state.bucket(&bucket)?;
            match b.objects.get(&key) {
                None => (None, None),
                Some(slot) => {
                    let stale = self.faults.has(Fault::StaleRead)
                        && slot.changed_at.elapsed() < STALE_READ_WINDOW;
                    let served = if stale {
                        slot.previous.clone()
                    } else {
                        slot.current.clone()
                    };
                    (served, slot.previous.clone())
                }
            }
        };
        let Some(obj) = served else {
            let first = [
                "If-Match",
                "If-None-Match",
                "If-Modified-Since",
                "If-Unmodified-Since",
            ]
            .into_iter()
            .find(|h| req.headers.contains_key(*h))
            .unwrap_or("If-Match");
            return Err(missing_key(&self.faults, &key, conds.any(), first));
        };

        let phantom = previous
            .as_ref()
            .filter(|_| self.faults.has(Fault::Phantom304))
            .map(|p| p.etag.clone());
        let v = Validators {
            etag: &obj.etag,
            last_modified: obj.last_modified,
        };
        match conds.evaluate(v, now_seconds(), phantom.as_deref()) {
            ReadOutcome::Proceed => {}
            ReadOutcome::Failed(w) => return Err(errors::precondition_failed(&w.condition(""))),
            ReadOutcome::NotModified(_) if self.faults.has(Fault::NotModifiedAs200) => {}
            ReadOutcome::NotModified(_) => {
                // Under `phantom-304` the 304 may answer for the previous version: it then shows
                // that version's validators, as a stale validator cache would.
                let names_current = conds
                    .if_none_match
                    .as_ref()
                    .is_none_or(|l| l.weak_match(&obj.etag));
                let shown = match (&previous, names_current) {
                    (Some(p), false) => p.clone(),
                    _ => obj.clone(),
                };
                let mut resp = S3Response::with_status(Body::empty(), StatusCode::NOT_MODIFIED);
                set_validators(&mut resp.headers, &shown);
                return Ok(resp);
            }
        }
        respond(&obj, head, header(&req.headers, RANGE.as_str()))
    }
}

fn set_validators(headers: &mut HeaderMap, obj: &Object) {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", obj.etag)) {
        headers.insert(ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(obj.last_modified)) {
        headers.insert(LAST_MODIFIED, v);
    }
}

/// A single `bytes=` range resolved against `len`: `Ok(None)` for no (or an ignored) range,
/// `Err` for an unsatisfiable one.
fn resolve_range(raw: Option<&str>, len: usize) -> Result<Option<(usize, usize)>, ()> {
    let Some(spec) = raw.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None); // Multiple ranges: S3 serves the whole object.
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (start, end) = match (
        a.trim().parse::<usize>().ok(),
        b.trim().parse::<usize>().ok(),
    ) {
        (Some(s), Some(e)) if s <= e => (s, e.min(len.saturating_sub(1))),
        (Some(s), None) if b.trim().is_empty() => (s, len.saturating_sub(1)),
        (None, Some(n)) if a.trim().is_empty() && n > 0 => {
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        _ => return Ok(None),
    };
    if start >= len {
        return Err(());
    }
    Ok(Some((start, end)))
}

fn respond(obj: &Object, head: bool, range: Option<&str>) -> S3Result<S3Response<Body>> {
    let len = obj.data.len();
    let range = resolve_range(range, len).map_err(|()| {
        S3Error::with_message(
            S3ErrorCode::InvalidRange,
            "The requested range is not satisfiable",
        )
    })?;
    let (status, body) = match range {
        Some((s, e)) => (StatusCode::PARTIAL_CONTENT, obj.data.slice(s..=e)),
        None => (StatusCode::OK, obj.data.clone()),
    };
    let mut resp = S3Response::with_status(
        if head {
            Body::empty()
        } else {
            Body::from(body.clone())
        },
        status,
    );
    let h = &mut resp.headers;
    set_validators(h, obj);
    h.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some((s, e)) = range
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {s}-{e}/{len}"))
    {
        h.insert(CONTENT_RANGE, v);
    }
    let ct = obj.content_type.as_deref().unwrap_or("binary/octet-stream");
    if let Ok(v) = HeaderValue::from_str(ct) {
        h.insert(CONTENT_TYPE, v);
    }
    for (k, v) in &obj.metadata {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(format!("x-amz-meta-{k}").as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(name, value);
        }
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(resolve_range(Some("bytes=0-1"), 5), Ok(Some((0, 1))));
        assert_eq!(resolve_range(Some("bytes=2-"), 5), Ok(Some((2, 4))));
        assert_eq!(resolve_range(Some("bytes=-2"), 5), Ok(Some((3, 4))));
        assert_eq!(resolve_range(Some("bytes=1-99"), 5), Ok(Some((1, 4))));
        assert_eq!(resolve_range(Some("bytes=9-"), 5), Err(()));
        assert_eq!(resolve_range(None, 5), Ok(None));
    }
}
