//! Tier 1: the version-graph checker (docs/checker.md §3.1).
//!
//! When every successful write has a distinct, known ETag, conditional writes name the
//! version they replace, so the version order is *read off* the history instead of searched
//! for. This tier builds that order, places every other op by interval arithmetic, and emits a
//! total order in O(n log n). It never decides anything on its own: the order is a candidate
//! certificate that [`super::validate`] must accept, and anything it cannot order is
//! "inconclusive" and goes to the pattern detectors and Tier 2.
//!
//! Construction:
//! 1. Writers: every applied mutation, plus ambiguous writes whose content someone observed
//!    (the unobserved ones are dropped: "not applied" is always legal).
//! 2. Fragments: a write with `If-Match: e` hangs off the unique producer of `e`; creates,
//!    blind writes and blind deletes start a fragment. Fragments are concatenated by their
//!    head's call time; a version with two successors (a lost update) is inconclusive here.
//! 3. Writer points: version j is current on the segment `[s_j, s_{j+1}]`. Its cluster (the
//!    writer and every read that names it) must fit, so `s_j` is chosen greedily as early as
//!    possible: `s_j = max(s_{j-1}, call(w_j), max call of cluster j-1)`, and must not exceed
//!    the smallest return in cluster j.
//! 4. Every other op (412, 404, `If-None-Match: *` 304, ...) takes the first version whose
//!    segment meets its interval and in which its outcome is legal.
//! 5. Sorting by (point, version, writer-first) yields the order.

use super::model::{Cond, DenseMap, FxHashMap, KOp, KeyHistory, Kind, ReadOut, Role, State, step};
use super::tier2::observed_optional;
use super::two_cores;
use super::validate::validate_on;

/// What Tier 1 concluded about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tier1Result {
    /// A validated total order (op ids).
    Certificate(Vec<u64>),
    /// Tier 1 could not order this key; the reason says why.
    Inconclusive(String),
}

/// Builds and validates a certificate for one key.
///
/// Fragment order and writer points are choices; the common case is settled by the first
/// strategy, and a few alternatives (fragments by latest call or by deadline, writer points as
/// late as possible) are tried before giving up, each validated independently.
pub fn tier1(kh: &KeyHistory) -> Tier1Result {
    tier1_with(kh, &mut || true)
}

/// [`tier1`], calling `rejected` each time a strategy fails (no order, or an order the
/// validator refused) and giving up when it returns false. The checker uses it to start the
/// detectors and the search on another core as soon as the first strategy fails, and to stop
/// once their answer makes Tier 1's moot.
pub fn tier1_with(kh: &KeyHistory, rejected: &mut dyn FnMut() -> bool) -> Tier1Result {
    tier1_split(kh, usize::MAX, rejected)
}

/// [`tier1_with`]; from `split_min` ops on, a key's graph and first candidate order are built
/// and validated with a second thread (sorting ops into clusters, placing the flexible ops,
/// sorting and merging the order, replaying it in two halves), with the same result. The
/// checker passes [`two_cores::SPLIT_MIN`] when the key has a core to itself.
pub(super) fn tier1_split(
    kh: &KeyHistory,
    split_min: usize,
    rejected: &mut dyn FnMut() -> bool,
) -> Tier1Result {
    let two = kh.ops.len() >= split_min;
    tier1_orders(kh, Graph::new(kh, two), two, rejected)
}

/// The key's graph, built on this thread (the same graph as [`tier1_split`] builds) while
/// `beside` runs on another: the checker gives that thread the protocol and garbage checks,
/// about as long as the graph, instead of a third thread beside the graph's two halves.
pub(super) fn graph_beside<'a, R: Send>(
    kh: &'a KeyHistory,
    beside: impl FnOnce() -> R + Send,
) -> (Result<Graph<'a>, String>, R) {
    two_cores::join(|| Graph::new(kh, false), beside)
}

