//! A [`Session`]: one client, one bucket, one run prefix, and the bookkeeping that lets the tool
//! clean up exactly what it created and nothing else.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::halt::Halt;
use super::key::{Key, KeyError, RunPrefix};
use super::observation::Observation;
use super::request::{Operation, RawHeader, Request};
use super::target::Target;

/// An error that is not an answer of the endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The request addresses a key outside this run's prefix; nothing was sent.
    #[error("refusing to address `{key}`: it lies outside the run prefix `{prefix}`")]
    OutsidePrefix {
        /// The key.
        key: String,
        /// The run prefix.
        prefix: String,
    },
    /// A raw header names an object or bucket the prefix guard cannot check; nothing was sent.
    #[error("refusing to send raw header `{0}`: it names an object or bucket outside the guard")]
    AddressingHeader(String),
    /// The session was stopped (Ctrl-C, or a stuck endpoint); nothing more is sent.
    #[error("not sent: {0}")]
    Halted(super::halt::HaltReason),
    /// DeleteBucket on a bucket this run did not create; nothing was sent.
    #[error("refusing to delete bucket `{0}`: this run did not create it")]
    ForeignBucket(String),
    /// The SDK could not build the request (a bug in the request, not the endpoint's fault).
    #[error("failed to build the request: {0}")]
    Construction(String),
}

/// The error for an endpoint or bucket that cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// No answer: connection refused, DNS, or timeout.
    #[error("endpoint {endpoint} is unreachable: {detail}")]
    Unreachable {
        /// The endpoint URL.
        endpoint: String,
        /// What the transport said.
        detail: String,
    },
    /// The bucket does not exist and `--create-bucket` was not given.
    #[error("bucket `{bucket}` does not exist on {endpoint} (pass --create-bucket to create it)")]
    NoSuchBucket {
        /// The bucket.
        bucket: String,
        /// The endpoint URL.
        endpoint: String,
    },
    /// The credentials were refused.
    #[error("access to bucket `{bucket}` was denied ({status} {code}); check the credentials")]
    AccessDenied {
        /// The bucket.
        bucket: String,
        /// The status.
        status: u16,
        /// The error code, if any.
        code: String,
    },
    /// The endpoint answers, but not as S3: nothing it says can be judged.
    #[error("endpoint {endpoint} does not speak S3 ({detail}); stopping before judging anything")]
    NotS3 {
        /// The endpoint URL.
        endpoint: String,
        /// What gave it away.
        detail: String,
    },
    /// Every fresh run root tried under `--prefix` was already in use.
    #[error(
        "no free run prefix under `{base}` after {attempts} tries: objects already exist under each"
    )]
    PrefixInUse {
        /// The base prefix.
        base: String,
        /// How many run ids were tried.
        attempts: usize,
    },
    /// The bucket keeps versions, which deleting by key would leave behind.
    #[error(
        "bucket `{bucket}` has versioning {status}: deleting by key would leave every version this \
         run writes (and a delete marker) behind; use a bucket without versioning"
    )]
    Versioned {
        /// The bucket.
        bucket: String,
        /// `Enabled` or `Suspended`.
        status: String,
    },
    /// The endpoint answered something an S3 endpoint would not.
    #[error("endpoint {endpoint} gave an unexpected answer to {operation}: {detail}")]
    Unexpected {
        /// The endpoint URL.
        endpoint: String,
        /// The probing operation.
        operation: &'static str,
        /// What came back.
        detail: String,
    },
}

impl SetupError {
    /// Whether the endpoint answered, but not as S3 does.
    pub fn is_not_s3(&self) -> bool {
        matches!(self, SetupError::NotS3 { .. })
    }
}

/// What [`Session::cleanup`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Objects deleted.
    pub deleted: usize,
    /// Multipart uploads aborted.
    pub aborted: usize,
    /// Keys or uploads that could not be removed, with the reason.
    pub failures: Vec<String>,
    /// Keys or uploads not confirmed removed when the cleanup bound ran out.
    pub unfinished: usize,
}

