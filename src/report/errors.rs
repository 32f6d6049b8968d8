//! Why a report could not be read or written.
//!
//! Every variant names the file it is about, because the user passes several (`compare a.json
//! b.json`, `--baseline`, `--junit`) and must know which one to fix. Messages are lowercase
//! fragments that read well after "error: ".

use std::path::PathBuf;

use crate::exit_code;

/// A report, baseline or comparison file that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The file could not be opened or read.
    #[error("failed to read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be created or written.
    #[error("failed to write `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON at all.
    #[error("failed to parse `{path}`: it is not JSON")]
    NotJson {
        /// The file.
        path: PathBuf,
        /// The parser's error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// The file is JSON but not the kind of document expected.
    #[error("`{path}` is not {expected} (its `format` is {found})")]
    WrongFormat {
        /// The file.
        path: PathBuf,
        /// What was expected, e.g. "an s3conform run report".
        expected: &'static str,
        /// What was found, quoted, or "missing".
        found: String,
    },
    /// The file was written by a newer s3conform whose format this build cannot read.
    #[error(
        "`{path}` has format version {found}, newer than the {supported} this s3conform reads; \
         upgrade s3conform"
    )]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The file has the right format marker but its content does not fit the format.
    #[error("failed to load `{path}`: it is not a valid run report")]
    InvalidReport {
        /// The file.
        path: PathBuf,
        /// The field-level error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A baseline file could not be parsed.
    #[error("`{path}` is not a valid baseline: {message}")]
    InvalidBaseline {
        /// The file.
        path: PathBuf,
        /// The parser's message, with its location.
        message: String,
    },
    /// A value could not be serialized (should not happen for well-formed reports).
    #[error("failed to serialize {what}: {message}")]
    Serialize {
        /// What was being serialized.
        what: &'static str,
        /// The serializer's message.
        message: String,
    },
}

impl ReportError {
    /// Every report error is a usage or setup error: the run's verdicts are not in question.
    pub fn exit_code(&self) -> u8 {
        exit_code::of_error(self)
    }
}
