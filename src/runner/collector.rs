//! The one place every case result goes. Trials run on libtest-mimic's threads and each pushes
//! its [`CaseReport`] here; the run's [`RunReport`] is assembled from it once all have finished,
//! so every output (terminal, JSON, JUnit, Markdown, baseline) renders the same record.

use std::sync::{Arc, Mutex};

use crate::profile::Profile;
use crate::report::{CaseReport, EndpointInfo, RunReport, model};

/// A thread-safe sink of case reports.
#[derive(Debug, Clone, Default)]
pub struct Collector(Arc<Mutex<Vec<CaseReport>>>);

impl Collector {
    /// Adds one result.
    pub fn push(&self, report: CaseReport) {
        // A poisoned lock means a trial panicked mid-push; keep what is there.
        let mut v = match self.0.lock() {
            Ok(v) => v,
            Err(p) => p.into_inner(),
        };
        v.push(report);
    }

    /// Every result so far, sorted by name.
    pub fn take(&self) -> Vec<CaseReport> {
        let mut v = match self.0.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// The run report.
    pub fn finish(
        &self,
        endpoint: EndpointInfo,
        profile: Profile,
        started_at: String,
        duration_ms: u64,
    ) -> RunReport {
        RunReport {
            format: model::FORMAT.to_owned(),
            format_version: model::FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at,
            duration_ms,
            endpoint,
            profile,
            cases: self.take(),
            fuzz: Vec::new(),
            location: None,
        }
    }
}
