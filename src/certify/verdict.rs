//! The verdict rules: from the evidence and the requirements to the certificate (docs/certify.md
//! states them for readers).
//!
//! Per requirement, in order:
//! 1. **violated** when one of its cases failed (a definite answer contradicted an asserted
//!    expectation), or a campaign found an anomaly of a kind its campaign kinds exist to catch
//!    ([`breaks`]); the failing exchange or the witness is the evidence;
//! 2. **not established** when it is marked not testable, when one of its cases could not be
//!    judged (error, skipped), when a campaign it rests on reached no verdict or had more
//!    ambiguous answers than [`AMBIGUOUS_THRESHOLD`], or when nothing it rests on asserted
//!    anything (an *observed* case never establishes a requirement);
//! 3. **not applicable** when it rests on cases only and every one of them is observed under the
//!    profile: the profile's documents do not pin what they check;
//! 4. **holds** otherwise.
//!
//! Overall: **not conformant** with one violated requirement; else **inconclusive** when the
//! suite or a campaign had more ambiguous answers than the threshold; else **partial** when a
//! testable requirement is not established; else **conformant**.

use std::collections::BTreeMap;

use super::evidence::{CampaignRecord, CheckerVerdict, Evidence, Finding};
use super::exchange;
use super::model::{
    Ambiguity, CampaignResult, CaseResult, Certificate, Counts, EvidenceRef, ExtraResult,
    FORMAT, FORMAT_VERSION, Overall, Rate, RequirementResult, State,
};
use super::requirements::{CampaignKind, Requirement, Requirements, Resolved};
use crate::check::AnomalyKind;
use crate::report::{CaseReport, Verdict};
use crate::s3::Outcome;

/// The highest share of ambiguous answers (timeouts, resets, 5xx other than 501) that a campaign,
/// or the suite as a whole, may have and still support a pass.
///
/// Why 1%: an ambiguous write may or may not have happened, so the checker must accept either
/// for each one, and a case with an ambiguous answer is an error, not a pass. A healthy endpoint
/// on a working network answers every request (the embedded endpoint and every third-party
/// server we run answer 100% outside deliberate faults); past one answer in a hundred, the
/// uncertainty is no longer noise but a property of the endpoint, and a clean verdict would rest
/// on what the endpoint did not say.
pub const AMBIGUOUS_THRESHOLD: f64 = 0.01;

/// The name of the evidence file beside the certificate.
pub const EVIDENCE_FILE: &str = "evidence.json";

/// Whether `finding` breaks what a campaign of `kind` exists to establish; such an anomaly,
/// found by any campaign, violates every requirement that rests on `kind`.
///
/// - safe create: a double create, or an `If-None-Match: *` write that was wrongly accepted
///   (ignored precondition) or wrongly refused (phantom 412);
/// - compare-and-swap: a lost update, or an `If-Match` write or delete wrongly accepted or
///   refused;
/// - the mix stands for linearizability as a whole: every named anomaly breaks it.
pub fn breaks(kind: CampaignKind, finding: &Finding) -> bool {
    use AnomalyKind as A;
    let Some(anomaly) = AnomalyKind::from_name(&finding.witness.kind) else {
        return false;
    };
    let condition = finding.culprit_condition.as_deref();
    match (kind, anomaly) {
        (CampaignKind::Mix, _) => true,
        (CampaignKind::SafeCreate, A::DoubleCreate) | (CampaignKind::Cas, A::LostUpdate) => true,
        (CampaignKind::SafeCreate, A::IgnoredPrecondition | A::Phantom412) => {
            condition == Some("If-None-Match")
        }
        (CampaignKind::Cas, A::IgnoredPrecondition | A::Phantom412) => condition == Some("If-Match"),
        _ => false,
    }
}

/// Whether an answer counts as ambiguous for the threshold: its effect is unknown. A 501 Not
/// Implemented is the endpoint saying it did not act, which cases assert where the documents say
/// so; it is not counted.
fn counts_as_ambiguous(o: &crate::s3::Observation) -> bool {
    matches!(o.outcome, Outcome::Ambiguous(_)) && o.status != Some(501)
}

fn rate(of: &str, ambiguous: u64, answers: u64) -> Rate {
    let r = if answers == 0 {
        0.0
    } else {
        ambiguous as f64 / answers as f64
    };
    Rate {
        of: of.to_owned(),
        ambiguous,
        answers,
        rate: r,
        over: r > AMBIGUOUS_THRESHOLD,
    }
}

/// The ambiguous shares of the suite and of every campaign.
pub fn ambiguity(evidence: &Evidence) -> Ambiguity {
    let (mut ambiguous, mut answers) = (0u64, 0u64);
    for o in evidence
        .cases
        .iter()
        .flat_map(|c| &c.steps)
        .flat_map(|s| &s.observations)
    {
        answers += 1;
        ambiguous += u64::from(counts_as_ambiguous(o));
    }
    Ambiguity {
        threshold: AMBIGUOUS_THRESHOLD,
        suite: rate("suite", ambiguous, answers),
        campaigns: evidence
            .campaigns
            .iter()
            .map(|c| rate(&c.id, c.ambiguous, c.ops))
            .collect(),
    }
}

