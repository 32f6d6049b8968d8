//! The sequential specification of one S3 key, and the compact per-key form of a history
//! that every checker tier works on.
//!
//! The model is deliberately profile-agnostic: where vendors differ (`If-Match` on a missing
//! key is 404 on AWS and 412 on Ceph), both answers are legal. ETags and write ids are interned
//! to `u32` so a state is a small `Copy` value that the search can hash cheaply.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::history::view::{StrSym, StrTable};

/// A fast non-cryptographic hasher (the multiply-rotate scheme of rustc's FxHash) for the
/// checker's hot maps, whose keys are small integers and short strings from a local file.
/// SipHash's DoS resistance buys nothing here and costs a third of Tier 1's time.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits (which hashbrown uses as the bucket index) weak;
        // fold the high bits down.
        let z = (self.hash ^ (self.hash >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        z ^ (z >> 33)
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
/// A `HashSet` with [`FxHasher`].
pub type FxHashSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// A map from a dense index (an interned symbol or an op index) to an op index: a vector, so
/// Tier 1's lookups cost no hashing.
#[derive(Debug, Clone)]
pub struct DenseMap {
    slots: Vec<usize>,
}

impl DenseMap {
    /// A map for keys `0..n`.
    pub fn new(n: usize) -> Self {
        DenseMap {
            slots: vec![usize::MAX; n],
        }
    }
    pub fn get(&self, k: usize) -> Option<usize> {
        self.slots.get(k).copied().filter(|&v| v != usize::MAX)
    }
    /// Inserts, returning the previous value.
    pub fn insert(&mut self, k: usize, v: usize) -> Option<usize> {
        if k >= self.slots.len() {
            self.slots.resize(k + 1, usize::MAX);
        }
        let old = std::mem::replace(&mut self.slots[k], v);
        (old != usize::MAX).then_some(old)
    }
}

/// Sorts op indices by an instant, stably (ties keep their order), as
/// `idx.sort_by_key(|&i| key(i))` does. The instants are gathered once into (instant, position)
/// words and sorted as plain integers, so the sort neither re-reads an op per comparison nor
/// moves more than 16 bytes per element: the detectors sort a key's ops several times, and on
/// a million ops the indirect comparisons cost more than the detectors' own work.
pub fn sort_by_instant(idx: &mut [usize], key: impl Fn(usize) -> u64) {
    let mut keyed: Vec<u128> = idx
        .iter()
        .enumerate()
        .map(|(p, &i)| (u128::from(key(i)) << 64) | p as u128)
        .collect();
    keyed.sort_unstable();
    let sorted: Vec<usize> = keyed.iter().map(|&k| idx[k as u64 as usize]).collect();
    idx.copy_from_slice(&sorted);
}

/// An interned ETag (normalized) or write id.
pub type Sym = u32;

/// The state of one key.
///
/// `None` in a component means "not known": a copy's write id, or an ambiguous write whose
/// ETag could not be predicted. An unknown component matches any observation, so the model
/// over-approximates and never invents an anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Absent,
    Present { etag: Option<Sym>, wid: Option<Sym> },
}

/// A precondition header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cond {
    /// `*`: any present object.
    Any,
    /// A specific ETag.
    Etag(Sym),
}

/// What a read returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOut {
    Ok { etag: Option<Sym>, wid: Option<Sym> },
    NotModified { etag: Option<Sym> },
    PreconditionFailed,
    NotFound,
}

/// What a write or delete returned, reduced to what the model distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOut {
    /// Applied (2xx), or ambiguous (the op is then optional and, if chosen, applied).
    Applied,
    PreconditionFailed,
    NotFound,
}

/// The request and outcome of one op, interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Read {
        if_match: Option<Cond>,
        if_none_match: Option<Cond>,
        out: ReadOut,
    },
    Write {
        if_match: Option<Cond>,
        if_none_match: Option<Cond>,
        etag: Option<Sym>,
        wid: Option<Sym>,
        out: WriteOut,
    },
    Delete {
        if_match: Option<Cond>,
        out: WriteOut,
    },
}

/// How an op takes part in linearization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Must appear in every linearization.
    Required,
    /// An ambiguous mutation: may appear (as applied) or not.
    Optional,
    /// No effect and no information for the model: 409, other 4xx, ambiguous reads, a copy's
    /// 404 (which may be about the source). Checked separately (spurious 409) or ignored.
    Excluded,
}

