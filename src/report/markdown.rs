//! The `--markdown` sink: a report a vendor can publish or a reviewer can read in a PR.
//!
//! A header, the summary table by operation, one table of cases per operation, then the details
//! of every case that did not simply pass (mismatches and the steps behind them) and the fuzz
//! campaigns with their witnesses.

use std::fmt::Write as _;

use super::model::{BaselineMark, CaseReport, RunReport, Verdict};
use super::text;

/// Escapes text for a Markdown table cell: pipes, line breaks and HTML-looking brackets.
pub fn cell(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

/// A Markdown table from a header and rows (already escaped).
pub fn table(header: &[&str], align_right_from: usize, rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n|", header.join(" | "));
    for i in 0..header.len() {
        out.push_str(if i >= align_right_from {
            "---:|"
        } else {
            "---|"
        });
    }
    out.push('\n');
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out
}

/// Writes the Markdown report to `path`.
pub fn write(report: &RunReport, path: &std::path::Path) -> Result<(), super::ReportError> {
    super::files::write(path, &render(report))
}

/// Renders the whole report.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# s3conform run: {}\n", cell(&report.endpoint.label));
    let _ = writeln!(out, "- Endpoint: `{}`", report.endpoint.url);
    if report.endpoint.embedded {
        let _ = writeln!(out, "  (the embedded reference endpoint)");
    }
    if let Some(at) = &report.location {
        let _ = writeln!(
            out,
            "- Bucket: `{}`, run prefix `{}`",
            at.bucket, at.run_prefix
        );
    }
    let _ = writeln!(out, "- Profile: `{}`", report.profile);
    let _ = writeln!(out, "- Started: {}", report.started_at);
    let _ = writeln!(out, "- Duration: {}", text::duration(report.duration_ms));
    let _ = writeln!(out, "- s3conform: {}\n", report.tool_version);
    let _ = writeln!(out, "**{}**\n", cell(&text::summary_line(report)));

    out.push_str("## Summary\n\n");
    let mut header = vec!["operation"];
    header.extend(text::COUNT_HEADERS);
    let mut rows: Vec<Vec<String>> = text::by_operation(report)
        .into_iter()
        .map(|(op, cases)| {
            let c = text::tally(cases.iter().copied());
            std::iter::once(format!("`{}`", cell(op)))
                .chain(text::count_cells(&c).map(|n| n.to_string()))
                .collect()
        })
        .collect();
    rows.push(
        std::iter::once("**total**".to_owned())
            .chain(text::count_cells(&report.counts()).map(|n| format!("**{n}**")))
            .collect(),
    );
    out.push_str(&table(&header, 1, &rows));

    out.push_str("\n## Cases\n");
    for (op, cases) in text::by_operation(report) {
        let _ = writeln!(out, "\n### `{}`\n", cell(op));
        let rows: Vec<Vec<String>> = cases.iter().map(|c| case_row(c)).collect();
        out.push_str(&table(&["case", "result", "details", "source"], 9, &rows));
    }

    let attention: Vec<&CaseReport> = report
        .cases
        .iter()
        .filter(|c| {
            !matches!(
                c.verdict,
                Verdict::Pass | Verdict::Observed | Verdict::Skipped { .. }
            )
        })
        .collect();
    if !attention.is_empty() {
        out.push_str("\n## Failures and errors\n");
        for case in attention {
            details(&mut out, case);
        }
    }
    fuzz(&mut out, report);
    out
}

/// The result column: a symbol a reader can scan, then the word.
fn result_cell(case: &CaseReport) -> String {
    let symbol = match (&case.verdict, &case.baseline) {
        (Verdict::Fail { .. } | Verdict::Error { .. }, Some(BaselineMark::Known { .. })) => "⚠️",
        (Verdict::Pass | Verdict::Observed, Some(BaselineMark::Fixed)) => "🎉",
        (Verdict::Observed, _) => "🔎",
        (Verdict::Pass, _) => "✅",
        (Verdict::Fail { .. }, _) => "❌",
        (Verdict::Error { .. }, _) => "💥",
        (Verdict::Skipped { .. }, _) => "⏭️",
    };
    format!("{symbol} {}", text::outcome_word(case))
}

