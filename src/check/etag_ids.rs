//! The ETags of a whole history, numbered by their normalised form once per distinct string.
//!
//! ETags are compared normalised (`"abc"`, `abc` and `W/"abc"` name one version), so two
//! different strings of a store can be one ETag. Normalising and hashing an ETag each time an
//! op names it would cost a string hash per op; instead each string met in an ETag position is
//! normalised once, and every op after that finds its number in an array by the string's
//! symbol. The checker's per-key numbering of ETags starts from these numbers.

use std::hash::{BuildHasher, BuildHasherDefault};

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use super::model::FxHasher;
use crate::history::normalize_etag;
use crate::history::view::{OpSym, OutView, ReqView, StrSym, Symbols};

/// An entry for a string not met in an ETag position.
const UNSET: u32 = u32::MAX;
/// Set on an entry whose string trims to `*` (in a precondition: any present object).
const STAR: u32 = 1 << 31;

/// For each string of a store met in an ETag position: the number of its normalised form, and
/// whether it is `*`.
#[derive(Debug, Default)]
pub(super) struct EtagIds {
    /// By string symbol: the normalised ETag's number, `| STAR` for `*`; `UNSET` otherwise.
    ids: Vec<u32>,
    /// Distinct normalised ETags.
    count: u32,
}

/// Numbers the ETags as ops are met; [`EtagIdsBuilder::finish`] gives up the text index.
pub(super) struct EtagIdsBuilder {
    ids: EtagIds,
    /// The numbers, found by the hash of the normalised text: four bytes a distinct ETag,
    /// where a map keyed by the text would hold a slice of it.
    by_text: HashTable<u32>,
    /// By number: the first string met with that normalised form (to compare a new string
    /// with), and the hash of the normalised text, so the index grows without reading,
    /// normalising and hashing every string again.
    firsts: Vec<StrSym>,
    hashes: Vec<u64>,
}

fn hash(s: &str) -> u64 {
    BuildHasherDefault::<FxHasher>::default().hash_one(s.as_bytes())
}

impl EtagIdsBuilder {
    /// A builder for a store of `strings` distinct strings.
    pub(super) fn new(strings: usize) -> Self {
        EtagIdsBuilder {
            ids: EtagIds {
                ids: vec![UNSET; strings],
                count: 0,
            },
            // Most writes bring a new ETag and a new write id, so about half a store's strings
            // are ETags: room for those, so the index seldom grows.
            by_text: HashTable::with_capacity(strings / 2),
            firsts: Vec::with_capacity(strings / 2),
            hashes: Vec::with_capacity(strings / 2),
        }
    }

    /// Numbers the strings `op` names in ETag positions (its preconditions, its predicted ETag
    /// and the ETag it returned): the only strings the conversion reads as ETags.
    #[inline]
    pub(super) fn note(&mut self, symbols: &Symbols<'_>, op: &OpSym) {
        let (a, b, c) = match op.req {
            ReqView::Get {
                if_match,
                if_none_match,
            }
            | ReqView::Head {
                if_match,
                if_none_match,
            } => (if_match, if_none_match, None),
            ReqView::Put {
                etag_if_applied,
                if_match,
                if_none_match,
                ..
            } => (if_match, if_none_match, etag_if_applied),
            ReqView::Delete { if_match } => (if_match, None, None),
        };
        let d = match op.out {
            OutView::Ok { etag, .. } | OutView::NotModified { etag } => etag,
            _ => None,
        };
        for s in [a, b, c, d].into_iter().flatten() {
            self.sym(symbols, s);
        }
    }

    fn sym(&mut self, symbols: &Symbols<'_>, s: StrSym) {
        let Some(slot) = s.index().and_then(|i| self.ids.ids.get_mut(i)) else {
            return;
        };
        if *slot != UNSET {
            return;
        }
        let raw = symbols.str(s);
        let norm = normalize_etag(raw);
        let h = hash(norm);
        let (firsts, hashes) = (&self.firsts, &self.hashes);
        let id = match self.by_text.entry(
            h,
            |&id| normalize_etag(symbols.str(firsts[id as usize])) == norm,
            |&id| hashes[id as usize],
        ) {
            Entry::Occupied(found) => *found.get(),
            Entry::Vacant(slot) => {
                let id = self.ids.count;
                slot.insert(id);
                self.firsts.push(s);
                self.hashes.push(h);
                self.ids.count += 1;
                id
            }
        };
        if let Some(slot) = s.index().and_then(|i| self.ids.ids.get_mut(i)) {
            *slot = if raw.trim() == "*" { id | STAR } else { id };
        }
    }

