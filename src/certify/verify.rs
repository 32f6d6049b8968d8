//! `certify --verify`: checks a certificate against its evidence. The evidence file's digest must
//! be the one the certificate records, the histories beside it must be the ones the evidence
//! records, the requirements file must be the one judged against, and recomputing the
//! certificate from the evidence must give the certificate back, field for field.
//!
//! The digest binds a certificate to its evidence; it is not a signature. Whoever can rewrite
//! both files and recompute can forge a pair; what verification rules out is a certificate whose
//! verdicts do not follow from the evidence it names, and evidence changed after the fact.

use std::path::{Path, PathBuf};

use super::evidence::{Evidence, sha256_hex};
use super::model::Certificate;
use super::requirements::{self, Requirements, RequirementsError};
use super::verdict;

/// Why verification could not be carried out at all (as opposed to finding a difference).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A file could not be read.
    #[error("failed to read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not what it should be.
    #[error("`{path}` is not a valid {what}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// `certificate` or `evidence file`.
        what: &'static str,
        /// What is wrong, with line and column.
        message: String,
    },
    /// The file is of a format version this s3conform does not judge by.
    #[error(
        "`{path}` is {what} of format version {found}; this s3conform ({tool}) verifies version {supported}: re-certify the endpoint, or verify it with the s3conform version that wrote it ({written_by})"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// `a certificate` or `an evidence file`.
        what: &'static str,
        /// Its `format_version`.
        found: u64,
        /// The version this build writes and verifies.
        supported: u32,
        /// This build's version.
        tool: &'static str,
        /// The version the file names (`basis.tool_version`), or "unknown".
        written_by: String,
    },
    /// The requirements could not be loaded.
    #[error(transparent)]
    Requirements(#[from] RequirementsError),
}

/// Refuses a file whose `format_version` is not `supported`: its fields would be read under
/// other rules (a version 1 certificate records no operation for its witnesses, so version 2's
/// rules cannot recompute it), and a field-by-field difference would be a confusing way to say so.
fn check_version(
    value: &serde_json::Value,
    path: &Path,
    what: &'static str,
    supported: u32,
) -> Result<(), VerifyError> {
    let found = value["format_version"].as_u64().unwrap_or(0);
    if found == u64::from(supported) {
        return Ok(());
    }
    Err(VerifyError::Version {
        path: path.to_owned(),
        what,
        found,
        supported,
        tool: env!("CARGO_PKG_VERSION"),
        written_by: value["basis"]["tool_version"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned(),
    })
}

/// What verification found: nothing when the certificate is verified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Every difference, one line each.
    pub differences: Vec<String>,
    /// Things not checked, and why.
    pub notes: Vec<String>,
    /// Set when the requirements file differs from the one the certificate was judged against:
    /// the certificate may be honest but is not current, and its verdicts were not recomputed.
    pub requirements_changed: bool,
}

fn read(path: &Path) -> Result<Vec<u8>, VerifyError> {
    std::fs::read(path).map_err(|source| VerifyError::Read {
        path: path.to_owned(),
        source,
    })
}

fn parse<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    path: &Path,
    what: &'static str,
) -> Result<T, VerifyError> {
    serde_json::from_slice(bytes).map_err(|e| VerifyError::Parse {
        path: path.to_owned(),
        what,
        message: e.to_string(),
    })
}

/// Reads and parses the certificate at `path`: the one reader of `certificate.json`.
pub fn read_certificate(path: &Path) -> Result<Certificate, VerifyError> {
    parse(&read(path)?, path, "certificate")
}

