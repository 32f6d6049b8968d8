//! From a checked history to the witnesses a person reads: one per (anomaly kind, key), each
//! shrunk to a minimal history when asked. `check`, `fuzz` and the endpoint campaigns all go
//! through here, so the same history is always reported with the same findings, grouped the
//! same way.
//!
//! The same bug seen a hundred times on a key is one finding: its first anomaly stands for the
//! group and the others are counted. A shrunk witness is the anomaly the checker finds in the
//! shrunk history on its own (the shrinker guarantees it is true of the original too); when
//! the shrunk history no longer shows it, the original witness is kept.

use std::time::Duration;

use super::anomaly::{Anomaly, AnomalyKind};
use super::report::{CheckOptions, CheckReport, check_history};
use super::shrink::{Work, shrink_within};
use crate::history::History;

/// How witnesses are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WitnessOptions {
    /// Shrink each witness to a minimal history showing the same anomaly.
    pub shrink: bool,
    /// Limits of the checks the shrinker runs; its time budget is capped at
    /// [`SHRINK_BUDGET`] per witness.
    pub check: CheckOptions,
}

/// The most time one witness may spend shrinking: a witness that is not minimal yet is still
/// true, so a long shrink is not worth delaying the verdict's evidence for.
pub const SHRINK_BUDGET: Duration = Duration::from_secs(30);

/// One finding: the anomalies of one kind on one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Witness {
    pub kind: AnomalyKind,
    pub key: String,
    /// How many anomalies of this kind the history shows on this key.
    pub count: usize,
    /// The first of them, in the checked history.
    pub anomaly: Anomaly,
    /// The witness in a minimal history, when shrinking was asked for and kept the anomaly.
    pub shrunk: Option<Shrunk>,
}

/// A witness in a shrunk history.
#[derive(Debug, Clone, PartialEq)]
pub struct Shrunk {
    /// The shrunk history: a subset of the original's ops.
    pub history: History,
    /// The anomaly the checker finds in `history` by itself.
    pub anomaly: Anomaly,
    /// False when the shrinker's budget ran out first: the witness is true, and a smaller
    /// history may show it too.
    pub minimal: bool,
}

impl Witness {
    /// The history and anomaly to show: the shrunk ones when there are, else the original's.
    pub fn shown<'a>(&'a self, original: &'a History) -> (&'a History, &'a Anomaly) {
        match &self.shrunk {
            Some(s) => (&s.history, &s.anomaly),
            None => (original, &self.anomaly),
        }
    }

    /// "kind on key", with "(xN)" when the key showed it N > 1 times.
    pub fn name(&self) -> String {
        if self.count > 1 {
            format!("{} on {} (x{})", self.kind, self.key, self.count)
        } else {
            format!("{} on {}", self.kind, self.key)
        }
    }
}

/// Groups the report's anomalies per (kind, key) in the order they were found, and shrinks
/// each group's first anomaly when `opts.shrink` is set.
pub fn witnesses(history: &History, report: &CheckReport, opts: &WitnessOptions) -> Vec<Witness> {
    let mut found: Vec<Witness> = Vec::new();
    for a in report.anomalies() {
        match found
            .iter_mut()
            .find(|w| w.kind == a.kind && w.key == a.key)
        {
            Some(w) => w.count += 1,
            None => found.push(Witness {
                kind: a.kind,
                key: a.key.clone(),
                count: 1,
                anomaly: a.clone(),
                shrunk: None,
            }),
        }
    }
    if opts.shrink {
        let check = CheckOptions {
            time_budget: opts.check.time_budget.min(SHRINK_BUDGET),
            ..opts.check
        };
        // One budget for delta debugging across the findings, in the order found, so a
        // history with many findings that only delta debugging shrinks still gets its
        // verdict promptly.
        let mut work = Work::default();
        for w in &mut found {
            w.shrunk = shrunk(history, &w.anomaly, &check, &mut work);
        }
    }
    found
}

/// The witnesses' names joined for one line: "lost-update on k (x3), stale-read on k".
pub fn names(witnesses: &[Witness]) -> String {
    witnesses
        .iter()
        .map(Witness::name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn shrunk(
    history: &History,
    anomaly: &Anomaly,
    opts: &CheckOptions,
    work: &mut Work,
) -> Option<Shrunk> {
    let shrinking = shrink_within(history, anomaly, opts, work);
    let small = shrinking.history;
    let again = check_history(&small, opts);
    let found = again
        .anomalies()
        .find(|a| a.kind == anomaly.kind && a.key == anomaly.key)
        .cloned()?;
    Some(Shrunk {
        history: small,
        anomaly: found,
        minimal: shrinking.complete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::read_history;

    fn bad(name: &str) -> History {
        let path = format!(
            "{}/tests/histories/bad/{name}.jsonl",
            env!("CARGO_MANIFEST_DIR")
        );
        read_history(std::path::Path::new(&path)).expect("a committed history")
    }

    fn opts(shrink: bool) -> WitnessOptions {
        WitnessOptions {
            shrink,
            check: CheckOptions::default(),
        }
    }

    #[test]
    fn one_witness_per_kind_and_key_counting_the_rest() {
        let history = bad("double-create--two-creates-succeed");
        let mut report = check_history(&history, &CheckOptions::default());
        let key = report.keys[0].anomalies[0].clone();
        let mut other_key = key.clone();
        other_key.key = "elsewhere".into();
        report.keys[0].anomalies.push(key.clone());
        report.keys[0].anomalies.push(other_key);
        let found = witnesses(&history, &report, &opts(false));
        let names: Vec<String> = found.iter().map(Witness::name).collect();
        assert_eq!(
            names,
            [
                format!("double-create on {} (x2)", key.key),
                "double-create on elsewhere".to_string()
            ]
        );
        assert!(found.iter().all(|w| w.shrunk.is_none()));
    }

    #[test]
    fn a_shrunk_witness_is_smaller_and_shown_instead_of_the_original() {
        let history = bad("garbage-read--on-a-key-with-a-copy");
        let report = check_history(&history, &CheckOptions::default());
        let found = witnesses(&history, &report, &opts(true));
        assert_eq!(found.len(), 1);
        let small = found[0].shrunk.as_ref().expect("shrunk");
        assert!(small.history.ops.len() < history.ops.len());
        let (shown, anomaly) = found[0].shown(&history);
        assert_eq!(shown.ops.len(), small.history.ops.len());
        assert_eq!(anomaly.kind, AnomalyKind::GarbageRead);
    }
}
