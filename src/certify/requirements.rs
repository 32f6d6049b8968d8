//! The requirements files: every promise of a vendor's documents, each with its public source
//! and the cases and fuzz campaigns that establish it (`requirements/<profile>.yaml`).
//!
//! A certificate is only as honest as this mapping, so it is data a reader can check against
//! the vendor's page, not code: one entry per documented promise, quoted or paraphrased (and
//! saying which), with the document and section it comes from. A promise no black-box test can
//! check is kept and marked `establish: not-testable` with the reason, so a certificate shows it
//! as "not established" instead of dropping it silently. Cases that test something no document
//! of the profile promises (RFC 9110 behaviour, what other servers were seen to do) are listed
//! as `extras`, each with a reason, so that every case of the suite is accounted for.
//!
//! The files are compiled into the binary ([`embedded`]), so `certify` works from any
//! directory and a certificate's digest names exactly the text it was judged against; [`load`]
//! reads another file instead. Problems are reported as `file:line:column: field ...` through
//! the same locator the case files use ([`crate::case::CaseError`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use crate::case::CaseError;
use crate::case::load::{closest, yaml_error};
use crate::certify::refutation::Refutation;
use crate::profile::Profile;

/// The files shipped with s3conform, by profile: (origin, text).
fn shipped(profile: Profile) -> (&'static str, &'static str) {
    match profile {
        Profile::Coreweave => (
            "requirements/coreweave.yaml",
            include_str!("../../requirements/coreweave.yaml"),
        ),
        Profile::Aws => (
            "requirements/aws.yaml",
            include_str!("../../requirements/aws.yaml"),
        ),
    }
}

/// One profile's requirements, checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Requirements {
    /// The profile the promises belong to.
    pub profile: Profile,
    /// A one-line title for certificates ("CoreWeave AI Object Storage: conditional requests").
    pub title: String,
    /// The vendor documents the statements come from.
    pub documents: Vec<Document>,
    /// The promises, in the file's order.
    pub requirements: Vec<Requirement>,
    /// Cases that test what no document of the profile promises.
    pub extras: Vec<Extra>,
    /// Lowercase hex SHA-256 of the file's bytes: which text a certificate was judged against.
    pub digest: String,
    /// `requirements/<profile>.yaml` for the shipped file, else the path given.
    pub origin: String,
}

/// A public document the statements are taken from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Document {
    /// The short id requirements cite it by (`cw-guide`).
    pub id: String,
    /// Its public title.
    pub title: String,
    /// Who publishes it (CoreWeave, AWS, IETF).
    pub publisher: String,
    /// Where it is read.
    pub url: Option<String>,
    /// The date or version it was read at.
    pub date: Option<String>,
}

/// One documented promise.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Requirement {
    /// A stable id (`CW-PUT-INM-STAR-EXISTS`), uppercase letters, digits and `-`.
    pub id: String,
    /// What the document promises.
    pub statement: String,
    /// `true`: `statement` is the document's own words; `false`: a paraphrase.
    pub quoted: bool,
    /// Where it is promised.
    pub source: Source,
    /// Case patterns (`put::safe-create-existing`, or `get::if-match-*` with a trailing `*`).
    pub cases: Vec<String>,
    /// Fuzz campaign kinds that stress the promise under concurrency.
    pub campaigns: Vec<CampaignKind>,
    /// The anomaly kinds that disprove the promise: a witness of another kind, whichever
    /// campaign found it, leaves the promise unproven but never violated. Present exactly when
    /// `campaigns` is.
    pub refuted_by: Vec<Refutation>,
    /// Why no black-box test can check the promise, when none can.
    pub not_testable: Option<String>,
    /// How the suite establishes the promise where that differs from its letter (a status no
    /// client can pin down, a part the cases leave to the campaigns), for the certificate's
    /// reader.
    pub note: Option<String>,
    /// 1-based line of the entry's `id` in its file (for messages about it).
    #[serde(skip)]
    pub line: u64,
    /// 1-based column of the entry's `id`.
    #[serde(skip)]
    column: u64,
    /// Where each of `cases` is written, for errors found when the patterns are resolved.
    #[serde(skip)]
    case_locations: Vec<(u64, u64)>,
}

/// A document and a section of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Source {
    /// A [`Document::id`] of the same file.
    pub document: String,
    /// The section, as the document titles it.
    pub section: String,
}

