//! The CI gate: a committed list of an endpoint's known divergences, and the run's exit code.
//!
//! # Baseline file (format version 1)
//!
//! YAML (JSON is valid YAML, so a JSON file with the same fields also loads):
//!
//! ```yaml
//! # s3conform baseline: known divergences of one endpoint.
//! format: s3conform-baseline
//! format_version: 1
//! endpoint: seaweedfs          # the run's `--label`; a mismatch is warned about, not fatal
//! profile: coreweave           # optional: the profile the baseline was recorded under
//! entries:
//!   put::safe-create-existing: "answers 200 where 412 is due (seen 2026-11-28)"
//!   copy::source-if-none-match: "answers 304, AWS documents 412"
//! ```
//!
//! Unknown fields are errors, so a typo (`entires:`) cannot silently empty the baseline.
//!
//! # What applying a baseline does
//!
//! | the case | listed | mark | fails the run? |
//! |---|---|---|---|
//! | fails or errors | no | none | yes |
//! | fails or errors | yes | [`BaselineMark::Known`] | no: an expected failure |
//! | passes, or is observed | yes | [`BaselineMark::Fixed`] | only with `strict` |
//! | skipped or absent | yes | none | no (listed in [`Applied::not_run`]) |
//!
//! # Policy: does a fixed entry fail the run?
//!
//! Not by default. A vendor fixing a bug should not turn its customers' pipelines red; the fixed
//! entry is reported so the baseline can shrink. With `strict` (for CI against third-party
//! servers, where a new failure and a new pass both mean the server changed), a fixed entry
//! fails the run too, so a changed server is noticed and the committed baseline stays exact.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::errors::ReportError;
use super::files;
use super::model::{BaselineMark, RunReport, Verdict};
use super::text;

use crate::profile::Profile;

/// The `format` value of every baseline file.
pub const FORMAT: &str = "s3conform-baseline";
/// The current baseline `format_version`.
pub const FORMAT_VERSION: u32 = 1;

/// The known divergences of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] at writing.
    pub format_version: u32,
    /// The endpoint label the baseline was recorded against.
    pub endpoint: String,
    /// The profile the baseline was recorded under, if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Case name (`operation::case`) to the reason it is expected to fail.
    #[serde(default)]
    pub entries: BTreeMap<String, String>,
}

impl Baseline {
    /// An empty baseline for an endpoint.
    pub fn new(endpoint: impl Into<String>) -> Baseline {
        Baseline {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            endpoint: endpoint.into(),
            profile: None,
            entries: BTreeMap::new(),
        }
    }
}

/// What [`apply`] did, for the caller to print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Listed cases that failed or errored, now marked known.
    pub known: Vec<String>,
    /// Listed cases that passed, now marked fixed.
    pub fixed: Vec<String>,
    /// Listed cases that were skipped or are not in this run (a filter, or a renamed case).
    pub not_run: Vec<String>,
    /// Set when the baseline was recorded for another endpoint label or profile.
    pub mismatch: Option<String>,
}

impl Applied {
    /// Human-readable warnings: another endpoint, entries that matched nothing.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if let Some(m) = &self.mismatch {
            w.push(m.clone());
        }
        if !self.not_run.is_empty() {
            w.push(format!(
                "{} baseline entr{} did not run: {}",
                self.not_run.len(),
                if self.not_run.len() == 1 { "y" } else { "ies" },
                self.not_run.join(", ")
            ));
        }
        w
    }
}

/// Reads a baseline file.
pub fn load(path: &Path) -> Result<Baseline, ReportError> {
    from_str(&files::read(path)?, path)
}

