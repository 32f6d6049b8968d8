//! History shrinking: delta debugging (ddmin) down to a small history that still shows the
//! same anomaly, and tells the same, true story about the original history.
//!
//! Removing ops can *create* anomalies: drop the write that made a 412 legal and the 412
//! becomes "phantom"; drop the write that was in flight and a lost write seems to have had no
//! excuse. So a smaller history is accepted only when:
//! - for an anomaly a detector names, the anomaly the smaller history shows (same kind, same
//!   key) is one the detectors also find in the **original** history, with the very same ops.
//!   Every detector is sound, so its explanation ("no other write was in flight", "no write
//!   had begun") is then true of the original too;
//! - for a `non-linearizable` verdict of the search, which has no pattern to compare, only
//!   removals that cannot create a violation are tried: ops that change no state (reads,
//!   refused or failed requests), and everything called after every remaining op returned.
//!
//! Removals are *closed* and the closure is transitive: dropping a write also drops every op
//! that mentions its ETag or write id, then everything that mentions what those wrote, and so
//! on. Otherwise removing the write behind a read turns any anomaly into a garbage read.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use super::anomaly::{Anomaly, AnomalyKind};
use super::convert::KeyGroups;
use super::detect::{Finding, all_findings, model_findings, protocol_findings};
use super::model::{Role, split_by_key};
use super::report::{CheckOptions, check_key};
use super::tier2::Budget;
use crate::history::view::{OpRef, OpSource, SymTable, Symbols};
use crate::history::{History, Op, Out, Req, Via, normalize_etag};

/// The work delta debugging may do for the witnesses of one history, counted in ops checked
/// (the sizes of the candidate histories it checks) plus the configurations their searches
/// cache. A check costs about half a microsecond per op on one core, so this is some 50 ms:
/// the verdict of a campaign is not held back for long by a witness that only delta debugging
/// can shrink. A candidate is kept only once checked, so a witness whose budget runs out is
/// still true, only perhaps not minimal, and says so. Counting work instead of time keeps the
/// shrunk witness of a history the same on a loaded machine as on an idle one.
pub const DD_WORK: u64 = 100_000;

/// Work left for delta debugging; one per history, shared by its witnesses in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    left: u64,
}

impl Work {
    /// A budget of `units` (ops checked plus configurations cached).
    pub fn new(units: u64) -> Self {
        Work { left: units }
    }

    /// The units not spent yet.
    pub fn left(&self) -> u64 {
        self.left
    }

    fn spend(&mut self, units: u64) {
        self.left = self.left.saturating_sub(units);
    }

    fn exhausted(&self) -> bool {
        self.left == 0
    }
}

impl Default for Work {
    fn default() -> Self {
        Work::new(DD_WORK)
    }
}

/// How a witness was shrunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// From the detector's own proof: its ops and the writes they name.
    Witness,
    /// Delta debugging over the key's ops.
    DeltaDebugging,
    /// Not at all: the history does not show the anomaly by itself.
    Unshrunk,
}

/// A shrunk history and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Shrinking {
    pub history: History,
    pub method: Method,
    /// Candidate histories checked.
    pub checks: usize,
    /// False when delta debugging stopped at its work or time budget: the history still shows
    /// the anomaly, truly, but a smaller one may too.
    pub complete: bool,
}

/// Shrinks `history` to a (1-minimal, within [`DD_WORK`] and the time budget) sub-history in
/// which the checker still reports an anomaly of `anomaly.kind` on `anomaly.key` that is also
/// true of `history`. Returns the input unchanged if it does not show the anomaly.
pub fn shrink(history: &History, anomaly: &Anomaly, opts: &CheckOptions) -> History {
    shrink_within(history, anomaly, opts, &mut Work::default()).history
}

/// Some of a history's ops, borrowed: a candidate is checked without copying its ops.
struct Subset<'a> {
    ops: Vec<&'a Op>,
}

impl OpSource for Subset<'_> {
    fn len(&self) -> usize {
        self.ops.len()
    }
    fn op(&self, i: usize) -> OpRef<'_> {
        OpRef::from(self.ops[i])
    }
    fn symbols(&self) -> Symbols<'_> {
        Symbols::Table(SymTable::of_ops(self.ops.iter().copied()))
    }
}

