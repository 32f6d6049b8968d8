//! Hand-built run reports with fixed times, shared by the report tests.
//!
//! [`sample`] covers every `Verdict` and `BaselineMark` variant, observed values, a `parallel:`
//! step with an ambiguous answer, and fuzz campaigns with and without anomalies.

use std::collections::BTreeMap;

use s3conform::profile::Profile;
use s3conform::report::model::{FORMAT, FORMAT_VERSION};
use s3conform::report::{
    BaselineMark, CaseReport, EndpointInfo, FuzzAnomaly, FuzzSummary, Mismatch, ObservedValue,
    RunReport, StepRecord, Verdict,
};
use s3conform::s3::{AmbiguityCause, BodyDigest, Observation, Outcome};
use serde_json::json;

/// A definite answer.
pub fn obs(status: u16, code: Option<&str>, etag: Option<&str>) -> Observation {
    let mut headers = BTreeMap::new();
    if let Some(e) = etag {
        headers.insert("etag".to_owned(), e.to_owned());
    }
    Observation {
        outcome: Outcome::Definite,
        status: Some(status),
        error_code: code.map(str::to_owned),
        error_message: code.map(|c| format!("{c} (message)")),
        etag: etag.map(str::to_owned),
        last_modified: Some("Sat, 28 Nov 2026 16:00:00 GMT".to_owned()),
        headers,
        body: (status == 200).then(|| BodyDigest::of(b"hello")),
        body_bytes: None,
        upload_id: None,
        listed_keys: None,
        delete_results: None,
        note: None,
        call_ns: 1_000_000,
        ret_ns: 2_500_000,
    }
}

/// An answer whose effect is unknown.
pub fn timeout() -> Observation {
    Observation {
        outcome: Outcome::Ambiguous(AmbiguityCause::Timeout),
        status: None,
        error_code: None,
        error_message: None,
        etag: None,
        last_modified: None,
        headers: BTreeMap::new(),
        body: None,
        body_bytes: None,
        upload_id: None,
        listed_keys: None,
        delete_results: None,
        note: None,
        call_ns: 1_000_000,
        ret_ns: 5_001_000_000,
    }
}

/// One step.
pub fn step(
    index: usize,
    label: &str,
    request: serde_json::Value,
    o: Vec<Observation>,
) -> StepRecord {
    StepRecord {
        index,
        label: label.to_owned(),
        request,
        observations: o,
    }
}

/// A case with the given verdict and no baseline mark.
pub fn case(name: &str, verdict: Verdict, steps: Vec<StepRecord>) -> CaseReport {
    let (operation, _) = name
        .split_once("::")
        .expect("case names are operation::case");
    CaseReport {
        name: name.to_owned(),
        operation: operation.to_owned(),
        description: format!("checks {}", name.replace("::", " ")),
        source: "docs/semantics.md §1.2".to_owned(),
        tags: vec![operation.to_owned()],
        verdict,
        baseline: None,
        duration_ms: 12,
        steps,
        observed: Vec::new(),
    }
}

fn put(key: &str) -> serde_json::Value {
    json!({ "op": "put_object", "key": key, "body": "hello" })
}

/// A fail verdict with one status mismatch at `step`.
pub fn status_fail(step: usize, expected: &str, observed: &str) -> Verdict {
    Verdict::Fail {
        mismatches: vec![Mismatch {
            step,
            field: "status".to_owned(),
            expected: expected.to_owned(),
            observed: observed.to_owned(),
        }],
    }
}

