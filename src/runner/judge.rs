//! Judging one answer against one expectation, under one profile.
//!
//! Judging never fails the run by itself: it returns what differed ([`Mismatch`]) and what was
//! only recorded ([`ObservedValue`]). An ambiguous answer (timeout, 5xx, dropped connection)
//! cannot be compared with a definite expectation: [`Judgement::ambiguous`] says so, and the
//! runner turns it into `Verdict::Error`, never `Fail`.

use crate::case::schema::{Expect, ObsField};
use crate::case::template::Value;
use crate::report::{Mismatch, ObservedValue};
use crate::s3::{AmbiguityCause, Observation, Outcome, normalize_etag};

/// What one step's judgement found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// Asserted expectations that did not hold.
    pub mismatches: Vec<Mismatch>,
    /// Values recorded for `observe`.
    pub observed: Vec<ObservedValue>,
    /// Set when the answer was ambiguous where a definite one was asserted.
    pub ambiguous: Option<String>,
}

/// Compares `obs` (the answer to step `step`) with `expect`. `lookup` resolves `${...}` in
/// expected ETags and bodies.
pub fn judge(
    step: usize,
    expect: &Expect,
    obs: &Observation,
    lookup: &dyn Fn(&str) -> Option<Value>,
) -> Judgement {
    let mut j = Judgement::default();
    for field in &expect.observe {
        j.observed.push(ObservedValue {
            step,
            field: field.name().to_owned(),
            value: observed_value(*field, obs),
        });
    }
    if !expect.asserts() {
        return j;
    }
    // A 5xx is ambiguous in general (the write may have happened), but a case that expects
    // exactly that status (501 NotImplemented for an unsupported header value) is answered
    // definitely by it.
    let expected_5xx = match (&obs.outcome, &expect.status) {
        (Outcome::Ambiguous(AmbiguityCause::ServerError { status }), Some(set)) => {
            set.contains(*status)
        }
        _ => false,
    };
    if obs.is_ambiguous() && !expected_5xx {
        j.ambiguous = Some(format!(
            "step {step}: the answer was {} where a definite one was expected",
            obs.summary()
        ));
        return j;
    }
    let mut miss = |field: &str, expected: String, observed: String| {
        j.mismatches.push(Mismatch {
            step,
            field: field.to_owned(),
            expected,
            observed,
        });
    };
    if let Some(set) = &expect.status
        && !obs.status.is_some_and(|s| set.contains(s))
    {
        miss("status", set.to_string(), obs.summary());
    }
    if let Some(code) = &expect.error_code
        && obs.error_code.as_deref() != Some(code.as_str())
    {
        miss(
            "error_code",
            code.clone(),
            obs.error_code.clone().unwrap_or_else(|| "(none)".into()),
        );
    }
    if let Some(t) = &expect.etag {
        match t.render(lookup) {
            Ok(want) => {
                let same = obs
                    .etag
                    .as_deref()
                    .is_some_and(|got| normalize_etag(got) == normalize_etag(&want));
                if !same {
                    miss("etag", want, show(obs.etag.as_deref()));
                }
            }
            Err(e) => miss(
                "etag",
                format!("(unresolvable: {e})"),
                show(obs.etag.as_deref()),
            ),
        }
    }
    if let Some(t) = &expect.etag_not {
        match t.render(lookup) {
            Ok(avoid) => {
                let differs = obs
                    .etag
                    .as_deref()
                    .is_some_and(|got| normalize_etag(got) != normalize_etag(&avoid));
                if !differs {
                    miss(
                        "etag",
                        format!("an ETag other than {avoid}"),
                        show(obs.etag.as_deref()),
                    );
                }
            }
            Err(e) => miss(
                "etag",
                format!("(unresolvable: {e})"),
                show(obs.etag.as_deref()),
            ),
        }
    }
    if let Some(format) = expect.etag_format
        && !obs.etag.as_deref().is_some_and(|e| format.matches(e))
    {
        miss(
            "etag_format",
            format!(
                "an ETag in the {} format (\"<hex>\" or \"<hex>-<n>\")",
                format.name()
            ),
            show(obs.etag.as_deref()),
        );
    }
    if let Some(t) = &expect.body {
        let want = t
            .render(lookup)
            .unwrap_or_else(|e| format!("(unresolvable: {e})"));
        let got = obs.body_bytes.as_deref();
        if got != Some(want.as_bytes()) {
            miss("body", quote(&want), body_text(obs));
        }
    }
    if expect.no_body == Some(true) && obs.body.as_ref().is_some_and(|b| b.len > 0) {
        miss("body", "(no body)".into(), body_text(obs));
    }
    if expect.no_body == Some(false) && obs.body.is_none() {
        miss("body", "a body".into(), "(no body)".into());
    }
    for h in &expect.headers_present {
        if obs.header(h).is_none() {
            miss(&format!("header:{h}"), "present".into(), "absent".into());
        }
    }
    for h in &expect.headers_absent {
        if let Some(v) = obs.header(h) {
            miss(&format!("header:{h}"), "absent".into(), quote(v));
        }
    }
    if let Some(want) = &expect.listed {
        let got = obs.listed_keys.clone().unwrap_or_default();
        if &got != want {
            miss("listed", format!("{want:?}"), format!("{got:?}"));
        }
    }
    let results = obs.delete_results.clone().unwrap_or_default();
    if let Some(want) = &expect.deleted {
        let mut want = want.clone();
        want.sort();
        if results.deleted != want {
            miss(
                "deleted",
                format!("{want:?}"),
                format!("{:?}", results.deleted),
            );
        }
    }
    if let Some(want) = &expect.errors
        && &results.errors != want
    {
        miss(
            "errors",
            format!("{want:?}"),
            format!("{:?}", results.errors),
        );
    }
    j
}

