//! From a recorded history to the per-key form every checker tier works on.
//!
//! Most of an op's meaning is local to its key; what needs the whole history (trusted ETag
//! predictions, what a copy read and when it could write) comes from [`super::evidence`]. A copy
//! appears twice: as a write of its destination and as a read of its source. Per key, an
//! unanswered write's unknown ETag is learnt from the reads that report it, and outcomes no
//! state explains become conformance notes.

use super::evidence::{Global, source_of};
use super::model::{
    Cond, FxHashMap, FxHashSet, KOp, KeyHistory, Kind, Note, ReadOut, Role, Sym, WriteOut,
};
use crate::history::view::{OpRef, OpSource, OutRef, ReqRef};
use crate::history::{History, Via, normalize_etag};

/// Splits a history by key (in first-appearance order) and converts each key's ops. A copy
/// appears on its destination key as a write and on its source key as a read.
pub fn split_by_key<S: OpSource + ?Sized>(history: &S) -> Vec<KeyHistory> {
    let groups = KeyGroups::new(history);
    (0..groups.len()).map(|i| groups.convert(i)).collect()
}

/// A history's ops grouped by key, each group converted on demand: a checker converts a key
/// when it gets to it and drops it when its verdict is in, so only the keys being checked are
/// ever held in the per-key form, and keys convert in parallel.
pub struct KeyGroups<'h, S: OpSource + ?Sized = History> {
    global: Global<'h>,
    history: &'h S,
    groups: Groups,
}

impl<'h, S: OpSource + ?Sized> KeyGroups<'h, S> {
    /// Groups the ops (in first-appearance order of the keys) and gathers the whole-history
    /// facts the conversion needs.
    pub fn new(history: &'h S) -> Self {
        let global = Global::new(history);
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        let mut groups: Groups = Vec::new();
        for i in 0..history.len() {
            let op = history.op(i);
            let g = group_of(&mut index, &mut groups, op.key);
            groups[g].1.push((i, Side::Own));
            if let Some(src) = source_of(&op) {
                let g = group_of(&mut index, &mut groups, src);
                groups[g].1.push((i, Side::CopySource));
            }
        }
        KeyGroups {
            global,
            history,
            groups,
        }
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True for a history without ops.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The number of ops key `i` will have (a copy counts on both of its keys).
    pub fn ops(&self, i: usize) -> usize {
        self.groups[i].1.len()
    }

    /// Key `i` in the per-key form.
    pub fn convert(&self, i: usize) -> KeyHistory {
        let (key, idx) = &self.groups[i];
        convert_key(&self.global, key.clone(), self.history, idx)
    }
}

type Groups = Vec<(String, Vec<(usize, Side)>)>;

fn group_of<'h>(index: &mut FxHashMap<&'h str, usize>, groups: &mut Groups, key: &'h str) -> usize {
    *index.entry(key).or_insert_with(|| {
        groups.push((key.to_string(), Vec::new()));
        groups.len() - 1
    })
}

/// Which role an op plays on the key being converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The op's own key.
    Own,
    /// The source key of a copy: the copy read it.
    CopySource,
}

