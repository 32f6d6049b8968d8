//! Helpers shared by the integration tests.

pub mod binary;
pub mod cases;
pub mod endpoints;
pub mod freeze;
pub mod oracle;
pub mod reference;
pub mod reports;

/// Tests whose verdict rests on timing take turns across the whole binary: race measurements
/// (fuzz campaigns, the suite against a third-party server), where two sharing 2 cores would
/// measure each other and overlap every operation so that no 409 could be called spurious, and
/// the wall-clock bounds of a frozen endpoint, which a campaign beside them would stretch.
pub static TIMED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
