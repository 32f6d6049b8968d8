//! Request headers that name an object or a bucket.
//!
//! The run-prefix guard checks the keys an [`Operation`](super::Operation) carries, but a raw
//! header is sent verbatim: `x-amz-copy-source: other-bucket/payroll.csv` would read (or, with
//! `x-amz-rename-source`, move) an object the run does not own, and a `Host` header can point a
//! virtual-hosted request at another bucket. Such headers are therefore refused in raw headers,
//! both when a case loads and again when a request is sent.

/// Header names (lowercase) that address an object or a bucket by themselves. Conditional
/// companions such as `x-amz-copy-source-if-match` name no key and stay allowed.
pub const ADDRESSING_HEADERS: &[&str] = &[
    "host",
    "x-amz-copy-source",
    "x-amz-rename-source",
    "x-amz-website-redirect-location",
];

/// Whether a raw header with this name would address an object or bucket the run-prefix guard
/// cannot see.
pub fn addresses_object(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    ADDRESSING_HEADERS.contains(&name.as_str())
}

/// The refusal message for a raw header named `name`, or `None` when it may be sent.
pub fn refuse_raw_header(name: &str) -> Option<String> {
    addresses_object(name).then(|| {
        format!(
            "`{name}` names an object or bucket and cannot be a raw header: the run could reach \
             keys outside its prefix (use the step's own `source`/`key` fields)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addressing_headers_are_refused_in_any_case() {
        for name in [
            "x-amz-copy-source",
            "X-Amz-Copy-Source",
            "x-amz-rename-source",
            "Host",
            " x-amz-website-redirect-location ",
        ] {
            assert!(addresses_object(name), "{name}");
            assert!(refuse_raw_header(name).is_some(), "{name}");
        }
    }

    #[test]
    fn conditional_companions_are_allowed() {
        for name in [
            "x-amz-copy-source-if-match",
            "x-amz-rename-source-if-none-match",
            "x-amz-if-match-size",
            "If-Modified-Since",
        ] {
            assert!(!addresses_object(name), "{name}");
        }
    }
}
