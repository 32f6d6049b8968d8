//! Pattern detectors: Tier 1's witnesses, each a few ops and a short proof.
//!
//! Every detector is sound on its own: it fires only when its ops alone, with the real-time
//! order, rule out every linearization. The proofs are in the comments. Those that reason
//! about "the only write that produced ETag e" run only when the key satisfies (U): every
//! write that may have applied has a known ETag and no two share one. Detectors run when
//! Tier 1 could not certify a key, and their names are the classification of the anomaly.

use super::anomaly::AnomalyKind;
use super::model::{
    Cond, FxHashMap, FxHashSet, KOp, KeyHistory, Kind, ReadOut, Role, State, Sym, WriteOut,
    sort_by_instant, step,
};
use super::window::Explainers;

/// A detected pattern, with ops as indices into `KeyHistory::ops`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: AnomalyKind,
    pub ops: Vec<usize>,
    pub lines: Vec<String>,
}

/// At most this many findings of one kind are reported per key; the rest are the same bug.
const PER_KIND: usize = 3;

/// Protocol checks that hold whatever the linearizability verdict: spurious 409s and
/// duplicate ETags.
pub fn protocol_findings(kh: &KeyHistory) -> Vec<Finding> {
    let mut out = spurious_409(kh, PER_KIND);
    out.extend(duplicate_etags(kh, PER_KIND));
    out
}

/// Every finding of every detector, uncapped and unranked. Each is sound on its own, so a
/// finding listed here is a true statement about this key; the shrinker accepts a smaller
/// history only if the anomaly it shows is one of these for the original history.
pub fn all_findings(kh: &KeyHistory) -> Vec<Finding> {
    let mut out = spurious_409(kh, usize::MAX);
    out.extend(duplicate_etags(kh, usize::MAX));
    out.extend(raw_model_findings(&Ctx::new(kh), &|| false).unwrap_or_default());
    out
}

/// One pattern detector over a key.
type Detector = dyn Fn(&Ctx) -> Vec<Finding>;

/// Every detector in priority order, or `None` when `stop` said so between two of them (the
/// caller then no longer needs the answer: another tier decided the key).
fn raw_model_findings(ctx: &Ctx, stop: &dyn Fn() -> bool) -> Option<Vec<Finding>> {
    let detectors: [&Detector; 6] = [
        &|c| garbage_reads(c.kh),
        &|c| {
            if c.unique {
                lost_updates(c)
            } else {
                Vec::new()
            }
        },
        &|c| double_creates(c),
        &|c| lost_acknowledged_writes(c),
        &|c| overwritten(c),
        &|c| {
            if c.unique {
                stale_family(c)
            } else {
                Vec::new()
            }
        },
    ];
    let mut all = Vec::new();
    for d in detectors {
        if stop() {
            return None;
        }
        all.extend(d(ctx));
    }
    Some(all)
}

/// The linearizability patterns, in priority order; a later finding whose culprit (last op)
/// already appears in an earlier one is dropped, so each bad op gets its most specific name.
pub fn model_findings(kh: &KeyHistory) -> Vec<Finding> {
    model_findings_until(kh, &|| false).unwrap_or_default()
}

/// [`model_findings`], abandoned (`None`) as soon as `stop` returns true between two detectors:
/// run beside Tier 1, the detectors are wasted work once Tier 1 has a certificate.
pub fn model_findings_until(kh: &KeyHistory, stop: &dyn Fn() -> bool) -> Option<Vec<Finding>> {
    if stop() {
        return None;
    }
    let all = raw_model_findings(&Ctx::new(kh), stop)?;
    let mut used: FxHashSet<usize> = FxHashSet::default();
    let mut per_kind: FxHashMap<AnomalyKind, usize> = FxHashMap::default();
    let mut out = Vec::new();
    for f in all {
        let culprit = *f.ops.last().expect("findings have ops");
        if used.contains(&culprit) {
            continue;
        }
        // The culprit has its most specific name now, reported or not: a later, less specific
        // pattern must not name it because this kind's quota is full.
        used.extend(f.ops.iter().skip(1).copied());
        used.insert(culprit);
        let n = per_kind.entry(f.kind).or_default();
        if *n >= PER_KIND {
            continue;
        }
        *n += 1;
        out.push(f);
    }
    Some(out)
}

fn ms(ns: u64) -> String {
    if ns == u64::MAX {
        "never (ambiguous)".into()
    } else {
        format!("{:.3} ms", ns as f64 / 1e6)
    }
}

fn etag(kh: &KeyHistory, e: Sym) -> String {
    format!("\"{}\"", kh.etag(e))
}

/// Sorted intervals with the top-3 returns of every prefix, answering "is there an op, other
/// than these, called by `t` that returned at or after `u`?" in O(log n).
struct Stab {
    calls: Vec<u64>,
    top: Vec<[(u64, usize); 3]>,
}

impl Stab {
    fn new(ops: &[KOp], members: impl Iterator<Item = usize>) -> Self {
        Self::with_start(ops, members, |o| o.call)
    }