/// Every Verdict and BaselineMark variant, with fixed times.
pub fn sample() -> RunReport {
    let etag = "\"5d41402abc4b2a76b9719d911017c592\"";
    let pass = case(
        "get::if-match-current",
        Verdict::Pass,
        vec![
            step(0, "put k", put("k"), vec![obs(200, None, Some(etag))]),
            step(
                1,
                "get k If-Match: ${e0}",
                json!({ "op": "get_object", "key": "k", "if_match": etag }),
                vec![obs(200, None, Some(etag))],
            ),
        ],
    );
    let mut fail = case(
        "get::if-none-match-current",
        Verdict::Fail {
            mismatches: vec![
                Mismatch {
                    step: 1,
                    field: "status".to_owned(),
                    expected: "304".to_owned(),
                    observed: "200".to_owned(),
                },
                Mismatch {
                    step: 1,
                    field: "body".to_owned(),
                    expected: "none".to_owned(),
                    observed: "5 bytes".to_owned(),
                },
            ],
        },
        vec![
            step(0, "put k", put("k"), vec![obs(200, None, Some(etag))]),
            step(
                1,
                "get k If-None-Match: ${e0}",
                json!({ "op": "get_object", "key": "k", "if_none_match": etag }),
                vec![obs(200, None, Some(etag))],
            ),
        ],
    );
    fail.description =
        "If-None-Match with the current ETag | answers 304 <Not Modified>".to_owned();
    let mut known = case(
        "put::safe-create-existing",
        status_fail(1, "412", "200"),
        vec![
            step(0, "put k", put("k"), vec![obs(200, None, Some(etag))]),
            step(
                1,
                "put k If-None-Match: *",
                json!({ "op": "put_object", "key": "k", "if_none_match": "*" }),
                vec![obs(200, None, Some(etag))],
            ),
        ],
    );
    known.baseline = Some(BaselineMark::Known {
        reason: "ignores If-None-Match on PUT (vendor ticket 42)".to_owned(),
    });
    let mut observed = case(
        "put::if-none-match-etag",
        Verdict::Observed,
        vec![step(
            0,
            "put k If-None-Match: \"abc\"",
            json!({ "op": "put_object", "key": "k", "if_none_match": "\"abc\"" }),
            vec![obs(501, Some("NotImplemented"), None)],
        )],
    );
    observed.observed = vec![ObservedValue {
        step: 0,
        field: "status".to_owned(),
        value: "501".to_owned(),
    }];
    let error = case(
        "put::race-create-16",
        Verdict::Error {
            message: "step 1: 2 of 4 answers were ambiguous (timeout); the race cannot be judged"
                .to_owned(),
        },
        vec![step(
            1,
            "parallel x4: put k If-None-Match: *",
            json!({ "op": "put_object", "key": "k", "if_none_match": "*" }),
            vec![
                obs(200, None, Some(etag)),
                obs(412, Some("PreconditionFailed"), None),
                timeout(),
                timeout(),
            ],
        )],
    );
    let mut fixed = case(
        "copy::source-if-none-match-current",
        Verdict::Pass,
        vec![step(
            1,
            "copy k -> k2 x-amz-copy-source-if-none-match: ${e0}",
            json!({ "op": "copy_object", "key": "k2", "source": "k" }),
            vec![obs(412, Some("PreconditionFailed"), None)],
        )],
    );
    fixed.baseline = Some(BaselineMark::Fixed);
    let skipped = case(
        "delete::if-match-slow",
        Verdict::Skipped {
            reason: "ignored (run with --ignored)".to_owned(),
        },
        Vec::new(),
    );
    let mut known_error = case(
        "rename::destination-if-none-match",
        Verdict::Error {
            message: "setup step 0 answered 501 NotImplemented".to_owned(),
        },
        vec![step(
            0,
            "rename k -> k2",
            json!({ "op": "rename_object", "key": "k2", "source": "k" }),
            vec![obs(501, Some("NotImplemented"), None)],
        )],
    );
    known_error.baseline = Some(BaselineMark::Known {
        reason: "RenameObject not implemented".to_owned(),
    });
    let mut cases = vec![
        pass,
        fail,
        known,
        observed,
        error,
        fixed,
        skipped,
        known_error,
    ];
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    RunReport {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        tool_version: "0.1.0".to_owned(),
        started_at: "2026-11-28T16:00:00Z".to_owned(),
        duration_ms: 2380,
        endpoint: EndpointInfo {
            url: "http://127.0.0.1:8333".to_owned(),
            label: "seaweedfs".to_owned(),
            embedded: false,
        },
        profile: Profile::Coreweave,
        cases,
        fuzz: vec![
            FuzzSummary {
                seed: 42,
                writers: 16,
                ops: 2000,
                verdict: "anomalous".to_owned(),
                anomalies: vec![FuzzAnomaly {
                    kind: "double-create".to_owned(),
                    key: "k3".to_owned(),
                    explanation: "w1 and w2 both created k3 with If-None-Match: *\n\
                                  w1 got 200 \"e1\", w2 got 200 \"e2\""
                        .to_owned(),
                    lanes: "w1 |--put k3 INM:* -> 200 e1--|\nw2   |--put k3 INM:* -> 200 e2--|"
                        .to_owned(),
                }],
                history_file: Some("histories/seaweedfs-42.jsonl".to_owned()),
                campaign: None,
                error: None,
            },
            FuzzSummary {
                seed: 7,
                writers: 4,
                ops: 500,
                verdict: "linearizable".to_owned(),
                anomalies: Vec::new(),
                history_file: None,
                campaign: None,
                error: None,
            },
        ],
        location: Some(s3conform::report::RunLocation {
            bucket: "s3conform".into(),
            run_prefix: "s3conform/20261128T160000Z-0a1b2c3d/".into(),
        }),
    }
}

/// A small clean report: everything passes, no fuzz.
pub fn clean(label: &str, profile: Profile) -> RunReport {
    let mut r = sample();
    r.endpoint.label = label.to_owned();
    r.profile = profile;
    r.fuzz.clear();
    for c in &mut r.cases {
        c.verdict = Verdict::Pass;
        c.baseline = None;
        c.observed.clear();
    }
    r
}
