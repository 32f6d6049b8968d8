//! The decisive exchange of a case: the one request and its answers that decide the case's
//! verdict, in the words a reader of the S3 API uses (operation, key, condition headers, status,
//! error code, ETag). Built from the steps the runner records, never re-run.

use serde::{Deserialize, Serialize};

use crate::report::{CaseReport, StepRecord, Verdict};
use crate::s3::Outcome;

/// One request and what it was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// The step's index in the case.
    pub step: usize,
    /// The runner's one-line description of the step.
    pub label: String,
    /// The S3 operation, e.g. `PutObject`.
    pub operation: String,
    /// The key, relative to the case's prefix (`src -> dst` for a copy or rename).
    pub key: String,
    /// The precondition headers sent, as sent.
    pub conditions: Vec<Header>,
    /// One answer per request (several for a race).
    pub answers: Vec<Answer>,
}

/// A header name and value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The name, as S3 spells it.
    pub name: String,
    /// The value, verbatim.
    pub value: String,
}

/// What one request was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The HTTP status, when a response came.
    pub status: Option<u16>,
    /// The S3 error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The ETag answered, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Whether the answer leaves the request's effect unknown (timeout, reset, 5xx).
    pub ambiguous: bool,
}

impl Answer {
    /// `412 PreconditionFailed`, `200 ETag "abc"`, `no answer (ambiguous)`.
    pub fn describe(&self) -> String {
        let mut s = match self.status {
            Some(st) => st.to_string(),
            None => "no answer".to_owned(),
        };
        if let Some(code) = &self.error_code {
            s.push(' ');
            s.push_str(code);
        }
        if let Some(etag) = &self.etag {
            s.push_str(" ETag ");
            s.push_str(etag);
        }
        if self.ambiguous {
            s.push_str(" (ambiguous)");
        }
        s
    }
}

impl Exchange {
    /// `PutObject k  If-None-Match: *`.
    pub fn request_line(&self) -> String {
        let mut s = format!("{} {}", self.operation, self.key);
        for h in &self.conditions {
            s.push_str(&format!("  {}: {}", h.name, h.value));
        }
        s
    }

