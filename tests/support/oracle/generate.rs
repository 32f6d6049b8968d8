//! Small random histories for the oracle comparison: a ground-truth store run at chosen
//! linearization points (so the untouched history is linearizable), with copies, multipart
//! uploads (and `NoSuchUpload`), `If-None-Match: *` reads under either documented convention,
//! MD5 or non-MD5 ETags, unanswered writes that land late or never, 409s, deletes and
//! recreates; then, half the time, one outcome corrupted the way a broken store would.

use std::collections::BTreeMap;

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use s3conform::history::{Header, History, Op, Out, Req, Via};

#[derive(Debug, Clone, PartialEq)]
struct Version {
    etag: String,
    content: String,
}

/// The conventions and ETag scheme of one simulated store.
struct Store {
    md5: bool,
    inm_star_200: bool,
    if_match_missing_412: bool,
    objs: BTreeMap<String, Version>,
    next: u32,
}

impl Store {
    fn etag(&mut self, content: &str, rng: &mut Xoshiro256PlusPlus) -> (String, String) {
        self.next += 1;
        let predicted = format!("m{content}");
        if self.md5 {
            (predicted.clone(), predicted)
        } else {
            (format!("x{:030x}", rng.random::<u64>()), predicted)
        }
    }
}

fn q(e: &str) -> String {
    format!("\"{e}\"")
}

/// One planned request: what it is and when it takes effect.
struct Plan {
    key: String,
    client: u64,
    call: u64,
    ret: u64,
    /// Instants at which it takes effect (two for a copy: source read, destination write).
    lp: u64,
    kind: u8,
    /// For a copy: its read of the source happens at `lp` of an earlier half (kind
    /// `COPY_READ`) that shares this id; the write half emits the op.
    pair: usize,
}

/// The first half of a copy: the read of its source, which records no op of its own.
const COPY_READ: u8 = 100;

