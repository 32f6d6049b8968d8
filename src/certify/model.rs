//! The certificate: one serde model that `certificate.json` is, and that the Markdown page, the
//! HTML page and the badge are rendered from. It is computed from the evidence
//! ([`super::verdict::certificate`]), never edited by hand.

use serde::{Deserialize, Serialize};

use super::evidence::{Basis, CampaignRecord, CheckerVerdict, Finding, Stop};
use super::exchange::Exchange;
use super::identity::ServerIdentity;
use super::refutation::Refutation;
use super::requirements::Document;
use crate::report::Mismatch;

/// The `format` of every certificate.
pub const FORMAT: &str = "s3conform-certificate";
/// The current `format_version`. Version 2 added each requirement's `refuted_by`, the
/// operations a witness convicts, the endpoint's `server` identity and where a run `stopped`;
/// `--verify` refuses a certificate of another version with a message saying so.
pub const FORMAT_VERSION: u32 = 2;

/// The whole certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] at writing.
    pub format_version: u32,
    /// The requirements' title: whose promises were judged.
    pub title: String,
    /// The overall verdict.
    pub verdict: Overall,
    /// Why the overall verdict is what it is, in one sentence.
    pub because: String,
    /// Requirements per verdict.
    pub counts: Counts,
    /// What the verdicts rest on.
    pub basis: Basis,
    /// What the endpoint says about itself (its `Server` header), read from the suite's answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerIdentity>,
    /// Set when the endpoint stopped answering before the run was done: where, and what was
    /// left undone. Such a certificate is inconclusive unless a violation found before it
    /// stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stop>,
    /// The evidence file and its digest.
    pub evidence: EvidenceRef,
    /// Ambiguous answers, per campaign and over the suite, against the threshold.
    pub ambiguity: Ambiguity,
    /// Every requirement with its verdict and evidence, in the requirements file's order.
    pub requirements: Vec<RequirementResult>,
    /// Every campaign.
    pub campaigns: Vec<CampaignRecord>,
    /// Cases beyond the documents' promises, with their outcome.
    pub extras: Vec<ExtraResult>,
    /// The documents the requirements cite.
    pub documents: Vec<Document>,
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Overall {
    /// Every testable requirement holds (or does not apply to the profile).
    Conformant,
    /// At least one requirement is violated.
    NotConformant,
    /// None is violated, but too many answers were ambiguous for a pass to mean anything.
    Inconclusive,
    /// None is violated and ambiguity is low, but some testable requirement is not established.
    Partial,
}

impl Overall {
    /// How the verdict is written: `conformant`, `not conformant`, ...
    pub fn words(self) -> &'static str {
        match self {
            Overall::Conformant => "conformant",
            Overall::NotConformant => "not conformant",
            Overall::Inconclusive => "inconclusive",
            Overall::Partial => "partial",
        }
    }
}

/// A requirement's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Every case and campaign it rests on establishes it.
    Holds,
    /// A case failed, or a campaign found an anomaly of a kind that disproves it.
    Violated,
    /// Nothing violates it, but the evidence does not establish it either.
    NotEstablished,
    /// Under this profile the suite asserts nothing of its cases.
    NotApplicable,
}

impl State {
    /// `holds`, `violated`, `not established`, `not applicable`.
    pub fn words(self) -> &'static str {
        match self {
            State::Holds => "holds",
            State::Violated => "violated",
            State::NotEstablished => "not established",
            State::NotApplicable => "not applicable",
        }
    }
}

/// Requirements per verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Holding.
    pub holds: usize,
    /// Violated.
    pub violated: usize,
    /// Not established (testable ones).
    pub not_established: usize,
    /// Not applicable.
    pub not_applicable: usize,
    /// Not established because no black-box client can test them.
    pub not_testable: usize,
}

/// The evidence file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    /// Its name beside the certificate.
    pub file: String,
    /// Lowercase hex SHA-256 of its bytes.
    pub sha256: String,
}

/// Ambiguous answers against the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ambiguity {
    /// The highest ambiguous share (0 to 1) a campaign or the suite may have for a pass.
    pub threshold: f64,
    /// Over the suite's answers.
    pub suite: Rate,
    /// Per campaign.
    pub campaigns: Vec<Rate>,
}

/// An ambiguous share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// `suite` or the campaign id.
    pub of: String,
    /// Ambiguous answers.
    pub ambiguous: u64,
    /// All answers.
    pub answers: u64,
    /// `ambiguous / answers` (0 when there were none).
    pub rate: f64,
    /// Whether `rate` is above the threshold.
    pub over: bool,
}

/// One requirement's verdict and evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementResult {
    /// Its id.
    pub id: String,
    /// The promise.
    pub statement: String,
    /// Whether the statement is the document's own words.
    pub quoted: bool,
    /// The document's title and the section.
    pub source: String,
    /// The verdict.
    pub verdict: State,
    /// Why, in one sentence.
    pub because: String,
    /// Set when no black-box client can establish it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_testable: Option<String>,
    /// The rule a campaign's witness is judged by: the anomaly kinds (narrowed to a condition
    /// and to operations where the requirements file says so) that disprove it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refuted_by: Vec<Refutation>,
    /// Its cases: the deciding ones first.
    pub cases: Vec<CaseResult>,
    /// Its campaigns.
    pub campaigns: Vec<CampaignResult>,
}

/// A case's outcome and the exchange that decides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    /// `dir::stem`.
    pub case: String,
    /// What the case checks.
    pub description: String,
    /// `pass`, `fail`, `error`, `observed` or `skipped`.
    pub outcome: String,
    /// The conditional request the case is about, when the deciding step is a later one (the
    /// read that shows a refused write was applied anyway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Exchange>,
    /// The deciding request and its answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decisive: Option<Exchange>,
    /// What differed, for a failure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<Mismatch>,
    /// Why it could not be judged, for an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A campaign's part in a requirement's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignResult {
    /// The campaign's id.
    pub campaign: String,
    /// What the checker said.
    pub checker: CheckerVerdict,
    /// The witnesses of anomalies that break this requirement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<Finding>,
}

/// A case beyond the documents' promises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraResult {
    /// The case.
    pub case: CaseResult,
    /// Why it runs.
    pub reason: String,
}

impl CaseResult {
    /// True when the case failed: the only outcome that proves a promise broken.
    pub fn failed(&self) -> bool {
        self.outcome == "fail"
    }
}

impl Certificate {
    /// The cases beyond the documents that failed: what both renderings show in full, for
    /// information.
    pub fn failed_extras(&self) -> impl Iterator<Item = &ExtraResult> {
        self.extras.iter().filter(|e| e.case.failed())
    }
}
