//! Facts about a whole history that the per-key conversion needs, because a copy ties two
//! keys together and ETag predictions are judged across all writes:
//! - **Whether predicted ETags can be trusted.** A write's `etag_if_applied` is the MD5 the
//!   driver expects; stores with SSE-KMS, and many S3-compatible stores, return something else.
//!   A prediction is used only when the history's answered writes of the same kind show that
//!   predictions hold (at least one was checked and none failed).
//! - **What a copy read.** The content a copy wrote is named by the reads of its destination
//!   that saw the copy's ETag with a write id the destination never wrote itself; when they
//!   agree, and the source could have held it, that is what the copy read. A source that only
//!   ever held one content gave that one.
//! - **What copied content may be.** A read of copied content must name a write id that one of
//!   the copy's sources (transitively) held.
//! - **When a copy can write.** After it read its source, so not before the first write to the
//!   source (of the copied content, when known) was called.

use std::collections::BTreeSet;

use super::etag_ids::{EtagIds, EtagIdsBuilder};
use super::model::{FxHashMap, FxHashSet};
use crate::history::Via;
use crate::history::view::{OpSource, OpSym, OpView, OutView, ReqView, StrSym, Symbols};

/// Which kinds of write have ETag predictions the history confirms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trust {
    pub put: bool,
    pub multipart: bool,
}

impl Trust {
    /// A prediction is trusted for a kind of write when at least one definite write of that
    /// kind returned an ETag equal to its prediction and none returned a different one.
    pub fn of<S: OpSource + ?Sized>(history: &S) -> Trust {
        number_etags(&history.symbols()).1
    }

    pub(super) fn trusted(self, via: Via) -> bool {
        match via {
            Via::Put => self.put,
            Via::CompleteMultipart => self.multipart,
            Via::Copy => false,
        }
    }
}

/// The history's ETags numbered ([`EtagIds`]), and the trust its writes earn: one pass over
/// the ops, which needs nothing of their grouping by key, so it can run beside it.
pub(super) fn number_etags(symbols: &Symbols<'_>) -> (EtagIds, Trust) {
    let mut etags = EtagIdsBuilder::new(symbols.strings());
    let mut tally = TrustTally::default();
    for i in 0..symbols.len() {
        let op = symbols.op(i);
        etags.note(symbols, &op);
        tally.add(etags.ids(), &op);
    }
    (etags.finish(), tally.trust())
}

/// Definite writes whose predicted ETag held and failed, per kind of write, op by op.
#[derive(Debug, Default)]
struct TrustTally {
    /// (held, failed) for PUT and for Complete.
    seen: [(usize, usize); 2],
}

impl TrustTally {
    /// Counts `op` if it is a definite write with a prediction and an answered ETag.
    #[inline]
    fn add(&mut self, etags: &EtagIds, op: &OpSym) {
        let (
            ReqView::Put {
                etag_if_applied: Some(p),
                via,
                ..
            },
            OutView::Ok { etag: Some(e), .. },
        ) = (op.req, op.out)
        else {
            return;
        };
        let slot = match via {
            Via::Put => 0,
            Via::CompleteMultipart => 1,
            Via::Copy => return,
        };
        if etags.id(p) == etags.id(e) {
            self.seen[slot].0 += 1;
        } else {
            self.seen[slot].1 += 1;
        }
    }

    fn trust(&self) -> Trust {
        let [put, multipart] = self.seen;
        Trust {
            put: put.0 > 0 && put.1 == 0,
            multipart: multipart.0 > 0 && multipart.1 == 0,
        }
    }
}

/// The whole-history facts the per-key conversion needs.
#[derive(Debug, Default)]
pub(super) struct Global {
    pub(super) trust: Trust,
    /// For a copy op (by index): the write id its destination reads show it copied.
    pub(super) copied: FxHashMap<usize, StrSym>,
    /// Per key: the write ids a copy into it may have brought, in order of their text.
    pub(super) copyable: FxHashMap<StrSym, Vec<StrSym>>,
    /// For a copy op (by index): the earliest instant its destination write can take effect.
    pub(super) not_before: FxHashMap<usize, u64>,
}