/// One op of one key, in the compact form the checkers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KOp {
    /// The op's id in the history.
    pub id: u64,
    pub client: u64,
    pub call: u64,
    /// `u64::MAX` for an ambiguous op: its effect may land any time after the call.
    pub ret: u64,
    /// Where the span in which a concurrent request can justify a 409 begins: the
    /// CreateMultipartUpload instant for a CompleteMultipartUpload, `call` otherwise.
    pub span_start: u64,
    pub kind: Kind,
    pub role: Role,
    /// True for a request that tries to change the key (PUT, COPY destination, COMPLETE,
    /// DELETE), whatever its outcome: the requests that can meet another in a race.
    pub mutating: bool,
    /// True for a write whose content came from another, named key (a copy's destination
    /// side): its content is one its source held.
    pub copied: bool,
    /// True for a 409 ConditionalRequestConflict on a mutating request (always `Excluded`).
    pub conflict: bool,
    /// True when `call` is later than the recorded call: a copy cannot write before its source
    /// existed.
    pub late_start: bool,
    /// Index of the op in `History::ops`, for rendering.
    pub orig: usize,
}

impl KOp {
    /// True when the recorded outcome is legal in some state of the key; an outcome that is
    /// not is a status convention the model does not know, not evidence about the state.
    pub fn explicable(&self) -> bool {
        [
            State::Absent,
            State::Present {
                etag: None,
                wid: None,
            },
        ]
        .into_iter()
        .any(|s| step(s, &self.kind).is_some())
    }

    /// True for ops that can change the state when linearized.
    pub fn is_mutation(&self) -> bool {
        match self.kind {
            Kind::Read { .. } => false,
            Kind::Write { out, .. } | Kind::Delete { out, .. } => out == WriteOut::Applied,
        }
    }

    /// True when `self` must be linearized before `other` (closed intervals).
    pub fn precedes(&self, other: &KOp) -> bool {
        self.ret < other.call
    }

    /// The state this op leaves when applied, for mutations.
    pub fn written_state(&self) -> Option<State> {
        match self.kind {
            Kind::Write {
                etag,
                wid,
                out: WriteOut::Applied,
                ..
            } => Some(State::Present { etag, wid }),
            Kind::Delete {
                out: WriteOut::Applied,
                ..
            } => Some(State::Absent),
            _ => None,
        }
    }
}

/// All ops of one key, with the names of its ETags and write ids.
///
/// ETags and write ids are numbered densely per key (`Sym`), so the tiers' tables are sized by
/// the key; each number names a string of the history by its symbol, and the text stays the
/// history's: the per-key form copies no string and holds four bytes per distinct ETag and
/// write id.
#[derive(Clone, Default)]
pub struct KeyHistory<'h> {
    pub key: String,
    pub ops: Vec<KOp>,
    /// By `Sym`: the symbol of a string whose normalized form is the ETag.
    pub etags: Vec<StrSym>,
    /// By `Sym`: the write id's symbol.
    pub wids: Vec<StrSym>,
    /// The history's strings, which `etags` and `wids` name.
    pub names: StrTable<'h>,
    /// The write ids a copy into this key may have brought (the contents its sources ever
    /// held); a read of copied content must name one of them.
    pub copyable: Vec<Sym>,
    /// Outcomes no state of the key explains under any documented status convention: reported
    /// as conformance notes, excluded from the linearizability check.
    pub notes: Vec<Note>,
}

impl<'h> KeyHistory<'h> {
    /// ETag `e`, normalized.
    pub fn etag(&self, e: Sym) -> &'h str {
        crate::history::normalize_etag(self.names.str(self.etags[e as usize]))
    }

    /// Write id `w`.
    pub fn wid(&self, w: Sym) -> &'h str {
        self.names.str(self.wids[w as usize])
    }
}

/// With the names as text, so two histories that name the same strings print alike whatever
/// store holds them.
impl std::fmt::Debug for KeyHistory<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let etags: Vec<&str> = (0..self.etags.len() as Sym).map(|e| self.etag(e)).collect();
        let wids: Vec<&str> = (0..self.wids.len() as Sym).map(|w| self.wid(w)).collect();
        f.debug_struct("KeyHistory")
            .field("key", &self.key)
            .field("ops", &self.ops)
            .field("etags", &etags)
            .field("wids", &wids)
            .field("copyable", &self.copyable)
            .field("notes", &self.notes)
            .finish()
    }
}

/// An op whose status no documented convention gives in any state, so it says nothing about
/// the key's state; the suite's profiles, not the checker, judge such statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Index into `KeyHistory::ops`.
    pub op: usize,
    pub message: String,
}