    /// Like [`Stab::new`], with each interval starting at `start(op)` instead of its call.
    fn with_start(
        ops: &[KOp],
        members: impl Iterator<Item = usize>,
        start: impl Fn(&KOp) -> u64,
    ) -> Self {
        let mut idx: Vec<usize> = members.collect();
        sort_by_instant(&mut idx, |i| start(&ops[i]));
        let mut top = Vec::with_capacity(idx.len());
        let mut cur = [(0u64, usize::MAX); 3];
        for &i in &idx {
            // Insert (ret, i) into the descending top-3.
            let mut cand = (ops[i].ret, i);
            for slot in cur.iter_mut() {
                if slot.1 == usize::MAX || cand.0 > slot.0 {
                    std::mem::swap(slot, &mut cand);
                    if cand.1 == usize::MAX {
                        break;
                    }
                }
            }
            top.push(cur);
        }
        Stab {
            calls: idx.iter().map(|&i| start(&ops[i])).collect(),
            top,
        }
    }

    fn find(&self, called_by: u64, returned_from: u64, exclude: &[usize]) -> Option<usize> {
        let k = self.calls.partition_point(|&c| c <= called_by);
        if k == 0 {
            return None;
        }
        self.top[k - 1]
            .iter()
            .find(|(r, i)| *i != usize::MAX && *r >= returned_from && !exclude.contains(i))
            .map(|&(_, i)| i)
    }
}

struct Ctx<'a> {
    kh: &'a KeyHistory<'a>,
    /// (U): every possibly-applied write has a known ETag, and no ETag is produced twice.
    unique: bool,
    producer: FxHashMap<Sym, usize>,
    /// Definitely applied mutations sorted by return, with the prefix argmax of call.
    done_rets: Vec<u64>,
    done_latest: Vec<usize>,
    observed_etags: FxHashMap<Sym, usize>,
    observed_wids: FxHashMap<Sym, usize>,
}

impl<'a> Ctx<'a> {
    fn new(kh: &'a KeyHistory) -> Self {
        let ops = &kh.ops;
        let mut unique = true;
        let mut producer = FxHashMap::default();
        for (i, o) in ops.iter().enumerate() {
            if o.role == Role::Excluded {
                continue;
            }
            if let Kind::Write {
                etag,
                out: WriteOut::Applied,
                ..
            } = o.kind
            {
                match etag {
                    Some(e) => {
                        if producer.insert(e, i).is_some() {
                            unique = false;
                        }
                    }
                    None => unique = false,
                }
            }
        }
        let mut done: Vec<usize> = (0..ops.len())
            .filter(|&i| ops[i].role == Role::Required && ops[i].is_mutation())
            .collect();
        sort_by_instant(&mut done, |i| ops[i].ret);
        let mut done_latest = Vec::with_capacity(done.len());
        let mut best: Option<usize> = None;
        for &i in &done {
            if best.is_none_or(|b| ops[i].call >= ops[b].call) {
                best = Some(i);
            }
            done_latest.push(best.expect("set above"));
        }
        let mut observed_etags: FxHashMap<Sym, usize> = FxHashMap::default();
        let mut observed_wids: FxHashMap<Sym, usize> = FxHashMap::default();
        for o in ops.iter().filter(|o| o.role != Role::Excluded) {
            match o.kind {
                Kind::Read {
                    out: ReadOut::Ok { etag, wid },
                    ..
                } => {
                    if let Some(e) = etag {
                        *observed_etags.entry(e).or_default() += 1;
                    }
                    if let Some(w) = wid {
                        *observed_wids.entry(w).or_default() += 1;
                    }
                }
                Kind::Read {
                    out: ReadOut::NotModified { etag },
                    if_none_match,
                    ..
                } => {
                    if let Some(e) = etag.or(match if_none_match {
                        Some(Cond::Etag(e)) => Some(e),
                        _ => None,
                    }) {
                        *observed_etags.entry(e).or_default() += 1;
                    }
                }
                // Whoever names an ETag in an If-Match knew it, even if (a delete answered 204
                // on a missing key) the version was no longer current.
                Kind::Write {
                    if_match: Some(Cond::Etag(e)),
                    out: WriteOut::Applied,
                    ..
                }
                | Kind::Delete {
                    if_match: Some(Cond::Etag(e)),
                    out: WriteOut::Applied,
                } => {
                    *observed_etags.entry(e).or_default() += 1;
                }
                _ => {}
            }
        }
        Ctx {
            kh,
            unique,
            producer,
            done_rets: done.iter().map(|&i| ops[i].ret).collect(),
            done_latest,
            observed_etags,
            observed_wids,
        }
    }

    fn op(&self, i: usize) -> &KOp {
        &self.kh.ops[i]
    }

    /// True when nobody ever saw what write `w` wrote.
    fn unobserved(&self, w: usize) -> bool {
        match self.op(w).kind {
            Kind::Write { etag, wid, .. } => {
                etag.is_none_or(|e| !self.observed_etags.contains_key(&e))
                    && wid.is_none_or(|x| !self.observed_wids.contains_key(&x))
            }
            _ => false,
        }
    }

