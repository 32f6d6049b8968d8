//! The in-memory state: buckets, objects, multipart uploads, and the commit counter.
//!
//! One mutex guards everything. Handlers receive a request's whole body *before* they take it,
//! so a critical section is a few map operations: checking a precondition and applying the write
//! happen under one lock acquisition, which is what makes every conditional write atomic per key.
//!
//! Every change to a key bumps a global commit counter (`seq`) and records it on the key's
//! [`Slot`]. That is how CompleteMultipartUpload knows whether the key was written or deleted
//! after its CreateMultipartUpload, and the previous version is kept for the `stale-read` and
//! `phantom-304` faults.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use md5::{Digest, Md5};
use s3s::dto::Metadata;
use s3s::{S3Error, S3ErrorCode};
use time::OffsetDateTime;

use super::errors;

/// One stored version of an object. Immutable once stored; shared by `Arc`.
#[derive(Debug)]
pub(crate) struct Object {
    pub(crate) data: Bytes,
    /// Unquoted: 32 hex digits, or `<hex>-<N>` for a multipart object.
    pub(crate) etag: String,
    /// Truncated to the second, as S3 reports it.
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) metadata: Metadata,
    pub(crate) content_type: Option<String>,
}

impl Object {
    /// A single-part object: the ETag is the MD5 of the bytes.
    pub(crate) fn new(data: Bytes, metadata: Metadata, content_type: Option<String>) -> Self {
        let etag = md5_hex(&data);
        Self::with_etag(data, etag, metadata, content_type)
    }

    /// An object with a given ETag (multipart), stamped now.
    pub(crate) fn with_etag(
        data: Bytes,
        etag: String,
        metadata: Metadata,
        content_type: Option<String>,
    ) -> Self {
        Self {
            data,
            etag,
            last_modified: now_seconds(),
            metadata,
            content_type,
        }
    }
}

/// The current time truncated to the second: Last-Modified has second precision, and comparing
/// `If-Modified-Since` against a sub-second time would make "equal" dates look modified.
pub(crate) fn now_seconds() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// Lowercase hex MD5.
pub(crate) fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// A key's state. A deleted key keeps its slot (a tombstone) so that its change is remembered.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) current: Option<Arc<Object>>,
    /// The version before the last change (`None`: the key was absent).
    pub(crate) previous: Option<Arc<Object>>,
    /// The commit counter value of the last change.
    pub(crate) changed_seq: u64,
    pub(crate) changed_at: Instant,
}

/// One uploaded part.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub(crate) data: Bytes,
    /// Unquoted MD5 hex.
    pub(crate) etag: String,
}

/// A multipart upload in progress.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) key: String,
    /// The commit counter when the upload was created: a later change to the key counts as
    /// "written during the upload" at completion (docs/semantics.md §1.2, CMU-specific).
    pub(crate) created_seq: u64,
    pub(crate) parts: BTreeMap<i32, Part>,
    pub(crate) metadata: Metadata,
    pub(crate) content_type: Option<String>,
}

/// One bucket.
#[derive(Debug)]
pub(crate) struct Bucket {
    pub(crate) created: OffsetDateTime,
    pub(crate) objects: BTreeMap<String, Slot>,
    pub(crate) uploads: HashMap<String, Upload>,
    /// RenameObject `x-amz-client-token` → fingerprint of the request it was first used with.
    pub(crate) rename_tokens: HashMap<String, String>,
}

impl Bucket {
    fn new() -> Self {
        Self {
            created: now_seconds(),
            objects: BTreeMap::new(),
            uploads: HashMap::new(),
            rename_tokens: HashMap::new(),
        }
    }

    /// The current version of `key`, if any.
    pub(crate) fn current(&self, key: &str) -> Option<&Arc<Object>> {
        self.objects.get(key).and_then(|s| s.current.as_ref())
    }

    /// Whether any object or upload remains.
    pub(crate) fn is_empty(&self) -> bool {
        self.uploads.is_empty() && self.objects.values().all(|s| s.current.is_none())
    }
}

/// Everything the server stores.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) buckets: BTreeMap<String, Bucket>,
    /// Global commit counter.
    pub(crate) seq: u64,
    next_upload: u64,
}

