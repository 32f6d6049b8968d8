//! Reports: the run record and every rendering of it.

pub mod model;

pub use model::{
    BaselineMark, CaseReport, Counts, EndpointInfo, FuzzAnomaly, FuzzSummary, Mismatch,
    ObservedValue, RunReport, StepRecord, Verdict,
};
