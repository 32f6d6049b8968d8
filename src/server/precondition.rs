//! Evaluation of precondition headers, as pure functions of the header values and one version.
//!
//! Raw header values are parsed here rather than through s3s's typed inputs because RFC 9110
//! allows lists (`"a", "b"`) and weak tags (`W/"a"`) that a single `ETagCondition` can't hold,
//! and because invalid dates must be ignored (RFC 9110 §13.1.3), not rejected.
//!
//! Nothing here knows about profiles, faults, locks or HTTP responses: callers map the outcomes.

use time::OffsetDateTime;

/// One entity tag from a header: `"x"`, `W/"x"`, or the S3 leniency of an unquoted `x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntityTag {
    pub(crate) weak: bool,
    pub(crate) opaque: String,
}

/// The value of an `If-Match` / `If-None-Match`-style header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EtagList {
    /// `*`.
    Any,
    /// One or more entity tags (RFC 9110 allows a comma-separated list).
    Tags(Vec<EntityTag>),
}

impl EtagList {
    /// Parses a header value. Quoted and unquoted ETags compare alike (docs/semantics.md §1.2), so
    /// an unquoted token is taken as a strong tag.
    pub(crate) fn parse(raw: &str) -> Self {
        let raw = raw.trim();
        if raw == "*" {
            return EtagList::Any;
        }
        let mut tags = Vec::new();
        let mut rest = raw;
        loop {
            rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
            if rest.is_empty() {
                break;
            }
            let (weak, body) = match rest.strip_prefix("W/") {
                Some(b) if b.starts_with('"') => (true, b),
                _ => (false, rest),
            };
            if let Some(quoted) = body.strip_prefix('"') {
                let end = quoted.find('"').unwrap_or(quoted.len());
                tags.push(EntityTag {
                    weak,
                    opaque: quoted[..end].to_owned(),
                });
                rest = quoted.get(end + 1..).unwrap_or("");
            } else {
                let end = body.find(',').unwrap_or(body.len());
                tags.push(EntityTag {
                    weak: false,
                    opaque: body[..end].trim().to_owned(),
                });
                rest = &body[end..];
            }
        }
        EtagList::Tags(tags)
    }

    /// RFC 9110 strong comparison against an existing object's (unquoted) ETag, as `If-Match`
    /// requires: a weak tag never matches.
    pub(crate) fn strong_match(&self, etag: &str) -> bool {
        match self {
            EtagList::Any => true,
            EtagList::Tags(tags) => tags.iter().any(|t| !t.weak && t.opaque == etag),
        }
    }

    /// RFC 9110 weak comparison against an existing object's ETag, as `If-None-Match` requires.
    pub(crate) fn weak_match(&self, etag: &str) -> bool {
        match self {
            EtagList::Any => true,
            EtagList::Tags(tags) => tags.iter().any(|t| t.opaque == etag),
        }
    }
}

/// Strips the quotes of an ETag as stored or as sent, so `"abc"` and `abc` compare alike.
pub(crate) fn unquote(etag: &str) -> &str {
    let e = etag.trim();
    e.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(e)
}

/// Parses an HTTP-date; `None` for an invalid one, which RFC 9110 §13.1.3/§13.1.4 says to ignore.
pub(crate) fn parse_http_date(raw: &str) -> Option<OffsetDateTime> {
    let t = httpdate::parse_http_date(raw.trim()).ok()?;
    Some(OffsetDateTime::from(t))
}

/// The validators of one existing version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Validators<'a> {
    /// Unquoted ETag.
    pub(crate) etag: &'a str,
    /// Last-Modified, already truncated to the second.
    pub(crate) last_modified: OffsetDateTime,
}

/// Which header decided an outcome (named after the headers, hence the shared prefix).
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    IfMatch,
    IfNoneMatch,
    IfModifiedSince,
    IfUnmodifiedSince,
}

