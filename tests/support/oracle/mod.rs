//! An independent linearizability oracle for small histories, sharing no code with the
//! checker (`src/check/`): it reads the same history format and simulates the documented
//! semantics of `docs/checker.md` directly, over every order of every key's events at once.
//!
//! - Every op becomes zero, one or two events. A read, write or delete is one event within its
//!   interval. A successful copy is two: a read of its source, then a write of its destination
//!   with the content just read, both within its interval. An unanswered mutation is an
//!   optional event anywhere after its call. A refused op (409, other 4xx, a 404 on a copy, a
//!   Complete's `NoSuchUpload`) is no event.
//! - An answered op whose status no state explains under any documented convention is no
//!   event either (the checker reports it as a conformance note).
//! - A write's ETag is the one it was answered with; for an unanswered write it is the
//!   predicted MD5 when the history's answered writes of the same kind all confirm their
//!   predictions, and otherwise unknown. A version has one ETag: the first read that reports
//!   one fixes it; before that an unknown ETag matches any condition.
//! - The search tries every subset of the optional events and every order that respects real
//!   time, memoizing (placed events, states).

pub mod generate;

use std::collections::{BTreeMap, HashMap, HashSet};

use s3conform::history::{History, Op, Out, Req, Via};

/// A key's state. `None` in a field is unknown and matches anything.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Obj {
    Absent,
    Present {
        etag: Option<String>,
        content: Option<String>,
    },
}

/// The oracle's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Linearizable,
    Violation,
    /// More events than the brute force tries.
    TooBig,
}

/// The most events the oracle searches over.
pub const MAX_EVENTS: usize = 14;

fn bare(etag: &str) -> String {
    let s = etag.trim();
    let s = s.strip_prefix("W/").unwrap_or(s);
    s.trim_matches('"').to_string()
}

