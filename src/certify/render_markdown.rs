//! `certificate.md`: the certificate as Markdown, for a pull request, an issue or a README.
//! Violations come first, each with the exchange or the witness that proves it.

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

fn violation(out: &mut String, r: &RequirementResult) {
    let _ = writeln!(out, "### {} (violated)\n", r.id);
    let _ = writeln!(out, "> {}\n", r.statement);
    let _ = writeln!(out, "Source: {}. {}\n", r.source, r.because);
    for c in r.cases.iter().filter(|c| c.outcome == "fail") {
        case_evidence(out, c);
    }
    for c in &r.campaigns {
        for f in &c.witnesses {
            let w = &f.witness;
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
    out.push('\n');
}

/// The Markdown page.
pub fn markdown(cert: &Certificate) -> String {
    let b = &cert.basis;
    let mut out = String::new();
    let _ = writeln!(out, "# Certificate: {}\n", cert.title);
    let _ = writeln!(
        out,
        "**Verdict: {}** under profile `{}`: {}.\n",
        cert.verdict.words().to_uppercase(),
        b.profile,
        cert.because
    );
    let c = &cert.counts;
    let _ = writeln!(
        out,
        "Requirements: {} hold, {} violated, {} not established, {} not applicable, {} not testable.\n",
        c.holds, c.violated, c.not_established, c.not_applicable, c.not_testable
    );
    let mut violated: Vec<_> = cert
        .requirements
        .iter()
        .filter(|r| r.verdict == State::Violated)
        .collect();
    // A failed case's single exchange is the plainest proof: those promises come first.
    violated.sort_by_key(|r| !r.cases.iter().any(|c| c.outcome == "fail"));
    if !violated.is_empty() {
        out.push_str("## Violated promises\n\n");
        for r in violated {
            violation(&mut out, r);
        }
    }
    out.push_str(
        "## Requirements\n\n| id | verdict | promise | source | why |\n|---|---|---|---|---|\n",
    );
    for r in &cert.requirements {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            r.id,
            r.verdict.words(),
            cell(&r.statement),
            cell(&r.source),
            cell(&r.because)
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
    let failed_extras: Vec<_> = cert
        .extras
        .iter()
        .filter(|e| e.case.outcome == "fail")
        .collect();
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
        "\n## What this rests on\n\n| | |\n|---|---|\n| tool | s3conform {} |\n| profile | {} |\n| requirements | {} (`{}`, SHA-256 `{}`) |\n| endpoint | {} ({}) |\n| bucket, region | {}, {} |\n| run prefix | `{}` |\n| started, finished | {}, {} |\n| level | {}: the suite, then {} |\n| seed | {} (`--seed {}` replays the campaigns) |\n| evidence | `{}`, SHA-256 `{}` |\n",
        b.tool_version,
        b.profile,
        b.requirements.title,
        b.requirements.origin,
        b.requirements.digest,
        b.endpoint.url,
        b.endpoint.label,
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