/// [`tier1_split`] from the key's graph (or the reason it has none); with `two`, the first
/// candidate order is built and validated on two threads.
pub(super) fn tier1_orders(
    kh: &KeyHistory,
    graph: Result<Graph<'_>, String>,
    mut two: bool,
    rejected: &mut dyn FnMut() -> bool,
) -> Tier1Result {
    let graph = match graph {
        Ok(g) => g,
        Err(reason) => return Tier1Result::Inconclusive(reason),
    };
    let mut last = String::new();
    for frag in [
        FragOrder::Zone,
        FragOrder::HeadCall,
        FragOrder::MaxCall,
        FragOrder::Deadline,
    ] {
        if frag != FragOrder::Zone && graph.fragments.len() <= 1 {
            break;
        }
        for sched in [Sched::Earliest, Sched::Latest] {
            match graph.order(frag, sched, two) {
                Ok(order) => match validate_on(kh, &order, two) {
                    Ok(()) => return Tier1Result::Certificate(order),
                    Err(e) => last = format!("candidate order rejected: {e}"),
                },
                Err(reason) => last = reason,
            }
            if !rejected() {
                return Tier1Result::Inconclusive(last);
            }
            // Once a strategy has failed, the other core runs the detectors and the search,
            // whose answer is then the likelier one: the other strategies leave it that core.
            two = false;
        }
    }
    Tier1Result::Inconclusive(last)
}

/// How fragments (chains started by a create, blind write or blind delete) are concatenated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FragOrder {
    /// By the head cluster's zone: its smallest return if every op of the cluster must
    /// overlap a span (forward zone), else its largest call (Gibbons & Korach's zones).
    Zone,
    /// By the head writer's call.
    HeadCall,
    /// By the latest call of any op in the fragment (the zone order).
    MaxCall,
    /// By the earliest return in the head's cluster (the head's deadline).
    Deadline,
}

/// Where writer points go within their feasible window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sched {
    Earliest,
    Latest,
}

/// The version graph of one key, independent of the strategy.
pub(super) struct Graph<'a> {
    ops: &'a [KOp],
    is_writer: Vec<bool>,
    /// Writer chains, each starting at a head.
    fragments: Vec<Vec<usize>>,
    /// For ops that name a version: the writer of that version ([`NO_CLUSTER`] for the
    /// others).
    cluster: Vec<u32>,
    /// Smallest return and largest call in each writer's cluster (writer included), by rank.
    minret: Vec<u64>,
    maxcall: Vec<u64>,
    /// Each writer's rank among the writers (`u32::MAX` for other ops), so a strategy maps
    /// writers to versions in a vector of the writers' size, not the key's.
    rank: Vec<u32>,
    writers: usize,
    /// The ops placed by interval rather than by the version they name (412, 404, ...).
    flexible: Vec<usize>,
}

/// In [`Graph::cluster`], an op that names no version.
const NO_CLUSTER: u32 = u32::MAX;

/// The clusters of a run of a key's ops.
struct Clusters {
    cluster: Vec<u32>,
    minret: Vec<u64>,
    maxcall: Vec<u64>,
    flexible: Vec<usize>,
}

impl Clusters {
    /// These clusters and those of the run of ops that follows.
    fn then(mut self, later: Clusters) -> Clusters {
        self.cluster.extend(later.cluster);
        for (a, b) in self.minret.iter_mut().zip(later.minret) {
            *a = (*a).min(b);
        }
        for (a, b) in self.maxcall.iter_mut().zip(later.maxcall) {
            *a = (*a).max(b);
        }
        self.flexible.extend(later.flexible);
        self
    }
}