/// Interning tables of one key. The maps borrow the history's strings, so each distinct string
/// is copied once.
struct Interner<'a> {
    etags: FxHashMap<&'a str, Sym>,
    etag_list: Vec<String>,
    wids: FxHashMap<&'a str, Sym>,
    wid_list: Vec<String>,
    recent: [Option<(&'a str, Sym)>; 4],
    next_recent: usize,
}

impl<'a> Interner<'a> {
    fn etag(&mut self, raw: &'a str) -> Sym {
        let norm = normalize_etag(raw);
        // Consecutive ops mostly name the same few versions: a tiny recency cache saves a
        // cache-missing probe into a table of a million ETags.
        if let Some((_, s)) = self.recent.iter().flatten().find(|(r, _)| *r == norm) {
            return *s;
        }
        let s = match self.etags.get(norm) {
            Some(&s) => s,
            None => {
                let s = self.etag_list.len() as Sym;
                self.etag_list.push(norm.to_string());
                self.etags.insert(norm, s);
                s
            }
        };
        self.recent[self.next_recent] = Some((norm, s));
        self.next_recent = (self.next_recent + 1) % self.recent.len();
        s
    }
    fn wid(&mut self, raw: &'a str) -> Sym {
        if let Some(&s) = self.wids.get(raw) {
            return s;
        }
        let s = self.wid_list.len() as Sym;
        self.wid_list.push(raw.to_string());
        self.wids.insert(raw, s);
        s
    }
    fn cond(&mut self, raw: Option<&'a str>) -> Option<Cond> {
        raw.map(|v| {
            if v.trim() == "*" {
                Cond::Any
            } else {
                Cond::Etag(self.etag(v))
            }
        })
    }
}

fn convert_key<'a, S: OpSource + ?Sized>(
    global: &Global<'a>,
    key: String,
    history: &'a S,
    idx: &[(usize, Side)],
) -> KeyHistory {
    let n = idx.len();
    let mut it = Interner {
        etags: FxHashMap::with_capacity_and_hasher(n, Default::default()),
        etag_list: Vec::with_capacity(n / 2),
        wids: FxHashMap::with_capacity_and_hasher(n / 2, Default::default()),
        wid_list: Vec::with_capacity(n / 2),
        recent: [None; 4],
        next_recent: 0,
    };
    let mut ops = Vec::with_capacity(n);
    for &(orig, side) in idx {
        let op = history.op(orig);
        ops.push(match side {
            Side::Own => convert_op(&mut it, global, orig, op),
            Side::CopySource => copy_source_read(&mut it, global, orig, op),
        });
    }
    let copyable: Vec<Sym> = global
        .copyable
        .get(key.as_str())
        .into_iter()
        .flatten()
        .map(|w| it.wid(w))
        .collect();
    let mut notes = Vec::new();
    for (i, o) in ops.iter_mut().enumerate() {
        if o.role == Role::Excluded {
            // Only the op's own key hears about its status.
            let own = history.op(o.orig).key == key;
            let odd = match history.op(o.orig).out {
                OutRef::Conflict => !o.mutating,
                OutRef::NotModified { .. } => o.mutating,
                _ => false,
            };
            if own && odd {
                notes.push(Note {
                    op: i,
                    message: format!(
                        "op {}: {} is not a status any documented convention gives for this request; it is left out of the linearizability check",
                        o.id,
                        crate::check::render::describe_op(&history.op(o.orig).to_op())
                    ),
                });
            }
            continue;
        }
        if !o.explicable() {
            notes.push(Note {
                op: i,
                message: format!(
                    "op {}: {} is not a status any documented convention gives for this request in any state; it is left out of the linearizability check",
                    o.id,
                    crate::check::render::describe_op(&history.op(o.orig).to_op())
                ),
            });
            o.role = Role::Excluded;
        }
    }
    // After the notes: an inexplicable read teaches nothing.
    learn_etags(&mut ops, &copyable.iter().copied().collect());
    KeyHistory {
        key,
        ops,
        etags: it.etag_list,
        wids: it.wid_list,
        copyable,
        notes,
    }
}

/// An unanswered write whose ETag is not known takes the ETag its first read reported: a write
/// id is written once, so every read of it saw the same version, which has one ETag. Reads
/// that disagree are then caught by the model. Only when a copy may have brought the same
/// content back (a second version with that content) is the ETag left unknown.
fn learn_etags(ops: &mut [KOp], copyable: &FxHashSet<Sym>) {
    let unknown: FxHashSet<Sym> = ops
        .iter()
        .filter_map(|o| match o.kind {
            Kind::Write {
                etag: None,
                wid: Some(w),
                ..
            } if !o.copied => Some(w),
            _ => None,
        })
        .collect();
    if unknown.is_empty() {
        return;
    }
    // For each such write id: the ETag its earliest read reported, or None if reads disagree
    // and a copy could explain two versions with that content.
    let mut learnt: FxHashMap<Sym, Option<Sym>> = FxHashMap::default();
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by_key(|&i| (ops[i].call, ops[i].ret));
    for o in order
        .into_iter()
        .map(|i| &ops[i])
        .filter(|o| o.role != Role::Excluded)
    {
        if let Kind::Read {
            out:
                ReadOut::Ok {
                    etag: Some(e),
                    wid: Some(w),
                },
            ..
        } = o.kind
            && unknown.contains(&w)
        {
            learnt
                .entry(w)
                .and_modify(|x| {
                    if *x != Some(e) && copyable.contains(&w) {
                        *x = None;
                    }
                })
                .or_insert(Some(e));
        }
    }
    for o in ops.iter_mut().filter(|o| !o.copied) {
        if let Kind::Write { etag, wid, .. } = &mut o.kind
            && etag.is_none()
            && let Some(Some(e)) = wid.and_then(|w| learnt.get(&w))
        {
            *etag = Some(*e);
        }
    }
    learn_from_anonymous_reads(ops);
}

