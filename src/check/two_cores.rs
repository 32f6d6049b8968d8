//! One key's work on two cores: when a history has fewer keys than cores, a large key's own
//! steps (converting it, Tier 1's graph and first order, validating that order) are split in
//! two halves, each giving exactly the one-thread result.

/// Keys with fewer ops do each step on one thread. Not tuned: the steps cost about 80 (the
/// conversion) to 200 (Tier 1) nanoseconds an op, so a split moves at least a millisecond or a
/// few hundred microseconds to the other core, against some tens of microseconds to wake the
/// kept second thread (or start one); and smaller keys are rarely alone on a machine.
pub(super) const SPLIT_MIN: usize = 1 << 14;

/// Runs `there` on a second thread while `here` runs on this one, and gives both answers; a
/// panic on the second thread is raised again here, as if it had happened on this one. The
/// second thread is the process's kept one when it is free ([`crate::second_core`]).
pub(super) use crate::second_core::join;