    /// The version a positive observation names: read 200 / 304, or an applied `If-Match`
    /// write (not a delete: some stores answer 204 to a conditional delete of a missing key).
    fn observed_version(&self, o: &KOp) -> Option<Sym> {
        match o.kind {
            Kind::Read {
                out: ReadOut::Ok { etag, .. },
                ..
            } => etag,
            Kind::Read {
                out: ReadOut::NotModified { etag },
                if_none_match,
                ..
            } => etag.or(match if_none_match {
                Some(Cond::Etag(e)) => Some(e),
                _ => None,
            }),
            Kind::Write {
                if_match: Some(Cond::Etag(e)),
                out: WriteOut::Applied,
                ..
            } => Some(e),
            _ => None,
        }
    }
}

fn describe_state(kh: &KeyHistory, s: State) -> String {
    match s {
        State::Absent => "absent".into(),
        State::Present { etag: Some(e), .. } => format!("at {}", etag(kh, e)),
        State::Present { etag: None, .. } => "present".into(),
    }
}

/// A 409 is provably spurious only when no correct design could give it: no other request
/// that tries to change the key overlaps it at all. A lock-based store answers 409 to a request
/// that meets any other in-flight conditional write, even one that then fails; an optimistic
/// store may abort both of two overlapping writers; a CompleteMultipartUpload counts every
/// write since its upload began. So every mutating request counts, whatever its outcome, over
/// its whole span (from CreateMultipartUpload for a Complete), and an unanswered one is in
/// flight for ever after its call.
fn spurious_409(kh: &KeyHistory, cap: usize) -> Vec<Finding> {
    let ops = &kh.ops;
    if !ops.iter().any(|o| o.conflict) {
        return Vec::new();
    }
    let stab = Stab::with_start(ops, (0..ops.len()).filter(|&i| ops[i].mutating), |o| {
        o.span_start
    });
    let mut out = Vec::new();
    for (i, o) in ops.iter().enumerate() {
        if !o.conflict || out.len() >= cap {
            continue;
        }
        if stab.find(o.ret, o.span_start, &[i]).is_none() {
            let span = if o.span_start < o.call {
                format!(
                    "A's upload began at {} and its Complete returned at {}",
                    ms(o.span_start),
                    ms(o.ret)
                )
            } else {
                format!("A ran from {} to {}", ms(o.call), ms(o.ret))
            };
            out.push(Finding {
                kind: AnomalyKind::Spurious409,
                ops: vec![i],
                lines: vec![format!(
                    "A got 409 ConditionalRequestConflict. {span}, and no other request that tries to change the key (write, copy, complete or delete, whatever its outcome) overlapped that span: there was no race to lose."
                )],
            });
        }
    }
    out
}

fn duplicate_etags(kh: &KeyHistory, cap: usize) -> Vec<Finding> {
    let mut first: FxHashMap<Sym, usize> = FxHashMap::default();
    let mut out = Vec::new();
    for (i, o) in kh.ops.iter().enumerate() {
        if o.role != Role::Required {
            continue;
        }
        if let Kind::Write {
            etag: Some(e),
            wid: Some(w),
            out: WriteOut::Applied,
            ..
        } = o.kind
        {
            match first.get(&e) {
                Some(&j) => {
                    if let Kind::Write { wid: Some(w0), .. } = kh.ops[j].kind
                        && w0 != w
                        && out.len() < cap
                    {
                        out.push(Finding {
                            kind: AnomalyKind::DuplicateEtag,
                            ops: vec![j, i],
                            lines: vec![format!(
                                "A wrote {} and B wrote {}, different content, yet both got ETag {}: If-Match can no longer tell the versions apart.",
                                kh.wid(w0),
                                kh.wid(w),
                                etag(kh, e)
                            )],
                        });
                    }
                }
                None => {
                    first.insert(e, i);
                }
            }
        }
    }
    out
}

/// True when some read saw content no write or copy could have produced (see
/// [`garbage_reads`]); such a key has no linearization whatever the model's order.
pub fn has_garbage_read(kh: &KeyHistory) -> bool {
    !garbage_reads(kh).is_empty()
}

/// ETags some writes may have produced: a known set, or any ETag at all.
#[derive(Default)]
struct Etags {
    any: bool,
    known: FxHashSet<Sym>,
}

impl Etags {
    fn add(&mut self, e: Option<Sym>) {
        match e {
            Some(e) => {
                self.known.insert(e);
            }
            None => self.any = true,
        }
    }
    fn allows(&self, e: Option<Sym>) -> bool {
        self.any || e.is_none_or(|e| self.known.contains(&e))
    }
    fn is_empty(&self) -> bool {
        !self.any && self.known.is_empty()
    }
}

