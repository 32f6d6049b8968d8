//! `op: list`: ListObjectsV2 under the case's prefix.

use crate::case::schema::ListStep;
use crate::s3::Operation;

pub(super) fn build(s: &ListStep) -> (Operation, String) {
    (
        Operation::ListObjectsV2 {
            prefix: s.prefix.clone(),
        },
        "list".to_owned(),
    )
}