impl Which {
    /// The header name as AWS spells it in `<Condition>`, with the family's prefix
    /// (`""`, `"x-amz-copy-source-"`, `"x-amz-rename-source-"`).
    pub(crate) fn condition(self, prefix: &str) -> String {
        let name = match self {
            Which::IfMatch => "If-Match",
            Which::IfNoneMatch => "If-None-Match",
            Which::IfModifiedSince => "If-Modified-Since",
            Which::IfUnmodifiedSince => "If-Unmodified-Since",
        };
        format!("{prefix}{name}")
    }
}

/// The four read-style conditions (GET/HEAD, copy source, rename source, rename destination).
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadConditions {
    pub(crate) if_match: Option<EtagList>,
    pub(crate) if_none_match: Option<EtagList>,
    pub(crate) if_modified_since: Option<OffsetDateTime>,
    pub(crate) if_unmodified_since: Option<OffsetDateTime>,
}

/// The result of evaluating [`ReadConditions`] against an existing version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// Every condition holds.
    Proceed,
    /// 412 (If-Match or If-Unmodified-Since false).
    Failed(Which),
    /// 304 for GET/HEAD (If-None-Match or If-Modified-Since false); 412 for copy/rename sources.
    NotModified(Which),
}

impl ReadConditions {
    /// Reads the four headers `{prefix}if-match` ... from a header lookup.
    pub(crate) fn from_lookup<'a>(prefix: &str, get: impl Fn(&str) -> Option<&'a str>) -> Self {
        let h = |name: &str| get(&format!("{prefix}{name}"));
        Self {
            if_match: h("if-match").map(EtagList::parse),
            if_none_match: h("if-none-match").map(EtagList::parse),
            if_modified_since: h("if-modified-since").and_then(parse_http_date),
            if_unmodified_since: h("if-unmodified-since").and_then(parse_http_date),
        }
    }

    /// Whether any condition was given (an unparseable date counts as not given).
    pub(crate) fn any(&self) -> bool {
        self.if_match.is_some()
            || self.if_none_match.is_some()
            || self.if_modified_since.is_some()
            || self.if_unmodified_since.is_some()
    }

    /// RFC 9110 §13.2.2 order: If-Match, else If-Unmodified-Since; then If-None-Match, else
    /// If-Modified-Since. This is also AWS's documented precedence for GET/HEAD and copy sources
    /// (if-match true + if-unmodified-since false proceeds; if-none-match false + if-modified-since
    /// true fails). A future If-Modified-Since is ignored, as AWS does and RFC 9110 §13.1.3 asks.
    ///
    /// `also_none_match` is an extra ETag that If-None-Match also matches: only the
    /// `phantom-304` fault passes one.
    pub(crate) fn evaluate(
        &self,
        v: Validators<'_>,
        now: OffsetDateTime,
        also_none_match: Option<&str>,
    ) -> ReadOutcome {
        if let Some(im) = &self.if_match {
            if !im.strong_match(v.etag) {
                return ReadOutcome::Failed(Which::IfMatch);
            }
        } else if let Some(ius) = self.if_unmodified_since
            && v.last_modified > ius
        {
            return ReadOutcome::Failed(Which::IfUnmodifiedSince);
        }
        if let Some(inm) = &self.if_none_match {
            if inm.weak_match(v.etag) || also_none_match.is_some_and(|e| inm.weak_match(e)) {
                return ReadOutcome::NotModified(Which::IfNoneMatch);
            }
        } else if let Some(ims) = self.if_modified_since
            && ims <= now
            && v.last_modified <= ims
        {
            return ReadOutcome::NotModified(Which::IfModifiedSince);
        }
        ReadOutcome::Proceed
    }
}

/// The destination condition of a write (PUT, CompleteMultipartUpload, CopyObject, RenameObject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteCondition {
    /// No `If-Match` / `If-None-Match`.
    Unconditional,
    /// `If-None-Match: *`: create only.
    IfNoneMatchAny,
    /// `If-Match: <etag>[, ...]`: replace only that version.
    IfMatch(EtagList),
}