/// The anomalies of `kind` the checker reports on `key` in `h`: only that key is checked, in
/// this thread, as [`super::check_history`] checks it. Returns them with the work the check did.
///
/// For a detector's kind, the detectors alone answer: [`check_key`] reports exactly their
/// findings whenever they have any (each is sound, so no certificate can exist beside one), and
/// none of that kind otherwise. So the version graph and, above all, the search, which a
/// candidate without the anomaly would otherwise run to its budget, are skipped. The shrunk
/// witness that is shown is still re-checked by the whole checker ([`super::witnesses`]).
fn anomalies_on<S: OpSource + ?Sized>(
    h: &S,
    key: &str,
    kind: AnomalyKind,
    opts: &CheckOptions,
) -> (Vec<Anomaly>, u64) {
    let groups = KeyGroups::new(h);
    for i in 0..groups.len() {
        let kh = groups.convert(i);
        if kh.key != key {
            continue;
        }
        let ids = |f: Finding| Anomaly {
            kind: f.kind,
            key: kh.key.clone(),
            ops: f.ops.iter().map(|&i| kh.ops[i].id).collect(),
            explanation: String::new(),
        };
        let found = if kind == AnomalyKind::NonLinearizable {
            let budget = Budget {
                deadline: Instant::now() + opts.time_budget,
                max_states: opts.max_states,
                cancel: None,
            };
            let r = check_key(&kh, &budget);
            return (r.anomalies, (kh.ops.len() + r.states) as u64);
        } else if kind.is_protocol() {
            protocol_findings(&kh)
        } else {
            model_findings(&kh)
        };
        let found = found
            .into_iter()
            .filter(|f| f.kind == kind)
            .map(ids)
            .collect();
        return (found, kh.ops.len() as u64);
    }
    (Vec::new(), 0)
}

/// [`shrink`] drawing delta debugging's work from `work`, saying how it went.
pub fn shrink_within(
    history: &History,
    anomaly: &Anomaly,
    opts: &CheckOptions,
    work: &mut Work,
) -> Shrinking {
    if anomaly.kind != AnomalyKind::NonLinearizable
        && let Some((kept, checks)) = from_witness(history, anomaly, opts)
    {
        return Shrinking {
            history: noted(history, kept, anomaly, true),
            method: Method::Witness,
            checks,
            complete: true,
        };
    }
    let deadline = Instant::now() + opts.time_budget;
    let ops = relevant_ops(history, &anomaly.key);
    let confirmed = confirmed_findings(history, &anomaly.key, anomaly.kind);
    let search_verdict = anomaly.kind == AnomalyKind::NonLinearizable;
    let mut checks = 0usize;
    let mut shows = |keep: &[bool], work: &mut Work| -> bool {
        let h = Subset {
            ops: ops
                .iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(o, _)| o)
                .collect(),
        };
        checks += 1;
        let (found, spent) = anomalies_on(&h, &anomaly.key, anomaly.kind, opts);
        work.spend(spent);
        let mut same = found.iter().filter(|a| a.kind == anomaly.kind).peekable();
        // Every anomaly of this kind the smaller history shows must be true of the original:
        // whichever of them is printed, it tells no story the original does not.
        same.peek().is_some() && same.all(|a| search_verdict || confirmed.contains(&a.ops))
    };
    let n = ops.len();
    let mut keep = vec![true; n];
    if !shows(&keep, work) {
        return Shrinking {
            history: history.clone(),
            method: Method::Unshrunk,
            checks,
            complete: true,
        };
    }
    let out_of_budget = |work: &Work| work.exhausted() || Instant::now() >= deadline;
    // For the search's verdict only state-preserving ops may go one by one.
    let removable: Vec<bool> = if search_verdict {
        state_preserving(&ops, &anomaly.key)
    } else {
        vec![true; n]
    };
    let closure = closures(&ops);
    let remove = |keep: &mut Vec<bool>, units: &[usize]| {
        for &u in units {
            for &j in &closure[u] {
                keep[j] = false;
            }
        }
    };
    // Cheap first cut: everything called after every op that stays has returned. No such op
    // can be linearized before one that stays, so the cut never creates a violation.
    let mut cand = keep.clone();
    let late = suffix_after(&ops, anomaly);
    for &i in &late {
        cand[i] = false;
    }
    if !late.is_empty() && shows(&cand, work) {
        keep = cand;
    }
    // ddmin over the remaining ops.
    let mut chunks = 2usize;
    loop {
        let alive: Vec<usize> = (0..n).filter(|&i| keep[i] && removable[i]).collect();
        if alive.len() <= 1 || out_of_budget(work) {
            break;
        }
        let chunks_now = chunks.min(alive.len());
        let size = alive.len().div_ceil(chunks_now);
        let mut progressed = false;
        for part in alive.chunks(size) {
            if out_of_budget(work) {
                break;
            }
            let mut cand = keep.clone();
            if search_verdict {
                // Closures would take writes along; state-preserving ops go alone.
                for &i in part {
                    cand[i] = false;
                }
            } else {
                remove(&mut cand, part);
            }
            if cand.iter().any(|k| *k) && cand != keep && shows(&cand, work) {
                keep = cand;
                progressed = true;
                break;
            }
        }
        if progressed {
            chunks = (chunks_now - 1).max(2);
        } else if chunks_now >= alive.len() {
            break;
        } else {
            chunks = (chunks_now * 2).min(alive.len());
        }
    }
    // A write's closure takes along every later write of its chain, so the versions before
    // the witness's writes cannot go that way. One by one, each may go with just its readers:
    // the witness is confirmed against the original either way.
    if !search_verdict {
        let readers = reader_closures(&ops);
        let mut i = 0;
        while i < n && !out_of_budget(work) {
            if keep[i] {
                let mut cand = keep.clone();
                for &j in &readers[i] {
                    cand[j] = false;
                }
                if cand.iter().any(|k| *k) && shows(&cand, work) {
                    keep = cand;
                }
            }
            i += 1;
        }
    }
    let complete = !out_of_budget(work);
    let kept: Vec<Op> = ops
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(o, _)| o)
        .collect();
    Shrinking {
        history: noted(history, kept, anomaly, complete),
        method: Method::DeltaDebugging,
        checks,
        complete,
    }
}