/// A 200 whose content no write could have produced: any state the key ever has is written
/// by one of its writes, so no order explains it. Writes are identified by write id; a write
/// whose ETag is unknown (an unanswered write of a store whose ETags are not predictable)
/// explains any ETag with its write id, and a copy explains only content its sources held.
fn garbage_reads(kh: &KeyHistory) -> Vec<Finding> {
    // Per write id (dense symbols, so no hashing on the common path): the ETag its write
    // carries, any ETag (unknown), or no write at all; rare second ETags go to `extra`.
    #[derive(Clone, Copy, PartialEq)]
    enum ByWid {
        NoWrite,
        One(Sym),
        Any,
    }
    let mut by_wid = vec![ByWid::NoWrite; kh.wids.len()];
    let mut extra: FxHashSet<(Sym, Sym)> = FxHashSet::default();
    let mut unnamed_own = Etags::default();
    let mut unnamed_copy = Etags::default();
    let applied = || {
        kh.ops
            .iter()
            .filter(|o| o.role != Role::Excluded)
            .filter_map(|o| match o.kind {
                Kind::Write {
                    etag,
                    wid,
                    out: WriteOut::Applied,
                    ..
                } => Some((o, etag, wid)),
                _ => None,
            })
    };
    for (o, etag, wid) in applied() {
        match wid {
            Some(w) => {
                let slot = &mut by_wid[w as usize];
                match (*slot, etag) {
                    (_, None) => *slot = ByWid::Any,
                    (ByWid::NoWrite, Some(e)) => *slot = ByWid::One(e),
                    (ByWid::One(x), Some(e)) if x != e => {
                        extra.insert((w, e));
                    }
                    _ => {}
                }
            }
            None if o.copied => unnamed_copy.add(etag),
            None => unnamed_own.add(etag),
        }
    }
    // Reads without a write id are rare: the set of every written ETag is built only for them.
    let mut all: Option<Etags> = None;
    let copyable: FxHashSet<Sym> = kh.copyable.iter().copied().collect();
    let mut out = Vec::new();
    for (i, o) in kh.ops.iter().enumerate() {
        if o.role != Role::Required {
            continue;
        }
        let Kind::Read {
            out: ReadOut::Ok { etag: e, wid: w },
            ..
        } = o.kind
        else {
            continue;
        };
        let ok = match w {
            None => {
                let all = all.get_or_insert_with(|| {
                    let mut all = Etags::default();
                    for (_, etag, _) in applied() {
                        all.add(etag);
                    }
                    all
                });
                all.allows(e) && !all.is_empty()
            }
            Some(w) => {
                let named = match by_wid[w as usize] {
                    ByWid::NoWrite => false,
                    ByWid::Any => true,
                    ByWid::One(x) => e.is_none_or(|e| e == x || extra.contains(&(w, e))),
                };
                named
                    || unnamed_own.allows(e) && !unnamed_own.is_empty()
                    || copyable.contains(&w) && unnamed_copy.allows(e) && !unnamed_copy.is_empty()
            }
        };
        if ok {
            continue;
        }
        let what = match (e, w) {
            (Some(e), Some(w)) => {
                format!("ETag {} with write id {}", etag(kh, e), kh.wid(w))
            }
            (Some(e), None) => format!("ETag {}", etag(kh, e)),
            (None, Some(w)) => format!("write id {}", kh.wid(w)),
            (None, None) => "an object".into(),
        };
        out.push(Finding {
            kind: AnomalyKind::GarbageRead,
            ops: vec![i],
            lines: vec![format!("A returned {what}, but no write to this key, and no copy into it, could have produced that content (or that ETag with that content).")],
        });
    }
    out
}

/// Two applied `If-Match: e` writes: both ran in state e, each leaves a state other than e,
/// and under (U) only e's producer writes e, so the second cannot have seen e. Deletes are left
/// out: a second conditional delete may legally find the key absent and answer 204.
fn lost_updates(ctx: &Ctx) -> Vec<Finding> {
    let kh = ctx.kh;
    let mut by_pred: FxHashMap<Sym, usize> = FxHashMap::default();
    let mut out = Vec::new();
    for (i, o) in kh.ops.iter().enumerate() {
        if o.role != Role::Required {
            continue;
        }
        let e = match o.kind {
            Kind::Write {
                if_match: Some(Cond::Etag(e)),
                out: WriteOut::Applied,
                ..
            } => e,
            _ => continue,
        };
        let Some(&p) = ctx.producer.get(&e) else {
            continue;
        };
        match by_pred.get(&e) {
            Some(&first) => out.push(Finding {
                kind: AnomalyKind::LostUpdate,
                ops: vec![p, first, i],
                lines: vec![
                    format!("A is the only write that produced {}.", etag(kh, e)),
                    format!("B and C both sent If-Match: {} and both succeeded.", etag(kh, e)),
                    "Whichever of B and C took effect first replaced A's version, so the other cannot have matched it: one update was lost.".into(),
                ],
            }),
            None => {
                by_pred.insert(e, i);
            }
        }
    }
    out
}

