//! A brute-force linearizability checker for tiny histories: every subset of the ambiguous
//! ops, every order respecting real time. Exponential and obviously correct; the tests use it
//! as the oracle the two real tiers must agree with.

use super::model::{KeyHistory, Role, State, step};

/// The largest history (in non-excluded ops) the brute force accepts.
pub const MAX_BRUTE_OPS: usize = 12;

/// `Ok(Some(order))` (op ids) if linearizable, `Ok(None)` if not, `Err` if too big to try.
pub fn brute_force(kh: &KeyHistory) -> Result<Option<Vec<u64>>, usize> {
    let active: Vec<usize> = (0..kh.ops.len())
        .filter(|&i| kh.ops[i].role != Role::Excluded)
        .collect();
    if active.len() > MAX_BRUTE_OPS {
        return Err(active.len());
    }
    let optional: Vec<usize> = active
        .iter()
        .copied()
        .filter(|&i| kh.ops[i].role == Role::Optional)
        .collect();
    for mask in 0u32..(1u32 << optional.len()) {
        let included: Vec<usize> = active
            .iter()
            .copied()
            .filter(|i| match optional.iter().position(|o| o == i) {
                Some(bit) => mask & (1 << bit) != 0,
                None => true,
            })
            .collect();
        let mut placed = vec![false; included.len()];
        let mut order = Vec::new();
        if permute(kh, &included, &mut placed, &mut order, State::Absent) {
            return Ok(Some(order.iter().map(|&i| kh.ops[i].id).collect()));
        }
    }
    Ok(None)
}

fn permute(
    kh: &KeyHistory,
    inc: &[usize],
    placed: &mut [bool],
    order: &mut Vec<usize>,
    state: State,
) -> bool {
    if order.len() == inc.len() {
        return true;
    }
    for x in 0..inc.len() {
        if placed[x] {
            continue;
        }
        let op = &kh.ops[inc[x]];
        // x may go next only if no other unplaced op had to come before it.
        let blocked = (0..inc.len()).any(|y| y != x && !placed[y] && kh.ops[inc[y]].ret < op.call);
        if blocked {
            continue;
        }
        if let Some(next) = step(state, &op.kind) {
            placed[x] = true;
            order.push(inc[x]);
            if permute(kh, inc, placed, order, next) {
                return true;
            }
            order.pop();
            placed[x] = false;
        }
    }
    false
}
