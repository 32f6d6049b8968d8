//! The comparison matrix: cases as rows, endpoints as columns, one judged cell per pair.
//!
//! # JSON (`compare --json`, format version 1)
//!
//! ```json
//! { "format": "s3conform-compare", "format_version": 1,
//!   "endpoints": [ { "name": "minio", "label": "minio", "profile": "coreweave",
//!                    "url": "http://127.0.0.1:9000", "embedded": false,
//!                    "source": "reports/minio.json", "tool_version": "0.1.0",
//!                    "started_at": "2026-11-28T16:00:00Z",
//!                    "summary": { "passed": 80, "failed": 3, ... } } ],
//!   "rows": [ { "case": "put::safe-create-existing", "operation": "put",
//!               "description": "...", "source": "docs/semantics.md §1.2",
//!               "cells": [ { "kind": "fail", "text": "✗ 200", "known": false } ] } ] }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::Serialize;

use crate::profile::Profile;
use crate::report::model::{BaselineMark, CaseReport, FuzzSummary, Mismatch, RunReport, Verdict};

/// The `format` of `compare --json`.
pub const FORMAT: &str = "s3conform-compare";
/// The current `format_version` of `compare --json`.
pub const FORMAT_VERSION: u32 = 1;

/// What one cell says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CellKind {
    /// The endpoint's report has no such case.
    NotRun,
    /// Every assertion held.
    Pass,
    /// Every assertion held, and values no source pins down were recorded.
    Observed,
    /// An assertion did not hold.
    Fail,
    /// The case could not be judged.
    Error,
    /// The case was not run (filtered or ignored).
    Skipped,
}

/// One case on one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// What the cell says.
    pub kind: CellKind,
    /// The text shown in Markdown and HTML: `✓`, `✗ 404 NoSuchKey (known)`, `◆ 501`, `—`.
    pub text: String,
    /// The compact form for the terminal: `✓`, `✗ 404*`, `◆ 501`, `! err`, `—`.
    #[serde(skip)]
    pub short: String,
    /// Whether the endpoint's baseline lists this failure as known.
    pub known: bool,
    /// Index of the case in the endpoint's report, for renderers that show the evidence.
    #[serde(skip)]
    pub case: Option<usize>,
}

/// Per-endpoint totals: the summary row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EndpointSummary {
    /// Passed (including observed).
    pub passed: usize,
    /// Failed (including known).
    pub failed: usize,
    /// Errored.
    pub errored: usize,
    /// Skipped.
    pub skipped: usize,
    /// Cases with observed values.
    pub observed: usize,
    /// Failures the endpoint's baseline lists.
    pub known: usize,
    /// Cases in the matrix this endpoint's report lacks.
    pub not_run: usize,
    /// Fuzz campaigns.
    pub fuzz_campaigns: usize,
    /// Fuzz operations over all campaigns.
    pub fuzz_ops: u64,
    /// Fuzz anomalies over all campaigns.
    pub anomalies: usize,
    /// Fuzz campaigns that did not run to a verdict: counted, so that a server that died
    /// under a campaign never reads as one that passed it.
    pub fuzz_failed: usize,
}

impl EndpointSummary {
    /// The anomalies count, with the campaigns that failed to run when there are any.
    pub fn anomalies_cell(&self) -> String {
        if self.fuzz_failed == 0 {
            self.anomalies.to_string()
        } else {
            format!(
                "{} ({} fuzz {} failed to run)",
                self.anomalies,
                self.fuzz_failed,
                if self.fuzz_failed == 1 {
                    "campaign"
                } else {
                    "campaigns"
                }
            )
        }
    }
}