listed_enum! {
    /// The fuzz campaign kinds a requirement can rest on: each stresses a promise under
    /// concurrency, where a single request cannot show that it holds.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum CampaignKind {
        /// Safe-create storms: `If-None-Match: *` writers racing each other and deletes.
        SafeCreate,
        /// Compare-and-swap storms: read-modify-write loops with `If-Match`.
        Cas,
        /// The default mix: conditional reads and writes with deletes, copies and multipart.
        Mix,
    }
}

impl CampaignKind {
    /// The kebab-case name used in the files and on certificates.
    pub fn name(self) -> &'static str {
        match self {
            CampaignKind::SafeCreate => "safe-create",
            CampaignKind::Cas => "cas",
            CampaignKind::Mix => "mix",
        }
    }
}

impl fmt::Display for CampaignKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A case that tests what no document of the profile promises.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Extra {
    /// The case id (`get::if-none-match-weak`).
    pub case: String,
    /// What it tests instead, and on whose authority.
    pub reason: String,
    /// Where `case` is written.
    #[serde(skip)]
    location: (u64, u64),
}

/// Why a requirements file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RequirementsError {
    /// The file could not be read.
    #[error("failed to read the requirements file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is malformed or names something that does not exist; located.
    #[error(transparent)]
    Invalid(#[from] CaseError),
}

/// Whether `origin` names the file shipped for `profile` (`requirements/<profile>.yaml`, as the
/// embedded copy names itself, or with an `embedded:` prefix): `--verify` then judges with the
/// embedded copy, wherever it runs, rather than with whatever file that relative path reaches
/// from the current directory. The digest comparison still tells an edited file apart.
pub fn is_shipped(origin: &str, profile: Profile) -> bool {
    origin.strip_prefix("embedded:").unwrap_or(origin) == shipped(profile).0
}

/// The shipped requirements of `profile`.
pub fn embedded(profile: Profile) -> Result<Requirements, RequirementsError> {
    let (origin, text) = shipped(profile);
    parse(origin, text.as_bytes(), profile)
}

/// The requirements in `path`, checked against `profile`.
pub fn load(path: &Path, profile: Profile) -> Result<Requirements, RequirementsError> {
    let bytes = std::fs::read(path).map_err(|source| RequirementsError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&path.display().to_string(), &bytes, profile)
}

/// Parses and checks a requirements file's bytes; `origin` names it in errors.
pub fn parse(
    origin: &str,
    bytes: &[u8],
    profile: Profile,
) -> Result<Requirements, RequirementsError> {
    let path = Path::new(origin);
    let whole = |message: &str| CaseError {
        path: path.to_owned(),
        line: 0,
        column: 0,
        field: None,
        message: message.to_owned(),
        hint: None,
    };
    let text = std::str::from_utf8(bytes)
        .map_err(|_| whole("not UTF-8 text: a requirements file is YAML"))?;
    if text.trim().is_empty() {
        return Err(whole(
            "the file is empty: a requirements file needs `profile`, `title`, `documents` and `requirements`",
        )
        .into());
    }
    let raw: RawFile = serde_saphyr::from_str(text).map_err(|e| yaml_error(path, text, &e))?;
    let requirements = Checker { path }.check(raw, profile)?;
    Ok(Requirements {
        digest: hex::encode(Sha256::digest(bytes)),
        origin: origin.to_owned(),
        ..requirements
    })
}

/// The case patterns of a requirements file expanded against a suite.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Resolved {
    /// Requirement id → the case ids that establish it (sorted; empty for a not-testable one).
    pub cases_of: BTreeMap<String, Vec<String>>,
    /// Case id → the ids of the requirements it helps establish, in the file's order.
    pub requirements_of: BTreeMap<String, Vec<String>>,
    /// Case id → why it is an extra.
    pub extras: BTreeMap<String, String>,
    /// Cases of the suite that no requirement names and no extra lists: the file is behind
    /// the suite.
    pub unmapped: Vec<String>,
}

impl Resolved {
    /// The cases that establish requirement `id` (none for an unknown id).
    pub fn cases(&self, id: &str) -> &[String] {
        self.cases_of.get(id).map_or(&[], Vec::as_slice)
    }

    /// The requirements case `case` helps establish (none for an extra or an unknown case).
    pub fn requirements(&self, case: &str) -> &[String] {
        self.requirements_of.get(case).map_or(&[], Vec::as_slice)
    }
}