impl CleanupReport {
    /// Whether anything this run wrote may remain.
    pub fn left_something(&self) -> bool {
        !self.failures.is_empty() || self.unfinished > 0
    }
}

/// How many deletes and aborts cleanup keeps in flight.
const CLEANUP_CONCURRENCY: usize = 16;

#[derive(Debug, Default)]
struct Ledger {
    /// Every key a write of this run addressed.
    written: BTreeSet<Key>,
    /// Multipart uploads this run created and has not completed or aborted.
    uploads: BTreeSet<(Key, String)>,
}

/// One client bound to one bucket and one run prefix.
///
/// Cloning is cheap; [`Session::scoped`] makes a session for a sub-prefix that shares the
/// client, the clock and the cleanup ledger.
#[derive(Debug, Clone)]
pub struct Session {
    client: aws_sdk_s3::Client,
    target: Arc<Target>,
    /// The run's root: no key outside it is ever addressed.
    root: RunPrefix,
    /// Where this session's keys are made.
    prefix: RunPrefix,
    epoch: Instant,
    ledger: Arc<Mutex<Ledger>>,
    bucket_created: Arc<AtomicBool>,
    halt: Arc<Halt>,
}

/// Characters kept literal in a copy or rename source: RFC 3986 unreserved plus `/`.
const SOURCE_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

impl Session {
    /// Connects to `target`, checks the bucket (creating it when the target says so), and
    /// returns a session rooted at `prefix`.
    pub async fn connect(target: Target, prefix: RunPrefix) -> Result<Session, SetupError> {
        let client = target.client().await;
        let stall = Halt::stall_for(target.timeouts.operation);
        let session = Session {
            client,
            target: Arc::new(target),
            root: prefix.clone(),
            prefix,
            epoch: Instant::now(),
            ledger: Arc::default(),
            bucket_created: Arc::default(),
            halt: Arc::new(Halt::new(stall)),
        };
        session.check_bucket().await?;
        Ok(session)
    }

    /// A session without the bucket check, for probing an endpoint that may not answer at all
    /// (the ambiguity tests use it against sockets that misbehave on purpose).
    pub async fn connect_unchecked(target: Target, prefix: RunPrefix) -> Session {
        let client = target.client().await;
        let stall = Halt::stall_for(target.timeouts.operation);
        Session {
            client,
            target: Arc::new(target),
            root: prefix.clone(),
            prefix,
            epoch: Instant::now(),
            ledger: Arc::default(),
            bucket_created: Arc::default(),
            halt: Arc::new(Halt::new(stall)),
        }
    }

    /// This session moved to another run root (with nothing recorded yet).
    pub(super) fn with_root(self, root: RunPrefix) -> Session {
        Session {
            root: root.clone(),
            prefix: root,
            ..self
        }
    }

    /// A session for a sub-prefix of this one, e.g. one per case.
    pub fn scoped(&self, child: &str) -> Result<Session, KeyError> {
        Ok(Session {
            prefix: self.prefix.child(child)?,
            ..self.clone()
        })
    }

    /// A key under this session's prefix.
    pub fn key(&self, name: &str) -> Result<Key, KeyError> {
        self.prefix.key(name)
    }

    /// This session's prefix.
    pub fn prefix(&self) -> &RunPrefix {
        &self.prefix
    }

    /// The run's root prefix (every session scoped from one connection shares it).
    pub fn root_prefix(&self) -> &RunPrefix {
        &self.root
    }

    /// The stop switch every session of this connection shares: trip it to stop sending.
    pub fn halt(&self) -> &Arc<Halt> {
        &self.halt
    }

    /// How long [`Session::cleanup`] may take in all: two request timeouts (with their
    /// backstop), however many objects there are, since deletes run concurrently.
    pub fn cleanup_bound(&self) -> std::time::Duration {
        (self.target.timeouts.operation + std::time::Duration::from_secs(1)).saturating_mul(2)
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.target.bucket
    }

