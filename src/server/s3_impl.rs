//! The operations s3s models, implemented on the in-memory [`Store`].
//!
//! Precondition headers are read raw from the request (see [`super::precondition`] for why);
//! s3s's typed fields for them are ignored. GET and HEAD of objects, and RenameObject, do not
//! come here: they go through the custom route ([`super::route`]).

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use hyper::HeaderMap;
use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::decide::{Arrival, WriteCtx, missing_key};
use super::errors;
use super::fault::{Fault, Faults, NON_ATOMIC_CREATE_GAP};
use super::precondition::{
    EtagList, ReadConditions, ReadOutcome, Validators, WriteCondition, unquote,
};
use super::store::{Object, Store, md5_hex, multipart_etag, now_seconds};
use crate::profile::Profile;

/// Parts other than the last must be at least this big, as on AWS (EntityTooSmall).
const MIN_PART_SIZE: usize = 5 * 1024 * 1024;
/// ListObjectsV2's default and maximum page size.
const MAX_KEYS: i32 = 1000;

/// The reference implementation of the S3 operations.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub(crate) store: Arc<Store>,
    pub(crate) profile: Profile,
    pub(crate) faults: Arc<Faults>,
    pub(crate) region: String,
}

/// A raw header value as text (`None` if absent or not visible ASCII).
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Reads a whole request body; the body is complete before any lock is taken.
pub(crate) async fn read_body(body: Option<StreamingBlob>) -> S3Result<Bytes> {
    let Some(mut body) = body else {
        return Ok(Bytes::new());
    };
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| S3Error::with_source(S3ErrorCode::IncompleteBody, e))?;
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn etag_dto(etag: &str) -> ETag {
    ETag::Strong(etag.to_owned())
}

impl Reference {
    fn ctx<'a>(&'a self, arrival: Option<&'a Arrival>) -> WriteCtx<'a> {
        WriteCtx {
            profile: self.profile,
            faults: &self.faults,
            arrival,
        }
    }

    fn write_condition(
        &self,
        headers: &HeaderMap,
        honour_if_match: bool,
    ) -> S3Result<WriteCondition> {
        let im = if honour_if_match {
            header(headers, "if-match")
        } else {
            None
        };
        WriteCondition::parse(im, header(headers, "if-none-match"))
            .map_err(|e| errors::write_header_error(self.profile, e))
    }
}