/// Parses a baseline; `path` only names the source in errors.
pub fn from_str(text: &str, path: &Path) -> Result<Baseline, ReportError> {
    let invalid = |message: String| ReportError::InvalidBaseline {
        path: path.to_owned(),
        message,
    };
    let baseline: Baseline = serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))?;
    if baseline.format != FORMAT {
        return Err(ReportError::WrongFormat {
            path: path.to_owned(),
            expected: "an s3conform baseline",
            found: format!("{:?}", baseline.format),
        });
    }
    if baseline.format_version > FORMAT_VERSION {
        return Err(ReportError::NewerVersion {
            path: path.to_owned(),
            found: u64::from(baseline.format_version),
            supported: FORMAT_VERSION,
        });
    }
    if baseline.format_version == 0 {
        return Err(invalid("format_version must be at least 1".to_owned()));
    }
    Ok(baseline)
}

/// Marks the report's cases against the baseline, replacing any earlier marks.
pub fn apply(report: &mut RunReport, baseline: &Baseline) -> Applied {
    let mut applied = Applied::default();
    if baseline.endpoint != report.endpoint.label {
        applied.mismatch = Some(format!(
            "the baseline was recorded for endpoint `{}`, this run is against `{}`",
            baseline.endpoint, report.endpoint.label
        ));
    } else if let Some(p) = baseline.profile.filter(|p| *p != report.profile) {
        applied.mismatch = Some(format!(
            "the baseline was recorded under profile `{p}`, this run used `{}`",
            report.profile
        ));
    }
    for case in &mut report.cases {
        case.baseline = None;
        let Some(reason) = baseline.entries.get(&case.name) else {
            continue;
        };
        match case.verdict {
            Verdict::Fail { .. } | Verdict::Error { .. } => {
                case.baseline = Some(BaselineMark::Known {
                    reason: reason.clone(),
                });
                applied.known.push(case.name.clone());
            }
            // An observed case no longer fails: the entry can go.
            Verdict::Pass | Verdict::Observed => {
                case.baseline = Some(BaselineMark::Fixed);
                applied.fixed.push(case.name.clone());
            }
            Verdict::Skipped { .. } => applied.not_run.push(case.name.clone()),
        }
    }
    for name in baseline.entries.keys() {
        if !report.cases.iter().any(|c| &c.name == name) {
            applied.not_run.push(name.clone());
        }
    }
    applied
}

/// A baseline listing every failing or erroring case of a report.
///
/// Reasons already in the report (from an earlier baseline) are kept; new entries get the
/// mismatches as their reason, to be edited into a real explanation before committing.
pub fn from_report(report: &RunReport) -> Baseline {
    let mut baseline = Baseline::new(report.endpoint.label.clone());
    baseline.profile = Some(report.profile);
    for case in &report.cases {
        let reason = match (&case.verdict, &case.baseline) {
            (Verdict::Pass | Verdict::Observed | Verdict::Skipped { .. }, _) => continue,
            (_, Some(BaselineMark::Known { reason })) => reason.clone(),
            (Verdict::Fail { mismatches }, _) => mismatches
                .iter()
                .map(text::mismatch_line)
                .collect::<Vec<_>>()
                .join("; "),
            (Verdict::Error { message }, _) => format!("error: {message}"),
        };
        baseline.entries.insert(case.name.clone(), reason);
    }
    baseline
}

/// The header written above every generated baseline.
const HEADER: &str = "\
# s3conform baseline: known divergences of one endpoint.
# A listed case that fails is an expected failure and does not fail `s3conform run`;
# a listed case that passes is reported as fixed, so its entry can be removed.
# Written by `s3conform run --write-baseline`; edit the reasons into real explanations.
";

/// The baseline as YAML, with an explanatory header.
pub fn to_string(baseline: &Baseline) -> Result<String, ReportError> {
    let body = serde_saphyr::to_string(baseline).map_err(|e| ReportError::Serialize {
        what: "the baseline",
        message: e.to_string(),
    })?;
    Ok(format!("{HEADER}{body}"))
}

/// Writes the baseline to `path`.
pub fn write(baseline: &Baseline, path: &Path) -> Result<(), ReportError> {
    files::write(path, &to_string(baseline)?)
}