    /// Monotonic nanoseconds since the session (or its root) began.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    pub(super) fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// `bucket/key`, percent-encoded, as CopyObject and RenameObject take their source.
    pub(super) fn source_path(&self, key: &Key) -> String {
        format!(
            "{}/{}",
            self.bucket(),
            utf8_percent_encode(key.as_str(), SOURCE_KEEP)
        )
    }

    /// Refuses anything outside the run root, raw headers that address objects themselves, and
    /// bucket deletion this run did not earn.
    pub(super) fn authorize(&self, op: &Operation, raw: &[RawHeader]) -> Result<(), CallError> {
        if let Some(h) = raw.iter().find(|h| super::guard::addresses_object(&h.name)) {
            return Err(CallError::AddressingHeader(h.name.clone()));
        }
        for key in op.keys() {
            if !self.root.contains(key) {
                return Err(CallError::OutsidePrefix {
                    key: key.as_str().to_owned(),
                    prefix: self.root.as_str().to_owned(),
                });
            }
        }
        if matches!(op, Operation::DeleteBucket) && !self.bucket_created.load(Ordering::SeqCst) {
            return Err(CallError::ForeignBucket(self.bucket().to_owned()));
        }
        Ok(())
    }

    /// Notes what a call may have created, so cleanup can remove it. Ambiguous writes count:
    /// they may have happened.
    pub(super) fn record_effects(&self, op: &Operation, obs: &Observation) {
        let Ok(mut ledger) = self.ledger.lock() else {
            return;
        };
        let maybe_applied = obs.succeeded() || obs.is_ambiguous();
        if maybe_applied {
            for key in op.written_keys() {
                ledger.written.insert(key.clone());
            }
        }
        match op {
            Operation::CreateMultipartUpload { key, .. } => {
                if let Some(id) = &obs.upload_id {
                    ledger.uploads.insert((key.clone(), id.clone()));
                }
            }
            Operation::CompleteMultipartUpload { key, upload_id, .. }
            | Operation::AbortMultipartUpload { key, upload_id }
                if obs.succeeded() =>
            {
                ledger.uploads.remove(&(key.clone(), upload_id.clone()));
            }
            Operation::CreateBucket if obs.succeeded() => {
                self.bucket_created.store(true, Ordering::SeqCst);
            }
            _ => {}
        }
    }

