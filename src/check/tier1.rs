//! Tier 1: the version-graph checker (CHECKER.md §7.2).
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

use std::collections::HashMap;

use super::model::{Cond, KOp, KeyHistory, Kind, ReadOut, Role, State, Sym, step};
use super::tier2::observed_optional;
use super::validate::validate_certificate;

/// What Tier 1 concluded about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tier1Result {
    /// A validated total order (op ids).
    Certificate(Vec<u64>),
    /// Tier 1 could not order this key; the reason says why.
    Inconclusive(String),
}

/// Builds and validates a certificate for one key.
pub fn tier1(kh: &KeyHistory) -> Tier1Result {
    match build(kh) {
        Ok(order) => match validate_certificate(kh, &order) {
            Ok(()) => Tier1Result::Certificate(order),
            Err(e) => Tier1Result::Inconclusive(format!("candidate order rejected: {e}")),
        },
        Err(reason) => Tier1Result::Inconclusive(reason),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pred {
    Exact(usize),
    Head,
}

fn build(kh: &KeyHistory) -> Result<Vec<u64>, String> {
    let ops = &kh.ops;
    let observed = observed_optional(kh);
    // 1. Writers.
    let is_writer = |i: usize| {
        let o = &ops[i];
        o.is_mutation() && (o.role == Role::Required || (o.role == Role::Optional && observed[i]))
    };
    let writers: Vec<usize> = (0..ops.len()).filter(|&i| is_writer(i)).collect();
    let mut producer: HashMap<Sym, usize> = HashMap::new();
    let mut by_wid: HashMap<Sym, usize> = HashMap::new();
    for &w in &writers {
        if let Kind::Write { etag, wid, .. } = ops[w].kind {
            let e = etag.ok_or_else(|| format!("op {} wrote an unknown ETag", ops[w].id))?;
            if producer.insert(e, w).is_some() {
                return Err(format!("ETag {} was produced twice", kh.etags[e as usize]));
            }
            if let Some(wid) = wid {
                by_wid.insert(wid, w);
            }
        }
    }
    // 2. Fragments.
    let mut succ: HashMap<usize, usize> = HashMap::new();
    let mut heads = Vec::new();
    for &w in &writers {
        let if_match = match ops[w].kind {
            Kind::Write { if_match, .. } | Kind::Delete { if_match, .. } => if_match,
            Kind::Read { .. } => None,
        };
        let pred = match if_match {
            Some(Cond::Etag(e)) => Pred::Exact(
                *producer
                    .get(&e)
                    .ok_or_else(|| format!("op {} names an ETag no write produced", ops[w].id))?,
            ),
            _ => Pred::Head,
        };
        match pred {
            Pred::Exact(p) => {
                if succ.insert(p, w).is_some() {
                    return Err(format!("op {} has two successors", ops[p].id));
                }
            }
            Pred::Head => heads.push(w),
        }
    }
    heads.sort_by_key(|&h| (ops[h].call, ops[h].ret, h));
    let mut versions: Vec<Option<usize>> = vec![None]; // version 0: the initial absent state
    for &h in &heads {
        let mut cur = Some(h);
        while let Some(c) = cur {
            versions.push(Some(c));
            if versions.len() > writers.len() + 1 {
                return Err("the version chain has a cycle".into());
            }
            cur = succ.get(&c).copied();
        }
    }
    if versions.len() != writers.len() + 1 {
        return Err("some writes are not reachable from a create or blind write (a cycle)".into());
    }
    let states: Vec<State> = versions
        .iter()
        .map(|v| {
            v.and_then(|w| ops[w].written_state())
                .unwrap_or(State::Absent)
        })
        .collect();
    let mut version_of_writer: HashMap<usize, usize> = HashMap::new();
    for (j, v) in versions.iter().enumerate() {
        if let Some(w) = v {
            version_of_writer.insert(*w, j);
        }
    }
    let version_of_etag = |e: Sym| producer.get(&e).map(|w| version_of_writer[w]);

    // Cluster assignment of the ops that name a version.
    let m = versions.len();
    let mut cluster: Vec<Option<usize>> = vec![None; ops.len()];
    for (i, op) in ops.iter().enumerate() {
        if op.role == Role::Excluded || (op.role == Role::Optional && !is_writer(i)) {
            continue;
        }
        cluster[i] = match op.kind {
            _ if is_writer(i) => Some(version_of_writer[&i]),
            Kind::Read {
                out: ReadOut::Ok { etag: Some(e), .. },
                ..
            } => Some(
                version_of_etag(e)
                    .ok_or_else(|| format!("op {} read an ETag no write produced", op.id))?,
            ),
            Kind::Read {
                out:
                    ReadOut::Ok {
                        etag: None,
                        wid: Some(w),
                    },
                ..
            } => Some(
                version_of_writer[by_wid
                    .get(&w)
                    .ok_or_else(|| format!("op {} read content no write produced", op.id))?],
            ),
            Kind::Read {
                out: ReadOut::NotModified { etag: Some(e) },
                ..
            }
            | Kind::Read {
                out: ReadOut::NotModified { etag: None },
                if_none_match: Some(Cond::Etag(e)),
                ..
            } => Some(
                version_of_etag(e)
                    .ok_or_else(|| format!("op {} got 304 for an ETag no write produced", op.id))?,
            ),
            _ => None,
        };
    }
    // 3. Writer points.
    let mut minret = vec![u64::MAX; m];
    let mut maxcall = vec![0u64; m];
    for (i, c) in cluster.iter().enumerate() {
        if let Some(j) = *c {
            minret[j] = minret[j].min(ops[i].ret);
            maxcall[j] = maxcall[j].max(ops[i].call);
        }
    }
    let mut s = vec![0u64; m];
    for j in 1..m {
        let w = versions[j].expect("versions after 0 have writers");
        s[j] = s[j - 1].max(ops[w].call).max(maxcall[j - 1]);
        if s[j] > minret[j] {
            return Err(format!(
                "version {j} (op {}) cannot be placed before all its readers return",
                ops[w].id
            ));
        }
    }
    // 4. Flexible ops. next_absent / next_present let a legal version be found in O(1) tries.
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
    let mut keyed: Vec<(u64, usize, u8, usize)> = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        if op.role == Role::Excluded || (op.role == Role::Optional && !is_writer(i)) {
            continue;
        }
        if let Some(j) = cluster[i] {
            let point = op.call.max(s[j]);
            keyed.push((point, j, u8::from(!is_writer(i)), i));
            continue;
        }
        let j = place(op, &s, &states, &next_absent, &next_present)
            .ok_or_else(|| format!("op {} fits no version current during its interval", op.id))?;
        keyed.push((op.call.max(s[j]), j, 1, i));
    }
    keyed.sort_unstable();
    Ok(keyed.into_iter().map(|(_, _, _, i)| ops[i].id).collect())
}

/// The first version whose segment meets the op's interval and in which its outcome is legal.
fn place(
    op: &KOp,
    s: &[u64],
    states: &[State],
    next_absent: &[usize],
    next_present: &[usize],
) -> Option<usize> {
    let m = s.len();
    // Segment j is [s_j, s_{j+1}] (s_m = +∞): first j with s_{j+1} >= call, last j with s_j <= ret.
    let lo = s[1..].partition_point(|&x| x < op.call);
    let hi = s.partition_point(|&x| x <= op.ret).checked_sub(1)?;
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
