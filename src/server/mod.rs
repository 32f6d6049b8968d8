//! The embedded reference endpoint: an in-memory S3 server with exact conditional-request
//! semantics for one [`Profile`], and injectable [`Fault`]s.
//!
//! It is the default target of `run` and `fuzz`, the self-test target, and (with faults) the
//! proof that the suite and the checker catch real bugs. Built on s3s 0.14: SigV4 is verified
//! with the configured keys, addressing is path-style, everything lives in memory.
//!
//! ```no_run
//! # async fn demo() -> Result<(), s3conform::server::ServerError> {
//! use s3conform::server::{spawn, ServerConfig};
//! let handle = spawn(ServerConfig::default()).await?;
//! println!("{}", handle.endpoint_url()); // http://127.0.0.1:<port>
//! handle.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Module map
//! - `store.rs`: buckets, objects, uploads under one lock; the commit counter.
//! - `precondition.rs`: pure evaluation of header values against a version.
//! - `decide.rs`: the shared write decision (404/412/409 per profile, write faults).
//! - `s3_impl.rs`: the operations s3s models, delegating to `listing.rs` and `multipart.rs`.
//! - `route.rs` with `read.rs` and `rename.rs`: the custom route (GET/HEAD, RenameObject).
//! - `http.rs`: the front service (arrival stamp, error XML fields, bodiless 304/HEAD, resets).
//! - `fault.rs`: the faults.
//!
//! # Decisions
//!
//! "cw" is the `coreweave` profile, "aws" the `aws` profile. Where the CoreWeave documents are
//! silent, the `coreweave` profile follows AWS's recorded behaviour ("AWS rec"), and says so.
//! Section numbers are those of `docs/semantics.md`.
//!
//! | Operation / situation | Answer | Source |
//! |---|---|---|
//! | Atomicity | a write's precondition check and apply are one critical section, after the whole body was received | §1.2 |
//! | ETag | quoted MD5 hex; multipart `"<md5 of part md5s>-N"`; CopyObject recomputes the MD5 of the bytes | AWS |
//! | Last-Modified | second precision (stored truncated) | AWS |
//! | PUT/CMU/Copy/Rename `If-None-Match: *`, key absent / present | 200 / 412 `PreconditionFailed`, `<Condition>If-None-Match` | §1.2 doc+rec |
//! | … `If-None-Match: <etag>` | cw **400 `InvalidRequest`**; aws **501 `NotImplemented`** `<Header>If-None-Match` | §2.1 doc; §1.2 rec |
//! | … `If-Match` match / mismatch | 200 / 412 `<Condition>If-Match` | §1.2 |
//! | … `If-Match` on a missing key | 404 `NoSuchKey` (cw silent → AWS rec) | §1.2 rec |
//! | … `If-Match: *` | 501 (cw silent → AWS rec; AWS recorded it on an absent key, we answer 501 for a present one too) | §1.2 rec |
//! | … both headers | 501 `<Header>If-Match,If-None-Match` (cw silent → AWS rec), checked before the values | §1.2 rec |
//! | ETag quoting | `"e"` and `e` compare alike; `If-Match` uses strong comparison (a `W/` tag never matches) | §1.2 rec, RFC 9110 §8.8.3.2 |
//! | Race loser: precondition failed because of a write committed *after this request's head arrived* | cw **409 `ConditionalRequestConflict`** `<Condition>`, `<Key>`; aws 412 | §2.1 doc ("one succeeds, the other returns 409") |
//! | Precondition already false when the request arrived | 412 under both | §6 #35 |
//! | A loser whose answer would be 404 (key deleted by the winner) | 404 under both (not upgraded to 409) | AWS China doc "concurrent delete → 404" |
//! | CMU precondition | evaluated at completion | §1.2 rec |
//! | CMU `If-None-Match: *`, key written during the upload | 412 | §1.2 rec |
//! | CMU `If-None-Match: *`, existing key deleted during the upload | 409 (both profiles); the upload stays, so a retry of the same UploadId is 409 again; a new MPU succeeds | §1.2 rec |
//! | CMU `If-Match: E` matching, key written (even identical bytes) during the upload | 409 (both) | §1.2 rec |
//! | CMU `If-Match: E` not matching the current ETag | 412 | §1.2 rec |
//! | CMU `If-Match`, key deleted during the upload | 404 `NoSuchKey` | §1.2 rec |
//! | CMU `If-Match: <composite>` | compared literally; the single-part MD5 of the same bytes does not match | §1.2 rec |
//! | CMU parts | listed ascending (`InvalidPartOrder`), existing with matching ETag (`InvalidPart`), all but the last ≥ 5 MiB (`EntityTooSmall`) | AWS |
//! | CopyObject order | source exists (404) → source conditions (412) → destination conditions (404/412/409). Which error wins when both fail is undocumented: source first | §1.3 [?] |
//! | CopyObject source conditions | RFC order (if-match, else if-unmodified-since; if-none-match, else if-modified-since); every failure **412, never 304**, `<Condition>x-amz-copy-source-If-…`; future if-modified-since ignored; IMS = Last-Modified → 412; IUS = Last-Modified → 200 | §1.3 doc+rec |
//! | CopyObject missing source | 404 `NoSuchKey` | §1.3 |
//! | CopyObject in place (source = destination) | allowed (AWS's "copy to itself without changes" 400 is not modelled: the recorded in-place cases with conditions answer 200/412) | §1.3 rec |
//! | CopyObject metadata | `COPY` (default) keeps the source's; `REPLACE` takes the request's | AWS |
//! | GET/HEAD order | If-Match (412), else If-Unmodified-Since (412); then If-None-Match (304), else If-Modified-Since (304) | RFC 9110 §13.2.2, §1.4 doc+rec |
//! | GET/HEAD `*` | `If-Match: *` on an existing key → 200; `If-None-Match: *` → 304 (RFC; AWS unrecorded) | RFC 9110 |
//! | GET/HEAD lists and weak tags | `If-None-Match: "x", "<e>"` → 304; `If-Match: "x", "<e>"` → 200; `If-None-Match: W/"<e>"` → 304 (weak comparison) | RFC 9110 §13.1 |
//! | GET/HEAD dates | future If-Modified-Since ignored (200); IMS = Last-Modified → 304; IUS = Last-Modified → 200; an invalid date is ignored | §1.4 rec, RFC 9110 §13.1.3 |
//! | GET/HEAD missing key | 404 `NoSuchKey` whatever the conditions | §1.4 [?], ENDPOINTS d17/e17 |
//! | 304 | ETag and Last-Modified headers, no body | RFC 9110 §15.4.5, ceph s3-tests |
//! | HEAD errors | status only, no body | API_HeadObject doc |
//! | GET 412 | XML body with `<Condition>` | §1.4 rec |
//! | GET `Range: bytes=…` (single range) | 206 with Content-Range; unsatisfiable → 416 `InvalidRange`; multiple ranges → whole object | AWS |
//! | DeleteObject `If-Match` match or `*` | 204 | §1.5 doc |
//! | DeleteObject `If-Match` mismatch | 412 (cw: 409 if a write after arrival caused it) | §1.5 doc+rec |
//! | DeleteObject `If-Match` on a missing key | 404 `NoSuchKey` (cw silent → AWS measured, not the older docs' 204) | §1.5 measured |
//! | DeleteObject `If-Match` + `versionId` | 501 (no versioning here) | §1.5 measured |
//! | DeleteObject `x-amz-if-match-size` / `-last-modified-time` | 501 `<Header>` naming it (general-purpose bucket) | §1.5 measured |
//! | DeleteObject unconditional, missing key | 204 | AWS |
//! | DeleteObjects per-key `<ETag>` | 200; mismatch → per-key `PreconditionFailed`; missing key → per-key `NoSuchKey`; per-key size/time → per-key `NotImplemented` (general-purpose bucket) | §1.5 doc; missing key and size/time [?] |
//! | RenameObject wire | `PUT /{bucket}/{key}?renameObject`, `x-amz-rename-source` URL-encoded `bucket/key` or `/bucket/key`, path-style here | §1.6 |
//! | RenameObject validation | missing source header → 400 `InvalidRequest`; other bucket → 400 `InvalidRequest`; key ending in `/` → 400 `InvalidRequest`; unparseable source or bad token → 400 `InvalidArgument` | §1.6 doc (codes [?]) |
//! | RenameObject order | validation → token → source exists (404 `NoSuchKey`) → source conditions (412 `<Condition>x-amz-rename-source-If-…`, same order as copy) → destination dates → destination `If-Match`/`If-None-Match` (as PUT) | §1.6 [?] |
//! | RenameObject destination dates | apply only if the destination exists; If-Match beats If-Unmodified-Since and If-None-Match beats If-Modified-Since; failures 412 | §1.6 doc, RFC 9110 §13.1.4 |
//! | RenameObject `If-Match` on a missing destination | 404 `NoSuchKey`, as PUT and CopyObject | §1.2 by analogy [?] |
//! | RenameObject effect | atomic move: the destination gets the source version unchanged (bytes, ETag, Last-Modified, metadata); the source is removed | §2.1 doc |
//! | RenameObject `x-amz-client-token` | same token + same parameters → 200 no-op; different parameters → 400 `IdempotencyParameterMismatch` (status undocumented) | §1.6 doc |
//! | Buckets | CreateBucket twice → 409 `BucketAlreadyOwnedByYou`; DeleteBucket non-empty → 409 `BucketNotEmpty`; missing → 404 `NoSuchBucket` | AWS |
//! | ListObjectsV2 | prefix, delimiter (common prefixes), max-keys (default and cap 1000; 0 → empty, not truncated), start-after, an opaque continuation token | AWS |
//! | Auth | SigV4 (s3s `SimpleAuth`) with one key pair; unsigned or unknown-key requests are refused | AWS |
//!
//! ## What a race looks like from outside
//! "Arrived" is when the server read the request head, before the body. A racer that the
//! server reads only after the winner committed finds the key already changed: it gets 412
//! under both profiles, because its precondition was already false when it arrived. With small
//! bodies released together by N client tasks, the winner often commits before the last racers
//! are even read, so under `coreweave` a burst typically shows one 200, a few 409s and mostly
//! 412s. Exactly one winner holds always; a suite should accept 409 or 412 from `coreweave`
//! losers, or hold the bodies back until every racer is in flight
//! ([`ServerHandle::requests_in_flight`]), as this crate's race tests do, to see only 409s.
//!
//! ## For checkers
//! Two kinds of 409 `ConditionalRequestConflict` are legitimate here, and a checker must not
//! call them spurious:
//! - a race loser under `coreweave`: some write to the key committed *during* the 409'd request,
//!   so a write overlapping it exists in the history;
//! - CompleteMultipartUpload under both profiles: the key was written or deleted *after the
//!   upload's CreateMultipartUpload*, which need not overlap the Complete call itself (AWS
//!   recorded). A 409'd Complete changes nothing.
//!
//! Only the `spurious-409` fault answers 409 with neither.
//!
//! # Faults
//! See [`Fault`]: each variant documents the bug it injects and the answer it changes.

