//! `op: get` and `op: head`: GetObject and HeadObject, with the four read preconditions.

use crate::case::schema::ReadStep;
use crate::s3::Operation;

use super::{Notes, Resolver};

/// Which of the two reads a [`ReadStep`] is.
pub(super) enum Kind {
    Get,
    Head,
}

pub(super) fn build(
    r: &Resolver<'_>,
    s: &ReadStep,
    kind: Kind,
    notes: &mut Notes,
) -> Result<(Operation, String), String> {
    let cond = r.preconditions([
        &s.if_match,
        &s.if_none_match,
        &s.if_modified_since,
        &s.if_unmodified_since,
    ])?;
    notes.preconditions(
        [
            "If-Match",
            "If-None-Match",
            "If-Modified-Since",
            "If-Unmodified-Since",
        ],
        &cond,
    );
    let key = r.key(&s.key)?;
    Ok(match kind {
        Kind::Get => (Operation::GetObject { key, cond }, format!("get {}", s.key)),
        Kind::Head => (
            Operation::HeadObject { key, cond },
            format!("head {}", s.key),
        ),
    })
}
