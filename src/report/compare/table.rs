//! The comparison in the terminal: endpoint summaries, the matrix, and the fuzz anomalies.
//!
//! The matrix comes first, then a summary with the same columns, so both fit the same width.
//! When full case names do not fit, rows are grouped under one `operation::` heading row and
//! show only the case part; what still does not fit wraps (comfy-table's dynamic arrangement).
//! Cell texts are short by construction, and an over-long one is cut with `…`.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

use super::matrix::{EndpointSummary, Matrix};
use crate::report::text;

/// Longest cell text shown in the terminal; the full text is in Markdown and HTML.
const MAX_CELL: usize = 18;

/// The legend printed under every Markdown and HTML matrix.
pub const LEGEND: &str = "✓ pass · ✗ fail (what the endpoint answered) · ◆ observed, not judged \
                          · ! error · ○ skipped · — not run · (known) listed in the endpoint's baseline";

/// The legend printed under the terminal matrix, whose cells are compact.
pub const SHORT_LEGEND: &str = "✓ pass · ✗ fail (the status the endpoint answered) · ◆ observed, \
                                not judged · ! error · ○ skipped · — not run · * known (listed in \
                                the endpoint's baseline)";

/// Renders the comparison to fit `width` columns.
pub fn render(matrix: &Matrix, width: u16) -> String {
    let w = usize::from(width.max(40));
    let headers: Vec<String> = matrix
        .endpoints
        .iter()
        .map(|e| e.name.replacen('/', "\n", 1))
        .collect();
    let mut out = String::from("Cases:\n");
    let mut table = new_table(width);
    table.set_header(
        std::iter::once("case".to_owned())
            .chain(headers.iter().cloned())
            .collect::<Vec<_>>(),
    );
    let cells: Vec<Vec<String>> = matrix
        .rows
        .iter()
        .map(|r| r.cells.iter().map(|c| shorten(&c.short)).collect())
        .collect();
    let room = case_room(&headers, &cells, w);
    let longest = matrix
        .rows
        .iter()
        .map(|r| r.case.chars().count())
        .max()
        .unwrap_or(0);
    if longest <= room {
        for (row, cells) in matrix.rows.iter().zip(&cells) {
            table.add_row(std::iter::once(row.case.clone()).chain(cells.iter().cloned()));
        }
    } else {
        // Too narrow for full names: one heading row per operation, then the case part only,
        // broken after hyphens so words stay whole.
        let mut current = "";
        for (row, cells) in matrix.rows.iter().zip(&cells) {
            if row.operation != current {
                current = &row.operation;
                table.add_row(vec![format!("{current}::")]);
            }
            let short = row
                .case
                .strip_prefix(&format!("{}::", row.operation))
                .unwrap_or(&row.case);
            table.add_row(
                std::iter::once(break_after_hyphens(short, room)).chain(cells.iter().cloned()),
            );
        }
    }
    out.push_str(&table.to_string());
    out.push('\n');
    out.push_str(&text::wrap("", "  ", SHORT_LEGEND, w));
    out.push_str("\nSummary:\n");
    out.push_str(&summary(matrix, &headers, width));
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
    let failed: Vec<String> = matrix
        .failed_campaigns()
        .map(|(e, f)| {
            format!(
                "{} (seed {}): {}",
                e.name,
                f.seed,
                f.error.as_deref().unwrap_or("no reason recorded")
            )
        })
        .collect();
    if !failed.is_empty() {
        out.push_str(&format!(
            "\nFuzz campaigns that failed to run ({}):\n",
            failed.len()
        ));
        for f in failed {
            out.push_str(&text::wrap("  - ", "    ", &f, w));
        }
    }
    out
}

/// How many columns the case names can have once the endpoint columns are laid out.
fn case_room(headers: &[String], cells: &[Vec<String>], width: usize) -> usize {
    let widest = |lines: &mut dyn Iterator<Item = &str>| lines.map(|l| l.chars().count()).max();
    let endpoints: usize = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            // One space of padding on each side and one border per column.
            widest(&mut h.lines().chain(cells.iter().map(|r| r[i].as_str()))).unwrap_or(0) + 3
        })
        .sum();
    // The case column's own padding and border, and the table's closing border.
    width.saturating_sub(endpoints + 4).max(8)
}

/// Breaks a kebab-case name into lines of at most `max` characters, after hyphens.
fn break_after_hyphens(name: &str, max: usize) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    for part in name.split_inclusive('-') {
        let last = lines.last_mut().expect("never empty");
        if !last.is_empty() && last.chars().count() + part.chars().count() > max {
            lines.push(part.to_owned());
        } else {
            last.push_str(part);
        }
    }
    lines.join("\n")
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

/// The summary rows' names and one endpoint's values.
fn totals(s: &EndpointSummary) -> [(&'static str, String); 11] {
    [
        ("passed", s.passed.to_string()),
        ("failed", s.failed.to_string()),
        ("errored", s.errored.to_string()),
        ("skipped", s.skipped.to_string()),
        ("observed", s.observed.to_string()),
        ("known", s.known.to_string()),
        ("not run", s.not_run.to_string()),
        ("fuzz runs", s.fuzz_campaigns.to_string()),
        ("fuzz ops", s.fuzz_ops.to_string()),
        ("anomalies", s.anomalies.to_string()),
        ("fuzz failed", s.fuzz_failed.to_string()),
    ]
}

/// One column per endpoint (as in the matrix), one row per total: the summary per endpoint.
fn summary(matrix: &Matrix, headers: &[String], width: u16) -> String {
    let mut table = new_table(width);
    table.set_header(
        std::iter::once("".to_owned())
            .chain(headers.iter().cloned())
            .collect::<Vec<_>>(),
    );
    table.add_row(
        std::iter::once("profile".to_owned())
            .chain(matrix.endpoints.iter().map(|e| e.profile.to_string()))
            .collect::<Vec<_>>(),
    );
    let columns: Vec<[(&str, String); 11]> = matrix
        .endpoints
        .iter()
        .map(|e| totals(&e.summary))
        .collect();
    for i in 0..10 {
        let name = columns.first().map_or("", |c| c[i].0);
        table.add_row(
            std::iter::once(name.to_owned())
                .chain(columns.iter().map(|c| c[i].1.clone()))
                .collect::<Vec<_>>(),
        );
    }
    for i in 1..=matrix.endpoints.len() {
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

#[cfg(test)]
mod tests {
    use super::break_after_hyphens;

    #[test]
    fn names_break_after_hyphens() {
        assert_eq!(
            break_after_hyphens("source-if-none-match-current", 12),
            "source-if-\nnone-match-\ncurrent"
        );
        assert_eq!(break_after_hyphens("short", 12), "short");
        assert_eq!(
            break_after_hyphens("averyverylongword", 5),
            "averyverylongword"
        );
    }
}
