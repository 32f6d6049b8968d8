//! From a recorded history to the per-key form every checker tier works on.
//!
//! Most of an op's meaning is local to its key; what needs the whole history (trusted ETag
//! predictions, what a copy read and when it could write) comes from [`super::evidence`]. A copy
//! appears twice: as a write of its destination and as a read of its source. Per key, an
//! unanswered write's unknown ETag is learnt from the reads that report it, and outcomes no
//! state explains become conformance notes.

use std::mem::MaybeUninit;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::etag_ids::EtagIds;
use super::evidence::{Global, number_etags, source_of};
use super::model::{
    Cond, FxHashMap, FxHashSet, KOp, KeyHistory, Kind, Note, ReadOut, Role, Sym, WriteOut,
};
use super::two_cores;
use crate::history::view::{OpSource, OpSym, OutView, ReqView, StrSym, Symbols};
use crate::history::{History, Via};

/// Splits a history by key (in first-appearance order) and converts each key's ops. A copy
/// appears on its destination key as a write and on its source key as a read.
pub fn split_by_key<S: OpSource + ?Sized>(history: &S) -> Vec<KeyHistory<'_>> {
    let groups = KeyGroups::new(history);
    (0..groups.len()).map(|i| groups.convert(i)).collect()
}

/// A history's ops grouped by key, each group converted on demand: a checker converts a key
/// when it gets to it and drops it when its verdict is in, so only the keys being checked are
/// ever held in the per-key form, and keys convert in parallel.
///
/// Everything here works on the store's string symbols ([`OpSource::symbols`]): ops are grouped
/// by their key's symbol, ETags are numbered once per distinct string for the whole history
/// ([`EtagIds`]), and the per-key form names ETags and write ids by the store's symbols, so
/// converting neither hashes nor copies a string per op.
pub struct KeyGroups<'h, S: OpSource + ?Sized = History> {
    history: &'h S,
    symbols: Symbols<'h>,
    etags: EtagIds,
    global: Global,
    /// Each key's symbol, and where its ops start in `members` (one more, the end).
    keys: Vec<StrSym>,
    starts: Vec<usize>,
    /// The ops of each key in turn, in file order: an op's index, with [`COPY_READ`] set where
    /// the op is a copy from this key, which the key sees as a read of its content.
    members: Vec<u32>,
    /// Renumbering tables of workers between two keys; given up with the last key.
    scratch: Mutex<Vec<Scratch>>,
    unconverted: AtomicUsize,
}

/// Set in a member for a copy's source side. Ops are numbered in the other 31 bits: a history
/// of 2^31 ops would hold more than 150 GB in compact form.
const COPY_READ: u32 = 1 << 31;

/// Ops below which grouping and ETag numbering run one after the other: a thread costs more
/// than they take.
const BESIDE_FROM: usize = 1 << 13;

/// The ops grouped by key (see [`KeyGroups`]), and whether any is a copy.
struct Grouping {
    keys: Vec<StrSym>,
    starts: Vec<usize>,
    members: Vec<u32>,
    copies: bool,
}

impl Grouping {
    /// Groups the ops by key symbol, in first-appearance order of the keys, in one pass over
    /// the ops; reads no string.
    fn new(symbols: &Symbols<'_>) -> Grouping {
        let strings = symbols.strings();
        let n = symbols.len();
        debug_assert!(n < COPY_READ as usize, "{n} ops");
        let mut copies = false;
        // By key symbol (an absent key last): its group, then its size.
        let mut group_at = vec![u32::MAX; strings + 1];
        let mut keys: Vec<StrSym> = Vec::new();
        let mut sizes: Vec<usize> = Vec::new();
        let mut group_of = |key: StrSym| -> u32 {
            let slot = &mut group_at[key.index().unwrap_or(strings).min(strings)];
            if *slot == u32::MAX {
                *slot = keys.len() as u32;
                keys.push(key);
                sizes.push(0);
            }
            sizes[*slot as usize] += 1;
            *slot
        };
        let mut op_group: Vec<u32> = Vec::with_capacity(n);
        // (op, group of its source key), in op order.
        let mut copy_reads: Vec<(u32, u32)> = Vec::new();
        for i in 0..n {
            let op = symbols.op(i);
            op_group.push(group_of(op.key));
            if let ReqView::Put { via: Via::Copy, .. } = op.req {
                copies = true;
                if let Some(src) = source_of(&op) {
                    copy_reads.push((i as u32, group_of(src)));
                }
            }
        }
        drop(group_at);
        let mut starts = Vec::with_capacity(sizes.len() + 1);
        let mut next = Vec::with_capacity(sizes.len());
        let mut at = 0;
        for size in sizes {
            starts.push(at);
            next.push(at);
            at += size;
        }
        starts.push(at);
        let mut members = vec![0u32; at];
        let mut copy_reads = copy_reads.into_iter().peekable();
        for (i, g) in op_group.into_iter().enumerate() {
            members[next[g as usize]] = i as u32;
            next[g as usize] += 1;
            while let Some((_, g)) = copy_reads.next_if(|&(c, _)| c as usize == i) {
                members[next[g as usize]] = i as u32 | COPY_READ;
                next[g as usize] += 1;
            }
        }
        Grouping {
            keys,
            starts,
            members,
            copies,
        }
    }
}

