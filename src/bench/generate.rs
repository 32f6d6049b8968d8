//! Synthetic histories from an in-memory linearizable S3 key, with optional injected bugs.
//!
//! Every op gets a linearization point drawn inside its interval; outcomes are computed by
//! applying the ops in that order to an exact model, so a history without a bug is
//! linearizable by construction. Clients behave like real ones: read-modify-write loops
//! (`If-Match` with the last ETag seen, re-reading after a 412), safe creates, conditional and
//! plain reads, optional blind writes and deletes, and ambiguous writes (which apply or not
//! at random and retire the client, as the fuzz driver does).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::check::AnomalyKind;
use crate::history::{Header, History, Op, Out, Req, Via};

listed_enum! {
    /// A bug the generator can inject, mimicking the reference endpoint's faults.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum Bug {
        /// A stale `If-Match` write is applied anyway.
        LostUpdate,
        /// `If-None-Match: *` succeeds on a present object.
        DoubleCreate,
        /// A read is served the version before a long-superseded one.
        StaleRead,
        /// `If-None-Match: <stale etag>` answered 304.
        Phantom304,
        /// A 409 with no concurrent writer.
        Spurious409,
        /// A read returns a write id nobody wrote.
        GarbageRead,
        /// A successful-looking unconditional write that never lands. (A conditional one would
        /// show up as a lost update: its ETag's version gets a second successor.)
        LostAckWrite,
        /// A read after a completed delete sees the deleted version.
        Resurrection,
    }
}

impl Bug {
    /// The anomaly the checker should name.
    pub fn expected(self) -> AnomalyKind {
        match self {
            Bug::LostUpdate => AnomalyKind::LostUpdate,
            Bug::DoubleCreate => AnomalyKind::DoubleCreate,
            Bug::StaleRead => AnomalyKind::StaleRead,
            Bug::Phantom304 => AnomalyKind::Phantom304,
            Bug::Spurious409 => AnomalyKind::Spurious409,
            Bug::GarbageRead => AnomalyKind::GarbageRead,
            Bug::LostAckWrite => AnomalyKind::LostAcknowledgedWrite,
            Bug::Resurrection => AnomalyKind::Resurrection,
        }
    }

    pub fn name(self) -> &'static str {
        self.expected().name()
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenConfig {
    /// Concurrent clients per key.
    pub writers: usize,
    /// Ops per key.
    pub ops: usize,
    pub keys: usize,
    /// Share of ops that are reads (GET/HEAD, some conditional).
    pub read_rate: f64,
    /// Share of mutations that are unconditional PUTs.
    pub blind_rate: f64,
    /// Share of mutations that are deletes (conditional when the client knows an ETag).
    pub delete_rate: f64,
    /// Share of mutations that are `If-None-Match: *` creates even when the client knows an ETag.
    pub create_rate: f64,
    /// Share of mutations whose response is lost (recorded as ambiguous; applied half the time).
    pub ambiguous_rate: f64,
    /// A bug to inject once per key, in the second half of the run, if an opportunity arises.
    pub bug: Option<Bug>,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            writers: 8,
            ops: 1000,
            keys: 1,
            read_rate: 0.4,
            blind_rate: 0.0,
            delete_rate: 0.0,
            create_rate: 0.02,
            ambiguous_rate: 0.0,
            bug: None,
        }
    }
}

/// Generates a history from a seed (Xoshiro256++, so the same seed gives the same history on
/// every platform).
pub fn generate_seeded(cfg: &GenConfig, seed: u64) -> History {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut h = generate(cfg, &mut rng);
    h.header.seed = Some(seed);
    h
}

/// Generates a configuration and history from fuzzer bytes: small sizes, any mix, any bug.
pub fn generate_arbitrary(
    u: &mut arbitrary::Unstructured,
) -> arbitrary::Result<(GenConfig, History)> {
    let rate = |u: &mut arbitrary::Unstructured, max: u8| -> arbitrary::Result<f64> {
        Ok(f64::from(u.int_in_range(0..=max)?) / 100.0)
    };
    let bug_ix: usize = u.int_in_range(0..=Bug::ALL.len())?;
    let cfg = GenConfig {
        writers: u.int_in_range(1..=6)?,
        ops: u.int_in_range(1..=12)?,
        keys: u.int_in_range(1..=2)?,
        read_rate: rate(u, 80)?,
        blind_rate: rate(u, 50)?,
        delete_rate: rate(u, 30)?,
        create_rate: rate(u, 30)?,
        ambiguous_rate: rate(u, 30)?,
        bug: Bug::ALL.get(bug_ix).copied(),
    };
    let seed: u64 = u.arbitrary()?;
    Ok((cfg.clone(), generate_seeded(&cfg, seed)))
}