/// A 304 (or a 200 without a write id) reports the current version's ETag without naming its
/// write. Every version was written by one of the key's possibly-applied writes, so an ETag no
/// write is known to have produced belongs to one whose ETag is unknown; when there is exactly
/// one such write, it is that write's.
fn learn_from_anonymous_reads(ops: &mut [KOp]) {
    let applied = |o: &KOp| {
        o.role != Role::Excluded
            && matches!(
                o.kind,
                Kind::Write {
                    out: WriteOut::Applied,
                    ..
                }
            )
    };
    let etag_of = |o: &KOp| match o.kind {
        Kind::Write { etag, .. } => etag,
        _ => None,
    };
    let mut unknown = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| applied(o) && etag_of(o).is_none())
        .map(|(i, _)| i);
    // None, or two writes with unknown ETags that an anonymous read cannot tell apart.
    let (Some(w), None) = (unknown.next(), unknown.next()) else {
        return;
    };
    let known: FxHashSet<Sym> = ops
        .iter()
        .filter(|o| applied(o))
        .filter_map(etag_of)
        .collect();
    let mut seen: Option<Sym> = None;
    for o in ops.iter().filter(|o| o.role != Role::Excluded) {
        let e = match o.kind {
            Kind::Read {
                out: ReadOut::NotModified { etag: Some(e) },
                ..
            }
            | Kind::Read {
                out:
                    ReadOut::Ok {
                        etag: Some(e),
                        wid: None,
                    },
                ..
            } => e,
            _ => continue,
        };
        if known.contains(&e) {
            continue;
        }
        match seen {
            None => seen = Some(e),
            // Two unexplained ETags and one write to explain them: leave it to the model.
            Some(x) if x != e => return,
            Some(_) => {}
        }
    }
    if let (Some(e), Kind::Write { etag, .. }) = (seen, &mut ops[w].kind) {
        *etag = Some(e);
    }
}

/// The source side of a copy: a read that saw the source present, with the content the
/// destination's reads show the copy wrote, when they show it.
fn copy_source_read<'a>(
    it: &mut Interner<'a>,
    global: &Global<'a>,
    orig: usize,
    op: OpRef<'a>,
) -> KOp {
    let role = match op.out {
        OutRef::Ok { .. } => Role::Required,
        // A refused or unanswered copy may or may not have read its source.
        _ => Role::Excluded,
    };
    let wid = global.copied.get(&orig).map(|w| it.wid(w));
    KOp {
        id: op.id,
        client: op.client,
        call: op.call_ns,
        ret: if op.is_ambiguous() {
            u64::MAX
        } else {
            op.ret_ns
        },
        span_start: op.call_ns,
        kind: Kind::Read {
            if_match: None,
            if_none_match: None,
            out: ReadOut::Ok { etag: None, wid },
        },
        role,
        mutating: false,
        copied: false,
        conflict: false,
        late_start: false,
        orig,
    }
}

