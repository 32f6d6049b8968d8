//! The ETags of a whole history, numbered by their normalised form once per distinct string.
//!
//! ETags are compared normalised (`"abc"`, `abc` and `W/"abc"` name one version), so two
//! different strings of a store can be one ETag. Normalising and hashing an ETag each time an
//! op names it would cost a string hash per op; instead each string met in an ETag position is
//! normalised once, and every op after that finds its number in an array by the string's
//! symbol. The checker's per-key numbering of ETags starts from these numbers.

use super::model::FxHashMap;
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
pub(super) struct EtagIdsBuilder<'h> {
    ids: EtagIds,
    by_text: FxHashMap<&'h str, u32>,
}

impl<'h> EtagIdsBuilder<'h> {
    /// A builder for a store of `strings` distinct strings.
    pub(super) fn new(strings: usize) -> Self {
        EtagIdsBuilder {
            ids: EtagIds {
                ids: vec![UNSET; strings],
                count: 0,
            },
            by_text: FxHashMap::default(),
        }
    }

    /// Numbers the strings `op` names in ETag positions (its preconditions, its predicted ETag
    /// and the ETag it returned): the only strings the conversion reads as ETags.
    #[inline]
    pub(super) fn note(&mut self, symbols: &Symbols<'h>, op: &OpSym) {
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

    fn sym(&mut self, symbols: &Symbols<'h>, s: StrSym) {
        let Some(slot) = s.index().and_then(|i| self.ids.ids.get_mut(i)) else {
            return;
        };
        if *slot != UNSET {
            return;
        }
        let raw = symbols.str(s);
        let next = self.ids.count;
        let id = *self.by_text.entry(normalize_etag(raw)).or_insert(next);
        if id == next {
            self.ids.count += 1;
        }
        *slot = if raw.trim() == "*" { id | STAR } else { id };
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
