//! The linearizability checker for S3 conditional-request histories (docs/checker.md).
//!
//! ```text
//! History --convert (split by key; a copy reads its source)--> KeyHistory --tier1 (version graph)--> order --validate--> Linearizable
//!                                          |                                   (certificate)
//!                                          +--> pattern detectors --> named Anomaly + witness
//!                                          +--> neither --tier2 (WGL search)--> Linearizable (validated)
//!                                                                          | NonLinearizable
//!                                                                          | Unknown (budget)
//! ```
//!
//! Keys are independent (P-compositionality) and are checked in parallel. Every verdict is
//! backed by evidence: "linearizable" by a total order that [`validate::validate_certificate`]
//! replays independently, an anomaly by a witness whose soundness argument is in
//! [`detect`], "unknown" only when a budget ran out. Protocol findings (spurious 409,
//! duplicate ETags) are reported beside the linearizability verdict.
//!
//! What `check` and `fuzz` call:
//!
//! ```no_run
//! use s3conform::check::{check_history, render, witnesses, CheckOptions, Verdict, WitnessOptions};
//! # let history = s3conform::history::History::default();
//! let opts = CheckOptions::default();
//! let report = check_history(&history, &opts);
//! print!("{}", render::notes(&report));
//! match report.verdict() {
//!     Verdict::Linearizable => {}
//!     Verdict::Anomalous(_) => {
//!         // One witness per (kind, key), each shrunk to a minimal history.
//!         let shown = WitnessOptions { shrink: true, check: opts };
//!         for w in witnesses(&history, &report, &shown) {
//!             println!("{}", render::witness(&history, &w));
//!         }
//!     }
//!     Verdict::Unknown { reason } => println!("unknown: {reason}"),
//! }
//! ```

pub mod anomaly;
pub mod brute;
pub mod convert;
pub mod detect;
mod etag_ids;
pub mod evidence;
pub mod model;
pub mod render;
pub mod report;
pub mod shrink;
#[cfg(test)]
mod test_corpus;
pub mod tier1;
pub mod tier2;
mod two_cores;
pub mod validate;
pub mod window;
pub mod witness;

pub use anomaly::{Anomaly, AnomalyKind};
pub use report::{
    CheckOptions, CheckReport, ConformanceNote, KeyReport, KeyVerdict, Tier, Verdict,
    check_history, check_key, check_ops, check_ops_until, check_ops_validated,
};
pub use shrink::shrink;
pub use witness::{Shrunk, Witness, WitnessOptions, witnesses};
