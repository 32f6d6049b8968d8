//! The fuzzer: seeded concurrent writer schedules, driven through the operation layer, recorded
//! as a history for the linearizability checker.
//!
//! ```text
//! seed / fuzzer bytes --Schedule--> drive (N writers, tokio) --> History --check--> verdict
//! ```

pub mod driver;
pub mod live;
pub mod prefix_check;
pub mod schedule;
pub mod watch;

pub use driver::{Counters, DriveError, DriveLimits, WRITE_ID_META, drive, drive_recorded};
pub use live::Recording;
pub use prefix_check::PrefixChecker;
pub use schedule::{
    Action, Mix, MixError, Program, ReadCondition, ReadKind, Schedule, WriteCondition,
};
pub use watch::{SoFar, Watch};
