//! Tier 2: a Wing–Gong / Lowe search with a (linearized-set, state) cache, for the histories
//! the version graph cannot order on its own (blind writes, repeated ETags, ambiguous writes
//! that only a negative outcome can reveal).
//!
//! Differences from Porcupine, each for a measured or argued reason (docs/checker.md §3.3):
//! - **Eager state-preserving ops.** A read, 304, 412 or 404 that is callable and legal in the
//!   current state is linearized at once, without a branch point. Moving such an op earlier
//!   (never before its call) keeps real time and legality, so no linearization is lost, and the
//!   2^k blow-up of many concurrent reads and failed CAS attempts disappears.
//! - **Zobrist-hashed configurations.** The linearized set is folded into a 128-bit XOR hash,
//!   maintained in O(1) per step, so a cache entry is 32 bytes instead of an n-bit bitset
//!   (Porcupine's memory grows as configurations × n). A false cache hit needs a 128-bit
//!   collision.
//! - **Ambiguous writes in two passes.** Pass 1 keeps the observed ones as required and drops
//!   the unobserved ones ("not applied" is always a legal outcome, so success is sound); only if
//!   that fails does pass 2 treat every ambiguous write as optional.
//! - **Budgets.** A deadline and a cap on cached configurations; hitting either is `Unknown`.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::model::{FxHashSet, KeyHistory, Kind, Role, State, WriteOut, step};

/// Limits of one search.
#[derive(Debug, Clone, Copy)]
pub struct Budget<'a> {
    pub deadline: Instant,
    pub max_states: usize,
    /// Set by another thread to abandon the search (e.g. another key already failed).
    pub cancel: Option<&'a AtomicBool>,
}

/// The answer of the search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchResult {
    /// A linearization (op ids), to be validated.
    Linearizable(Vec<u64>),
    /// No linearization exists. `blocking` is the op that kept the deepest explored order from
    /// going further (Knossos's `:op`): the pending op with the earliest return.
    Illegal { blocking: Option<u64> },
    /// The budget ran out.
    Unknown(Exhausted),
}

/// Which limit stopped a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// The cap on cached configurations (`--max-states`).
    States,
    /// The wall-clock budget (`--time-budget`, `fuzz --check-budget`).
    Time,
    /// Another part of the check asked it to stop.
    Cancelled,
}

/// What a search that ran out of budget had done, and where it was stuck: enough for a user
/// to tell which flag to raise, or that the history itself (a wide window of unanswered
/// writes) is what makes it hard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exhausted {
    pub limit: Limit,
    /// Configurations cached when it stopped.
    pub states: usize,
    /// The cap on them.
    pub max_states: usize,
    /// Time spent searching this key.
    pub elapsed_ms: u64,
    /// The ops the search had to order.
    pub ops: usize,
    /// The most of them one branch had linearized.
    pub deepest: usize,
    /// At that point, the pending op whose return forced the backtracking (by id).
    pub stuck_at: Option<u64>,
    /// The widest choice it met: how many ops could have gone next at once.
    pub window: usize,
    /// How many of those were unanswered writes or deletes, each of which may land at any time
    /// after its call or never: every one of them multiplies the orders to try.
    pub ambiguous: usize,
    /// The unanswered writes and deletes of the key the search had to place or drop.
    pub optional: usize,
}

impl fmt::Display for Exhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.limit {
            Limit::States => format!(
                "the search reached its cap of {} cached configurations",
                self.max_states
            ),
            Limit::Time => "the search ran out of time".to_string(),
            Limit::Cancelled => "the search was cancelled".to_string(),
        };
        write!(
            f,
            "{what} after {:.1} s and {} configurations; it had ordered at most {} of {} ops",
            self.elapsed_ms as f64 / 1e3,
            self.states,
            self.deepest,
            self.ops
        )?;
        if let Some(op) = self.stuck_at {
            write!(f, ", the furthest stopping before op {op}")?;
        }
        write!(
            f,
            "; at its widest {} ops could go next, {} of them unanswered writes or deletes ({} on the key), each of which may land at any time after its call or never",
            self.window, self.ambiguous, self.optional
        )?;
        match self.limit {
            Limit::States => write!(
                f,
                "; re-check with a higher `s3conform check --max-states` (about 40 bytes each)"
            ),
            Limit::Time => write!(f, "; raise `check --time-budget` or `fuzz --check-budget`"),
            Limit::Cancelled => Ok(()),
        }
    }
}

