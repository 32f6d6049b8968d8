//! Runs a [`Schedule`] against an endpoint through the operation layer and records the
//! [`History`] the checker judges.
//!
//! Honesty rules, each of which a checker relies on:
//! - one recorded op is one HTTP attempt (SDK retries are off in the operation layer);
//! - call and return instants are taken immediately around the call, by the operation layer;
//! - after an ambiguous op (timeout, reset, 5xx) the writer retires that client id and goes on
//!   as a fresh client, so no client ever has two overlapping ops;
//! - every write carries a unique write id in its body and metadata, so a read names exactly
//!   which write it saw.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use md5::{Digest, Md5};

use super::live::Recording;
use super::schedule::{Action, ReadCondition, ReadKind, Schedule, WriteCondition};
use crate::history::{Header, History, Op, Out, Req, Via};
use crate::s3::{
    CallError, CompletedPart, Key, Observation, Operation, Preconditions, Request, Session,
    WriteConditions,
};

/// The metadata header that carries a write id (`x-amz-meta-<WRITE_ID_META>`).
pub const WRITE_ID_META: &str = "s3conform-write-id";

/// Live counters, for the progress bar.
#[derive(Debug, Default)]
pub struct Counters {
    /// Ops recorded.
    pub ops: AtomicU64,
    /// Ambiguous ops.
    pub ambiguous: AtomicU64,
    /// 412 answers.
    pub precondition_failed: AtomicU64,
    /// 409 answers.
    pub conflicts: AtomicU64,
}

/// Limits on a drive.
#[derive(Debug, Clone, Copy)]
pub struct DriveLimits {
    /// Stop starting new actions after this many recorded ops in total.
    pub max_ops: u64,
    /// Stop starting new actions after this long.
    pub max_duration: Option<Duration>,
}

