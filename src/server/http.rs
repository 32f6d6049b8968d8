//! The HTTP front: what happens around s3s for every request.
//!
//! - Stamps the request's [`Arrival`] (the URI key's ETag when the head was read, before the
//!   body), which the profile's 412-versus-409 rule needs.
//! - Splices the extra error fields of [`super::errors`] into the XML body.
//! - Makes sure a 304 and a HEAD error carry no body.
//! - Sends ETags unquoted or weak under the `unquoted-etag` and `weak-etag` faults.
//! - Drops the connection when the `write-then-reset` fault asks for it: returning an error
//!   from a hyper service closes the connection without writing a response.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{Bytes, BytesMut};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use s3s::Body;
use s3s::service::S3Service;

use super::decide::Arrival;
use super::errors::{EXTRA_XML_HEADER, RESET_HEADER};
use super::fault::{Fault, Faults};
use super::route::object_path;
use super::store::Store;

/// The error that makes hyper drop a connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped without a response (write-then-reset fault)")]
pub(crate) struct DropConnection;

/// The per-server front service.
pub(crate) struct Front {
    pub(crate) s3: S3Service,
    pub(crate) store: Arc<Store>,
    pub(crate) in_flight: Arc<AtomicUsize>,
    pub(crate) faults: Arc<Faults>,
}

/// Counts a request as in flight until dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Front {
    pub(crate) async fn handle(
        &self,
        mut req: Request<Incoming>,
    ) -> Result<Response<Body>, DropConnection> {
        let writes = matches!(*req.method(), Method::PUT | Method::POST | Method::DELETE);
        if writes && let Some((bucket, key)) = object_path(req.uri()) {
            let etag = {
                let state = self.store.lock();
                state
                    .buckets
                    .get(&bucket)
                    .and_then(|b| b.current(&key))
                    .map(|o| o.etag.clone())
            };
            req.extensions_mut().insert(Arrival { etag });
        }
        // Counted only once the arrival is stamped: a race test that sees every racer in flight
        // knows every racer's arrival state is taken.
        let _in_flight = InFlight::enter(&self.in_flight);
        let head = req.method() == Method::HEAD;

        let mut resp = match self.s3.call(req.map(Body::from)).await {
            Ok(r) => r,
            Err(_) => {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return Ok(r);
            }
        };
        if resp.headers().contains_key(RESET_HEADER) {
            return Err(DropConnection);
        }
        if let Some(extra) = resp.headers_mut().remove(EXTRA_XML_HEADER)
            && let Some(body) = resp.body().bytes()
        {
            *resp.body_mut() = Body::from(splice(&body, extra.as_bytes()));
            resp.headers_mut().remove(CONTENT_LENGTH);
        }
        let status = resp.status();
        if status == StatusCode::NOT_MODIFIED || (head && !status.is_success()) {
            *resp.body_mut() = Body::empty();
            resp.headers_mut().remove(CONTENT_LENGTH);
            resp.headers_mut().remove(CONTENT_TYPE);
        }
        self.reformat_etag(resp.headers_mut());
        Ok(resp)
    }

    /// The `unquoted-etag` and `weak-etag` faults: the ETag header in a format the documents
    /// do not allow (they pin a quoted, strong hex string).
    fn reformat_etag(&self, headers: &mut hyper::HeaderMap) {
        let Some(etag) = headers.get(ETAG).and_then(|v| v.to_str().ok()) else {
            return;
        };
        let bare = etag.trim_matches('"').to_owned();
        let shown = if self.faults.has(Fault::UnquotedEtag) {
            bare
        } else if self.faults.has(Fault::WeakEtag) {
            format!("W/\"{bare}\"")
        } else {
            return;
        };
        if let Ok(v) = HeaderValue::from_str(&shown) {
            headers.insert(ETAG, v);
        }
    }
}

/// Inserts `extra` before the closing `</Error>` of an S3 error document.
fn splice(body: &Bytes, extra: &[u8]) -> Bytes {
    const CLOSE: &[u8] = b"</Error>";
    let Some(pos) = body.windows(CLOSE.len()).rposition(|w| w == CLOSE) else {
        return body.clone();
    };
    let mut out = BytesMut::with_capacity(body.len() + extra.len());
    out.extend_from_slice(&body[..pos]);
    out.extend_from_slice(extra);
    out.extend_from_slice(&body[pos..]);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_before_the_closing_tag() {
        let body = Bytes::from_static(b"<Error><Code>X</Code></Error>");
        assert_eq!(
            &splice(&body, b"<Key>k</Key>")[..],
            b"<Error><Code>X</Code><Key>k</Key></Error>"
        );
        assert_eq!(&splice(&Bytes::from_static(b"oops"), b"<a/>")[..], b"oops");
    }
}