/// Searches with the two-pass treatment of ambiguous writes.
pub fn search(kh: &KeyHistory, budget: &Budget) -> SearchResult {
    let started = Instant::now();
    let observed = observed_optional(kh);
    let has_optional = kh.ops.iter().any(|o| o.role == Role::Optional);
    if has_optional {
        let roles: Vec<Role> = kh
            .ops
            .iter()
            .enumerate()
            .map(|(i, o)| match o.role {
                Role::Optional if observed[i] => Role::Required,
                Role::Optional => Role::Excluded,
                r => r,
            })
            .collect();
        if let r @ SearchResult::Linearizable(_) = search_with_roles(kh, &roles, budget, started) {
            return r;
        }
    }
    let roles: Vec<Role> = kh.ops.iter().map(|o| o.role).collect();
    search_with_roles(kh, &roles, budget, started)
}

/// Which optional ops had their content seen by another op (so pass 1 assumes them applied).
pub fn observed_optional(kh: &KeyHistory) -> Vec<bool> {
    use super::model::{Cond, ReadOut};
    let mut seen_etags = vec![false; kh.etags.len()];
    let mut seen_wids = vec![false; kh.wids.len()];
    for op in &kh.ops {
        if op.role == Role::Excluded {
            continue;
        }
        match op.kind {
            Kind::Read {
                out: ReadOut::Ok { etag, wid },
                ..
            } => {
                if let Some(e) = etag {
                    seen_etags[e as usize] = true;
                }
                if let Some(w) = wid {
                    seen_wids[w as usize] = true;
                }
            }
            Kind::Read {
                out: ReadOut::NotModified { etag },
                if_none_match,
                ..
            } => {
                if let Some(e) = etag {
                    seen_etags[e as usize] = true;
                }
                if let Some(Cond::Etag(e)) = if_none_match {
                    seen_etags[e as usize] = true;
                }
            }
            Kind::Write {
                if_match: Some(Cond::Etag(e)),
                out: WriteOut::Applied,
                ..
            }
            | Kind::Delete {
                if_match: Some(Cond::Etag(e)),
                out: WriteOut::Applied,
            } if op.role == Role::Required => {
                seen_etags[e as usize] = true;
            }
            _ => {}
        }
    }
    kh.ops
        .iter()
        .map(|op| {
            op.role == Role::Optional
                && match op.kind {
                    Kind::Write { etag, wid, .. } => {
                        etag.is_some_and(|e| seen_etags[e as usize])
                            || wid.is_some_and(|w| seen_wids[w as usize])
                    }
                    _ => false,
                }
        })
        .collect()
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Search<'a> {
    kh: &'a KeyHistory<'a>,
    /// Indices into `kh.ops` of the ops taking part, sorted by (call, ret).
    ops: Vec<usize>,
    /// Their calls and returns by position, side by side: the window is rebuilt at every step
    /// and reads little else.
    call: Vec<u64>,
    ret: Vec<u64>,
    required: Vec<bool>,
    /// Positions (into `ops`) of the optional ones.
    optional: Vec<usize>,
    lin: Vec<bool>,
    /// First position whose required op is not yet linearized.
    p: usize,
    state: State,
    hash: u128,
    zobrist: Vec<u128>,
    cache: FxHashSet<(u128, State)>,
    best: usize,
    blocking: Option<usize>,
    /// The widest choice of ops to linearize next it met: all of them, and the unanswered.
    widest: (usize, usize),
    started: Instant,
    count: usize,
    frames: Vec<Frame>,
    /// The window of the current configuration, rebuilt in place at every step: the search
    /// computes it once or more per configuration, and a fresh vector each time was most of
    /// its cost on long histories.
    window: Vec<usize>,
    /// Vectors of popped frames, cleared, for the next frames to reuse.
    pool: Vec<Vec<usize>>,
}

enum Enter {
    Done(Vec<usize>),
    Dead,
    Pushed,
}

struct Frame {
    via: Option<(usize, State)>,
    eager: Vec<usize>,
    cands: Vec<usize>,
    next: usize,
}

fn read_only(kind: &Kind) -> bool {
    match kind {
        Kind::Read { .. } => true,
        Kind::Write { out, .. } | Kind::Delete { out, .. } => *out != WriteOut::Applied,
    }
}

