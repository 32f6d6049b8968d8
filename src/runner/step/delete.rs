//! `op: delete`: DeleteObject, with `If-Match`.

use crate::case::schema::DeleteStep;
use crate::s3::Operation;

use super::{Notes, Resolver};

pub(super) fn build(
    r: &Resolver<'_>,
    s: &DeleteStep,
    notes: &mut Notes,
) -> Result<(Operation, String), String> {
    let if_match = r.opt(&s.if_match)?;
    notes.note("If-Match", &if_match);
    Ok((
        Operation::DeleteObject {
            key: r.key(&s.key)?,
            if_match,
        },
        format!("delete {}", s.key),
    ))
}
