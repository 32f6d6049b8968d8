//! Which anomalies disprove a promise: the `refuted_by` entries of a requirements file.
//!
//! A campaign's witness is evidence against the promises it contradicts and no others: a double
//! create says nothing about whether a GET with `If-Match` downloads the matching object. So each
//! requirement that rests on campaigns names the anomaly kinds that disprove it, and a witness
//! violates exactly the requirements that name its kind.
//!
//! Three kinds concern a precondition rather than a state: an ignored precondition, a phantom
//! 412 and a spurious 409. Whether one disproves a safe-create or a compare-and-swap promise
//! depends on the condition the convicted operation carried, so an entry may narrow them to it:
//! `ignored-precondition(If-None-Match)` is an `If-None-Match: *` write wrongly accepted, and
//! `phantom-412(If-Match)` an `If-Match` request wrongly refused. Unnarrowed, they are refuted by
//! either condition (a promise of linearizability as a whole).
//!
//! Any kind may also be narrowed to the S3 operations the promise is about: a lost update among
//! PutObjects says nothing of CompleteMultipartUpload's `If-Match`. An entry narrowed to
//! operations admits a witness only when every op the witness convicts
//! ([`crate::check::Anomaly::blamed`]) is one of them, so a double create of a PutObject and a
//! CompleteMultipartUpload (one of the two broke its promise, the witness cannot say which)
//! disproves neither operation's own promise, only promises about both. A witness that convicts
//! no op (a search verdict) admits no narrowed entry.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::check::AnomalyKind;
use crate::history::{Req, Via};

/// A precondition header an anomaly can be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Condition {
    /// `If-Match`: compare-and-swap, a conditional delete, a conditional read.
    #[serde(rename = "If-Match")]
    IfMatch,
    /// `If-None-Match`: safe create, a conditional read.
    #[serde(rename = "If-None-Match")]
    IfNoneMatch,
}

impl Condition {
    /// The header's name, as the evidence records the culprit's condition.
    pub fn header(self) -> &'static str {
        match self {
            Condition::IfMatch => "If-Match",
            Condition::IfNoneMatch => "If-None-Match",
        }
    }

    fn from_header(s: &str) -> Option<Condition> {
        [Condition::IfMatch, Condition::IfNoneMatch]
            .into_iter()
            .find(|c| c.header() == s)
    }
}

/// An S3 operation the campaigns issue, by its API name: what the evidence records of each op a
/// witness convicts, and what a `refuted_by` entry may be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Operation {
    /// GetObject.
    GetObject,
    /// HeadObject.
    HeadObject,
    /// PutObject.
    PutObject,
    /// CopyObject (its destination: the key the history is of).
    CopyObject,
    /// CompleteMultipartUpload.
    CompleteMultipartUpload,
    /// DeleteObject.
    DeleteObject,
}

impl Operation {
    /// Every operation the campaigns issue.
    pub const ALL: [Operation; 6] = [
        Operation::GetObject,
        Operation::HeadObject,
        Operation::PutObject,
        Operation::CopyObject,
        Operation::CompleteMultipartUpload,
        Operation::DeleteObject,
    ];

    /// The S3 API name.
    pub fn name(self) -> &'static str {
        match self {
            Operation::GetObject => "GetObject",
            Operation::HeadObject => "HeadObject",
            Operation::PutObject => "PutObject",
            Operation::CopyObject => "CopyObject",
            Operation::CompleteMultipartUpload => "CompleteMultipartUpload",
            Operation::DeleteObject => "DeleteObject",
        }
    }

    /// The operation of a recorded request.
    pub fn of(req: &Req) -> Operation {
        match req {
            Req::Get { .. } => Operation::GetObject,
            Req::Head { .. } => Operation::HeadObject,
            Req::Put { via: Via::Put, .. } => Operation::PutObject,
            Req::Put { via: Via::Copy, .. } => Operation::CopyObject,
            Req::Put {
                via: Via::CompleteMultipart,
                ..
            } => Operation::CompleteMultipartUpload,
            Req::Delete { .. } => Operation::DeleteObject,
        }
    }

    fn from_name(s: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.name() == s)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One `refuted_by` entry: an anomaly kind, optionally narrowed to the condition its culprit
/// carried and to the operations it convicts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Refutation {
    /// The anomaly kind that disproves the promise.
    pub kind: AnomalyKind,
    /// For the precondition kinds: only a culprit with this condition disproves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// When set, only a witness whose convicted ops are all of these operations disproves it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<Operation>,
}

