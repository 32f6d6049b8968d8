//! Checking a campaign as it goes: a thread that checks snapshots of the [`Recording`] while the
//! writers run, so the progress line can show the anomalies found so far.
//!
//! A snapshot is a prefix of the history in which ops still in flight are unanswered
//! ([`super::live`]), so every anomaly it shows is an anomaly of the whole run; the final
//! verdict is still the check of the whole history, made when the drive ends. Checks are
//! spaced by at least twice the time the last one took, so watching costs at most about a
//! third of a core however long the history grows, and each re-checks only the keys that saw
//! a new op ([`PrefixChecker`]). Stopping the watch cancels a search under way, so the final
//! check does not share the core with a snapshot nobody will read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::live::Recording;
use super::prefix_check::PrefixChecker;
use crate::check::{CheckOptions, Verdict, WitnessOptions, witness, witnesses};

/// The least time between two checks.
const EVERY: Duration = Duration::from_millis(250);

/// The most time one check of a snapshot may take: a key the search cannot decide quickly is
/// left to the final check.
const SNAPSHOT_BUDGET: Duration = Duration::from_secs(2);

/// What the checks found so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoFar {
    /// Ops in the last snapshot checked.
    pub ops: usize,
    /// Anomalies it showed.
    pub anomalies: usize,
    /// Their findings, named as the verdict names them: "lost-update on k0 (x2), ...".
    pub names: String,
}

impl SoFar {
    /// For the progress line.
    pub fn line(&self) -> String {
        if self.anomalies == 0 {
            format!("no anomaly in the first {} ops", self.ops)
        } else {
            format!(
                "{} anomalies in the first {} ops: {}",
                self.anomalies, self.ops, self.names
            )
        }
    }
}

/// A running watcher.
pub struct Watch {
    so_far: Arc<Mutex<Option<SoFar>>>,
    stop: Arc<AtomicBool>,
}

impl Watch {
    /// Starts checking snapshots of `recording` with the limits of `check` (threads and time
    /// capped: the writers need the cores more).
    pub fn start(recording: Arc<Recording>, check: CheckOptions) -> Watch {
        let so_far = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let opts = CheckOptions {
            threads: 1,
            time_budget: check.time_budget.min(SNAPSHOT_BUDGET),
            ..check
        };
        let (out, halt) = (so_far.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut checked = 0;
            let mut wait = EVERY;
            let mut prefixes = PrefixChecker::default();
            loop {
                let until = Instant::now() + wait;
                while Instant::now() < until {
                    if halt.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                if recording.returned() == checked {
                    continue;
                }
                let started = Instant::now();
                let snapshot = recording.snapshot();
                checked = recording.returned();
                // Stopping the watch cancels its search: the final check needs the core.
                let report = prefixes.check(&snapshot, &opts, &halt);
                let found = match report.verdict() {
                    Verdict::Anomalous(_) => witnesses(
                        &snapshot,
                        &report,
                        &WitnessOptions {
                            shrink: false,
                            check: opts,
                        },
                    ),
                    _ => Vec::new(),
                };
                let now = SoFar {
                    ops: snapshot.ops.len(),
                    anomalies: report.anomalies().count(),
                    names: witness::names(&found),
                };
                *out.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
                wait = EVERY.max(2 * started.elapsed());
            }
        });
        Watch { so_far, stop }
    }

    /// What the latest check found, if one has finished.
    pub fn so_far(&self) -> Option<SoFar> {
        self.so_far
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A handle that reads what the checks found so far, for another task.
    pub fn reader(&self) -> impl Fn() -> Option<SoFar> + Send + Sync + 'static {
        let so_far = self.so_far.clone();
        move || so_far.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops checking (a search under way is cancelled, the rest of that check finishes in the
    /// background) and returns what was found so far.
    pub fn stop(&self) -> Option<SoFar> {
        self.stop.store(true, Ordering::Relaxed);
        self.so_far()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