impl Requirements {
    /// Expands the case patterns against the suite's case ids. A pattern that matches no case,
    /// an extra that names no case, and a case both required and listed as an extra are errors
    /// located in the file; cases the file does not mention are listed in
    /// [`Resolved::unmapped`].
    pub fn resolve(&self, case_ids: &[String]) -> Result<Resolved, RequirementsError> {
        let ids: BTreeSet<&str> = case_ids.iter().map(String::as_str).collect();
        let err =
            |(line, column): (u64, u64), field: String, message: String, given: &str| CaseError {
                path: PathBuf::from(&self.origin),
                line,
                column,
                field: Some(field),
                message,
                hint: closest(given.trim_end_matches('*'), ids.iter().copied())
                    .map(|n| format!("did you mean `{n}`?")),
            };
        let mut resolved = Resolved::default();
        for (r_index, r) in self.requirements.iter().enumerate() {
            let mut matched = BTreeSet::new();
            for (p_index, pattern) in r.cases.iter().enumerate() {
                let hits: Vec<&str> = ids
                    .iter()
                    .copied()
                    .filter(|id| pattern_matches(pattern, id))
                    .collect();
                if hits.is_empty() {
                    return Err(err(
                        r.case_locations[p_index],
                        format!("requirements[{r_index}].cases[{p_index}]"),
                        format!("`{pattern}` names no case of the suite"),
                        pattern,
                    )
                    .into());
                }
                matched.extend(hits);
            }
            for case in &matched {
                resolved
                    .requirements_of
                    .entry((*case).to_owned())
                    .or_default()
                    .push(r.id.clone());
            }
            resolved.cases_of.insert(
                r.id.clone(),
                matched.into_iter().map(str::to_owned).collect(),
            );
        }
        for (index, extra) in self.extras.iter().enumerate() {
            let field = format!("extras[{index}].case");
            if !ids.contains(extra.case.as_str()) {
                return Err(err(
                    extra.location,
                    field,
                    format!("`{}` names no case of the suite", extra.case),
                    &extra.case,
                )
                .into());
            }
            if let Some(by) = resolved.requirements_of.get(&extra.case) {
                return Err(CaseError {
                    hint: None,
                    ..err(
                        extra.location,
                        field,
                        format!(
                            "`{}` is an extra but requirement {} names it: a case is one or the other",
                            extra.case,
                            by.join(", ")
                        ),
                        "",
                    )
                }
                .into());
            }
            resolved
                .extras
                .insert(extra.case.clone(), extra.reason.clone());
        }
        resolved.unmapped = case_ids
            .iter()
            .filter(|c| {
                !resolved.requirements_of.contains_key(*c) && !resolved.extras.contains_key(*c)
            })
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        Ok(resolved)
    }

    /// The requirement with this id.
    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }

    /// The document with this id.
    pub fn document(&self, id: &str) -> Option<&Document> {
        self.documents.iter().find(|d| d.id == id)
    }
}

/// Whether case id `id` is named by `pattern` (exact, or a prefix before a trailing `*`).
fn pattern_matches(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => pattern == id,
    }
}

/// How a requirement is established; the file says `establish: not-testable` for a promise no
/// black-box test can check, and nothing otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Establish {
    /// By its cases (and campaigns).
    #[default]
    Tested,
    /// By nothing a client can observe; `reason` says why.
    NotTestable,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    profile: Spanned<Profile>,
    title: Spanned<String>,
    documents: Vec<RawDocument>,
    requirements: Vec<RawRequirement>,
    #[serde(default)]
    extras: Vec<RawExtra>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    id: Spanned<String>,
    title: Spanned<String>,
    publisher: Spanned<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    date: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    id: Spanned<String>,
    statement: Spanned<String>,
    quoted: bool,
    source: RawSource,
    #[serde(default)]
    cases: Vec<Spanned<String>>,
    #[serde(default)]
    campaigns: Vec<Spanned<CampaignKind>>,
    #[serde(default)]
    refuted_by: Vec<Spanned<String>>,
    #[serde(default)]
    establish: Option<Spanned<Establish>>,
    #[serde(default)]
    reason: Option<Spanned<String>>,
    #[serde(default)]
    note: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    document: Spanned<String>,
    section: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtra {
    case: Spanned<String>,
    reason: Spanned<String>,
}

/// The checks serde cannot make, each located at the value at fault.
struct Checker<'a> {
    path: &'a Path,
}

