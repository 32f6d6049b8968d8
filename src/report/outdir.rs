//! The results folder: where every file a run produces goes.
//!
//! Like Jepsen's `store/`, each run that has something to keep gets its own folder,
//! `<root>/<UTC time>-<label>-<tag>/` (root `s3conform-out` unless `--out DIR` names another),
//! and `<root>/latest` links to the newest one. Folders are never reused: a name that is already
//! taken gets a `-2`, `-3`, ... suffix, and files inside are created with `create_new`, so an
//! earlier run's evidence is never overwritten.
//!
//! Writing evidence must never cost the user the verdict: callers print the verdict first and
//! turn every failure here into a warning naming the path ([`OutDir::warn`]), so an unwritable
//! directory changes what is saved, never the exit code.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

/// The results root when `--out` is not given, relative to the current directory.
pub const DEFAULT_ROOT: &str = "s3conform-out";

/// The name of the link to the newest results folder inside the root.
pub const LATEST: &str = "latest";

/// Why a results folder or a file in it could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    /// The folder (or the root above it) could not be created.
    #[error("failed to create the results folder `{path}`")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("failed to write `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl OutDirError {
    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            OutDirError::CreateDir { path, .. } | OutDirError::Write { path, .. } => path,
        }
    }
}

/// One run's results folder, created and empty when made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutDir {
    path: PathBuf,
}

/// Keeps a folder name to letters, digits, `-`, `_` and `.`, so a label like `http://x:9000`
/// cannot make a path outside the root or one a shell needs quoting for.
fn sanitize(part: &str) -> String {
    let cleaned: String = part
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches('.');
    if trimmed.is_empty() {
        "run".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The folder name for a run started at `at`: `20261204T210658Z-<label>-<tag>`, which sorts by
/// time and names the endpoint and the seed (or profile) at a glance.
pub fn folder_name(at: OffsetDateTime, label: &str, tag: &str) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let mut name = String::new();
    let _ = write!(
        name,
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z-{}-{}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        sanitize(label),
        sanitize(tag)
    );
    name
}

impl OutDir {
    /// Creates a fresh folder for a run under `root` (default [`DEFAULT_ROOT`]) named by
    /// [`folder_name`], and points `<root>/latest` at it (a link that cannot be made is not an
    /// error: the folder is what matters).
    pub fn create(root: Option<&Path>, label: &str, tag: &str) -> Result<OutDir, OutDirError> {
        Self::create_at(
            root.unwrap_or_else(|| Path::new(DEFAULT_ROOT)),
            &folder_name(OffsetDateTime::now_utc(), label, tag),
        )
    }

    /// [`OutDir::create`] with the folder name given (tests pin it).
    pub fn create_at(root: &Path, name: &str) -> Result<OutDir, OutDirError> {
        std::fs::create_dir_all(root).map_err(|source| OutDirError::CreateDir {
            path: root.to_owned(),
            source,
        })?;
        let mut attempt = 1u32;
        let path = loop {
            let candidate = if attempt == 1 {
                root.join(name)
            } else {
                root.join(format!("{name}-{attempt}"))
            };
            // `create_dir` (not `_all`) fails on an existing folder, atomically: two runs
            // started in the same second never share one.
            match std::fs::create_dir(&candidate) {
                Ok(()) => break candidate,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 1000 => {
                    attempt += 1;
                }
                Err(source) => {
                    return Err(OutDirError::CreateDir {
                        path: candidate,
                        source,
                    });
                }
            }
        };
        let dir = OutDir { path };
        dir.link_latest(root);
        Ok(dir)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `contents` to the new file `name` in the folder and returns its path. Never
    /// replaces an existing file.
    pub fn write(&self, name: &str, contents: &[u8]) -> Result<PathBuf, OutDirError> {
        let path = self.path.join(name);
        let wrote = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(contents));
        match wrote {
            Ok(()) => Ok(path),
            Err(source) => Err(OutDirError::Write { path, source }),
        }
    }

    /// Points `<root>/latest` at this folder, replacing an older link (never a real file or
    /// folder someone put there).
    fn link_latest(&self, root: &Path) {
        let link = root.join(LATEST);
        let Some(target) = self.path.file_name() else {
            return;
        };
        if let Ok(meta) = std::fs::symlink_metadata(&link) {
            if !meta.file_type().is_symlink() {
                return;
            }
            let _ = std::fs::remove_file(&link);
        }
        #[cfg(unix)]
        let _ = std::os::unix::fs::symlink(target, &link);
        #[cfg(not(unix))]
        let _ = target;
    }
}

/// Prints a warning for a file that could not be written, with the path and the OS reason once.
pub fn warn(err: &OutDirError, stderr: &mut dyn std::io::Write) {
    let reason = std::error::Error::source(err)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    let _ = writeln!(stderr, "warning: {err}{reason} (the verdict above stands)");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "s3conform-outdir-{name}-{}-{}",
            std::process::id(),
            OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn folder_names_sort_by_time_and_stay_inside_the_root() {
        let at = time::macros::datetime!(2026-12-04 21:06:58 UTC);
        assert_eq!(
            folder_name(at, "seaweedfs", "42"),
            "20261204T210658Z-seaweedfs-42"
        );
        assert_eq!(
            folder_name(at, "../http://x:9000", "aws"),
            "20261204T210658Z-_http___x_9000-aws"
        );
        assert_eq!(folder_name(at, "..", ""), "20261204T210658Z-run-run");
    }

    #[test]
    fn a_taken_name_gets_a_suffix_and_latest_follows() {
        let root = scratch("suffix");
        let a = OutDir::create_at(&root, "t-x-1").unwrap();
        let b = OutDir::create_at(&root, "t-x-1").unwrap();
        assert_eq!(a.path(), root.join("t-x-1"));
        assert_eq!(b.path(), root.join("t-x-1-2"));
        #[cfg(unix)]
        assert_eq!(
            std::fs::read_link(root.join(LATEST)).unwrap(),
            PathBuf::from("t-x-1-2")
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn files_are_never_overwritten() {
        let root = scratch("never");
        let dir = OutDir::create_at(&root, "r").unwrap();
        let p = dir.write("summary.json", b"first").unwrap();
        let err = dir.write("summary.json", b"second").unwrap_err();
        assert_eq!(err.path(), p);
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_real_latest_folder_is_left_alone() {
        let root = scratch("latest");
        std::fs::create_dir_all(root.join(LATEST)).unwrap();
        OutDir::create_at(&root, "r").unwrap();
        assert!(root.join(LATEST).is_dir());
        assert!(
            !std::fs::symlink_metadata(root.join(LATEST))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn warnings_name_the_path_and_the_reason_once() {
        let err = OutDirError::Write {
            path: PathBuf::from("/ro/history.jsonl"),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        let mut out = Vec::new();
        warn(&err, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("warning: failed to write `/ro/history.jsonl`: "));
        assert_eq!(text.matches("permission denied").count(), 1, "{text}");
    }
}