impl<'a> Search<'a> {
    fn new(kh: &'a KeyHistory, roles: &[Role], started: Instant) -> Self {
        // Sorted as (call, ret, index) triples, contiguous, rather than by looking each op up
        // per comparison; the index makes the order total, so it is the same either way.
        let mut keyed: Vec<(u64, u64, usize)> = (0..kh.ops.len())
            .filter(|&i| roles[i] != Role::Excluded)
            .map(|i| (kh.ops[i].call, kh.ops[i].ret, i))
            .collect();
        keyed.sort_unstable();
        let ops: Vec<usize> = keyed.iter().map(|&(_, _, i)| i).collect();
        let call = keyed.iter().map(|&(c, _, _)| c).collect();
        let ret = keyed.iter().map(|&(_, r, _)| r).collect();
        let required: Vec<bool> = ops.iter().map(|&i| roles[i] == Role::Required).collect();
        let optional = (0..ops.len()).filter(|&k| !required[k]).collect();
        let zobrist = (0..ops.len() as u64)
            .map(|k| (u128::from(splitmix(2 * k + 1)) << 64) | u128::from(splitmix(2 * k + 2)))
            .collect();
        let n = ops.len();
        Search {
            kh,
            ops,
            call,
            ret,
            required,
            optional,
            lin: vec![false; n],
            p: 0,
            state: State::Absent,
            hash: 0,
            zobrist,
            cache: FxHashSet::default(),
            best: 0,
            blocking: None,
            widest: (0, 0),
            started,
            count: 0,
            frames: Vec::new(),
            window: Vec::new(),
            pool: Vec::new(),
        }
    }

    fn op(&self, k: usize) -> &super::model::KOp {
        &self.kh.ops[self.ops[k]]
    }

    fn advance_p(&mut self) {
        while self.p < self.ops.len() && (self.lin[self.p] || !self.required[self.p]) {
            self.p += 1;
        }
    }

    fn set(&mut self, k: usize, on: bool) {
        self.lin[k] = on;
        self.hash ^= self.zobrist[k];
        if on {
            self.count += 1;
            self.advance_p();
        } else {
            self.count -= 1;
            if self.required[k] && k < self.p {
                self.p = k;
            }
        }
    }

    /// Fills `self.window` with the positions of unlinearized ops that may be linearized next,
    /// and returns the required op with the smallest return (the one that forces backtracking).
    fn candidates(&mut self) -> Option<usize> {
        let mut window = std::mem::take(&mut self.window);
        window.clear();
        let mut minret = u64::MAX;
        let mut arg = None;
        let mut k = self.p;
        while k < self.ops.len() {
            if self.call[k] > minret {
                break;
            }
            if !self.lin[k] {
                window.push(k);
                if self.required[k] && self.ret[k] < minret {
                    minret = self.ret[k];
                    arg = Some(k);
                }
            }
            k += 1;
        }
        let below_p = self.optional.partition_point(|&k| k < self.p);
        for &k in &self.optional[..below_p] {
            if !self.lin[k] {
                window.push(k);
            }
        }
        window.retain(|&k| self.call[k] <= minret);
        self.window = window;
        arg
    }

    /// An empty vector, reused from a popped frame when there is one.
    fn fresh(&mut self) -> Vec<usize> {
        self.pool.pop().unwrap_or_default()
    }

    /// Returns a frame's vector to the pool.
    fn recycle(&mut self, mut v: Vec<usize>) {
        v.clear();
        self.pool.push(v);
    }

    /// Linearizes every callable state-preserving op that is legal now, repeatedly. Returns
    /// them, and the blocking op of the configuration reached, whose window is left in
    /// `self.window`.
    fn eager_closure(&mut self) -> (Vec<usize>, Option<usize>) {
        let mut done = self.fresh();
        // The op linearized last. Every required window op before it (by position) was
        // tried and refused, and a state-preserving op leaves the state as it was, so they
        // stay refused (the window only gains ops after them: positions follow calls, and
        // removing an op only raises the window's bound). So the next one is the first
        // acceptable op after it or among the optional ones, as a scan of the whole window
        // would find.
        let mut last: Option<usize> = None;
        loop {
            let blocking = self.candidates();
            let found = self.window.iter().copied().find(|&k| {
                last.is_none_or(|l| k > l || !self.required[k])
                    && read_only(&self.op(k).kind)
                    && step(self.state, &self.op(k).kind).is_some()
            });
            match found {
                Some(k) => {
                    self.set(k, true);
                    done.push(k);
                    last = Some(k);
                }
                None => return (done, blocking),
            }
        }
    }

