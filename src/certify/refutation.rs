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

use std::fmt;
use std::str::FromStr;

use crate::check::AnomalyKind;

/// A precondition header an anomaly can be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
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
}

/// One `refuted_by` entry: an anomaly kind, optionally narrowed to the condition its culprit
/// carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Refutation {
    /// The anomaly kind that disproves the promise.
    pub kind: AnomalyKind,
    /// For the precondition kinds: only a culprit with this condition disproves it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
}

/// The kinds an entry may narrow to a condition: they convict one request for how it treated
/// its precondition.
pub const NARROWABLE: [AnomalyKind; 3] = [
    AnomalyKind::IgnoredPrecondition,
    AnomalyKind::Phantom412,
    AnomalyKind::Spurious409,
];

impl Refutation {
    /// Whether an anomaly named `kind` whose culprit carried `condition` (`If-Match`,
    /// `If-None-Match`, or none) is one this entry stands for.
    pub fn admits(&self, kind: &str, condition: Option<&str>) -> bool {
        self.kind.name() == kind && self.condition.is_none_or(|c| condition == Some(c.header()))
    }
}

impl fmt::Display for Refutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.condition {
            Some(c) => write!(f, "{}({})", self.kind, c.header()),
            None => write!(f, "{}", self.kind),
        }
    }
}

/// Why an entry is not a refutation; `unknown` carries the name that is not an anomaly kind, for
/// a suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRefutation {
    /// What is wrong.
    pub message: String,
    /// The kind name that is not one, when that is what is wrong.
    pub unknown: Option<String>,
}

impl FromStr for Refutation {
    type Err = BadRefutation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = |message: String| BadRefutation {
            message,
            unknown: None,
        };
        let (name, condition) = match s.split_once('(') {
            Some((name, rest)) => {
                let Some(header) = rest.strip_suffix(')') else {
                    return Err(bad(format!(
                        "`{s}`: a condition is written `kind(If-Match)` or `kind(If-None-Match)`"
                    )));
                };
                let condition = match header.trim() {
                    "If-Match" => Condition::IfMatch,
                    "If-None-Match" => Condition::IfNoneMatch,
                    other => {
                        return Err(bad(format!(
                            "`{other}` is not a condition an anomaly is narrowed to (If-Match, If-None-Match)"
                        )));
                    }
                };
                (name.trim(), Some(condition))
            }
            None => (s, None),
        };
        let Some(kind) = AnomalyKind::from_name(name) else {
            let known: Vec<&str> = AnomalyKind::ALL.iter().map(|k| k.name()).collect();
            return Err(BadRefutation {
                message: format!("`{name}` is not an anomaly kind ({})", known.join(", ")),
                unknown: Some(name.to_owned()),
            });
        };
        if condition.is_some() && !NARROWABLE.contains(&kind) {
            return Err(bad(format!(
                "`{s}`: only {} are narrowed to a condition; `{kind}` concerns no single precondition",
                NARROWABLE.map(AnomalyKind::name).join(", ")
            )));
        }
        Ok(Refutation { kind, condition })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_print_and_admit_what_they_say() {
        let r: Refutation = "ignored-precondition(If-None-Match)".parse().unwrap();
        assert_eq!(r.to_string(), "ignored-precondition(If-None-Match)");
        assert!(r.admits("ignored-precondition", Some("If-None-Match")));
        assert!(!r.admits("ignored-precondition", Some("If-Match")));
        assert!(!r.admits("ignored-precondition", None));
        assert!(!r.admits("phantom-412", Some("If-None-Match")));
        let any: Refutation = "phantom-412".parse().unwrap();
        assert!(any.admits("phantom-412", Some("If-Match")));
        assert!(any.admits("phantom-412", None));
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
    }
}