/// The source key of a copy from another key.
pub(super) fn source_of<S: Copy + PartialEq>(op: &OpView<S>) -> Option<S> {
    match op.req {
        ReqView::Put {
            via: Via::Copy,
            source_key: Some(s),
            ..
        } if s != op.key => Some(s),
        _ => None,
    }
}

/// The write id of a PUT or Complete that may have been applied.
fn own_wid(op: &OpSym) -> Option<StrSym> {
    match (op.req, op.out) {
        (
            ReqView::Put {
                write_id: Some(w),
                via: Via::Put | Via::CompleteMultipart,
                ..
            },
            OutView::Ok { .. } | OutView::Ambiguous { .. },
        ) => Some(w),
        _ => None,
    }
}

/// False for a 200 whose own ETag header contradicts its preconditions: no state explains it,
/// so it is a conformance note and no evidence of what a copy wrote.
fn consistent_200(etags: &EtagIds, op: &OpSym) -> bool {
    let (ReqView::Get {
        if_match,
        if_none_match,
    }
    | ReqView::Head {
        if_match,
        if_none_match,
    }) = op.req
    else {
        return false;
    };
    let OutView::Ok { etag: Some(e), .. } = op.out else {
        return true;
    };
    let e = etags.id(e);
    let named = |h: Option<StrSym>| h.filter(|&h| !etags.is_star(h)).map(|h| etags.id(h) == e);
    named(if_match) != Some(false) && named(if_none_match) != Some(true)
}

