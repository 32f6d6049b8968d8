//! The independent certificate validator.
//!
//! Every "linearizable" verdict, whichever tier produced it, is backed by a total order of the
//! key's ops that this module replays through the sequential model and the real-time order.
//! It shares nothing with the tiers but the model itself, so a bug in a clever tier cannot
//! turn into a false "linearizable".

use super::model::{FxHashMap, KeyHistory, Role, State, step};
use super::two_cores;

/// Why a certificate was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("op {0} is not an op of this key")]
    UnknownOp(u64),
    #[error("op {0} appears twice")]
    Duplicate(u64),
    #[error("op {0} has no effect and must not be linearized")]
    Excluded(u64),
    #[error("op {0} is missing from the order")]
    Missing(u64),
    #[error("op {op} is illegal in state {state:?}")]
    Illegal { op: u64, state: State },
    #[error("op {later} is placed after op {earlier}, but returned before it was called")]
    RealTime { earlier: u64, later: u64 },
}

/// Replays `order` (op ids) through the model from the initial absent state. Required ops must
/// appear exactly once, optional (ambiguous) ops at most once, excluded ops never.
pub fn validate_certificate(kh: &KeyHistory, order: &[u64]) -> Result<(), CertificateError> {
    validate_on(kh, order, false)
}

/// [`validate_certificate`]; with `two_threads`, the order's two halves are replayed at once on
/// two threads, with the same answer (the first fault in the order, or the first missing op).
///
/// The second half needs what the replay of the first leaves behind, and both are cheap to
/// derive without replaying it: if the first half is valid, every op in it was legal, so the
/// state after it is the one the last applied mutation in it wrote (absent if there is none:
/// a read or a refused write leaves the state as it was), and the op with the latest call is
/// the first one with the largest call. If the first half is not valid, its fault comes first
/// and the second half's answer is not used. What neither half can see alone, an op placed in
/// both, is looked for after both finish; it is a fault at its place in the second half.
pub fn validate_on(
    kh: &KeyHistory,
    order: &[u64],
    two_threads: bool,
) -> Result<(), CertificateError> {
    let index = IdIndex::new(kh);
    let n = kh.ops.len();
    if !two_threads {
        let mut used = vec![false; n];
        replay(kh, &index, order, &mut used, State::Absent, None).map_err(|(_, e)| e)?;
        return missing(kh, |i| used[i]);
    }
    let mid = order.len() / 2;
    let (head, tail) = order.split_at(mid);
    let index = &index;
    let (first, (second, used_later)) = two_cores::join(
        || {
            let mut used = vec![false; n];
            let r = replay(kh, index, head, &mut used, State::Absent, None);
            r.map(|()| used)
        },
        move || {
            let (state, latest_call) = after(kh, index, head);
            let mut used = vec![false; n];
            let r = replay(kh, index, tail, &mut used, state, latest_call);
            (r, used)
        },
    );
    let used = first.map_err(|(_, e)| e)?;
    // The first op of the second half that the first half placed too.
    let twice = used
        .iter()
        .zip(&used_later)
        .any(|(a, b)| *a && *b)
        .then(|| {
            tail.iter()
                .position(|&id| index.get(id).is_some_and(|i| used[i]))
        })
        .flatten();
    match (twice, second) {
        (Some(p), Err((q, _))) if p <= q => return Err(CertificateError::Duplicate(tail[p])),
        (Some(p), Ok(())) => return Err(CertificateError::Duplicate(tail[p])),
        (_, Err((_, e))) => return Err(e),
        (None, Ok(())) => {}
    }
    missing(kh, |i| used[i] || used_later[i])
}

/// Replays `order` from `state`, with `latest_call` the op placed before it with the latest
/// call; marks each op in `used`. A fault comes with its position in `order`.
fn replay(
    kh: &KeyHistory,
    index: &IdIndex,
    order: &[u64],
    used: &mut [bool],
    mut state: State,
    mut latest_call: Option<usize>,
) -> Result<(), (usize, CertificateError)> {
    for (at, &id) in order.iter().enumerate() {
        let fault = |e| (at, e);
        let i = index
            .get(id)
            .ok_or(CertificateError::UnknownOp(id))
            .map_err(fault)?;
        let op = &kh.ops[i];
        if std::mem::replace(&mut used[i], true) {
            return Err(fault(CertificateError::Duplicate(id)));
        }
        if op.role == Role::Excluded {
            return Err(fault(CertificateError::Excluded(id)));
        }
        if let Some(l) = latest_call
            && op.ret < kh.ops[l].call
        {
            return Err(fault(CertificateError::RealTime {
                earlier: kh.ops[l].id,
                later: id,
            }));
        }
        if latest_call.is_none_or(|l| kh.ops[l].call < op.call) {
            latest_call = Some(i);
        }
        state = step(state, &op.kind)
            .ok_or(CertificateError::Illegal { op: id, state })
            .map_err(fault)?;
    }
    Ok(())
}

/// The state and the op with the latest call that replaying `order` leaves, if it is valid:
/// the last applied mutation's state, and the first op with the largest call.
fn after(kh: &KeyHistory, index: &IdIndex, order: &[u64]) -> (State, Option<usize>) {
    let mut state = State::Absent;
    let mut latest_call: Option<usize> = None;
    for i in order.iter().filter_map(|&id| index.get(id)) {
        let op = &kh.ops[i];
        if latest_call.is_none_or(|l| kh.ops[l].call < op.call) {
            latest_call = Some(i);
        }
        if let Some(s) = op.written_state() {
            state = s;
        }
    }
    (state, latest_call)
}