fn outcome(case: &CaseReport) -> &'static str {
    case.verdict.name()
}

fn case_result(case: &CaseReport) -> CaseResult {
    CaseResult {
        case: case.name.clone(),
        description: case.description.clone(),
        outcome: outcome(case).to_owned(),
        decisive: exchange::decisive(case),
        mismatches: match &case.verdict {
            Verdict::Fail { mismatches } => mismatches.clone(),
            _ => Vec::new(),
        },
        message: match &case.verdict {
            Verdict::Error { message } => Some(message.clone()),
            Verdict::Skipped { reason } => Some(reason.clone()),
            _ => None,
        },
    }
}

/// The witnesses in `campaign` that break a requirement resting on `kinds`.
///
/// A requirement that rests on a narrow kind (safe create, compare-and-swap) and on the mix is
/// broken only by what the narrow kinds catch: the mix's campaigns add evidence for it, but a
/// stale read in the mix says nothing about safe creates. Only a requirement that rests on the
/// mix alone is broken by every anomaly.
fn breaking(campaign: &CampaignRecord, kinds: &[CampaignKind]) -> Vec<Finding> {
    let narrow: Vec<CampaignKind> = kinds
        .iter()
        .copied()
        .filter(|k| *k != CampaignKind::Mix)
        .collect();
    let kinds = if narrow.is_empty() { kinds } else { &narrow };
    campaign
        .anomalies
        .iter()
        .filter(|f| kinds.iter().any(|kind| breaks(*kind, f)))
        .cloned()
        .collect()
}

fn judge(
    req: &Requirement,
    cases: &[&CaseReport],
    evidence: &Evidence,
    ambiguity: &Ambiguity,
) -> (State, String, Vec<CampaignResult>) {
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail { .. }))
        .map(|c| c.name.as_str())
        .collect();
    let mut campaigns = Vec::new();
    let mut broken = Vec::new();
    let mut unsupported = Vec::new();
    for c in &evidence.campaigns {
        let relevant = req.campaigns.contains(&c.kind);
        let witnesses = breaking(c, &req.campaigns);
        if !witnesses.is_empty() {
            broken.push(format!("{} ({})", c.id, kinds_of(&witnesses)));
        }
        if relevant {
            let over = ambiguity
                .campaigns
                .iter()
                .any(|r| r.of == c.id && r.over);
            if c.checker != CheckerVerdict::Linearizable && witnesses.is_empty() {
                unsupported.push(format!("campaign {} is {}", c.id, c.checker.name()));
            } else if over {
                unsupported.push(format!("campaign {} had too many ambiguous answers", c.id));
            }
        }
        if relevant || !witnesses.is_empty() {
            campaigns.push(CampaignResult {
                campaign: c.id.clone(),
                checker: c.checker,
                witnesses,
            });
        }
    }
    if !failed.is_empty() || !broken.is_empty() {
        let mut why = Vec::new();
        if !failed.is_empty() {
            why.push(format!("failed: {}", failed.join(", ")));
        }
        if !broken.is_empty() {
            why.push(format!("anomalies in {}", broken.join(", ")));
        }
        return (State::Violated, why.join("; "), campaigns);
    }
    if let Some(reason) = &req.not_testable {
        return (
            State::NotEstablished,
            format!("not testable from outside: {reason}"),
            campaigns,
        );
    }
    let unjudged: Vec<&str> = cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Error { .. } | Verdict::Skipped { .. }))
        .map(|c| c.name.as_str())
        .collect();
    if !unjudged.is_empty() {
        return (
            State::NotEstablished,
            format!("could not be judged: {}", unjudged.join(", ")),
            campaigns,
        );
    }
    for kind in &req.campaigns {
        if !evidence.campaigns.iter().any(|c| c.kind == *kind) {
            unsupported.push(format!("no {} campaign ran", kind_name(*kind)));
        }
    }
    if !unsupported.is_empty() {
        return (State::NotEstablished, unsupported.join("; "), campaigns);
    }
    let passed = cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Pass))
        .count();
    if passed == 0 && req.campaigns.is_empty() {
        if !cases.is_empty() {
            return (
                State::NotApplicable,
                "the profile asserts nothing of its cases (each is only observed)".to_owned(),
                campaigns,
            );
        }
        return (
            State::NotEstablished,
            "no case or campaign establishes it".to_owned(),
            campaigns,
        );
    }
    let mut why = Vec::new();
    if passed > 0 {
        why.push(format!("{passed} case(s) passed"));
    }
    if !req.campaigns.is_empty() {
        let n = campaigns.len();
        why.push(format!("{n} campaign(s) linearizable"));
    }
    (State::Holds, why.join(", "), campaigns)
}

