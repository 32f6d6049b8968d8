//! The terminal summary: what a person watching `s3conform run` reads.
//!
//! A header line, a comfy-table of counts by operation, then the cases that need attention
//! (failures, errors, known failures, fixed baseline entries, observed values), the fuzz
//! campaigns, and a libtest-style result line. [`render`] never emits colour codes, so the same
//! string serves a CI log, a file and a snapshot; [`render_styled`] adds colour to headings and
//! the result line, for a terminal only ([`Style::detect`] honours `NO_COLOR`). Colour wraps
//! whole lines after they are laid out, so it never changes the layout.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

use super::model::{BaselineMark, CaseReport, RunReport, Verdict};
use super::text;
use crate::exit_code;

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

/// How to render: the width to fit and whether to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Columns to fit.
    pub width: u16,
    /// Whether to emit ANSI colour codes.
    pub colour: bool,
}

impl Style {
    /// No colour, at `width` columns.
    pub fn plain(width: u16) -> Style {
        Style {
            width,
            colour: false,
        }
    }

    /// For stdout: its width ([`width`]), colour only when it is a terminal and `NO_COLOR` is
    /// unset or empty (<https://no-color.org>).
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            width: width(),
            colour: std::io::stdout().is_terminal() && !no_color,
        }
    }

    /// Wraps every line of `block` in the SGR `code` (e.g. `1;31`), when colouring.
    fn paint(&self, code: &str, block: &str) -> String {
        if !self.colour {
            return block.to_owned();
        }
        block
            .split_inclusive('\n')
            .map(|line| match line.strip_suffix('\n') {
                Some(l) => format!("\x1b[{code}m{l}\x1b[0m\n"),
                None => format!("\x1b[{code}m{line}\x1b[0m"),
            })
            .collect()
    }
}

/// Renders the summary to fit `width` columns, without colour.
pub fn render(report: &RunReport, width: u16) -> String {
    render_styled(report, Style::plain(width))
}

/// Renders the summary in the given style.
pub fn render_styled(report: &RunReport, style: Style) -> String {
    let width = style.width;
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
    if let Some(at) = &report.location {
        out.push_str(&text::wrap(
            "",
            "  ",
            &format!("bucket {}, run prefix {}", at.bucket, at.run_prefix),
            w,
        ));
    }
    out.push_str(&counts_table(report, width));

    let sections: [Section; 4] = [
        ("Failures", "1;31", |c| {
            c.is_regression() && matches!(c.verdict, Verdict::Fail { .. })
        }),
        ("Errors", "1;31", |c| {
            c.is_regression() && matches!(c.verdict, Verdict::Error { .. })
        }),
        ("Known failures (baseline)", "1;33", |c| {
            matches!(c.baseline, Some(BaselineMark::Known { .. }))
        }),
        (
            "Fixed: listed in the baseline but passing, remove them",
            "1;32",
            |c| matches!(c.baseline, Some(BaselineMark::Fixed)),
        ),
    ];
    for (title, code, pick) in sections {
        section(&mut out, &style, (title, code), w, report, pick);
    }
    observed(&mut out, &style, report, w);
    fuzz(&mut out, &style, report, w);
    out.push('\n');
    let result = text::wrap("", "  ", &text::summary_line(report), w);
    let code = match exit_code::of_run(report, false) {
        exit_code::SUCCESS => "1;32",
        exit_code::FAILURE => "1;31",
        _ => "1;33",
    };
    out.push_str(&style.paint(code, &result));
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
/// A list of cases under a heading: its title, its colour, and which cases belong under it.
type Section = (&'static str, &'static str, fn(&CaseReport) -> bool);

fn section(
    out: &mut String,
    style: &Style,
    (title, code): (&str, &str),
    w: usize,
    report: &RunReport,
    pick: impl Fn(&CaseReport) -> bool,
) {
    let cases: Vec<&CaseReport> = report.cases.iter().filter(|c| pick(c)).collect();
    if cases.is_empty() {
        return;
    }
    out.push('\n');
    let heading = text::wrap("", "  ", &format!("{title} ({}):", cases.len()), w);
    out.push_str(&style.paint(code, &heading));
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
            Verdict::Pass | Verdict::Observed | Verdict::Skipped { .. } => {}
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

fn observed(out: &mut String, style: &Style, report: &RunReport, w: usize) {
    let cases: Vec<&CaseReport> = report
        .cases
        .iter()
        .filter(|c| !c.observed.is_empty())
        .collect();
    if cases.is_empty() {
        return;
    }
    let heading = format!("Observed, not judged ({}):\n", cases.len());
    out.push('\n');
    out.push_str(&style.paint("1;36", &heading));
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

fn fuzz(out: &mut String, style: &Style, report: &RunReport, w: usize) {
    if report.fuzz.is_empty() {
        return;
    }
    let heading = format!("Fuzz campaigns ({}):\n", report.fuzz.len());
    out.push('\n');
    out.push_str(&style.paint("1", &heading));
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
        if let Some(c) = &f.campaign {
            out.push_str(&text::wrap("    campaign: ", "      ", c, w));
        }
        if let Some(e) = &f.error {
            out.push_str(&text::wrap("    did not run: ", "      ", e, w));
        }
        if let Some(h) = &f.history_file {
            out.push_str(&text::wrap("    history: ", "      ", h, w));
        }
    }
}
