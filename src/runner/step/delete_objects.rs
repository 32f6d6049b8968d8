//! `op: delete_objects`: DeleteObjects, each object with its own `<ETag>`, `<LastModifiedTime>`
//! and `<Size>` conditions.

use crate::case::schema::DeleteObjectsStep;
use crate::s3::{DeleteTarget, Operation};

use super::{Notes, Resolver};

pub(super) fn build(
    r: &Resolver<'_>,
    s: &DeleteObjectsStep,
    notes: &mut Notes,
) -> Result<(Operation, String), String> {
    let mut objects = Vec::with_capacity(s.objects.len());
    for o in &s.objects {
        let etag = r.opt(&o.etag)?;
        let last_modified_time = r.date(&o.last_modified_time)?;
        // The conditions travel in the XML body, so the label names them per key.
        notes.note(&format!("{} <ETag>", o.key), &etag);
        notes.note(
            &format!("{} <LastModifiedTime>", o.key),
            &last_modified_time.map(|d| d.to_string()),
        );
        notes.note(&format!("{} <Size>", o.key), &o.size.map(|n| n.to_string()));
        objects.push(DeleteTarget {
            key: r.key(&o.key)?,
            etag,
            last_modified_time,
            size: o.size,
        });
    }
    let keys: Vec<&str> = s.objects.iter().map(|o| o.key.as_str()).collect();
    Ok((
        Operation::DeleteObjects { objects },
        format!("delete_objects {}", keys.join(", ")),
    ))
}
