//! ListObjectsV2: prefix, delimiter, max-keys, start-after and continuation.

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Result};

use super::s3_impl::etag_dto;
use super::store::Store;

/// ListObjectsV2's default and maximum page size.
const MAX_KEYS: i32 = 1000;

pub(crate) fn list_objects_v2(
    store: &Store,
    input: ListObjectsV2Input,
) -> S3Result<ListObjectsV2Output> {
    let prefix = input.prefix.clone().unwrap_or_default();
    let max_keys = input.max_keys.unwrap_or(MAX_KEYS).clamp(0, MAX_KEYS);
    // The continuation token is the hex of the last key returned: opaque to clients and safe
    // for any key bytes.
    let after = match &input.continuation_token {
        Some(t) => Some(
            hex::decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    S3Error::with_message(
                        S3ErrorCode::InvalidArgument,
                        "The continuation token provided is incorrect",
                    )
                })?,
        ),
        None => input.start_after.clone(),
    };
    let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());

    let state = store.lock();
    let bucket = state.bucket(&input.bucket)?;
    let mut contents = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut last = None;
    let mut truncated = false;
    let lower = match &after {
        Some(a) => std::ops::Bound::Excluded(a.clone()),
        None => std::ops::Bound::Included(prefix.clone()),
    };
    for (key, slot) in bucket.objects.range((lower, std::ops::Bound::Unbounded)) {
        if !key.starts_with(&prefix) {
            if key.as_str() > prefix.as_str() {
                break;
            }
            continue;
        }
        let Some(obj) = &slot.current else { continue };
        if let Some(d) = &delimiter
            && let Some(pos) = key[prefix.len()..].find(d.as_str())
        {
            let common = key[..prefix.len() + pos + d.len()].to_owned();
            if prefixes.last() == Some(&common) {
                continue;
            }
            if (contents.len() + prefixes.len()) as i32 >= max_keys {
                truncated = max_keys > 0;
                break;
            }
            // A page that ends on a common prefix resumes after every key under it.
            last = Some(format!("{common}{}", char::MAX));
            prefixes.push(common);
            continue;
        }
        if (contents.len() + prefixes.len()) as i32 >= max_keys {
            truncated = max_keys > 0;
            break;
        }
        contents.push(s3s::dto::Object {
            key: Some(key.clone()),
            e_tag: Some(etag_dto(&obj.etag)),
            last_modified: Some(obj.last_modified.into()),
            size: Some(obj.data.len() as i64),
            storage_class: Some(ObjectStorageClass::from_static(
                ObjectStorageClass::STANDARD,
            )),
            ..Default::default()
        });
        last = Some(key.clone());
    }
    let key_count = (contents.len() + prefixes.len()) as i32;
    let output = ListObjectsV2Output {
        name: Some(input.bucket.clone()),
        prefix: input.prefix,
        delimiter: input.delimiter,
        max_keys: Some(max_keys),
        key_count: Some(key_count),
        continuation_token: input.continuation_token,
        start_after: input.start_after,
        is_truncated: Some(truncated),
        next_continuation_token: if truncated {
            last.map(hex::encode)
        } else {
            None
        },
        contents: Some(contents),
        common_prefixes: (!prefixes.is_empty()).then(|| {
            prefixes
                .into_iter()
                .map(|p| CommonPrefix { prefix: Some(p) })
                .collect()
        }),
        encoding_type: input.encoding_type,
        ..Default::default()
    };
    Ok(output)
}
