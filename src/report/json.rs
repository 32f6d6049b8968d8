//! The `--json` sink and its reader: the format `compare` and baselines are built from.
//!
//! The format itself is specified on [`crate::report::model`]. Reading checks the envelope
//! (`format`, `format_version`) before the body, so a wrong file gets "this is not a run
//! report" rather than a confusing "missing field `cases`".

use std::path::Path;

use serde::Deserialize;

use super::errors::ReportError;
use super::files;
use super::model::{FORMAT, FORMAT_VERSION, RunReport};

/// The report as pretty-printed JSON with a trailing newline, stable for diffs.
pub fn to_string(report: &RunReport) -> String {
    let mut text = serde_json::to_string_pretty(report)
        .expect("a RunReport has string keys only and always serializes");
    text.push('\n');
    text
}

/// Writes the report to `path`.
pub fn write(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    files::write(path, &to_string(report))
}

/// Reads and validates a run report from `path`.
pub fn read(path: &Path) -> Result<RunReport, ReportError> {
    from_str(&files::read(path)?, path)
}

/// The envelope every version shares: checked first so errors say what the file is.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    format: Option<serde_json::Value>,
    #[serde(default)]
    format_version: Option<serde_json::Value>,
}

/// Parses and validates a run report; `path` only names the source in errors.
pub fn from_str(text: &str, path: &Path) -> Result<RunReport, ReportError> {
    let envelope: Envelope = match serde_json::from_str(text) {
        Ok(e) => e,
        // Valid JSON that is not an object (an array, a number) is "not a report", not "not JSON".
        Err(source) if source.is_data() => {
            return Err(ReportError::WrongFormat {
                path: path.to_owned(),
                expected: "an s3conform run report",
                found: "missing (the document is not a JSON object)".to_owned(),
            });
        }
        Err(source) => {
            return Err(ReportError::NotJson {
                path: path.to_owned(),
                source,
            });
        }
    };
    check_envelope(&envelope, path)?;
    serde_json::from_str(text).map_err(|source| ReportError::InvalidReport {
        path: path.to_owned(),
        source,
    })
}

fn check_envelope(envelope: &Envelope, path: &Path) -> Result<(), ReportError> {
    let wrong = |found: String| ReportError::WrongFormat {
        path: path.to_owned(),
        expected: "an s3conform run report",
        found,
    };
    match &envelope.format {
        Some(serde_json::Value::String(f)) if f == FORMAT => {}
        Some(other) => return Err(wrong(other.to_string())),
        None => return Err(wrong("missing".to_owned())),
    }
    match &envelope.format_version {
        Some(v) => match v.as_u64() {
            Some(found) if found > u64::from(FORMAT_VERSION) => Err(ReportError::NewerVersion {
                path: path.to_owned(),
                found,
                supported: FORMAT_VERSION,
            }),
            Some(0) | None => Err(wrong(format!("{FORMAT:?} with format_version {v}"))),
            Some(_) => Ok(()),
        },
        None => Err(wrong(format!("{FORMAT:?} without a format_version"))),
    }
}