impl Checker<'_> {
    fn at<T>(
        &self,
        v: &Spanned<T>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> CaseError {
        CaseError {
            path: self.path.to_owned(),
            line: v.referenced.line(),
            column: v.referenced.column(),
            field: Some(field.into()),
            message: message.into(),
            hint: None,
        }
    }

    /// A required text that must say something.
    fn text(&self, v: &Spanned<String>, field: &str) -> Result<String, CaseError> {
        let t = v.value.trim();
        if t.is_empty() {
            return Err(self.at(v, field, "must not be empty"));
        }
        Ok(t.to_owned())
    }

    fn check(&self, raw: RawFile, profile: Profile) -> Result<Requirements, CaseError> {
        if raw.profile.value != profile {
            return Err(self.at(
                &raw.profile,
                "profile",
                format!(
                    "this file holds the `{}` requirements, not the `{profile}` ones",
                    raw.profile.value
                ),
            ));
        }
        let title = self.text(&raw.title, "title")?;
        let documents = self.documents(raw.documents)?;
        let known: Vec<&str> = documents.iter().map(|d| d.id.as_str()).collect();
        if raw.requirements.is_empty() {
            return Err(CaseError {
                path: self.path.to_owned(),
                line: 0,
                column: 0,
                field: Some("requirements".into()),
                message: "a requirements file lists at least one requirement".into(),
                hint: None,
            });
        }
        let mut seen = BTreeSet::new();
        let mut requirements = Vec::new();
        for (i, r) in raw.requirements.into_iter().enumerate() {
            let req = self.requirement(i, r, &known)?;
            requirements.push(req);
        }
        for (i, r) in requirements.iter().enumerate() {
            if !seen.insert(r.id.clone()) {
                return Err(CaseError {
                    path: self.path.to_owned(),
                    line: r.line,
                    column: r.column,
                    field: Some(format!("requirements[{i}].id")),
                    message: format!("`{}` is the id of an earlier requirement", r.id),
                    hint: None,
                });
            }
        }
        let mut extras = Vec::new();
        let mut listed = BTreeSet::new();
        for (i, e) in raw.extras.into_iter().enumerate() {
            let field = format!("extras[{i}].case");
            let case = self.text(&e.case, &field)?;
            if !valid_case_id(&case) {
                return Err(self.at(
                    &e.case,
                    field,
                    format!("`{case}` is not a case id (`operation::name`; extras take no `*`)"),
                ));
            }
            if !listed.insert(case.clone()) {
                return Err(self.at(&e.case, field, format!("`{case}` is listed twice")));
            }
            extras.push(Extra {
                reason: self.text(&e.reason, &format!("extras[{i}].reason"))?,
                location: (e.case.referenced.line(), e.case.referenced.column()),
                case,
            });
        }
        Ok(Requirements {
            profile,
            title,
            documents,
            requirements,
            extras,
            digest: String::new(),
            origin: String::new(),
        })
    }

    fn documents(&self, raw: Vec<RawDocument>) -> Result<Vec<Document>, CaseError> {
        let mut documents: Vec<Document> = Vec::new();
        for (i, d) in raw.into_iter().enumerate() {
            let id = self.text(&d.id, &format!("documents[{i}].id"))?;
            if documents.iter().any(|e| e.id == id) {
                return Err(self.at(
                    &d.id,
                    format!("documents[{i}].id"),
                    format!("`{id}` is the id of an earlier document"),
                ));
            }
            documents.push(Document {
                title: self.text(&d.title, &format!("documents[{i}].title"))?,
                publisher: self.text(&d.publisher, &format!("documents[{i}].publisher"))?,
                url: d.url.filter(|u| !u.trim().is_empty()),
                date: d.date.filter(|u| !u.trim().is_empty()),
                id,
            });
        }
        if documents.is_empty() {
            return Err(CaseError {
                path: self.path.to_owned(),
                line: 0,
                column: 0,
                field: Some("documents".into()),
                message: "a requirements file names the documents its statements come from".into(),
                hint: None,
            });
        }
        Ok(documents)
    }

    fn requirement(
        &self,
        i: usize,
        r: RawRequirement,
        known: &[&str],
    ) -> Result<Requirement, CaseError> {
        let f = |name: &str| format!("requirements[{i}].{name}");
        let id = self.text(&r.id, &f("id"))?;
        if !id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(self.at(
                &r.id,
                f("id"),
                format!("`{id}`: an id is uppercase letters, digits and `-`"),
            ));
        }
        let statement = self.text(&r.statement, &f("statement"))?;
        let document = self.text(&r.source.document, &f("source.document"))?;
        if !known.contains(&document.as_str()) {
            return Err(CaseError {
                hint: closest(&document, known.iter().copied())
                    .map(|n| format!("did you mean `{n}`?")),
                ..self.at(
                    &r.source.document,
                    f("source.document"),
                    format!(
                        "`{document}` is not one of the file's documents ({})",
                        known.join(", ")
                    ),
                )
            });
        }
        let section = self.text(&r.source.section, &f("source.section"))?;
        let mut cases = Vec::new();
        let mut case_locations = Vec::new();
        for (j, c) in r.cases.iter().enumerate() {
            let pattern = c.value.trim();
            let body = pattern.strip_suffix('*').unwrap_or(pattern);
            let well_formed = if pattern.ends_with('*') {
                body.contains("::") && !body.contains('*') && valid_case_id(&format!("{body}x"))
            } else {
                valid_case_id(pattern)
            };
            if !well_formed {
                return Err(self.at(
                    c,
                    f(&format!("cases[{j}]")),
                    format!(
                        "`{pattern}` is not a case id (`operation::name`, or a prefix of one followed by `*`)"
                    ),
                ));
            }
            if cases.iter().any(|p| p == pattern) {
                return Err(self.at(
                    c,
                    f(&format!("cases[{j}]")),
                    format!("`{pattern}` is listed twice"),
                ));
            }
            cases.push(pattern.to_owned());
            case_locations.push((c.referenced.line(), c.referenced.column()));
        }
        let mut campaigns = Vec::new();
        for (j, k) in r.campaigns.iter().enumerate() {
            if campaigns.contains(&k.value) {
                return Err(self.at(
                    k,
                    f(&format!("campaigns[{j}]")),
                    format!("`{}` is listed twice", k.value),
                ));
            }
            campaigns.push(k.value);
        }
        let refuted_by = self.refuted_by(&r, &f)?;
        let reason = match &r.reason {
            Some(reason) => Some(self.text(reason, &f("reason"))?),
            None => None,
        };
        let establish = r.establish.as_ref().map(|e| e.value).unwrap_or_default();
        let not_testable = match (establish, reason, &r.establish, &r.reason) {
            (Establish::NotTestable, Some(reason), _, _) => {
                if let Some(c) = r.cases.first() {
                    return Err(self.at(
                        c,
                        f("cases"),
                        "a not-testable requirement names no cases: a case that checks it makes it testable",
                    ));
                }
                if let Some(k) = r.campaigns.first() {
                    return Err(self.at(
                        k,
                        f("campaigns"),
                        "a not-testable requirement names no campaigns",
                    ));
                }
                Some(reason)
            }
            (Establish::NotTestable, None, Some(at), _) => {
                return Err(self.at(
                    at,
                    f("reason"),
                    "`establish: not-testable` needs a `reason`: why no black-box test can check it",
                ));
            }
            (Establish::Tested, Some(_), _, Some(at)) => {
                return Err(self.at(
                    at,
                    f("reason"),
                    "`reason` goes with `establish: not-testable`",
                ));
            }
            _ if cases.is_empty() => {
                return Err(self.at(
                    &r.id,
                    f("cases"),
                    format!(
                        "`{id}` names no case: list the cases that establish it, or mark it `establish: not-testable` with a `reason`"
                    ),
                ));
            }
            _ => None,
        };
        let note = match &r.note {
            Some(note) => Some(self.text(note, &f("note"))?),
            None => None,
        };
        Ok(Requirement {
            line: r.id.referenced.line(),
            column: r.id.referenced.column(),
            note,
            id,
            statement,
            quoted: r.quoted,
            source: Source { document, section },
            cases,
            campaigns,
            refuted_by,
            not_testable,
            case_locations,
        })
    }

    /// The `refuted_by` entries, checked: each an anomaly kind (narrowed to a condition only
    /// where the kind concerns one), none twice, and present exactly when campaigns are.
    fn refuted_by(
        &self,
        r: &RawRequirement,
        f: &dyn Fn(&str) -> String,
    ) -> Result<Vec<Refutation>, CaseError> {
        let mut out: Vec<Refutation> = Vec::new();
        for (j, entry) in r.refuted_by.iter().enumerate() {
            let field = f(&format!("refuted_by[{j}]"));
            let refutation: Refutation =
                entry
                    .value
                    .parse()
                    .map_err(|e: crate::certify::refutation::BadRefutation| CaseError {
                        hint: e
                            .unknown
                            .as_deref()
                            .and_then(|u| closest(u, e.candidates.iter().copied()))
                            .map(|n| format!("did you mean `{n}`?")),
                        ..self.at(entry, field.clone(), e.message)
                    })?;
            if let Some(earlier) = out
                .iter()
                .find(|o| o.covers(&refutation) || refutation.covers(o))
            {
                return Err(self.at(
                    entry,
                    field,
                    if earlier.covers(&refutation) {
                        format!("`{refutation}` is already covered by `{earlier}`")
                    } else {
                        format!("`{refutation}` admits every witness `{earlier}` does, so that entry is already covered: keep one")
                    },
                ));
            }
            out.push(refutation);
        }
        match (r.campaigns.first(), r.refuted_by.first()) {
            (Some(_), None) if r.establish.is_none() => Err(self.at(
                &r.id,
                f("refuted_by"),
                "rests on campaigns but names no `refuted_by`: list the anomaly kinds that disprove it",
            )),
            (None, Some(entry)) => Err(self.at(
                entry,
                f("refuted_by"),
                "`refuted_by` goes with `campaigns`: the anomalies are what the campaigns find",
            )),
            _ => Ok(out),
        }
    }
}