/// The shrunk history, its header saying what it was shrunk from and what it shows.
fn noted(history: &History, kept: Vec<Op>, anomaly: &Anomaly, complete: bool) -> History {
    let mut header = history.header.clone();
    let note = format!(
        "shrunk from {} ops to {} showing {} on key {} (that anomaly is also true of the original; others this file shows may come from the ops removed){}",
        history.ops.len(),
        kept.len(),
        anomaly.kind,
        anomaly.key,
        if complete {
            ""
        } else {
            "; the shrinker's budget ran out, so a smaller history may show it too"
        }
    );
    header.note = Some(match header.note {
        Some(n) => format!("{n}; {note}"),
        None => note,
    });
    History { header, ops: kept }
}

/// The most ops the fast path gathers around a witness, and the most rounds it widens the
/// context, before leaving the witness to delta debugging.
const MAX_CONTEXT: usize = 64;
const MAX_WIDENING: usize = 8;

/// A detector's witness is a proof in a few ops, so the smallest history showing its anomaly
/// is nearly always those ops alone, or with the writes that produced what they name. Both are
/// tried first, each accepted only when every anomaly of the kind it shows on the key is the
/// original finding itself (same ops), which the original history showed; then ops are dropped
/// one at a time while that holds. A few checks of a handful of ops each, instead of delta
/// debugging over the whole key; `None` sends the shrinker down that general path. When the
/// witness's own context is not enough (a conditional write whose version's producer is itself
/// a conditional write), the context is widened round by round along those producers.
fn from_witness(
    history: &History,
    anomaly: &Anomaly,
    opts: &CheckOptions,
) -> Option<(Vec<Op>, usize)> {
    if anomaly.ops.is_empty() {
        return None;
    }
    let checks = std::cell::Cell::new(0usize);
    let shows = |ops: &[&Op]| -> bool {
        let h = Subset { ops: ops.to_vec() };
        checks.set(checks.get() + 1);
        let (found, _) = anomalies_on(&h, &anomaly.key, anomaly.kind, opts);
        let mut same = found.iter().filter(|a| a.kind == anomaly.kind).peekable();
        same.peek().is_some() && same.all(|a| a.ops == anomaly.ops)
    };
    let wanted: HashSet<u64> = anomaly.ops.iter().copied().collect();
    let mut keep: Vec<&Op> = history
        .ops
        .iter()
        .filter(|o| wanted.contains(&o.id))
        .collect();
    if keep.len() != wanted.len() {
        return None;
    }
    // A version named by a conditional write is explained by its own producer's chain: widen
    // the context until it shows the anomaly, a bounded number of times.
    let mut widened = 0;
    while !shows(&keep) {
        let wider = with_context(history, &keep);
        widened += 1;
        if wider.len() == keep.len() || wider.len() > MAX_CONTEXT || widened > MAX_WIDENING {
            return None;
        }
        keep = wider;
    }
    let mut i = 0;
    while i < keep.len() {
        let mut cand = keep.clone();
        cand.remove(i);
        if !cand.is_empty() && shows(&cand) {
            keep = cand;
        } else {
            i += 1;
        }
    }
    Some((keep.into_iter().cloned().collect(), checks.get()))
}

