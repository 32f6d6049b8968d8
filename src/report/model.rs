//! The run report: the single record every output is rendered from, and what `compare` reads.
//!
//! # Format (version 2)
//!
//! Version 2 added the verdict `{ "kind": "observed" }`: a case that asserted nothing under the
//! run's profile and only recorded values. Version 1 reports still load.
//!
//! `s3conform run --json FILE` writes one JSON object:
//!
//! ```json
//! {
//!   "format": "s3conform-run",
//!   "format_version": 1,
//!   "tool_version": "0.1.0",
//!   "started_at": "2026-11-28T16:00:00Z",
//!   "duration_ms": 2380,
//!   "endpoint": { "url": "http://127.0.0.1:8333", "label": "seaweedfs", "embedded": false },
//!   "profile": "coreweave",
//!   "cases": [
//!     {
//!       "name": "put::safe-create-existing",
//!       "operation": "put",
//!       "description": "If-None-Match: * on an existing key is refused",
//!       "source": "docs/semantics.md §1.2",
//!       "tags": ["safe-create"],
//!       "verdict": { "kind": "fail", "mismatches": [
//!         { "step": 2, "field": "status", "expected": "412", "observed": "200" } ] },
//!       "baseline": null,
//!       "duration_ms": 12,
//!       "steps": [ { "index": 0, "label": "put k", "request": { "op": "put_object", "key": "k" },
//!                    "observations": [ { "outcome": { "kind": "definite" }, "status": 200,
//!                                        "call_ns": 10, "ret_ns": 900, "headers": {} } ] } ],
//!       "observed": [ { "step": 3, "field": "status", "value": "501" } ]
//!     }
//!   ],
//!   "fuzz": []
//! }
//! ```
//!
//! Readers must ignore unknown fields; `format_version` is bumped when a field's meaning changes
//! or a meaningful field is added.

use serde::{Deserialize, Serialize};

use crate::profile::Profile;
use crate::s3::Observation;

/// The `format` value of every run report.
pub const FORMAT: &str = "s3conform-run";
/// The current `format_version`.
pub const FORMAT_VERSION: u32 = 2;

/// Which endpoint a run was against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointInfo {
    /// The endpoint URL (never with credentials).
    pub url: String,
    /// A short name for matrices: `reference`, `seaweedfs`, `minio`, ... (`--label`).
    pub label: String,
    /// Whether this was the embedded reference endpoint.
    pub embedded: bool,
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// The step index in the case.
    pub step: usize,
    /// What was compared: `status`, `error_code`, `etag`, `body`, `header:etag`, `winners`, ...
    pub field: String,
    /// What the case expected, as text.
    pub expected: String,
    /// What the endpoint answered, as text.
    pub observed: String,
}

/// A value recorded for an `observe` expectation: shown, never judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedValue {
    /// The step index.
    pub step: usize,
    /// What was observed: `status`, `error_code`, ...
    pub field: String,
    /// The value.
    pub value: String,
}

/// The judgement of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// Every asserted expectation held (observed values may also be recorded).
    Pass,
    /// Nothing was asserted under the run's profile beyond the set-up: the case only recorded
    /// what the endpoint answered (its observed values). Neither a pass nor a failure.
    Observed,
    /// At least one asserted expectation did not hold.
    Fail {
        /// What differed.
        mismatches: Vec<Mismatch>,
    },
    /// The case could not be judged: a setup step failed, or an answer was ambiguous where a
    /// definite one was needed. Not the endpoint's fault by itself, but not a pass either.
    Error {
        /// Why.
        message: String,
    },
    /// Not run (filtered out by `--skip`, or `ignored` without `--ignored`).
    Skipped {
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// A short lowercase name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Observed => "observed",
            Verdict::Fail { .. } => "fail",
            Verdict::Error { .. } => "error",
            Verdict::Skipped { .. } => "skipped",
        }
    }
}

/// How a case relates to the `--baseline` of known divergences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BaselineMark {
    /// Failed, and the baseline lists it: an expected failure that does not fail the run.
    Known {
        /// The baseline's reason for the entry.
        reason: String,
    },
    /// The baseline lists it, but it passed: the baseline can shrink.
    Fixed,
}

/// What was sent and answered in one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Index in the case's steps.
    pub index: usize,
    /// One-line description, e.g. `put k If-None-Match: *`.
    pub label: String,
    /// The request as sent (the serialized [`crate::s3::Request`]); `null` for `sleep`.
    pub request: serde_json::Value,
    /// One observation per request (many for a `parallel:` block).
    pub observations: Vec<Observation>,
}