/// Two applied `If-None-Match: *` creates need an absent key each; between them some delete
/// must take effect, which must overlap the span from the first call to the last return.
fn double_creates(ctx: &Ctx) -> Vec<Finding> {
    let kh = ctx.kh;
    let ops = &kh.ops;
    let mut creates: Vec<usize> = (0..ops.len())
        .filter(|&i| {
            ops[i].role == Role::Required
                && matches!(
                    ops[i].kind,
                    Kind::Write {
                        if_none_match: Some(Cond::Any),
                        if_match: None,
                        out: WriteOut::Applied,
                        ..
                    }
                )
        })
        .collect();
    sort_by_instant(&mut creates, |i| ops[i].call);
    let deletes = Stab::new(
        ops,
        (0..ops.len()).filter(|&i| {
            ops[i].role != Role::Excluded
                && matches!(
                    ops[i].kind,
                    Kind::Delete {
                        out: WriteOut::Applied,
                        ..
                    }
                )
        }),
    );
    let mut out = Vec::new();
    for w in creates.windows(2) {
        let (a, b) = (w[0], w[1]);
        let span_lo = ops[a].call.min(ops[b].call);
        let span_hi = ops[a].ret.max(ops[b].ret);
        if deletes.find(span_hi, span_lo, &[]).is_none() {
            out.push(Finding {
                kind: AnomalyKind::DoubleCreate,
                ops: vec![a, b],
                lines: vec![
                    "A and B both sent If-None-Match: * and both succeeded.".into(),
                    format!("No delete could take effect between them (none was in flight between {} and {}), so the second create found the object present.", ms(span_lo), ms(span_hi)),
                ],
            });
        }
    }
    out
}

/// An acknowledged unconditional write W whose content nobody ever saw. Whatever followed W
/// directly cannot name W's ETag (nobody knew it) and cannot be a create (the key was
/// present), so it was a write or delete without `If-Match: <etag>` (`If-None-Match: <other
/// etag>` passes too). If some op Y
/// began after W returned and saw a state (any ETag, or absent), such a blind mutation must fit
/// between W's call and Y's return; if none was in flight then, W's write was lost.
fn lost_acknowledged_writes(ctx: &Ctx) -> Vec<Finding> {
    let kh = ctx.kh;
    let ops = &kh.ops;
    let blind = |o: &KOp| match o.kind {
        Kind::Write {
            if_match,
            if_none_match,
            out: WriteOut::Applied,
            ..
        } => !matches!(if_match, Some(Cond::Etag(_))) && if_none_match != Some(Cond::Any),
        Kind::Delete {
            if_match,
            out: WriteOut::Applied,
        } => !matches!(if_match, Some(Cond::Etag(_))),
        _ => false,
    };
    let blinds = Stab::new(
        ops,
        (0..ops.len()).filter(|&i| ops[i].role != Role::Excluded && blind(&ops[i])),
    );
    // Ops that saw a definite state (200, 304, 404, an applied If-Match), sorted by call, with
    // the suffix minimum of their return.
    let mut obs: Vec<usize> = (0..ops.len())
        .filter(|&i| {
            let o = &ops[i];
            o.role == Role::Required
                && (ctx.observed_version(o).is_some()
                    || matches!(
                        o.kind,
                        Kind::Read {
                            out: ReadOut::Ok { wid: Some(_), .. } | ReadOut::NotFound,
                            ..
                        }
                    ))
        })
        .collect();
    sort_by_instant(&mut obs, |i| ops[i].call);
    let mut suffix = vec![usize::MAX; obs.len() + 1];
    for k in (0..obs.len()).rev() {
        suffix[k] = if suffix[k + 1] == usize::MAX || ops[obs[k]].ret < ops[suffix[k + 1]].ret {
            obs[k]
        } else {
            suffix[k + 1]
        };
    }
    let mut out = Vec::new();
    for (w, o) in ops.iter().enumerate() {
        // Only unconditional writes: an unobserved conditional write is a stale read, phantom
        // 304 or ignored precondition of whoever later saw the state it replaced.
        if o.role != Role::Required
            || !matches!(
                o.kind,
                Kind::Write {
                    etag: Some(_),
                    if_match: None | Some(Cond::Any),
                    out: WriteOut::Applied,
                    ..
                }
            )
            || !ctx.unobserved(w)
        {
            continue;
        }
        let k = obs.partition_point(|&i| ops[i].call <= o.ret);
        let y = suffix[k];
        if y == usize::MAX || blinds.find(ops[y].ret, o.call, &[w]).is_some() {
            continue;
        }
        out.push(Finding {
            kind: AnomalyKind::LostAcknowledgedWrite,
            ops: vec![w, y],
            lines: vec![
                "A's write was acknowledged, yet no op ever saw its content or named its ETag.".into(),
                format!("B began at {}, after A returned at {}, and {}: so A's version had been replaced by then.", ms(ops[y].call), ms(o.ret), outcome_text(kh, &ops[y])),
                format!("Only an unconditional write or delete could replace a version nobody knew, and none was in flight between {} and B's return: A's write was lost.", start_of(o)),
            ],
        });
    }
    out
}