#[async_trait::async_trait]
impl S3 for Reference {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.store.lock().create_bucket(&req.input.bucket)?;
        let output = CreateBucketOutput {
            location: Some(format!("/{}", req.input.bucket)),
        };
        Ok(S3Response::new(output))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let mut state = self.store.lock();
        if !state.bucket(&req.input.bucket)?.is_empty() {
            return Err(S3Error::with_message(
                S3ErrorCode::BucketNotEmpty,
                "The bucket you tried to delete is not empty",
            ));
        }
        state.buckets.remove(&req.input.bucket);
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.store.lock().bucket(&req.input.bucket)?;
        let output = HeadBucketOutput {
            bucket_region: Some(self.region.clone()),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let state = self.store.lock();
        let buckets = state
            .buckets
            .iter()
            .map(|(name, b)| Bucket {
                name: Some(name.clone()),
                creation_date: Some(b.created.into()),
                bucket_region: Some(self.region.clone()),
            })
            .collect();
        let output = ListBucketsOutput {
            buckets: Some(buckets),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.store.lock().bucket(&req.input.bucket)?;
        let location = (self.region != "us-east-1")
            .then(|| BucketLocationConstraint::from(self.region.clone()));
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: location,
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let max_keys = input.max_keys.unwrap_or(MAX_KEYS).clamp(0, MAX_KEYS);
        // The continuation token is the hex of the last key returned: opaque to clients and safe
        // for any key bytes.
        let after = match &input.continuation_token {
            Some(t) => Some(
                hex::decode(t)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        S3Error::with_message(
                            S3ErrorCode::InvalidArgument,
                            "The continuation token provided is incorrect",
                        )
                    })?,
            ),
            None => input.start_after.clone(),
        };
        let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());

        let state = self.store.lock();
        let bucket = state.bucket(&input.bucket)?;
        let mut contents = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let mut last = None;
        let mut truncated = false;
        let lower = match &after {
            Some(a) => std::ops::Bound::Excluded(a.clone()),
            None => std::ops::Bound::Included(prefix.clone()),
        };
        for (key, slot) in bucket.objects.range((lower, std::ops::Bound::Unbounded)) {
            if !key.starts_with(&prefix) {
                if key.as_str() > prefix.as_str() {
                    break;
                }
                continue;
            }
            let Some(obj) = &slot.current else { continue };
            if let Some(d) = &delimiter
                && let Some(pos) = key[prefix.len()..].find(d.as_str())
            {
                let common = key[..prefix.len() + pos + d.len()].to_owned();
                if prefixes.last() == Some(&common) {
                    last = Some(key.clone());
                    continue;
                }
                if (contents.len() + prefixes.len()) as i32 >= max_keys {
                    truncated = true;
                    break;
                }
                prefixes.push(common);
                last = Some(key.clone());
                continue;
            }
            if (contents.len() + prefixes.len()) as i32 >= max_keys {
                truncated = true;
                break;
            }
            contents.push(s3s::dto::Object {
                key: Some(key.clone()),
                e_tag: Some(etag_dto(&obj.etag)),
                last_modified: Some(obj.last_modified.into()),
                size: Some(obj.data.len() as i64),
                storage_class: Some(ObjectStorageClass::from_static(
                    ObjectStorageClass::STANDARD,
                )),
                ..Default::default()
            });
            last = Some(key.clone());
        }
        let key_count = (contents.len() + prefixes.len()) as i32;
        let output = ListObjectsV2Output {
            name: Some(input.bucket.clone()),
            prefix: input.prefix,
            delimiter: input.delimiter,
            max_keys: Some(max_keys),
            key_count: Some(key_count),
            continuation_token: input.continuation_token,
            start_after: input.start_after,
            is_truncated: Some(truncated),
            next_continuation_token: if truncated {
                last.map(hex::encode)
            } else {
                None
            },
            contents: Some(contents),
            common_prefixes: (!prefixes.is_empty()).then(|| {
                prefixes
                    .into_iter()
                    .map(|p| CommonPrefix { prefix: Some(p) })
                    .collect()
            }),
            encoding_type: input.encoding_type,
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let arrival = req.extensions.get::<Arrival>().cloned();
        let ctx = self.ctx(arrival.as_ref());
        let cond = self.write_condition(&req.headers, !self.faults.has(Fault::IgnoreIfMatch))?;
        let input = req.input;
        self.store.lock().bucket(&input.bucket)?;

        let data = read_body(input.body).await?;
        if let Some(md5) = &input.content_md5 {
            let want = base64_md5(&data);
            if md5.trim() != want {
                return Err(S3Error::with_message(
                    S3ErrorCode::BadDigest,
                    "The Content-MD5 you specified did not match what we received.",
                ));
            }
        }
        let obj = Arc::new(Object::new(
            data,
            input.metadata.unwrap_or_default(),
            input.content_type,
        ));

        if self.faults.has(Fault::NonAtomicCreate) && cond == WriteCondition::IfNoneMatchAny {
            // The bug: check, let go of the key, then write without re-checking.
            {
                let state = self.store.lock();
                let current = state
                    .bucket(&input.bucket)?
                    .current(&input.key)
                    .map(|o| o.etag.clone());
                ctx.check_destination(&cond, current.as_deref(), &input.key)?;
            }
            tokio::time::sleep(NON_ATOMIC_CREATE_GAP).await;
            self.store
                .lock()
                .commit(&input.bucket, &input.key, Some(obj.clone()))?;
        } else {
            let mut state = self.store.lock();
            let current = state
                .bucket(&input.bucket)?
                .current(&input.key)
                .map(|o| o.etag.clone());
            ctx.check_destination(&cond, current.as_deref(), &input.key)?;
            state.commit(&input.bucket, &input.key, Some(obj.clone()))?;
        }
        let output = PutObjectOutput {
            e_tag: Some(etag_dto(&obj.etag)),
            ..Default::default()
        };
        ctx.finish(S3Response::new(output))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        let id = self.store.lock().create_upload(
            &input.bucket,
            &input.key,
            input.metadata.unwrap_or_default(),
            input.content_type,
        )?;
        let output = CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(id),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        if !(1..=10_000).contains(&input.part_number) {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive",
            ));
        }
        let data = read_body(input.body).await?;
        let etag = md5_hex(&data);
        let mut state = self.store.lock();
        let bucket = state.bucket_mut(&input.bucket)?;
        let upload = bucket
            .uploads
            .get_mut(&input.upload_id)
            .filter(|u| u.key == input.key)
            .ok_or_else(no_such_upload)?;
        upload.parts.insert(
            input.part_number,
            super::store::Part {
                data,
                etag: etag.clone(),
            },
        );
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(etag_dto(&etag)),
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        let mut state = self.store.lock();
        let bucket = state.bucket_mut(&input.bucket)?;
        match bucket.uploads.get(&input.upload_id) {
            Some(u) if u.key == input.key => {
                bucket.uploads.remove(&input.upload_id);
                Ok(S3Response::new(AbortMultipartUploadOutput::default()))
            }
            _ => Err(no_such_upload()),
        }
    }

    /// The precondition is evaluated at completion (SEMANTICS.md §1.2, CMU-specific): besides
    /// the usual 412/404, a condition that holds now but whose key was written or deleted since
    /// CreateMultipartUpload is 409 ConditionalRequestConflict, and the upload stays so that a
    /// retry gets 409 again.
    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let arrival = req.extensions.get::<Arrival>().cloned();
        let ctx = self.ctx(arrival.as_ref());
        let cond = self.write_condition(&req.headers, true)?;
        let input = req.input;
        let listed: Vec<CompletedPart> = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default();
        if listed.is_empty() {
            return Err(S3Error::with_message(
                S3ErrorCode::MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema",
            ));
        }

        let mut state = self.store.lock();
        let bucket = state.bucket(&input.bucket)?;
        let upload = bucket
            .uploads
            .get(&input.upload_id)
            .filter(|u| u.key == input.key)
            .ok_or_else(no_such_upload)?;

        let mut parts = Vec::with_capacity(listed.len());
        let mut prev = 0;
        for (i, p) in listed.iter().enumerate() {
            let n = p.part_number.unwrap_or(0);
            if n <= prev {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidPartOrder,
                    "The list of parts was not in ascending order.",
                ));
            }
            prev = n;
            let stored = upload.parts.get(&n).filter(|s| {
                p.e_tag
                    .as_ref()
                    .is_none_or(|e| unquote(e.value()) == s.etag)
            });
            let Some(stored) = stored else {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidPart,
                    "One or more of the specified parts could not be found.",
                ));
            };
            if i + 1 < listed.len() && stored.data.len() < MIN_PART_SIZE {
                return Err(S3Error::with_message(
                    S3ErrorCode::EntityTooSmall,
                    "Your proposed upload is smaller than the minimum allowed object size.",
                ));
            }
            parts.push(stored.clone());
        }

        let slot = bucket.objects.get(&input.key);
        let current = slot
            .and_then(|s| s.current.as_ref())
            .map(|o| o.etag.clone());
        let changed_during_upload = slot.is_some_and(|s| s.changed_seq > upload.created_seq);
        let (metadata, content_type) = (upload.metadata.clone(), upload.content_type.clone());
        // Checked before the destination so that `spurious-409` is not spent on a 409 that is due anyway.
        let conflict_due = match cond.check(current.as_deref()) {
            super::precondition::WriteCheck::Pass => cond.is_conditional() && changed_during_upload,
            _ => false,
        };
        if conflict_due {
            let which = if cond == WriteCondition::IfNoneMatchAny {
                "If-None-Match"
            } else {
                "If-Match"
            };
            return Err(errors::conflict(which, &input.key));
        }
        ctx.check_destination(&cond, current.as_deref(), &input.key)?;

        let mut data = BytesMut::with_capacity(parts.iter().map(|p| p.data.len()).sum());
        for p in &parts {
            data.extend_from_slice(&p.data);
        }
        let etags: Vec<&str> = parts.iter().map(|p| p.etag.as_str()).collect();
        let obj = Arc::new(Object::with_etag(
            data.freeze(),
            multipart_etag(&etags),
            metadata,
            content_type,
        ));
        state.commit(&input.bucket, &input.key, Some(obj.clone()))?;
        state
            .bucket_mut(&input.bucket)?
            .uploads
            .remove(&input.upload_id);
        drop(state);

        let output = CompleteMultipartUploadOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            e_tag: Some(etag_dto(&obj.etag)),
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            ..Default::default()
        };
        ctx.finish(S3Response::new(output))
    }

    /// Source conditions (`x-amz-copy-source-if-*`) fail with 412, never 304 (recorded AWS),
    /// and are evaluated before the destination's `If-Match`/`If-None-Match`.
    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let arrival = req.extensions.get::<Arrival>().cloned();
        let ctx = self.ctx(arrival.as_ref());
        let cond = self.write_condition(&req.headers, true)?;
        let src_conds =
            ReadConditions::from_lookup("x-amz-copy-source-", |n| header(&req.headers, n));
        let input = req.input;
        let CopySource::Bucket {
            bucket: src_bucket,
            key: src_key,
            ..
        } = &input.copy_source
        else {
            return Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                "Access point copy sources are not supported",
            ));
        };
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);

        let mut state = self.store.lock();
        let src = state.bucket(src_bucket)?.current(src_key).cloned();
        let Some(src) = src else {
            return Err(missing_key(
                &self.faults,
                src_key,
                src_conds.any(),
                "x-amz-copy-source-If-Match",
            ));
        };
        let v = Validators {
            etag: &src.etag,
            last_modified: src.last_modified,
        };
        match src_conds.evaluate(v, now_seconds(), None) {
            ReadOutcome::Proceed => {}
            ReadOutcome::NotModified(super::precondition::Which::IfNoneMatch)
                if self.faults.has(Fault::CopySource304) =>
            {
                return Err(errors::not_modified(&src.etag, src.last_modified));
            }
            ReadOutcome::Failed(w) | ReadOutcome::NotModified(w) => {
                return Err(errors::precondition_failed(
                    &w.condition("x-amz-copy-source-"),
                ));
            }
        }
        let current = state
            .bucket(&input.bucket)?
            .current(&input.key)
            .map(|o| o.etag.clone());
        ctx.check_destination(&cond, current.as_deref(), &input.key)?;

        let (metadata, content_type) = if replace {
            (input.metadata.unwrap_or_default(), input.content_type)
        } else {
            (src.metadata.clone(), src.content_type.clone())
        };
        let obj = Arc::new(Object::new(src.data.clone(), metadata, content_type));
        state.commit(&input.bucket, &input.key, Some(obj.clone()))?;
        drop(state);

        let output = CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag_dto(&obj.etag)),
                last_modified: Some(obj.last_modified.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        ctx.finish(S3Response::new(output))
    }

    /// `If-Match` (an ETag or `*`): match → 204, mismatch → 412, missing key → 404 NoSuchKey
    /// (measured AWS; CoreWeave is silent). The directory-bucket-only headers are 501, as measured
    /// on general-purpose buckets.
    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let arrival = req.extensions.get::<Arrival>().cloned();
        let ctx = self.ctx(arrival.as_ref());
        for h in ["x-amz-if-match-size", "x-amz-if-match-last-modified-time"] {
            if req.headers.contains_key(h) {
                return Err(errors::not_implemented_header(
                    h,
                    "This header is only supported for directory buckets",
                ));
            }
        }
        let if_match = header(&req.headers, "if-match").map(EtagList::parse);
        let input = req.input;
        if if_match.is_some() && input.version_id.is_some() {
            return Err(errors::not_implemented_header(
                "If-Match",
                "Conditional deletes of a specific version are not supported",
            ));
        }

        let mut state = self.store.lock();
        let current = state.bucket(&input.bucket)?.current(&input.key).cloned();
        match (&if_match, &current) {
            (None, None) => return Ok(S3Response::new(DeleteObjectOutput::default())),
            (None, Some(_)) => {}
            (Some(_), None) => return Err(ctx.missing_key(&input.key, true, "If-Match")),
            (Some(list), Some(obj)) => {
                // `*` and ETag lists share the write-condition path so that the race rule and
                // the spurious-409 fault apply to deletes too.
                let as_cond = WriteCondition::IfMatch(list.clone());
                ctx.check_destination(&as_cond, Some(&obj.etag), &input.key)?;
            }
        }
        state.commit(&input.bucket, &input.key, None)?;
        drop(state);
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    /// Per-key `<ETag>` conditions become per-key `<Error>` entries; the request itself is 200.
    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        let mut failed = Vec::new();
        let mut state = self.store.lock();
        state.bucket(&input.bucket)?;
        for id in input.delete.objects {
            let key = id.key;
            let error = |code: &str, message: &str| Error {
                code: Some(code.to_owned()),
                key: Some(key.clone()),
                message: Some(message.to_owned()),
                version_id: None,
            };
            if id.last_modified_time.is_some() || id.size.is_some() {
                failed.push(error(
                    "NotImplemented",
                    "LastModifiedTime and Size conditions are only supported for directory buckets",
                ));
                continue;
            }
            let current = state
                .bucket(&input.bucket)?
                .current(&key)
                .map(|o| o.etag.clone());
            match (&id.e_tag, &current) {
                (Some(_), None) => {
                    let (code, msg) = if self.faults.has(Fault::FourTwelveFor404) {
                        (
                            "PreconditionFailed",
                            "At least one of the pre-conditions you specified did not hold",
                        )
                    } else {
                        ("NoSuchKey", "The specified key does not exist.")
                    };
                    failed.push(error(code, msg));
                    continue;
                }
                (Some(want), Some(have))
                    if !EtagList::parse(want.value()).strong_match(have) && want.value() != "*" =>
                {
                    failed.push(error(
                        "PreconditionFailed",
                        "At least one of the pre-conditions you specified did not hold",
                    ));
                    continue;
                }
                _ => {}
            }
            if current.is_some() {
                state.commit(&input.bucket, &key, None)?;
            }
            if !quiet {
                deleted.push(DeletedObject {
                    key: Some(key.clone()),
                    ..Default::default()
                });
            }
        }
        let output = DeleteObjectsOutput {
            deleted: Some(deleted),
            errors: (!failed.is_empty()).then_some(failed),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }
}

fn no_such_upload() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
}

/// Base64 of the MD5, as Content-MD5 carries it.
fn base64_md5(data: &[u8]) -> String {
    use md5::{Digest, Md5};
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
    fn content_md5_is_base64() {
        assert_eq!(base64_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b"abc"), "YWJj");
    }
}
