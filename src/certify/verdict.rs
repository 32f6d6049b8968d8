//! The verdict rules: from the evidence and the requirements to the certificate (docs/certify.md
//! states them for readers).
//!
//! Per requirement, in order:
//! 1. **violated** when one of its cases failed (a definite answer contradicted an asserted
//!    expectation), or a campaign found an anomaly of a kind its `refuted_by` names
//!    ([`refutes`]); the failing exchange or the witness is the evidence;
//! 2. **not established** when it is marked not testable, when one of its cases could not be
//!    judged (error, skipped), when a campaign it rests on reached no verdict or had more
//!    ambiguous answers than [`AMBIGUOUS_THRESHOLD`], or when nothing it rests on asserted
//!    anything (an *observed* case never establishes a requirement);
//! 3. **not applicable** when it rests on cases only and every one of them is observed under the
//!    profile: the profile's documents do not pin what they check;
//! 4. **holds** otherwise.
//!
//! Overall: **not conformant** with one violated requirement; else **inconclusive** when the
//! endpoint stopped answering before the run was done, or the suite or a campaign had more
//! ambiguous answers than the threshold; else **partial** when a testable requirement is not
//! established; else **conformant**. A violation found before the endpoint stopped answering
//! stands: a definite answer that contradicts a promise, or an anomaly in the prefix of a
//! campaign (docs/checker.md §10), is true whatever would have followed.

use std::collections::BTreeMap;

use super::evidence::{CampaignRecord, CheckerVerdict, Evidence, Finding};
use super::exchange;
use super::identity;
use super::model::{
    Ambiguity, CampaignResult, CaseResult, Certificate, Counts, EvidenceRef, ExtraResult, FORMAT,
    FORMAT_VERSION, Overall, Rate, RequirementResult, State,
};
use super::requirements::{Requirement, Requirements, Resolved};
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