impl<'a> Graph<'a> {
    /// The graph of `kh`; with `two`, its ops are sorted into clusters in two halves on two
    /// threads, with the same result.
    fn new(kh: &'a KeyHistory, two: bool) -> Result<Self, String> {
        let ops = &kh.ops[..];
        // Applied mutations, and the ambiguous ones somebody observed: which those are is
        // worked out only when there are ambiguous mutations.
        let mut optional = false;
        let mut is_writer: Vec<bool> = ops
            .iter()
            .map(|o| {
                optional |= o.role == Role::Optional && o.is_mutation();
                o.is_mutation() && o.role == Role::Required
            })
            .collect();
        if optional {
            let observed = observed_optional(kh);
            for (i, o) in ops.iter().enumerate() {
                if o.role == Role::Optional && o.is_mutation() {
                    is_writer[i] = observed[i];
                }
            }
        }
        let writers: Vec<usize> = (0..ops.len()).filter(|&i| is_writer[i]).collect();
        let mut rank = vec![u32::MAX; ops.len()];
        for (r, &w) in writers.iter().enumerate() {
            rank[w] = u32::try_from(r).map_err(|_| "too many writes for Tier 1".to_string())?;
        }
        let mut producer = DenseMap::new(kh.etags.len());
        let mut by_wid = DenseMap::new(kh.wids.len());
        for &w in &writers {
            if let Kind::Write { etag, wid, .. } = ops[w].kind {
                let e = etag.ok_or_else(|| format!("op {} wrote an unknown ETag", ops[w].id))?;
                if producer.insert(e as usize, w).is_some() {
                    return Err(format!("ETag {} was produced twice", kh.etag(e)));
                }
                if let Some(wid) = wid {
                    by_wid.insert(wid as usize, w);
                }
            }
        }
        // By the writer's rank: the writer that names its version.
        let mut succ = DenseMap::new(writers.len());
        let mut heads = Vec::new();
        for &w in &writers {
            let if_match = match ops[w].kind {
                Kind::Write { if_match, .. } | Kind::Delete { if_match, .. } => if_match,
                Kind::Read { .. } => None,
            };
            let pred = match if_match {
                Some(Cond::Etag(e)) => {
                    Pred::Exact(producer.get(e as usize).ok_or_else(|| {
                        format!("op {} names an ETag no write produced", ops[w].id)
                    })?)
                }
                _ => Pred::Head,
            };
            match pred {
                Pred::Exact(p) => {
                    if succ.insert(rank[p] as usize, w).is_some() {
                        return Err(format!("op {} has two successors", ops[p].id));
                    }
                }
                Pred::Head => heads.push(w),
            }
        }
        let mut fragments = Vec::new();
        let mut covered = 0;
        for &h in &heads {
            let mut chain = Vec::new();
            let mut cur = Some(h);
            while let Some(c) = cur {
                chain.push(c);
                covered += 1;
                if covered > writers.len() {
                    return Err("the version chain has a cycle".into());
                }
                cur = succ.get(rank[c] as usize);
            }
            fragments.push(chain);
        }
        if covered != writers.len() {
            return Err(
                "some writes are not reachable from a create or blind write (a cycle)".into(),
            );
        }
        // The clusters of a run of ops, with their writers' smallest return and largest call.
        let clusters = |range: std::ops::Range<usize>| -> Result<Clusters, String> {
            let mut c = Clusters {
                cluster: Vec::with_capacity(range.len()),
                minret: vec![u64::MAX; writers.len()],
                maxcall: vec![0; writers.len()],
                flexible: Vec::new(),
            };
            for i in range {
                let op = &ops[i];
                let linearized =
                    !(op.role == Role::Excluded || (op.role == Role::Optional && !is_writer[i]));
                let w =
                    match op.kind {
                        _ if !linearized => None,
                        _ if is_writer[i] => Some(i),
                        Kind::Read {
                            out: ReadOut::Ok { etag: Some(e), .. },
                            ..
                        } => Some(producer.get(e as usize).ok_or_else(|| {
                            format!("op {} read an ETag no write produced", op.id)
                        })?),
                        Kind::Read {
                            out:
                                ReadOut::Ok {
                                    etag: None,
                                    wid: Some(w),
                                },
                            ..
                        } => Some(by_wid.get(w as usize).ok_or_else(|| {
                            format!("op {} read content no write produced", op.id)
                        })?),
                        Kind::Read {
                            out: ReadOut::NotModified { etag: Some(e) },
                            ..
                        }
                        | Kind::Read {
                            out: ReadOut::NotModified { etag: None },
                            if_none_match: Some(Cond::Etag(e)),
                            ..
                        } => Some(producer.get(e as usize).ok_or_else(|| {
                            format!("op {} got 304 for an ETag no write produced", op.id)
                        })?),
                        _ => None,
                    };
                match w {
                    Some(w) => {
                        let r = rank[w] as usize;
                        c.minret[r] = c.minret[r].min(op.ret);
                        c.maxcall[r] = c.maxcall[r].max(op.call);
                        c.cluster.push(w as u32);
                    }
                    None => {
                        if linearized {
                            c.flexible.push(i);
                        }
                        c.cluster.push(NO_CLUSTER);
                    }
                }
            }
            Ok(c)
        };
        // On two threads, each half's first fault is its first in op order, so the first
        // half's is the one-thread answer, and the second half's when the first has none.
        let Clusters {
            cluster,
            minret,
            maxcall,
            flexible,
        } = if two {
            let mid = ops.len() / 2;
            let (a, b) = two_cores::join(|| clusters(0..mid), || clusters(mid..ops.len()));
            a?.then(b?)
        } else {
            clusters(0..ops.len())?
        };
        Ok(Graph {
            ops,
            is_writer,
            fragments,
            cluster,
            minret,
            maxcall,
            rank,
            writers: writers.len(),
            flexible,
        })
    }

