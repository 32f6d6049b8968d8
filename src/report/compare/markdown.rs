//! The comparison as Markdown (`reports/COMPARISON.md`): summary, matrix, then the evidence.

use std::fmt::Write as _;

use super::matrix::{CellKind, Matrix};
use super::table::LEGEND;
use crate::report::markdown::{cell, table};
use crate::report::model::Verdict;
use crate::report::text;

/// Renders the comparison.
pub fn render(matrix: &Matrix) -> String {
    let mut out = String::from("# s3conform vendor comparison\n\n");
    out.push_str("## Endpoints\n\n");
    let rows: Vec<Vec<String>> = matrix
        .endpoints
        .iter()
        .map(|e| {
            let s = &e.summary;
            vec![
                format!("**{}**", cell(&e.name)),
                format!("`{}`", e.profile),
                format!("`{}`", cell(&e.url)),
                format!("`{}`", cell(&e.source.display().to_string())),
                s.passed.to_string(),
                s.failed.to_string(),
                s.errored.to_string(),
                s.skipped.to_string(),
                s.observed.to_string(),
                s.known.to_string(),
                s.not_run.to_string(),
                s.fuzz_ops.to_string(),
                s.anomalies_cell(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "endpoint",
            "profile",
            "url",
            "report",
            "passed",
            "failed",
            "errored",
            "skipped",
            "observed",
            "known",
            "not run",
            "fuzz ops",
            "anomalies",
        ],
        4,
        &rows,
    ));

    out.push_str("\n## Matrix\n\n");
    let mut header = vec!["case"];
    header.extend(matrix.endpoints.iter().map(|e| e.name.as_str()));
    let header: Vec<String> = header.iter().map(|h| cell(h)).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = matrix
        .rows
        .iter()
        .map(|r| {
            std::iter::once(format!("`{}`", cell(&r.case)))
                .chain(r.cells.iter().map(|c| cell(&c.text)))
                .collect()
        })
        .collect();
    out.push_str(&table(&header, usize::MAX, &rows));
    let _ = writeln!(out, "\n{}", cell(LEGEND));

    let mut findings = String::new();
    for (ri, row) in matrix.rows.iter().enumerate() {
        for (ci, c) in row.cells.iter().enumerate() {
            if !matches!(c.kind, CellKind::Fail | CellKind::Error) {
                continue;
            }
            let Some(case) = matrix.case(ri, ci) else {
                continue;
            };
            let endpoint = &matrix.endpoints[ci];
            let _ = writeln!(
                findings,
                "\n### `{}` on {}: {}\n",
                cell(&row.case),
                cell(&endpoint.name),
                text::outcome_word(case)
            );
            let _ = writeln!(
                findings,
                "{} (source: {})\n",
                cell(&row.description),
                cell(&row.source)
            );
            match &case.verdict {
                Verdict::Fail { mismatches } => {
                    for m in mismatches {
                        let _ = writeln!(findings, "- {}", cell(&text::mismatch_line(m)));
                    }
                }
                Verdict::Error { message } => {
                    let _ = writeln!(findings, "- error: {}", cell(message));
                }
                Verdict::Pass | Verdict::Observed | Verdict::Skipped { .. } => {}
            }
            if !case.steps.is_empty() {
                findings.push_str("\n```text\n");
                for s in &case.steps {
                    let _ = writeln!(findings, "{}", text::step_line(s));
                }
                findings.push_str("```\n");
            }
        }
    }
    if !findings.is_empty() {
        out.push_str("\n## Failures\n");
        out.push_str(&findings);
    }

    let failed: Vec<Vec<String>> = matrix
        .failed_campaigns()
        .map(|(e, f)| {
            vec![
                cell(&e.name),
                cell(f.campaign.as_deref().unwrap_or_default()),
                cell(f.error.as_deref().unwrap_or("no reason recorded")),
                f.seed.to_string(),
                f.writers.to_string(),
            ]
        })
        .collect();
    if !failed.is_empty() {
        out.push_str("\n## Fuzz campaigns that failed to run\n\n");
        out.push_str(&table(
            &["endpoint", "campaign", "why", "seed", "writers"],
            3,
            &failed,
        ));
    }

    let mut anomalies = String::new();
    for e in &matrix.endpoints {
        for f in &e.report.fuzz {
            for a in &f.anomalies {
                let _ = writeln!(
                    anomalies,
                    "\n### {}: `{}` on `{}` (seed {}, {} writers, {} ops{})\n",
                    cell(&e.name),
                    cell(&a.kind),
                    cell(&a.key),
                    f.seed,
                    f.writers,
                    f.ops,
                    f.campaign
                        .as_deref()
                        .map(|c| format!(", {}", cell(c)))
                        .unwrap_or_default()
                );
                let _ = writeln!(anomalies, "```text\n{}\n```", a.explanation.trim_end());
                if !a.lanes.is_empty() {
                    let _ = writeln!(anomalies, "\n```text\n{}\n```", a.lanes.trim_end());
                }
            }
        }
    }
    if !anomalies.is_empty() {
        out.push_str("\n## Fuzz anomalies\n");
        out.push_str(&anomalies);
    }
    out
}
