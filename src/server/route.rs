//! The custom route: the requests s3s 0.14 cannot carry as we need them.
//!
//! - RenameObject (`PUT /{bucket}/{key}?renameObject`) is not modelled by s3s 0.14 at all.
//! - GET/HEAD of an object: s3s parses `If-Match`/`If-None-Match` into one `ETagCondition` and
//!   rejects RFC 9110 lists (`"a", "b"`) with 400, and rejects invalid dates that RFC 9110 says
//!   to ignore. Serving reads here keeps one code path for every conditional read.
//!
//! s3s verifies SigV4 before asking the route, and the default `check_access` refuses requests
//! without credentials, so these requests are authenticated exactly like the others.

use hyper::http::Extensions;
use hyper::{HeaderMap, Method, Uri};
use s3s::route::S3Route;
use s3s::{Body, S3Request, S3Response, S3Result};

use super::read::Reader;
use super::rename::Renamer;

/// Splits a path-style URI into its decoded bucket and non-empty key.
pub(crate) fn object_path(uri: &Uri) -> Option<(String, String)> {
    let path = uri.path().strip_prefix('/')?;
    let (bucket, key) = path.split_once('/')?;
    if bucket.is_empty() || key.is_empty() {
        return None;
    }
    let bucket = urlencoding::decode(bucket).ok()?.into_owned();
    let key = urlencoding::decode(key).ok()?.into_owned();
    Some((bucket, key))
}

/// The query parameter names of `uri`.
fn query_names(uri: &Uri) -> impl Iterator<Item = &str> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').map_or(p, |(k, _)| k))
}

/// Whether the request is RenameObject.
pub(crate) fn is_rename(method: &Method, uri: &Uri) -> bool {
    method == Method::PUT
        && query_names(uri).any(|k| k == "renameObject")
        && object_path(uri).is_some()
}

/// Whether the request is GetObject/HeadObject (not ListParts, GetObjectTagging, ...).
pub(crate) fn is_object_read(method: &Method, uri: &Uri) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && object_path(uri).is_some()
        && query_names(uri).all(|k| {
            k == "x-id" || k == "versionId" || k == "partNumber" || k.starts_with("response-")
        })
}

/// The route: reads and renames.
pub(crate) struct Routes {
    pub(crate) reader: Reader,
    pub(crate) renamer: Renamer,
}

#[async_trait::async_trait]
impl S3Route for Routes {
    fn is_match(
        &self,
        method: &Method,
        uri: &Uri,
        _headers: &HeaderMap,
        _extensions: &mut Extensions,
    ) -> bool {
        is_rename(method, uri) || is_object_read(method, uri)
    }

    async fn call(&self, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        if is_rename(&req.method, &req.uri) {
            self.renamer.rename(req).await
        } else {
            self.reader.read(req)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_reads_and_renames() {
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        assert_eq!(
            object_path(&uri("/b/a%20b/c")),
            Some(("b".into(), "a b/c".into()))
        );
        assert_eq!(object_path(&uri("/b/")), None);
        assert_eq!(object_path(&uri("/b")), None);
        assert!(is_object_read(&Method::GET, &uri("/b/k?x-id=GetObject")));
        assert!(is_object_read(&Method::HEAD, &uri("/b/k")));
        assert!(!is_object_read(&Method::GET, &uri("/b/k?uploadId=1")));
        assert!(!is_object_read(&Method::GET, &uri("/b?list-type=2")));
        assert!(is_rename(&Method::PUT, &uri("/b/k?renameObject")));
        assert!(!is_rename(&Method::PUT, &uri("/b/k")));
    }
}
