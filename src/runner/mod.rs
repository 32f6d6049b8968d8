//! Running cases: one libtest-mimic trial per case ([`harness`]), the steps of one case
//! ([`exec`]), each turned into its request by the module of its kind ([`step`]) and its answer
//! judged against the case's expectation ([`judge`]), with the invariants of its races
//! ([`race`]), and the single sink of results ([`collector`]).

pub mod collector;
pub mod exec;
pub mod harness;
pub mod judge;
pub mod race;
pub mod step;

pub use collector::Collector;
pub use exec::run_case;
pub use harness::{DEFAULT_TEST_THREADS, RunOptions, Selection, run_suite};
