//! Run prefixes and keys: the type-level guarantee that the tool never addresses a key it does
//! not own.
//!
//! Every key the tool writes lives under `s3conform/<run-id>/` (or an explicit override). A
//! [`Key`] can only be made from a [`RunPrefix`], and a relative name that could escape the
//! prefix on a filesystem-backed server (`..`, a leading `/`, control characters) is refused, so
//! pointed at a production bucket the tool cannot touch anything outside its own prefix.

use std::fmt;

/// The error for a key or prefix the tool refuses to address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The relative name was empty.
    #[error("empty key name")]
    Empty,
    /// The name could escape the run prefix on a server that maps keys to paths.
    #[error("key name `{0}` could escape the run prefix (`..`, `.`, `//` or a leading `/`)")]
    Escapes(String),
    /// The name contains bytes that cannot travel in a URL path reliably.
    #[error("key name `{0}` contains control characters")]
    ControlCharacter(String),
    /// A prefix override must end with `/` so that sibling prefixes cannot overlap.
    #[error("run prefix `{0}` must be non-empty, end with `/`, and not contain `..`")]
    BadPrefix(String),
}

/// The root under which one run (or one case of a run) reads and writes.
///
/// Always ends with `/`, so `s3conform/a/` never overlaps `s3conform/ab/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunPrefix(String);

impl RunPrefix {
    /// The base every run root goes under when `--prefix` is not given.
    pub const DEFAULT_BASE: &'static str = "s3conform/";

    /// A fresh prefix `s3conform/<run-id>/`, unique per process start.
    pub fn fresh() -> RunPrefix {
        RunPrefix(format!("{}{}/", Self::DEFAULT_BASE, new_run_id()))
    }

    /// A fresh run root `<self><run-id>/` under this base, so two runs given the same
    /// `--prefix` never share a key.
    pub fn fresh_run(&self) -> RunPrefix {
        RunPrefix(format!("{}{}/", self.0, new_run_id()))
    }

    /// The last segment of the prefix: the run id of a run root, written into every object's
    /// marker metadata. Only header-safe characters are kept, since metadata travels as a header.
    pub fn run_id(&self) -> String {
        let last = self
            .0
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        let id: String = last
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        if id.is_empty() { "run".to_owned() } else { id }
    }

    /// An explicit prefix from the user (`--prefix`).
    pub fn parse(prefix: &str) -> Result<RunPrefix, KeyError> {
        let bad = || KeyError::BadPrefix(prefix.to_owned());
        if prefix.is_empty()
            || !prefix.ends_with('/')
            || prefix.starts_with('/')
            || prefix.contains("//")
        {
            return Err(bad());
        }
        if prefix
            .trim_end_matches('/')
            .split('/')
            .any(|s| s.is_empty() || s == ".." || s == ".")
        {
            return Err(bad());
        }
        if prefix.chars().any(char::is_control) {
            return Err(bad());
        }
        Ok(RunPrefix(prefix.to_owned()))
    }

    /// The prefix as sent to S3, ending with `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A sub-prefix, e.g. one per case, so parallel cases never share a key.
    pub fn child(&self, name: &str) -> Result<RunPrefix, KeyError> {
        validate_relative(name)?;
        Ok(RunPrefix(format!(
            "{}{}/",
            self.0,
            name.trim_end_matches('/')
        )))
    }

    /// A key under this prefix.
    pub fn key(&self, name: &str) -> Result<Key, KeyError> {
        validate_relative(name)?;
        Ok(Key {
            full: format!("{}{}", self.0, name),
            prefix_len: self.0.len(),
        })
    }

    /// Whether `key` lies under this prefix.
    pub fn contains(&self, key: &Key) -> bool {
        key.full.starts_with(&self.0)
    }
}

impl fmt::Display for RunPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A full object key that lies under a [`RunPrefix`]. Only a prefix can make one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    full: String,
    prefix_len: usize,
}

impl Key {
    /// The full key as sent to S3.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The part after the prefix, as a case or a report names it.
    pub fn relative(&self) -> &str {
        &self.full[self.prefix_len..]
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl serde::Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.relative())
    }
}

fn validate_relative(name: &str) -> Result<(), KeyError> {
    if name.is_empty() {
        return Err(KeyError::Empty);
    }
    if name.chars().any(char::is_control) {
        return Err(KeyError::ControlCharacter(name.to_owned()));
    }
    let escapes = name.starts_with('/')
        || name.contains("//")
        || name.split('/').any(|seg| seg == ".." || seg == ".");
    if escapes {
        return Err(KeyError::Escapes(name.to_owned()));
    }
    Ok(())
}

/// A run id that sorts by start time and does not collide between concurrent runs:
/// UTC seconds, then 8 random hex digits.
fn new_run_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    format!("{stamp}-{:08x}", rand::random::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_under_their_prefix() {
        let p = RunPrefix::parse("s3conform/run1/").unwrap();
        let k = p.key("case/k1").unwrap();
        assert_eq!(k.as_str(), "s3conform/run1/case/k1");
        assert_eq!(k.relative(), "case/k1");
        assert!(p.contains(&k));
        let other = RunPrefix::parse("s3conform/run10/").unwrap();
        assert!(!other.contains(&k));
    }

    #[test]
    fn escaping_names_are_refused() {
        let p = RunPrefix::fresh();
        for bad in [
            "",
            "../x",
            "a/../../b",
            "/abs",
            "a//b",
            ".",
            "a/./b",
            "a\nb",
        ] {
            assert!(p.key(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(p.key("ok/name-1.txt").is_ok());
    }

    #[test]
    fn prefixes_are_validated() {
        for bad in ["", "noslash", "/lead/", "a/../", "a//"] {
            assert!(RunPrefix::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(RunPrefix::fresh().as_str().starts_with("s3conform/"));
    }

    #[test]
    fn runs_under_one_base_get_distinct_roots() {
        let base = RunPrefix::parse("shared/").unwrap();
        let a = base.fresh_run();
        let b = base.fresh_run();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("shared/") && a.as_str().ends_with('/'));
        assert_ne!(a.key("k0").unwrap(), b.key("k0").unwrap());
        assert_eq!(a.run_id().len(), "20261204T210000Z-0123abcd".len());
    }

    #[test]
    fn children_nest() {
        let p = RunPrefix::parse("s3conform/r/").unwrap();
        let c = p.child("put/safe-create").unwrap();
        assert_eq!(c.as_str(), "s3conform/r/put/safe-create/");
        assert!(p.contains(&c.key("k").unwrap()));
        assert!(p.child("../x").is_err());
    }
}
