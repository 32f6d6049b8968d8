//! The evidence file (`evidence.json`): everything a certificate's verdicts are computed from,
//! and nothing computed from it. `certify --verify` recomputes the certificate from this file
//! alone (and the requirements file it names by digest), so a verdict that does not follow from
//! the evidence shows up as a difference.

use serde::{Deserialize, Serialize};

use super::levels::{CampaignPlan, Level};
use super::refutation::Operation;
use super::requirements::CampaignKind;
use crate::profile::Profile;
use crate::report::{CaseReport, EndpointInfo, FuzzAnomaly};

/// The `format` of every evidence file.
pub const FORMAT: &str = "s3conform-evidence";
/// The current `format_version`. Version 2 added the operations a witness convicts and where a
/// run stopped; a version 1 file cannot say which operation an anomaly convicted, so it is not
/// judged under version 2's rules.
pub const FORMAT_VERSION: u32 = 2;

/// Everything the verdicts rest on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] at writing.
    pub format_version: u32,
    /// What the run was: tool, profile, endpoint, dates, seeds.
    pub basis: Basis,
    /// Every case of the suite, as `s3conform run` reports it (requests and answers included).
    pub cases: Vec<CaseReport>,
    /// Every campaign, in the order run.
    pub campaigns: Vec<CampaignRecord>,
    /// Set when the endpoint stopped answering before the run was done: where, and what was
    /// left undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stop>,
}

/// Where a run stopped because the endpoint stopped answering. What was answered before stands
/// as recorded; what was not run establishes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    /// Why: the endpoint's silence, with the stall limit.
    pub reason: String,
    /// Where: `the suite` or `campaign <id>`.
    pub during: String,
    /// The suite's cases that could not be judged (errors and skips), after the stop included.
    pub cases_unjudged: usize,
    /// The campaigns of the plan that did not run to their end: the one cut short and those
    /// never started.
    pub campaigns_unfinished: Vec<String>,
}

/// What a certificate rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Basis {
    /// The s3conform version that ran.
    pub tool_version: String,
    /// The profile judged against.
    pub profile: Profile,
    /// The level.
    pub level: Level,
    /// The certify seed every campaign's seed derives from (`--seed` replays them).
    pub seed: u64,
    /// The requirements file.
    pub requirements: RequirementsRef,
    /// The endpoint.
    pub endpoint: EndpointInfo,
    /// The bucket.
    pub bucket: String,
    /// The signing region.
    pub region: String,
    /// The run's own prefix: every key it wrote starts with it.
    pub run_prefix: String,
    /// RFC 3339 UTC start.
    pub started_at: String,
    /// RFC 3339 UTC end.
    pub finished_at: String,
    /// The level's campaigns as planned.
    pub plan: Vec<CampaignPlan>,
}

/// Which requirements file, by origin and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementsRef {
    /// Its title.
    pub title: String,
    /// `embedded:requirements/<profile>.yaml` or a path.
    pub origin: String,
    /// Lowercase hex SHA-256 of its bytes.
    pub digest: String,
}

/// What the checker said about a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckerVerdict {
    /// Every key's history is linearizable.
    Linearizable,
    /// An anomaly was found.
    Anomalous,
    /// The budget ran out.
    Unknown,
    /// The campaign did not run to a verdict (the drive failed or was stopped).
    Failed,
}

impl CheckerVerdict {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            CheckerVerdict::Linearizable => "linearizable",
            CheckerVerdict::Anomalous => "anomalous",
            CheckerVerdict::Unknown => "unknown",
            CheckerVerdict::Failed => "failed",
        }
    }
}

/// One campaign as run and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignRecord {
    /// The plan's id.
    pub id: String,
    /// The kind of promise it tests.
    pub kind: CampaignKind,
    /// The mix.
    pub mix: String,
    /// Its seed (derived from the certify seed).
    pub seed: u64,
    /// Concurrent writers.
    pub writers: u32,
    /// Keys shared.
    pub keys: u8,
    /// Ops recorded.
    pub ops: u64,
    /// 412 answers.
    pub precondition_failed: u64,
    /// 409 answers.
    pub conflicts: u64,
    /// Answers whose effect is unknown (timeouts, resets, 5xx).
    pub ambiguous: u64,
    /// The checker's verdict.
    pub checker: CheckerVerdict,
    /// Why the verdict is unknown or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Milliseconds the drive took.
    pub drive_ms: u64,
    /// Milliseconds the check took.
    pub check_ms: u64,
    /// One witness per anomaly kind and key, shrunk.
    #[serde(default)]
    pub anomalies: Vec<Finding>,
    /// The recorded history, saved beside the evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<FileDigest>,
}

/// One witness, and the precondition its culprit carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The witness, as `fuzz` reports it.
    #[serde(flatten)]
    pub witness: FuzzAnomaly,
    /// The precondition of the write or delete the anomaly convicts (the witness's last op):
    /// `If-Match` or `If-None-Match`, or none (also for a read). It tells an ignored
    /// `If-None-Match: *` (a broken safe create) from an ignored `If-Match` (a broken
    /// compare-and-swap), which share an anomaly kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culprit_condition: Option<String>,
    /// The operation of every op the witness convicts ([`crate::check::Anomaly::blamed`]),
    /// sorted, each once: a promise about one operation is disproved only by a witness that
    /// convicts that operation alone. Empty when the witness convicts no op.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub culprit_operations: Vec<Operation>,
}

/// A file saved beside the evidence, with its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// The file name, relative to the evidence file's folder.
    pub file: String,
    /// Lowercase hex SHA-256 of its bytes.
    pub sha256: String,
}

/// Lowercase hex SHA-256 of `bytes`: the digest of the evidence, the histories and the
/// requirements files.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

impl Evidence {
    /// The evidence as written to `evidence.json` (pretty JSON, newline-terminated).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text.into_bytes()
    }
}