impl<'h, S: OpSource + ?Sized> KeyGroups<'h, S> {
    /// Groups the ops (in first-appearance order of the keys) and gathers the whole-history
    /// facts the conversion needs, on this thread.
    pub fn new(history: &'h S) -> Self {
        Self::beside(history, 1, || ()).0
    }

    /// [`KeyGroups::new`], and `also` (work that needs none of it, such as validating the
    /// history), on up to `threads` threads: the ops are grouped by key, then `also` runs, on
    /// a second thread while this one numbers the ETags. Neither pass reads what the other
    /// makes, so the groups are those [`KeyGroups::new`] makes. Nothing here relies on the
    /// history being valid: `also` may be what finds out that it is not.
    pub fn beside<R: Send>(
        history: &'h S,
        threads: usize,
        also: impl FnOnce() -> R + Send,
    ) -> (Self, R) {
        let two = threads >= 2 && history.len() >= BESIDE_FROM;
        Self::build(history, two, also)
    }

    /// [`KeyGroups::beside`], on two threads or on this one.
    fn build<R: Send>(history: &'h S, two: bool, also: impl FnOnce() -> R + Send) -> (Self, R) {
        let symbols = history.symbols();
        let ((etags, trust), (grouping, r)) = if two {
            let symbols = &symbols;
            two_cores::join(
                || number_etags(symbols),
                move || (Grouping::new(symbols), also()),
            )
        } else {
            let grouped = (Grouping::new(&symbols), also());
            (number_etags(&symbols), grouped)
        };
        let Grouping {
            keys,
            starts,
            members,
            copies,
        } = grouping;
        let global = Global::new(&symbols, &etags, trust, copies);
        let groups = KeyGroups {
            history,
            symbols,
            etags,
            global,
            unconverted: AtomicUsize::new(keys.len()),
            keys,
            starts,
            members,
            scratch: Mutex::new(Vec::new()),
        };
        (groups, r)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True for a history without ops.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The number of ops key `i` will have (a copy counts on both of its keys).
    pub fn ops(&self, i: usize) -> usize {
        self.starts[i + 1] - self.starts[i]
    }

    /// Key `i` in the per-key form.
    pub fn convert(&self, i: usize) -> KeyHistory<'h> {
        self.convert_on(i, false)
    }

    /// Key `i` in the per-key form; with `spare_core`, a large key converts in two halves on
    /// two threads (most often the one key of a history, whose check would otherwise leave the
    /// second core idle). The result is the one-thread result: see [`Interner::absorb`].
    pub fn convert_on(&self, i: usize, spare_core: bool) -> KeyHistory<'h> {
        self.convert_split(i, spare_core && self.ops(i) >= two_cores::SPLIT_MIN)
    }

    fn convert_split(&self, i: usize, split: bool) -> KeyHistory<'h> {
        let mut scratch = self.take_scratch();
        let mut second = split.then(|| self.take_scratch());
        let kh = self.convert_key(
            self.keys[i],
            &self.members[self.starts[i]..self.starts[i + 1]],
            &mut scratch,
            second.as_mut(),
        );
        let mut pool = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
        // Once every key has been converted the tables only hold memory while keys are checked.
        let left = self
            .unconverted
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        if left.unwrap_or(0) > 1 {
            pool.push(scratch);
            pool.extend(second);
        } else {
            pool.clear();
        }
        kh
    }

    fn take_scratch(&self) -> Scratch {
        let pooled = self.scratch.lock().unwrap_or_else(|e| e.into_inner()).pop();
        pooled.unwrap_or_else(|| Scratch {
            etag: vec![UNSET; self.etags.count()],
            wid: vec![UNSET; self.symbols.strings() + 1],
        })
    }
}