/// `ops` with the context a pattern's name depends on: the writes that produced the versions
/// they name (a write id they read, an ETag they name on the same key, in a condition or an
/// outcome), and the first op that names each version their writes produced (whether anybody
/// saw a write tells a lost write from a stale read).
fn with_context<'h>(history: &'h History, ops: &[&'h Op]) -> Vec<&'h Op> {
    let mut context = with_producers(history, ops);
    let mut written: HashSet<(&str, &str)> = HashSet::new();
    let mut written_ids: HashSet<&str> = HashSet::new();
    for o in ops {
        if let Req::Put { write_id, .. } = &o.req {
            if let Some(e) = o.produced_etag() {
                written.insert((o.key.as_str(), normalize_etag(e)));
            }
            written_ids.extend(write_id.as_deref());
        }
    }
    let mut first: HashMap<(&str, &str), &Op> = HashMap::new();
    for o in &history.ops {
        let named: Option<&str> = match (&o.req, &o.out) {
            (Req::Get { .. } | Req::Head { .. }, Out::Ok { etag, .. })
            | (_, Out::NotModified { etag }) => etag.as_deref(),
            (Req::Put { if_match, .. }, Out::Ok { .. }) => if_match.as_deref(),
            _ => None,
        };
        let by_id = match (&o.req, &o.out) {
            (Req::Get { .. } | Req::Head { .. }, Out::Ok { write_id, .. }) => {
                write_id.as_deref().filter(|w| written_ids.contains(w))
            }
            _ => None,
        };
        let version = named
            .map(|e| (o.key.as_str(), normalize_etag(e)))
            .filter(|v| written.contains(v));
        if let Some(v) = version.or(by_id.map(|w| (o.key.as_str(), w))) {
            let slot = first.entry(v).or_insert(o);
            if o.call_ns < slot.call_ns {
                *slot = o;
            }
        }
    }
    let have: HashSet<u64> = context.iter().map(|o| o.id).collect();
    let mut extra: Vec<&Op> = first
        .into_values()
        .filter(|o| !have.contains(&o.id))
        .collect();
    extra.sort_by_key(|o| o.id);
    extra.dedup_by_key(|o| o.id);
    context.extend(extra);
    context.sort_by_key(|o| (o.call_ns, o.id));
    context
}

/// `ops` and the writes that produced the versions they name: a write id they read, an ETag
/// they name on the same key (in a condition or an outcome).
fn with_producers<'h>(history: &'h History, ops: &[&'h Op]) -> Vec<&'h Op> {
    let mut etags: HashSet<(&str, &str)> = HashSet::new();
    let mut wids: HashSet<&str> = HashSet::new();
    for &o in ops {
        let key = o.key.as_str();
        let mut etag = |e: Option<&'h str>| {
            if let Some(e) = e.filter(|e| e.trim() != "*") {
                etags.insert((key, normalize_etag(e)));
            }
        };
        let (if_match, if_none_match) = o.req.conditions();
        etag(if_match);
        etag(if_none_match);
        match (&o.req, &o.out) {
            (
                Req::Get { .. } | Req::Head { .. },
                Out::Ok {
                    etag: e, write_id, ..
                },
            ) => {
                etag(e.as_deref());
                wids.extend(write_id.as_deref());
            }
            (_, Out::NotModified { etag: e }) => etag(e.as_deref()),
            _ => {}
        }
    }
    let mine: HashSet<u64> = ops.iter().map(|o| o.id).collect();
    history
        .ops
        .iter()
        .filter(|o| {
            if mine.contains(&o.id) {
                return true;
            }
            let Req::Put { write_id, .. } = &o.req else {
                return false;
            };
            write_id.as_deref().is_some_and(|w| wids.contains(w))
                || o.produced_etag()
                    .is_some_and(|e| etags.contains(&(o.key.as_str(), normalize_etag(e))))
        })
        .collect()
}

/// The ops that bear on `key`: its own, the copies that read it, the reads of those copies'
/// destinations that show what a copy wrote (they tell what it read), and the writes to the
/// sources of copies into it (they bound what and when such a copy could write).
fn relevant_ops(history: &History, key: &str) -> Vec<Op> {
    let mut copy_etags: HashSet<(&str, &str)> = HashSet::new();
    let sources: HashSet<&str> = history
        .ops
        .iter()
        .filter(|o| o.key == key)
        .filter_map(|o| match &o.req {
            Req::Put {
                via: Via::Copy,
                source_key: Some(s),
                ..
            } if s != key => Some(s.as_str()),
            _ => None,
        })
        .collect();
    for op in &history.ops {
        if let (
            Req::Put {
                via: Via::Copy,
                source_key: Some(s),
                ..
            },
            Out::Ok { etag: Some(e), .. },
        ) = (&op.req, &op.out)
            && s == key
        {
            copy_etags.insert((op.key.as_str(), normalize_etag(e)));
        }
    }
    history
        .ops
        .iter()
        .filter(|o| {
            o.key == key
                || (sources.contains(o.key.as_str()) && o.req.is_mutation())
                || matches!(&o.req, Req::Put { source_key: Some(s), .. } if s == key)
                || matches!(
                    (&o.req, &o.out),
                    (Req::Get { .. } | Req::Head { .. }, Out::Ok { etag: Some(e), .. })
                        if copy_etags.contains(&(o.key.as_str(), normalize_etag(e)))
                )
        })
        .cloned()
        .collect()
}

/// The op-id lists of every `kind` finding the detectors make on `key` in the original history.
fn confirmed_findings(history: &History, key: &str, kind: AnomalyKind) -> HashSet<Vec<u64>> {
    split_by_key(history)
        .into_iter()
        .filter(|kh| kh.key == key)
        .flat_map(|kh| {
            all_findings(&kh)
                .into_iter()
                .filter(|f| f.kind == kind)
                .map(|f| f.ops.iter().map(|&i| kh.ops[i].id).collect::<Vec<u64>>())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Which of `ops` change no state on `key` whatever the order: reads, refused or failed
/// requests, 409s. Removing one keeps a linearization a linearization, so it cannot create a
/// violation.
fn state_preserving(ops: &[Op], key: &str) -> Vec<bool> {
    let h = History {
        header: Default::default(),
        ops: ops.to_vec(),
    };
    let mut out = vec![false; ops.len()];
    let pos: HashMap<u64, usize> = ops.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
    for kh in split_by_key(&h).into_iter().filter(|kh| kh.key == key) {
        for o in &kh.ops {
            if o.role == Role::Excluded || !o.is_mutation() {
                out[pos[&o.id]] = true;
            }
        }
    }
    // A copy is also a write of another key; it stays unless that side changed nothing too.
    for (i, o) in ops.iter().enumerate() {
        if o.key != key && o.req.is_mutation() && !o.out.is_ambiguous() {
            out[i] = out[i] && !matches!(o.out, Out::Ok { .. });
        }
    }
    out
}

/// The ops called after every other kept op has returned, starting from the witness's end and
/// widening until the cut is clean.
fn suffix_after(ops: &[Op], anomaly: &Anomaly) -> Vec<usize> {
    let witness_end = ops
        .iter()
        .filter(|o| anomaly.ops.contains(&o.id))
        .map(|o| o.ret_ns)
        .max();
    let Some(mut cut) = witness_end else {
        return Vec::new();
    };
    loop {
        let reach = ops
            .iter()
            .filter(|o| o.call_ns <= cut && !o.out.is_ambiguous())
            .map(|o| o.ret_ns)
            .max()
            .unwrap_or(cut);
        if reach <= cut {
            break;
        }
        cut = reach;
    }
    (0..ops.len()).filter(|&i| ops[i].call_ns > cut).collect()
}

/// For each op, the ops that must go with it: a write takes along every op naming its ETag or
/// write id, transitively (a conditional write naming it takes its own readers along).
fn closures(ops: &[Op]) -> Vec<Vec<usize>> {
    closures_through(ops, true)
}

/// For each op, itself and the ops that name what it wrote but write nothing themselves.
fn reader_closures(ops: &[Op]) -> Vec<Vec<usize>> {
    closures_through(ops, false)
}

fn closures_through(ops: &[Op], through_writes: bool) -> Vec<Vec<usize>> {
    let mut by_etag: HashMap<(&str, String), Vec<usize>> = HashMap::new();
    let mut by_wid: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, o) in ops.iter().enumerate() {
        let mut etags: Vec<&str> = Vec::new();
        let mut wids: Vec<&str> = Vec::new();
        let (if_match, if_none_match) = o.req.conditions();
        etags.extend(if_match);
        etags.extend(if_none_match);
        match (&o.req, &o.out) {
            (Req::Get { .. } | Req::Head { .. }, Out::Ok { etag, write_id, .. }) => {
                etags.extend(etag.as_deref());
                wids.extend(write_id.as_deref());
            }
            (_, Out::NotModified { etag }) => etags.extend(etag.as_deref()),
            _ => {}
        }
        for e in etags {
            if e.trim() != "*" {
                by_etag
                    .entry((o.key.as_str(), normalize_etag(e).to_string()))
                    .or_default()
                    .push(i);
            }
        }
        for w in wids {
            by_wid.entry(w).or_default().push(i);
        }
    }
    // The ops that directly depend on what op i wrote.
    let direct = |i: usize| -> Vec<usize> {
        let o = &ops[i];
        let Req::Put {
            write_id,
            etag_if_applied,
            ..
        } = &o.req
        else {
            return Vec::new();
        };
        let mut d = Vec::new();
        let produced = match &o.out {
            Out::Ok { etag, .. } => etag.clone().or_else(|| etag_if_applied.clone()),
            _ => etag_if_applied.clone(),
        };
        if let Some(e) = produced {
            d.extend(
                by_etag
                    .get(&(o.key.as_str(), normalize_etag(&e).to_string()))
                    .into_iter()
                    .flatten()
                    .copied(),
            );
        }
        if let Some(w) = write_id {
            d.extend(by_wid.get(w.as_str()).into_iter().flatten().copied());
        }
        d
    };
    let direct: Vec<Vec<usize>> = (0..ops.len()).map(direct).collect();
    // One visit mark per op, stamped with the op whose closure is being gathered, so each
    // closure costs its own size, not the history's.
    let mut seen = vec![usize::MAX; ops.len()];
    (0..ops.len())
        .map(|i| {
            let mut closure = vec![i];
            let mut stack = vec![i];
            seen[i] = i;
            while let Some(j) = stack.pop() {
                for &k in &direct[j] {
                    let writes = ops[k].req.is_mutation();
                    if seen[k] != i && (through_writes || !writes) {
                        seen[k] = i;
                        closure.push(k);
                        if through_writes {
                            stack.push(k);
                        }
                    }
                }
            }
            closure.sort_unstable();
            closure
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_history;
    use crate::history::{Header, Req};

    fn op(id: u64, call: u64, ret: u64, req: Req, out: Out) -> Op {
        Op {
            id,
            client: id,
            key: "k".into(),
            call_ns: call,
            ret_ns: ret,
            req,
            out,
        }
    }
    fn put(w: &str, im: Option<&str>) -> Req {
        Req::Put {
            write_id: Some(w.into()),
            etag_if_applied: None,
            if_match: im.map(str::to_owned),
            if_none_match: None,
            via: Via::Put,
            source_key: None,
            initiated_ns: None,
        }
    }
    fn ok(e: &str) -> Out {
        Out::Ok {
            status: 200,
            etag: Some(e.into()),
            write_id: None,
        }
    }
    fn read(e: &str, w: &str) -> Out {
        Out::Ok {
            status: 200,
            etag: Some(e.into()),
            write_id: Some(w.into()),
        }
    }
    fn get() -> Req {
        Req::Get {
            if_match: None,
            if_none_match: None,
        }
    }

    #[test]
    fn closures_are_transitive() {
        // w1 <- w2 (If-Match w1's ETag) <- read of w2: dropping w1 drops all three.
        let ops = vec![
            op(0, 0, 10, put("w1", None), ok("a1")),
            op(1, 20, 30, put("w2", Some("a1")), ok("a2")),
            op(2, 40, 50, get(), read("a2", "w2")),
            op(3, 40, 50, get(), read("a9", "w9")),
        ];
        assert_eq!(closures(&ops)[0], vec![0, 1, 2]);
        assert_eq!(closures(&ops)[1], vec![1, 2]);
        assert_eq!(closures(&ops)[3], vec![3]);
    }

    fn create() -> Req {
        Req::Put {
            write_id: Some("w9".into()),
            etag_if_applied: None,
            if_match: None,
            if_none_match: Some("*".into()),
            via: Via::Put,
            source_key: None,
            initiated_ns: None,
        }
    }

    #[test]
    fn a_shrunk_witness_tells_a_story_true_of_the_original() {
        // B's 412 is phantom (A's version was current). C's 412 is legal (the key existed),
        // but with A removed it would look phantom too, "no write had begun": that smaller
        // history shows the same kind yet lies about the original, so it must be refused.
        let h = History {
            header: Header::new(),
            ops: vec![
                op(0, 0, 10, put("w1", None), ok("a1")),
                op(1, 20, 30, create(), Out::PreconditionFailed),
                op(2, 40, 50, put("w2", Some("a1")), Out::PreconditionFailed),
            ],
        };
        let opts = CheckOptions::default();
        let report = check_history(&h, &opts);
        let a = report
            .anomalies()
            .find(|a| a.kind == AnomalyKind::Phantom412)
            .expect("B's 412 is phantom")
            .clone();
        assert_eq!(a.ops, vec![0, 2]);
        let small = shrink(&h, &a, &opts);
        let again = check_history(&small, &opts);
        let b = again
            .anomalies()
            .find(|x| x.kind == AnomalyKind::Phantom412)
            .expect("the shrunk history shows the anomaly by itself");
        assert_eq!(b.ops, vec![0, 2], "{small:?}");
        assert!(
            !b.explanation.contains("had even begun"),
            "{}",
            b.explanation
        );
    }

    #[test]
    fn the_search_verdict_loses_only_state_preserving_ops() {
        // The 412 needs the unanswered blind write to have landed; the last read denies that
        // it ever did. Dropping the unanswered write would change the story (the 412 would
        // become phantom), so it stays, and so does the acknowledged write.
        let ops = vec![
            op(0, 0, 10, put("w1", None), ok("a1")),
            op(
                1,
                15,
                60,
                put("w3", None),
                Out::Ambiguous {
                    cause: "timeout".into(),
                    status: None,
                },
            ),
            op(2, 20, 30, get(), read("a1", "w1")),
            op(3, 40, 50, put("w4", Some("a1")), Out::PreconditionFailed),
            op(4, 70, 80, get(), read("a1", "w1")),
        ];
        let h = History {
            header: Header::new(),
            ops,
        };
        let report = check_history(&h, &CheckOptions::default());
        let a = report
            .anomalies()
            .find(|a| a.kind == AnomalyKind::NonLinearizable)
            .expect("no order explains the 412 and the last read together")
            .clone();
        let small = shrink(&h, &a, &CheckOptions::default());
        let ids: Vec<u64> = small.ops.iter().map(|o| o.id).collect();
        assert!(ids.contains(&0) && ids.contains(&1), "{ids:?}");
    }
}
