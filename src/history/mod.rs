//! The recorded history of a fuzz run: the versioned JSON Lines format, its reader and writer.
//!
//! See [`mod@format`] for the specification of every field; [`io`] reads and writes it as a stream
//! and validates what it reads.

mod blocks;
pub mod compact;
mod fast;
pub mod format;
pub mod io;
pub mod view;

pub use compact::CompactHistory;
pub use format::{
    FORMAT_NAME, FORMAT_VERSION, Header, History, OLDEST_READABLE_VERSION, Op, Out, Req, Via,
    normalize_etag,
};
pub use io::{
    HistoryError, HistoryReader, HistoryWriter, UnvalidatedCompact, parse_history, read_compact,
    read_compact_unvalidated, read_history, validate, write_history,
};
