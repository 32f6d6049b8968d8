//! Turns one [`Request`] into one aws-sdk-s3 call, and its response or error into an
//! [`Observation`]. Nothing else in the crate builds an SDK request.
//!
//! Every call carries a [`Capture`] interceptor that records the raw status and headers before
//! the SDK deserializes anything, so a 304, a bodiless HEAD 412 or a response the SDK cannot
//! parse is still judged by what the server actually sent.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart as SdkPart, Delete, ObjectIdentifier,
};
use bytes::Bytes;

use super::observation::{AmbiguityCause, BodyDigest, Observation, Outcome};
use super::request::{Operation, RawHeader, Request};
use super::session::{CallError, Session};

/// What the interceptor saw of the raw response.
#[derive(Debug, Default)]
struct Captured {
    status: u16,
    headers: BTreeMap<String, String>,
}

/// Records the raw status and headers of the response, before deserialization.
#[derive(Debug, Clone, Default)]
struct Capture(Arc<Mutex<Option<Captured>>>);

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "s3conform-capture"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in response.headers() {
            headers
                .entry(name.to_ascii_lowercase())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(value);
                })
                .or_insert_with(|| value.to_owned());
        }
        let captured = Captured {
            status: response.status().as_u16(),
            headers,
        };
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(captured);
        }
        Ok(())
    }
}

impl Capture {
    fn take(&self) -> Option<Captured> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Sends a fluent builder with the capture interceptor and the raw headers applied.
macro_rules! send {
    ($builder:expr, $capture:expr, $raw:expr) => {{
        let raw: Vec<RawHeader> = $raw.clone();
        $builder
            .customize()
            .interceptor($capture.clone())
            .mutate_request(move |req| {
                for h in &raw {
                    let headers = req.headers_mut();
                    // Names and values were validated in `RawHeader::new`, so these cannot fail.
                    if h.append {
                        let _ = headers.try_append(h.name.clone(), h.value.clone());
                    } else {
                        let _ = headers.try_insert(h.name.clone(), h.value.clone());
                    }
                }
            })
            .send()
            .await
    }};
}

/// The parts of an observation the SDK result decides.
#[derive(Debug, Default)]
struct Answer {
    etag: Option<String>,
    body: Option<Bytes>,
    upload_id: Option<String>,
    listed_keys: Option<Vec<String>>,
    delete_results: Option<super::observation::DeleteResults>,
}

/// The result of one SDK call, reduced to a status and an answer.
enum Sent {
    Ok(Answer),
    Failed(Box<Observation>),
}

impl Session {
    /// Performs one request and records what the endpoint answered.
    ///
    /// Returns `Err` only when the request could not be built or lies outside the run prefix;
    /// every answer of the endpoint, including timeouts and garbage, is an [`Observation`].
    pub async fn call(&self, request: &Request) -> Result<Observation, CallError> {
        self.send(request, true).await
    }

    /// [`Session::call`]; a `guarded` call is refused once the session's [`Halt`] has tripped,
    /// and abandoned (recorded as possibly applied) if the endpoint is declared stuck, or a
    /// second interrupt comes, while the call is in flight.
    ///
    /// [`Halt`]: super::halt::Halt
    pub(super) async fn send(
        &self,
        request: &Request,
        guarded: bool,
    ) -> Result<Observation, CallError> {
        if guarded && let Some(reason) = self.halt().reason() {
            return Err(CallError::Halted(reason));
        }
        self.authorize(&request.op, &request.raw_headers)?;
        let capture = Capture::default();
        let call_ns = self.now_ns();
        // A backstop over the SDK's own timeouts: a streamed body that stalls after the headers
        // is not covered by the operation timeout, and a hung call must still come back as an
        // ambiguous observation rather than hang the run.
        let t = self.target().timeouts;
        let limit = t.operation + std::time::Duration::from_secs(1);
        let work = tokio::time::timeout(limit, self.dispatch(request, &capture, call_ns));
        let finished = if guarded {
            tokio::select! {
                finished = work => finished,
                () = self.halt().abandon_in_flight() => {
                    let reason = self.halt().reason().unwrap_or(super::halt::HaltReason::Stuck);
                    let obs = self.ambiguous(
                        &capture,
                        call_ns,
                        AmbiguityCause::ConnectionLost {
                            detail: format!("abandoned in flight: {reason}"),
                        },
                    );
                    // It may have been applied: cleanup must know about it.
                    self.record_effects(&request.op, &obs);
                    return Err(CallError::Halted(reason));
                }
            }
        } else {
            work.await
        };
        let sent = match finished {
            Ok(sent) => sent?,
            Err(_) => Sent::Failed(Box::new(self.ambiguous(
                &capture,
                call_ns,
                AmbiguityCause::Timeout,
            ))),
        };
        let mut obs = match sent {
            Sent::Failed(obs) => *obs,
            Sent::Ok(answer) => {
                let captured = capture.take();
                let ret_ns = self.now_ns();
                let (status, headers) = match captured {
                    Some(c) => (Some(c.status), c.headers),
                    None => (None, BTreeMap::new()),
                };
                let etag = headers.get("etag").cloned().or(answer.etag);
                Observation {
                    outcome: Outcome::Definite,
                    status,
                    error_code: None,
                    error_message: None,
                    etag,
                    last_modified: headers.get("last-modified").cloned(),
                    headers,
                    body: answer.body.as_deref().map(BodyDigest::of),
                    body_bytes: answer.body,
                    upload_id: answer.upload_id,
                    listed_keys: answer.listed_keys,
                    delete_results: answer.delete_results,
                    note: None,
                    call_ns,
                    ret_ns,
                }
            }
        };
        if obs.status.is_some_and(|s| s >= 500) && !obs.is_ambiguous() {
            let status = obs.status.unwrap_or(500);
            obs.outcome = Outcome::Ambiguous(AmbiguityCause::ServerError { status });
        }
        self.record_effects(&request.op, &obs);
        self.halt().note(obs.status.is_some(), obs.ret_ns);
        Ok(obs)
    }

