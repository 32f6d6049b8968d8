//! The number of cores this process may use, asked of the system once.
//!
//! `std::thread::available_parallelism` reads the process's cgroup files each time it is asked
//! (three files opened, about 35 µs here); `check` asked four times before it read its first
//! op, twice only to build the command line's defaults.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

/// The cores available to this process, or `None` when the system does not say.
pub fn available() -> Option<NonZeroUsize> {
    static CORES: OnceLock<Option<NonZeroUsize>> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().ok())
}