/// One case's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    /// `operation::case-name`, the trial name.
    pub name: String,
    /// The operation group (`get`, `put`, `copy`, ...).
    pub operation: String,
    /// What the case checks.
    pub description: String,
    /// Where the expectation comes from: a `docs/semantics.md` section, a vendor document, an RFC.
    pub source: String,
    /// Free-form tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The judgement.
    pub verdict: Verdict,
    /// Set when a `--baseline` names this case.
    #[serde(default)]
    pub baseline: Option<BaselineMark>,
    /// Wall time of the case.
    pub duration_ms: u64,
    /// What was sent and answered.
    #[serde(default)]
    pub steps: Vec<StepRecord>,
    /// Values recorded for `observe` expectations.
    #[serde(default)]
    pub observed: Vec<ObservedValue>,
}

impl CaseReport {
    /// Whether this case makes the run fail: a failure or error the baseline does not excuse.
    pub fn is_regression(&self) -> bool {
        matches!(self.verdict, Verdict::Fail { .. } | Verdict::Error { .. })
            && !matches!(self.baseline, Some(BaselineMark::Known { .. }))
    }
}

/// One anomaly a fuzz campaign found, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuzzAnomaly {
    /// The anomaly's kebab-case name (`double-create`, `lost-update`, ...).
    pub kind: String,
    /// The key it was found on (relative to the run prefix).
    pub key: String,
    /// The Elle-style explanation of the witness.
    pub explanation: String,
    /// The ASCII lane view of the (shrunk) witness.
    #[serde(default)]
    pub lanes: String,
}

/// A fuzz campaign attached to a run report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuzzSummary {
    /// The seed that replays the schedule.
    pub seed: u64,
    /// Concurrent writers.
    pub writers: u32,
    /// Operations performed.
    pub ops: u64,
    /// `linearizable`, `anomalous`, `unknown`, or [`FUZZ_FAILED`] when the campaign did not run
    /// to a verdict.
    pub verdict: String,
    /// What was found.
    #[serde(default)]
    pub anomalies: Vec<FuzzAnomaly>,
    /// Where the history was saved, if it was.
    #[serde(default)]
    pub history_file: Option<String>,
    /// What the campaign raced (its mix and keys), so that a reader can tell campaigns apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// Why a [`FUZZ_FAILED`] campaign did not run (the server stopped answering, the setup was
    /// refused). Kept in the report rather than dropping the campaign: a campaign that vanishes
    /// reads as a server that was never tried, or worse, as one that passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The verdict of a fuzz campaign that did not run to a verdict.
pub const FUZZ_FAILED: &str = "failed";

impl FuzzSummary {
    /// A campaign that did not run, with why.
    pub fn failed(seed: u64, writers: u32, campaign: Option<String>, error: String) -> Self {
        FuzzSummary {
            seed,
            writers,
            ops: 0,
            verdict: FUZZ_FAILED.to_owned(),
            anomalies: Vec::new(),
            history_file: None,
            campaign,
            error: Some(error),
        }
    }

    /// Whether the campaign did not run to a verdict.
    pub fn is_failed(&self) -> bool {
        self.verdict == FUZZ_FAILED
    }
}

/// The whole record of one `run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] at writing.
    pub format_version: u32,
    /// The s3conform version that wrote it.
    pub tool_version: String,
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// The endpoint.
    pub endpoint: EndpointInfo,
    /// The profile the expectations came from.
    pub profile: Profile,
    /// Every case, sorted by name.
    pub cases: Vec<CaseReport>,
    /// Fuzz campaigns run against the same endpoint, if any.
    #[serde(default)]
    pub fuzz: Vec<FuzzSummary>,
    /// Where the run wrote: the bucket and the run's own prefix. Every report carries it so
    /// that what an interrupted or killed run left behind can be found and removed
    /// (`s3conform clean --prefix <run_prefix>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<RunLocation>,
}

/// The bucket and run prefix a run wrote under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLocation {
    /// The bucket.
    pub bucket: String,
    /// The run's own prefix: every key the run wrote starts with it.
    pub run_prefix: String,
}

/// Counts for summary lines and tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed (including baseline-known failures).
    pub failed: usize,
    /// Errored.
    pub errored: usize,
    /// Skipped.
    pub skipped: usize,
    /// Failures or errors excused by the baseline.
    pub known: usize,
    /// Baseline entries that now pass.
    pub fixed: usize,
    /// Observed: the case asserted nothing under the profile, only recorded values.
    pub observed: usize,
}

impl RunReport {
    /// Counts over all cases.
    pub fn counts(&self) -> Counts {
        super::text::tally(&self.cases)
    }

    /// Whether any case is a regression (fails the run).
    pub fn has_regressions(&self) -> bool {
        self.cases.iter().any(CaseReport::is_regression)
    }
}
