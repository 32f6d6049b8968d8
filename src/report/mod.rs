//! Reports: the run record and every rendering of it.
//!
//! One [`RunReport`] feeds every sink, as nextest's reporter fans one event stream out to its
//! displayer and aggregators: [`terminal`], [`json`], [`junit`], [`markdown`]. The [`baseline`]
//! gate marks known divergences on the record before it is rendered, and [`compare`] reads
//! several records back into a vendor x case matrix.

pub mod baseline;
pub mod compare;
pub mod errors;
pub mod files;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod sinks;
pub mod terminal;
pub mod text;

pub use errors::ReportError;
pub use model::{
    BaselineMark, CaseReport, Counts, EndpointInfo, FuzzAnomaly, FuzzSummary, Mismatch,
    ObservedValue, RunReport, StepRecord, Verdict,
};
