//! The terminal summary: what a person watching `s3conform run` reads.
//!
//! A header line, a comfy-table of counts by operation, then the cases that need attention
//! (failures, errors, known failures, fixed baseline entries, observed values), the fuzz
//! campaigns, and a libtest-style result line. The output never contains colour codes, so the
//! same string serves a TTY, a CI log and a snapshot.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

use super::model::{BaselineMark, CaseReport, RunReport, Verdict};
use super::text;

/// The width to render at: the terminal's when stdout is one, else `$COLUMNS`, else 100.
pub fn width() -> u16 {
    if let Some(w) = Table::new().width().filter(|w| *w >= 40) {
        return w;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}

/// Renders the summary to fit `width` columns.
pub fn render(report: &RunReport, width: u16) -> String {
    let w = usize::from(width.max(40));
    let mut out = text::wrap(
        "",
        "  ",
        &format!(
            "s3conform {} against {} ({}) with profile {}, started {}",
            report.tool_version,
            report.endpoint.label,
            report.endpoint.url,
            report.profile,
            report.started_at
        ),
        w,
    );
    out.push('\n');
    out.push_str(&counts_table(report, width));

    section(&mut out, "Failures", w, report, |c| {
        c.is_regression() && matches!(c.verdict, Verdict::Fail { .. })
    });
    section(&mut out, "Errors", w, report, |c| {
        c.is_regression() && matches!(c.verdict, Verdict::Error { .. })
    });
    section(&mut out, "Known failures (baseline)", w, report, |c| {
        matches!(c.baseline, Some(BaselineMark::Known { .. }))
    });
    section(
        &mut out,
        "Fixed: listed in the baseline but passing, remove them",
        w,
        report,
        |c| matches!(c.baseline, Some(BaselineMark::Fixed)),
    );
    observed(&mut out, report, w);
    fuzz(&mut out, report, w);
    out.push('\n');
    out.push_str(&text::wrap("", "  ", &text::summary_line(report), w));
    out
}

fn counts_table(report: &RunReport, width: u16) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(if width >= 80 {
            std::iter::once("operation")
                .chain(text::COUNT_HEADERS)
                .collect::<Vec<_>>()
        } else {
            // Short headers keep the numbers on one line in a narrow terminal.
            vec!["op", "pass", "fail", "err", "skip", "known", "fixed", "obs"]
        });
    for (op, cases) in text::by_operation(report) {
        let c = text::tally(cases.iter().copied());
        table.add_row(
            std::iter::once(op.to_owned())
                .chain(text::count_cells(&c).map(|n| n.to_string()))
                .collect::<Vec<_>>(),
        );
    }
    let total = report.counts();
    table.add_row(
        std::iter::once("total".to_owned())
            .chain(text::count_cells(&total).map(|n| n.to_string()))
            .collect::<Vec<_>>(),
    );
    for i in 1..=text::COUNT_HEADERS.len() {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    table.to_string() + "\n"
}

/// Lists the cases matching `pick` with their details, under a titled heading.
fn section(
    out: &mut String,
    title: &str,
    w: usize,
    report: &RunReport,
    pick: impl Fn(&CaseReport) -> bool,
) {
    let cases: Vec<&CaseReport> = report.cases.iter().filter(|c| pick(c)).collect();
    if cases.is_empty() {
        return;
    }
    out.push('\n');
    out.push_str(&text::wrap(
        "",
        "  ",
        &format!("{title} ({}):", cases.len()),
        w,
    ));
    for case in cases {
        out.push_str(&text::wrap(
            "  ",
            "      ",
            &format!("{} [{}]", case.name, text::outcome_word(case)),
            w,
        ));
        if let Some(BaselineMark::Known { reason }) = &case.baseline {
            out.push_str(&text::wrap("      baseline: ", "        ", reason, w));
        }
        match &case.verdict {
            Verdict::Fail { mismatches } => {
                out.push_str(&text::wrap("      ", "        ", &case.description, w));
                for m in mismatches {
                    out.push_str(&text::wrap(
                        "      - ",
                        "        ",
                        &text::mismatch_line(m),
                        w,
                    ));
                }
                for step in failing_steps(case) {
                    out.push_str(&text::wrap("      > ", "        ", &step, w));
                }
            }
            Verdict::Error { message } => {
                out.push_str(&text::wrap("      ", "        ", message, w));
            }
            Verdict::Pass | Verdict::Skipped { .. } => {}
        }
    }
}

/// The steps a failure's mismatches point at, as `index. label -> answer` lines.
fn failing_steps(case: &CaseReport) -> Vec<String> {
    let Verdict::Fail { mismatches } = &case.verdict else {
        return Vec::new();
    };
    let mut steps: Vec<usize> = mismatches.iter().map(|m| m.step).collect();
    steps.sort_unstable();
    steps.dedup();
    steps
        .into_iter()
        .filter_map(|i| case.steps.iter().find(|s| s.index == i))
        .map(text::step_line)
        .collect()
}

fn observed(out: &mut String, report: &RunReport, w: usize) {
    let cases: Vec<&CaseReport> = report
        .cases
        .iter()
        .filter(|c| !c.observed.is_empty())
        .collect();
    if cases.is_empty() {
        return;
    }
    out.push_str(&format!("\nObserved, not judged ({}):\n", cases.len()));
    for case in cases {
        let values: Vec<String> = case
            .observed
            .iter()
            .map(|o| format!("step {} {} = {}", o.step, o.field, o.value))
            .collect();
        out.push_str(&text::wrap(
            "  ",
            "      ",
            &format!("{}: {}", case.name, values.join(", ")),
            w,
        ));
    }
}

fn fuzz(out: &mut String, report: &RunReport, w: usize) {
    if report.fuzz.is_empty() {
        return;
    }
    out.push_str(&format!("\nFuzz campaigns ({}):\n", report.fuzz.len()));
    for f in &report.fuzz {
        out.push_str(&text::wrap(
            "  ",
            "      ",
            &format!(
                "seed {}, {} writers, {} ops: {} ({})",
                f.seed,
                f.writers,
                f.ops,
                f.verdict,
                text::plural(f.anomalies.len(), "anomaly", "anomalies")
            ),
            w,
        ));
        for a in &f.anomalies {
            let first = a.explanation.lines().next().unwrap_or_default();
            out.push_str(&text::wrap(
                "    - ",
                "      ",
                &format!("{} on `{}`: {first}", a.kind, a.key),
                w,
            ));
        }
        if let Some(h) = &f.history_file {
            out.push_str(&text::wrap("    history: ", "      ", h, w));
        }
    }
}