/// A worker's tables from the history's numbering to a key's: by [`EtagIds::id`] and by write
/// id symbol, the key's own number, `UNSET` outside the key being converted.
struct Scratch {
    etag: Vec<Sym>,
    wid: Vec<Sym>,
}

const UNSET: Sym = Sym::MAX;

/// Numbers one key's ETags and write ids densely, in order of first mention, so the tiers'
/// tables are sized by the key; names each by a symbol of the store.
struct Interner<'s, 'h> {
    symbols: &'s Symbols<'h>,
    ids: &'s EtagIds,
    scratch: &'s mut Scratch,
    /// By the key's number: the first string met that names the ETag, and its [`EtagIds::id`]
    /// (to clear `scratch` after).
    etags: Vec<StrSym>,
    etag_ids: Vec<u32>,
    /// By the key's number: the write id, and its place in `scratch`.
    wids: Vec<StrSym>,
    wid_slots: Vec<usize>,
}

impl<'s, 'h> Interner<'s, 'h> {
    fn etag(&mut self, raw: StrSym) -> Sym {
        let id = self.ids.id(raw);
        let slot = &mut self.scratch.etag[id as usize];
        if *slot == UNSET {
            *slot = self.etags.len() as Sym;
            self.etags.push(raw);
            self.etag_ids.push(id);
        }
        *slot
    }
    fn wid(&mut self, raw: StrSym) -> Sym {
        let i = raw.index().unwrap_or(self.scratch.wid.len() - 1);
        let slot = &mut self.scratch.wid[i];
        if *slot == UNSET {
            *slot = self.wids.len() as Sym;
            self.wids.push(raw);
            self.wid_slots.push(i);
        }
        *slot
    }
    fn cond(&mut self, raw: Option<StrSym>) -> Option<Cond> {
        raw.map(|v| {
            if self.ids.is_star(v) {
                Cond::Any
            } else {
                Cond::Etag(self.etag(v))
            }
        })
    }
    fn new(symbols: &'s Symbols<'h>, ids: &'s EtagIds, scratch: &'s mut Scratch) -> Self {
        Interner {
            symbols,
            ids,
            scratch,
            etags: Vec::new(),
            etag_ids: Vec::new(),
            wids: Vec::new(),
            wid_slots: Vec::new(),
        }
    }

    /// Takes in the names `later` numbered while interning the ops that follow this
    /// interner's, and returns, by `later`'s numbers, the ETag and write id numbers of the
    /// whole. A name this interner already had keeps its number; a new one is numbered after
    /// them in `later`'s order of first mention. That is the numbering one interner gives
    /// walking both runs of ops in turn, so a key converted in two halves is the key converted
    /// in one pass, once the second half's ops are renumbered ([`renumber`]).
    fn absorb(&mut self, later: Interner<'_, '_>) -> (Vec<Sym>, Vec<Sym>) {
        let (etags, wids) = later.finish();
        let etag = etags.into_iter().map(|raw| self.etag(raw)).collect();
        let wid = wids.into_iter().map(|raw| self.wid(raw)).collect();
        (etag, wid)
    }

    /// The key's names; the worker's tables are left clear for the next key.
    fn finish(self) -> (Vec<StrSym>, Vec<StrSym>) {
        for &id in &self.etag_ids {
            self.scratch.etag[id as usize] = UNSET;
        }
        for &i in &self.wid_slots {
            self.scratch.wid[i] = UNSET;
        }
        (self.etags, self.wids)
    }
}