/// The first required op (in the key's order) that the replay did not place.
fn missing(kh: &KeyHistory, used: impl Fn(usize) -> bool) -> Result<(), CertificateError> {
    match kh
        .ops
        .iter()
        .enumerate()
        .find(|&(i, o)| o.role == Role::Required && !used(i))
    {
        Some((_, o)) => Err(CertificateError::Missing(o.id)),
        None => Ok(()),
    }
}

/// Op id to position in the key's ops: a vector when the ids are dense (the usual case, and
/// much kinder to the cache on a million ops), a hash map otherwise.
enum IdIndex {
    /// By id minus `base`: the position plus one, 0 for no op (so the vector starts as zeroed
    /// pages the system hands out lazily, not a fill).
    Dense {
        base: u64,
        slots: Vec<u32>,
    },
    Sparse(FxHashMap<u64, usize>),
}

impl IdIndex {
    fn new(kh: &KeyHistory) -> Self {
        let (lo, hi) = kh
            .ops
            .iter()
            .fold((u64::MAX, 0), |(lo, hi), o| (lo.min(o.id), hi.max(o.id)));
        let n = kh.ops.len() as u64;
        if n > 0 && n < u64::from(u32::MAX) && hi - lo < n.saturating_mul(8) {
            let mut slots = vec![0u32; (hi - lo + 1) as usize];
            for (i, o) in kh.ops.iter().enumerate() {
                slots[(o.id - lo) as usize] = i as u32 + 1;
            }
            IdIndex::Dense { base: lo, slots }
        } else {
            let mut m = FxHashMap::with_capacity_and_hasher(kh.ops.len(), Default::default());
            m.extend(kh.ops.iter().enumerate().map(|(i, o)| (o.id, i)));
            IdIndex::Sparse(m)
        }
    }

    fn get(&self, id: u64) -> Option<usize> {
        match self {
            IdIndex::Dense { base, slots } => id
                .checked_sub(*base)
                .and_then(|k| slots.get(usize::try_from(k).ok()?))
                .and_then(|&s| (s as usize).checked_sub(1)),
            IdIndex::Sparse(m) => m.get(&id).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::convert::split_by_key;
    use crate::check::report::check_key;
    use crate::check::tier2::Budget;

    /// Orders to validate for a key: its certificate if it has one, the key's ops in their own
    /// order and in reverse, and the certificate (or the ops' order) with one fault put in at
    /// many places: two ops swapped, one repeated in the other half, one dropped, an unknown id.
    fn orders(kh: &KeyHistory, certificate: Option<Vec<u64>>) -> Vec<Vec<u64>> {
        let ids: Vec<u64> = kh.ops.iter().map(|o| o.id).collect();
        let base = certificate.unwrap_or_else(|| ids.clone());
        let mut out = vec![
            base.clone(),
            ids.clone(),
            ids.iter().rev().copied().collect(),
        ];
        let n = base.len();
        if n < 2 {
            return out;
        }
        let mut x: usize = 0x9e37_79b9;
        let mut at = |m: usize| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % m
        };
        for _ in 0..12 {
            let (a, b) = (at(n), at(n));
            let mut swapped = base.clone();
            swapped.swap(a, b);
            out.push(swapped);
            let mut twice = base.clone();
            twice.insert(at(n + 1), base[a]);
            out.push(twice);
            let mut dropped = base.clone();
            dropped.remove(a);
            out.push(dropped);
            let mut unknown = base.clone();
            unknown.insert(at(n + 1), u64::MAX - 1);
            out.push(unknown);
            // Two faults, one in each half.
            let mut both = base.clone();
            both.swap(at(n / 2), at(n / 2));
            both.insert(n / 2 + at(n - n / 2), base[at(n / 2)]);
            out.push(both);
        }
        out
    }

    /// Replaying a certificate's halves on two threads gives the one-thread answer, on valid
    /// certificates and on ones with each kind of fault in either half or both.
    #[test]
    fn a_certificate_validated_in_two_halves_gets_the_one_thread_answer() {
        let all = crate::check::test_corpus::committed_and_generated(2_000, 1);
        let budget = Budget {
            deadline: std::time::Instant::now() + std::time::Duration::from_secs(60),
            max_states: 1_000_000,
            cancel: None,
        };
        let (mut valid, mut faults) = (0, std::collections::BTreeSet::new());
        for h in &all {
            for kh in split_by_key(h) {
                let certificate = check_key(&kh, &budget).certificate;
                for order in orders(&kh, certificate) {
                    let one = validate_on(&kh, &order, false);
                    assert_eq!(one, validate_on(&kh, &order, true), "key {}", kh.key);
                    match one {
                        Ok(()) => valid += 1,
                        Err(e) => {
                            faults.insert(
                                format!("{e:?}").split([' ', '(']).next().map(str::to_owned),
                            );
                        }
                    }
                }
            }
        }
        // Every kind of fault was met: unknown, repeated, excluded, real time, illegal, missing.
        assert!(valid > 50 && faults.len() == 6, "{valid} valid, {faults:?}");
    }
}