    /// The smallest return in writer `w`'s cluster.
    fn minret(&self, w: usize) -> u64 {
        self.minret[self.rank[w] as usize]
    }

    /// The largest call in writer `w`'s cluster.
    fn maxcall(&self, w: usize) -> u64 {
        self.maxcall[self.rank[w] as usize]
    }

    /// One candidate order; with `two`, its flexible ops are placed and the order sorted in
    /// two halves on two threads. Each half keeps the one-thread order of its ops (placement
    /// depends on the op and the schedule alone), and the sort keys are distinct, so the
    /// merged order is the one-thread order.
    fn order(&self, frag: FragOrder, sched: Sched, two: bool) -> Result<Vec<u64>, String> {
        let ops = self.ops;
        // The sort key packs an op index into 32 bits and a version into 31.
        if ops.len() >= 1 << 31 {
            return Err(format!(
                "{} ops on one key are more than Tier 1 orders",
                ops.len()
            ));
        }
        let mut frags: Vec<&Vec<usize>> = self.fragments.iter().collect();
        match frag {
            FragOrder::Zone => frags.sort_by_cached_key(|f| {
                (
                    self.minret(f[0]).min(self.maxcall(f[0])),
                    ops[f[0]].call,
                    f[0],
                )
            }),
            FragOrder::HeadCall => {
                frags.sort_by_cached_key(|f| (ops[f[0]].call, ops[f[0]].ret, f[0]))
            }
            FragOrder::MaxCall => frags.sort_by_cached_key(|f| {
                (f.iter().map(|&w| self.maxcall(w)).max().unwrap_or(0), f[0])
            }),
            FragOrder::Deadline => {
                frags.sort_by_cached_key(|f| (self.minret(f[0]), ops[f[0]].call, f[0]))
            }
        }
        // Repair adjacent pairs that real time forbids in this order but allows swapped: all
        // of fragment A's ops precede all of B's only if min ret(B) >= max call(A).
        let span = |f: &Vec<usize>| {
            (
                f.iter().map(|&w| self.minret(w)).min().unwrap_or(u64::MAX),
                f.iter().map(|&w| self.maxcall(w)).max().unwrap_or(0),
            )
        };
        let mut spans: Vec<(u64, u64)> = frags.iter().map(|f| span(f)).collect();
        for _pass in 0..64 {
            let mut swapped = false;
            for i in 1..frags.len() {
                let (a, b) = (spans[i - 1], spans[i]);
                if b.0 < a.1 && a.0 >= b.1 {
                    frags.swap(i - 1, i);
                    spans.swap(i - 1, i);
                    swapped = true;
                }
            }
            if !swapped {
                break;
            }
        }
        let mut versions: Vec<Option<usize>> = vec![None];
        versions.extend(frags.iter().flat_map(|f| f.iter().map(|&w| Some(w))));
        let m = versions.len();
        let mut version_of = vec![usize::MAX; self.writers];
        for (j, v) in versions.iter().enumerate() {
            if let Some(w) = v {
                version_of[self.rank[*w] as usize] = j;
            }
        }
        let states: Vec<State> = versions
            .iter()
            .map(|v| {
                v.and_then(|w| ops[w].written_state())
                    .unwrap_or(State::Absent)
            })
            .collect();
        // Per-version constraints: the smallest return and the largest call among the ops
        // placed in that version (writer, readers, and flexible ops pinned by repairs).
        let mut vmin: Vec<u64> = versions
            .iter()
            .map(|v| v.map_or(u64::MAX, |w| self.minret(w)))
            .collect();
        let mut vmax: Vec<u64> = versions
            .iter()
            .map(|v| v.map_or(0, |w| self.maxcall(w)))
            .collect();
        let mut next_absent = vec![m; m + 1];
        let mut next_present = vec![m; m + 1];
        for j in (0..m).rev() {
            next_absent[j] = if states[j] == State::Absent {
                j
            } else {
                next_absent[j + 1]
            };
            next_present[j] = if states[j] != State::Absent {
                j
            } else {
                next_present[j + 1]
            };
        }
        let flexible = &self.flexible;
        let mut pinned: FxHashMap<usize, usize> = FxHashMap::default();
        // The flexible ops placed in a round, with their versions.
        let mut placed: Vec<(usize, usize)> = Vec::with_capacity(flexible.len());
        // Writer points: version j is current on [s_j, s_{j+1}]; the ops placed in j need
        // s_j <= their return and s_{j+1} >= their call. `early` is the earliest feasible
        // schedule and `late` the latest; any monotone choice between them is feasible. A
        // flexible op that fits nowhere under the chosen schedule is pinned to a version its
        // window allows, which adds constraints, and the schedule is recomputed.
        for _round in 0..16 {
            let mut early = vec![0u64; m];
            for j in 1..m {
                let w = versions[j].expect("versions after 0 have writers");
                early[j] = early[j - 1].max(ops[w].call).max(vmax[j - 1]);
                if early[j] > vmin[j] {
                    return Err(format!(
                        "version {j} (op {}) cannot be placed before all its readers return",
                        ops[w].id
                    ));
                }
            }
            let mut late = vec![u64::MAX; m];
            for j in (1..m).rev() {
                late[j] = vmin[j].min(if j + 1 < m { late[j + 1] } else { u64::MAX });
            }
            late[0] = 0;
            let s: Vec<u64> = match sched {
                Sched::Earliest => early.clone(),
                Sched::Latest => {
                    let mut s = late.clone();
                    for j in 1..m {
                        s[j] = s[j].max(s[j - 1]).max(early[j]);
                    }
                    s
                }
            };
            // Flexible ops first: when one fits nowhere, this round's order is not built.
            let place_all = |flexible: &[usize], placed: &mut Vec<(usize, usize)>| {
                let mut failed = Vec::new();
                let mut hint = 0;
                for &i in flexible {
                    let j = match pinned.get(&i) {
                        Some(&j) => Some(j),
                        None => place(
                            &ops[i],
                            &s,
                            &s,
                            &states,
                            &next_absent,
                            &next_present,
                            &mut hint,
                        ),
                    };
                    match j {
                        Some(j) => placed.push((i, j)),
                        None => failed.push(i),
                    }
                }
                failed
            };
            placed.clear();
            let failed = if two {
                let (head, tail) = flexible.split_at(flexible.len() / 2);
                let (mut failed, (later_failed, later_placed)) = two_cores::join(
                    || place_all(head, &mut placed),
                    || {
                        let mut placed = Vec::with_capacity(tail.len());
                        (place_all(tail, &mut placed), placed)
                    },
                );
                placed.extend(later_placed);
                failed.extend(later_failed);
                failed
            } else {
                place_all(flexible, &mut placed)
            };
            if failed.is_empty() {
                // (point, version, writer first, op) packed into one integer, so the sort
                // compares one word pair instead of a four-field tuple.
                let key = |point: u64, j: usize, reader: bool, i: usize| -> u128 {
                    (u128::from(point) << 64)
                        | ((j as u128) << 33)
                        | (u128::from(reader) << 32)
                        | i as u128
                };
                // The sorted keys of the ops in `range` and of `placed`.
                let keys = |range: std::ops::Range<usize>, placed: &[(usize, usize)]| {
                    let mut keyed: Vec<u128> = Vec::with_capacity(range.len() + placed.len());
                    for i in range {
                        let w = self.cluster[i];
                        if w != NO_CLUSTER {
                            let j = version_of[self.rank[w as usize] as usize];
                            keyed.push(key(ops[i].call.max(s[j]), j, !self.is_writer[i], i));
                        }
                    }
                    for &(i, j) in placed {
                        keyed.push(key(ops[i].call.max(s[j]), j, true, i));
                    }
                    keyed.sort_unstable();
                    keyed
                };
                let id = |k: u128| ops[(k as u64 & 0xffff_ffff) as usize].id;
                if !two {
                    return Ok(keys(0..ops.len(), &placed).into_iter().map(id).collect());
                }
                // Half of the ops and half of the placed ones each, so both sorts are about
                // the same size.
                let mid = ops.len() / 2;
                let (early, late) = placed.split_at(placed.len() / 2);
                let (a, b) = two_cores::join(|| keys(0..mid, early), || keys(mid..ops.len(), late));
                return Ok(merge_on_two(&a, &b, id));
            }
            let mut hint = 0;
            for i in failed {
                let op = &ops[i];
                let j = place(
                    op,
                    &late,
                    &early,
                    &states,
                    &next_absent,
                    &next_present,
                    &mut hint,
                )
                .ok_or_else(|| {
                    format!("op {} fits no version current during its interval", op.id)
                })?;
                vmin[j] = vmin[j].min(op.ret);
                vmax[j] = vmax[j].max(op.call);
                pinned.insert(i, j);
            }
        }
        Err("placement did not settle".into())
    }
}

