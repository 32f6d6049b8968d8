//! The requirements a certificate judges: one entry per promise of a vendor's documents, with the
//! cases and campaign kinds that establish it, read from `requirements/<profile>.yaml`.
//!
//! The files are data, so a vendor's promise can be added or reworded without touching the
//! certifier; the embedded copies are the ones the binary was built with, and a certificate
//! records which file (and its SHA-256) it was judged against.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::profile::Profile;

/// One profile's requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirements {
    /// The profile the requirements are for.
    pub profile: Profile,
    /// What the certificate is titled after.
    pub title: String,
    /// The public documents the requirements cite.
    pub documents: Vec<Document>,
    /// The promises, in file order.
    pub requirements: Vec<Requirement>,
    /// Cases that establish no promise of these documents, and why they run anyway.
    pub extras: Vec<Extra>,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub digest: String,
    /// Where the file came from: `embedded:requirements/<profile>.yaml` or a path.
    pub origin: String,
}

/// A public document the requirements cite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Short id the requirements refer to.
    pub id: String,
    /// The document's title.
    pub title: String,
    /// Who publishes it.
    pub publisher: String,
    /// Where it is read.
    #[serde(default)]
    pub url: Option<String>,
    /// Its date, as the publisher gives it.
    #[serde(default)]
    pub date: Option<String>,
}

/// One documented promise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Stable id, e.g. `CW-SAFE-CREATE`.
    pub id: String,
    /// The promise, quoted or paraphrased.
    pub statement: String,
    /// Whether `statement` is the document's own words.
    #[serde(default)]
    pub quoted: bool,
    /// Where the document says it.
    pub source: Source,
    /// Case ids (`dir::stem`; a trailing `*` matches any ending).
    #[serde(default)]
    pub cases: Vec<String>,
    /// Campaign kinds that also establish it.
    #[serde(default)]
    pub campaigns: Vec<CampaignKind>,
    /// Why no black-box client can establish it, if none can.
    #[serde(default)]
    pub not_testable: Option<String>,
}

/// A document and a section in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// A [`Document::id`].
    pub document: String,
    /// The section's heading.
    pub section: String,
}

/// The kinds of fuzz campaign a requirement can rest on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CampaignKind {
    /// Safe creates (`If-None-Match: *`) racing on one key, with deletes.
    SafeCreate,
    /// Compare-and-swap (`If-Match`) read-modify-write loops racing on one key.
    Cas,
    /// The default mix: every operation, conditional reads, copies, multipart, deletes.
    Mix,
}

/// A case that establishes no promise of the documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extra {
    /// The case id (a trailing `*` allowed).
    pub case: String,
    /// Why it runs anyway.
    pub reason: String,
}

/// Which cases establish which requirement, both ways.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    by_requirement: BTreeMap<String, Vec<String>>,
    by_case: BTreeMap<String, Vec<String>>,
}

impl Resolved {
    /// The case ids establishing `req_id` (empty for an unknown id).
    pub fn cases_of(&self, req_id: &str) -> &[String] {
        self.by_requirement.get(req_id).map_or(&[], Vec::as_slice)
    }

    /// The requirement ids `case_id` establishes (empty for an extra or unknown case).
    pub fn requirements_of(&self, case_id: &str) -> &[String] {
        self.by_case.get(case_id).map_or(&[], Vec::as_slice)
    }
}