/// Generates a history with any RNG.
pub fn generate<R: Rng + ?Sized>(cfg: &GenConfig, rng: &mut R) -> History {
    let mut ops = Vec::with_capacity(cfg.ops * cfg.keys);
    for k in 0..cfg.keys.max(1) {
        let mut sim = Sim::new(cfg, k, rng.random(), ops.len() as u64);
        sim.run(cfg, &mut ops);
    }
    let mut header = Header::new();
    header.note = Some(match cfg.bug {
        Some(b) => format!(
            "generated: {} writers, {} ops/key, bug {}",
            cfg.writers,
            cfg.ops,
            b.name()
        ),
        None => format!(
            "generated: {} writers, {} ops/key, no bug",
            cfg.writers, cfg.ops
        ),
    });
    History { header, ops }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Content {
    etag: String,
    wid: String,
}

/// One version the key went through, for the bugs that serve old data.
struct Version {
    content: Option<Content>,
    /// When the write that ended this version returned (u64::MAX while current).
    superseded_ret: u64,
}

#[derive(Clone)]
enum Plan {
    Read {
        head: bool,
        if_match: Option<String>,
        if_none_match: Option<String>,
    },
    Write {
        if_match: Option<String>,
        if_none_match: Option<String>,
        content: Content,
        via: Via,
        ambiguous: bool,
    },
    Delete {
        if_match: Option<String>,
        ambiguous: bool,
    },
}

struct Pending {
    client: u64,
    call: u64,
    lp: u64,
    ret: u64,
    plan: Plan,
}

struct ClientState {
    id: u64,
    last: Option<String>,
    must_read: bool,
}

struct Sim {
    key: String,
    rng: Xoshiro256PlusPlus,
    state: Option<Content>,
    versions: Vec<Version>,
    writes: u64,
    next_client: u64,
    next_id: u64,
    bug_armed: bool,
    key_index: usize,
}

fn etag_for(key: usize, n: u64) -> String {
    let mut x = (key as u64) << 40 ^ n ^ 0x5151_7a7a;
    let mut out = String::with_capacity(34);
    out.push('"');
    for _ in 0..2 {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.push_str(&format!("{:016x}", z ^ (z >> 31)));
    }
    out.push('"');
    out
}

impl Sim {
    fn new(cfg: &GenConfig, key_index: usize, seed: u64, first_id: u64) -> Self {
        Sim {
            key: format!("k{key_index}"),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            state: None,
            versions: vec![Version {
                content: None,
                superseded_ret: u64::MAX,
            }],
            writes: 0,
            next_client: (key_index * 1_000_000) as u64,
            next_id: first_id,
            bug_armed: cfg.bug.is_some(),
            key_index,
        }
    }

    fn new_content(&mut self) -> Content {
        self.writes += 1;
        Content {
            etag: etag_for(self.key_index, self.writes),
            wid: format!("w{}-{}", self.key_index, self.writes),
        }
    }

    fn plan(&mut self, cfg: &GenConfig, c: &mut ClientState) -> Plan {
        let rng = &mut self.rng;
        if c.must_read || rng.random_bool(cfg.read_rate) {
            c.must_read = false;
            let head = rng.random_bool(0.2);
            let (if_match, if_none_match) = match (c.last.clone(), rng.random_range(0..10)) {
                (Some(e), 0 | 1) => (None, Some(e)),
                (Some(e), 2) => (Some(e), None),
                _ => (None, None),
            };
            return Plan::Read {
                head,
                if_match,
                if_none_match,
            };
        }
        let ambiguous = rng.random_bool(cfg.ambiguous_rate);
        if rng.random_bool(cfg.delete_rate) {
            return Plan::Delete {
                if_match: c.last.clone(),
                ambiguous,
            };
        }
        let blind = rng.random_bool(cfg.blind_rate);
        let create = !blind && (c.last.is_none() || rng.random_bool(cfg.create_rate));
        let via = if rng.random_bool(0.1) {
            Via::CompleteMultipart
        } else {
            Via::Put
        };
        let content = self.new_content();
        if blind {
            Plan::Write {
                if_match: None,
                if_none_match: None,
                content,
                via,
                ambiguous,
            }
        } else if create {
            Plan::Write {
                if_match: None,
                if_none_match: Some("*".into()),
                content,
                via,
                ambiguous,
            }
        } else {
            Plan::Write {
                if_match: c.last.clone(),
                if_none_match: None,
                content,
                via,
                ambiguous,
            }
        }
    }

    fn schedule(&mut self, client: u64, after: u64, plan: Plan) -> Pending {
        let call = after + self.rng.random_range(0..500u64);
        let ret = call + self.rng.random_range(100..2000u64);
        let lp = self.rng.random_range(call..=ret);
        Pending {
            client,
            call,
            lp,
            ret,
            plan,
        }
    }

    fn set_state(&mut self, new: Option<Content>, writer_ret: u64) {
        if let Some(v) = self.versions.last_mut() {
            v.superseded_ret = writer_ret;
        }
        self.versions.push(Version {
            content: new.clone(),
            superseded_ret: u64::MAX,
        });
        self.state = new;
    }

    /// An old version (not the current one) definitely superseded before `t`.
    fn superseded_before(&self, t: u64, present: bool) -> Option<Content> {
        let n = self.versions.len();
        if n < 3 {
            return None;
        }
        // Look a little way back for a version superseded by a write that returned before t,
        // skipping the immediately previous one so the superseding write was observed.
        for v in self.versions[..n - 2].iter().rev().take(50) {
            if v.superseded_ret < t && v.content.is_some() == present {
                return v.content.clone();
            }
        }
        None
    }

    fn run(&mut self, cfg: &GenConfig, out: &mut Vec<Op>) {
        let writers = cfg.writers.max(1);
        let mut clients: Vec<ClientState> = Vec::new();
        let mut heap: BinaryHeap<Reverse<(u64, u64, usize)>> = BinaryHeap::new();
        let mut pending: Vec<Option<Pending>> = Vec::new();
        for slot in 0..writers {
            let mut c = ClientState {
                id: self.next_client,
                last: None,
                must_read: false,
            };
            self.next_client += 1;
            let plan = self.plan(cfg, &mut c);
            let p = self.schedule(c.id, 0, plan);
            heap.push(Reverse((p.lp, p.call, slot)));
            pending.push(Some(p));
            clients.push(c);
        }
        let start = out.len();
        let mut done = 0usize;
        let arm_at = cfg.ops / 2;
        while done < cfg.ops {
            let Some(Reverse((_, _, slot))) = heap.pop() else {
                break;
            };
            let Some(p) = pending[slot].take() else {
                continue;
            };
            let inject = self.bug_armed && done >= arm_at;
            let (req, outcome, retire) = self.apply(cfg, &mut clients[slot], &p, inject);
            out.push(Op {
                id: self.next_id,
                client: p.client,
                key: self.key.clone(),
                call_ns: p.call,
                ret_ns: p.ret,
                req,
                out: outcome,
            });
            self.next_id += 1;
            done += 1;
            if retire {
                clients[slot] = ClientState {
                    id: self.next_client,
                    last: None,
                    must_read: true,
                };
                self.next_client += 1;
            }
            let mut c = std::mem::replace(
                &mut clients[slot],
                ClientState {
                    id: 0,
                    last: None,
                    must_read: false,
                },
            );
            let plan = self.plan(cfg, &mut c);
            let np = self.schedule(c.id, p.ret, plan);
            clients[slot] = c;
            heap.push(Reverse((np.lp, np.call, slot)));
            pending[slot] = Some(np);
        }
        if self.bug_armed
            && cfg.bug == Some(Bug::Spurious409)
            && !inject_spurious_409(&mut out[start..])
        {
            // Too busy for a quiet moment: add a conditional write after everything settled.
            let end = out[start..].iter().map(|o| o.ret_ns).max().unwrap_or(0);
            out.push(Op {
                id: self.next_id,
                client: self.next_client,
                key: self.key.clone(),
                call_ns: end + 1_000,
                ret_ns: end + 2_000,
                req: Req::Put {
                    write_id: Some(format!("w409-{}", self.next_id)),
                    etag_if_applied: None,
                    if_match: self.state.as_ref().map(|c| c.etag.clone()),
                    if_none_match: None,
                    via: Via::Put,
                    source_key: None,
                    initiated_ns: None,
                },
                out: Out::Conflict,
            });
            self.next_id += 1;
            self.next_client += 1;
        }
    }

    fn apply(
        &mut self,
        cfg: &GenConfig,
        c: &mut ClientState,
        p: &Pending,
        inject: bool,
    ) -> (Req, Out, bool) {
        let cur_etag = self.state.as_ref().map(|s| s.etag.clone());
        let norm = |s: &str| crate::history::normalize_etag(s).to_string();
        let matches = |cond: &Option<String>| match (cond, &cur_etag) {
            (None, _) => true,
            (Some(c), Some(e)) => c == "*" || norm(c) == norm(e),
            (Some(_), None) => false,
        };
        match &p.plan {
            Plan::Read {
                head,
                if_match,
                if_none_match,
            } => {
                let req = if *head {
                    Req::Head {
                        if_match: if_match.clone(),
                        if_none_match: if_none_match.clone(),
                    }
                } else {
                    Req::Get {
                        if_match: if_match.clone(),
                        if_none_match: if_none_match.clone(),
                    }
                };
                let mut shown = self.state.clone();
                if inject {
                    match cfg.bug {
                        Some(Bug::StaleRead) if if_match.is_none() && if_none_match.is_none() => {
                            if let Some(old) = self.superseded_before(p.call, true) {
                                shown = Some(old);
                                self.bug_armed = false;
                            }
                        }
                        Some(Bug::Resurrection)
                            if self.state.is_none()
                                && if_match.is_none()
                                && if_none_match.is_none() =>
                        {
                            let n = self.versions.len();
                            if n >= 2
                                && self.versions[n - 2].superseded_ret < p.call
                                && self.versions[n - 2].content.is_some()
                            {
                                shown = self.versions[n - 2].content.clone();
                                self.bug_armed = false;
                            }
                        }
                        Some(Bug::Phantom304) => {
                            if let Some(inm) = if_none_match
                                && cur_etag.as_deref().is_some_and(|e| norm(e) != norm(inm))
                                && self.versions.iter().rev().skip(1).take(50).any(|v| {
                                    v.content.as_ref().is_some_and(|c| c.etag == *inm)
                                        && v.superseded_ret < p.call
                                })
                                && if_match.is_none()
                            {
                                self.bug_armed = false;
                                return (
                                    req,
                                    Out::NotModified {
                                        etag: Some(inm.clone()),
                                    },
                                    false,
                                );
                            }
                        }
                        Some(Bug::GarbageRead)
                            if shown.is_some() && if_match.is_none() && if_none_match.is_none() =>
                        {
                            if let Some(s) = shown.as_mut() {
                                s.wid = format!("garbage-{}", self.rng.random::<u32>());
                            }
                            self.bug_armed = false;
                        }
                        _ => {}
                    }
                }
                let out = match &shown {
                    None => Out::NotFound { code: None },
                    Some(s) => {
                        let m = if_match
                            .as_ref()
                            .is_none_or(|m| m == "*" || norm(m) == norm(&s.etag));
                        let n = if_none_match
                            .as_ref()
                            .is_some_and(|m| m == "*" || norm(m) == norm(&s.etag));
                        if !m {
                            Out::PreconditionFailed
                        } else if n {
                            Out::NotModified {
                                etag: Some(s.etag.clone()),
                            }
                        } else {
                            Out::Ok {
                                status: 200,
                                etag: Some(s.etag.clone()),
                                write_id: Some(s.wid.clone()),
                            }
                        }
                    }
                };
                match &out {
                    Out::Ok { etag, .. } => c.last = etag.clone(),
                    Out::NotFound { .. } => c.last = None,
                    Out::PreconditionFailed => c.must_read = true,
                    _ => {}
                }
                (req, out, false)
            }
            Plan::Write {
                if_match,
                if_none_match,
                content,
                via,
                ambiguous,
            } => {
                let req = Req::Put {
                    write_id: Some(content.wid.clone()),
                    etag_if_applied: Some(content.etag.clone()),
                    if_match: if_match.clone(),
                    if_none_match: if_none_match.clone(),
                    via: *via,
                    source_key: None,
                    initiated_ns: None,
                };
                let present = self.state.is_some();
                let inm_ok = if_none_match.as_ref().is_none_or(|_| !present);
                let im_ok = if_match.is_none() || matches(if_match);
                let mut pass = inm_ok && im_ok;
                let mut lost = false;
                if inject && !pass {
                    match cfg.bug {
                        Some(Bug::LostUpdate) if if_match.is_some() && present => {
                            pass = true;
                            self.bug_armed = false;
                        }
                        Some(Bug::DoubleCreate)
                            if if_none_match.is_some() && if_match.is_none() && present =>
                        {
                            pass = true;
                            self.bug_armed = false;
                        }
                        _ => {}
                    }
                }
                if inject
                    && pass
                    && !*ambiguous
                    && cfg.bug == Some(Bug::LostAckWrite)
                    && if_match.is_none()
                    && if_none_match.is_none()
                {
                    lost = true;
                    self.bug_armed = false;
                }
                if *ambiguous {
                    if pass && self.rng.random_bool(0.5) {
                        self.set_state(Some(content.clone()), u64::MAX);
                    }
                    return (
                        req,
                        Out::Ambiguous {
                            cause: "timeout".into(),
                            status: None,
                        },
                        true,
                    );
                }
                if pass {
                    if !lost {
                        self.set_state(Some(content.clone()), p.ret);
                    }
                    c.last = Some(content.etag.clone());
                    (
                        req,
                        Out::Ok {
                            status: 200,
                            etag: Some(content.etag.clone()),
                            write_id: None,
                        },
                        false,
                    )
                } else {
                    c.must_read = true;
                    let out = if if_match.is_some() && !present && self.rng.random_bool(0.5) {
                        Out::NotFound { code: None }
                    } else {
                        Out::PreconditionFailed
                    };
                    (req, out, false)
                }
            }
            Plan::Delete {
                if_match,
                ambiguous,
            } => {
                let req = Req::Delete {
                    if_match: if_match.clone(),
                };
                let present = self.state.is_some();
                let pass = if_match.is_none() || (present && matches(if_match));
                if *ambiguous {
                    if pass && self.rng.random_bool(0.5) {
                        self.set_state(None, u64::MAX);
                    }
                    return (
                        req,
                        Out::Ambiguous {
                            cause: "reset".into(),
                            status: None,
                        },
                        true,
                    );
                }
                if pass {
                    self.set_state(None, p.ret);
                    c.last = None;
                    (
                        req,
                        Out::Ok {
                            status: 204,
                            etag: None,
                            write_id: None,
                        },
                        false,
                    )
                } else {
                    c.must_read = true;
                    (
                        req,
                        if present {
                            Out::PreconditionFailed
                        } else {
                            Out::NotFound { code: None }
                        },
                        false,
                    )
                }
            }
        }
    }
}

/// Turns one unconditional read that overlaps no mutation into a 409'd write: the store
/// claimed a race where there was none.
/// Returns false if every read overlaps some mutation.
fn inject_spurious_409(ops: &mut [Op]) -> bool {
    let n = ops.len();
    let end = |o: &Op| {
        if o.out.is_ambiguous() {
            u64::MAX
        } else {
            o.ret_ns
        }
    };
    // Mutations by call, with the running maximum of their returns.
    let mut muts: Vec<(u64, u64)> = ops
        .iter()
        .filter(|o| o.req.is_mutation())
        .map(|o| (o.call_ns, end(o)))
        .collect();
    muts.sort_unstable();
    let mut run_max = Vec::with_capacity(muts.len());
    let mut m = 0;
    for &(_, r) in &muts {
        m = m.max(r);
        run_max.push(m);
    }
    for i in (n / 2..n).chain(0..n / 2) {
        if ops[i].req.is_mutation() {
            continue;
        }
        let (c, r) = (ops[i].call_ns, ops[i].ret_ns);
        let k = muts.partition_point(|&(call, _)| call <= r);
        if k > 0 && run_max[k - 1] >= c {
            continue;
        }
        ops[i].req = Req::Put {
            write_id: Some(format!("w409-{i}")),
            etag_if_applied: None,
            if_match: Some("\"x\"".into()),
            if_none_match: None,
            via: Via::Put,
            source_key: None,
            initiated_ns: None,
        };
        ops[i].out = Out::Conflict;
        return true;
    }
    false
}