/// One column: one run report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    /// The column name: the label, disambiguated by profile (and a number) when repeated.
    pub name: String,
    /// The report's endpoint label.
    pub label: String,
    /// The profile the report was judged under.
    pub profile: Profile,
    /// The endpoint URL.
    pub url: String,
    /// Whether it was the embedded reference endpoint.
    pub embedded: bool,
    /// The report file it came from.
    pub source: PathBuf,
    /// The s3conform version that wrote the report.
    pub tool_version: String,
    /// When the run started.
    pub started_at: String,
    /// The totals.
    pub summary: EndpointSummary,
    /// The whole report, for renderers that show evidence.
    #[serde(skip)]
    pub report: RunReport,
}

/// One row: one case across every endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// `operation::case`.
    pub case: String,
    /// The operation group.
    pub operation: String,
    /// What the case checks (from the first report that has it).
    pub description: String,
    /// What it tests (from the first report that has it).
    pub source: String,
    /// One cell per endpoint, in endpoint order.
    pub cells: Vec<Cell>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    /// Always [`FORMAT`].
    pub format: &'static str,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The columns, in the order the reports were given.
    pub endpoints: Vec<Endpoint>,
    /// The rows, sorted by case name.
    pub rows: Vec<Row>,
}

impl Matrix {
    /// Every fuzz campaign that did not run to a verdict, with the column it belongs to, in
    /// column order: each rendering lists them, never drops them.
    pub fn failed_campaigns(&self) -> impl Iterator<Item = (&Endpoint, &FuzzSummary)> {
        self.endpoints.iter().flat_map(|e| {
            e.report
                .fuzz
                .iter()
                .filter(|f| f.is_failed())
                .map(move |f| (e, f))
        })
    }

    /// The matrix as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("the matrix always serializes");
        s.push('\n');
        s
    }

    /// The case report behind a cell, if the endpoint ran the case.
    pub fn case(&self, row: usize, column: usize) -> Option<&CaseReport> {
        let idx = self.rows.get(row)?.cells.get(column)?.case?;
        self.endpoints.get(column)?.report.cases.get(idx)
    }
}

/// Builds the matrix from `(source file, report)` pairs, columns in the given order.
pub fn build(reports: Vec<(PathBuf, RunReport)>) -> Matrix {
    let names = column_names(&reports);
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let n = reports.len();
    for (col, (_, report)) in reports.iter().enumerate() {
        for (idx, case) in report.cases.iter().enumerate() {
            let row = rows.entry(case.name.clone()).or_insert_with(|| Row {
                case: case.name.clone(),
                operation: case.operation.clone(),
                description: case.description.clone(),
                source: case.source.clone(),
                cells: vec![not_run(); n],
            });
            row.cells[col] = cell(case, idx);
        }
    }
    let rows: Vec<Row> = rows.into_values().collect();
    let endpoints = reports
        .into_iter()
        .zip(names)
        .map(|((source, report), name)| {
            let c = report.counts();
            let summary = EndpointSummary {
                passed: c.passed,
                failed: c.failed,
                errored: c.errored,
                skipped: c.skipped,
                observed: c.observed,
                known: c.known,
                not_run: rows.len().saturating_sub(
                    report
                        .cases
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<std::collections::BTreeSet<_>>()
                        .len(),
                ),
                fuzz_campaigns: report.fuzz.len(),
                fuzz_ops: report.fuzz.iter().map(|f| f.ops).sum(),
                anomalies: report.fuzz.iter().map(|f| f.anomalies.len()).sum(),
                fuzz_failed: report.fuzz.iter().filter(|f| f.is_failed()).count(),
            };
            Endpoint {
                name,
                label: report.endpoint.label.clone(),
                profile: report.profile,
                url: report.endpoint.url.clone(),
                embedded: report.endpoint.embedded,
                source,
                tool_version: report.tool_version.clone(),
                started_at: report.started_at.clone(),
                summary,
                report,
            }
        })
        .collect();
    Matrix {
        format: FORMAT,
        format_version: FORMAT_VERSION,
        endpoints,
        rows,
    }
}

