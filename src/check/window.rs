//! Which writes and deletes could have left a key in a state where an op's outcome is legal,
//! and were in flight in a given window: the question the overwritten-state detector asks of
//! every op (docs/checker.md §3.2).
//!
//! An op's state is the state of the last mutation linearized before it. When the latest
//! mutation that returned before the op began leaves a state where the op's outcome is
//! illegal, only a mutation that could fall between the two can explain the op, and such a
//! mutation overlaps the window from the first one's call to the op's return. Ambiguous
//! mutations stay in flight for ever after their call, so a plain interval scan would visit
//! every one of them for every op; they are indexed by the state they would leave instead,
//! which answers "is there one that fits, called by `t`?" with a few lookups.

use super::model::{
    FxHashMap, KOp, KeyHistory, Kind, ReadOut, Role, State, Sym, sort_by_instant, step,
};

/// How many answered mutations one query may look at before it gives up and answers "yes, one
/// may explain it": a detector that cannot afford the proof must not claim it.
const SCAN_CAP: usize = 512;

/// An ETag that no history interns: it stands for "some other ETag" when asking whether a
/// state's legality depends on its ETag.
const OTHER: Sym = Sym::MAX;

/// The possibly-applied mutations of one key, indexed for [`Explainers::any`].
pub struct Explainers {
    /// Answered (required) mutations sorted by call, and their calls.
    answered: Vec<usize>,
    answered_calls: Vec<u64>,
    /// The longest span of an answered mutation: a scan down the calls can stop there.
    longest: u64,
    /// The earliest call of an ambiguous delete.
    first_delete: u64,
    /// The earliest call of an ambiguous write, overall and per ETag, write id and both.
    first_write: u64,
    by_etag: FxHashMap<Option<Sym>, u64>,
    by_wid: FxHashMap<Option<Sym>, u64>,
    by_pair: FxHashMap<(Option<Sym>, Option<Sym>), u64>,
    /// Known ETags of ambiguous writes by their earliest call, ascending.
    etag_order: Vec<(u64, Sym)>,
}

impl Explainers {
    pub fn new(kh: &KeyHistory) -> Self {
        let ops = &kh.ops;
        let mut answered: Vec<usize> = (0..ops.len())
            .filter(|&i| ops[i].role == Role::Required && ops[i].is_mutation())
            .collect();
        sort_by_instant(&mut answered, |i| ops[i].call);
        let longest = answered
            .iter()
            .map(|&i| ops[i].ret.saturating_sub(ops[i].call))
            .max()
            .unwrap_or(0);
        let mut e = Explainers {
            answered_calls: answered.iter().map(|&i| ops[i].call).collect(),
            answered,
            longest,
            first_delete: u64::MAX,
            first_write: u64::MAX,
            by_etag: FxHashMap::default(),
            by_wid: FxHashMap::default(),
            by_pair: FxHashMap::default(),
            etag_order: Vec::new(),
        };
        let lower = |slot: &mut u64, t: u64| *slot = (*slot).min(t);
        for o in ops.iter().filter(|o| o.role == Role::Optional) {
            match o.written_state() {
                Some(State::Absent) => lower(&mut e.first_delete, o.call),
                Some(State::Present { etag, wid }) => {
                    lower(&mut e.first_write, o.call);
                    lower(e.by_etag.entry(etag).or_insert(u64::MAX), o.call);
                    lower(e.by_wid.entry(wid).or_insert(u64::MAX), o.call);
                    lower(e.by_pair.entry((etag, wid)).or_insert(u64::MAX), o.call);
                }
                None => {}
            }
        }
        e.etag_order = e
            .by_etag
            .iter()
            .filter_map(|(k, &t)| k.map(|s| (t, s)))
            .collect();
        e.etag_order.sort_unstable();
        e
    }

