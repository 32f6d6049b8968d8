//! The linearizability checker for S3 conditional-request histories.
//!
//! ```text
//! History --split by key--> KeyHistory --tier1--> certificate --validate--> Linearizable
//!                                           \--> pattern witness ----------> Anomaly (named)
//!                                           \--> inconclusive --tier2 (WGL)--> Linearizable | NonLinearizable | Unknown
//! ```
//!
//! Entry points: [`check_history`] and [`shrink()`]; witnesses are rendered by [`render`].

pub mod anomaly;
pub mod brute;
pub mod detect;
pub mod model;
pub mod report;
pub mod tier1;
pub mod tier2;
pub mod validate;

pub use anomaly::{Anomaly, AnomalyKind};
pub use report::{
    CheckOptions, CheckReport, KeyReport, KeyVerdict, Tier, Verdict, check_history, check_key,
};