fn same(known: &Option<String>, seen: &Option<String>) -> bool {
    match (known, seen) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// `Some(true)` matches, `Some(false)` does not, `None` unknown (either is possible).
fn cond_matches(header: &str, etag: &Option<String>) -> Option<bool> {
    if header.trim() == "*" {
        return Some(true);
    }
    etag.as_ref().map(|e| *e == bare(header))
}

fn may(m: Option<bool>, want: bool) -> bool {
    m.is_none_or(|m| m == want)
}

/// What one event does: the state after it, or `None` if its outcome is impossible here.
#[derive(Debug, Clone)]
enum Event {
    /// GET or HEAD with its recorded outcome.
    Read {
        if_match: Option<String>,
        if_none_match: Option<String>,
        out: Out,
    },
    /// PUT or Complete (or a copy's destination, whose content comes from its source read).
    Write {
        if_match: Option<String>,
        if_none_match: Option<String>,
        etag: Option<String>,
        content: Option<String>,
        from_copy: bool,
        out: Out,
    },
    Delete {
        if_match: Option<String>,
        out: Out,
    },
    /// A copy's read of its source: it must be present; its content goes to the copy's write.
    CopyRead,
}

fn read_ok(
    obj: &Obj,
    if_match: &Option<String>,
    if_none_match: &Option<String>,
    out: &Out,
) -> bool {
    match obj {
        Obj::Absent => match out {
            Out::NotFound { .. } => true,
            Out::PreconditionFailed => if_match.is_some(),
            _ => false,
        },
        Obj::Present { etag, content } => {
            // The response's ETag names the current version; an unknown one is that.
            let reported = match out {
                Out::Ok { etag: Some(e), .. } | Out::NotModified { etag: Some(e) } => Some(bare(e)),
                _ => None,
            };
            let etag = &etag.clone().or(reported);
            let im = if_match.as_deref().map(|h| cond_matches(h, etag));
            let inm = if_none_match.as_deref().map(|h| cond_matches(h, etag));
            let im_can_fail = im.is_some_and(|m| may(m, false));
            let im_can_pass = im.is_none_or(|m| may(m, true));
            let inm_can_match = inm.is_some_and(|m| may(m, true));
            let inm_can_miss = inm.is_none_or(|m| may(m, false));
            let star = if_none_match.as_deref().is_some_and(|h| h.trim() == "*");
            match out {
                Out::PreconditionFailed => im_can_fail,
                Out::NotModified { etag: seen } => {
                    im_can_pass && inm_can_match && same(etag, &seen.as_deref().map(bare))
                }
                Out::Ok {
                    etag: seen,
                    write_id,
                    ..
                } => {
                    im_can_pass
                        && (inm_can_miss || star)
                        && same(etag, &seen.as_deref().map(bare))
                        && same(content, write_id)
                }
                _ => false,
            }
        }
    }
}

/// The outcome of a write or delete against `obj`: the state after, if the outcome fits.
fn mutate(obj: &Obj, ev: &Event, copied: Option<&Option<String>>) -> Option<Obj> {
    match ev {
        Event::Write {
            if_match,
            if_none_match,
            etag,
            content,
            from_copy,
            out,
        } => {
            let (present, cur) = match obj {
                Obj::Absent => (false, None),
                Obj::Present { etag, .. } => (true, etag.clone()),
            };
            let inm = if_none_match.as_deref().map(|h| cond_matches(h, &cur));
            let im = if_match.as_deref().map(|h| cond_matches(h, &cur));
            let inm_can_fail = present && inm.is_some_and(|m| may(m, true));
            let inm_can_pass = !present || inm.is_none_or(|m| may(m, false));
            let im_can_fail = if_match.is_some() && (!present || im.is_some_and(|m| may(m, false)));
            let im_can_pass = if_match.is_none() || (present && im.is_some_and(|m| may(m, true)));
            match out {
                Out::PreconditionFailed => (inm_can_fail || im_can_fail).then(|| obj.clone()),
                Out::NotFound { .. } => (if_match.is_some() && !present).then(|| obj.clone()),
                // Applied (answered or not).
                _ => (inm_can_pass && im_can_pass).then(|| Obj::Present {
                    etag: etag.clone(),
                    content: if *from_copy {
                        copied.cloned().flatten()
                    } else {
                        content.clone()
                    },
                }),
            }
        }
        Event::Delete { if_match, out } => {
            let (present, cur) = match obj {
                Obj::Absent => (false, None),
                Obj::Present { etag, .. } => (true, etag.clone()),
            };
            let m = if_match.as_deref().map(|h| cond_matches(h, &cur));
            match out {
                Out::PreconditionFailed => (if_match.is_some()
                    && (!present || m.is_some_and(|m| may(m, false))))
                .then(|| obj.clone()),
                Out::NotFound { .. } => (!present).then(|| obj.clone()),
                // 204, or unanswered and applied: a conditional delete of a missing key is a
                // no-op 204 on Ceph.
                _ => (!present || m.is_none_or(|m| may(m, true))).then_some(Obj::Absent),
            }
        }
        _ => None,
    }
}

/// One event of the history.
#[derive(Debug, Clone)]
struct Ev {
    key: String,
    /// Index of the op in the history.
    op: usize,
    call: u64,
    ret: u64,
    optional: bool,
    event: Event,
    /// For a copy's write: the index (in the event list) of its source read.
    after: Option<usize>,
}

/// Whether a status is explained by some state under some convention.
fn explicable(ev: &Event) -> bool {
    let states = [
        Obj::Absent,
        Obj::Present {
            etag: None,
            content: None,
        },
    ];
    states.iter().any(|s| match ev {
        Event::Read {
            if_match,
            if_none_match,
            out,
        } => read_ok(s, if_match, if_none_match, out),
        Event::CopyRead => true,
        _ => mutate(s, ev, None).is_some(),
    })
}

/// True when some unanswered write's ETag is unknown (no confirmed prediction, or a copy):
/// the one place where the checker's model is knowingly coarser than the oracle's, which fixes
/// such an ETag at the first response that reports it (a 304 included).
pub fn has_unknown_etag_write(history: &History) -> bool {
    let trust = trusted(history);
    history.ops.iter().any(|op| match &op.req {
        Req::Put { via, .. } if op.out.is_ambiguous() => match via {
            Via::Put => !trust.contains("put"),
            Via::CompleteMultipart => !trust.contains("complete"),
            Via::Copy => true,
        },
        _ => false,
    })
}

/// Which write kinds' predicted ETags the history confirms.
fn trusted(history: &History) -> HashSet<&'static str> {
    let mut good: HashMap<&'static str, (u32, u32)> = HashMap::new();
    for op in &history.ops {
        if let (
            Req::Put {
                etag_if_applied: Some(p),
                via,
                ..
            },
            Out::Ok { etag: Some(e), .. },
        ) = (&op.req, &op.out)
        {
            let kind = match via {
                Via::Put => "put",
                Via::CompleteMultipart => "complete",
                Via::Copy => continue,
            };
            let c = good.entry(kind).or_default();
            if bare(p) == bare(e) {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
    }
    good.into_iter()
        .filter(|(_, (y, n))| *y > 0 && *n == 0)
        .map(|(k, _)| k)
        .collect()
}

fn events(history: &History) -> Vec<Ev> {
    let trust = trusted(history);
    let mut evs = Vec::new();
    for (i, op) in history.ops.iter().enumerate() {
        let ambiguous = op.out.is_ambiguous();
        let ret = if ambiguous { u64::MAX } else { op.ret_ns };
        let mk = |key: &str, event: Event| Ev {
            key: key.to_string(),
            op: i,
            call: op.call_ns,
            ret,
            optional: ambiguous,
            event,
            after: None,
        };
        match &op.req {
            Req::Get {
                if_match,
                if_none_match,
            }
            | Req::Head {
                if_match,
                if_none_match,
            } => {
                if matches!(
                    op.out,
                    Out::Ok { .. }
                        | Out::NotModified { .. }
                        | Out::PreconditionFailed
                        | Out::NotFound { .. }
                ) {
                    evs.push(mk(
                        &op.key,
                        Event::Read {
                            if_match: if_match.clone(),
                            if_none_match: if_none_match.clone(),
                            out: op.out.clone(),
                        },
                    ));
                }
            }
            Req::Put {
                write_id,
                etag_if_applied,
                if_match,
                if_none_match,
                via,
                source_key,
                ..
            } => {
                let counts = match (&op.out, via) {
                    (Out::Ok { .. } | Out::PreconditionFailed | Out::Ambiguous { .. }, _) => true,
                    (Out::NotFound { .. }, Via::Put) => true,
                    (Out::NotFound { code: Some(c) }, Via::CompleteMultipart) => c == "NoSuchKey",
                    _ => false,
                };
                if !counts {
                    continue;
                }
                let kind = match via {
                    Via::Put => "put",
                    Via::CompleteMultipart => "complete",
                    Via::Copy => "copy",
                };
                let predicted = etag_if_applied
                    .as_deref()
                    .filter(|_| trust.contains(kind))
                    .map(bare);
                let etag = match &op.out {
                    Out::Ok { etag: Some(e), .. } => Some(bare(e)),
                    _ => predicted,
                };
                let from_copy = *via == Via::Copy;
                let source = source_key.as_deref().filter(|s| *s != op.key);
                let write = Event::Write {
                    if_match: if_match.clone(),
                    if_none_match: if_none_match.clone(),
                    etag,
                    content: if from_copy { None } else { write_id.clone() },
                    from_copy: from_copy && source.is_some(),
                    out: op.out.clone(),
                };
                match (source, &op.out) {
                    (Some(src), Out::Ok { .. }) if from_copy => {
                        evs.push(mk(src, Event::CopyRead));
                        let mut w = mk(&op.key, write);
                        w.after = Some(evs.len() - 1);
                        evs.push(w);
                    }
                    _ => evs.push(mk(&op.key, write)),
                }
            }
            Req::Delete { if_match } => {
                if matches!(
                    op.out,
                    Out::Ok { .. }
                        | Out::PreconditionFailed
                        | Out::NotFound { .. }
                        | Out::Ambiguous { .. }
                ) {
                    evs.push(mk(
                        &op.key,
                        Event::Delete {
                            if_match: if_match.clone(),
                            out: op.out.clone(),
                        },
                    ));
                }
            }
        }
    }
    evs.retain(|e| e.optional || explicable(&e.event));
    // Re-point copy writes at their reads after the filter.
    let mut fixed = Vec::with_capacity(evs.len());
    let mut last_read: Option<usize> = None;
    for mut e in evs {
        if matches!(e.event, Event::CopyRead) {
            last_read = Some(fixed.len());
        } else if e.after.is_some() {
            e.after = last_read;
        }
        fixed.push(e);
    }
    fixed
}

/// The search's state: every key's object, and what each copy read but has not written yet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct World {
    objs: BTreeMap<String, Obj>,
    pending: BTreeMap<usize, Option<String>>,
}

/// Decides a whole history (every key, with copies linking them).
pub fn oracle(history: &History) -> Answer {
    let evs = events(history);
    if evs.len() > MAX_EVENTS {
        return Answer::TooBig;
    }
    let n = evs.len();
    // must[i]: events that have to come before event i.
    let must: Vec<u32> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| {
                    j != i
                        && (evs[j].ret < evs[i].call
                            || evs[i].after == Some(j)
                            || (evs[j].op == evs[i].op && j < i))
                })
                .fold(0u32, |m, j| m | (1 << j))
        })
        .collect();
    let required: u32 = (0..n)
        .filter(|&i| !evs[i].optional)
        .fold(0u32, |m, i| m | (1 << i));
    let world = World {
        objs: BTreeMap::new(),
        pending: BTreeMap::new(),
    };
    let mut seen: HashSet<(u32, u32, World)> = HashSet::new();
    if search(&evs, &must, required, 0, 0, &world, &mut seen) {
        Answer::Linearizable
    } else {
        Answer::Violation
    }
}