impl State {
    pub(crate) fn bucket(&self, name: &str) -> Result<&Bucket, S3Error> {
        self.buckets
            .get(name)
            .ok_or_else(|| errors::no_such_bucket(name))
    }

    pub(crate) fn bucket_mut(&mut self, name: &str) -> Result<&mut Bucket, S3Error> {
        self.buckets
            .get_mut(name)
            .ok_or_else(|| errors::no_such_bucket(name))
    }

    /// Creates a bucket; 409 BucketAlreadyOwnedByYou if it exists.
    pub(crate) fn create_bucket(&mut self, name: &str) -> Result<(), S3Error> {
        if self.buckets.contains_key(name) {
            return Err(S3Error::with_message(
                S3ErrorCode::BucketAlreadyOwnedByYou,
                "Your previous request to create the named bucket succeeded and you already own it.",
            ));
        }
        self.buckets.insert(name.to_owned(), Bucket::new());
        Ok(())
    }

    /// Sets the current version of `bucket/key` (`None` deletes it) as one commit.
    /// The bucket must exist.
    pub(crate) fn commit(
        &mut self,
        bucket: &str,
        key: &str,
        new: Option<Arc<Object>>,
    ) -> Result<(), S3Error> {
        self.seq += 1;
        let seq = self.seq;
        let b = self.bucket_mut(bucket)?;
        let slot = b.objects.entry(key.to_owned()).or_insert_with(|| Slot {
            current: None,
            previous: None,
            changed_seq: 0,
            changed_at: Instant::now(),
        });
        slot.previous = std::mem::replace(&mut slot.current, new);
        slot.changed_seq = seq;
        slot.changed_at = Instant::now();
        Ok(())
    }

    /// Starts a multipart upload of `key` and returns its id.
    pub(crate) fn create_upload(
        &mut self,
        bucket: &str,
        key: &str,
        metadata: Metadata,
        content_type: Option<String>,
    ) -> Result<String, S3Error> {
        self.next_upload += 1;
        let id = format!("{:016x}{:08x}", self.next_upload, std::process::id());
        let created_seq = self.seq;
        let b = self.bucket_mut(bucket)?;
        b.uploads.insert(
            id.clone(),
            Upload {
                key: key.to_owned(),
                created_seq,
                parts: BTreeMap::new(),
                metadata,
                content_type,
            },
        );
        Ok(id)
    }
}

/// The shared, locked state.
#[derive(Debug, Default)]
pub(crate) struct Store {
    state: Mutex<State>,
}

impl Store {
    /// Locks the state. A panic while locked cannot leave a half-applied write (every write is
    /// one `commit`), so a poisoned lock is recovered rather than propagated.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The multipart ETag: MD5 of the concatenated binary part MD5s, then `-N`.
pub(crate) fn multipart_etag(part_etags: &[&str]) -> String {
    let mut h = Md5::new();
    for e in part_etags {
        h.update(hex::decode(e).unwrap_or_default());
    }
    format!("{}-{}", hex::encode(h.finalize()), part_etags.len())
}

/// Base64 of the MD5, as Content-MD5 carries it.
pub(crate) fn base64_md5(data: &[u8]) -> String {
    base64_encode(&Md5::digest(data))
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_md5_and_md5_of_md5s() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        let one = md5_hex(b"a");
        let expected = hex::encode(Md5::digest(hex::decode(&one).unwrap()));
        assert_eq!(multipart_etag(&[&one]), format!("{expected}-1"));
    }

    #[test]
    fn content_md5_is_base64() {
        assert_eq!(base64_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b"abc"), "YWJj");
    }

    #[test]
    fn commit_tracks_previous_and_seq() {
        let mut s = State::default();
        s.create_bucket("b").unwrap();
        assert!(s.create_bucket("b").is_err());
        let o = Arc::new(Object::new(
            Bytes::from_static(b"x"),
            Metadata::default(),
            None,
        ));
        s.commit("b", "k", Some(o.clone())).unwrap();
        s.commit("b", "k", None).unwrap();
        let slot = &s.bucket("b").unwrap().objects["k"];
        assert!(slot.current.is_none());
        assert_eq!(slot.previous.as_ref().unwrap().etag, o.etag);
        assert_eq!(slot.changed_seq, 2);
        assert!(s.bucket("b").unwrap().is_empty());
        assert_eq!(o.last_modified.nanosecond(), 0);
    }
}