/// A history over keys k0, k1 with up to `max_ops` ops.
pub fn history(rng: &mut Xoshiro256PlusPlus, max_ops: usize) -> History {
    let keys = ["k0", "k1"];
    let mut store = Store {
        md5: rng.random_bool(0.5),
        inm_star_200: rng.random_bool(0.5),
        if_match_missing_412: rng.random_bool(0.5),
        objs: BTreeMap::new(),
        next: 0,
    };
    let clients = rng.random_range(1..=3u64);
    let mut plans = Vec::new();
    for c in 0..clients {
        let mut t = rng.random_range(0..20u64);
        for _ in 0..rng.random_range(1..=max_ops.div_ceil(clients as usize).max(1)) {
            let call = t;
            let ret = call + rng.random_range(1..40u64);
            let key = keys[rng.random_range(0..keys.len())].to_string();
            let kind = rng.random_range(0..12u8);
            let lp = rng.random_range(call..=ret);
            let pair = plans.len();
            if kind == 10 {
                // A copy reads its source at one instant and writes later, both in its span.
                plans.push(Plan {
                    key: key.clone(),
                    client: c,
                    call,
                    ret,
                    lp: rng.random_range(call..=lp),
                    kind: COPY_READ,
                    pair,
                });
            }
            plans.push(Plan {
                key,
                client: c,
                call,
                ret,
                lp,
                kind,
                pair,
            });
            t = ret + rng.random_range(0..15u64);
        }
    }
    plans.truncate(max_ops);
    // A copy's write half without its read half (cut by the truncation) reads at its own point.
    let halves: Vec<usize> = plans
        .iter()
        .filter(|p| p.kind == COPY_READ)
        .map(|p| p.pair)
        .collect();
    for p in plans.iter_mut() {
        if p.kind == 10 && !halves.contains(&p.pair) {
            p.kind = 11;
        }
    }
    plans.sort_by_key(|p| (p.lp, p.kind != COPY_READ));
    let mut read_by_copy: BTreeMap<usize, Option<Version>> = BTreeMap::new();
    let mut ops: Vec<Op> = Vec::new();
    let mut known: BTreeMap<(u64, String), String> = BTreeMap::new();
    for (n, p) in plans.iter().enumerate() {
        let src = if p.key == "k0" { "k1" } else { "k0" };
        if p.kind == COPY_READ {
            read_by_copy.insert(p.pair, store.objs.get(src).cloned());
            continue;
        }
        let wid = format!("w{n}");
        let cur = store.objs.get(&p.key).cloned();
        let seen = known.get(&(p.client, p.key.clone())).cloned();
        let client = p.client;
        // Decided up front: an unanswered write lands at its point (perhaps after the client
        // gave up) or never.
        let unanswered = rng.random_bool(0.2);
        let never = unanswered && rng.random_bool(0.5);
        let (req, out) = match p.kind {
            // Reads: plain, If-None-Match: *, If-Match on what the client saw.
            0..=2 => {
                let (im, inm) = match p.kind {
                    0 => (None, None),
                    1 => (None, Some("*".to_string())),
                    _ => (Some(q(seen.as_deref().unwrap_or("zz"))), None),
                };
                let out = match &cur {
                    None if im.is_some() && store.if_match_missing_412 => Out::PreconditionFailed,
                    None => Out::NotFound { code: None },
                    Some(v) if im.as_deref().is_some_and(|h| *h != q(&v.etag)) => {
                        Out::PreconditionFailed
                    }
                    Some(v) if inm.is_some() && !store.inm_star_200 => Out::NotModified {
                        etag: Some(q(&v.etag)),
                    },
                    Some(v) => Out::Ok {
                        status: 200,
                        etag: Some(q(&v.etag)),
                        write_id: Some(v.content.clone()),
                    },
                };
                if let Out::Ok { etag: Some(e), .. } | Out::NotModified { etag: Some(e) } = &out {
                    known.insert((p.client, p.key.clone()), e.trim_matches('"').to_string());
                }
                let req = if rng.random_bool(0.5) {
                    Req::Get {
                        if_match: im,
                        if_none_match: inm,
                    }
                } else {
                    Req::Head {
                        if_match: im,
                        if_none_match: inm,
                    }
                };
                (req, out)
            }
            // Writes: PUT or Complete, blind, create, or CAS on what the client saw.
            3..=7 => {
                let multipart = p.kind >= 6;
                let (im, inm) = match (p.kind % 3, &seen) {
                    (0, _) => (None, None),
                    (1, Some(e)) => (Some(q(e)), None),
                    _ => (None, Some("*".to_string())),
                };
                let holds = match (&im, &inm, &cur) {
                    (Some(h), _, Some(v)) => *h == q(&v.etag),
                    (Some(_), _, None) => false,
                    (None, Some(_), cur) => cur.is_none(),
                    (None, None, _) => true,
                };
                let (mut etag, predicted) = store.etag(&wid, rng);
                if multipart {
                    etag.push_str("-1");
                }
                let predicted = if multipart {
                    format!("{predicted}-1")
                } else {
                    predicted
                };
                let mut out = if holds && !never {
                    store.objs.insert(
                        p.key.clone(),
                        Version {
                            etag: etag.clone(),
                            content: wid.clone(),
                        },
                    );
                    known.insert((p.client, p.key.clone()), etag.clone());
                    Out::Ok {
                        status: 200,
                        etag: Some(q(&etag)),
                        write_id: None,
                    }
                } else if im.is_some() && cur.is_none() && !store.if_match_missing_412 {
                    Out::NotFound { code: None }
                } else {
                    Out::PreconditionFailed
                };
                // An upload that vanished: no effect, says nothing about the key.
                if multipart && !holds && rng.random_bool(0.3) {
                    out = Out::NotFound {
                        code: Some("NoSuchUpload".into()),
                    };
                }
                // The answer is lost: the write landed (maybe after the client gave up) or not.
                if unanswered {
                    out = Out::Ambiguous {
                        cause: "timeout".into(),
                        status: None,
                    };
                }
                let req = Req::Put {
                    write_id: Some(wid.clone()),
                    etag_if_applied: Some(q(&predicted)),
                    if_match: im,
                    if_none_match: inm,
                    via: if multipart {
                        Via::CompleteMultipart
                    } else {
                        Via::Put
                    },
                    source_key: None,
                    initiated_ns: multipart.then(|| p.call.saturating_sub(5)),
                };
                (req, out)
            }
            // Deletes, blind or conditional.
            8 | 9 => {
                let im = (p.kind == 9).then(|| q(seen.as_deref().unwrap_or("zz")));
                let out = match (&im, &cur) {
                    (Some(h), Some(v)) if *h != q(&v.etag) => Out::PreconditionFailed,
                    (Some(_), None) => Out::NotFound { code: None },
                    _ => {
                        store.objs.remove(&p.key);
                        Out::Ok {
                            status: 204,
                            etag: None,
                            write_id: None,
                        }
                    }
                };
                (Req::Delete { if_match: im }, out)
            }
            // A copy from the other key: writes this one with what its read half saw.
            10 => {
                let out = match read_by_copy.remove(&p.pair).flatten() {
                    Some(v) => {
                        let etag = if store.md5 {
                            v.etag.clone()
                        } else {
                            format!("c{n}")
                        };
                        store.objs.insert(
                            p.key.clone(),
                            Version {
                                etag: etag.clone(),
                                content: v.content.clone(),
                            },
                        );
                        Out::Ok {
                            status: 200,
                            etag: Some(q(&etag)),
                            write_id: None,
                        }
                    }
                    None => Out::Rejected {
                        status: 404,
                        code: Some("NoSuchKey".into()),
                    },
                };
                let req = Req::Put {
                    write_id: None,
                    etag_if_applied: None,
                    if_match: None,
                    if_none_match: None,
                    via: Via::Copy,
                    source_key: Some(src.to_string()),
                    initiated_ns: None,
                };
                (req, out)
            }
            // A conditional write that lost a race: 409, no effect.
            _ => (
                Req::Put {
                    write_id: Some(wid.clone()),
                    etag_if_applied: None,
                    if_match: None,
                    if_none_match: Some("*".into()),
                    via: Via::Put,
                    source_key: None,
                    initiated_ns: None,
                },
                Out::Conflict,
            ),
        };
        // A client that gave up may do so before its write landed.
        let ret_ns = if out.is_ambiguous() {
            p.call + (p.lp - p.call) / 2
        } else {
            p.ret
        };
        ops.push(Op {
            id: 0,
            client,
            key: p.key.clone(),
            call_ns: p.call,
            ret_ns,
            req,
            out,
        });
    }
    ops.sort_by_key(|o| (o.call_ns, o.client));
    for (i, o) in ops.iter_mut().enumerate() {
        o.id = i as u64;
    }
    // A client whose op went unanswered is retired; give its later ops a fresh client id.
    let mut retired: BTreeMap<u64, u64> = BTreeMap::new();
    let mut fresh = 1000;
    for o in ops.iter_mut() {
        if let Some(&c) = retired.get(&o.client) {
            o.client = c;
        }
        if o.out.is_ambiguous() {
            retired.insert(o.client, fresh);
            fresh += 1;
        }
    }
    let mut h = History {
        header: Header::new(),
        ops,
    };
    if rng.random_bool(0.5) {
        corrupt(&mut h, rng);
    }
    h
}