/// A write-condition header S3 refuses outright, before looking at the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteHeaderError {
    /// Both `If-Match` and `If-None-Match` (AWS: 501).
    Both,
    /// `If-None-Match` with a value other than `*` (AWS: 501, CoreWeave: 400).
    IfNoneMatchValue,
    /// `If-Match: *` (AWS: 501).
    IfMatchAny,
}

/// The result of checking a [`WriteCondition`] against the key's current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteCheck {
    /// The write may proceed.
    Pass,
    /// `If-Match` on a missing key: 404 NoSuchKey (recorded AWS).
    NoSuchKey,
    /// 412 (or 409 if a concurrent write caused it, per profile).
    Failed(Which),
}

impl WriteCondition {
    /// Validates the raw headers. Both headers together are checked first, as AWS reports them
    /// together (`<Header>If-Match,If-None-Match</Header>`).
    pub(crate) fn parse(
        if_match: Option<&str>,
        if_none_match: Option<&str>,
    ) -> Result<Self, WriteHeaderError> {
        match (if_match, if_none_match) {
            (None, None) => Ok(WriteCondition::Unconditional),
            (Some(_), Some(_)) => Err(WriteHeaderError::Both),
            (None, Some(inm)) => match EtagList::parse(inm) {
                EtagList::Any => Ok(WriteCondition::IfNoneMatchAny),
                EtagList::Tags(_) => Err(WriteHeaderError::IfNoneMatchValue),
            },
            (Some(im), None) => match EtagList::parse(im) {
                EtagList::Any => Err(WriteHeaderError::IfMatchAny),
                tags => Ok(WriteCondition::IfMatch(tags)),
            },
        }
    }

    /// Whether the write is conditional at all.
    pub(crate) fn is_conditional(&self) -> bool {
        !matches!(self, WriteCondition::Unconditional)
    }

