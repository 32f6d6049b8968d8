//! Ctrl-C and SIGTERM during `run` and `fuzz`, and what a stopped run says it left behind.
//!
//! The first signal trips the session's [`Halt`]: no new request is sent, requests in flight
//! finish (each within the request timeout), and the command cleans up within its bound. A
//! second signal abandons requests in flight and the cleanup. Either way the command exits 130 and prints the run
//! prefix, so `s3conform clean --prefix` can find what remains.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::target::Connected;
use crate::exit_code;
use crate::s3::{CleanupReport, Halt, HaltReason};

/// A running signal watcher; dropping it stops watching.
#[derive(Debug)]
pub struct Interrupts {
    second: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Interrupts {
    /// Watches for SIGINT/SIGTERM on `rt`: the first trips `halt`, the second makes
    /// [`Interrupts::abandoned`] resolve. `prefix` and `bound` are for the message.
    pub fn watch(
        rt: &tokio::runtime::Handle,
        halt: Arc<Halt>,
        prefix: String,
        bound: Duration,
    ) -> Interrupts {
        let (tx, second) = watch::channel(false);
        // Registered before returning, so a signal that comes right after is caught (and does
        // not kill the process with nothing cleaned).
        let signals = {
            let _entered = rt.enter();
            Signals::new()
        };
        let task = rt.spawn(async move {
            let Ok(mut signals) = signals else {
                return;
            };
            signals.next().await;
            halt.trip(HaltReason::Interrupted);
            eprintln!(
                "\ninterrupted: sending no new requests; cleaning up {prefix} (requests in flight \
                 finish within the timeout, cleanup takes at most {} s; press Ctrl-C again to \
                 abandon)",
                bound.as_secs()
            );
            signals.next().await;
            eprintln!("\ninterrupted again: abandoning requests in flight and the cleanup");
            halt.abandon();
            let _ = tx.send(true);
        });
        Interrupts { second, task }
    }

    /// Resolves when a second signal asks to abandon the cleanup.
    pub async fn abandoned(&self) {
        let mut rx = self.second.clone();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Ends a connected run: cleans up (unless `keep`) and stops the embedded endpoint, or gives
    /// up when a second signal abandons the cleanup (`None`).
    pub async fn finish(&self, connected: Connected, keep: bool) -> Option<CleanupReport> {
        tokio::select! {
            c = connected.finish(keep) => Some(c),
            () = self.abandoned() => None,
        }
    }
}

/// SIGINT and SIGTERM as one stream.
struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    /// Registers the handlers; must run inside the runtime.
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// How many cleanup failures a message names; the rest are counted.
const SHOWN_FAILURES: usize = 5;

/// What the run did with its objects, for the last lines a stopped or incomplete run prints.
#[derive(Debug, Clone, Copy)]
pub enum Cleanup<'a> {
    /// `--keep`: nothing was deleted on purpose.
    Kept,
    /// A second signal abandoned the cleanup.
    Abandoned,
    /// Cleanup ran (possibly not to the end).
    Done(&'a CleanupReport),
}

impl<'a> Cleanup<'a> {
    /// What [`Interrupts::finish`] did, seen with `--keep`.
    pub fn of(finished: Option<&'a CleanupReport>, keep: bool) -> Cleanup<'a> {
        match (finished, keep) {
            (_, true) => Cleanup::Kept,
            (Some(c), false) => Cleanup::Done(c),
            (None, false) => Cleanup::Abandoned,
        }
    }
}

/// A line saying what remains under `prefix` and how to remove it, or `None` when cleanup
/// removed everything.
pub fn left_behind(cleanup: Cleanup<'_>, prefix: &str) -> Option<String> {
    let how = format!("remove them with `s3conform clean --prefix {prefix}`");
    match cleanup {
        Cleanup::Kept => Some(format!(
            "objects of this run were kept under {prefix}; {how}"
        )),
        Cleanup::Abandoned => Some(format!(
            "cleanup abandoned: objects of this run may remain under {prefix}; {how}"
        )),
        Cleanup::Done(r) if r.left_something() => {
            let mut parts = Vec::new();
            if r.unfinished > 0 {
                parts.push(format!(
                    "{} not reached before the cleanup bound",
                    r.unfinished
                ));
            }
            if !r.failures.is_empty() {
                let shown: Vec<&str> = r
                    .failures
                    .iter()
                    .take(SHOWN_FAILURES)
                    .map(String::as_str)
                    .collect();
                let more = r.failures.len().saturating_sub(SHOWN_FAILURES);
                let more = if more > 0 {
                    format!("; and {more} more")
                } else {
                    String::new()
                };
                parts.push(format!(
                    "{} could not be removed ({}{more})",
                    r.failures.len(),
                    shown.join("; ")
                ));
            }
            Some(format!(
                "left behind under {prefix}: {}; {how}",
                parts.join(", ")
            ))
        }
        Cleanup::Done(_) => None,
    }
}

/// Prints why the run stopped and what it left, and returns the exit code: 130 for an
/// interrupt, 2 for an endpoint that stopped answering.
pub fn report_stop(
    reason: HaltReason,
    cleanup: Cleanup<'_>,
    prefix: &str,
    timeout: Duration,
) -> u8 {
    match reason {
        HaltReason::Interrupted => eprintln!("s3conform: interrupted; no verdict"),
        HaltReason::Stuck => eprintln!(
            "s3conform: error: the endpoint stopped answering (no response for {} s, twice the \
             --timeout of {} s); no verdict",
            Halt::stall_for(timeout).as_secs(),
            timeout.as_secs()
        ),
    }
    match left_behind(cleanup, prefix) {
        Some(line) => eprintln!("s3conform: {line}"),
        None => eprintln!("s3conform: cleanup removed everything this run wrote under {prefix}"),
    }
    exit_code::of_halt(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_remains_is_named_with_the_clean_command() {
        let p = "s3conform/r1/";
        assert_eq!(
            left_behind(Cleanup::Done(&CleanupReport::default()), p),
            None
        );
        let r = CleanupReport {
            unfinished: 3,
            ..CleanupReport::default()
        };
        let line = left_behind(Cleanup::Done(&r), p).unwrap();
        assert!(line.contains("3 not reached"), "{line}");
        assert!(
            line.contains("s3conform clean --prefix s3conform/r1/"),
            "{line}"
        );
        assert!(
            left_behind(Cleanup::Abandoned, p)
                .unwrap()
                .contains("abandoned")
        );
        assert!(left_behind(Cleanup::Kept, p).unwrap().contains("kept"));
    }
}
