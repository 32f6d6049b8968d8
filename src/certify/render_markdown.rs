//! `certificate.md`: the certificate as Markdown, for a pull request, an issue or a README.
//! Violations come first, each with the exchange or the witness that proves it.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::model::{CaseResult, Certificate, RequirementResult, State};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn case_evidence(out: &mut String, c: &CaseResult) {
    let _ = writeln!(
        out,
        "- case `{}` ({}): {}",
        c.case, c.outcome, c.description
    );
    if let Some(ex) = &c.condition {
        let _ = writeln!(
            out,
            "  - conditional request (step {}): `{}`",
            ex.step,
            ex.request_line()
        );
        let _ = writeln!(out, "  - answer: `{}`", ex.answer_line());
    }
    if let Some(ex) = &c.decisive {
        let _ = writeln!(
            out,
            "  - request (step {}): `{}`",
            ex.step,
            ex.request_line()
        );
        let _ = writeln!(out, "  - answer: `{}`", ex.answer_line());
    }
    for m in &c.mismatches {
        let _ = writeln!(
            out,
            "  - step {} {}: expected `{}`, observed `{}`",
            m.step, m.field, m.expected, m.observed
        );
    }
    if let Some(msg) = &c.message {
        let _ = writeln!(out, "  - {msg}");
    }
}

/// The witnesses and failed cases the page has shown in full: one that proves several promises
/// is shown under the first and named under the others, so one fault breaking dozens of promises
/// does not repeat the same proof dozens of times.
#[derive(Default)]
struct Shown {
    /// Case id, and the requirement it is shown under.
    cases: HashMap<String, String>,
    /// (campaign, kind, key), and the requirement it is shown under.
    witnesses: HashMap<(String, String, String), String>,
}

fn violation(out: &mut String, r: &RequirementResult, shown: &mut Shown) {
    let _ = writeln!(out, "### {} (violated)\n", r.id);
    let _ = writeln!(out, "> {}\n", r.statement);
    let _ = writeln!(out, "Source: {}. {}\n", r.source, r.because);
    if let Some(rule) = super::render_html::rule(r) {
        let _ = writeln!(out, "{rule}\n");
    }
    let failed = r.cases.iter().filter(|c| c.failed()).count();
    if let Some(note) = super::render_html::campaign_only(r, failed) {
        let _ = writeln!(out, "*{note}*\n");
    }
    for c in r.cases.iter().filter(|c| c.failed()) {
        match shown.cases.get(&c.case) {
            Some(under) => {
                let exchange = c
                    .decisive
                    .as_ref()
                    .map(|ex| format!(": `{}` answered `{}`", ex.request_line(), ex.answer_line()))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "- case `{}` ({}){exchange}; shown in full under {under}",
                    c.case, c.outcome
                );
            }
            None => {
                shown.cases.insert(c.case.clone(), r.id.clone());
                case_evidence(out, c);
            }
        }
    }
    // The first witness of each anomaly kind; the rest are in certificate.json.
    let mut kinds: Vec<&str> = Vec::new();
    let mut rest = 0;
    for c in &r.campaigns {
        for f in &c.witnesses {
            let w = &f.witness;
            if kinds.contains(&w.kind.as_str()) {
                rest += 1;
                continue;
            }
            kinds.push(&w.kind);
            let key = (c.campaign.clone(), w.kind.clone(), w.key.clone());
            if let Some(under) = shown.witnesses.get(&key) {
                let _ = writeln!(
                    out,
                    "- campaign `{}`: {} on `{}`; the witness is shown under {under}",
                    c.campaign, w.kind, w.key
                );
                continue;
            }
            shown.witnesses.insert(key, r.id.clone());
            let _ = writeln!(
                out,
                "- campaign `{}`: {} on `{}`\n\n```text\n{}\n{}\n```",
                c.campaign,
                w.kind,
                w.key,
                w.explanation.trim_end(),
                w.lanes.trim_end()
            );
        }
    }
    if rest > 0 {
        let _ = writeln!(
            out,
            "- {rest} more witness(es) of the same kinds (`certificate.json`, `certificate.html`)"
        );
    }
    out.push('\n');
}