/// `placed`: events done; `skipped`: optional events decided never to happen.
fn search(
    evs: &[Ev],
    must: &[u32],
    required: u32,
    placed: u32,
    skipped: u32,
    world: &World,
    seen: &mut HashSet<(u32, u32, World)>,
) -> bool {
    let done = placed | skipped;
    if placed & required == required {
        return true;
    }
    if !seen.insert((placed, skipped, world.clone())) {
        return false;
    }
    for i in 0..evs.len() {
        let bit = 1u32 << i;
        if done & bit != 0 {
            continue;
        }
        // An op that must precede this one and was skipped imposes nothing.
        if must[i] & !done != 0 {
            continue;
        }
        let e = &evs[i];
        let obj = world.objs.get(&e.key).cloned().unwrap_or(Obj::Absent);
        let mut next = world.clone();
        let legal = match &e.event {
            Event::Read {
                if_match,
                if_none_match,
                out,
            } => {
                let ok = read_ok(&obj, if_match, if_none_match, out);
                // The first read that reports an unknown version's ETag fixes it.
                if let (
                    true,
                    Obj::Present {
                        etag: None,
                        content,
                    },
                    Out::Ok {
                        etag: Some(seen), ..
                    }
                    | Out::NotModified { etag: Some(seen) },
                ) = (ok, &obj, out)
                {
                    next.objs.insert(
                        e.key.clone(),
                        Obj::Present {
                            etag: Some(bare(seen)),
                            content: content.clone(),
                        },
                    );
                }
                ok
            }
            Event::CopyRead => match &obj {
                Obj::Present { content, .. } => {
                    next.pending.insert(i, content.clone());
                    true
                }
                Obj::Absent => false,
            },
            ev => {
                let copied = e.after.map(|r| world.pending.get(&r).cloned().flatten());
                match mutate(&obj, ev, copied.as_ref()) {
                    Some(o) => {
                        next.objs.insert(e.key.clone(), o);
                        if let Some(r) = e.after {
                            next.pending.remove(&r);
                        }
                        true
                    }
                    None => false,
                }
            }
        };
        if legal && search(evs, must, required, placed | bit, skipped, &next, seen) {
            return true;
        }
        if e.optional && search(evs, must, required, placed, skipped | bit, world, seen) {
            return true;
        }
    }
    false
}

/// The ops of a history as JSON lines, for failure messages.
pub fn describe(history: &History) -> String {
    history
        .ops
        .iter()
        .map(|o: &Op| serde_json::to_string(o).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}