/// Two sorted runs of distinct keys merged in order, each mapped by `f`: the first half of the
/// result on this thread, the second on another. The first half is the `k` smallest keys, `i`
/// of them from `a` and `k - i` from `b`, with `i` found by bisection (the "merge path"): the
/// smallest `i` at which `a[i]` is larger than the last of `b`'s `k - i`.
fn merge_on_two(a: &[u128], b: &[u128], f: impl Fn(u128) -> u64 + Sync) -> Vec<u64> {
    let n = a.len() + b.len();
    let k = n / 2;
    // More of `a` belongs to the first half at `i` iff a[i] < b[k - i - 1]; true on a prefix
    // of [lo, hi], false at hi.
    let more = |i: usize| i < a.len() && i < k && a[i] < b[k - i - 1];
    let (mut lo, mut hi) = (k.saturating_sub(b.len()), k.min(a.len()));
    while lo < hi {
        let m = lo + (hi - lo) / 2;
        if more(m) {
            lo = m + 1;
        } else {
            hi = m;
        }
    }
    let i = lo;
    let mut out = vec![0u64; n];
    let (first, second) = out.split_at_mut(k);
    let f = &f;
    two_cores::join(
        || merge_into(&a[..i], &b[..k - i], first, f),
        move || merge_into(&a[i..], &b[k - i..], second, f),
    );
    out
}