mod decide;
mod errors;
mod fault;
mod http;
mod listing;
mod multipart;
mod precondition;
mod read;
mod rename;
mod route;
mod s3_impl;
mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use self::fault::{
    Fault, FaultSet, NON_ATOMIC_CREATE_GAP, SPURIOUS_409_PERIOD, STALE_READ_WINDOW, UnknownFault,
    WRITE_THEN_500_PERIOD, WRITE_THEN_RESET_PERIOD,
};
use crate::profile::Profile;

/// The access key used when none is configured. Printed at start; not a secret.
pub const DEFAULT_ACCESS_KEY: &str = "s3conform";
/// The secret key used when none is configured. Printed at start; not a secret.
pub const DEFAULT_SECRET_KEY: &str = "s3conform-secret";
/// The region used when none is configured.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How long shutdown waits for open connections before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How to run the reference endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks an ephemeral port (see [`ServerHandle::addr`]).
    pub addr: SocketAddr,
    /// Whose semantics to implement.
    pub profile: Profile,
    /// The only access key accepted.
    pub access_key: String,
    /// Its secret key.
    pub secret_key: String,
    /// Injected bugs; empty for exact semantics.
    pub faults: FaultSet,
    /// The region reported by HeadBucket, ListBuckets and GetBucketLocation. SigV4 requests
    /// signed for any region are accepted.
    pub region: String,
}