fn convert_op<'a>(it: &mut Interner<'a>, global: &Global<'a>, orig: usize, op: OpRef<'a>) -> KOp {
    let ambiguous = op.is_ambiguous();
    let mut role = Role::Required;
    let mut copied = false;
    let kind = match op.req {
        ReqRef::Get {
            if_match,
            if_none_match,
        }
        | ReqRef::Head {
            if_match,
            if_none_match,
        } => {
            let if_match = it.cond(if_match);
            let if_none_match = it.cond(if_none_match);
            let out = match op.out {
                OutRef::Ok { etag, write_id, .. } => ReadOut::Ok {
                    etag: etag.map(|e| it.etag(e)),
                    wid: write_id.map(|w| it.wid(w)),
                },
                OutRef::NotModified { etag } => ReadOut::NotModified {
                    etag: etag.map(|e| it.etag(e)),
                },
                OutRef::PreconditionFailed => ReadOut::PreconditionFailed,
                OutRef::NotFound { .. } => ReadOut::NotFound,
                OutRef::Conflict | OutRef::Rejected { .. } | OutRef::Ambiguous { .. } => {
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
        ReqRef::Put {
            write_id,
            etag_if_applied,
            if_match,
            if_none_match,
            via,
            ..
        } => {
            let if_match = it.cond(if_match);
            let if_none_match = it.cond(if_none_match);
            // Only a copy from another, named key has content bounded by its source's; an
            // in-place copy or one whose source was not recorded may hold anything.
            copied = source_of(&op).is_some();
            let wid = if copied {
                global.copied.get(&orig).map(|w| it.wid(w))
            } else {
                write_id.map(|w| it.wid(w))
            };
            let predicted = etag_if_applied
                .filter(|_| global.trust.trusted(via))
                .map(|e| it.etag(e));
            let (out, etag) = match op.out {
                OutRef::Ok { etag, .. } => {
                    (WriteOut::Applied, etag.map(|e| it.etag(e)).or(predicted))
                }
                OutRef::PreconditionFailed => (WriteOut::PreconditionFailed, predicted),
                // A copy's 404 may be about its source; a Complete's 404 is about the key only
                // when the code says NoSuchKey (NoSuchUpload is about the upload).
                OutRef::NotFound { .. } if via == Via::Put => (WriteOut::NotFound, predicted),
                OutRef::NotFound { code: Some(code) }
                    if via == Via::CompleteMultipart && code == "NoSuchKey" =>
                {
                    (WriteOut::NotFound, predicted)
                }
                OutRef::Ambiguous { .. } => {
                    role = Role::Optional;
                    (WriteOut::Applied, predicted)
                }
                OutRef::NotFound { .. }
                | OutRef::NotModified { .. }
                | OutRef::Conflict
                | OutRef::Rejected { .. } => {
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
        ReqRef::Delete { if_match } => {
            let if_match = it.cond(if_match);
            let out = match op.out {
                OutRef::Ok { .. } => WriteOut::Applied,
                OutRef::PreconditionFailed => WriteOut::PreconditionFailed,
                OutRef::NotFound { .. } => WriteOut::NotFound,
                OutRef::Ambiguous { .. } => {
                    role = Role::Optional;
                    WriteOut::Applied
                }
                OutRef::NotModified { .. } | OutRef::Conflict | OutRef::Rejected { .. } => {
                    role = Role::Excluded;
                    WriteOut::PreconditionFailed
                }
            };
            Kind::Delete { if_match, out }
        }
    };
    let mutating = op.is_mutation();
    let ret = if ambiguous { u64::MAX } else { op.ret_ns };
    let call = match global.not_before.get(&orig) {
        Some(&t) if copied => op.call_ns.max(t).min(ret),
        _ => op.call_ns,
    };
    KOp {
        id: op.id,
        client: op.client,
        call,
        ret,
        span_start: op.conflict_span_start(),
        kind,
        role,
        mutating,
        copied,
        conflict: mutating && matches!(op.out, OutRef::Conflict),
        late_start: call > op.call_ns,
        orig,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::evidence::Trust;
    use crate::history::{Header, Op, Out, Req};

    fn op(id: u64, key: &str, call: u64, req: Req, out: Out) -> Op {
        Op {
            id,
            client: id,
            key: key.into(),
            call_ns: call,
            ret_ns: call + 10,
            req,
            out,
        }
    }
    fn put(w: &str, predicted: &str) -> Req {
        Req::Put {
            write_id: Some(w.into()),
            etag_if_applied: Some(format!("\"{predicted}\"")),
            if_match: None,
            if_none_match: None,
            via: Via::Put,
            source_key: None,
            initiated_ns: None,
        }
    }
    fn ok(e: Option<&str>, w: Option<&str>) -> Out {
        Out::Ok {
            status: 200,
            etag: e.map(|e| format!("\"{e}\"")),
            write_id: w.map(str::to_owned),
        }
    }
    fn history(ops: Vec<Op>) -> History {
        History {
            header: Header::new(),
            ops,
        }
    }
    fn unanswered() -> Out {
        Out::Ambiguous {
            cause: "timeout".into(),
            status: None,
        }
    }

    #[test]
    fn predictions_are_trusted_only_where_answered_writes_confirm_them() {
        let confirmed = history(vec![op(0, "k", 0, put("w0", "p0"), ok(Some("p0"), None))]);
        assert!(Trust::of(&confirmed).put);
        let contradicted = history(vec![
            op(0, "k", 0, put("w0", "p0"), ok(Some("p0"), None)),
            op(
                1,
                "k",
                20,
                put("w1", "p1"),
                ok(Some("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c"), None),
            ),
        ]);
        assert!(!Trust::of(&contradicted).put);
        let no_evidence = history(vec![op(0, "k", 0, put("w0", "p0"), unanswered())]);
        assert!(!Trust::of(&no_evidence).put);
    }

    #[test]
    fn a_copy_reads_its_source_and_writes_no_earlier_than_the_source_existed() {
        let copy = Req::Put {
            write_id: None,
            etag_if_applied: None,
            if_match: None,
            if_none_match: None,
            via: Via::Copy,
            source_key: Some("s".into()),
            initiated_ns: None,
        };
        let h = history(vec![
            op(0, "d", 0, copy, ok(Some("c"), None)),
            op(1, "s", 5, put("w1", "p1"), ok(Some("a1"), None)),
        ]);
        let keys = split_by_key(&h);
        let d = keys.iter().find(|k| k.key == "d").unwrap();
        let s = keys.iter().find(|k| k.key == "s").unwrap();
        // The destination write starts when the source's only write was called, and holds the
        // source's only content.
        assert_eq!((d.ops[0].call, d.ops[0].late_start), (5, true));
        let Kind::Write { wid: Some(w), .. } = d.ops[0].kind else {
            panic!("{:?}", d.ops[0].kind)
        };
        assert_eq!(d.wids[w as usize], "w1");
        // The source side is a read of that content, by the same op.
        let read = s.ops.iter().find(|o| o.id == 0).unwrap();
        let Kind::Read {
            out: ReadOut::Ok { wid: Some(w), .. },
            ..
        } = read.kind
        else {
            panic!("{:?}", read.kind)
        };
        assert_eq!(s.wids[w as usize], "w1");
    }

    #[test]
    fn an_anonymous_304_names_the_only_write_with_an_unknown_etag() {
        let h = history(vec![
            op(0, "x", 0, put("w9", "p9"), ok(Some("z9"), None)),
            op(1, "k", 0, put("w1", "p1"), unanswered()),
            op(
                2,
                "k",
                20,
                Req::Get {
                    if_match: None,
                    if_none_match: Some("\"e7\"".into()),
                },
                Out::NotModified {
                    etag: Some("\"e7\"".into()),
                },
            ),
        ]);
        let keys = split_by_key(&h);
        let k = keys.iter().find(|k| k.key == "k").unwrap();
        let Kind::Write { etag: Some(e), .. } = k.ops[0].kind else {
            panic!("{:?}", k.ops[0].kind)
        };
        assert_eq!(k.etags[e as usize], "e7");
    }
    #[test]
    fn the_compact_form_converts_and_checks_as_the_in_memory_history_does() {
        use crate::bench::{Bug, GenConfig, generate_seeded};
        use crate::check::{CheckOptions, check_history, check_ops};
        use crate::history::CompactHistory;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
        let mut all = Vec::new();
        for dir in ["good", "bad"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                all.push(crate::history::read_history(&path).unwrap());
            }
        }
        for (seed, bug) in [
            None,
            Some(Bug::LostUpdate),
            Some(Bug::StaleRead),
            Some(Bug::Resurrection),
        ]
        .into_iter()
        .enumerate()
        {
            all.push(generate_seeded(
                &GenConfig {
                    writers: 8,
                    ops: 3_000,
                    keys: 3,
                    ambiguous_rate: 0.05,
                    blind_rate: 0.1,
                    delete_rate: 0.1,
                    bug,
                    ..GenConfig::default()
                },
                seed as u64,
            ));
        }
        let opts = CheckOptions::default();
        for h in &all {
            let c = CompactHistory::from(h);
            assert_eq!(
                format!("{:?}", split_by_key(h)),
                format!("{:?}", split_by_key(&c)),
                "{:?}",
                h.header.note
            );
            let (a, b) = (check_history(h, &opts), check_ops(&c, &opts));
            assert_eq!(a.verdict(), b.verdict());
            let strip = |r: &crate::check::CheckReport| {
                r.keys
                    .iter()
                    .map(|k| {
                        (
                            k.key.clone(),
                            k.ops,
                            k.verdict.clone(),
                            k.anomalies.clone(),
                            k.notes.clone(),
                        )
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(strip(&a), strip(&b));
        }
    }
}
