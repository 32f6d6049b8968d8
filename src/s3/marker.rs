//! The marker every object the tool creates carries, so leftovers of a killed run can be found
//! and removed by `s3conform clean` without touching a foreign object that happens to sit under
//! the same prefix.

/// The user-metadata name of the marker (sent as `x-amz-meta-s3conform-run`); its value is the
/// run id.
pub const MARKER_META: &str = "s3conform-run";

/// The response header a HEAD or GET answers the marker in.
pub const MARKER_HEADER: &str = "x-amz-meta-s3conform-run";

/// `pairs` plus the marker for `run_id`, as the SDK's metadata map. A case or fuzz writer that
/// sets the marker itself keeps its own value.
pub fn with_marker(
    pairs: &[(String, String)],
    run_id: &str,
) -> std::collections::HashMap<String, String> {
    let mut map: std::collections::HashMap<String, String> = pairs.iter().cloned().collect();
    map.entry(MARKER_META.to_owned())
        .or_insert_with(|| run_id.to_owned());
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_is_added_beside_other_metadata() {
        let m = with_marker(&[("write-id".into(), "w1".into())], "run-1");
        assert_eq!(m.get("write-id").map(String::as_str), Some("w1"));
        assert_eq!(m.get(MARKER_META).map(String::as_str), Some("run-1"));
    }
}