/// Labels, then `label/profile` where a label repeats, then `#n` where both repeat.
fn column_names(reports: &[(PathBuf, RunReport)]) -> Vec<String> {
    let mut label_count: HashMap<&str, usize> = HashMap::new();
    for (_, r) in reports {
        *label_count.entry(&r.endpoint.label).or_default() += 1;
    }
    let first: Vec<String> = reports
        .iter()
        .map(|(_, r)| {
            if label_count[r.endpoint.label.as_str()] > 1 {
                format!("{}/{}", r.endpoint.label, r.profile)
            } else {
                r.endpoint.label.clone()
            }
        })
        .collect();
    let mut total: HashMap<&str, usize> = HashMap::new();
    for name in &first {
        *total.entry(name).or_default() += 1;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    first
        .iter()
        .map(|name| {
            if total[name.as_str()] > 1 {
                let k = seen.entry(name).or_default();
                *k += 1;
                format!("{name} #{k}")
            } else {
                name.clone()
            }
        })
        .collect()
}

fn not_run() -> Cell {
    Cell {
        kind: CellKind::NotRun,
        text: "—".to_owned(),
        short: "—".to_owned(),
        known: false,
        case: None,
    }
}

/// Judges one case into a cell.
fn cell(case: &CaseReport, idx: usize) -> Cell {
    let known = matches!(case.baseline, Some(BaselineMark::Known { .. }));
    let (kind, mut text, mut short) = match &case.verdict {
        Verdict::Pass if case.observed.is_empty() => (CellKind::Pass, "✓".to_owned(), "✓".into()),
        Verdict::Pass | Verdict::Observed => {
            let values: Vec<&str> = case.observed.iter().map(|o| o.value.as_str()).collect();
            let short: Vec<String> = values.iter().map(|v| compact(v)).collect();
            (
                CellKind::Observed,
                format!("◆ {}", values.join(", ")),
                format!("◆ {}", short.join(", ")),
            )
        }
        Verdict::Fail { mismatches } => {
            let answer = answer(case, mismatches.first());
            // The status (or the field) alone keeps terminal columns narrow.
            let first = answer.split_whitespace().next().unwrap_or("failed");
            (
                CellKind::Fail,
                format!("✗ {answer}"),
                format!("✗ {}", first.trim_end_matches(':')),
            )
        }
        Verdict::Error { .. } => (CellKind::Error, "! error".to_owned(), "! err".into()),
        Verdict::Skipped { .. } => (CellKind::Skipped, "○ skipped".to_owned(), "○ skip".into()),
    };
    if known {
        text.push_str(" (known)");
        short.push('*');
    }
    Cell {
        kind,
        text,
        short,
        known,
        case: Some(idx),
    }
}

/// An observed value without its error codes, for narrow columns: `412 PreconditionFailed x15`
/// becomes `412 x15`. Values with no number in them are kept whole.
fn compact(value: &str) -> String {
    let kept: Vec<&str> = value
        .split_whitespace()
        .filter(|t| {
            t.starts_with(|c: char| c.is_ascii_digit())
                || t.strip_prefix('x').is_some_and(|n| {
                    !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == ',')
                })
        })
        .collect();
    if kept.is_empty() {
        value.to_owned()
    } else {
        kept.join(" ")
    }
}

/// What the endpoint answered where the first mismatch is: `200`, `404 NoSuchKey`, `winners: 2`.
fn answer(case: &CaseReport, first: Option<&Mismatch>) -> String {
    let Some(m) = first else {
        return "failed".to_owned();
    };
    let status_like = m.field == "status" || m.field == "error_code";
    let single = case
        .steps
        .iter()
        .find(|s| s.index == m.step)
        .filter(|s| s.observations.len() == 1)
        .map(|s| s.observations[0].summary());
    match (status_like, single) {
        (true, Some(summary)) => summary,
        (true, None) => m.observed.clone(),
        (false, _) => format!("{}: {}", m.field, m.observed),
    }
}