/// Stale reads and their relatives, under (U): R observes version v (produced only by w);
/// some op Y finished before R began, and Y shows a state that definitely came after v (Y began
/// after w, or an op that saw v, returned, and Y saw or made a state other than v). After Y's point v can never be
/// current again, so R cannot have observed it.
fn stale_family(ctx: &Ctx) -> Vec<Finding> {
    let kh = ctx.kh;
    let ops = &kh.ops;
    // Exposures: (after: when the exposed state was definitely later than anything returned
    // before it, ret, op).
    let mut exp: Vec<(u64, u64, usize)> = Vec::new();
    for (i, o) in ops.iter().enumerate() {
        if o.role != Role::Required {
            continue;
        }
        if o.is_mutation() {
            exp.push((o.call, o.ret, i));
        }
        if let Some(e) = ctx.observed_version(o)
            && let Some(&p) = ctx.producer.get(&e)
        {
            exp.push((ops[p].call, o.ret, i));
        }
        let absent_only = matches!(
            o.kind,
            Kind::Read {
                out: ReadOut::NotFound,
                ..
            } | Kind::Write {
                out: WriteOut::NotFound,
                ..
            } | Kind::Delete {
                out: WriteOut::NotFound,
                ..
            }
        );
        if absent_only {
            exp.push((o.call, o.ret, i));
        }
    }
    exp.sort_unstable();
    // Suffix minimum of ret (with its op) over exposures sorted by `after`.
    let mut suffix: Vec<(u64, usize)> = vec![(u64::MAX, usize::MAX); exp.len() + 1];
    for k in (0..exp.len()).rev() {
        suffix[k] = if exp[k].1 < suffix[k + 1].0 {
            (exp[k].1, exp[k].2)
        } else {
            suffix[k + 1]
        };
    }
    // The earliest return among the ops that show a version (its writer or any observer): the
    // version was definitely installed by then.
    // With the op that showed it then: it belongs to the witness, which must prove the
    // anomaly on its own.
    let mut first_seen: FxHashMap<Sym, (u64, usize)> = FxHashMap::default();
    for (&e, &w) in &ctx.producer {
        first_seen.insert(e, (ops[w].ret, w));
    }
    for (i, o) in ops.iter().enumerate() {
        if o.role != Role::Required {
            continue;
        }
        if let Some(e) = ctx.observed_version(o)
            && let Some(t) = first_seen.get_mut(&e)
            && o.ret < t.0
        {
            *t = (o.ret, i);
        }
    }
    let mut out = Vec::new();
    for (r, o) in ops.iter().enumerate() {
        if o.role != Role::Required {
            continue;
        }
        let Some(e) = ctx.observed_version(o) else {
            continue;
        };
        let Some(&w) = ctx.producer.get(&e) else {
            continue;
        };
        let (wret, seen_by) = first_seen[&e];
        if wret == u64::MAX {
            continue;
        }
        let k = exp.partition_point(|x| x.0 <= wret);
        let (yret, y) = suffix[k];
        if y == usize::MAX || yret >= o.call || y == r || y == w {
            continue;
        }
        let yo = &ops[y];
        let is_404 = matches!(
            yo.kind,
            Kind::Read {
                out: ReadOut::NotFound,
                ..
            } | Kind::Write {
                out: WriteOut::NotFound,
                ..
            } | Kind::Delete {
                out: WriteOut::NotFound,
                ..
            }
        );
        let y_deleted = matches!(
            yo.kind,
            Kind::Delete {
                out: WriteOut::Applied,
                ..
            }
        );
        let kind = match o.kind {
            Kind::Read {
                out: ReadOut::NotModified { .. },
                ..
            } => AnomalyKind::Phantom304,
            Kind::Read { .. } if y_deleted || is_404 => AnomalyKind::Resurrection,
            Kind::Read { .. } if matches!(yo.kind, Kind::Read { .. }) && yo.client == o.client => {
                AnomalyKind::NonMonotonicRead
            }
            Kind::Read { .. } if yo.is_mutation() && ctx.unobserved(y) => {
                AnomalyKind::LostAcknowledgedWrite
            }
            Kind::Read { .. } => AnomalyKind::StaleRead,
            _ => AnomalyKind::IgnoredPrecondition,
        };
        let y_what = if y_deleted {
            "deleted the object".to_string()
        } else if is_404 {
            "found the object absent".to_string()
        } else if yo.is_mutation() {
            match yo.kind {
                Kind::Write { etag: Some(e2), .. } => format!("wrote {}", etag(kh, e2)),
                _ => "wrote a new version".to_string(),
            }
        } else {
            match ctx.observed_version(yo) {
                Some(e2) => format!("saw {}", etag(kh, e2)),
                None => "saw a later state".to_string(),
            }
        };
        let r_what = match (kind, o.kind) {
            (AnomalyKind::Phantom304, _) => format!(
                "got 304 Not Modified for {}, i.e. saw it as current",
                etag(kh, e)
            ),
            (AnomalyKind::IgnoredPrecondition, _) => format!(
                "succeeded with If-Match: {}, i.e. saw it as current",
                etag(kh, e)
            ),
            _ => format!("saw {}", etag(kh, e)),
        };
        let (ops_w, first, [b, c]) = if seen_by == w {
            (
                vec![w, y, r],
                format!(
                    "A is the only write that produced {}; that version was in place by {} at the latest.",
                    etag(kh, e),
                    ms(wret)
                ),
                ["B", "C"],
            )
        } else {
            let seen = match ops[seen_by].kind {
                Kind::Write { .. } => "named it in an If-Match that succeeded",
                _ => "saw it",
            };
            (
                vec![w, seen_by, y, r],
                format!(
                    "A is the only write that produced {}; B {seen} and returned at {}, so that version was in place by then.",
                    etag(kh, e),
                    ms(wret)
                ),
                ["C", "D"],
            )
        };
        out.push(Finding {
            kind,
            ops: ops_w,
            lines: vec![
                first,
                format!("{b} began after that and {y_what}, so that state came after A's version; {b} completed at {}.", ms(yo.ret)),
                format!("{c} began at {}, after {b} completed, yet {c} {r_what}: {}.", ms(o.call), kind.name()),
            ],
        });
    }
    out
}

