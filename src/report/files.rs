//! Writing a rendered sink to its file, with the file named in the error.

use std::path::Path;

use super::errors::ReportError;

/// Writes `contents` to `path`, replacing it.
pub fn write(path: &Path, contents: &str) -> Result<(), ReportError> {
    std::fs::write(path, contents).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Reads `path` as UTF-8 text.
pub fn read(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_owned(),
        source,
    })
}