/// The value an `observe` entry records.
pub fn observed_value(field: ObsField, obs: &Observation) -> String {
    match field {
        ObsField::Status => obs.summary(),
        ObsField::ErrorCode => obs.error_code.clone().unwrap_or_else(|| "(none)".into()),
        ObsField::Etag => show(obs.etag.as_deref()),
        ObsField::Body => body_text(obs),
        ObsField::Results => obs
            .delete_results
            .as_ref()
            .map_or_else(|| "(no results)".to_owned(), ToString::to_string),
    }
}

fn show(v: Option<&str>) -> String {
    v.map_or_else(|| "(absent)".to_owned(), str::to_owned)
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// A body for a diff: its text when short, else its length and MD5.
pub fn body_text(obs: &Observation) -> String {
    match &obs.body {
        None => "(no body)".into(),
        Some(d) => match &d.text {
            Some(t) if t.len() <= 80 => quote(t),
            _ => format!("{} bytes, md5 {}", d.len, d.md5),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::schema::StatusSet;
    use crate::case::template::Template;

    fn obs(status: u16, code: Option<&str>, etag: Option<&str>) -> Observation {
        Observation::answered(status, code, etag)
    }

    fn lookup(n: &str) -> Option<Value> {
        (n == "e1").then(|| Value::Etag("\"abc\"".into()))
    }

    #[test]
    fn mismatches_name_the_field() {
        let e = Expect {
            status: Some(StatusSet(vec![412])),
            error_code: Some("PreconditionFailed".into()),
            ..Expect::default()
        };
        let j = judge(2, &e, &obs(200, None, None), &lookup);
        let fields: Vec<&str> = j.mismatches.iter().map(|m| m.field.as_str()).collect();
        assert_eq!(fields, ["status", "error_code"]);
        assert_eq!(j.mismatches[0].expected, "412");
        assert_eq!(j.mismatches[0].observed, "200");
        assert!(
            judge(2, &e, &obs(412, Some("PreconditionFailed"), None), &lookup)
                .mismatches
                .is_empty()
        );
    }

    #[test]
    fn multi_object_delete_results_are_judged_per_key() {
        let mut o = obs(200, None, None);
        o.delete_results = Some(crate::s3::DeleteResults {
            deleted: vec!["b".into()],
            errors: [("a".to_owned(), "PreconditionFailed".to_owned())].into(),
        });
        let right = Expect {
            deleted: Some(vec!["b".into()]),
            errors: Some([("a".to_owned(), "PreconditionFailed".to_owned())].into()),
            ..Expect::default()
        };
        assert!(judge(1, &right, &o, &lookup).mismatches.is_empty());
        let wrong = Expect {
            deleted: Some(vec!["a".into(), "b".into()]),
            errors: Some(Default::default()),
            ..Expect::default()
        };
        let fields: Vec<String> = judge(1, &wrong, &o, &lookup)
            .mismatches
            .into_iter()
            .map(|m| m.field)
            .collect();
        assert_eq!(fields, ["deleted", "errors"]);
    }

    #[test]
    fn etags_compare_without_quotes() {
        let e = Expect {
            etag: Some(Template::parse("${e1.unquoted}").unwrap()),
            ..Expect::default()
        };
        assert!(
            judge(0, &e, &obs(200, None, Some("\"abc\"")), &lookup)
                .mismatches
                .is_empty()
        );
        assert_eq!(
            judge(0, &e, &obs(200, None, Some("\"abd\"")), &lookup)
                .mismatches
                .len(),
            1
        );
    }

    #[test]
    fn etag_format_is_asserted_verbatim_while_values_compare_leniently() {
        use crate::case::schema::EtagFormat;
        let e = Expect {
            etag: Some(Template::parse("${e1}").unwrap()),
            etag_format: Some(EtagFormat::QuotedHex),
            ..Expect::default()
        };
        let quoted = "\"0123456789abcdef0123456789abcdef\"";
        assert!(
            judge(0, &e, &obs(200, None, Some("\"abc\"")), &lookup)
                .mismatches
                .is_empty()
        );
        assert!(EtagFormat::QuotedHex.matches(quoted));
        assert!(EtagFormat::QuotedHex.matches("\"0123abcd-2\""));
        for bad in ["abc", "W/\"abc\"", "\"xyz\"", "\"abc-\"", "\"\""] {
            assert!(!EtagFormat::QuotedHex.matches(bad), "{bad}");
        }
        let j = judge(0, &e, &obs(200, None, Some("W/\"abc\"")), &lookup);
        let fields: Vec<&str> = j.mismatches.iter().map(|m| m.field.as_str()).collect();
        assert_eq!(
            fields,
            ["etag_format"],
            "the value still matches, the format does not"
        );
    }

    #[test]
    fn ambiguity_is_not_a_mismatch_and_observe_never_fails() {
        let e = Expect {
            status: Some(StatusSet(vec![200])),
            ..Expect::default()
        };
        let mut o = obs(500, None, None);
        o.outcome = Outcome::Ambiguous(AmbiguityCause::ServerError { status: 500 });
        let j = judge(0, &e, &o, &lookup);
        assert!(j.mismatches.is_empty());
        assert!(j.ambiguous.is_some());
        let only = Expect {
            observe: vec![ObsField::Status],
            ..Expect::default()
        };
        let j = judge(0, &only, &o, &lookup);
        assert!(j.ambiguous.is_none() && j.mismatches.is_empty());
        assert_eq!(j.observed[0].field, "status");
    }
}