/// Whether `finding` disproves `req`: the requirement rests on campaigns and its `refuted_by`
/// names the witness's anomaly kind (narrowed, for an ignored precondition, a phantom 412 or a
/// spurious 409, to the condition the convicted request carried).
///
/// The witness may come from any campaign that ran, not only one of the kinds the requirement
/// rests on: a double create found by the default mix disproves a safe-create promise as surely
/// as one found by a safe-create storm. What it may not do is disprove a promise it says
/// nothing about: a double create leaves a conditional read's promise unproven (the history is
/// not linearizable, so the checker vouches for nothing in it), never violated.
///
/// An entry narrowed to operations counts a witness only when every op it convicts is of one of
/// them: a lost update among PutObjects disproves PutObject's `If-Match` promise, not
/// CompleteMultipartUpload's.
pub fn refutes(req: &Requirement, finding: &Finding) -> bool {
    let condition = finding.culprit_condition.as_deref();
    !req.campaigns.is_empty()
        && req.refuted_by.iter().any(|r| {
            r.admits(
                &finding.witness.kind,
                condition,
                &finding.culprit_operations,
            )
        })
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
    let decisive = exchange::decisive(case);
    CaseResult {
        case: case.name.clone(),
        description: case.description.clone(),
        outcome: outcome(case).to_owned(),
        condition: decisive.as_ref().and_then(|d| exchange::condition(case, d)),
        decisive,
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

/// The witnesses in `campaign` that disprove `req` ([`refutes`]).
fn breaking(campaign: &CampaignRecord, req: &Requirement) -> Vec<Finding> {
    campaign
        .anomalies
        .iter()
        .filter(|f| refutes(req, f))
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
        let witnesses = breaking(c, req);
        if !witnesses.is_empty() {
            broken.push(format!("{} ({})", c.id, kinds_of(&witnesses)));
        }
        if relevant {
            let over = ambiguity.campaigns.iter().any(|r| r.of == c.id && r.over);
            if c.checker != CheckerVerdict::Linearizable && witnesses.is_empty() {
                let found = kinds_of(&c.anomalies);
                if c.checker == CheckerVerdict::Failed {
                    unsupported.push(format!("campaign {} did not run to a verdict", c.id));
                } else if found.is_empty() {
                    unsupported.push(format!("campaign {} is {}", c.id, c.checker.name()));
                } else {
                    unsupported.push(format!(
                        "campaign {} is {} ({found}, none of which disproves it)",
                        c.id,
                        c.checker.name()
                    ));
                }
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
            unsupported.push(format!("no {kind} campaign ran"));
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

/// The certificate the evidence supports under `requirements` (matched to the evidence's cases
/// as `resolved`); `evidence_sha256` is the digest of the evidence file's bytes.
pub fn certificate(
    evidence: &Evidence,
    requirements: &Requirements,
    resolved: &Resolved,
    evidence_sha256: &str,
) -> Certificate {
    let by_name: BTreeMap<&str, &CaseReport> = evidence
        .cases
        .iter()
        .map(|c| (c.name.as_str(), c))
        .collect();
    let ambiguity = ambiguity(evidence);
    let mut counts = Counts::default();
    let mut results = Vec::new();
    for req in &requirements.requirements {
        let cases: Vec<&CaseReport> = resolved
            .cases(&req.id)
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
            refuted_by: req.refuted_by.clone(),
            cases: case_results,
            campaigns,
        });
    }
    let over: Vec<&str> = std::iter::once(&ambiguity.suite)
        .chain(&ambiguity.campaigns)
        .filter(|r| r.over)
        .map(|r| r.of.as_str())
        .collect();
    let stop = evidence.stopped.as_ref().map(|s| {
        let mut undone = Vec::new();
        if s.cases_unjudged > 0 {
            undone.push(format!("{} case(s) could not be judged", s.cases_unjudged));
        }
        if !s.campaigns_unfinished.is_empty() {
            undone.push(format!(
                "campaign(s) not run to their end: {}",
                s.campaigns_unfinished.join(", ")
            ));
        }
        let undone = if undone.is_empty() {
            String::new()
        } else {
            format!(" ({})", undone.join("; "))
        };
        format!("{} during {}{undone}", s.reason, s.during)
    });
    let (verdict, because) = if counts.violated > 0 {
        let ids: Vec<&str> = results
            .iter()
            .filter(|r| r.verdict == State::Violated)
            .map(|r| r.id.as_str())
            .collect();
        let stopped = stop
            .as_deref()
            .map(|s| format!("; the run did not finish: {s}"))
            .unwrap_or_default();
        (
            Overall::NotConformant,
            format!("violated: {}{stopped}", ids.join(", ")),
        )
    } else if let Some(stop) = stop {
        (
            Overall::Inconclusive,
            format!(
                "no requirement is violated by what was answered, but the run did not finish: {stop}; {} requirement(s) not established",
                counts.not_established
            ),
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
            format!(
                "no requirement is violated; not established: {}",
                ids.join(", ")
            ),
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
        if !resolved.requirements(&case.name).is_empty() {
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
        server: identity::identify(&evidence.cases),
        stopped: evidence.stopped.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certify::evidence::Stop;
    use crate::certify::evidence::{Basis, FileDigest, RequirementsRef};
    use crate::certify::levels::Level;
    use crate::certify::refutation::Operation;
    use crate::certify::requirements::CampaignKind;
    use crate::check::AnomalyKind;
    use crate::profile::Profile;
    use crate::report::{EndpointInfo, FuzzAnomaly, Mismatch, StepRecord};
    use crate::s3::{AmbiguityCause, Observation};

    fn case(name: &str, verdict: Verdict, answer: Observation) -> CaseReport {
        CaseReport {
            name: name.into(),
            operation: name.split("::").next().unwrap_or("").into(),
            description: format!("what {name} checks"),
            source: "docs/semantics.md §1.2".into(),
            tags: Vec::new(),
            verdict,
            baseline: None,
            duration_ms: 1,
            steps: vec![
                StepRecord {
                    index: 0,
                    label: "put k".into(),
                    request: serde_json::json!({"op": "put_object", "key": "k"}),
                    observations: vec![Observation::answered(200, None, Some("\"e1\""))],
                },
                StepRecord {
                    index: 1,
                    label: "put k [If-None-Match: *]".into(),
                    request: serde_json::json!({"op": "put_object", "key": "k",
                        "cond": {"if_none_match": "*"}}),
                    observations: vec![answer],
                },
            ],
            observed: Vec::new(),
        }
    }

    fn refused() -> Observation {
        Observation::answered(412, Some("PreconditionFailed"), None)
    }

    /// One requirement read through the real loader, then given `cases` and `campaigns` (the
    /// loader insists on at least one case; these tests also judge campaign-only promises).
    fn requirement(id: &str, cases: &[&str], campaigns: &[CampaignKind]) -> Requirement {
        let entry = format!(
            "  - id: {id}\n    statement: \"{id} promise\"\n    quoted: true\n    \
             source: {{ document: doc, section: \"Safe create\" }}\n    cases: [put::placeholder]\n"
        );
        let mut r = file(&entry).requirements.remove(0);
        r.cases = cases.iter().map(|c| (*c).to_owned()).collect();
        r.campaigns = campaigns.to_vec();
        r
    }

    /// A requirements file holding `list`, with one document and one extra.
    fn requirements(list: Vec<Requirement>) -> Requirements {
        let mut reqs = file(
            "  - id: R-PLACEHOLDER\n    statement: \"placeholder\"\n    quoted: true\n    \
             source: { document: doc, section: \"Safe create\" }\n    cases: [put::placeholder]\n",
        );
        reqs.requirements = list;
        reqs
    }

    fn file(entries: &str) -> Requirements {
        let text = format!(
            "profile: coreweave\ntitle: \"Vendor: conditional requests\"\ndocuments:\n  \
             - id: doc\n    title: \"Conditional requests\"\n    publisher: Vendor\n\
             requirements:\n{entries}extras:\n  - case: \"get::extra\"\n    reason: \"not in the documents\"\n"
        );
        crate::certify::requirements::parse(
            "requirements/coreweave.yaml",
            text.as_bytes(),
            Profile::Coreweave,
        )
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn campaign(
        id: &str,
        kind: CampaignKind,
        findings: Vec<Finding>,
        ambiguous: u64,
    ) -> CampaignRecord {
        CampaignRecord {
            id: id.into(),
            kind,
            mix: "create=90,delete=5,read=5".into(),
            seed: 11,
            writers: 8,
            keys: 1,
            ops: 400,
            precondition_failed: 300,
            conflicts: 2,
            ambiguous,
            checker: if findings.is_empty() {
                CheckerVerdict::Linearizable
            } else {
                CheckerVerdict::Anomalous
            },
            detail: None,
            drive_ms: 900,
            check_ms: 3,
            anomalies: findings,
            history: Some(FileDigest {
                file: format!("history-{id}.jsonl"),
                sha256: "ab".repeat(32),
            }),
        }
    }

    fn finding(kind: &str, condition: Option<&str>) -> Finding {
        finding_on(kind, condition, &[Operation::PutObject])
    }

    fn finding_on(kind: &str, condition: Option<&str>, ops: &[Operation]) -> Finding {
        Finding {
            witness: FuzzAnomaly {
                kind: kind.into(),
                key: "k0".into(),
                explanation: "A and B both created k0".into(),
                lanes: "c1 |--A--|\nc2   |--B--|".into(),
            },
            culprit_condition: condition.map(str::to_owned),
            culprit_operations: ops.to_vec(),
        }
    }

    fn evidence(cases: Vec<CaseReport>, campaigns: Vec<CampaignRecord>) -> Evidence {
        Evidence {
            format: crate::certify::evidence::FORMAT.into(),
            format_version: crate::certify::evidence::FORMAT_VERSION,
            basis: Basis {
                tool_version: "0.1.0".into(),
                profile: Profile::Coreweave,
                level: Level::Quick,
                seed: 7,
                requirements: RequirementsRef {
                    title: "Vendor: conditional requests".into(),
                    origin: "embedded:requirements/coreweave.yaml".into(),
                    digest: "00".repeat(32),
                },
                endpoint: EndpointInfo {
                    url: "http://127.0.0.1:9000".into(),
                    label: "reference".into(),
                    embedded: true,
                },
                bucket: "s3conform".into(),
                region: "us-east-1".into(),
                run_prefix: "s3conform/20261204T000000Z-00000000/".into(),
                started_at: "2026-12-04T00:00:00Z".into(),
                finished_at: "2026-12-04T00:00:06Z".into(),
                plan: Level::Quick.campaigns(),
            },
            cases,
            campaigns,
            stopped: None,
        }
    }

    fn judge_all(reqs: &Requirements, ev: &Evidence) -> Certificate {
        // The suite these tests imagine: the cases the evidence ran plus every case the
        // requirements name (resolving refuses a name that matches no case).
        let mut ids: Vec<String> = ev.cases.iter().map(|c| c.name.clone()).collect();
        ids.extend(
            reqs.requirements
                .iter()
                .flat_map(|r| r.cases.iter().cloned()),
        );
        ids.extend(reqs.extras.iter().map(|e| e.case.clone()));
        ids.sort();
        ids.dedup();
        let resolved = reqs.resolve(&ids).unwrap();
        certificate(ev, reqs, &resolved, &"cd".repeat(32))
    }

    fn verdict_of<'a>(cert: &'a Certificate, id: &str) -> &'a RequirementResult {
        cert.requirements.iter().find(|r| r.id == id).unwrap()
    }

    #[test]
    fn one_failed_case_violates_its_requirement_and_the_certificate() {
        let fail = Verdict::Fail {
            mismatches: vec![Mismatch {
                step: 1,
                field: "status".into(),
                expected: "412".into(),
                observed: "200".into(),
            }],
        };
        let ev = evidence(
            vec![
                case(
                    "put::a",
                    fail,
                    Observation::answered(200, None, Some("\"e2\"")),
                ),
                case("put::b", Verdict::Pass, refused()),
            ],
            vec![],
        );
        let reqs = requirements(vec![
            requirement("R-A", &["put::a"], &[]),
            requirement("R-B", &["put::b"], &[]),
        ]);
        let cert = judge_all(&reqs, &ev);
        assert_eq!(cert.verdict, Overall::NotConformant);
        assert_eq!(verdict_of(&cert, "R-A").verdict, State::Violated);
        assert_eq!(verdict_of(&cert, "R-B").verdict, State::Holds);
        let ex = verdict_of(&cert, "R-A").cases[0].decisive.clone().unwrap();
        assert_eq!(ex.request_line(), "PutObject k  If-None-Match: *");
        assert_eq!(ex.answer_line(), "200 ETag \"e2\"");
    }

    /// The summary table's row says what the certificate says, and links each violated promise
    /// to the anchor its page gives it (built here, where certificates are made from evidence).
    #[test]
    fn the_summary_row_is_the_certificate_and_links_to_its_proofs() {
        use crate::certify::{render_html, summary};
        let fail = Verdict::Fail {
            mismatches: vec![Mismatch {
                step: 1,
                field: "status".into(),
                expected: "412".into(),
                observed: "200".into(),
            }],
        };
        let ev = evidence(
            vec![
                case(
                    "put::a",
                    fail,
                    Observation::answered(200, None, Some("\"e2\"")),
                ),
                case("put::b", Verdict::Pass, refused()),
            ],
            vec![campaign("storm", CampaignKind::SafeCreate, vec![], 8)],
        );
        let reqs = requirements(vec![
            requirement("R-A", &["put::a"], &[]),
            requirement("R-B", &["put::b"], &[CampaignKind::SafeCreate]),
        ]);
        let cert = judge_all(&reqs, &ev);
        let entry = |link: &str, screenshot| summary::Entry {
            cert: cert.clone(),
            link: link.into(),
            screenshot,
        };
        let table = summary::markdown(&[entry("reports/x", true)]);
        let row = table.lines().nth(2).expect("one row");
        assert!(
            row.contains("![not conformant](reports/x/badge.svg)"),
            "{row}"
        );
        assert!(
            row.contains("[R-A](reports/x/certificate.html#v-R-A)"),
            "{row}"
        );
        assert!(!row.contains("#v-R-B"), "{row}");
        // R-B rests on a campaign over the ambiguity threshold: not established.
        assert!(row.contains("| 0 / 1 / 1 / 0 |"), "{row}");
        assert!(row.contains("| storm (2.0%) |"), "{row}");
        assert!(
            row.contains("[screenshot](reports/x/screenshot.png)"),
            "{row}"
        );
        assert!(render_html::html(&cert).contains("id=\"v-R-A\""));
        // Without a folder the links are the files' names; without a screenshot, none is linked.
        let bare = summary::markdown(&[entry("", false)]);
        assert!(bare.contains("[R-A](certificate.html#v-R-A)") && !bare.contains("screenshot"));
    }

    #[test]
    fn ambiguous_answers_never_violate_but_too_many_make_it_inconclusive() {
        let mut ambiguous = Observation::answered(500, Some("InternalError"), None);
        ambiguous.outcome = Outcome::Ambiguous(AmbiguityCause::ServerError { status: 500 });
        let error = Verdict::Error {
            message: "step 1: ambiguous answer".into(),
        };
        let ev = evidence(vec![case("put::a", error, ambiguous)], vec![]);
        let reqs = requirements(vec![requirement("R-A", &["put::a"], &[])]);
        let cert = judge_all(&reqs, &ev);
        assert_eq!(verdict_of(&cert, "R-A").verdict, State::NotEstablished);
        // 1 of 2 answers: far above the threshold.
        assert!(cert.ambiguity.suite.over);
        assert_eq!(cert.verdict, Overall::Inconclusive);
        // A campaign with 1% ambiguous is at the threshold, not over it; 2% is over.
        let ev = evidence(
            vec![case("put::a", Verdict::Pass, refused())],
            vec![campaign("storm", CampaignKind::SafeCreate, vec![], 4)],
        );
        let reqs = requirements(vec![requirement(
            "R-A",
            &["put::a"],
            &[CampaignKind::SafeCreate],
        )]);
        assert_eq!(judge_all(&reqs, &ev).verdict, Overall::Conformant);
        let ev = evidence(
            vec![case("put::a", Verdict::Pass, refused())],
            vec![campaign("storm", CampaignKind::SafeCreate, vec![], 8)],
        );
        let cert = judge_all(&reqs, &ev);
        assert_eq!(cert.verdict, Overall::Inconclusive);
        assert_eq!(verdict_of(&cert, "R-A").verdict, State::NotEstablished);
    }

    #[test]
    fn observed_cases_never_establish_and_an_unjudged_case_makes_it_partial() {
        let ev = evidence(
            vec![
                case("put::seen", Verdict::Observed, refused()),
                case(
                    "put::err",
                    Verdict::Error {
                        message: "setup step failed".into(),
                    },
                    refused(),
                ),
                case("put::ok", Verdict::Pass, refused()),
            ],
            vec![],
        );
        let mut untestable = requirement("R-NT", &[], &[]);
        untestable.not_testable = Some("durability across regions".into());
        let reqs = requirements(vec![
            requirement("R-SEEN", &["put::seen"], &[]),
            requirement("R-ERR", &["put::err", "put::ok"], &[]),
            untestable,
        ]);
        let cert = judge_all(&reqs, &ev);
        assert_eq!(verdict_of(&cert, "R-SEEN").verdict, State::NotApplicable);
        assert_eq!(verdict_of(&cert, "R-ERR").verdict, State::NotEstablished);
        assert_eq!(verdict_of(&cert, "R-NT").verdict, State::NotEstablished);
        assert_eq!(cert.counts.not_testable, 1);
        assert_eq!(cert.verdict, Overall::Partial);
        assert!(cert.because.contains("R-ERR") && !cert.because.contains("R-NT"));
    }

    /// `r` with these `refuted_by` entries.
    fn refuted_by(mut r: Requirement, entries: &[&str]) -> Requirement {
        r.refuted_by = entries.iter().map(|e| e.parse().unwrap()).collect();
        r
    }

    /// The promises of the kinds a requirements file holds: a read promise, a safe-create one
    /// (its own storm and the mix), a compare-and-swap one, and linearizability as a whole.
    fn promises() -> Requirements {
        use CampaignKind::{Cas, Mix, SafeCreate};
        requirements(vec![
            refuted_by(
                requirement("R-READ", &["put::ok"], &[Mix]),
                &[
                    "stale-read",
                    "phantom-304",
                    "phantom-404",
                    "garbage-read",
                    "phantom-412(If-Match)",
                ],
            ),
            refuted_by(
                requirement("R-CREATE", &["put::ok"], &[SafeCreate, Mix]),
                &[
                    "double-create",
                    "ignored-precondition(If-None-Match)",
                    "phantom-412(If-None-Match)",
                ],
            ),
            refuted_by(
                requirement("R-CAS", &[], &[Cas]),
                &[
                    "lost-update",
                    "ignored-precondition(If-Match)",
                    "phantom-412(If-Match)",
                ],
            ),
            refuted_by(
                requirement("R-LIN", &[], &[Mix]),
                &AnomalyKind::ALL.map(AnomalyKind::name),
            ),
        ])
    }

    /// The certificate of the promises with `findings` in the default mix and a clean storm of
    /// each narrow kind.
    fn with_mix(findings: Vec<Finding>) -> Certificate {
        let ev = evidence(
            vec![case("put::ok", Verdict::Pass, refused())],
            vec![
                campaign("mix", CampaignKind::Mix, findings, 0),
                campaign("storm", CampaignKind::SafeCreate, vec![], 0),
                campaign("rmw", CampaignKind::Cas, vec![], 0),
            ],
        );
        judge_all(&promises(), &ev)
    }

    fn states(cert: &Certificate) -> Vec<(&str, State)> {
        cert.requirements
            .iter()
            .map(|r| (r.id.as_str(), r.verdict))
            .collect()
    }

    #[test]
    fn a_double_create_violates_safe_create_and_leaves_a_read_promise_unproven() {
        let cert = with_mix(vec![finding("double-create", Some("If-None-Match"))]);
        assert_eq!(
            states(&cert),
            [
                ("R-READ", State::NotEstablished),
                ("R-CREATE", State::Violated),
                ("R-CAS", State::Holds),
                ("R-LIN", State::Violated),
            ]
        );
        // Found by the mix, it disproves a promise that rests on the safe-create storm too.
        let create = verdict_of(&cert, "R-CREATE");
        assert!(
            create.because.contains("mix (double-create)"),
            "{}",
            create.because
        );
        let read = verdict_of(&cert, "R-READ");
        assert!(
            read.because
                .contains("campaign mix is anomalous (double-create, none of which disproves it)"),
            "{}",
            read.because
        );
        assert!(read.campaigns.iter().all(|c| c.witnesses.is_empty()));
    }

    #[test]
    fn a_stale_read_violates_the_read_promise_and_not_the_write_ones() {
        let cert = with_mix(vec![finding("stale-read", None)]);
        assert_eq!(
            states(&cert),
            [
                ("R-READ", State::Violated),
                ("R-CREATE", State::NotEstablished),
                ("R-CAS", State::Holds),
                ("R-LIN", State::Violated),
            ]
        );
        assert_eq!(
            verdict_of(&cert, "R-READ").campaigns[0].witnesses[0]
                .witness
                .kind,
            "stale-read"
        );
    }

    #[test]
    fn a_lost_update_violates_compare_and_swap_wherever_it_was_found() {
        let cert = with_mix(vec![finding("lost-update", Some("If-Match"))]);
        assert_eq!(
            states(&cert),
            [
                ("R-READ", State::NotEstablished),
                ("R-CREATE", State::NotEstablished),
                ("R-CAS", State::Violated),
                ("R-LIN", State::Violated),
            ]
        );
    }

    /// An ignored precondition, a phantom 412 and a spurious 409 disprove the promise of the
    /// condition the convicted request carried, and only that one.
    #[test]
    fn precondition_anomalies_are_narrowed_to_their_condition() {
        let violated = |kind: &str, condition: Option<&str>| -> Vec<&'static str> {
            let cert = with_mix(vec![finding(kind, condition)]);
            ["R-READ", "R-CREATE", "R-CAS", "R-LIN"]
                .into_iter()
                .filter(|id| verdict_of(&cert, id).verdict == State::Violated)
                .collect()
        };
        assert_eq!(
            violated("ignored-precondition", Some("If-None-Match")),
            ["R-CREATE", "R-LIN"]
        );
        assert_eq!(
            violated("ignored-precondition", Some("If-Match")),
            ["R-CAS", "R-LIN"]
        );
        assert_eq!(
            violated("phantom-412", Some("If-Match")),
            ["R-READ", "R-CAS", "R-LIN"]
        );
        assert_eq!(
            violated("phantom-412", Some("If-None-Match")),
            ["R-CREATE", "R-LIN"]
        );
        // A spurious 409 refutes only what lists it: here, linearizability as a whole.
        assert_eq!(violated("spurious-409", Some("If-None-Match")), ["R-LIN"]);
        // A precondition anomaly whose culprit carried no condition matches no narrowed entry.
        assert_eq!(violated("phantom-412", None), ["R-LIN"]);
    }

    /// A promise about one operation is disproved only by a witness that convicts that
    /// operation alone: the same anomaly on another operation, or on a mix of two, leaves it
    /// unproven (the mix is anomalous), never violated.
    #[test]
    fn operation_narrowed_promises_are_violated_only_by_their_operation() {
        use CampaignKind::{Cas, Mix};
        use Operation::{CompleteMultipartUpload as Cmu, CopyObject, PutObject};
        let reqs = requirements(vec![
            refuted_by(
                requirement("R-PUT-CAS", &[], &[Cas, Mix]),
                &[
                    "lost-update(PutObject)",
                    "ignored-precondition(PutObject If-Match)",
                ],
            ),
            refuted_by(
                requirement("R-CMU-CAS", &[], &[Mix]),
                &[
                    "lost-update(CompleteMultipartUpload)",
                    "ignored-precondition(CompleteMultipartUpload If-Match)",
                ],
            ),
            refuted_by(
                requirement("R-WRITES-CAS", &[], &[Mix]),
                &["lost-update", "ignored-precondition(If-Match)"],
            ),
        ]);
        let judged = |findings: Vec<Finding>| {
            let ev = evidence(
                vec![],
                vec![
                    campaign("mix", Mix, findings, 0),
                    campaign("rmw", Cas, vec![], 0),
                ],
            );
            let cert = judge_all(&reqs, &ev);
            states(&cert)
                .into_iter()
                .map(|(id, s)| (id.to_owned(), s))
                .collect::<Vec<_>>()
        };
        let expect = |put, cmu, all| {
            vec![
                ("R-PUT-CAS".to_owned(), put),
                ("R-CMU-CAS".to_owned(), cmu),
                ("R-WRITES-CAS".to_owned(), all),
            ]
        };
        use State::{NotEstablished as Unproven, Violated};
        assert_eq!(
            judged(vec![finding_on(
                "lost-update",
                Some("If-Match"),
                &[PutObject]
            )]),
            expect(Violated, Unproven, Violated)
        );
        assert_eq!(
            judged(vec![finding_on(
                "ignored-precondition",
                Some("If-Match"),
                &[Cmu]
            )]),
            expect(Unproven, Violated, Violated)
        );
        // One of two operations broke its promise; the witness cannot say which.
        assert_eq!(
            judged(vec![finding_on(
                "lost-update",
                Some("If-Match"),
                &[Cmu, PutObject]
            )]),
            expect(Unproven, Unproven, Violated)
        );
        // A CopyObject's lost update breaks neither operation's own promise.
        assert_eq!(
            judged(vec![finding_on(
                "lost-update",
                Some("If-Match"),
                &[CopyObject]
            )]),
            expect(Unproven, Unproven, Violated)
        );
        // No convicted operation recorded: only the unnarrowed promise counts it.
        assert_eq!(
            judged(vec![finding_on("lost-update", Some("If-Match"), &[])]),
            expect(Unproven, Unproven, Violated)
        );
        // The rule is on the certificate, as the requirements file states it.
        let ev = evidence(vec![], vec![campaign("mix", Mix, vec![], 0)]);
        let cert = judge_all(&reqs, &ev);
        let rule: Vec<String> = verdict_of(&cert, "R-CMU-CAS")
            .refuted_by
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            rule,
            [
                "lost-update(CompleteMultipartUpload)",
                "ignored-precondition(CompleteMultipartUpload If-Match)"
            ]
        );
    }

    /// The endpoint stopped answering during the default mix: the cases judged before stand,
    /// promises resting on the unfinished campaigns are not established, and the certificate is
    /// inconclusive and says where it stopped; a violation found before the stop stands.
    #[test]
    fn a_stopped_run_is_inconclusive_and_keeps_what_was_established() {
        use CampaignKind::{Cas, Mix};
        let reqs = requirements(vec![
            requirement("R-CASE", &["put::ok"], &[]),
            refuted_by(requirement("R-CAS", &["put::ok"], &[Cas]), &["lost-update"]),
            refuted_by(requirement("R-MIX", &[], &[Mix]), &["lost-update"]),
            requirement("R-LATE", &["put::late"], &[]),
        ]);
        let mut stopped_mix = campaign("mix", Mix, vec![], 0);
        stopped_mix.checker = CheckerVerdict::Failed;
        stopped_mix.detail = Some("stopped after 12 ops".into());
        let mut ev = evidence(
            vec![
                case("put::ok", Verdict::Pass, refused()),
                case(
                    "put::late",
                    Verdict::Error {
                        message: "step 0: not sent: the endpoint stopped answering".into(),
                    },
                    refused(),
                ),
            ],
            vec![campaign("rmw", Cas, vec![], 0), stopped_mix],
        );
        ev.stopped = Some(Stop {
            reason: "the endpoint stopped answering (no response for 2 s)".into(),
            during: "campaign mix".into(),
            cases_unjudged: 1,
            campaigns_unfinished: vec!["mix".into(), "sparse".into()],
        });
        let cert = judge_all(&reqs, &ev);
        assert_eq!(
            states(&cert),
            [
                ("R-CASE", State::Holds),
                ("R-CAS", State::Holds),
                ("R-MIX", State::NotEstablished),
                ("R-LATE", State::NotEstablished),
            ]
        );
        assert_eq!(cert.verdict, Overall::Inconclusive);
        assert!(
            cert.because.contains("during campaign mix")
                && cert.because.contains("mix, sparse")
                && cert.stopped.is_some(),
            "{}",
            cert.because
        );
        // A case that failed before the stop still violates its promise.
        ev.cases[0].verdict = Verdict::Fail {
            mismatches: vec![Mismatch {
                step: 1,
                field: "status".into(),
                expected: "412".into(),
                observed: "200".into(),
            }],
        };
        let cert = judge_all(&reqs, &ev);
        assert_eq!(cert.verdict, Overall::NotConformant);
        assert!(cert.because.contains("did not finish"), "{}", cert.because);
    }

    /// The endpoint's `Server` header is read from the suite's answers, most frequent first.
    #[test]
    fn the_server_identity_is_what_most_answers_said() {
        let with_server = |name: &str, server: &str| {
            let mut c = case(name, Verdict::Pass, refused());
            for s in &mut c.steps {
                for o in &mut s.observations {
                    o.headers.insert("server".into(), server.into());
                }
            }
            c
        };
        let ev = evidence(
            vec![
                with_server("put::a", "SeaweedFS 8000GB 4.48"),
                with_server("put::b", "SeaweedFS 8000GB 4.48"),
                with_server("put::c", "nginx"),
            ],
            vec![],
        );
        let reqs = requirements(vec![requirement("R-A", &["put::a"], &[])]);
        let server = judge_all(&reqs, &ev).server.expect("a Server header");
        assert_eq!(
            (
                server.header.as_str(),
                server.product.as_str(),
                server.version.as_deref()
            ),
            ("SeaweedFS 8000GB 4.48", "SeaweedFS", Some("4.48"))
        );
        assert_eq!((server.answers, server.of), (4, 6));
        assert_eq!(server.others, ["nginx"]);
        let ev = evidence(vec![case("put::a", Verdict::Pass, refused())], vec![]);
        assert_eq!(judge_all(&reqs, &ev).server, None);
    }

    #[test]
    fn clean_campaigns_leave_every_promise_holding() {
        let cert = with_mix(vec![]);
        assert!(
            cert.requirements.iter().all(|r| r.verdict == State::Holds),
            "{:?}",
            states(&cert)
        );
        assert_eq!(cert.verdict, Overall::Conformant);
    }

    /// The certificate's JSON is the contract for readers and `--verify`: a change of shape
    /// must be deliberate.
    #[test]
    fn the_certificate_model_is_pinned() {
        let ev = evidence(
            vec![
                case(
                    "put::a",
                    Verdict::Fail {
                        mismatches: vec![Mismatch {
                            step: 1,
                            field: "status".into(),
                            expected: "412".into(),
                            observed: "200".into(),
                        }],
                    },
                    Observation::answered(200, None, Some("\"e2\"")),
                ),
                case("get::extra", Verdict::Pass, refused()),
            ],
            vec![campaign(
                "safe-create-storm",
                CampaignKind::SafeCreate,
                vec![finding("double-create", Some("If-None-Match"))],
                0,
            )],
        );
        let reqs = requirements(vec![refuted_by(
            requirement("R-CREATE", &["put::a"], &[CampaignKind::SafeCreate]),
            &["double-create"],
        )]);
        let json = serde_json::to_string_pretty(&judge_all(&reqs, &ev)).unwrap();
        insta::assert_snapshot!(json);
    }
}