/// `operation::name` with the case loader's name rules (lowercase letters, digits, `-`, `_`).
fn valid_case_id(s: &str) -> bool {
    let ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    };
    s.split_once("::")
        .is_some_and(|(op, name)| ok(op) && ok(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"profile: coreweave
title: "Example: conditional writes"
documents:
  - id: guide
    title: "Conditional requests"
    publisher: Example
    url: https://example.com/guide
requirements:
  - id: EX-PUT-INM-STAR
    statement: "Write only if no object exists at the key."
    quoted: true
    source: { document: guide, section: "Conditional writes" }
    cases: [put::safe-create-existing, put::safe-create-a*]
    campaigns: [safe-create, mix]
    refuted_by: [double-create, ignored-precondition(If-None-Match)]
  - id: EX-SIGV4
    statement: "Requests are signed."
    quoted: false
    source: { document: guide, section: "Overview" }
    establish: not-testable
    reason: "the suite always signs"
extras:
  - case: get::if-none-match-weak
    reason: "RFC 9110 weak comparison"
"#;

    fn suite() -> Vec<String> {
        [
            "put::safe-create-existing",
            "put::safe-create-absent",
            "put::safe-create-after-delete",
            "get::if-none-match-weak",
            "get::if-match-hit",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    fn parse_text(text: &str) -> Result<Requirements, RequirementsError> {
        parse(
            "requirements/example.yaml",
            text.as_bytes(),
            Profile::Coreweave,
        )
    }

    /// The located error of a file that must not load.
    fn invalid(text: &str) -> CaseError {
        match parse_text(text) {
            Err(RequirementsError::Invalid(e)) => e,
            other => panic!("expected a located error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_file_loads_and_resolves() {
        let r = parse_text(GOOD).unwrap();
        assert_eq!(r.requirements.len(), 2);
        assert_eq!(r.digest.len(), 64);
        assert!(
            r.digest
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(
            r.requirements[0].campaigns,
            [CampaignKind::SafeCreate, CampaignKind::Mix]
        );
        assert_eq!(
            r.requirements[1].not_testable.as_deref(),
            Some("the suite always signs")
        );
        let resolved = r.resolve(&suite()).unwrap();
        assert_eq!(
            resolved.cases("EX-PUT-INM-STAR"),
            [
                "put::safe-create-absent",
                "put::safe-create-after-delete",
                "put::safe-create-existing"
            ]
        );
        assert_eq!(
            resolved.requirements("put::safe-create-absent"),
            ["EX-PUT-INM-STAR"]
        );
        assert!(resolved.cases("EX-SIGV4").is_empty());
        assert_eq!(resolved.extras.len(), 1);
        assert_eq!(resolved.unmapped, ["get::if-match-hit"]);
    }

    #[test]
    fn the_digest_is_of_the_bytes() {
        let a = parse_text(GOOD).unwrap();
        let b = parse_text(&GOOD.replace("Example: conditional", "Example:  conditional")).unwrap();
        assert_ne!(a.digest, b.digest);
        assert_eq!(
            parse_text("").unwrap_err().to_string(),
            "requirements/example.yaml: the file is empty: a requirements file needs `profile`, `title`, `documents` and `requirements`"
        );
    }

    #[test]
    fn an_unknown_field_is_named_with_its_line_and_a_suggestion() {
        let e = invalid(&GOOD.replace("    quoted: true", "    quoted: true\n    campaign: [cas]"));
        assert_eq!((e.line, e.field.as_deref()), (12, Some("campaign")), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `campaigns`?"), "{e}");
        assert!(
            e.to_string().starts_with("requirements/example.yaml:12:"),
            "{e}"
        );
    }

    #[test]
    fn a_yaml_syntax_error_is_located() {
        let e = invalid(&GOOD.replace("    quoted: false", "   quoted: false"));
        assert!(e.line >= 17 && e.line <= 18, "{e}");
        assert!(
            e.to_string().starts_with("requirements/example.yaml:1"),
            "{e}"
        );
    }

    #[test]
    fn a_duplicate_id_is_located_at_the_second() {
        let e = invalid(&GOOD.replace("id: EX-SIGV4", "id: EX-PUT-INM-STAR"));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (16, Some("requirements[1].id")),
            "{e}"
        );
        assert!(e.message.contains("earlier requirement"), "{e}");
    }

    #[test]
    fn an_unknown_document_is_located_and_the_known_ones_listed() {
        let e = invalid(&GOOD.replace(
            "{ document: guide, section: \"Overview\" }",
            "{ document: guid, section: \"Overview\" }",
        ));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (19, Some("requirements[1].source.document")),
            "{e}"
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean `guide`?"), "{e}");
    }

    #[test]
    fn an_unknown_campaign_kind_is_located() {
        let e = invalid(&GOOD.replace("[safe-create, mix]", "[safe-create, storm]"));
        assert_eq!(e.line, 14, "{e}");
        assert!(e.message.contains("storm"), "{e}");
    }

    #[test]
    fn refuting_anomalies_are_checked_and_located() {
        let r = parse_text(GOOD).unwrap();
        let names: Vec<String> = r.requirements[0]
            .refuted_by
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            names,
            ["double-create", "ignored-precondition(If-None-Match)"]
        );
        let e = invalid(&GOOD.replace("[double-create,", "[duble-create,"));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (15, Some("requirements[0].refuted_by[0]")),
            "{e}"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("did you mean `double-create`?"),
            "{e}"
        );
        assert!(e.message.contains("not an anomaly kind"), "{e}");
        let e = invalid(&GOOD.replace("[double-create,", "[double-create(If-Match),"));
        assert!(e.message.contains("concerns no single precondition"), "{e}");
        let e =
            invalid(&GOOD.replace("(If-None-Match)]", "(If-None-Match), ignored-precondition]"));
        assert_eq!(
            e.field.as_deref(),
            Some("requirements[0].refuted_by[2]"),
            "{e}"
        );
        assert!(e.message.contains("already covered"), "{e}");
        let e = invalid(&GOOD.replace("(If-None-Match)]", "(If-None-Match PutObjct)]"));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (15, Some("requirements[0].refuted_by[1]")),
            "{e}"
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean `PutObject`?"), "{e}");
        let narrowed = parse_text(&GOOD.replace(
            "(If-None-Match)]",
            "(If-None-Match PutObject), ignored-precondition(If-None-Match CopyObject)]",
        ))
        .unwrap();
        assert_eq!(
            narrowed.requirements[0].refuted_by[1].to_string(),
            "ignored-precondition(PutObject If-None-Match)"
        );
        let e = invalid(&GOOD.replace(
            "(If-None-Match)]",
            "(If-None-Match PutObject), ignored-precondition(PutObject)]",
        ));
        assert!(e.message.contains("already covered"), "{e}");
        let e = invalid(&GOOD.replace(
            "    refuted_by: [double-create, ignored-precondition(If-None-Match)]\n",
            "",
        ));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (9, Some("requirements[0].refuted_by")),
            "{e}"
        );
        let e = invalid(&GOOD.replace("    campaigns: [safe-create, mix]\n", ""));
        assert!(e.message.contains("goes with `campaigns`"), "{e}");
    }

    #[test]
    fn a_pattern_that_names_no_case_is_located_when_resolved() {
        let r =
            parse_text(&GOOD.replace("put::safe-create-existing,", "put::safe-create-exsting,"))
                .unwrap();
        let Err(RequirementsError::Invalid(e)) = r.resolve(&suite()) else {
            panic!("a pattern that names nothing must not resolve");
        };
        assert_eq!(
            (e.line, e.field.as_deref()),
            (13, Some("requirements[0].cases[0]")),
            "{e}"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("did you mean `put::safe-create-existing`?"),
            "{e}"
        );
        let r = parse_text(&GOOD.replace("put::safe-create-a*", "put::nothing*")).unwrap();
        let e = r.resolve(&suite()).unwrap_err().to_string();
        assert!(
            e.contains("requirements[0].cases[1]") && e.contains("`put::nothing*` names no case"),
            "{e}"
        );
    }

    #[test]
    fn requirements_must_be_established_or_say_why_not() {
        let e = invalid(&GOOD.replace("    reason: \"the suite always signs\"\n", ""));
        assert_eq!(e.field.as_deref(), Some("requirements[1].reason"), "{e}");
        let e = invalid(&GOOD.replace("    establish: not-testable\n", ""));
        assert!(
            e.message.contains("goes with `establish: not-testable`"),
            "{e}"
        );
        let e = invalid(&GOOD.replace(
            "    cases: [put::safe-create-existing, put::safe-create-a*]\n",
            "",
        ));
        assert_eq!(e.field.as_deref(), Some("requirements[0].cases"), "{e}");
        let e = invalid(&GOOD.replace(
            "    establish: not-testable",
            "    cases: [get::if-match-hit]\n    establish: not-testable",
        ));
        assert!(e.message.contains("names no cases"), "{e}");
        let e = invalid(&GOOD.replace("statement: \"Requests are signed.\"", "statement: \" \""));
        assert_eq!(e.field.as_deref(), Some("requirements[1].statement"), "{e}");
        let e = invalid(&GOOD.replace("section: \"Overview\"", "section: \"\""));
        assert_eq!(
            e.field.as_deref(),
            Some("requirements[1].source.section"),
            "{e}"
        );
    }

    #[test]
    fn malformed_ids_patterns_and_profiles_are_refused() {
        let e = invalid(&GOOD.replace("id: EX-SIGV4", "id: ex-sigv4"));
        assert_eq!(e.field.as_deref(), Some("requirements[1].id"), "{e}");
        let e = invalid(&GOOD.replace("put::safe-create-a*", "put::*-absent"));
        assert_eq!(e.field.as_deref(), Some("requirements[0].cases[1]"), "{e}");
        let e = invalid(&GOOD.replace("- case: get::if-none-match-weak", "- case: get::if-*"));
        assert_eq!(e.field.as_deref(), Some("extras[0].case"), "{e}");
        let e = invalid(&GOOD.replace("profile: coreweave", "profile: aws"));
        assert_eq!((e.line, e.field.as_deref()), (1, Some("profile")), "{e}");
        let e = invalid(&GOOD.replace("profile: coreweave", "profile: minio"));
        assert_eq!(e.line, 1, "{e}");
    }

    #[test]
    fn an_extra_is_a_case_that_exists_and_that_no_requirement_names() {
        let r = parse_text(&GOOD.replace(
            "- case: get::if-none-match-weak",
            "- case: put::safe-create-absent",
        ))
        .unwrap();
        let e = r.resolve(&suite()).unwrap_err().to_string();
        assert!(
            e.contains("extras[0].case") && e.contains("EX-PUT-INM-STAR names it"),
            "{e}"
        );
        let r = parse_text(&GOOD.replace(
            "- case: get::if-none-match-weak",
            "- case: get::if-none-match-wek",
        ))
        .unwrap();
        let e = r.resolve(&suite()).unwrap_err().to_string();
        assert!(e.starts_with("requirements/example.yaml:23:"), "{e}");
    }

    #[test]
    fn the_shipped_files_load_for_their_profiles() {
        for profile in Profile::ALL {
            let r = embedded(profile).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(r.profile, profile);
            assert_eq!(r.origin, format!("requirements/{profile}.yaml"));
        }
        let other = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("requirements/aws.yaml");
        let e = load(&other, Profile::Coreweave).unwrap_err().to_string();
        assert!(
            e.contains("aws.yaml:") && e.contains("field `profile`"),
            "{e}"
        );
        let e = load(Path::new("no/such/file.yaml"), Profile::Aws)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "failed to read the requirements file no/such/file.yaml");
    }
}