impl Global {
    /// The copy facts of a history (none without copies), beside the trust its writes earn.
    pub(super) fn new(symbols: &Symbols<'_>, etags: &EtagIds, trust: Trust, copies: bool) -> Self {
        // Everything below is about copies; most histories have none.
        if !copies {
            return Global {
                trust,
                ..Global::default()
            };
        }
        // Copies are rare and come in small histories: their facts are gathered on all ops.
        let ops: Vec<OpSym> = (0..symbols.len()).map(|i| symbols.op(i)).collect();
        let mut own: FxHashMap<StrSym, FxHashSet<StrSym>> = FxHashMap::default();
        for op in &ops {
            if let Some(w) = own_wid(op) {
                own.entry(op.key).or_default().insert(w);
            }
        }
        // Copies that answered with an ETag, by (destination key, normalized ETag).
        let mut copies: FxHashMap<(StrSym, u32), Vec<usize>> = FxHashMap::default();
        for (i, op) in ops.iter().enumerate() {
            if let (ReqView::Put { via: Via::Copy, .. }, OutView::Ok { etag: Some(e), .. }) =
                (op.req, op.out)
            {
                copies.entry((op.key, etags.id(e))).or_default().push(i);
            }
        }
        // The foreign write ids the destination's reads saw with each copy's ETag.
        let mut seen: FxHashMap<usize, FxHashSet<StrSym>> = FxHashMap::default();
        for op in &ops {
            let (
                ReqView::Get { .. } | ReqView::Head { .. },
                OutView::Ok {
                    etag: Some(e),
                    write_id: Some(w),
                    ..
                },
            ) = (op.req, op.out)
            else {
                continue;
            };
            if own.get(&op.key).is_some_and(|s| s.contains(&w)) || !consistent_200(etags, op) {
                continue;
            }
            if let Some(c) = copies.get(&(op.key, etags.id(e)))
                && c.len() == 1
            {
                seen.entry(c[0]).or_default().insert(w);
            }
        }
        // Content a key may hold through copies: a fixpoint over the copy edges.
        let edges: BTreeSet<(StrSym, StrSym)> = ops
            .iter()
            .filter_map(|op| source_of(op).map(|s| (s, op.key)))
            .collect();
        let mut copyable: FxHashMap<StrSym, BTreeSet<StrSym>> = FxHashMap::default();
        loop {
            let mut changed = false;
            for &(src, dst) in &edges {
                let mut add: Vec<StrSym> = own.get(&src).into_iter().flatten().copied().collect();
                add.extend(copyable.get(&src).into_iter().flatten().copied());
                let set = copyable.entry(dst).or_default();
                for w in add {
                    changed |= set.insert(w);
                }
            }
            if !changed {
                break;
            }
        }
        // A binding must name content the source could hold; otherwise the destination's read
        // is the one that saw something nobody wrote.
        let holds = |key: StrSym, w: StrSym| {
            own.get(&key).is_some_and(|s| s.contains(&w))
                || copyable.get(&key).is_some_and(|s| s.contains(&w))
        };
        let mut copied: FxHashMap<usize, StrSym> = seen
            .into_iter()
            .filter(|(_, ws)| ws.len() == 1)
            .filter_map(|(c, ws)| ws.into_iter().next().map(|w| (c, w)))
            .filter(|&(c, w)| source_of(&ops[c]).is_some_and(|src| holds(src, w)))
            .collect();
        // A source that only ever held one content can only have given that one.
        let only_content = |src: StrSym| -> Option<StrSym> {
            let own = own.get(&src);
            let more = copyable.get(&src);
            if own.map_or(0, |s| s.len()) + more.map_or(0, |s| s.len()) > 2 {
                return None;
            }
            let all: BTreeSet<StrSym> = own
                .into_iter()
                .flatten()
                .chain(more.into_iter().flatten())
                .copied()
                .collect();
            (all.len() == 1).then(|| all.into_iter().next()).flatten()
        };
        for (i, op) in ops.iter().enumerate() {
            let Some(src) = source_of(op) else { continue };
            if copied.contains_key(&i)
                || !matches!(op.out, OutView::Ok { .. } | OutView::Ambiguous { .. })
            {
                continue;
            }
            if let Some(w) = only_content(src) {
                copied.insert(i, w);
            }
        }
        // A copy writes after it read its source, and its source was present only once some
        // write to it (of the content it copied, when known) had been called.
        let mut first_write: FxHashMap<StrSym, u64> = FxHashMap::default();
        let mut first_copy_into: FxHashMap<StrSym, u64> = FxHashMap::default();
        let mut wid_call: FxHashMap<(StrSym, StrSym), u64> = FxHashMap::default();
        for w in ops.iter().filter(|w| {
            matches!(w.req, ReqView::Put { .. })
                && matches!(w.out, OutView::Ok { .. } | OutView::Ambiguous { .. })
        }) {
            let k = w.key;
            let slot = first_write.entry(k).or_insert(u64::MAX);
            *slot = (*slot).min(w.call_ns);
            if matches!(w.req, ReqView::Put { via: Via::Copy, .. }) {
                let slot = first_copy_into.entry(k).or_insert(u64::MAX);
                *slot = (*slot).min(w.call_ns);
            }
            if let Some(x) = own_wid(w) {
                let slot = wid_call.entry((k, x)).or_insert(u64::MAX);
                *slot = (*slot).min(w.call_ns);
            }
        }
        let mut not_before: FxHashMap<usize, u64> = FxHashMap::default();
        for (i, op) in ops.iter().enumerate() {
            let Some(src) = source_of(op) else { continue };
            let earliest = match copied.get(&i) {
                Some(&x) => wid_call
                    .get(&(src, x))
                    .copied()
                    .unwrap_or(u64::MAX)
                    .min(first_copy_into.get(&src).copied().unwrap_or(u64::MAX)),
                None => first_write.get(&src).copied().unwrap_or(u64::MAX),
            };
            if earliest != u64::MAX {
                not_before.insert(i, earliest);
            }
        }
        // The per-key numbering of write ids follows this order: keep it the text's.
        let copyable = copyable
            .into_iter()
            .map(|(key, ws)| {
                let mut ws: Vec<StrSym> = ws.into_iter().collect();
                ws.sort_by_key(|&w| symbols.str(w));
                (key, ws)
            })
            .collect();
        Global {
            trust,
            copied,
            copyable,
            not_before,
        }
    }
}