/// Replaces one answered outcome by one a broken store could give.
fn corrupt(h: &mut History, rng: &mut Xoshiro256PlusPlus) {
    let n = h.ops.len();
    if n == 0 {
        return;
    }
    let etags: Vec<String> = h
        .ops
        .iter()
        .filter_map(|o| match &o.out {
            Out::Ok { etag: Some(e), .. } => Some(e.clone()),
            _ => None,
        })
        .collect();
    let wids: Vec<String> = h
        .ops
        .iter()
        .filter_map(|o| match &o.req {
            Req::Put { write_id, .. } => write_id.clone(),
            _ => None,
        })
        .collect();
    let i = rng.random_range(0..n);
    if h.ops[i].out.is_ambiguous() {
        return;
    }
    let pick = |v: &Vec<String>, rng: &mut Xoshiro256PlusPlus| {
        if v.is_empty() {
            "\"none\"".to_string()
        } else {
            v[rng.random_range(0..v.len())].clone()
        }
    };
    h.ops[i].out = match (&h.ops[i].req, rng.random_range(0..5)) {
        (_, 0) => Out::PreconditionFailed,
        (_, 1) => Out::NotFound { code: None },
        (Req::Get { .. } | Req::Head { .. }, 2) => Out::NotModified { etag: None },
        (Req::Get { .. } | Req::Head { .. }, _) => Out::Ok {
            status: 200,
            etag: Some(pick(&etags, rng)),
            write_id: Some(if rng.random_bool(0.8) {
                pick(&wids, rng)
            } else {
                "w-nobody".into()
            }),
        },
        (
            Req::Put {
                etag_if_applied, ..
            },
            _,
        ) => Out::Ok {
            status: 200,
            etag: etag_if_applied.clone().or_else(|| Some(pick(&etags, rng))),
            write_id: None,
        },
        (Req::Delete { .. }, _) => Out::Ok {
            status: 204,
            etag: None,
            write_id: None,
        },
    };
}
