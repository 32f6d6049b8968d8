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
use super::precondition::{EtagList, ReadConditions, ReadOutcome, Validators, WriteCondition};
use super::store::{Object, Store, now_seconds};
use crate::profile::Profile;

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

pub(crate) fn etag_dto(etag: &str) -> ETag {
    ETag::Strong(etag.to_owned())
}

impl Reference {
    pub(crate) fn ctx<'a>(&'a self, arrival: Option<&'a Arrival>) -> WriteCtx<'a> {
        WriteCtx {
            profile: self.profile,
            faults: &self.faults,
            arrival,
        }
    }

    /// Under the `refused-write-applied` fault, writes `obj` although the request is being
    /// refused; otherwise does nothing.
    pub(crate) fn apply_refused(
        &self,
        bucket: &str,
        key: &str,
        obj: Arc<Object>,
    ) -> Result<(), S3Error> {
        if self.faults.has(Fault::RefusedWriteApplied) {
            self.store.lock().commit(bucket, key, Some(obj))?;
        }
        Ok(())
    }

    /// Under the `delete-despite-condition` fault, deletes `key` although the delete is being
    /// refused; returns the refusal either way.
    fn delete_despite(&self, bucket: &str, key: &str, refusal: S3Error) -> S3Error {
        if self.faults.has(Fault::DeleteDespiteCondition) {
            let mut state = self.store.lock();
            if state.bucket(bucket).is_ok_and(|b| b.current(key).is_some()) {
                let _ = state.commit(bucket, key, None);
            }
        }
        refusal
    }

    pub(crate) fn write_condition(
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
        super::listing::list_objects_v2(&self.store, req.input).map(S3Response::new)
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let arrival = req.extensions.get::<Arrival>().cloned();
        let ctx = self.ctx(arrival.as_ref());
        // A refused header value is answered only after the body was read, so that the
        // `refused-write-applied` fault has something to apply.
        let cond = self.write_condition(&req.headers, !self.faults.has(Fault::IgnoreIfMatch));
        let input = req.input;
        self.store.lock().bucket(&input.bucket)?;

        let data = read_body(input.body).await?;
        if let Some(md5) = &input.content_md5 {
            let want = super::store::base64_md5(&data);
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
        let cond = match cond {
            Ok(c) => c,
            Err(e) => {
                self.apply_refused(&input.bucket, &input.key, obj)?;
                return Err(e);
            }
        };

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
            if let Err(e) = ctx.check_destination(&cond, current.as_deref(), &input.key) {
                drop(state);
                self.apply_refused(&input.bucket, &input.key, obj)?;
                return Err(e);
            }
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
        self.upload_part_impl(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.abort_impl(req)
    }

    /// See [`Reference::complete_impl`]: preconditions are evaluated at completion.
    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.complete_impl(req)
    }

    /// Source conditions (`x-amz-copy-source-if-*`) fail with 412, never 304 (recorded AWS),
    /// and are evaluated before the destination's `If-Match`/`If-None-Match`.
    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let arrival = req.extensions.get::<Arrival>().cloned();
        let ctx = self.ctx(arrival.as_ref());
        let cond = self.write_condition(&req.headers, true);
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
            cond?;
            return Err(missing_key(
                &self.faults,
                src_key,
                src_conds.any(),
                "x-amz-copy-source-If-Match",
            ));
        };
        let (metadata, content_type) = if replace {
            (input.metadata.unwrap_or_default(), input.content_type)
        } else {
            (src.metadata.clone(), src.content_type.clone())
        };
        let obj = Arc::new(Object::new(src.data.clone(), metadata, content_type));
        let refused = |state: std::sync::MutexGuard<'_, super::store::State>, e: S3Error| {
            drop(state);
            self.apply_refused(&input.bucket, &input.key, obj.clone())
                .and(Err::<S3Response<CopyObjectOutput>, S3Error>(e))
        };
        let cond = match cond {
            Ok(c) => c,
            Err(e) => return refused(state, e),
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
                return refused(
                    state,
                    errors::precondition_failed(&w.condition("x-amz-copy-source-")),
                );
            }
        }
        let current = state
            .bucket(&input.bucket)?
            .current(&input.key)
            .map(|o| o.etag.clone());
        if let Err(e) = ctx.check_destination(&cond, current.as_deref(), &input.key) {
            return refused(state, e);
        }
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
                let refusal = errors::not_implemented_header(
                    h,
                    "This header is only supported for directory buckets",
                );
                return Err(self.delete_despite(&req.input.bucket, &req.input.key, refusal));
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
                if let Err(e) = ctx.check_destination(&as_cond, Some(&obj.etag), &input.key) {
                    drop(state);
                    return Err(self.delete_despite(&input.bucket, &input.key, e));
                }
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
            // `delete-despite-condition` deletes a key whose condition refused it, as it does
            // for DeleteObject; the answer still reports the refusal.
            let despite = |state: &mut crate::server::store::State| -> S3Result<()> {
                if self.faults.has(Fault::DeleteDespiteCondition)
                    && state.bucket(&input.bucket)?.current(&key).is_some()
                {
                    state.commit(&input.bucket, &key, None)?;
                }
                Ok(())
            };
            if id.last_modified_time.is_some() || id.size.is_some() {
                failed.push(error(
                    "NotImplemented",
                    "LastModifiedTime and Size conditions are only supported for directory buckets",
                ));
                despite(&mut state)?;
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
                (Some(want), Some(have)) if !EtagList::parse(want.value()).strong_match(have) => {
                    failed.push(error(
                        "PreconditionFailed",
                        "At least one of the pre-conditions you specified did not hold",
                    ));
                    despite(&mut state)?;
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