/// Ops whose outcome no state they can have explains: the *overwritten state* rule.
///
/// W is the latest-starting mutation that returned before R was called (absent: the initial
/// state). W takes effect before R, and every mutation that returned before W was called takes
/// effect before W, so W's state or that of a mutation falling between W and R is R's state.
/// Such a mutation overlaps [W.call, R.ret]. If R's outcome is illegal in W's state and in the
/// state of every possibly-applied mutation overlapping that window (ambiguous ones are in
/// flight for ever after their call), no linearization explains R. Concurrent mutations that
/// leave illegal states do not help R, so they do not block the proof: a definite write, then
/// an `If-None-Match: *` success with writes but no delete in between, is caught however many
/// writers raced. The witness is W and R alone: without the others, W's state is R's.
pub fn overwritten_states(kh: &KeyHistory) -> Vec<Finding> {
    overwritten(&Ctx::new(kh))
}

fn overwritten(ctx: &Ctx) -> Vec<Finding> {
    let kh = ctx.kh;
    let ops = &kh.ops;
    let explainers = Explainers::new(kh);
    let mut out = Vec::new();
    for (r, o) in ops.iter().enumerate() {
        if o.role != Role::Required {
            continue;
        }
        let k = ctx.done_rets.partition_point(|&t| t < o.call);
        let (state, w) = if k == 0 {
            (State::Absent, None)
        } else {
            let w = ctx.done_latest[k - 1];
            (ops[w].written_state().unwrap_or(State::Absent), Some(w))
        };
        if step(state, &o.kind).is_some() {
            continue;
        }
        let from = w.map_or(0, |w| ops[w].call);
        let exclude = match w {
            Some(w) => vec![w, r],
            None => vec![r],
        };
        if explainers.any(kh, r, from, &exclude) {
            continue;
        }
        // Nobody ever saw W's version, and R saw an older one or none: W's write was lost
        // (the racing writes that cannot explain R were lost with it or never landed).
        let w_unobserved = w.is_some_and(|w| ctx.unobserved(w));
        let w_creates = w.is_some_and(|w| {
            matches!(
                ops[w].kind,
                Kind::Write {
                    if_none_match: Some(Cond::Any),
                    if_match: None,
                    ..
                }
            )
        });
        let kind = match o.kind {
            Kind::Read {
                out: ReadOut::NotFound,
                ..
            } if w_unobserved => AnomalyKind::LostAcknowledgedWrite,
            Kind::Read {
                out: ReadOut::Ok { .. },
                ..
            } if w_unobserved => AnomalyKind::LostAcknowledgedWrite,
            Kind::Read {
                out: ReadOut::NotFound,
                ..
            }
            | Kind::Write {
                out: WriteOut::NotFound,
                ..
            }
            | Kind::Delete {
                out: WriteOut::NotFound,
                ..
            } => AnomalyKind::Phantom404,
            Kind::Read {
                out: ReadOut::PreconditionFailed,
                ..
            }
            | Kind::Write {
                out: WriteOut::PreconditionFailed,
                ..
            }
            | Kind::Delete {
                out: WriteOut::PreconditionFailed,
                ..
            } => AnomalyKind::Phantom412,
            Kind::Read {
                out: ReadOut::NotModified { .. },
                ..
            } => AnomalyKind::Phantom304,
            Kind::Read {
                out: ReadOut::Ok { .. },
                ..
            } if state == State::Absent && w.is_some() => AnomalyKind::Resurrection,
            Kind::Read {
                out: ReadOut::Ok { .. },
                ..
            } if w.is_some() => AnomalyKind::StaleRead,
            Kind::Read { .. } => AnomalyKind::NonLinearizable,
            // A create over a create: two If-None-Match: * writes both won.
            Kind::Write {
                if_none_match: Some(Cond::Any),
                if_match: None,
                ..
            } if w_creates => AnomalyKind::DoubleCreate,
            Kind::Write { .. } | Kind::Delete { .. } => AnomalyKind::IgnoredPrecondition,
        };
        let st = describe_state(kh, state);
        let outcome = outcome_text(kh, o);
        let (ops_w, lines) = match w {
            Some(w) => (
                vec![w, r],
                vec![
                    format!(
                        "A returned at {} before B began at {}, so B took effect after A, in A's state unless another write or delete fell between them.",
                        ms(ops[w].ret),
                        ms(o.call),
                    ),
                    format!(
                        "A left the object {st}, where B's outcome is illegal, and no write or delete that could leave a state where it is legal was in flight between {} and B's return (every other one returned before A began or began after B returned).",
                        start_of(&ops[w])
                    ),
                    format!("Yet B {outcome}: {}.", kind.name()),
                ],
            ),
            None => (
                vec![r],
                vec![format!(
                    "No write or delete on the key that could leave a state where A's outcome is legal had even begun when A returned, and the object starts absent, yet A {outcome}: {}.",
                    kind.name()
                )],
            ),
        };
        out.push(Finding {
            kind,
            ops: ops_w,
            lines,
        });
    }
    out
}

