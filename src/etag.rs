//! The comparable form of an ETag, shared by the suite's judge, the race checks and the
//! linearizability checker so that all three agree on when two ETags name the same version.

/// Strips surrounding whitespace, a weak `W/` prefix and one pair of surrounding quotes, so
/// `"abc"`, `abc` and `W/"abc"` compare equal: servers disagree on quoting, and a weak validator
/// names the same version for our purposes.
///
/// A quote is removed only with its partner: `"abc` and `abc"` are malformed entity-tags and stay
/// as they are, so a server that sends one is never taken to have sent the well-formed `"abc"`.
pub fn normalize(raw: &str) -> &str {
    let s = raw.trim();
    let s = s.strip_prefix("W/").unwrap_or(s);
    s.strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn edge_cases() {
        for (raw, want) in [
            ("\"abc\"", "abc"),
            ("abc", "abc"),
            ("W/\"abc\"", "abc"),
            ("W/abc", "abc"),
            (" \"a-2\" ", "a-2"),
            ("\"abc", "\"abc"),
            ("abc\"", "abc\""),
            ("W/\"abc", "\"abc"),
            ("\"", "\""),
            ("\"\"", ""),
            ("", ""),
            ("  ", ""),
            ("\"\"abc\"\"", "\"abc\""),
            ("w/\"abc\"", "w/\"abc\""),
        ] {
            assert_eq!(normalize(raw), want, "{raw:?}");
        }
    }
}
