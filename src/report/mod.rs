//! Reports: the run record and every rendering of it.
//!
//! One [`RunReport`] feeds every sink, as nextest's reporter fans one event stream out to its
//! displayer and aggregators: [`terminal`], [`json`], [`junit`], [`markdown`]. The [`baseline`]
//! gate marks known divergences on the record before it is rendered and decides the exit code,
//! and [`compare`] reads several records back into a vendor x case matrix.
//!
//! `run` needs one call: flatten [`sinks::ReportArgs`] into its flags, load the baseline early
//! with [`sinks::ReportArgs::load_baseline`], and hand the finished report to [`sinks::finish`].
//! Wording shared by the sinks lives in [`text`]; every file error names its file
//! ([`ReportError`]).
//! Files a command keeps without being asked go into a new [`outdir`] folder.

pub mod baseline;
pub mod compare;
pub mod errors;
pub mod files;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod outdir;
pub mod sinks;
pub mod terminal;
pub mod text;

pub use errors::ReportError;
pub use model::{
    BaselineMark, CaseReport, Counts, EndpointInfo, FuzzAnomaly, FuzzSummary, Mismatch,
    ObservedValue, RunLocation, RunReport, StepRecord, Verdict,
};