    /// Is there a possibly-applied mutation, other than those in `exclude`, called by
    /// `ops[r].ret` and returning at or after `from`, that leaves a state in which `ops[r]`'s
    /// outcome is legal? Answers yes when it cannot tell within its scan budget.
    pub fn any(&self, kh: &KeyHistory, r: usize, from: u64, exclude: &[usize]) -> bool {
        let o = &kh.ops[r];
        self.any_answered(kh, o, from, exclude) || self.any_ambiguous(o)
    }

    fn any_answered(&self, kh: &KeyHistory, o: &KOp, from: u64, exclude: &[usize]) -> bool {
        let end = self.answered_calls.partition_point(|&c| c <= o.ret);
        let floor = from.saturating_sub(self.longest);
        let mut looked = 0;
        for &g in self.answered[..end].iter().rev() {
            let m = &kh.ops[g];
            if m.call < floor {
                break;
            }
            looked += 1;
            if looked > SCAN_CAP {
                return true;
            }
            if m.ret < from || exclude.contains(&g) {
                continue;
            }
            if m.written_state()
                .is_some_and(|s| step(s, &o.kind).is_some())
            {
                return true;
            }
        }
        false
    }

    fn any_ambiguous(&self, o: &KOp) -> bool {
        let t = o.ret;
        let legal = |s: State| step(s, &o.kind).is_some();
        let present = |etag, wid| State::Present { etag, wid };
        let by = |map: &FxHashMap<Option<Sym>, u64>, k: Option<Sym>| {
            map.get(&k).is_some_and(|&c| c <= t)
        };
        if self.first_delete <= t && legal(State::Absent) {
            return true;
        }
        if self.first_write > t {
            return false;
        }
        if let Kind::Read {
            out: ReadOut::Ok { etag, wid },
            ..
        } = o.kind
        {
            // A 200 names its version: only a write of that ETag and content, or one whose
            // ETag or content is unknown, can have left it. `None` below is "any".
            let etags: &[Option<Option<Sym>>] = match etag {
                Some(e) => &[Some(Some(e)), Some(None)],
                None => &[None],
            };
            let wids: &[Option<Option<Sym>>] = match wid {
                Some(w) => &[Some(Some(w)), Some(None)],
                None => &[None],
            };
            for &e in etags {
                for &w in wids {
                    if !legal(present(e.flatten(), w.flatten())) {
                        continue;
                    }
                    let called = match (e, w) {
                        (Some(e), Some(w)) => self.by_pair.get(&(e, w)).is_some_and(|&c| c <= t),
                        (Some(e), None) => by(&self.by_etag, e),
                        (None, Some(w)) => by(&self.by_wid, w),
                        (None, None) => true,
                    };
                    if called {
                        return true;
                    }
                }
            }
            return false;
        }
        // Every other outcome depends on the state's ETag only, and only through the ETags
        // the op names: one representative per named ETag, one for "unknown", one for "any
        // other".
        let named = named_etags(&o.kind);
        for &e in named.iter().flatten() {
            if legal(present(Some(e), None)) && by(&self.by_etag, Some(e)) {
                return true;
            }
        }
        if legal(present(None, None)) && by(&self.by_etag, None) {
            return true;
        }
        if legal(present(Some(OTHER), None)) {
            return self
                .etag_order
                .iter()
                .take_while(|(c, _)| *c <= t)
                .any(|(_, e)| !named.contains(&Some(*e)));
        }
        false
    }
}

/// The ETags an op's legality can depend on: its conditions' and a 304's.
fn named_etags(kind: &Kind) -> [Option<Sym>; 3] {
    use super::model::Cond;
    let cond = |c: Option<Cond>| match c {
        Some(Cond::Etag(e)) => Some(e),
        _ => None,
    };
    match *kind {
        Kind::Read {
            if_match,
            if_none_match,
            out,
        } => [
            cond(if_match),
            cond(if_none_match),
            match out {
                ReadOut::NotModified { etag } | ReadOut::Ok { etag, .. } => etag,
                _ => None,
            },
        ],
        Kind::Write {
            if_match,
            if_none_match,
            ..
        } => [cond(if_match), cond(if_none_match), None],
        Kind::Delete { if_match, .. } => [cond(if_match), None, None],
    }
}
