//! The fuzzer: seeded concurrent writer schedules, driven through the operation layer, recorded
//! as a history for the linearizability checker.
//!
//! ```text
//! seed / fuzzer bytes --Schedule--> drive (N writers, tokio) --> History --check--> verdict
//! ```

pub mod driver;
pub mod schedule;

pub use driver::{Counters, DriveError, DriveLimits, WRITE_ID_META, drive};
pub use schedule::{
    Action, Mix, MixError, Program, ReadCondition, ReadKind, Schedule, WriteCondition,
};
