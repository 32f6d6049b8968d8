//! Checking successive snapshots of a running campaign, re-checking only the keys that saw a
//! new op since the last one.
//!
//! A key's verdict depends on its own ops and, through copies, on the keys it copies from or
//! into (what a copy read, when it could write). So keys are taken in *groups* joined by
//! copies, and a group whose ops are the same as in the last snapshot keeps its per-key
//! reports. An op keeps its id from snapshot to snapshot ([`super::Recording::snapshot`]) and
//! only changes by returning, so a group holds the same ops as last time exactly when it has
//! the same op ids in the same order and as many of them have returned; its reports then
//! carry over as they are.
//!
//! The rest of the snapshot, the groups that changed, is checked as a history of its own:
//! each group is closed under copies, so every key there is converted and judged exactly as
//! in the whole snapshot (`tests/fuzz_live.rs` compares the two on campaigns).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::AtomicBool;

use super::live::IN_FLIGHT;
use crate::check::{CheckOptions, CheckReport, KeyReport, KeyVerdict, check_ops_until};
use crate::history::{History, Out, Req};

/// The keys of one group, sorted.
type Keys = BTreeSet<String>;

/// What the last check of a group saw and found.
#[derive(Debug)]
struct Seen {
    returned: usize,
    /// The group's op ids in that snapshot, in snapshot order.
    ids: Vec<u64>,
    reports: Vec<KeyReport>,
}

/// Checks snapshots of one campaign in turn.
#[derive(Debug, Default)]
pub struct PrefixChecker {
    seen: HashMap<Keys, Seen>,
    /// Ops whose verdicts the last check carried over instead of re-checking.
    pub reused_ops: usize,
}

impl PrefixChecker {
    /// Checks `snapshot` (a prefix from [`super::Recording::snapshot`]), re-using the reports
    /// of every group of keys that saw no new op since the last call. Searches are abandoned
    /// once `cancel` is set.
    pub fn check(
        &mut self,
        snapshot: &History,
        opts: &CheckOptions,
        cancel: &AtomicBool,
    ) -> CheckReport {
        let started = std::time::Instant::now();
        let groups = groups_of(snapshot);
        let mut fresh_ops = Vec::new();
        let mut kept: Vec<KeyReport> = Vec::new();
        let mut next: HashMap<Keys, Seen> = HashMap::new();
        self.reused_ops = 0;
        for (keys, members) in groups {
            let returned = members
                .iter()
                .filter(|&&i| !in_flight(&snapshot.ops[i].out))
                .count();
            let ids: Vec<u64> = members.iter().map(|&i| snapshot.ops[i].id).collect();
            match self.seen.remove(&keys) {
                Some(old)
                    if old.returned == returned
                        && old.ids == ids
                        && old.reports.iter().all(reusable) =>
                {
                    self.reused_ops += members.len();
                    kept.extend(old.reports.iter().cloned());
                    next.insert(keys, old);
                }
                _ => {
                    fresh_ops.extend(members.iter().map(|&i| snapshot.ops[i].clone()));
                    next.insert(
                        keys,
                        Seen {
                            returned,
                            ids,
                            reports: Vec::new(),
                        },
                    );
                }
            }
        }
        // In the snapshot's order, as the whole snapshot's check sees them.
        fresh_ops.sort_by_key(|o| (o.call_ns, o.client));
        let fresh = History {
            header: snapshot.header.clone(),
            ops: fresh_ops,
        };
        let checked = check_ops_until(&fresh, opts, cancel);
        for r in &checked.keys {
            let group = next
                .iter_mut()
                .find(|(keys, _)| keys.contains(&r.key))
                .map(|(_, seen)| seen);
            if let Some(seen) = group {
                seen.reports.push(r.clone());
            }
        }
        self.seen = next;
        // Keys in the order the whole snapshot's check lists them: by first appearance.
        let mut keys: Vec<KeyReport> = kept.into_iter().chain(checked.keys).collect();
        let first = first_appearance(snapshot);
        keys.sort_by_key(|r| first.get(r.key.as_str()).copied().unwrap_or(usize::MAX));
        CheckReport {
            keys,
            ops: snapshot.ops.len(),
            elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
        }
    }
}

/// A report that may carry over: one a budget did not cut short (a search that ran out of
/// time or was cancelled might decide with more).
fn reusable(r: &KeyReport) -> bool {
    !matches!(r.verdict, KeyVerdict::Unknown { .. })
}

fn in_flight(out: &Out) -> bool {
    matches!(out, Out::Ambiguous { cause, .. } if cause == IN_FLIGHT)
}

/// The snapshot's ops in groups of keys joined by copies (a copy joins its destination and
/// its source), each group's ops in snapshot order.
fn groups_of(h: &History) -> Vec<(Keys, Vec<usize>)> {
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut parent: Vec<usize> = Vec::new();
    for op in &h.ops {
        let a = *index.entry(&op.key).or_insert_with(|| {
            parent.push(parent.len());
            parent.len() - 1
        });
        if let Req::Put {
            source_key: Some(s),
            ..
        } = &op.req
        {
            let b = *index.entry(s).or_insert_with(|| {
                parent.push(parent.len());
                parent.len() - 1
            });
            let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
            parent[ra] = rb;
        }
    }
    let mut groups: HashMap<usize, (Keys, Vec<usize>)> = HashMap::new();
    for (i, op) in h.ops.iter().enumerate() {
        let r = root(&mut parent, index[op.key.as_str()]);
        let g = groups.entry(r).or_default();
        g.0.insert(op.key.clone());
        g.1.push(i);
        if let Req::Put {
            source_key: Some(s),
            ..
        } = &op.req
        {
            g.0.insert(s.clone());
        }
    }
    groups.into_values().collect()
}

/// Each key's first appearance in the snapshot, as its own key or as a copy's source.
fn first_appearance(h: &History) -> HashMap<&str, usize> {
    let mut first = HashMap::new();
    for op in &h.ops {
        let n = first.len();
        first.entry(op.key.as_str()).or_insert(n);
        if let Req::Put {
            source_key: Some(s),
            ..
        } = &op.req
        {
            let n = first.len();
            first.entry(s.as_str()).or_insert(n);
        }
    }
    first
}
