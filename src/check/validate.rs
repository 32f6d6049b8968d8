//! The independent certificate validator.
//!
//! Every "linearizable" verdict, whichever tier produced it, is backed by a total order of the
//! key's ops that this module replays through the sequential model and the real-time order.
//! It shares nothing with the tiers but the model itself, so a bug in a clever tier cannot
//! turn into a false "linearizable".

use std::collections::HashMap;

use super::model::{KeyHistory, Role, State, step};

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
    let index: HashMap<u64, usize> = kh.ops.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
    let mut used = vec![false; kh.ops.len()];
    let mut state = State::Absent;
    // The op placed so far with the latest call: a later op must not return before it.
    let mut latest_call: Option<usize> = None;
    for &id in order {
        let &i = index.get(&id).ok_or(CertificateError::UnknownOp(id))?;
        let op = &kh.ops[i];
        if std::mem::replace(&mut used[i], true) {
            return Err(CertificateError::Duplicate(id));
        }
        if op.role == Role::Excluded {
            return Err(CertificateError::Excluded(id));
        }
        if let Some(l) = latest_call
            && op.ret < kh.ops[l].call
        {
            return Err(CertificateError::RealTime {
                earlier: kh.ops[l].id,
                later: id,
            });
        }
        if latest_call.is_none_or(|l| kh.ops[l].call < op.call) {
            latest_call = Some(i);
        }
        state = step(state, &op.kind).ok_or(CertificateError::Illegal { op: id, state })?;
    }
    if let Some((i, _)) = kh
        .ops
        .iter()
        .enumerate()
        .find(|(i, o)| o.role == Role::Required && !used[*i])
    {
        return Err(CertificateError::Missing(kh.ops[i].id));
    }
    Ok(())
}