fn case_row(case: &CaseReport) -> Vec<String> {
    let mut details: Vec<String> = Vec::new();
    match &case.verdict {
        Verdict::Fail { mismatches } => {
            details.extend(mismatches.iter().map(|m| cell(&text::mismatch_line(m))));
        }
        Verdict::Error { message } => details.push(cell(message)),
        Verdict::Skipped { reason } => details.push(cell(reason)),
        Verdict::Pass | Verdict::Observed => {}
    }
    details.extend(case.observed.iter().map(|o| {
        cell(&format!(
            "observed: step {} {} = {}",
            o.step, o.field, o.value
        ))
    }));
    if let Some(BaselineMark::Known { reason }) = &case.baseline {
        details.push(format!("baseline: {}", cell(reason)));
    }
    vec![
        format!("`{}`", cell(&case.name)),
        result_cell(case),
        details.join("<br>"),
        cell(&case.source),
    ]
}

fn details(out: &mut String, case: &CaseReport) {
    let _ = writeln!(
        out,
        "\n### `{}`: {}\n",
        cell(&case.name),
        text::outcome_word(case)
    );
    let _ = writeln!(out, "{}\n", cell(&case.description));
    let _ = writeln!(out, "Source: {}\n", cell(&case.source));
    if let Some(BaselineMark::Known { reason }) = &case.baseline {
        let _ = writeln!(out, "Baseline: {}\n", cell(reason));
    }
    match &case.verdict {
        Verdict::Fail { mismatches } => {
            let rows: Vec<Vec<String>> = mismatches
                .iter()
                .map(|m| {
                    vec![
                        m.step.to_string(),
                        cell(&m.field),
                        format!("`{}`", cell(&m.expected)),
                        format!("`{}`", cell(&m.observed)),
                    ]
                })
                .collect();
            out.push_str(&table(&["step", "field", "expected", "observed"], 9, &rows));
        }
        Verdict::Error { message } => {
            let _ = writeln!(out, "Error: {}", cell(message));
        }
        Verdict::Pass | Verdict::Observed | Verdict::Skipped { .. } => {}
    }
    if !case.steps.is_empty() {
        out.push_str("\nSteps:\n\n```text\n");
        for step in &case.steps {
            let _ = writeln!(out, "{}", text::step_line(step));
        }
        out.push_str("```\n");
    }
}

fn fuzz(out: &mut String, report: &RunReport) {
    if report.fuzz.is_empty() {
        return;
    }
    out.push_str("\n## Fuzz campaigns\n\n");
    let rows: Vec<Vec<String>> = report
        .fuzz
        .iter()
        .map(|f| {
            vec![
                cell(&f.verdict),
                f.seed.to_string(),
                f.writers.to_string(),
                f.ops.to_string(),
                f.anomalies.len().to_string(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["verdict", "seed", "writers", "ops", "anomalies"],
        1,
        &rows,
    ));
    for f in &report.fuzz {
        for a in &f.anomalies {
            let _ = writeln!(
                out,
                "\n### `{}` on `{}` (seed {}{})\n",
                cell(&a.kind),
                cell(&a.key),
                f.seed,
                f.campaign
                    .as_deref()
                    .map(|c| format!(", {}", cell(c)))
                    .unwrap_or_default()
            );
            let _ = writeln!(out, "```text\n{}\n```", a.explanation.trim_end());
            if !a.lanes.is_empty() {
                let _ = writeln!(out, "\n```text\n{}\n```", a.lanes.trim_end());
            }
        }
        if let Some(e) = &f.error {
            let _ = writeln!(
                out,
                "\nCampaign of seed {} **failed to run**: {}",
                f.seed,
                cell(e)
            );
        }
        if let Some(h) = &f.history_file {
            let _ = writeln!(out, "\nHistory of seed {}: `{}`", f.seed, cell(h));
        }
    }
}
