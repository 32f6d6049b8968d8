//! s3conform: a conformance suite and linearizability fuzzer for S3 conditional requests.
//!
//! ```text
//! cases/**/*.yaml --load--> Case --plan--> Trial --call--> Observation --judge(profile)--> Verdict --+
//! seed/bytes --generate--> Schedule --drive--> History --check--> Linearizable | Anomaly + witness -+--> Report
//! reports/*.json --compare--> vendor x case matrix <------------------------------------------------+
//! embedded reference endpoint (in-memory, exact semantics, optional faults): the default target
//! ```
//!
//! Only [`s3`] talks to an S3 endpoint; cases and the fuzzer both go through it.

#[macro_use]
mod listed;

pub mod alloc;
pub mod bench;
pub mod campaign;
pub mod case;
pub mod certify;
pub mod check;
pub mod cli;
pub mod commands;
pub mod cores;
pub mod duration;
pub mod embedded;
pub mod error;
pub mod etag;
pub mod exit_code;
pub mod fuzz;
pub mod history;
pub mod html;
pub mod profile;
pub mod report;
pub mod runner;
pub mod s3;
pub mod second_core;
pub mod server;