/// Two sorted runs of distinct keys merged in order into `out` (of their total length), each
/// mapped by `f`.
fn merge_into(a: &[u128], b: &[u128], out: &mut [u64], f: impl Fn(u128) -> u64) {
    let (mut i, mut j) = (0, 0);
    for slot in out.iter_mut() {
        let take_a = j == b.len() || (i < a.len() && a[i] < b[j]);
        *slot = if take_a {
            i += 1;
            f(a[i - 1])
        } else {
            j += 1;
            f(b[j - 1])
        };
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pred {
    Exact(usize),
    Head,
}

/// The first version whose segment can meet the op's interval and in which its outcome is
/// legal. Segment j starts at `start[j]` and ends at `end[j + 1]` (`+∞` for the last); with
/// `start == end == s` this is the placement under one schedule, with the earliest and latest
/// schedules it is every version the op could possibly be placed in. `hint` is where the
/// previous op's segment search ended: ops come roughly in call order, so the search gallops
/// from there instead of bisecting all versions each time.
fn place(
    op: &KOp,
    end: &[u64],
    start: &[u64],
    states: &[State],
    next_absent: &[usize],
    next_present: &[usize],
    hint: &mut usize,
) -> Option<usize> {
    let m = start.len();
    let lo = partition_near(&end[1..], *hint, |x| x < op.call);
    *hint = lo;
    let hi = partition_near(start, lo, |x| x <= op.ret).checked_sub(1)?;
    if lo > hi {
        return None;
    }
    let np = |j: usize| if j < m { next_present[j] } else { m };
    let na = |j: usize| if j < m { next_absent[j] } else { m };
    let p1 = np(lo);
    let p2 = np(p1 + 1);
    let p3 = np(p2 + 1);
    let a1 = na(lo);
    let candidates = [lo, lo + 1, lo + 2, a1, p1, p2, p3];
    candidates
        .into_iter()
        .filter(|&j| j <= hi && j < m)
        .find(|&j| step(states[j], &op.kind).is_some())
}

/// `v.partition_point(pred)` (`pred` true on a prefix of `v`, false after), found by galloping
/// outward from `hint`: O(log d) for an answer d away from the hint.
fn partition_near(v: &[u64], hint: usize, pred: impl Fn(u64) -> bool) -> usize {
    let n = v.len();
    let h = hint.min(n);
    // The answer is in [lo, hi]: pred holds at lo - 1 (or lo == 0), fails at hi (or hi == n).
    let (mut lo, mut hi) = (0, n);
    if h < n && pred(v[h]) {
        lo = h + 1;
        let mut step = 1;
        loop {
            let probe = lo + step - 1;
            if probe >= n {
                break;
            }
            if pred(v[probe]) {
                lo = probe + 1;
                step *= 2;
            } else {
                hi = probe;
                break;
            }
        }
    } else {
        hi = h;
        let mut step = 1;
        while hi > 0 {
            let probe = hi.saturating_sub(step);
            if pred(v[probe]) {
                lo = probe + 1;
                break;
            }
            hi = probe;
            step *= 2;
        }
    }
    lo + v[lo..hi].partition_point(|&x| pred(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::convert::split_by_key;

    /// Tier 1 with a second thread (forced on every key, however small) gives the one-thread
    /// result, certificate or reason, on every committed history and on generated ones.
    #[test]
    fn tier1_on_two_threads_gives_the_one_thread_result() {
        let all = crate::check::test_corpus::committed_and_generated(2_000, 1);
        let (mut certified, mut inconclusive) = (0, 0);
        for h in &all {
            for kh in split_by_key(h) {
                let one = tier1_split(&kh, usize::MAX, &mut || true);
                assert_eq!(one, tier1_split(&kh, 0, &mut || true), "key {}", kh.key);
                match one {
                    Tier1Result::Certificate(_) => certified += 1,
                    Tier1Result::Inconclusive(_) => inconclusive += 1,
                }
            }
        }
        assert!(
            certified > 20 && inconclusive > 20,
            "{certified} certified, {inconclusive} not"
        );
    }

    #[test]
    fn merging_two_sorted_runs_on_two_threads_is_sorting_them() {
        let mut x: u64 = 7;
        let mut next = || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            x >> 40
        };
        for la in 0..24 {
            for lb in 0..24 {
                let mut all: Vec<u128> = Vec::new();
                while all.len() < la + lb {
                    let v = u128::from(next() % 64);
                    if !all.contains(&v) {
                        all.push(v);
                    }
                }
                let (mut a, mut b) = (all[..la].to_vec(), all[la..].to_vec());
                a.sort_unstable();
                b.sort_unstable();
                all.sort_unstable();
                let want: Vec<u64> = all.iter().map(|&v| v as u64 + 1).collect();
                assert_eq!(merge_on_two(&a, &b, |v| v as u64 + 1), want, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn galloping_finds_the_partition_point_from_any_hint() {
        for n in 0..40usize {
            let v: Vec<u64> = (0..n as u64).map(|x| x / 3).collect();
            for t in 0..=(n as u64 / 3 + 1) {
                let want = v.partition_point(|&x| x < t);
                for hint in 0..=n + 2 {
                    assert_eq!(
                        partition_near(&v, hint, |x| x < t),
                        want,
                        "n {n} t {t} hint {hint}"
                    );
                }
            }
        }
    }
}
