//! Stopping a session: on an interrupt, or when the endpoint has stopped answering.
//!
//! A run against a frozen endpoint must not spend `--timeout` on every one of its remaining
//! requests (hundreds of cases, thousands of fuzz operations), and Ctrl-C must stop new requests
//! at once. Every session scoped from one connection shares one [`Halt`]: once it trips, guarded
//! calls are refused before sending. On an interrupt, calls in flight are let finish (each is
//! bounded by the request timeout), so that cleanup's deletes come after them rather than race
//! them; on a stuck endpoint they are abandoned at once (and a write among them is recorded for
//! cleanup: it may have happened), as they are after a second interrupt. Cleanup itself is not
//! guarded.

use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// Why a session stopped sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaltReason {
    /// SIGINT or SIGTERM.
    Interrupted,
    /// The endpoint gave no answer at all for longer than the stall limit.
    Stuck,
}

impl std::fmt::Display for HaltReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HaltReason::Interrupted => "interrupted",
            HaltReason::Stuck => "the endpoint stopped answering",
        })
    }
}

const RUNNING: u8 = 0;
const INTERRUPTED: u8 = 1;
const STUCK: u8 = 2;
const ABANDONED: u8 = 3;

/// The shared stop switch and the stall detector of one connection.
#[derive(Debug)]
pub struct Halt {
    state: AtomicU8,
    tripped: watch::Sender<u8>,
    /// Session nanoseconds of the last response that carried a status.
    last_answer_ns: AtomicU64,
    /// Calls in a row that got no response at all.
    silent: AtomicU32,
    /// No answer for this long (and at least two silent calls in a row) means stuck.
    stall: Duration,
}

impl Halt {
    /// A running switch that declares the endpoint stuck after `stall` without an answer.
    pub fn new(stall: Duration) -> Halt {
        Halt {
            state: AtomicU8::new(RUNNING),
            tripped: watch::Sender::new(RUNNING),
            last_answer_ns: AtomicU64::new(0),
            silent: AtomicU32::new(0),
            stall,
        }
    }

    /// The stall limit for a per-request timeout: two timeouts without any answer.
    pub fn stall_for(operation_timeout: Duration) -> Duration {
        operation_timeout.saturating_mul(2)
    }

    /// Why the session stopped, if it did.
    pub fn reason(&self) -> Option<HaltReason> {
        match self.state.load(Ordering::SeqCst) {
            INTERRUPTED | ABANDONED => Some(HaltReason::Interrupted),
            STUCK => Some(HaltReason::Stuck),
            _ => None,
        }
    }

    /// Stops the session; the first reason wins.
    pub fn trip(&self, reason: HaltReason) {
        let code = match reason {
            HaltReason::Interrupted => INTERRUPTED,
            HaltReason::Stuck => STUCK,
        };
        if self
            .state
            .compare_exchange(RUNNING, code, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            self.tripped.send_replace(code);
        }
    }

    /// Resolves once the switch trips (at once if it already has).
    pub async fn tripped(&self) {
        let mut rx = self.tripped.subscribe();
        let _ = rx.wait_for(|s| *s != RUNNING).await;
    }

    /// A second interrupt: calls in flight are abandoned too.
    pub fn abandon(&self) {
        self.state.store(ABANDONED, Ordering::SeqCst);
        self.tripped.send_replace(ABANDONED);
    }

    /// Resolves once calls in flight should be abandoned: the endpoint was declared stuck, or
    /// a second interrupt came. (A first interrupt lets them finish.)
    pub async fn abandon_in_flight(&self) {
        let mut rx = self.tripped.subscribe();
        if rx
            .wait_for(|s| *s == STUCK || *s == ABANDONED)
            .await
            .is_err()
        {
            std::future::pending::<()>().await;
        }
    }

    /// Notes a call's result at session time `now_ns`: `answered` when any status came back.
    /// Trips [`HaltReason::Stuck`] after two silent calls in a row spanning the stall limit.
    pub fn note(&self, answered: bool, now_ns: u64) {
        if answered {
            self.last_answer_ns.fetch_max(now_ns, Ordering::SeqCst);
            self.silent.store(0, Ordering::SeqCst);
            return;
        }
        let silent = self.silent.fetch_add(1, Ordering::SeqCst) + 1;
        let quiet_ns = now_ns.saturating_sub(self.last_answer_ns.load(Ordering::SeqCst));
        if silent >= 2 && u128::from(quiet_ns) >= self.stall.as_nanos() {
            self.trip(HaltReason::Stuck);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn two_silent_calls_over_the_stall_limit_mean_stuck() {
        let h = Halt::new(Duration::from_secs(4));
        h.note(true, S);
        h.note(false, 3 * S);
        h.note(false, 4 * S);
        assert_eq!(
            h.reason(),
            None,
            "4 s after the last answer is not yet 4 s of silence"
        );
        h.note(false, 5 * S);
        assert_eq!(h.reason(), Some(HaltReason::Stuck));
    }

    #[test]
    fn an_answer_in_between_resets_the_streak() {
        let h = Halt::new(Duration::from_secs(1));
        h.note(false, 10 * S);
        h.note(true, 10 * S);
        h.note(false, 20 * S);
        assert_eq!(h.reason(), None, "one silent call is never enough");
    }

    #[tokio::test]
    async fn the_first_reason_wins_and_waiters_wake() {
        let h = std::sync::Arc::new(Halt::new(Duration::from_secs(1)));
        let w = h.clone();
        let waiter = tokio::spawn(async move { w.tripped().await });
        h.trip(HaltReason::Interrupted);
        h.trip(HaltReason::Stuck);
        waiter.await.unwrap();
        assert_eq!(h.reason(), Some(HaltReason::Interrupted));
    }
}
