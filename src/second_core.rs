//! One kept thread for the other half of a fork-and-join, instead of a thread started for each.
//!
//! `check` splits its steps in two halves several times in a few tens of milliseconds: the
//! read, the grouping beside the ETag numbering, the key's conversion, Tier 1's graph, order
//! and validation. On a virtual machine a thread started for each half costs more than its
//! start. The guest's scheduler, seeing the process's low recent load, often queues the new
//! thread behind its parent on the busy core instead of on the idle one (measured on this
//! 2-core machine: two 5 ms halves, the second on a thread started for it after 20 ms of
//! quiet, took 10.3 ms, median of 20: one after the other); and an idle virtual core is put to
//! sleep by the host, waking about 2.5 ms later (a thread pinned to the idle core first ran
//! 2.3–5.2 ms after it was started). One thread kept for every second half avoids both: it is
//! started once, and it sleeps on, and wakes on, the core it has.
//!
//! Only one half runs here at a time: a join that finds the thread busy (a join inside a
//! half, or two threads joining at once) starts a thread for its half, as every join did
//! before. Waiting here is sleeping, not spinning: spinning for up to 1 ms or 3 ms before
//! sleeping gave no faster `check` and cost 5 to 9 ms of CPU more (alternated runs).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::Thread;

/// The kept thread takes no half.
const IDLE: u8 = 0;
/// A join has claimed the thread and is handing it a half.
const CLAIMED: u8 = 1;
/// A half is waiting for the thread, or running on it.
const POSTED: u8 = 2;
/// The half has finished (or panicked); the join that posted it takes its end.
const DONE: u8 = 3;

/// A half with its lifetime erased: [`join`] does not return, or unwind, before the half has
/// run, so what it borrows outlives its run.
struct Half(*mut (dyn FnMut() + Send));

// SAFETY: the half is `Send` (its type says so); only the pointer crosses threads, and the join
// that made it waits until the kept thread is done with it.
unsafe impl Send for Half {}

/// The kept thread and what a join hands it.
struct Kept {
    phase: AtomicU8,
    /// The half to run, set while the phase is `CLAIMED`, taken once it is `POSTED`.
    half: Mutex<Option<Half>>,
    /// A panic the half ended with, for the join to raise again.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    /// The join waiting for its half, to wake when it is done.
    joiner: Mutex<Option<Thread>>,
    /// The kept thread, to wake when a half is posted.
    thread: OnceLock<Thread>,
}

/// The process's kept thread, started by the first join that needs it; `None` when it could
/// not be started (every join then starts a thread of its own).
fn kept() -> Option<&'static Kept> {
    static KEPT: OnceLock<Option<&'static Kept>> = OnceLock::new();
    *KEPT.get_or_init(|| {
        let kept: &'static Kept = Box::leak(Box::new(Kept {
            phase: AtomicU8::new(IDLE),
            half: Mutex::new(None),
            panic: Mutex::new(None),
            joiner: Mutex::new(None),
            thread: OnceLock::new(),
        }));
        let handle = std::thread::Builder::new()
            .name("second core".into())
            .spawn(move || run(kept))
            .ok()?;
        let _ = kept.thread.set(handle.thread().clone());
        Some(kept)
    })
}

/// Sleeps until `done` holds (woken by `unpark`; a wake-up meant for something else only
/// costs another look).
fn wait_until(done: impl Fn() -> bool) {
    while !done() {
        std::thread::park();
    }
}

