//! The multipart steps: `op: mpu_create`, `upload_part`, `mpu_complete` (with `If-Match` /
//! `If-None-Match`) and `mpu_abort`.

use crate::case::schema::{MpuAbortStep, MpuCompleteStep, MpuCreateStep, UploadPartStep};
use crate::s3::{CompletedPart, Operation, WriteConditions};

use super::{Notes, Resolver, body_of};

pub(super) fn create(r: &Resolver<'_>, s: &MpuCreateStep) -> Result<(Operation, String), String> {
    Ok((
        Operation::CreateMultipartUpload {
            key: r.key(&s.key)?,
            metadata: s.metadata.clone().into_iter().collect(),
        },
        format!("mpu_create {}", s.key),
    ))
}

pub(super) fn upload_part(
    r: &Resolver<'_>,
    s: &UploadPartStep,
) -> Result<(Operation, String), String> {
    let body = body_of(s.body.as_ref().map(|t| r.text(t)).transpose()?, s.size);
    Ok((
        Operation::UploadPart {
            key: r.key(&s.key)?,
            upload_id: r.text(&s.upload)?,
            part_number: s.part,
            body,
        },
        format!("upload_part {} #{}", s.key, s.part),
    ))
}

pub(super) fn complete(
    r: &Resolver<'_>,
    s: &MpuCompleteStep,
    notes: &mut Notes,
) -> Result<(Operation, String), String> {
    let mut parts = Vec::new();
    for (n, p) in s.parts.iter().enumerate() {
        parts.push(CompletedPart {
            part_number: i32::try_from(n + 1).unwrap_or(i32::MAX),
            etag: r.text(p)?,
        });
    }
    let cond = WriteConditions {
        if_match: r.opt(&s.if_match)?,
        if_none_match: r.opt(&s.if_none_match)?,
    };
    notes.note("If-Match", &cond.if_match);
    notes.note("If-None-Match", &cond.if_none_match);
    Ok((
        Operation::CompleteMultipartUpload {
            key: r.key(&s.key)?,
            upload_id: r.text(&s.upload)?,
            parts,
            cond,
        },
        format!("mpu_complete {}", s.key),
    ))
}

pub(super) fn abort(r: &Resolver<'_>, s: &MpuAbortStep) -> Result<(Operation, String), String> {
    Ok((
        Operation::AbortMultipartUpload {
            key: r.key(&s.key)?,
            upload_id: r.text(&s.upload)?,
        },
        format!("mpu_abort {}", s.key),
    ))
}
