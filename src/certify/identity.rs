//! What the endpoint says about itself: the `Server` header of its answers, recorded on the
//! certificate beside the `--label` the operator gave, so a reader sees which software answered
//! (and, where the header gives one, which version) without taking the label's word for it.
//!
//! It is read from the suite's recorded answers in the evidence, not asked for separately, so
//! `--verify` recomputes it like every verdict.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::report::CaseReport;

/// The `Server` header the endpoint's answers carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerIdentity {
    /// The value most answers carried, verbatim (repeated headers joined with `, `).
    pub header: String,
    /// The product it names first (RFC 9110 §10.2.4: `Server: product/version ...`).
    pub product: String,
    /// That product's version, when the header gives one ([`version_of`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Answers that carried `header`.
    pub answers: u64,
    /// Answers with a status, the denominator of `answers`.
    pub of: u64,
    /// Other values seen, most frequent first: a load balancer or a second tier answering part
    /// of the requests shows here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<String>,
}

impl ServerIdentity {
    /// ` (SeaweedFS version 4.48)` when a version was read, else nothing: what follows the
    /// header where a certificate shows it.
    pub fn version_note(&self) -> String {
        match &self.version {
            Some(v) => format!(" ({} version {v})", self.product),
            None => String::new(),
        }
    }

    /// `SeaweedFS 8000GB 4.48 (SeaweedFS version 4.48)`: the header and its version.
    pub fn describe(&self) -> String {
        format!("{}{}", self.header, self.version_note())
    }
}

/// The product and its version in a `Server` value: the first product token's `/version`
/// (RFC 9110 §10.2.4, `TwistedWeb/26.4.0`), or else a later token that is a dotted number, as
/// SeaweedFS writes it (`SeaweedFS 8000GB 4.48`).
pub fn version_of(header: &str) -> (String, Option<String>) {
    let mut tokens = header.split_whitespace();
    let first = tokens.next().unwrap_or_default();
    if let Some((product, version)) = first.split_once('/') {
        return (product.to_owned(), Some(version.to_owned()));
    }
    let dotted = |t: &&str| {
        t.starts_with(|c: char| c.is_ascii_digit())
            && t.contains('.')
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
    };
    let version = tokens
        .take_while(|t| !t.contains('/') && !t.starts_with('('))
        .find(dotted);
    (first.to_owned(), version.map(str::to_owned))
}

/// The `Server` header the suite's answers carried, or `None` when no answer carried one.
pub fn identify(cases: &[CaseReport]) -> Option<ServerIdentity> {
    let mut seen: Vec<(String, u64)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut of = 0u64;
    for o in cases
        .iter()
        .flat_map(|c| &c.steps)
        .flat_map(|s| &s.observations)
        .filter(|o| o.status.is_some())
    {
        of += 1;
        if let Some(v) = o.headers.get("server") {
            match index.get(v) {
                Some(&i) => seen[i].1 += 1,
                None => {
                    index.insert(v.clone(), seen.len());
                    seen.push((v.clone(), 1));
                }
            }
        }
    }
    // Most frequent first; a tie goes to the value seen first.
    seen.sort_by_key(|s| std::cmp::Reverse(s.1));
    let mut values = seen.into_iter();
    let (header, answers) = values.next()?;
    let (product, version) = version_of(&header);
    Some(ServerIdentity {
        header,
        product,
        version,
        answers,
        of,
        others: values.map(|(v, _)| v).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_where_the_header_gives_one() {
        let v = |h: &str| version_of(h);
        assert_eq!(
            v("TwistedWeb/26.4.0"),
            ("TwistedWeb".into(), Some("26.4.0".into()))
        );
        assert_eq!(
            v("Werkzeug/3.1.9 Python/3.11.7"),
            ("Werkzeug".into(), Some("3.1.9".into()))
        );
        assert_eq!(
            v("SeaweedFS 8000GB 4.48"),
            ("SeaweedFS".into(), Some("4.48".into()))
        );
        assert_eq!(v("AmazonS3"), ("AmazonS3".into(), None));
        assert_eq!(v("Ceph Object Gateway (squid)"), ("Ceph".into(), None));
    }
}