/// The kinds an entry may narrow to a condition: they convict one request for how it treated
/// its precondition.
pub const NARROWABLE: [AnomalyKind; 3] = [
    AnomalyKind::IgnoredPrecondition,
    AnomalyKind::Phantom412,
    AnomalyKind::Spurious409,
];

impl Refutation {
    /// Whether an anomaly named `kind`, whose culprit carried `condition` (`If-Match`,
    /// `If-None-Match`, or none) and whose convicted ops are of `operations`, is one this entry
    /// stands for. Narrowed to operations, it needs at least one convicted op, and every one of
    /// them of a listed operation.
    pub fn admits(&self, kind: &str, condition: Option<&str>, operations: &[Operation]) -> bool {
        self.kind.name() == kind
            && self.condition.is_none_or(|c| condition == Some(c.header()))
            && (self.operations.is_empty()
                || (!operations.is_empty()
                    && operations.iter().all(|o| self.operations.contains(o))))
    }

    /// Whether every witness `other` admits, this entry admits too (the loader refuses such a
    /// pair: one of the two says nothing).
    pub fn covers(&self, other: &Refutation) -> bool {
        self.kind == other.kind
            && (self.condition.is_none() || self.condition == other.condition)
            && (self.operations.is_empty()
                || (!other.operations.is_empty()
                    && other.operations.iter().all(|o| self.operations.contains(o))))
    }
}

impl fmt::Display for Refutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut terms: Vec<&str> = self.operations.iter().map(|o| o.name()).collect();
        terms.extend(self.condition.map(Condition::header));
        if terms.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}({})", self.kind, terms.join(" "))
        }
    }
}

/// Why an entry is not a refutation; `unknown` carries the word that is not a known name, and
/// `candidates` the names it should have been one of, for a suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRefutation {
    /// What is wrong.
    pub message: String,
    /// The word that is not a known name, when that is what is wrong.
    pub unknown: Option<String>,
    /// The names `unknown` should have been one of.
    pub candidates: Vec<&'static str>,
}