    /// The numbers so far: those of every op noted.
    pub(super) fn ids(&self) -> &EtagIds {
        &self.ids
    }

    /// The numbers, without the index by text.
    pub(super) fn finish(self) -> EtagIds {
        self.ids
    }
}

impl EtagIds {
    /// The number of distinct normalised ETags: every [`EtagIds::id`] is below it.
    pub(super) fn count(&self) -> usize {
        self.count as usize
    }

    /// The number of the normalised form of `s`, a string met in an ETag position.
    #[inline]
    pub(super) fn id(&self, s: StrSym) -> u32 {
        self.entry(s) & !STAR
    }

    /// True when `s` trims to `*`.
    #[inline]
    pub(super) fn is_star(&self, s: StrSym) -> bool {
        self.entry(s) & STAR != 0
    }

    fn entry(&self, s: StrSym) -> u32 {
        let e = s.index().and_then(|i| self.ids.get(i)).copied();
        debug_assert!(
            e.is_some_and(|e| e != UNSET),
            "{s:?} was not met as an ETag"
        );
        e.unwrap_or(UNSET)
    }
}

#[cfg(test)]
mod tests {
    use crate::check::model::{Cond, Kind, ReadOut, split_by_key};
    use crate::history::{CompactHistory, Header, History, Op, Out, Req, Via};

    fn op(id: u64, req: Req, out: Out) -> Op {
        Op {
            id,
            client: id,
            key: "k".into(),
            call_ns: id * 100,
            ret_ns: id * 100 + 10,
            req,
            out,
        }
    }
    fn get(if_match: Option<&str>, if_none_match: Option<&str>) -> Req {
        Req::Get {
            if_match: if_match.map(str::to_owned),
            if_none_match: if_none_match.map(str::to_owned),
        }
    }

    #[test]
    fn spellings_of_one_etag_are_one_etag_and_only_a_bare_star_is_any() {
        let ok = |e: &str| Out::Ok {
            status: 200,
            etag: Some(e.into()),
            write_id: Some("w1".into()),
        };
        let ops = vec![
            op(
                0,
                Req::Put {
                    write_id: Some("w1".into()),
                    etag_if_applied: None,
                    if_match: None,
                    if_none_match: Some(" * ".into()),
                    via: Via::Put,
                    source_key: None,
                    initiated_ns: None,
                },
                Out::Ok {
                    status: 200,
                    etag: Some("\"a1\"".into()),
                    write_id: None,
                },
            ),
            op(1, get(Some("W/\"a1\""), None), ok(" a1 ")),
            op(2, get(Some("a1"), Some("\"*\"")), ok("W/a1")),
        ];
        let h = History {
            header: Header::new(),
            ops,
        };
        for kh in [
            split_by_key(&h).remove(0),
            split_by_key(&CompactHistory::from(&h)).remove(0),
        ] {
            // "a1" in five spellings, and the ETag `"*"` (quoted: not a wildcard).
            assert_eq!(kh.etags.len(), 2, "{kh:?}");
            assert_eq!((kh.etag(0), kh.etag(1)), ("a1", "*"));
            let Kind::Write { if_none_match, .. } = kh.ops[0].kind else {
                panic!("{:?}", kh.ops[0].kind)
            };
            assert_eq!(if_none_match, Some(Cond::Any));
            for o in &kh.ops[1..] {
                let Kind::Read {
                    if_match,
                    out: ReadOut::Ok { etag, .. },
                    ..
                } = o.kind
                else {
                    panic!("{:?}", o.kind)
                };
                assert_eq!((if_match, etag), (Some(Cond::Etag(0)), Some(0)));
            }
            let Kind::Read { if_none_match, .. } = kh.ops[2].kind else {
                panic!()
            };
            assert_eq!(if_none_match, Some(Cond::Etag(1)));
        }
    }
}
