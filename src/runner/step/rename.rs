//! `op: rename`: RenameObject, with destination preconditions, the
//! `x-amz-rename-source-if-*` preconditions on the source, and a client token.

use crate::case::schema::RenameStep;
use crate::s3::Operation;

use super::{Notes, Resolver};

pub(super) fn build(
    r: &Resolver<'_>,
    s: &RenameStep,
    notes: &mut Notes,
) -> Result<(Operation, String), String> {
    let cond = r.preconditions([
        &s.if_match,
        &s.if_none_match,
        &s.if_modified_since,
        &s.if_unmodified_since,
    ])?;
    let source_cond = r.preconditions([
        &s.source_if_match,
        &s.source_if_none_match,
        &s.source_if_modified_since,
        &s.source_if_unmodified_since,
    ])?;
    let client_token = r.opt(&s.client_token)?;
    notes.preconditions(
        [
            "If-Match",
            "If-None-Match",
            "If-Modified-Since",
            "If-Unmodified-Since",
        ],
        &cond,
    );
    notes.preconditions(
        [
            "x-amz-rename-source-if-match",
            "x-amz-rename-source-if-none-match",
            "x-amz-rename-source-if-modified-since",
            "x-amz-rename-source-if-unmodified-since",
        ],
        &source_cond,
    );
    notes.note("x-amz-client-token", &client_token);
    Ok((
        Operation::RenameObject {
            source: r.key(&s.source)?,
            key: r.key(&s.key)?,
            cond,
            source_cond,
            client_token,
        },
        format!("rename {} -> {}", s.source, s.key),
    ))
}