impl FromStr for Refutation {
    type Err = BadRefutation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = |message: String| BadRefutation {
            message,
            unknown: None,
            candidates: Vec::new(),
        };
        let (name, terms) = match s.split_once('(') {
            Some((name, rest)) => {
                let Some(inner) = rest.strip_suffix(')') else {
                    return Err(bad(format!(
                        "`{s}`: narrowing is written `kind(If-Match)`, `kind(PutObject)` or `kind(PutObject If-Match)`"
                    )));
                };
                let terms: Vec<&str> = inner
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|t| !t.is_empty())
                    .collect();
                if terms.is_empty() {
                    return Err(bad(format!(
                        "`{s}`: empty parentheses; name a condition or an operation, or drop them"
                    )));
                }
                (name.trim(), terms)
            }
            None => (s, Vec::new()),
        };
        let Some(kind) = AnomalyKind::from_name(name) else {
            let known: Vec<&'static str> = AnomalyKind::ALL.iter().map(|k| k.name()).collect();
            return Err(BadRefutation {
                message: format!("`{name}` is not an anomaly kind ({})", known.join(", ")),
                unknown: Some(name.to_owned()),
                candidates: known,
            });
        };
        let mut condition = None;
        let mut operations = Vec::new();
        for term in terms {
            if let Some(c) = Condition::from_header(term) {
                if condition.replace(c).is_some() {
                    return Err(bad(format!("`{s}`: at most one condition")));
                }
            } else if let Some(o) = Operation::from_name(term) {
                if operations.contains(&o) {
                    return Err(bad(format!("`{s}`: `{o}` is named twice")));
                }
                operations.push(o);
            } else {
                let mut candidates =
                    vec![Condition::IfMatch.header(), Condition::IfNoneMatch.header()];
                candidates.extend(Operation::ALL.map(Operation::name));
                return Err(BadRefutation {
                    message: format!(
                        "`{term}` is neither a condition (If-Match, If-None-Match) nor an operation the campaigns issue ({})",
                        Operation::ALL.map(Operation::name).join(", ")
                    ),
                    unknown: Some(term.to_owned()),
                    candidates,
                });
            }
        }
        if condition.is_some() && !NARROWABLE.contains(&kind) {
            return Err(bad(format!(
                "`{s}`: only {} are narrowed to a condition; `{kind}` concerns no single precondition",
                NARROWABLE.map(AnomalyKind::name).join(", ")
            )));
        }
        operations.sort();
        Ok(Refutation {
            kind,
            condition,
            operations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_print_and_admit_what_they_say() {
        let r: Refutation = "ignored-precondition(If-None-Match)".parse().unwrap();
        assert_eq!(r.to_string(), "ignored-precondition(If-None-Match)");
        let put = [Operation::PutObject];
        assert!(r.admits("ignored-precondition", Some("If-None-Match"), &put));
        assert!(!r.admits("ignored-precondition", Some("If-Match"), &put));
        assert!(!r.admits("ignored-precondition", None, &put));
        assert!(!r.admits("phantom-412", Some("If-None-Match"), &put));
        let any: Refutation = "phantom-412".parse().unwrap();
        assert!(any.admits("phantom-412", Some("If-Match"), &put));
        assert!(any.admits("phantom-412", None, &[]));
        let plain: Refutation = " stale-read ".parse().unwrap();
        assert_eq!(
            (plain.kind, plain.condition),
            (AnomalyKind::StaleRead, None)
        );
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        let e = "stale-reads".parse::<Refutation>().unwrap_err();
        assert_eq!(e.unknown.as_deref(), Some("stale-reads"));
        assert!(e.message.contains("lost-update, double-create"), "{e:?}");
        let e = "stale-read(If-Match)".parse::<Refutation>().unwrap_err();
        assert!(
            e.message.contains("concerns no single precondition"),
            "{e:?}"
        );
        let e = "phantom-412(If-Modified-Since)"
            .parse::<Refutation>()
            .unwrap_err();
        assert!(e.message.contains("If-Modified-Since"), "{e:?}");
        let e = "phantom-412(If-Match".parse::<Refutation>().unwrap_err();
        assert!(e.message.contains("kind(If-Match)"), "{e:?}");
        let e = "lost-update(PutObjekt)".parse::<Refutation>().unwrap_err();
        assert_eq!(e.unknown.as_deref(), Some("PutObjekt"));
        assert!(e.candidates.contains(&"PutObject"), "{e:?}");
        let e = "lost-update(RenameObject)"
            .parse::<Refutation>()
            .unwrap_err();
        assert!(e.message.contains("operation the campaigns issue"), "{e:?}");
        for bad in [
            "phantom-412(If-Match If-None-Match)",
            "lost-update(PutObject PutObject)",
            "lost-update()",
        ] {
            assert!(bad.parse::<Refutation>().is_err(), "{bad}");
        }
    }

    /// Narrowed to operations, an entry admits a witness only when every op it convicts is of
    /// one of them: a mixed double create disproves neither operation's own promise.
    #[test]
    fn operations_narrow_to_witnesses_that_convict_only_them() {
        use Operation::{CompleteMultipartUpload as Cmu, GetObject, HeadObject, PutObject};
        let r: Refutation = "ignored-precondition(If-Match PutObject)".parse().unwrap();
        assert_eq!(r.to_string(), "ignored-precondition(PutObject If-Match)");
        assert_eq!(
            r,
            "ignored-precondition(PutObject, If-Match)".parse().unwrap()
        );
        assert!(r.admits("ignored-precondition", Some("If-Match"), &[PutObject]));
        assert!(!r.admits("ignored-precondition", Some("If-Match"), &[Cmu]));
        // No convicted op recorded (older evidence, a search verdict): never admitted.
        assert!(!r.admits("ignored-precondition", Some("If-Match"), &[]));
        let create: Refutation = "double-create(PutObject)".parse().unwrap();
        assert!(create.admits("double-create", None, &[PutObject, PutObject]));
        assert!(!create.admits("double-create", None, &[PutObject, Cmu]));
        let both: Refutation = "double-create(CompleteMultipartUpload PutObject)"
            .parse()
            .unwrap();
        assert!(both.admits("double-create", None, &[PutObject, Cmu]));
        let reads: Refutation = "stale-read(HeadObject GetObject)".parse().unwrap();
        assert_eq!(reads.operations, [GetObject, HeadObject]);
        assert!(reads.admits("stale-read", None, &[HeadObject]));
        assert!(!reads.admits("stale-read", None, &[PutObject]));
        // Unnarrowed, the operation does not matter.
        let plain: Refutation = "double-create".parse().unwrap();
        assert!(plain.admits("double-create", None, &[PutObject, Cmu]));
        assert!(plain.covers(&create) && both.covers(&create) && !create.covers(&both));
        let cas: Refutation = "ignored-precondition(If-Match)".parse().unwrap();
        assert!(cas.covers(&r) && !r.covers(&cas));
    }
}