    async fn dispatch(
        &self,
        request: &Request,
        capture: &Capture,
        call_ns: u64,
    ) -> Result<Sent, CallError> {
        let c = self.client();
        let bucket = self.bucket();
        let raw = &request.raw_headers;
        let sent = match &request.op {
            Operation::GetObject { key, cond } => {
                let b = c
                    .get_object()
                    .bucket(bucket)
                    .key(key.as_str())
                    .set_if_match(cond.if_match.clone())
                    .set_if_none_match(cond.if_none_match.clone())
                    .set_if_modified_since(cond.if_modified_since.map(|d| d.smithy()))
                    .set_if_unmodified_since(cond.if_unmodified_since.map(|d| d.smithy()));
                match send!(b, capture, raw) {
                    Ok(out) => match out.body.collect().await {
                        Ok(data) => Sent::Ok(Answer {
                            etag: out.e_tag,
                            body: Some(data.into_bytes()),
                            ..Answer::default()
                        }),
                        Err(e) => Sent::Failed(Box::new(self.ambiguous(
                            capture,
                            call_ns,
                            AmbiguityCause::ConnectionLost {
                                detail: format!("reading the body: {e}"),
                            },
                        ))),
                    },
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::HeadObject { key, cond } => {
                let b = c
                    .head_object()
                    .bucket(bucket)
                    .key(key.as_str())
                    .set_if_match(cond.if_match.clone())
                    .set_if_none_match(cond.if_none_match.clone())
                    .set_if_modified_since(cond.if_modified_since.map(|d| d.smithy()))
                    .set_if_unmodified_since(cond.if_unmodified_since.map(|d| d.smithy()));
                match send!(b, capture, raw) {
                    Ok(out) => Sent::Ok(Answer {
                        etag: out.e_tag,
                        ..Answer::default()
                    }),
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::PutObject {
                key,
                body,
                metadata,
                cond,
            } => {
                let b = c
                    .put_object()
                    .bucket(bucket)
                    .key(key.as_str())
                    .body(ByteStream::from(body.clone()))
                    .set_metadata(Some(super::marker::with_marker(
                        metadata,
                        &self.root_prefix().run_id(),
                    )))
                    .set_if_match(cond.if_match.clone())
                    .set_if_none_match(cond.if_none_match.clone());
                match send!(b, capture, raw) {
                    Ok(out) => Sent::Ok(Answer {
                        etag: out.e_tag,
                        ..Answer::default()
                    }),
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::CreateMultipartUpload { key, metadata } => {
                let b = c
                    .create_multipart_upload()
                    .bucket(bucket)
                    .key(key.as_str())
                    .set_metadata(Some(super::marker::with_marker(
                        metadata,
                        &self.root_prefix().run_id(),
                    )));
                match send!(b, capture, raw) {
                    Ok(out) => Sent::Ok(Answer {
                        upload_id: out.upload_id,
                        ..Answer::default()
                    }),
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::UploadPart {
                key,
                upload_id,
                part_number,
                body,
            } => {
                let b = c
                    .upload_part()
                    .bucket(bucket)
                    .key(key.as_str())
                    .upload_id(upload_id)
                    .part_number(*part_number)
                    .body(ByteStream::from(body.clone()));
                match send!(b, capture, raw) {
                    Ok(out) => Sent::Ok(Answer {
                        etag: out.e_tag,
                        ..Answer::default()
                    }),
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::CompleteMultipartUpload {
                key,
                upload_id,
                parts,
                cond,
            } => {
                let parts = parts
                    .iter()
                    .map(|p| {
                        SdkPart::builder()
                            .part_number(p.part_number)
                            .e_tag(&p.etag)
                            .build()
                    })
                    .collect();
                let b = c
                    .complete_multipart_upload()
                    .bucket(bucket)
                    .key(key.as_str())
                    .upload_id(upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(parts))
                            .build(),
                    )
                    .set_if_match(cond.if_match.clone())
                    .set_if_none_match(cond.if_none_match.clone());
                match send!(b, capture, raw) {
                    Ok(out) => Sent::Ok(Answer {
                        etag: out.e_tag,
                        ..Answer::default()
                    }),
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::AbortMultipartUpload { key, upload_id } => {
                let b = c
                    .abort_multipart_upload()
                    .bucket(bucket)
                    .key(key.as_str())
                    .upload_id(upload_id);
                match send!(b, capture, raw) {
                    Ok(_) => Sent::Ok(Answer::default()),
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::CopyObject {
                source,
                key,
                cond,
                source_cond,
            } => {
                let b = c
                    .copy_object()
                    .bucket(bucket)
                    .key(key.as_str())
                    .copy_source(self.source_path(source))
                    .set_if_match(cond.if_match.clone())
                    .set_if_none_match(cond.if_none_match.clone())
                    .set_copy_source_if_match(source_cond.if_match.clone())
                    .set_copy_source_if_none_match(source_cond.if_none_match.clone())
                    .set_copy_source_if_modified_since(
                        source_cond.if_modified_since.map(|d| d.smithy()),
                    )
                    .set_copy_source_if_unmodified_since(
                        source_cond.if_unmodified_since.map(|d| d.smithy()),
                    );
                match send!(b, capture, raw) {
                    Ok(out) => Sent::Ok(Answer {
                        etag: out.copy_object_result.and_then(|r| r.e_tag),
                        ..Answer::default()
                    }),
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::DeleteObject { key, if_match } => {
                let b = c
                    .delete_object()
                    .bucket(bucket)
                    .key(key.as_str())
                    .set_if_match(if_match.clone());
                match send!(b, capture, raw) {
                    Ok(_) => Sent::Ok(Answer::default()),
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::DeleteObjects { objects } => {
                let mut ids = Vec::with_capacity(objects.len());
                for o in objects {
                    let id = ObjectIdentifier::builder()
                        .key(o.key.as_str())
                        .set_e_tag(o.etag.clone())
                        .set_last_modified_time(o.last_modified_time.map(|d| d.smithy()))
                        .set_size(o.size)
                        .build()
                        .map_err(|e| CallError::Construction(e.to_string()))?;
                    ids.push(id);
                }
                let delete = Delete::builder()
                    .set_objects(Some(ids))
                    .build()
                    .map_err(|e| CallError::Construction(e.to_string()))?;
                let b = c.delete_objects().bucket(bucket).delete(delete);
                match send!(b, capture, raw) {
                    Ok(out) => {
                        let root = self.prefix().as_str();
                        let rel = |k: &str| k.strip_prefix(root).unwrap_or(k).to_owned();
                        let mut deleted: Vec<String> = out
                            .deleted()
                            .iter()
                            .filter_map(|d| d.key())
                            .map(rel)
                            .collect();
                        deleted.sort();
                        let errors = out
                            .errors()
                            .iter()
                            .map(|e| {
                                (
                                    rel(e.key().unwrap_or("")),
                                    e.code().unwrap_or("").to_owned(),
                                )
                            })
                            .collect();
                        Sent::Ok(Answer {
                            delete_results: Some(super::observation::DeleteResults {
                                deleted,
                                errors,
                            }),
                            ..Answer::default()
                        })
                    }
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::RenameObject {
                source,
                key,
                cond,
                source_cond,
                client_token,
            } => {
                let b = c
                    .rename_object()
                    .bucket(bucket)
                    .key(key.as_str())
                    .rename_source(self.source_path(source))
                    .set_destination_if_match(cond.if_match.clone())
                    .set_destination_if_none_match(cond.if_none_match.clone())
                    .set_destination_if_modified_since(cond.if_modified_since.map(|d| d.smithy()))
                    .set_destination_if_unmodified_since(
                        cond.if_unmodified_since.map(|d| d.smithy()),
                    )
                    .set_source_if_match(source_cond.if_match.clone())
                    .set_source_if_none_match(source_cond.if_none_match.clone())
                    .set_source_if_modified_since(source_cond.if_modified_since.map(|d| d.smithy()))
                    .set_source_if_unmodified_since(
                        source_cond.if_unmodified_since.map(|d| d.smithy()),
                    )
                    .set_client_token(client_token.clone());
                match send!(b, capture, raw) {
                    Ok(_) => Sent::Ok(Answer::default()),
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::ListObjectsV2 { prefix } => {
                let root = self.prefix().as_str().to_owned();
                let full = format!("{root}{}", prefix.as_deref().unwrap_or(""));
                let b = c.list_objects_v2().bucket(bucket).prefix(full);
                match send!(b, capture, raw) {
                    Ok(out) => {
                        let keys = out
                            .contents()
                            .iter()
                            .filter_map(|o| o.key())
                            .map(|k| k.strip_prefix(root.as_str()).unwrap_or(k).to_owned())
                            .collect();
                        Sent::Ok(Answer {
                            listed_keys: Some(keys),
                            ..Answer::default()
                        })
                    }
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::CreateBucket => {
                let b = self.create_bucket_builder();
                match send!(b, capture, raw) {
                    Ok(_) => Sent::Ok(Answer::default()),
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
            Operation::DeleteBucket => {
                let b = c.delete_bucket().bucket(bucket);
                match send!(b, capture, raw) {
                    Ok(_) => Sent::Ok(Answer::default()),
                    Err(e) => self.failed(e, capture, call_ns)?,
                }
            }
        };
        Ok(sent)
    }

    /// Classifies an SDK error. Construction failures are our fault and become `Err`.
    fn failed<E, R>(
        &self,
        err: SdkError<E, R>,
        capture: &Capture,
        call_ns: u64,
    ) -> Result<Sent, CallError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let captured = capture.take();
        let ret_ns = self.now_ns();
        let (status, headers) = match captured {
            Some(c) => (Some(c.status), c.headers),
            None => (None, BTreeMap::new()),
        };
        let base = |outcome| Observation {
            outcome,
            status,
            error_code: None,
            error_message: None,
            etag: headers.get("etag").cloned(),
            last_modified: headers.get("last-modified").cloned(),
            headers: headers.clone(),
            body: None,
            body_bytes: None,
            upload_id: None,
            listed_keys: None,
            delete_results: None,
            note: None,
            call_ns,
            ret_ns,
        };
        let detail = DisplayErrorContext(&err).to_string();
        let obs = match err {
            SdkError::ConstructionFailure(_) => return Err(CallError::Construction(detail)),
            SdkError::TimeoutError(_) => base(Outcome::Ambiguous(AmbiguityCause::Timeout)),
            SdkError::DispatchFailure(e) => {
                let cause = if e.is_timeout() {
                    AmbiguityCause::Timeout
                } else {
                    AmbiguityCause::ConnectionLost { detail }
                };
                base(Outcome::Ambiguous(cause))
            }
            SdkError::ResponseError(_) => match status {
                // The status arrived and is not 5xx: it says whether the call took effect, even
                // though the rest of the answer was garbled.
                Some(s) if s < 500 => Observation {
                    note: Some(format!("unparseable response: {detail}")),
                    ..base(Outcome::Definite)
                },
                _ => base(Outcome::Ambiguous(AmbiguityCause::Unparseable { detail })),
            },
            SdkError::ServiceError(e) => {
                let err = e.err();
                Observation {
                    error_code: err.code().map(str::to_owned),
                    error_message: err.message().map(str::to_owned),
                    ..base(Outcome::Definite)
                }
            }
            _ => base(Outcome::Ambiguous(AmbiguityCause::Unparseable { detail })),
        };
        Ok(Sent::Failed(Box::new(obs)))
    }

    fn ambiguous(&self, capture: &Capture, call_ns: u64, cause: AmbiguityCause) -> Observation {
        let captured = capture.take().unwrap_or_default();
        Observation {
            outcome: Outcome::Ambiguous(cause),
            status: Some(captured.status).filter(|s| *s != 0),
            error_code: None,
            error_message: None,
            etag: captured.headers.get("etag").cloned(),
            last_modified: captured.headers.get("last-modified").cloned(),
            headers: captured.headers,
            body: None,
            body_bytes: None,
            upload_id: None,
            listed_keys: None,
            delete_results: None,
            note: None,
            call_ns,
            ret_ns: self.now_ns(),
        }
    }
}