/// The Markdown page.
pub fn markdown(cert: &Certificate) -> String {
    let b = &cert.basis;
    let mut out = String::new();
    let _ = writeln!(out, "# Certificate: {}\n", cert.title);
    let c = &cert.counts;
    // The overall reason names every violated promise; the count reads at a glance, and the
    // names head the section of proofs.
    let because = if c.violated > 0 {
        format!(
            "{} of its {} documented promises violated",
            c.violated,
            cert.requirements.len()
        )
    } else {
        cert.because.clone()
    };
    let _ = writeln!(
        out,
        "**Verdict: {}**: endpoint `{}` ({}{}), profile `{}`, level {}: {because}.\n",
        cert.verdict.words().to_uppercase(),
        b.endpoint.url,
        b.endpoint.label,
        cert.server
            .as_ref()
            .map(|s| format!("; it answers `Server: {}`", s.header))
            .unwrap_or_default(),
        b.profile,
        b.level.name()
    );
    if let Some(stop) = &cert.stopped {
        let _ = writeln!(
            out,
            "**The run did not finish**: {} during {}. {} case(s) could not be judged; campaigns not run to their end: {}. What was answered before stands; every promise that rested on the rest is not established.\n",
            stop.reason,
            stop.during,
            stop.cases_unjudged,
            if stop.campaigns_unfinished.is_empty() {
                "none".to_owned()
            } else {
                stop.campaigns_unfinished.join(", ")
            }
        );
    }
    let _ = writeln!(
        out,
        "Of {} documented promises: {} hold, {} violated, {} not established, {} not applicable, {} not testable from outside. Judged against {} (`{}`, SHA-256 `{}`); `s3conform certify --verify certificate.json` recomputes every verdict from `{}`.\n",
        cert.requirements.len(),
        c.holds,
        c.violated,
        c.not_established,
        c.not_applicable,
        c.not_testable,
        b.requirements.title,
        b.requirements.origin,
        b.requirements.digest,
        cert.evidence.file
    );
    let mut violated: Vec<_> = cert
        .requirements
        .iter()
        .filter(|r| r.verdict == State::Violated)
        .collect();
    // A failed case's single exchange is the plainest proof: those promises come first.
    violated.sort_by_key(|r| !r.cases.iter().any(|c| c.failed()));
    if !violated.is_empty() {
        let _ = writeln!(
            out,
            "## Violated promises\n\n{}.\n",
            violated
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut shown = Shown::default();
        for r in violated {
            violation(&mut out, r, &mut shown);
        }
    }
    out.push_str(
        "## Requirements\n\n| id | verdict | promise | source | why | refuted by (campaign anomalies) |\n|---|---|---|---|---|---|\n",
    );
    for r in &cert.requirements {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.id,
            r.verdict.words(),
            cell(&r.statement),
            cell(&r.source),
            cell(&r.because),
            r.refuted_by
                .iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out.push_str("\n## Campaigns\n\n| campaign | writers | keys | ops | 412 | 409 | ambiguous | checker | check time |\n|---|---:|---:|---:|---:|---:|---:|---|---:|\n");
    for c in &cert.campaigns {
        let _ = writeln!(
            out,
            "| {} (seed {}, mix `{}`) | {} | {} | {} | {} | {} | {} | {} | {} ms |",
            c.id,
            c.seed,
            c.mix,
            c.writers,
            c.keys,
            c.ops,
            c.precondition_failed,
            c.conflicts,
            c.ambiguous,
            c.checker.name(),
            c.check_ms
        );
    }
    let a = &cert.ambiguity;
    let _ = writeln!(
        out,
        "\nAmbiguous answers (threshold {:.0}%): suite {} of {} ({:.2}%){}.\n",
        a.threshold * 100.0,
        a.suite.ambiguous,
        a.suite.answers,
        a.suite.rate * 100.0,
        a.campaigns
            .iter()
            .map(|r| format!(
                "; {} {} of {} ({:.2}%)",
                r.of,
                r.ambiguous,
                r.answers,
                r.rate * 100.0
            ))
            .collect::<String>()
    );
    let failed_extras: Vec<_> = cert.failed_extras().collect();
    let _ = writeln!(
        out,
        "## Beyond the documents\n\n{} case(s) establish no promise of these documents; {} of them failed (shown for information; they do not change the verdict).\n",
        cert.extras.len(),
        failed_extras.len()
    );
    for e in failed_extras {
        case_evidence(&mut out, &e.case);
    }
    let _ = writeln!(
        out,
        "\n## What this rests on\n\n| | |\n|---|---|\n| tool | s3conform {} |\n| profile | {} |\n| requirements | {} (`{}`, SHA-256 `{}`) |\n| endpoint | {} ({}) |\n| server | {} |\n| bucket, region | {}, {} |\n| run prefix | `{}` |\n| started, finished | {}, {} |\n| level | {}: the suite, then {} |\n| seed | {} (`--seed {}` replays the campaigns) |\n| evidence | `{}`, SHA-256 `{}` |\n",
        b.tool_version,
        b.profile,
        b.requirements.title,
        b.requirements.origin,
        b.requirements.digest,
        b.endpoint.url,
        b.endpoint.label,
        cert.server.as_ref().map_or_else(
            || "no answer carried a `Server` header".to_owned(),
            |s| {
                let others = s
                    .others
                    .iter()
                    .map(|o| format!("`{}`", cell(o)))
                    .collect::<Vec<_>>();
                let others = if others.is_empty() {
                    String::new()
                } else {
                    format!("; others: {}", others.join(", "))
                };
                format!(
                    "`{}`{}, on {} of {} answers{others}",
                    cell(&s.header),
                    s.version_note(),
                    s.answers,
                    s.of
                )
            }
        ),
        b.bucket,
        b.region,
        b.run_prefix,
        b.started_at,
        b.finished_at,
        b.level.name(),
        b.plan
            .iter()
            .map(|p| p.describe())
            .collect::<Vec<_>>()
            .join("; "),
        b.seed,
        b.seed,
        cert.evidence.file,
        cert.evidence.sha256
    );
    out.push_str("Verify with `s3conform certify --verify certificate.json` (recomputes the digest and every verdict from the evidence).\n");
    out
}