impl<'h, S: OpSource + ?Sized> KeyGroups<'h, S> {
    /// Converts one key's ops; with a `second` table, the second half of them on another
    /// thread.
    fn convert_key(
        &self,
        key: StrSym,
        members: &[u32],
        scratch: &mut Scratch,
        second: Option<&mut Scratch>,
    ) -> KeyHistory<'h> {
        let (global, symbols) = (&self.global, &self.symbols);
        let mut it = Interner::new(symbols, &self.etags, scratch);
        let n = members.len();
        let mut ops: Vec<KOp> = Vec::with_capacity(n);
        // The ops whose status gets a conformance note, in order.
        let mut odd: Vec<(usize, Oddity)> = Vec::new();
        // Converts `members` into `slots`, noting odd statuses by their place in the key; true
        // when a write has a write id but no known ETag (there is something to learn).
        let convert_run = |it: &mut Interner<'_, '_>,
                           members: &[u32],
                           slots: &mut [MaybeUninit<KOp>],
                           first: usize,
                           odd: &mut Vec<(usize, Oddity)>| {
            let mut unknown = false;
            for (at, (slot, &m)) in slots.iter_mut().zip(members).enumerate() {
                let o = slot.write(convert_member(it, global, m));
                if let Some(x) = oddity(symbols, key, o) {
                    odd.push((first + at, x));
                }
                unknown |= unknown_etag(o).is_some();
            }
            unknown
        };
        let mid = if second.is_some() { n / 2 } else { n };
        let (head, tail) = members.split_at(mid);
        let (head_slots, tail_slots) = ops.spare_capacity_mut()[..n].split_at_mut(mid);
        // Whether a write's ETag is to be learnt, and the second half's names in the whole
        // key's numbering when there is a second half.
        let (unknown, renames) = match second {
            None => (convert_run(&mut it, head, head_slots, 0, &mut odd), None),
            Some(second) => {
                let mut later = Interner::new(symbols, &self.etags, second);
                let later_run = &mut later;
                let (head_unknown, (later_odd, later_unknown)) = two_cores::join(
                    || convert_run(&mut it, head, head_slots, 0, &mut odd),
                    move || {
                        let mut odd = Vec::new();
                        let unknown = convert_run(later_run, tail, tail_slots, mid, &mut odd);
                        (odd, unknown)
                    },
                );
                odd.extend(later_odd);
                (head_unknown || later_unknown, Some(it.absorb(later)))
            }
        };
        // SAFETY: the capacity is at least n, and `convert_run` wrote every one of the first n
        // slots: `head_slots` and `tail_slots` are those n slots, each zipped with as many
        // members, and both runs have finished (a panic in either would have left before
        // this line, with the length still 0).
        unsafe { ops.set_len(n) };
        if let Some((etag, wid)) = renames {
            for o in &mut ops[mid..] {
                renumber(&mut o.kind, &etag, &wid);
            }
        }
        let copyable: Vec<Sym> = global
            .copyable
            .get(&key)
            .into_iter()
            .flatten()
            .map(|&w| it.wid(w))
            .collect();
        let mut notes = Vec::with_capacity(odd.len());
        for (i, oddity) in odd {
            let o = &mut ops[i];
            let described = crate::check::render::describe_op(&self.history.op(o.orig).to_op());
            let message = match oddity {
                Oddity::Refused => format!(
                    "op {}: {described} is not a status any documented convention gives for this request; it is left out of the linearizability check",
                    o.id
                ),
                Oddity::Inexplicable => {
                    o.role = Role::Excluded;
                    format!(
                        "op {}: {described} is not a status any documented convention gives for this request in any state; it is left out of the linearizability check",
                        o.id
                    )
                }
            };
            notes.push(Note { op: i, message });
        }
        let (etags, wids) = it.finish();
        // After the notes: an inexplicable read teaches nothing.
        if unknown {
            learn_etags(&mut ops, &copyable.iter().copied().collect());
        }
        KeyHistory {
            key: symbols.str(key).to_string(),
            ops,
            etags,
            wids,
            names: symbols.table(),
            copyable,
            notes,
        }
    }
}

/// Why an op's status gets a conformance note.
#[derive(Debug, Clone, Copy)]
enum Oddity {
    /// A refused or unanswered request whose status no convention gives it (a 409 to a read,
    /// a 304 to a write); noted on the op's own key only.
    Refused,
    /// A status no state explains: the op is left out of the check.
    Inexplicable,
}

/// Whether `o`, an op of the key `key`, gets a conformance note. Numbering-blind (it compares
/// an op's names only with each other), so either half of a split conversion may ask.
fn oddity(symbols: &Symbols<'_>, key: StrSym, o: &KOp) -> Option<Oddity> {
    if o.role == Role::Excluded {
        // Only the op's own key hears about its status.
        let op = symbols.op(o.orig);
        let odd = match op.out {
            OutView::Conflict => !o.mutating,
            OutView::NotModified { .. } => o.mutating,
            _ => false,
        };
        return (op.key == key && odd).then_some(Oddity::Refused);
    }
    (!o.explicable()).then_some(Oddity::Inexplicable)
}

