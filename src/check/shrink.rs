//! History shrinking: delta debugging (ddmin) down to a small history that still shows the
//! same kind of anomaly on the same key.
//!
//! Removals are *closed*: dropping a write also drops every op that mentions its ETag or write
//! id. Without that, removing the write behind a read turns any anomaly into a garbage read,
//! and the shrinker would "succeed" with the wrong story.

use std::collections::HashMap;
use std::time::Instant;

use super::anomaly::Anomaly;
use super::report::{CheckOptions, check_history};
use crate::history::{History, Op, Out, Req, normalize_etag};

/// Shrinks `history` to a (1-minimal, within the time budget) sub-history in which the checker
/// still reports an anomaly of `anomaly.kind` on `anomaly.key`. Returns the input unchanged if
/// it does not show the anomaly.
pub fn shrink(history: &History, anomaly: &Anomaly, opts: &CheckOptions) -> History {
    let deadline = Instant::now() + opts.time_budget;
    let check_opts = CheckOptions {
        threads: 1,
        ..*opts
    };
    let ops: Vec<Op> = history
        .ops
        .iter()
        .filter(|o| o.key == anomaly.key)
        .cloned()
        .collect();
    let shows = |keep: &[bool]| -> bool {
        let h = History {
            header: history.header.clone(),
            ops: ops
                .iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(o, _)| o.clone())
                .collect(),
        };
        check_history(&h, &check_opts)
            .anomalies()
            .any(|a| a.kind == anomaly.kind && a.key == anomaly.key)
    };
    let n = ops.len();
    let mut keep = vec![true; n];
    if !shows(&keep) {
        return history.clone();
    }
    let closure = closures(&ops);
    let remove = |keep: &mut Vec<bool>, units: &[usize]| {
        for &u in units {
            for &j in &closure[u] {
                keep[j] = false;
            }
        }
    };
    // Cheap first cut: everything that began after the witness ended.
    let end = ops
        .iter()
        .filter(|o| anomaly.ops.contains(&o.id))
        .map(|o| {
            if o.out.is_ambiguous() {
                o.call_ns
            } else {
                o.ret_ns
            }
        })
        .max();
    if let Some(end) = end {
        let mut cand = keep.clone();
        let late: Vec<usize> = (0..n).filter(|&i| ops[i].call_ns > end).collect();
        remove(&mut cand, &late);
        if shows(&cand) {
            keep = cand;
        }
    }
    // ddmin over the remaining ops.
    let mut chunks = 2usize;
    loop {
        let alive: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
        if alive.len() <= 1 || Instant::now() >= deadline {
            break;
        }
        let chunks_now = chunks.min(alive.len());
        let size = alive.len().div_ceil(chunks_now);
        let mut progressed = false;
        for part in alive.chunks(size) {
            if Instant::now() >= deadline {
                break;
            }
            let mut cand = keep.clone();
            remove(&mut cand, part);
            if cand.iter().any(|k| *k) && shows(&cand) {
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
    let kept: Vec<Op> = ops
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(o, _)| o)
        .collect();
    let mut header = history.header.clone();
    let note = format!(
        "shrunk from {} ops to {} showing {} on key {}",
        history.ops.len(),
        kept.len(),
        anomaly.kind,
        anomaly.key
    );
    header.note = Some(match header.note {
        Some(n) => format!("{n}; {note}"),
        None => note,
    });
    History { header, ops: kept }
}

/// For each op, the ops that must go with it: a write takes along every op naming its ETag or
/// write id.
fn closures(ops: &[Op]) -> Vec<Vec<usize>> {
    let mut by_etag: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_wid: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, o) in ops.iter().enumerate() {
        let mut etags: Vec<&str> = Vec::new();
        let mut wids: Vec<&str> = Vec::new();
        match &o.req {
            Req::Get {
                if_match,
                if_none_match,
            }
            | Req::Head {
                if_match,
                if_none_match,
            }
            | Req::Put {
                if_match,
                if_none_match,
                ..
            } => {
                etags.extend(if_match.as_deref());
                etags.extend(if_none_match.as_deref());
            }
            Req::Delete { if_match } => etags.extend(if_match.as_deref()),
        }
        match &o.out {
            Out::Ok { etag, write_id, .. } => {
                etags.extend(etag.as_deref());
                wids.extend(write_id.as_deref());
            }
            Out::NotModified { etag } => etags.extend(etag.as_deref()),
            _ => {}
        }
        for e in etags {
            if e.trim() != "*" {
                by_etag
                    .entry(normalize_etag(e).to_string())
                    .or_default()
                    .push(i);
            }
        }
        for w in wids {
            by_wid.entry(w.to_string()).or_default().push(i);
        }
    }
    ops.iter()
        .enumerate()
        .map(|(i, o)| {
            let mut c = vec![i];
            if let Req::Put {
                write_id,
                etag_if_applied,
                ..
            } = &o.req
            {
                let produced = match &o.out {
                    Out::Ok { etag, .. } => etag.clone().or_else(|| etag_if_applied.clone()),
                    _ => etag_if_applied.clone(),
                };
                if let Some(e) = produced {
                    c.extend(
                        by_etag
                            .get(normalize_etag(&e))
                            .into_iter()
                            .flatten()
                            .copied(),
                    );
                }
                if let Some(w) = write_id {
                    c.extend(by_wid.get(w).into_iter().flatten().copied());
                }
            }
            c.sort_unstable();
            c.dedup();
            c
        })
        .collect()
}