/// Verifies the certificate at `cert_path` against `evidence_path` (default: the evidence file
/// the certificate names, beside it), judging with `requirements_path` when given (default: the
/// file the certificate names, or the embedded one).
pub fn verify(
    cert_path: &Path,
    evidence_path: Option<&Path>,
    requirements_path: Option<&Path>,
) -> Result<Findings, VerifyError> {
    let cert_bytes = read(cert_path)?;
    let stored: serde_json::Value = parse(&cert_bytes, cert_path, "certificate")?;
    check_version(
        &stored,
        cert_path,
        "a certificate",
        super::model::FORMAT_VERSION,
    )?;
    let cert: Certificate = parse(&cert_bytes, cert_path, "certificate")?;
    let folder = cert_path.parent().unwrap_or(Path::new("."));
    let evidence_path =
        evidence_path.map_or_else(|| folder.join(&cert.evidence.file), Path::to_owned);
    let evidence_bytes = read(&evidence_path)?;
    let mut found = Findings::default();
    let digest = sha256_hex(&evidence_bytes);
    if digest != cert.evidence.sha256 {
        found.differences.push(format!(
            "{}: SHA-256 is {digest}, the certificate records {}",
            evidence_path.display(),
            cert.evidence.sha256
        ));
    }
    let raw: serde_json::Value = parse(&evidence_bytes, &evidence_path, "evidence file")?;
    check_version(
        &raw,
        &evidence_path,
        "an evidence file",
        super::evidence::FORMAT_VERSION,
    )?;
    let evidence: Evidence = parse(&evidence_bytes, &evidence_path, "evidence file")?;
    let evidence_folder = evidence_path.parent().unwrap_or(Path::new("."));
    for c in &evidence.campaigns {
        let Some(h) = &c.history else { continue };
        let path = evidence_folder.join(&h.file);
        match std::fs::read(&path) {
            Ok(bytes) if sha256_hex(&bytes) != h.sha256 => found.differences.push(format!(
                "{}: SHA-256 is {}, the evidence records {}",
                path.display(),
                sha256_hex(&bytes),
                h.sha256
            )),
            Ok(_) => {}
            Err(e) => found
                .notes
                .push(format!("{} not checked: {e}", path.display())),
        }
    }
    let profile = evidence.basis.profile;
    let origin = &evidence.basis.requirements.origin;
    let reqs: Requirements = match requirements_path {
        Some(p) => requirements::load(p, profile)?,
        None if requirements::is_shipped(origin, profile) => requirements::embedded(profile)?,
        None => requirements::load(Path::new(origin), profile)?,
    };
    if reqs.digest != evidence.basis.requirements.digest {
        found.differences.push(format!(
            "the requirements ({}) have SHA-256 {}, the certificate was judged against {}",
            reqs.origin, reqs.digest, evidence.basis.requirements.digest
        ));
        found.requirements_changed = true;
        return Ok(found);
    }
    let ids: Vec<String> = evidence.cases.iter().map(|c| c.name.clone()).collect();
    let resolved = reqs.resolve(&ids)?;
    let recomputed = verdict::certificate(&evidence, &reqs, &resolved, &cert.evidence.sha256);
    let recomputed = serde_json::to_value(&recomputed).unwrap_or_default();
    diff("", &stored, &recomputed, &mut found.differences);
    Ok(found)
}

/// The most differences listed; the rest are counted.
const SHOWN: usize = 20;

/// Appends `path: the certificate says A, the evidence gives B` for every leaf that differs.
fn diff(path: &str, stored: &serde_json::Value, fresh: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (stored, fresh) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff(
                    &sub,
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                // Name a requirement or a case by its id rather than its position.
                let name = y
                    .get("id")
                    .or_else(|| y.get("case"))
                    .and_then(Value::as_str)
                    .map_or_else(|| i.to_string(), str::to_owned);
                diff(&format!("{path}[{name}]"), x, y, out);
            }
        }
        (a, b) if a != b => {
            if out.len() == SHOWN {
                out.push("... and more".to_owned());
            } else if out.len() < SHOWN {
                out.push(format!(
                    "{path}: the certificate says {}, the evidence gives {}",
                    short(a),
                    short(b)
                ));
            }
        }
        _ => {}
    }
}

fn short(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        format!("{}...", s.chars().take(117).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    /// `--verify` compares the rates a certificate wrote with those recomputed from the
    /// evidence: a rate must read back bit for bit (serde_json's `float_roundtrip`), or an
    /// untouched certificate would be called tampered. This rate did not, before.
    #[test]
    fn rates_read_back_bit_for_bit() {
        for rate in [
            0.030902348578491966_f64,
            1.0 / 3.0,
            0.07142857142857142,
            1e-17,
        ] {
            let text = serde_json::to_string(&rate).unwrap();
            let back: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(back.to_bits(), rate.to_bits(), "{text}");
        }
    }
}