    /// Checks against the current ETag (`None`: the key is absent).
    pub(crate) fn check(&self, current: Option<&str>) -> WriteCheck {
        match (self, current) {
            (WriteCondition::Unconditional, _) => WriteCheck::Pass,
            (WriteCondition::IfNoneMatchAny, None) => WriteCheck::Pass,
            (WriteCondition::IfNoneMatchAny, Some(_)) => WriteCheck::Failed(Which::IfNoneMatch),
            (WriteCondition::IfMatch(_), None) => WriteCheck::NoSuchKey,
            (WriteCondition::IfMatch(list), Some(e)) => {
                if list.strong_match(e) {
                    WriteCheck::Pass
                } else {
                    WriteCheck::Failed(Which::IfMatch)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn tags(raw: &str) -> Vec<(bool, String)> {
        match EtagList::parse(raw) {
            EtagList::Any => vec![],
            EtagList::Tags(t) => t.into_iter().map(|t| (t.weak, t.opaque)).collect(),
        }
    }

    #[test]
    fn parses_lists_weak_and_unquoted() {
        assert_eq!(EtagList::parse(" * "), EtagList::Any);
        assert_eq!(tags("\"a\""), [(false, "a".into())]);
        assert_eq!(tags("abc"), [(false, "abc".into())]);
        assert_eq!(tags("W/\"a\""), [(true, "a".into())]);
        assert_eq!(
            tags("\"x\", W/\"y\",z"),
            [(false, "x".into()), (true, "y".into()), (false, "z".into())]
        );
    }

    #[test]
    fn strong_and_weak_comparison() {
        assert!(EtagList::parse("\"x\", \"e\"").strong_match("e"));
        assert!(!EtagList::parse("W/\"e\"").strong_match("e"));
        assert!(EtagList::parse("W/\"e\"").weak_match("e"));
        assert!(EtagList::parse("e").strong_match("e"));
        assert!(!EtagList::parse("\"f\"").weak_match("e"));
    }

    const T: OffsetDateTime = datetime!(2026-01-01 12:00:00 UTC);
    const NOW: OffsetDateTime = datetime!(2026-01-02 00:00:00 UTC);
    const PAST: OffsetDateTime = datetime!(2025-12-31 12:00:00 UTC);
    const FUTURE: OffsetDateTime = datetime!(2026-02-01 00:00:00 UTC);

    fn eval(c: ReadConditions) -> ReadOutcome {
        c.evaluate(
            Validators {
                etag: "e",
                last_modified: T,
            },
            NOW,
            None,
        )
    }

    #[test]
    fn read_precedence_follows_rfc_9110() {
        let im_good = Some(EtagList::parse("\"e\""));
        let inm_good = Some(EtagList::parse("\"e\""));
        // If-Match true + If-Unmodified-Since false: proceed.
        let c = ReadConditions {
            if_match: im_good,
            if_unmodified_since: Some(PAST),
            ..Default::default()
        };
        assert_eq!(eval(c), ReadOutcome::Proceed);
        // If-None-Match false + If-Modified-Since true: 304.
        let c = ReadConditions {
            if_none_match: inm_good,
            if_modified_since: Some(PAST),
            ..Default::default()
        };
        assert_eq!(eval(c), ReadOutcome::NotModified(Which::IfNoneMatch));
        // If-Unmodified-Since false beats If-None-Match.
        let c = ReadConditions {
            if_unmodified_since: Some(PAST),
            if_none_match: Some(EtagList::parse("e")),
            ..Default::default()
        };
        assert_eq!(eval(c), ReadOutcome::Failed(Which::IfUnmodifiedSince));
        // Equal dates; future If-Modified-Since ignored.
        let ims = |d| ReadConditions {
            if_modified_since: Some(d),
            ..Default::default()
        };
        assert_eq!(
            eval(ims(T)),
            ReadOutcome::NotModified(Which::IfModifiedSince)
        );
        assert_eq!(eval(ims(FUTURE)), ReadOutcome::Proceed);
        assert_eq!(eval(ims(PAST)), ReadOutcome::Proceed);
        let ius = |d| ReadConditions {
            if_unmodified_since: Some(d),
            ..Default::default()
        };
        assert_eq!(eval(ius(T)), ReadOutcome::Proceed);
        // `*` forms.
        let c = ReadConditions {
            if_none_match: Some(EtagList::Any),
            ..Default::default()
        };
        assert_eq!(eval(c), ReadOutcome::NotModified(Which::IfNoneMatch));
        let c = ReadConditions {
            if_match: Some(EtagList::Any),
            ..Default::default()
        };
        assert_eq!(eval(c), ReadOutcome::Proceed);
    }

    #[test]
    fn write_headers_validate_like_aws() {
        use WriteHeaderError::*;
        assert_eq!(WriteCondition::parse(Some("\"a\""), Some("*")), Err(Both));
        assert_eq!(
            WriteCondition::parse(None, Some("\"a\"")),
            Err(IfNoneMatchValue)
        );
        assert_eq!(WriteCondition::parse(Some("*"), None), Err(IfMatchAny));
        let im = WriteCondition::parse(Some("e"), None).unwrap();
        assert_eq!(im.check(Some("e")), WriteCheck::Pass);
        assert_eq!(im.check(Some("f")), WriteCheck::Failed(Which::IfMatch));
        assert_eq!(im.check(None), WriteCheck::NoSuchKey);
        let inm = WriteCondition::parse(None, Some("*")).unwrap();
        assert_eq!(inm.check(None), WriteCheck::Pass);
        assert_eq!(inm.check(Some("e")), WriteCheck::Failed(Which::IfNoneMatch));
    }

    #[test]
    fn dates_parse_or_are_ignored() {
        assert_eq!(parse_http_date("Thu, 01 Jan 2026 12:00:00 GMT"), Some(T));
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(unquote("\"abc\""), "abc");
        assert_eq!(unquote("abc"), "abc");
    }
}