/// Where an op's window starts, in words: its call, or for a copy whose source did not exist
/// yet, the first instant it could have read it.
fn start_of(o: &KOp) -> String {
    if o.late_start {
        format!(
            "{} (A is a copy: it writes after reading its source, which no write had begun to create before then)",
            ms(o.call)
        )
    } else {
        "A's call".into()
    }
}

/// "got 412", "saw \"e\"", ... for an op's outcome.
pub fn outcome_text(kh: &KeyHistory, o: &KOp) -> String {
    match o.kind {
        Kind::Read {
            out: ReadOut::Ok { etag: Some(e), .. },
            ..
        } => format!("saw {}", etag(kh, e)),
        // A copy's read of its source: the content comes from the destination's reads.
        Kind::Read {
            out: ReadOut::Ok { wid: Some(w), .. },
            ..
        } => format!(
            "read the content of write {} (as reads of what it copied show)",
            kh.wid(w)
        ),
        Kind::Read {
            out: ReadOut::Ok { .. },
            ..
        } => "got 200".into(),
        Kind::Read {
            out: ReadOut::NotModified { .. },
            ..
        } => "got 304 Not Modified".into(),
        Kind::Read {
            out: ReadOut::PreconditionFailed,
            ..
        }
        | Kind::Write {
            out: WriteOut::PreconditionFailed,
            ..
        }
        | Kind::Delete {
            out: WriteOut::PreconditionFailed,
            ..
        } => "got 412 Precondition Failed".into(),
        Kind::Read {
            out: ReadOut::NotFound,
            ..
        }
        | Kind::Write {
            out: WriteOut::NotFound,
            ..
        }
        | Kind::Delete {
            out: WriteOut::NotFound,
            ..
        } => "got 404".into(),
        Kind::Write {
            if_match: Some(Cond::Etag(e)),
            ..
        } => format!("succeeded with If-Match: {}", etag(kh, e)),
        Kind::Write {
            if_none_match: Some(Cond::Any),
            ..
        } => "succeeded with If-None-Match: *".into(),
        Kind::Write { .. } => "succeeded".into(),
        Kind::Delete {
            if_match: Some(Cond::Etag(e)),
            ..
        } => format!("deleted with If-Match: {}", etag(kh, e)),
        Kind::Delete { .. } => "deleted".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::split_by_key;
    use crate::history::{Header, History, Op, Out, Req, Via};

    fn op(id: u64, call: u64, req: Req, out: Out) -> Op {
        Op {
            id,
            client: id,
            key: "k".into(),
            call_ns: call,
            ret_ns: call + 5,
            req,
            out,
        }
    }

    #[test]
    fn a_full_quota_never_hands_a_culprit_a_less_specific_name() {
        // Four reads of content nobody wrote: garbage reads all. Only three are reported, and
        // the fourth must not turn up under another name (it would be "stale-read").
        let mut ops = vec![op(
            0,
            0,
            Req::Put {
                write_id: Some("w1".into()),
                etag_if_applied: None,
                if_match: None,
                if_none_match: None,
                via: Via::Put,
                source_key: None,
                initiated_ns: None,
            },
            Out::Ok {
                status: 200,
                etag: Some("\"a1\"".into()),
                write_id: None,
            },
        )];
        for i in 1..5 {
            ops.push(op(
                i,
                10 * i,
                Req::Get {
                    if_match: None,
                    if_none_match: None,
                },
                Out::Ok {
                    status: 200,
                    etag: Some(format!("\"x{i}\"")),
                    write_id: Some(format!("nobody{i}")),
                },
            ));
        }
        let h = History {
            header: Header::new(),
            ops,
        };
        let kh = &split_by_key(&h)[0];
        let kinds: Vec<AnomalyKind> = model_findings(kh).iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![AnomalyKind::GarbageRead; PER_KIND]);
    }
}
