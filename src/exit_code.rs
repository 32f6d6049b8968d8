//! The process exit codes of every subcommand, in one place so scripts can rely on them.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | everything passed; the history is linearizable |
//! | 1 | a case failed, or an anomaly was found |
//! | 2 | a usage, configuration or setup error (bad flags, bad YAML, endpoint down) |
//! | 3 | the checker ran out of budget (Unknown) and found no anomaly |
//! | 4 | nothing was selected (a filter matched no case) |
//! | 130 | interrupted (SIGINT or SIGTERM); cleanup ran unless abandoned |

/// Everything passed.
pub const SUCCESS: u8 = 0;
/// A conformance case failed, or the checker found an anomaly.
pub const FAILURE: u8 = 1;
/// Usage, configuration or setup error; also "not built yet" subcommands.
pub const SETUP_ERROR: u8 = 2;
/// The checker's budget ran out before a verdict, and no anomaly was found.
pub const UNKNOWN: u8 = 3;
/// A filter matched no case.
pub const NOTHING_SELECTED: u8 = 4;
/// Stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;