/// One member of a key's group: the op itself, or a copy's read of its source.
fn convert_member(it: &mut Interner<'_, '_>, global: &Global, m: u32) -> KOp {
    let orig = (m & !COPY_READ) as usize;
    let op = it.symbols.op(orig);
    if m & COPY_READ == 0 {
        convert_op(it, global, orig, op)
    } else {
        copy_source_read(it, global, orig, op)
    }
}

/// Renames every ETag and write id of an op by the tables [`Interner::absorb`] returns.
fn renumber(kind: &mut Kind, etag: &[Sym], wid: &[Sym]) {
    let e = |x: &mut Sym| *x = etag[*x as usize];
    let w = |x: &mut Sym| *x = wid[*x as usize];
    let cond = |c: &mut Option<Cond>| {
        if let Some(Cond::Etag(x)) = c {
            e(x);
        }
    };
    match kind {
        Kind::Read {
            if_match,
            if_none_match,
            out,
        } => {
            cond(if_match);
            cond(if_none_match);
            match out {
                ReadOut::Ok { etag, wid } => {
                    etag.as_mut().map(e);
                    wid.as_mut().map(w);
                }
                ReadOut::NotModified { etag } => {
                    etag.as_mut().map(e);
                }
                ReadOut::PreconditionFailed | ReadOut::NotFound => {}
            }
        }
        Kind::Write {
            if_match,
            if_none_match,
            etag,
            wid,
            out: _,
        } => {
            cond(if_match);
            cond(if_none_match);
            etag.as_mut().map(e);
            wid.as_mut().map(w);
        }
        Kind::Delete { if_match, out: _ } => cond(if_match),
    }
}

/// The write id of a write whose ETag is not known, which [`learn_etags`] looks for in reads.
fn unknown_etag(o: &KOp) -> Option<Sym> {
    match o.kind {
        Kind::Write {
            etag: None,
            wid: Some(w),
            ..
        } if !o.copied => Some(w),
        _ => None,
    }
}

