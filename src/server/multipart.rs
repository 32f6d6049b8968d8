//! Multipart uploads: parts, abort, and CompleteMultipartUpload with its preconditions.

use std::sync::Arc;

use bytes::BytesMut;
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::decide::Arrival;
use super::errors;
use super::fault::Fault;
use super::precondition::{WriteCheck, WriteCondition, unquote};
use super::s3_impl::{Reference, etag_dto, read_body};
use super::store::{Object, Part, md5_hex, multipart_etag};

/// Parts other than the last must be at least this big, as on AWS (EntityTooSmall).
const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

pub(crate) fn no_such_upload() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
}

impl Reference {
    pub(crate) async fn upload_part_impl(
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
            Part {
                data,
                etag: etag.clone(),
            },
        );
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(etag_dto(&etag)),
            ..Default::default()
        }))
    }

    pub(crate) fn abort_impl(
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

    /// The precondition is evaluated at completion (docs/semantics.md §1.2, CMU-specific): besides
    /// the usual 412/404, a condition that holds now but whose key was written or deleted since
    /// CreateMultipartUpload is 409 ConditionalRequestConflict, and the upload stays so that a
    /// retry gets 409 again.
    pub(crate) fn complete_impl(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let arrival = req.extensions.get::<Arrival>().cloned();
        let ctx = self.ctx(arrival.as_ref());
        // A refused header value is answered after the parts were validated, so that the
        // `refused-write-applied` fault has an object to apply.
        let cond = self.write_condition(&req.headers, true);
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

        let mut data = BytesMut::with_capacity(parts.iter().map(|p| p.data.len()).sum());
        for p in &parts {
            data.extend_from_slice(&p.data);
        }
        let etags: Vec<&str> = parts.iter().map(|p| p.etag.as_str()).collect();
        let obj = Arc::new(Object::with_etag(
            data.freeze(),
            multipart_etag(&etags),
            upload.metadata.clone(),
            upload.content_type.clone(),
        ));
        let slot = bucket.objects.get(&input.key);
        let current = slot
            .and_then(|s| s.current.as_ref())
            .map(|o| o.etag.clone());
        let changed_during_upload = slot.is_some_and(|s| s.changed_seq > upload.created_seq);
        let decision = cond.and_then(|cond| {
            // Checked before the destination so that `spurious-409` is not spent on a 409 that
            // is due anyway.
            let conflict_due = match cond.check(current.as_deref()) {
                WriteCheck::Pass => cond.is_conditional() && changed_during_upload,
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
            ctx.check_destination(&cond, current.as_deref(), &input.key)
        });
        let refused = decision.err();
        if refused.is_none() || self.faults.has(Fault::RefusedWriteApplied) {
            state.commit(&input.bucket, &input.key, Some(obj.clone()))?;
            state
                .bucket_mut(&input.bucket)?
                .uploads
                .remove(&input.upload_id);
        }
        drop(state);
        if let Some(e) = refused {
            return Err(e);
        }

        let output = CompleteMultipartUploadOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            e_tag: Some(etag_dto(&obj.etag)),
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            ..Default::default()
        };
        ctx.finish(S3Response::new(output))
    }
}