fn kinds_of(witnesses: &[Finding]) -> String {
    let mut kinds: Vec<&str> = witnesses.iter().map(|w| w.witness.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds.join(", ")
}

fn kind_name(kind: CampaignKind) -> &'static str {
    match kind {
        CampaignKind::SafeCreate => "safe-create",
        CampaignKind::Cas => "cas",
        CampaignKind::Mix => "mix",
    }
}

/// The certificate the evidence supports under `requirements` (matched to the evidence's cases
/// as `resolved`); `evidence_sha256` is the digest of the evidence file's bytes.
pub fn certificate(
    evidence: &Evidence,
    requirements: &Requirements,
    resolved: &Resolved,
    evidence_sha256: &str,
) -> Certificate {
    let by_name: BTreeMap<&str, &CaseReport> =
        evidence.cases.iter().map(|c| (c.name.as_str(), c)).collect();
    let ambiguity = ambiguity(evidence);
    let mut counts = Counts::default();
    let mut results = Vec::new();
    for req in &requirements.requirements {
        let cases: Vec<&CaseReport> = resolved
            .cases_of(&req.id)
            .iter()
            .filter_map(|id| by_name.get(id.as_str()).copied())
            .collect();
        let (verdict, because, campaigns) = judge(req, &cases, evidence, &ambiguity);
        match verdict {
            State::Holds => counts.holds += 1,
            State::Violated => counts.violated += 1,
            State::NotApplicable => counts.not_applicable += 1,
            State::NotEstablished if req.not_testable.is_some() => counts.not_testable += 1,
            State::NotEstablished => counts.not_established += 1,
        }
        let mut case_results: Vec<CaseResult> = cases.iter().map(|c| case_result(c)).collect();
        // The deciding cases first: failures, then errors, then the rest in suite order.
        case_results.sort_by_key(|c| match c.outcome.as_str() {
            "fail" => 0,
            "error" => 1,
            _ => 2,
        });
        let title = requirements
            .documents
            .iter()
            .find(|d| d.id == req.source.document)
            .map_or(req.source.document.as_str(), |d| d.title.as_str());
        results.push(RequirementResult {
            id: req.id.clone(),
            statement: req.statement.clone(),
            quoted: req.quoted,
            source: format!("{title}, {}", req.source.section),
            verdict,
            because,
            not_testable: req.not_testable.clone(),
            cases: case_results,
            campaigns,
        });
    }
    let over: Vec<&str> = std::iter::once(&ambiguity.suite)
        .chain(&ambiguity.campaigns)
        .filter(|r| r.over)
        .map(|r| r.of.as_str())
        .collect();
    let (verdict, because) = if counts.violated > 0 {
        let ids: Vec<&str> = results
            .iter()
            .filter(|r| r.verdict == State::Violated)
            .map(|r| r.id.as_str())
            .collect();
        (
            Overall::NotConformant,
            format!("violated: {}", ids.join(", ")),
        )
    } else if !over.is_empty() {
        (
            Overall::Inconclusive,
            format!(
                "no requirement is violated, but more than {:.0}% of the answers were ambiguous in: {}",
                AMBIGUOUS_THRESHOLD * 100.0,
                over.join(", ")
            ),
        )
    } else if counts.not_established > 0 {
        let ids: Vec<&str> = results
            .iter()
            .filter(|r| r.verdict == State::NotEstablished && r.not_testable.is_none())
            .map(|r| r.id.as_str())
            .collect();
        (
            Overall::Partial,
            format!("no requirement is violated; not established: {}", ids.join(", ")),
        )
    } else {
        (
            Overall::Conformant,
            format!(
                "{} requirement(s) hold, {} not applicable, none violated",
                counts.holds, counts.not_applicable
            ),
        )
    };
    let mut extras = Vec::new();
    for case in &evidence.cases {
        if !resolved.requirements_of(&case.name).is_empty() {
            continue;
        }
        let reason = requirements
            .extras
            .iter()
            .find(|e| match e.case.strip_suffix('*') {
                Some(prefix) => case.name.starts_with(prefix),
                None => e.case == case.name,
            })
            .map_or_else(
                || "maps to no requirement of these documents".to_owned(),
                |e| e.reason.clone(),
            );
        extras.push(ExtraResult {
            case: case_result(case),
            reason,
        });
    }
    Certificate {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        title: requirements.title.clone(),
        verdict,
        because,
        counts,
        basis: evidence.basis.clone(),
        evidence: EvidenceRef {
            file: EVIDENCE_FILE.to_owned(),
            sha256: evidence_sha256.to_owned(),
        },
        ambiguity,
        requirements: results,
        campaigns: evidence.campaigns.clone(),
        extras,
        documents: requirements.documents.clone(),
    }
}