/// An unanswered write whose ETag is not known takes the ETag its first read reported: a write
/// id is written once, so every read of it saw the same version, which has one ETag. Reads
/// that disagree are then caught by the model. Only when a copy may have brought the same
/// content back (a second version with that content) is the ETag left unknown.
fn learn_etags(ops: &mut [KOp], copyable: &FxHashSet<Sym>) {
    let unknown: FxHashSet<Sym> = ops.iter().filter_map(unknown_etag).collect();
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
fn copy_source_read(it: &mut Interner<'_, '_>, global: &Global, orig: usize, op: OpSym) -> KOp {
    let role = match op.out {
        OutView::Ok { .. } => Role::Required,
        // A refused or unanswered copy may or may not have read its source.
        _ => Role::Excluded,
    };
    let wid = global.copied.get(&orig).map(|&w| it.wid(w));
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

fn convert_op(it: &mut Interner<'_, '_>, global: &Global, orig: usize, op: OpSym) -> KOp {
    let ambiguous = op.is_ambiguous();
    let mut role = Role::Required;
    let mut copied = false;
    let kind = match op.req {
        ReqView::Get {
            if_match,
            if_none_match,
        }
        | ReqView::Head {
            if_match,
            if_none_match,
        } => {
            let if_match = it.cond(if_match);
            let if_none_match = it.cond(if_none_match);
            let out = match op.out {
                OutView::Ok { etag, write_id, .. } => ReadOut::Ok {
                    etag: etag.map(|e| it.etag(e)),
                    wid: write_id.map(|w| it.wid(w)),
                },
                OutView::NotModified { etag } => ReadOut::NotModified {
                    etag: etag.map(|e| it.etag(e)),
                },
                OutView::PreconditionFailed => ReadOut::PreconditionFailed,
                OutView::NotFound { .. } => ReadOut::NotFound,
                OutView::Conflict | OutView::Rejected { .. } | OutView::Ambiguous { .. } => {
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
        ReqView::Put {
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
                global.copied.get(&orig).map(|&w| it.wid(w))
            } else {
                write_id.map(|w| it.wid(w))
            };
            let predicted = etag_if_applied
                .filter(|_| global.trust.trusted(via))
                .map(|e| it.etag(e));
            let (out, etag) = match op.out {
                OutView::Ok { etag, .. } => {
                    (WriteOut::Applied, etag.map(|e| it.etag(e)).or(predicted))
                }
                OutView::PreconditionFailed => (WriteOut::PreconditionFailed, predicted),
                // A copy's 404 may be about its source; a Complete's 404 is about the key only
                // when the code says NoSuchKey (NoSuchUpload is about the upload).
                OutView::NotFound { .. } if via == Via::Put => (WriteOut::NotFound, predicted),
                OutView::NotFound { code: Some(code) }
                    if via == Via::CompleteMultipart && it.symbols.str(code) == "NoSuchKey" =>
                {
                    (WriteOut::NotFound, predicted)
                }
                OutView::Ambiguous { .. } => {
                    role = Role::Optional;
                    (WriteOut::Applied, predicted)
                }
                OutView::NotFound { .. }
                | OutView::NotModified { .. }
                | OutView::Conflict
                | OutView::Rejected { .. } => {
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
        ReqView::Delete { if_match } => {
            let if_match = it.cond(if_match);
            let out = match op.out {
                OutView::Ok { .. } => WriteOut::Applied,
                OutView::PreconditionFailed => WriteOut::PreconditionFailed,
                OutView::NotFound { .. } => WriteOut::NotFound,
                OutView::Ambiguous { .. } => {
                    role = Role::Optional;
                    WriteOut::Applied
                }
                OutView::NotModified { .. } | OutView::Conflict | OutView::Rejected { .. } => {
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
        conflict: mutating && matches!(op.out, OutView::Conflict),
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
        assert_eq!(d.wid(w), "w1");
        // The source side is a read of that content, by the same op.
        let read = s.ops.iter().find(|o| o.id == 0).unwrap();
        let Kind::Read {
            out: ReadOut::Ok { wid: Some(w), .. },
            ..
        } = read.kind
        else {
            panic!("{:?}", read.kind)
        };
        assert_eq!(s.wid(w), "w1");
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
        assert_eq!(k.etag(e), "e7");
    }
    /// Every key of `history`, converted in one pass and in two halves on two threads.
    fn both_ways<S: OpSource + ?Sized>(history: &S) -> Vec<(String, String)> {
        let groups = KeyGroups::new(history);
        (0..groups.len())
            .map(|i| {
                let one = format!("{:?}", groups.convert_split(i, false));
                let two = format!("{:?}", groups.convert_split(i, true));
                (one, two)
            })
            .collect()
    }

    #[test]
    fn a_key_converted_in_two_halves_is_the_key_converted_in_one_pass() {
        use crate::history::CompactHistory;
        let all = crate::check::test_corpus::committed_and_generated(3_000, 3);
        let mut keys = 0;
        for h in &all {
            let c = CompactHistory::from(h);
            for (one, two) in both_ways(h).into_iter().chain(both_ways(&c)) {
                assert_eq!(one, two, "{:?}", h.header.note);
                keys += 1;
            }
        }
        assert!(keys > 100, "{keys} keys");
    }

    #[test]
    fn the_compact_form_converts_and_checks_as_the_in_memory_history_does() {
        use crate::check::{CheckOptions, check_history, check_ops};
        use crate::history::CompactHistory;
        let all = crate::check::test_corpus::committed_and_generated(3_000, 3);
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

    #[test]
    fn grouping_beside_the_etag_numbering_converts_every_key_as_one_thread_does() {
        use crate::history::CompactHistory;
        fn keys<S: OpSource + ?Sized>(groups: &KeyGroups<'_, S>) -> String {
            let all: Vec<_> = (0..groups.len()).map(|i| groups.convert(i)).collect();
            format!("{all:?}")
        }
        fn same<S: OpSource + ?Sized>(h: &S) {
            let one = KeyGroups::new(h);
            let (two, also) = KeyGroups::build(h, true, || 7);
            assert_eq!(also, 7);
            assert_eq!(keys(&one), keys(&two));
            assert_eq!(format!("{:?}", one.global), format!("{:?}", two.global));
            let (three, ()) = KeyGroups::beside(h, 2, || ());
            assert_eq!(keys(&one), keys(&three));
        }
        // Every committed history (copies among them) and generated ones of more ops than
        // the second thread is used for.
        for h in &crate::check::test_corpus::committed_and_generated(3_000, 4) {
            same(h);
            same(&CompactHistory::from(h));
        }
    }
}