/// Why requirements could not be read or matched to the suite.
#[derive(Debug, thiserror::Error)]
pub enum RequirementsError {
    /// The file could not be read.
    #[error("failed to read the requirements file `{path}`")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid requirements YAML.
    #[error("{origin}: {message}")]
    Parse {
        /// The file.
        origin: String,
        /// What is wrong, with its line and column.
        message: String,
    },
    /// The file is for another profile.
    #[error("{origin}: the requirements are for profile `{found}`, not `{wanted}`")]
    WrongProfile {
        /// The file.
        origin: String,
        /// Its profile.
        found: Profile,
        /// The profile asked for.
        wanted: Profile,
    },
    /// A requirement cites a document the file does not list.
    #[error("{origin}: requirement `{requirement}` cites unknown document `{document}`")]
    UnknownDocument {
        /// The file.
        origin: String,
        /// The requirement.
        requirement: String,
        /// The document id.
        document: String,
    },
    /// A case pattern matches no case of the suite.
    #[error("requirement `{requirement}`: `{pattern}` matches no case of the suite")]
    NoSuchCase {
        /// The requirement (or `extras`).
        requirement: String,
        /// The pattern.
        pattern: String,
    },
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    profile: Profile,
    title: String,
    documents: Vec<Document>,
    requirements: Vec<Requirement>,
    #[serde(default)]
    extras: Vec<Extra>,
}

/// The requirements the binary was built with for `profile`.
pub fn embedded(profile: Profile) -> Result<Requirements, RequirementsError> {
    let (name, text) = match profile {
        Profile::Coreweave => (
            "requirements/coreweave.yaml",
            include_str!("../../requirements/coreweave.yaml"),
        ),
        Profile::Aws => (
            "requirements/aws.yaml",
            include_str!("../../requirements/aws.yaml"),
        ),
    };
    parse(text.as_bytes(), &format!("embedded:{name}"), profile)
}

/// The requirements in the file at `path`, which must be for `profile`.
pub fn load(path: &Path, profile: Profile) -> Result<Requirements, RequirementsError> {
    let bytes = std::fs::read(path).map_err(|source| RequirementsError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&bytes, &path.display().to_string(), profile)
}

fn parse(bytes: &[u8], origin: &str, profile: Profile) -> Result<Requirements, RequirementsError> {
    let parse_err = |message: String| RequirementsError::Parse {
        origin: origin.to_owned(),
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| parse_err(format!("not UTF-8: {e}")))?;
    let file: File = serde_saphyr::from_str(text).map_err(|e| parse_err(e.to_string()))?;
    if file.profile != profile {
        return Err(RequirementsError::WrongProfile {
            origin: origin.to_owned(),
            found: file.profile,
            wanted: profile,
        });
    }
    for r in &file.requirements {
        if !file.documents.iter().any(|d| d.id == r.source.document) {
            return Err(RequirementsError::UnknownDocument {
                origin: origin.to_owned(),
                requirement: r.id.clone(),
                document: r.source.document.clone(),
            });
        }
    }
    Ok(Requirements {
        profile,
        title: file.title,
        documents: file.documents,
        requirements: file.requirements,
        extras: file.extras,
        digest: hex::encode(Sha256::digest(bytes)),
        origin: origin.to_owned(),
    })
}

/// Whether `pattern` (a case id, or a prefix ending in `*`) names `case`.
fn matches(pattern: &str, case: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => case.starts_with(prefix),
        None => pattern == case,
    }
}

impl Requirements {
    /// Matches every requirement's case patterns against the suite's `case_ids`.
    pub fn resolve(&self, case_ids: &[String]) -> Result<Resolved, RequirementsError> {
        let mut resolved = Resolved::default();
        for r in &self.requirements {
            let mut cases = Vec::new();
            for pattern in &r.cases {
                let hits: Vec<&String> = case_ids.iter().filter(|c| matches(pattern, c)).collect();
                if hits.is_empty() {
                    return Err(RequirementsError::NoSuchCase {
                        requirement: r.id.clone(),
                        pattern: pattern.clone(),
                    });
                }
                for c in hits {
                    if !cases.contains(c) {
                        cases.push(c.clone());
                    }
                }
            }
            for c in &cases {
                resolved
                    .by_case
                    .entry(c.clone())
                    .or_default()
                    .push(r.id.clone());
            }
            resolved.by_requirement.insert(r.id.clone(), cases);
        }
        Ok(resolved)
    }
}