/// The kept thread: runs each half posted to it, for the life of the process.
fn run(kept: &'static Kept) {
    loop {
        wait_until(|| kept.phase.load(Ordering::Acquire) == POSTED);
        let half = lock(&kept.half).take();
        if let Some(Half(f)) = half {
            // SAFETY: the join that posted `f` waits for `DONE` before anything `f` borrows
            // goes out of scope, and nothing else touches `f` meanwhile.
            let f = unsafe { &mut *f };
            if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
                *lock(&kept.panic) = Some(panic);
            }
        }
        let joiner = lock(&kept.joiner).take();
        kept.phase.store(DONE, Ordering::Release);
        if let Some(j) = joiner {
            j.unpark();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `there` on another thread (the kept one when it is free) while `here` runs on this
/// one, and gives both answers; a panic on the other thread is raised again here, as if it had
/// happened on this one.
pub fn join<A, B: Send>(here: impl FnOnce() -> A, there: impl FnOnce() -> B + Send) -> (A, B) {
    let kept = kept().filter(|k| {
        k.phase
            .compare_exchange(IDLE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    });
    let Some(kept) = kept else {
        return std::thread::scope(|s| {
            let later = s.spawn(there);
            let a = here();
            let b = later.join().unwrap_or_else(|panic| resume_unwind(panic));
            (a, b)
        });
    };
    let mut there = Some(there);
    let mut out: Option<B> = None;
    let mut half = || out = there.take().map(|f| f());
    let f: &mut (dyn FnMut() + Send + '_) = &mut half;
    // SAFETY: only the lifetime is erased; this function waits below for the kept thread to
    // finish the half (`DONE`) before `half`, `there` or `out` go out of scope, on the normal
    // path and when `here` panics (caught, then raised again after the wait).
    let f: *mut (dyn FnMut() + Send + 'static) = unsafe { std::mem::transmute(f) };
    *lock(&kept.half) = Some(Half(f));
    *lock(&kept.joiner) = Some(std::thread::current());
    kept.phase.store(POSTED, Ordering::Release);
    if let Some(t) = kept.thread.get() {
        t.unpark();
    }
    let a = catch_unwind(AssertUnwindSafe(here));
    wait_until(|| kept.phase.load(Ordering::Acquire) == DONE);
    let panic = lock(&kept.panic).take();
    kept.phase.store(IDLE, Ordering::Release);
    let a = a.unwrap_or_else(|p| resume_unwind(p));
    if let Some(p) = panic {
        resume_unwind(p);
    }
    let b = out.expect("the kept thread ran the half");
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_halves_run_and_give_their_answers() {
        for n in 0..200u64 {
            let v: Vec<u64> = (0..n).collect();
            let (a, b) = join(
                || v.iter().sum::<u64>(),
                || v.iter().map(|x| x * 2).sum::<u64>(),
            );
            assert_eq!(
                (a, b),
                (n * n.saturating_sub(1) / 2, n * n.saturating_sub(1))
            );
        }
    }

    #[test]
    fn a_join_inside_a_half_runs_on_a_thread_of_its_own() {
        let ((a, b), (c, d)) = join(|| join(|| 1, || 2), || join(|| 3, || 4));
        assert_eq!((a, b, c, d), (1, 2, 3, 4));
    }

    #[test]
    fn joins_from_many_threads_at_once_all_finish() {
        let total: u64 = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8u64)
                .map(|t| {
                    s.spawn(move || {
                        (0..300u64)
                            .map(|i| {
                                let (a, b) = join(|| t + i, || t * i);
                                a + b
                            })
                            .sum::<u64>()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        let expected: u64 = (0..8u64)
            .flat_map(|t| (0..300u64).map(move |i| t + i + t * i))
            .sum();
        assert_eq!(total, expected);
    }

    #[test]
    fn a_panic_in_either_half_reaches_the_caller_and_the_thread_stays_usable() {
        let there = std::panic::catch_unwind(|| join(|| 1, || -> u8 { panic!("there") }));
        assert!(there.is_err());
        let here = std::panic::catch_unwind(|| join(|| -> u8 { panic!("here") }, || 2));
        assert!(here.is_err());
        assert_eq!(join(|| 5, || 6), (5, 6));
    }

    #[test]
    fn a_half_that_borrows_mutably_writes_where_the_caller_sees_it() {
        let mut left = vec![0u32; 1000];
        let mut right = vec![0u32; 1000];
        join(
            || left.iter_mut().for_each(|x| *x = 1),
            || right.iter_mut().for_each(|x| *x = 2),
        );
        assert!(left.iter().all(|&x| x == 1) && right.iter().all(|&x| x == 2));
    }
}