/// The error for a drive that could not proceed.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    /// A request was refused before sending (outside the prefix, unbuildable).
    #[error(transparent)]
    Call(#[from] CallError),
    /// A key name could not be made.
    #[error(transparent)]
    Key(#[from] crate::s3::KeyError),
}

/// Shared state of one drive.
struct Shared {
    session: Session,
    keys: Vec<Key>,
    recording: Arc<Recording>,
    next_client: AtomicU64,
    next_write: AtomicU64,
    counters: Arc<Counters>,
    limits: DriveLimits,
    started: Instant,
}

impl Shared {
    fn exhausted(&self) -> bool {
        self.counters.ops.load(Ordering::Relaxed) >= self.limits.max_ops
            || self
                .limits
                .max_duration
                .is_some_and(|d| self.started.elapsed() >= d)
    }
}

/// Drives every program of `schedule` concurrently, one tokio task per writer, and returns the
/// history (ops sorted by call instant, ids assigned in that order).
pub async fn drive(
    session: &Session,
    schedule: &Schedule,
    limits: DriveLimits,
    counters: Arc<Counters>,
) -> Result<History, DriveError> {
    drive_recorded(session, schedule, limits, counters, Arc::default()).await
}

/// [`drive`], recording into `recording`, which others may snapshot while the drive runs.
pub async fn drive_recorded(
    session: &Session,
    schedule: &Schedule,
    limits: DriveLimits,
    counters: Arc<Counters>,
    recording: Arc<Recording>,
) -> Result<History, DriveError> {
    let keys = (0..schedule.keys)
        .map(|i| session.key(&format!("k{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let shared = Arc::new(Shared {
        session: session.clone(),
        keys,
        recording,
        next_client: AtomicU64::new(0),
        next_write: AtomicU64::new(0),
        counters,
        limits,
        started: Instant::now(),
    });
    let mut tasks = Vec::new();
    for program in &schedule.programs {
        let shared = shared.clone();
        let actions = program.actions.clone();
        tasks.push(tokio::spawn(async move {
            let mut writer = Writer::new(shared);
            for action in actions {
                if writer.shared.exhausted() {
                    break;
                }
                writer.perform(action).await?;
            }
            Ok::<(), DriveError>(())
        }));
    }
    for task in tasks {
        match task.await {
            Ok(result) => result?,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
    let header = Header {
        seed: schedule.seed,
        endpoint: Some(session.target().endpoint.to_string()),
        ..Header::new()
    };
    Ok(shared.recording.take(header))
}

/// One writer: a client id (renewed after an ambiguous op) and the ETags it last saw.
struct Writer {
    shared: Arc<Shared>,
    client: u64,
    last_seen: HashMap<u8, Option<String>>,
}

/// What a recorded op means for the action that issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    Ok(Option<String>),
    Absent,
    Lost,
    Other,
}

impl Writer {
    fn new(shared: Arc<Shared>) -> Writer {
        let client = shared.next_client.fetch_add(1, Ordering::Relaxed);
        Writer {
            shared,
            client,
            last_seen: HashMap::new(),
        }
    }

    fn key(&self, i: u8) -> Key {
        self.shared.keys[usize::from(i) % self.shared.keys.len()].clone()
    }

    fn seen(&self, i: u8) -> Option<String> {
        self.last_seen.get(&i).cloned().flatten()
    }

    async fn perform(&mut self, action: Action) -> Result<(), DriveError> {
        match action {
            Action::ReadModifyWrite { key, read, retries } => {
                for _ in 0..=retries {
                    let etag = match self.read(key, read, None, None).await? {
                        Got::Ok(etag) => etag,
                        Got::Absent => None,
                        Got::Lost | Got::Other => return Ok(()),
                    };
                    let cond = match etag {
                        Some(e) => WriteConditions {
                            if_match: Some(e),
                            if_none_match: None,
                        },
                        None => WriteConditions {
                            if_match: None,
                            if_none_match: Some("*".into()),
                        },
                    };
                    match self.put(key, cond).await? {
                        Got::Lost => continue,
                        _ => return Ok(()),
                    }
                }
            }
            Action::SafeCreate { key, retries } => {
                for _ in 0..=retries {
                    let cond = WriteConditions {
                        if_match: None,
                        if_none_match: Some("*".into()),
                    };
                    // Retry only on 409, as CoreWeave advises (docs/semantics.md §2.1); a 412
                    // means the key exists.
                    if self.put_status(key, cond).await? != Some(409) {
                        return Ok(());
                    }
                }
            }
            Action::Read { key, kind } => {
                self.read(key, kind, None, None).await?;
            }
            Action::ConditionalRead { key, kind, cond } => {
                let seen = self.seen(key);
                let (im, inm) = match (cond, seen) {
                    (ReadCondition::IfNoneMatchAny, _) => (None, Some("*".to_owned())),
                    (ReadCondition::IfNoneMatchLastSeen, Some(e)) => (None, Some(e)),
                    (ReadCondition::IfMatchLastSeen, Some(e)) => (Some(e), None),
                    (_, None) => (None, None),
                };
                self.read(key, kind, im, inm).await?;
            }
            Action::BlindWrite { key } => {
                self.put(key, WriteConditions::default()).await?;
            }
            Action::Delete { key, conditional } => {
                let if_match = if conditional { self.seen(key) } else { None };
                self.delete(key, if_match).await?;
            }
            Action::Copy { source, dest, cond } => {
                let cond = self.write_condition(dest, cond);
                self.copy(source, dest, cond).await?;
            }
            Action::Multipart { key, cond } => {
                let cond = self.write_condition(key, cond);
                self.multipart(key, cond).await?;
            }
        }
        Ok(())
    }

    fn write_condition(&self, key: u8, cond: WriteCondition) -> WriteConditions {
        match (cond, self.seen(key)) {
            (WriteCondition::None, _) => WriteConditions::default(),
            (WriteCondition::IfMatchLastSeen, Some(e)) => WriteConditions {
                if_match: Some(e),
                if_none_match: None,
            },
            (WriteCondition::IfMatchLastSeen, None) | (WriteCondition::IfNoneMatchAny, _) => {
                WriteConditions {
                    if_match: None,
                    if_none_match: Some("*".into()),
                }
            }
        }
    }

    /// Sends one request and records it as an op on `key`.
    async fn record(
        &mut self,
        key: u8,
        req: Req,
        request: Request,
    ) -> Result<(Observation, Out), DriveError> {
        // In flight from just before the operation layer takes the call instant.
        let token = self.shared.recording.begin(Op {
            id: 0,
            client: self.client,
            key: self.key(key).relative().to_owned(),
            call_ns: self.shared.session.now_ns(),
            ret_ns: 0,
            req: req.clone(),
            out: Out::PreconditionFailed,
        });
        let obs = self.shared.session.call(&request).await?;
        let out = out_of(&obs, &req);
        let c = &self.shared.counters;
        c.ops.fetch_add(1, Ordering::Relaxed);
        match out {
            Out::Ambiguous { .. } => {
                c.ambiguous.fetch_add(1, Ordering::Relaxed);
            }
            Out::PreconditionFailed => {
                c.precondition_failed.fetch_add(1, Ordering::Relaxed);
            }
            Out::Conflict => {
                c.conflicts.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        let op = Op {
            id: 0,
            client: self.client,
            key: self.key(key).relative().to_owned(),
            call_ns: obs.call_ns,
            ret_ns: obs.ret_ns,
            req,
            out: out.clone(),
        };
        self.shared.recording.finish(token, op);
        if obs.is_ambiguous() {
            // A process whose op may still land is retired; a fresh one takes its place.
            self.client = self.shared.next_client.fetch_add(1, Ordering::Relaxed);
            self.last_seen.clear();
        }
        Ok((obs, out))
    }

    async fn read(
        &mut self,
        key: u8,
        kind: ReadKind,
        if_match: Option<String>,
        if_none_match: Option<String>,
    ) -> Result<Got, DriveError> {
        let cond = Preconditions {
            if_match: if_match.clone(),
            if_none_match: if_none_match.clone(),
            ..Preconditions::default()
        };
        let k = self.key(key);
        let (op, req) = match kind {
            ReadKind::Get => (
                Operation::GetObject { key: k, cond },
                Req::Get {
                    if_match,
                    if_none_match,
                },
            ),
            ReadKind::Head => (
                Operation::HeadObject { key: k, cond },
                Req::Head {
                    if_match,
                    if_none_match,
                },
            ),
        };
        let (_, out) = self.record(key, req, Request::new(op)).await?;
        Ok(self.learn(key, &out))
    }

    fn next_write_id(&self) -> String {
        format!(
            "w{}",
            self.shared.next_write.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn body_for(&self, write_id: &str, key: u8) -> Bytes {
        Bytes::from(format!(
            "s3conform write {write_id} client {} key k{key}\n",
            self.client
        ))
    }

    async fn put(&mut self, key: u8, cond: WriteConditions) -> Result<Got, DriveError> {
        let (got, _) = self.put_inner(key, cond).await?;
        Ok(got)
    }

    async fn put_status(
        &mut self,
        key: u8,
        cond: WriteConditions,
    ) -> Result<Option<u16>, DriveError> {
        let (_, status) = self.put_inner(key, cond).await?;
        Ok(status)
    }

    async fn put_inner(
        &mut self,
        key: u8,
        cond: WriteConditions,
    ) -> Result<(Got, Option<u16>), DriveError> {
        let write_id = self.next_write_id();
        let body = self.body_for(&write_id, key);
        let etag = format!("\"{}\"", hex::encode(Md5::digest(&body)));
        let req = Req::Put {
            write_id: Some(write_id.clone()),
            etag_if_applied: Some(etag),
            if_match: cond.if_match.clone(),
            if_none_match: cond.if_none_match.clone(),
            via: Via::Put,
            source_key: None,
            initiated_ns: None,
        };
        let op = Operation::PutObject {
            key: self.key(key),
            body,
            metadata: vec![(WRITE_ID_META.to_owned(), write_id)],
            cond,
        };
        let (obs, out) = self.record(key, req, Request::new(op)).await?;
        Ok((self.learn(key, &out), obs.definite_status()))
    }

    async fn delete(&mut self, key: u8, if_match: Option<String>) -> Result<Got, DriveError> {
        let req = Req::Delete {
            if_match: if_match.clone(),
        };
        let op = Operation::DeleteObject {
            key: self.key(key),
            if_match,
        };
        let (_, out) = self.record(key, req, Request::new(op)).await?;
        if matches!(out, Out::Ok { .. }) {
            self.last_seen.insert(key, None);
        }
        Ok(self.learn(key, &out))
    }

    async fn copy(
        &mut self,
        source: u8,
        dest: u8,
        cond: WriteConditions,
    ) -> Result<Got, DriveError> {
        let req = Req::Put {
            write_id: None,
            etag_if_applied: None,
            if_match: cond.if_match.clone(),
            if_none_match: cond.if_none_match.clone(),
            via: Via::Copy,
            source_key: Some(self.key(source).relative().to_owned()),
            initiated_ns: None,
        };
        let op = Operation::CopyObject {
            source: self.key(source),
            key: self.key(dest),
            cond,
            source_cond: Preconditions::default(),
        };
        let (obs, out) = self.record(dest, req, Request::new(op)).await?;
        if obs.definite_status() == Some(404) {
            return Ok(Got::Other);
        }
        Ok(self.learn(dest, &out))
    }

    async fn multipart(&mut self, key: u8, cond: WriteConditions) -> Result<Got, DriveError> {
        let write_id = self.next_write_id();
        let k = self.key(key);
        let create = Request::new(Operation::CreateMultipartUpload {
            key: k.clone(),
            metadata: vec![(WRITE_ID_META.to_owned(), write_id.clone())],
        });
        let created = self.shared.session.call(&create).await?;
        let Some(upload_id) = created.upload_id.clone().filter(|_| created.succeeded()) else {
            return Ok(Got::Other);
        };
        let body = self.body_for(&write_id, key);
        let part = Request::new(Operation::UploadPart {
            key: k.clone(),
            upload_id: upload_id.clone(),
            part_number: 1,
            body: body.clone(),
        });
        let uploaded = self.shared.session.call(&part).await?;
        let Some(part_etag) = uploaded.etag.clone().filter(|_| uploaded.succeeded()) else {
            let abort = Request::new(Operation::AbortMultipartUpload { key: k, upload_id });
            self.shared.session.call(&abort).await?;
            return Ok(Got::Other);
        };
        let part_md5 = Md5::digest(&body);
        let etag = format!("\"{}-1\"", hex::encode(Md5::digest(part_md5)));
        let req = Req::Put {
            write_id: Some(write_id),
            etag_if_applied: Some(etag),
            if_match: cond.if_match.clone(),
            if_none_match: cond.if_none_match.clone(),
            via: Via::CompleteMultipart,
            source_key: None,
            initiated_ns: Some(created.call_ns),
        };
        let complete = Request::new(Operation::CompleteMultipartUpload {
            key: k.clone(),
            upload_id: upload_id.clone(),
            parts: vec![CompletedPart {
                part_number: 1,
                etag: part_etag,
            }],
            cond,
        });
        // The write can take effect only while Complete is in flight, so the op is timed around
        // Complete; S3 also counts every write since the upload began when it answers 409, which
        // is what `initiated_ns` records.
        let (obs, out) = self.record(key, req, complete).await?;
        if !obs.succeeded() && !obs.is_ambiguous() {
            let abort = Request::new(Operation::AbortMultipartUpload { key: k, upload_id });
            self.shared.session.call(&abort).await?;
        }
        Ok(self.learn(key, &out))
    }

    /// Updates the last-seen ETag from an outcome and says what it means for the action.
    fn learn(&mut self, key: u8, out: &Out) -> Got {
        match out {
            Out::Ok { etag, .. } => {
                if etag.is_some() {
                    self.last_seen.insert(key, etag.clone());
                }
                Got::Ok(etag.clone())
            }
            Out::NotModified { .. } => Got::Ok(self.seen(key)),
            Out::NotFound { .. } => {
                self.last_seen.insert(key, None);
                Got::Absent
            }
            Out::PreconditionFailed | Out::Conflict => Got::Lost,
            Out::Rejected { .. } | Out::Ambiguous { .. } => Got::Other,
        }
    }
}

/// Maps an observation to the history's outcome vocabulary.
fn out_of(obs: &Observation, req: &Req) -> Out {
    use crate::s3::Outcome;
    if let Outcome::Ambiguous(cause) = &obs.outcome {
        return Out::Ambiguous {
            cause: cause.to_string(),
            status: obs.status,
        };
    }
    match obs.status {
        Some(s) if (200..300).contains(&s) => {
            let write_id = match req {
                Req::Get { .. } => obs.body_bytes.as_deref().and_then(parse_write_id),
                Req::Head { .. } => obs
                    .header(&format!("x-amz-meta-{WRITE_ID_META}"))
                    .map(str::to_owned),
                _ => None,
            };
            let etag = match req {
                Req::Delete { .. } => None,
                _ => obs.etag.clone(),
            };
            Out::Ok {
                status: s,
                etag,
                write_id,
            }
        }
        Some(304) => Out::NotModified {
            etag: obs.etag.clone(),
        },
        Some(412) => Out::PreconditionFailed,
        // A copy's 404 may be about its source rather than its destination, so it says nothing
        // about the destination's state: record it as a rejection, which the checker takes as
        // "no effect" without constraining the state.
        Some(404) if matches!(req, Req::Put { via: Via::Copy, .. }) => Out::Rejected {
            status: 404,
            code: obs.error_code.clone(),
        },
        Some(404) => Out::NotFound {
            code: obs.error_code.clone(),
        },
        Some(409) => Out::Conflict,
        Some(s) => Out::Rejected {
            status: s,
            code: obs.error_code.clone(),
        },
        None => Out::Ambiguous {
            cause: "no status".to_owned(),
            status: None,
        },
    }
}

/// The write id in a body written by [`Writer::body_for`].
fn parse_write_id(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let rest = text.strip_prefix("s3conform write ")?;
    rest.split_whitespace().next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_ids_parse_back() {
        assert_eq!(
            parse_write_id(b"s3conform write w17 client 3 key k0\n").as_deref(),
            Some("w17")
        );
        assert_eq!(parse_write_id(b"garbage"), None);
        assert_eq!(parse_write_id(&[0xff]), None);
    }
}
