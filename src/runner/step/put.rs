//! `op: put`: PutObject, with `If-Match` / `If-None-Match`.

use crate::case::schema::PutStep;
use crate::s3::{Operation, WriteConditions};

use super::{Notes, Resolver, body_of};

pub(super) fn build(
    r: &Resolver<'_>,
    s: &PutStep,
    notes: &mut Notes,
) -> Result<(Operation, String), String> {
    let cond = WriteConditions {
        if_match: r.opt(&s.if_match)?,
        if_none_match: r.opt(&s.if_none_match)?,
    };
    notes.note("If-Match", &cond.if_match);
    notes.note("If-None-Match", &cond.if_none_match);
    let body = body_of(s.body.as_ref().map(|t| r.text(t)).transpose()?, s.size);
    Ok((
        Operation::PutObject {
            key: r.key(&s.key)?,
            body,
            metadata: s.metadata.clone().into_iter().collect(),
            cond,
        },
        format!("put {}", s.key),
    ))
}
