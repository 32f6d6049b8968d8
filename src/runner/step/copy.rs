//! `op: copy`: CopyObject, with destination `If-Match` / `If-None-Match` and the
//! `x-amz-copy-source-if-*` preconditions on the source.

use crate::case::schema::CopyStep;
use crate::s3::{Operation, WriteConditions};

use super::{Notes, Resolver};

pub(super) fn build(
    r: &Resolver<'_>,
    s: &CopyStep,
    notes: &mut Notes,
) -> Result<(Operation, String), String> {
    let cond = WriteConditions {
        if_match: r.opt(&s.if_match)?,
        if_none_match: r.opt(&s.if_none_match)?,
    };
    let source_cond = r.preconditions([
        &s.source_if_match,
        &s.source_if_none_match,
        &s.source_if_modified_since,
        &s.source_if_unmodified_since,
    ])?;
    notes.note("If-Match", &cond.if_match);
    notes.note("If-None-Match", &cond.if_none_match);
    notes.preconditions(
        [
            "x-amz-copy-source-if-match",
            "x-amz-copy-source-if-none-match",
            "x-amz-copy-source-if-modified-since",
            "x-amz-copy-source-if-unmodified-since",
        ],
        &source_cond,
    );
    Ok((
        Operation::CopyObject {
            source: r.key(&s.source)?,
            key: r.key(&s.key)?,
            cond,
            source_cond,
        },
        format!("copy {} -> {}", s.source, s.key),
    ))
}