/// Three-valued match of a condition against a possibly unknown ETag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Maybe,
}

fn matches(cond: Cond, etag: Option<Sym>) -> Tri {
    match (cond, etag) {
        (Cond::Any, _) => Tri::Yes,
        (Cond::Etag(_), None) => Tri::Maybe,
        (Cond::Etag(c), Some(e)) if c == e => Tri::Yes,
        (Cond::Etag(_), Some(_)) => Tri::No,
    }
}

fn compatible(seen: Option<Sym>, current: Option<Sym>) -> bool {
    match (seen, current) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// The sequential specification: if `kind`'s recorded outcome is legal in `state`, the state
/// after it. Mutations with outcome `Applied` are the success case (an optional ambiguous op
/// that is linearized is linearized as applied).
pub fn step(state: State, kind: &Kind) -> Option<State> {
    match *kind {
        Kind::Read {
            if_match,
            if_none_match,
            out,
        } => {
            let legal = match state {
                // A missing key is 404 on AWS; RFC 7232 stores answer a failed If-Match 412.
                State::Absent => {
                    out == ReadOut::NotFound
                        || (if_match.is_some() && out == ReadOut::PreconditionFailed)
                }
                State::Present { etag, wid } => {
                    // A response's ETag header names the current version: where the state's
                    // ETag is unknown, the conditions were evaluated against that one.
                    let etag = match out {
                        ReadOut::Ok { etag: seen, .. } | ReadOut::NotModified { etag: seen } => {
                            etag.or(seen)
                        }
                        _ => etag,
                    };
                    let m = if_match.map(|c| matches(c, etag));
                    let may_fail = m.is_some_and(|m| m != Tri::Yes);
                    let may_pass = m.is_none_or(|m| m != Tri::No);
                    let n = if_none_match.map(|c| matches(c, etag));
                    let n_may_match = n.is_some_and(|n| n != Tri::No);
                    let n_may_miss = n.is_none_or(|n| n != Tri::Yes);
                    match out {
                        ReadOut::PreconditionFailed => may_fail,
                        ReadOut::NotModified { etag: seen } => {
                            may_pass && n_may_match && compatible(seen, etag)
                        }
                        // `If-None-Match: *` on a GET of an existing object is 304 by RFC 7232,
                        // but moto, LocalStack and Ceph RGW answer 200 with the object.
                        ReadOut::Ok {
                            etag: seen,
                            wid: seen_wid,
                        } => {
                            may_pass
                                && (n_may_miss || if_none_match == Some(Cond::Any))
                                && compatible(seen, etag)
                                && compatible(seen_wid, wid)
                        }
                        ReadOut::NotFound => false,
                    }
                }
            };
            legal.then_some(state)
        }
        Kind::Write {
            if_match,
            if_none_match,
            etag,
            wid,
            out,
        } => {
            let (present, cur) = match state {
                State::Absent => (false, None),
                State::Present { etag, .. } => (true, etag),
            };
            let inm_may_fail = present && if_none_match.is_some_and(|c| matches(c, cur) != Tri::No);
            let inm_may_pass =
                !present || if_none_match.is_none_or(|c| matches(c, cur) != Tri::Yes);
            let im_may_fail = if_match.is_some_and(|c| !present || matches(c, cur) != Tri::Yes);
            let im_may_pass = if_match.is_none_or(|c| present && matches(c, cur) != Tri::No);
            match out {
                WriteOut::Applied => {
                    (inm_may_pass && im_may_pass).then_some(State::Present { etag, wid })
                }
                WriteOut::PreconditionFailed => (inm_may_fail || im_may_fail).then_some(state),
                WriteOut::NotFound => (if_match.is_some() && !present).then_some(state),
            }
        }
        Kind::Delete { if_match, out } => {
            let (present, cur) = match state {
                State::Absent => (false, None),
                State::Present { etag, .. } => (true, etag),
            };
            match out {
                // On a missing key a conditional delete is 404 on AWS, 412 for MinIO's suite
                // and 204 (nothing to delete) for Ceph's: all three leave the key absent.
                WriteOut::Applied => if_match
                    .is_none_or(|c| !present || matches(c, cur) != Tri::No)
                    .then_some(State::Absent),
                WriteOut::PreconditionFailed => if_match
                    .is_some_and(|c| !present || matches(c, cur) != Tri::Yes)
                    .then_some(state),
                // Both a conditional delete of a missing key and (on some stores) a blind one.
                WriteOut::NotFound => (!present).then_some(state),
            }
        }
    }
}

pub use super::convert::split_by_key;

#[cfg(test)]
mod tests {
    use super::*;

    const E1: Sym = 1;
    const E2: Sym = 2;

    fn present(e: Sym) -> State {
        State::Present {
            etag: Some(e),
            wid: Some(e),
        }
    }
    fn read(if_match: Option<Cond>, if_none_match: Option<Cond>, out: ReadOut) -> Kind {
        Kind::Read {
            if_match,
            if_none_match,
            out,
        }
    }

    #[test]
    fn reads_follow_rfc_7232_order() {
        let ok1 = ReadOut::Ok {
            etag: Some(E1),
            wid: Some(E1),
        };
        assert_eq!(
            step(
                State::Absent,
                &read(Some(Cond::Etag(E1)), None, ReadOut::NotFound)
            ),
            Some(State::Absent)
        );
        assert_eq!(step(State::Absent, &read(None, None, ok1)), None);
        assert!(step(present(E1), &read(None, None, ok1)).is_some());
        assert!(step(present(E2), &read(None, None, ok1)).is_none());
        assert!(
            step(
                present(E2),
                &read(Some(Cond::Etag(E1)), None, ReadOut::PreconditionFailed)
            )
            .is_some()
        );
        assert!(
            step(
                present(E1),
                &read(Some(Cond::Etag(E1)), None, ReadOut::PreconditionFailed)
            )
            .is_none()
        );
        assert!(
            step(
                present(E1),
                &read(Some(Cond::Any), None, ReadOut::PreconditionFailed)
            )
            .is_none()
        );
        // If-Match is evaluated first: a mismatch is 412 even if If-None-Match would give 304.
        assert!(
            step(
                present(E1),
                &read(
                    Some(Cond::Etag(E2)),
                    Some(Cond::Etag(E1)),
                    ReadOut::NotModified { etag: None }
                )
            )
            .is_none()
        );
        assert!(
            step(
                present(E1),
                &read(
                    None,
                    Some(Cond::Etag(E1)),
                    ReadOut::NotModified { etag: Some(E1) }
                )
            )
            .is_some()
        );
        assert!(
            step(
                present(E1),
                &read(None, Some(Cond::Any), ReadOut::NotModified { etag: None })
            )
            .is_some()
        );
        assert!(
            step(
                present(E2),
                &read(
                    None,
                    Some(Cond::Etag(E1)),
                    ReadOut::NotModified { etag: None }
                )
            )
            .is_none()
        );
        assert!(step(present(E1), &read(None, Some(Cond::Etag(E1)), ok1)).is_none());
    }

    #[test]
    fn writes_and_deletes() {
        let w = |im, inm, out| Kind::Write {
            if_match: im,
            if_none_match: inm,
            etag: Some(E2),
            wid: Some(E2),
            out,
        };
        assert_eq!(
            step(State::Absent, &w(None, Some(Cond::Any), WriteOut::Applied)),
            Some(present(E2))
        );
        assert_eq!(
            step(present(E1), &w(None, Some(Cond::Any), WriteOut::Applied)),
            None
        );
        assert!(
            step(
                present(E1),
                &w(None, Some(Cond::Any), WriteOut::PreconditionFailed)
            )
            .is_some()
        );
        assert!(
            step(
                State::Absent,
                &w(None, Some(Cond::Any), WriteOut::PreconditionFailed)
            )
            .is_none()
        );
        assert!(
            step(
                present(E1),
                &w(Some(Cond::Etag(E1)), None, WriteOut::Applied)
            )
            .is_some()
        );
        assert!(
            step(
                present(E2),
                &w(Some(Cond::Etag(E1)), None, WriteOut::Applied)
            )
            .is_none()
        );
        // If-Match on a missing key: 404 and 412 are both accepted, success is not.
        assert!(
            step(
                State::Absent,
                &w(Some(Cond::Etag(E1)), None, WriteOut::NotFound)
            )
            .is_some()
        );
        assert!(
            step(
                State::Absent,
                &w(Some(Cond::Etag(E1)), None, WriteOut::PreconditionFailed)
            )
            .is_some()
        );
        assert!(
            step(
                State::Absent,
                &w(Some(Cond::Etag(E1)), None, WriteOut::Applied)
            )
            .is_none()
        );
        assert!(
            step(
                present(E1),
                &w(Some(Cond::Etag(E1)), None, WriteOut::NotFound)
            )
            .is_none()
        );
        let d = |im, out| Kind::Delete { if_match: im, out };
        assert_eq!(
            step(State::Absent, &d(None, WriteOut::Applied)),
            Some(State::Absent)
        );
        assert_eq!(
            step(present(E1), &d(Some(Cond::Etag(E1)), WriteOut::Applied)),
            Some(State::Absent)
        );
        assert!(step(present(E2), &d(Some(Cond::Etag(E1)), WriteOut::Applied)).is_none());
        assert!(
            step(
                State::Absent,
                &d(Some(Cond::Etag(E1)), WriteOut::PreconditionFailed)
            )
            .is_some()
        );
        assert!(
            step(
                present(E1),
                &d(Some(Cond::Etag(E1)), WriteOut::PreconditionFailed)
            )
            .is_none()
        );
    }

    #[test]
    fn every_documented_status_convention_is_accepted() {
        let ok1 = ReadOut::Ok {
            etag: Some(E1),
            wid: Some(E1),
        };
        // GET If-None-Match: * on an existing object: 304 (RFC 7232) or 200 (moto, LocalStack,
        // Ceph RGW); a specific matching ETag is still only 304.
        assert!(step(present(E1), &read(None, Some(Cond::Any), ok1)).is_some());
        assert!(step(present(E1), &read(None, Some(Cond::Etag(E1)), ok1)).is_none());
        // GET If-Match on a missing key: 404 (AWS) or 412 (RFC 7232).
        for c in [Cond::Any, Cond::Etag(E1)] {
            assert!(
                step(
                    State::Absent,
                    &read(Some(c), None, ReadOut::PreconditionFailed)
                )
                .is_some()
            );
            assert!(step(State::Absent, &read(Some(c), None, ReadOut::NotFound)).is_some());
        }
        // ...but an unconditional GET of a missing key is only 404.
        assert!(
            step(
                State::Absent,
                &read(None, None, ReadOut::PreconditionFailed)
            )
            .is_none()
        );
        // A conditional DELETE of a missing key: 404 (AWS), 412 (MinIO's suite), 204 (Ceph's).
        for out in [
            WriteOut::NotFound,
            WriteOut::PreconditionFailed,
            WriteOut::Applied,
        ] {
            let d = Kind::Delete {
                if_match: Some(Cond::Etag(E1)),
                out,
            };
            assert_eq!(step(State::Absent, &d), Some(State::Absent), "{out:?}");
        }
    }

    #[test]
    fn a_status_no_state_explains_is_inexplicable() {
        let op = |kind| KOp {
            id: 0,
            client: 0,
            call: 0,
            ret: 1,
            span_start: 0,
            kind,
            role: Role::Required,
            mutating: false,
            copied: false,
            conflict: false,
            late_start: false,
            orig: 0,
        };
        assert!(!op(read(None, None, ReadOut::PreconditionFailed)).explicable());
        assert!(!op(read(None, None, ReadOut::NotModified { etag: None })).explicable());
        assert!(
            op(read(
                Some(Cond::Etag(E1)),
                None,
                ReadOut::PreconditionFailed
            ))
            .explicable()
        );
        let unconditional_412 = Kind::Write {
            if_match: None,
            if_none_match: None,
            etag: None,
            wid: None,
            out: WriteOut::PreconditionFailed,
        };
        assert!(!op(unconditional_412).explicable());
    }

    #[test]
    fn sorting_by_instant_is_the_stable_sort() {
        let keys: Vec<u64> = (0..500u64).map(|x| (x * 7919) % 13).collect();
        for start in [0usize, 3, 250] {
            let mut idx: Vec<usize> = (start..500).chain(0..start).rev().collect();
            let mut want = idx.clone();
            want.sort_by_key(|&i| keys[i]);
            sort_by_instant(&mut idx, |i| keys[i]);
            assert_eq!(idx, want);
        }
    }

    #[test]
    fn unknown_etag_matches_either_way() {
        let s = State::Present {
            etag: None,
            wid: None,
        };
        assert!(
            step(
                s,
                &read(Some(Cond::Etag(E1)), None, ReadOut::PreconditionFailed)
            )
            .is_some()
        );
        assert!(
            step(
                s,
                &read(
                    Some(Cond::Etag(E1)),
                    None,
                    ReadOut::Ok {
                        etag: Some(E1),
                        wid: None
                    }
                )
            )
            .is_some()
        );
    }
}