    fn enter(&mut self, budget: &Budget) -> Result<Enter, SearchResult> {
        let (eager, blocking) = self.eager_closure();
        if self.p >= self.ops.len() {
            return Ok(Enter::Done(eager));
        }
        if self.count > self.best || self.blocking.is_none() {
            self.best = self.count;
            self.blocking = blocking;
        }
        if self.window.len() > self.widest.0 {
            let ambiguous = self.window.iter().filter(|&&k| !self.required[k]).count();
            self.widest = (self.window.len(), ambiguous);
        }
        if !self.cache.insert((self.hash, self.state)) {
            for &k in eager.iter().rev() {
                self.set(k, false);
            }
            self.recycle(eager);
            return Ok(Enter::Dead);
        }
        if self.cache.len() > budget.max_states {
            return Err(self.exhausted(Limit::States, budget));
        }
        let mut cands = self.fresh();
        cands.extend(self.window.iter().copied().filter(|&k| {
            !read_only(&self.op(k).kind) && step(self.state, &self.op(k).kind).is_some()
        }));
        self.stack_push(Frame {
            via: None,
            eager,
            cands,
            next: 0,
        });
        Ok(Enter::Pushed)
    }

    fn stack_push(&mut self, f: Frame) {
        self.frames.push(f);
    }
}

impl Search<'_> {
    fn run(mut self, budget: &Budget) -> SearchResult {
        let mut iterations: u64 = 0;
        match self.enter(budget) {
            Err(r) => return r,
            Ok(Enter::Done(eager)) => return self.success(eager),
            Ok(Enter::Dead) => return SearchResult::Illegal { blocking: None },
            Ok(Enter::Pushed) => {}
        }
        loop {
            iterations += 1;
            if iterations.is_multiple_of(1024) {
                if Instant::now() >= budget.deadline {
                    return self.exhausted(Limit::Time, budget);
                }
                if budget.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                    return self.exhausted(Limit::Cancelled, budget);
                }
            }
            let Some(top) = self.frames.last_mut() else {
                let blocking = self.blocking.map(|k| self.op(k).id);
                return SearchResult::Illegal { blocking };
            };
            if top.next < top.cands.len() {
                let k = top.cands[top.next];
                top.next += 1;
                let prev = self.state;
                let Some(next) = step(prev, &self.op(k).kind) else {
                    continue;
                };
                self.set(k, true);
                self.state = next;
                match self.enter(budget) {
                    Err(r) => return r,
                    Ok(Enter::Done(eager)) => return self.success_with(k, eager),
                    Ok(Enter::Dead) => {
                        self.set(k, false);
                        self.state = prev;
                    }
                    Ok(Enter::Pushed) => {
                        if let Some(f) = self.frames.last_mut() {
                            f.via = Some((k, prev));
                        }
                    }
                }
            } else {
                let f = self.frames.pop().expect("non-empty");
                for &k in f.eager.iter().rev() {
                    self.set(k, false);
                }
                if let Some((k, prev)) = f.via {
                    self.set(k, false);
                    self.state = prev;
                }
                self.recycle(f.eager);
                self.recycle(f.cands);
            }
        }
    }

    fn exhausted(&self, limit: Limit, budget: &Budget) -> SearchResult {
        SearchResult::Unknown(Exhausted {
            limit,
            states: self.cache.len(),
            max_states: budget.max_states,
            elapsed_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            ops: self.ops.len(),
            deepest: self.best,
            stuck_at: self.blocking.map(|k| self.op(k).id),
            window: self.widest.0,
            ambiguous: self.widest.1,
            optional: self.optional.len(),
        })
    }

    fn path(&self) -> Vec<u64> {
        let mut out = Vec::new();
        for f in &self.frames {
            if let Some((k, _)) = f.via {
                out.push(self.op(k).id);
            }
            out.extend(f.eager.iter().map(|&k| self.op(k).id));
        }
        out
    }

    fn success(&self, eager: Vec<usize>) -> SearchResult {
        let mut order = self.path();
        order.extend(eager.iter().map(|&k| self.op(k).id));
        SearchResult::Linearizable(order)
    }

    fn success_with(&self, via: usize, eager: Vec<usize>) -> SearchResult {
        let mut order = self.path();
        order.push(self.op(via).id);
        order.extend(eager.iter().map(|&k| self.op(k).id));
        SearchResult::Linearizable(order)
    }
}

fn search_with_roles(
    kh: &KeyHistory,
    roles: &[Role],
    budget: &Budget,
    started: Instant,
) -> SearchResult {
    Search::new(kh, roles, started).run(budget)
}