impl Default for ServerConfig {
    /// 127.0.0.1 on an ephemeral port, `coreweave`, [`DEFAULT_ACCESS_KEY`] /
    /// [`DEFAULT_SECRET_KEY`], no faults, [`DEFAULT_REGION`].
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            profile: Profile::default(),
            access_key: DEFAULT_ACCESS_KEY.to_owned(),
            secret_key: DEFAULT_SECRET_KEY.to_owned(),
            faults: FaultSet::none(),
            region: DEFAULT_REGION.to_owned(),
        }
    }
}

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound (in use, not local, no permission).
    #[error("failed to listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is unusable.
    #[error("invalid server configuration: {0}")]
    Config(String),
}

/// A running endpoint. Dropping it stops accepting connections, like [`ServerHandle::shutdown`]
/// without the wait.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    in_flight: Arc<AtomicUsize>,
}

impl ServerHandle {
    /// The bound address (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, for `--endpoint` / `AWS_ENDPOINT_URL`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received (head read) and not yet answered. Race tests use it to know that all
    /// racers have arrived before letting their bodies go.
    pub fn requests_in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Stops accepting, lets open connections finish (up to 2 s), and returns when done.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts the endpoint on the current tokio runtime and returns once it is listening.
pub async fn spawn(config: ServerConfig) -> Result<ServerHandle, ServerError> {
    if config.access_key.is_empty() || config.secret_key.is_empty() {
        return Err(ServerError::Config(
            "the access key and the secret key must not be empty".into(),
        ));
    }
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.addr,
        source,
    })?;

    let store = Arc::new(store::Store::default());
    let faults = Arc::new(fault::Faults::new(config.faults.clone()));
    let reference = s3_impl::Reference {
        store: store.clone(),
        profile: config.profile,
        faults: faults.clone(),
        region: config.region.clone(),
    };
    let routes = route::Routes {
        reader: read::Reader {
            store: store.clone(),
            faults: faults.clone(),
        },
        renamer: rename::Renamer {
            store: store.clone(),
            faults: faults.clone(),
            profile: config.profile,
        },
    };
    let mut builder = S3ServiceBuilder::new(reference);
    builder.set_auth(SimpleAuth::from_single(
        config.access_key.clone(),
        config.secret_key.clone(),
    ));
    builder.set_route(routes);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let front = Arc::new(http::Front {
        s3: builder.build(),
        store,
        in_flight: in_flight.clone(),
        faults,
    });

    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(accept_loop(listener, front, stopped));
    Ok(ServerHandle {
        addr,
        stop: Some(stop),
        task: Some(task),
        in_flight,
    })
}

async fn accept_loop(
    listener: TcpListener,
    front: Arc<http::Front>,
    mut stopped: oneshot::Receiver<()>,
) {
    let builder = ConnBuilder::new(TokioExecutor::new());
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let socket = match accepted {
                    Ok((socket, _)) => socket,
                    Err(_) => {
                        // Out of descriptors and the like: back off instead of spinning.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = socket.set_nodelay(true);
                let front = front.clone();
                let service = service_fn(move |req| {
                    let front = front.clone();
                    async move { front.handle(req).await }
                });
                let conn = builder.serve_connection(TokioIo::new(socket), service).into_owned();
                connections.spawn(async move {
                    let _ = conn.await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = &mut stopped => break,
        }
    }
    drop(listener);
    // Let requests being answered finish, then close every connection (idle keep-alive ones
    // included) so that shutdown returns promptly.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while front.in_flight.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    connections.shutdown().await;
}
