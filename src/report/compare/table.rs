//! The comparison in the terminal: endpoint summaries, the matrix, and the fuzz anomalies.
//!
//! Case names wrap (comfy-table's dynamic arrangement) when the endpoints leave too little room;
//! cell texts are short by construction, and an over-long one is cut with `…`.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

use super::matrix::Matrix;
use crate::report::text;

/// Longest cell text shown in the terminal; the full text is in Markdown and HTML.
const MAX_CELL: usize = 18;

/// The legend printed under every matrix.
pub const LEGEND: &str = "✓ pass · ✗ fail (what the endpoint answered) · ◆ observed, not judged \
                          · ! error · ○ skipped · — not run · (known) listed in the endpoint's baseline";

/// Renders the comparison to fit `width` columns.
pub fn render(matrix: &Matrix, width: u16) -> String {
    let w = usize::from(width.max(40));
    let mut out = String::from("Endpoints:\n");
    out.push_str(&summary(matrix, width));
    out.push_str("\nCases:\n");
    let mut table = new_table(width);
    table.set_header(
        std::iter::once("case".to_owned())
            .chain(matrix.endpoints.iter().map(|e| e.name.clone()))
            .collect::<Vec<_>>(),
    );
    for row in &matrix.rows {
        table.add_row(
            std::iter::once(row.case.clone())
                .chain(row.cells.iter().map(|c| shorten(&c.text)))
                .collect::<Vec<_>>(),
        );
    }
    out.push_str(&table.to_string());
    out.push('\n');
    out.push_str(&text::wrap("", "  ", LEGEND, w));
    let anomalies: Vec<String> = matrix
        .endpoints
        .iter()
        .flat_map(|e| {
            e.report.fuzz.iter().flat_map(move |f| {
                f.anomalies.iter().map(move |a| {
                    let first = a.explanation.lines().next().unwrap_or_default();
                    format!(
                        "{} (seed {}): {} on `{}`: {first}",
                        e.name, f.seed, a.kind, a.key
                    )
                })
            })
        })
        .collect();
    if !anomalies.is_empty() {
        out.push_str(&format!("\nFuzz anomalies ({}):\n", anomalies.len()));
        for a in anomalies {
            out.push_str(&text::wrap("  - ", "    ", &a, w));
        }
    }
    out
}

fn new_table(width: u16) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width);
    table
}

fn summary(matrix: &Matrix, width: u16) -> String {
    let mut table = new_table(width);
    table.set_header(vec![
        "endpoint",
        "profile",
        "passed",
        "failed",
        "errored",
        "skipped",
        "observed",
        "known",
        "not run",
        "fuzz ops",
        "anomalies",
    ]);
    for e in &matrix.endpoints {
        let s = &e.summary;
        table.add_row(vec![
            e.name.clone(),
            e.profile.to_string(),
            s.passed.to_string(),
            s.failed.to_string(),
            s.errored.to_string(),
            s.skipped.to_string(),
            s.observed.to_string(),
            s.known.to_string(),
            s.not_run.to_string(),
            s.fuzz_ops.to_string(),
            s.anomalies.to_string(),
        ]);
    }
    for i in 2..11 {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    table.to_string() + "\n"
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= MAX_CELL {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(MAX_CELL - 1).collect();
        format!("{cut}…")
    }
}
