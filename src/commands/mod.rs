//! Subcommand implementations; the CLI in `main.rs` parses arguments and calls `run`.

pub mod bench;
pub mod check;