    /// The answers in one line; a race's are counted (`1 x 200, 15 x 409 ConditionalRequestConflict`).
    pub fn answer_line(&self) -> String {
        if self.answers.len() == 1 {
            return self.answers[0].describe();
        }
        let mut counts: Vec<(String, usize)> = Vec::new();
        for a in &self.answers {
            let d = Answer {
                etag: None,
                ..a.clone()
            }
            .describe();
            match counts.iter_mut().find(|(k, _)| *k == d) {
                Some((_, n)) => *n += 1,
                None => counts.push((d, 1)),
            }
        }
        counts
            .iter()
            .map(|(d, n)| format!("{n} x {d}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The step that decides `case`: the first mismatch's step for a failure, the first step with
/// an ambiguous answer for an error, else the first step that sends a precondition (what the
/// case is about), else the last step.
pub fn decisive(case: &CaseReport) -> Option<Exchange> {
    let by_index = |i: usize| case.steps.iter().find(|s| s.index == i);
    let step = match &case.verdict {
        Verdict::Fail { mismatches } => mismatches.first().and_then(|m| by_index(m.step)),
        Verdict::Error { .. } => case.steps.iter().find(|s| {
            s.observations
                .iter()
                .any(|o| matches!(o.outcome, Outcome::Ambiguous(_)))
        }),
        _ => None,
    };
    let step = step
        .or_else(|| {
            case.steps
                .iter()
                .find(|s| !conditions(&s.request).is_empty())
        })
        .or_else(|| case.steps.iter().rev().find(|s| !s.observations.is_empty()))?;
    Some(of_step(step))
}

/// The last step before `decisive` that sends a precondition, when `decisive` sends none: for a
/// failure found by the read after a conditional write, the write the promise is about.
pub fn condition(case: &CaseReport, decisive: &Exchange) -> Option<Exchange> {
    if !decisive.conditions.is_empty() {
        return None;
    }
    case.steps
        .iter()
        .rev()
        .filter(|s| s.index < decisive.step)
        .find(|s| !conditions(&s.request).is_empty())
        .map(of_step)
}

/// A recorded step as an exchange.
pub fn of_step(step: &StepRecord) -> Exchange {
    let r = &step.request;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let key = text(&r["key"]).unwrap_or_default();
    let key = match text(&r["source"]) {
        Some(src) => format!("{src} -> {key}"),
        None => key,
    };
    Exchange {
        step: step.index,
        label: step.label.clone(),
        operation: r["op"].as_str().map(api_name).unwrap_or_default(),
        key,
        conditions: conditions(r),
        answers: step
            .observations
            .iter()
            .map(|o| Answer {
                status: o.status,
                error_code: o.error_code.clone(),
                etag: o.etag.clone(),
                ambiguous: matches!(o.outcome, Outcome::Ambiguous(_)),
            })
            .collect(),
    }
}

/// `put_object` -> `PutObject`, `list_objects_v2` -> `ListObjectsV2`.
fn api_name(op: &str) -> String {
    op.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The precondition headers a serialized request carries, named as on the wire.
fn conditions(r: &serde_json::Value) -> Vec<Header> {
    const FIELDS: [(&str, &str); 4] = [
        ("if_match", "If-Match"),
        ("if_none_match", "If-None-Match"),
        ("if_modified_since", "If-Modified-Since"),
        ("if_unmodified_since", "If-Unmodified-Since"),
    ];
    let mut out = Vec::new();
    let mut push = |name: String, v: &serde_json::Value| {
        if let Some(value) = v.as_str() {
            out.push(Header {
                name,
                value: value.to_owned(),
            });
        }
    };
    for (field, name) in FIELDS {
        push(name.to_owned(), &r["cond"][field]);
    }
    // DeleteObject carries its If-Match at the top level.
    push("If-Match".to_owned(), &r["if_match"]);
    let source_prefix = match r["op"].as_str() {
        Some("rename_object") => "x-amz-rename-source-",
        _ => "x-amz-copy-source-",
    };
    for (field, name) in FIELDS {
        push(
            format!("{source_prefix}{}", name.to_ascii_lowercase()),
            &r["source_cond"][field],
        );
    }
    if let Some(raw) = r["raw_headers"].as_array() {
        for h in raw {
            if let Some(name) = h["name"].as_str() {
                push(name.to_owned(), &h["value"]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Mismatch;
    use crate::s3::Observation;

    fn step(index: usize, request: serde_json::Value, answers: Vec<Observation>) -> StepRecord {
        StepRecord {
            index,
            label: format!("step {index}"),
            request,
            observations: answers,
        }
    }

    #[test]
    fn a_failure_is_decided_by_its_first_mismatch_and_a_pass_by_its_precondition() {
        let mut case = CaseReport {
            name: "put::x".into(),
            operation: "put".into(),
            description: String::new(),
            source: String::new(),
            tags: Vec::new(),
            verdict: Verdict::Pass,
            baseline: None,
            duration_ms: 0,
            steps: vec![
                step(
                    0,
                    serde_json::json!({"op": "put_object", "key": "k"}),
                    vec![Observation::answered(200, None, Some("\"e1\""))],
                ),
                step(
                    1,
                    serde_json::json!({"op": "copy_object", "source": "s", "key": "k",
                        "cond": {"if_none_match": "*"},
                        "source_cond": {"if_match": "\"e1\""},
                        "raw_headers": [{"name": "x-amz-if-match-size", "value": "9"}]}),
                    vec![Observation::answered(412, Some("PreconditionFailed"), None)],
                ),
                step(
                    2,
                    serde_json::json!({"op": "get_object", "key": "k"}),
                    vec![Observation::answered(200, None, Some("\"e2\""))],
                ),
            ],
            observed: Vec::new(),
        };
        let pass = decisive(&case).unwrap();
        assert_eq!(pass.step, 1);
        assert_eq!(pass.operation, "CopyObject");
        assert_eq!(pass.key, "s -> k");
        assert_eq!(
            pass.request_line(),
            "CopyObject s -> k  If-None-Match: *  x-amz-copy-source-if-match: \"e1\"  x-amz-if-match-size: 9"
        );
        assert_eq!(pass.answer_line(), "412 PreconditionFailed");
        case.verdict = Verdict::Fail {
            mismatches: vec![Mismatch {
                step: 2,
                field: "etag".into(),
                expected: "\"e1\"".into(),
                observed: "\"e2\"".into(),
            }],
        };
        let fail = decisive(&case).unwrap();
        assert_eq!((fail.step, fail.operation.as_str()), (2, "GetObject"));
        // The read shows the failure; the conditional copy before it is what the case is about.
        assert_eq!(condition(&case, &fail).map(|c| c.step), Some(1));
        assert_eq!(condition(&case, &pass), None);
    }

    #[test]
    fn a_race_counts_its_answers() {
        let mut answers = vec![Observation::answered(200, None, Some("\"w\""))];
        for _ in 0..3 {
            answers.push(Observation::answered(
                409,
                Some("ConditionalRequestConflict"),
                None,
            ));
        }
        let ex = of_step(&step(
            0,
            serde_json::json!({"op": "put_object", "key": "k", "cond": {"if_none_match": "*"}}),
            answers,
        ));
        assert_eq!(
            ex.answer_line(),
            "1 x 200, 3 x 409 ConditionalRequestConflict"
        );
    }
}
