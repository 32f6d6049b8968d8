//! The sequential specification of one S3 key, and the compact per-key form of a history
//! that every checker tier works on.
//!
//! The model is deliberately profile-agnostic: where vendors differ (`If-Match` on a missing
//! key is 404 on AWS and 412 on Ceph), both answers are legal. ETags and write ids are interned
//! to `u32` so a state is a small `Copy` value that the search can hash cheaply.

use std::collections::HashMap;

use crate::history::{History, Op, Out, Req, Via, normalize_etag};

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
    pub kind: Kind,
    pub role: Role,
    /// True for a 409 ConditionalRequestConflict (always `Excluded`).
    pub conflict: bool,
    /// Index of the op in `History::ops`, for rendering.
    pub orig: usize,
}

impl KOp {
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

/// All ops of one key, with the interning tables.
#[derive(Debug, Clone, Default)]
pub struct KeyHistory {
    pub key: String,
    pub ops: Vec<KOp>,
    /// Normalized ETags by `Sym`.
    pub etags: Vec<String>,
    /// Write ids by `Sym`.
    pub wids: Vec<String>,
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
                State::Absent => out == ReadOut::NotFound,
                State::Present { etag, wid } => {
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
                        ReadOut::Ok {
                            etag: seen,
                            wid: seen_wid,
                        } => {
                            may_pass
                                && n_may_miss
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
                WriteOut::Applied => if_match
                    .is_none_or(|c| present && matches(c, cur) != Tri::No)
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

/// Interning tables shared while one key is converted.
struct Interner {
    etags: HashMap<String, Sym>,
    etag_list: Vec<String>,
    wids: HashMap<String, Sym>,
    wid_list: Vec<String>,
}

impl Interner {
    fn etag(&mut self, raw: &str) -> Sym {
        let norm = normalize_etag(raw);
        if let Some(&s) = self.etags.get(norm) {
            return s;
        }
        let s = self.etag_list.len() as Sym;
        self.etag_list.push(norm.to_string());
        self.etags.insert(norm.to_string(), s);
        s
    }
    fn wid(&mut self, raw: &str) -> Sym {
        if let Some(&s) = self.wids.get(raw) {
            return s;
        }
        let s = self.wid_list.len() as Sym;
        self.wid_list.push(raw.to_string());
        self.wids.insert(raw.to_string(), s);
        s
    }
    fn cond(&mut self, raw: &Option<String>) -> Option<Cond> {
        raw.as_deref().map(|v| {
            if v.trim() == "*" {
                Cond::Any
            } else {
                Cond::Etag(self.etag(v))
            }
        })
    }
}

/// Splits a history by key (in first-appearance order) and converts each key's ops.
pub fn split_by_key(history: &History) -> Vec<KeyHistory> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, op) in history.ops.iter().enumerate() {
        let g = *index.entry(op.key.as_str()).or_insert_with(|| {
            groups.push((op.key.clone(), Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(i);
    }
    groups
        .into_iter()
        .map(|(key, idx)| convert_key(key, idx.iter().map(|&i| (i, &history.ops[i]))))
        .collect()
}

/// Converts the ops of one key (given with their index in the history).
pub fn convert_key<'a>(key: String, ops: impl Iterator<Item = (usize, &'a Op)>) -> KeyHistory {
    let mut it = Interner {
        etags: HashMap::new(),
        etag_list: Vec::new(),
        wids: HashMap::new(),
        wid_list: Vec::new(),
    };
    let mut out = Vec::new();
    for (orig, op) in ops {
        out.push(convert_op(&mut it, orig, op));
    }
    KeyHistory {
        key,
        ops: out,
        etags: it.etag_list,
        wids: it.wid_list,
    }
}

fn convert_op(it: &mut Interner, orig: usize, op: &Op) -> KOp {
    let ambiguous = op.out.is_ambiguous();
    let mut role = Role::Required;
    let conflict = matches!(op.out, Out::Conflict);
    let kind = match &op.req {
        Req::Get {
            if_match,
            if_none_match,
        }
        | Req::Head {
            if_match,
            if_none_match,
        } => {
            let if_match = it.cond(if_match);
            let if_none_match = it.cond(if_none_match);
            let out = match &op.out {
                Out::Ok { etag, write_id, .. } => ReadOut::Ok {
                    etag: etag.as_deref().map(|e| it.etag(e)),
                    wid: write_id.as_deref().map(|w| it.wid(w)),
                },
                Out::NotModified { etag } => ReadOut::NotModified {
                    etag: etag.as_deref().map(|e| it.etag(e)),
                },
                Out::PreconditionFailed => ReadOut::PreconditionFailed,
                Out::NotFound => ReadOut::NotFound,
                Out::Conflict | Out::Rejected { .. } | Out::Ambiguous { .. } => {
                    role = Role::Excluded;
                    ReadOut::NotFound
                }
            };
            Kind::Read {
                if_match,
                if_none_match,
                out,
            }
        }
        Req::Put {
            write_id,
            etag_if_applied,
            if_match,
            if_none_match,
            via,
            ..
        } => {
            let if_match = it.cond(if_match);
            let if_none_match = it.cond(if_none_match);
            let wid = write_id.as_deref().map(|w| it.wid(w));
            let predicted = etag_if_applied.as_deref().map(|e| it.etag(e));
            let (out, etag) = match &op.out {
                Out::Ok { etag, .. } => (
                    WriteOut::Applied,
                    etag.as_deref().map(|e| it.etag(e)).or(predicted),
                ),
                Out::PreconditionFailed => (WriteOut::PreconditionFailed, predicted),
                Out::NotFound if *via != Via::Copy => (WriteOut::NotFound, predicted),
                Out::Ambiguous { .. } => {
                    role = Role::Optional;
                    (WriteOut::Applied, predicted)
                }
                Out::NotFound | Out::NotModified { .. } | Out::Conflict | Out::Rejected { .. } => {
                    role = Role::Excluded;
                    (WriteOut::PreconditionFailed, predicted)
                }
            };
            Kind::Write {
                if_match,
                if_none_match,
                etag,
                wid,
                out,
            }
        }
        Req::Delete { if_match } => {
            let if_match = it.cond(if_match);
            let out = match &op.out {
                Out::Ok { .. } => WriteOut::Applied,
                Out::PreconditionFailed => WriteOut::PreconditionFailed,
                Out::NotFound => WriteOut::NotFound,
                Out::Ambiguous { .. } => {
                    role = Role::Optional;
                    WriteOut::Applied
                }
                Out::NotModified { .. } | Out::Conflict | Out::Rejected { .. } => {
                    role = Role::Excluded;
                    WriteOut::PreconditionFailed
                }
            };
            Kind::Delete { if_match, out }
        }
    };
    KOp {
        id: op.id,
        client: op.client,
        call: op.call_ns,
        ret: if ambiguous { u64::MAX } else { op.ret_ns },
        kind,
        role,
        conflict,
        orig,
    }
}

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
