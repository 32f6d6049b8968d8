//! One module per subcommand: clap arguments and a `run` that returns the exit code.

pub mod bench;
pub mod certify;
pub mod check;
pub mod clean;
pub mod compare;
pub mod fuzz;
pub mod interrupt;
pub mod list;
pub mod run;
pub mod serve;
pub mod target;