    pub(super) fn create_bucket_builder(
        &self,
    ) -> aws_sdk_s3::operation::create_bucket::builders::CreateBucketFluentBuilder {
        let mut b = self.client.create_bucket().bucket(self.bucket());
        // us-east-1 is the one region that must not name itself as a location constraint.
        if self.target.region != "us-east-1" {
            b = b.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(
                        self.target.region.as_str(),
                    ))
                    .build(),
            );
        }
        b
    }

    async fn check_bucket(&self) -> Result<(), SetupError> {
        let endpoint = self.target.endpoint.to_string();
        let bucket = self.bucket().to_owned();
        match self.client.head_bucket().bucket(&bucket).send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => {
                let status = e.raw().status().as_u16();
                let code = e.err().code().unwrap_or("").to_owned();
                match status {
                    404 if self.target.create_bucket => {
                        let obs = self
                            .call(&Request::new(Operation::CreateBucket))
                            .await
                            .map_err(|e| SetupError::Unexpected {
                                endpoint: endpoint.clone(),
                                operation: "CreateBucket",
                                detail: e.to_string(),
                            })?;
                        if obs.succeeded() {
                            Ok(())
                        } else {
                            Err(SetupError::Unexpected {
                                endpoint,
                                operation: "CreateBucket",
                                detail: obs.summary(),
                            })
                        }
                    }
                    404 => Err(SetupError::NoSuchBucket { bucket, endpoint }),
                    401 | 403 => Err(SetupError::AccessDenied {
                        bucket,
                        status,
                        code,
                    }),
                    _ => Err(SetupError::Unexpected {
                        endpoint,
                        operation: "HeadBucket",
                        detail: format!("{status} {code}"),
                    }),
                }
            }
            Err(e @ SdkError::DispatchFailure(_)) => Err(SetupError::Unreachable {
                endpoint,
                detail: DisplayErrorContext(&e).to_string(),
            }),
            Err(SdkError::TimeoutError(_)) => Err(SetupError::Unreachable {
                endpoint,
                detail: format!("no answer within {:?}", self.target.timeouts.operation),
            }),
            Err(other) => Err(SetupError::Unexpected {
                endpoint,
                operation: "HeadBucket",
                detail: DisplayErrorContext(&other).to_string(),
            }),
        }
    }

    /// Deletes every object this run may have written and aborts its open uploads. Touches
    /// nothing else, even under a shared prefix. Runs [`CLEANUP_CONCURRENCY`] requests at once,
    /// ignores a tripped [`Halt`] (cleaning up is what a halted run still must do), and gives
    /// up after [`Session::cleanup_bound`], counting what it did not get to.
    pub async fn cleanup(&self) -> CleanupReport {
        use futures::StreamExt;
        let (keys, uploads) = match self.ledger.lock() {
            Ok(mut l) => (
                std::mem::take(&mut l.written),
                std::mem::take(&mut l.uploads),
            ),
            Err(_) => return CleanupReport::default(),
        };
        // The root marker goes last, and only when everything else is gone: `s3conform clean`
        // trusts uploads only under a root that still has it.
        let marker = self.root.key(super::claim::ROOT_MARKER).ok();
        let (markers, keys): (Vec<Key>, Vec<Key>) =
            keys.into_iter().partition(|k| Some(k) == marker.as_ref());
        let total = keys.len() + uploads.len();
        let report = Mutex::new(CleanupReport::default());
        let aborts = uploads.into_iter().map(|(key, upload_id)| {
            (
                format!("abort upload of {key}"),
                Operation::AbortMultipartUpload { key, upload_id },
                true,
            )
        });
        let deletes = keys.into_iter().map(|key| {
            (
                format!("delete {key}"),
                Operation::DeleteObject {
                    key,
                    if_match: None,
                },
                false,
            )
        });
        let work = futures::stream::iter(aborts.chain(deletes)).for_each_concurrent(
            CLEANUP_CONCURRENCY,
            |(what, op, abort)| {
                let report = &report;
                async move {
                    let result = self.send(&Request::new(op), false).await;
                    let Ok(mut r) = report.lock() else { return };
                    match result {
                        Ok(obs) if obs.succeeded() || obs.status == Some(404) => {
                            if abort {
                                r.aborted += 1;
                            } else {
                                r.deleted += 1;
                            }
                        }
                        Ok(obs) => r.failures.push(format!("{what}: {}", obs.summary())),
                        Err(e) => r.failures.push(format!("{what}: {e}")),
                    }
                }
            },
        );
        let bound = self.cleanup_bound();
        let started = std::time::Instant::now();
        let finished = tokio::time::timeout(bound, work).await.is_ok();
        let mut report = report.into_inner().unwrap_or_else(|e| e.into_inner());
        if !finished {
            report.unfinished =
                total.saturating_sub(report.deleted + report.aborted + report.failures.len());
        }
        for key in markers {
            if report.left_something() {
                report.unfinished += 1;
                continue;
            }
            let op = Operation::DeleteObject {
                key,
                if_match: None,
            };
            let left = bound.saturating_sub(started.elapsed());
            match tokio::time::timeout(left, self.send(&Request::new(op), false)).await {
                Ok(Ok(obs)) if obs.succeeded() || obs.status == Some(404) => report.deleted += 1,
                Ok(Ok(obs)) => report
                    .failures
                    .push(format!("delete the root marker: {}", obs.summary())),
                Ok(Err(e)) => report.failures.push(format!("delete the root marker: {e}")),
                Err(_) => report.unfinished += 1,
            }
        }
        report
    }

    /// Deletes the bucket if, and only if, this run created it.
    pub async fn delete_bucket_if_created(&self) -> Option<Observation> {
        if !self.bucket_created.load(Ordering::SeqCst) {
            return None;
        }
        self.call(&Request::new(Operation::DeleteBucket)).await.ok()
    }
}
