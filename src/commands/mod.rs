//! One module per subcommand.

pub mod compare;
pub mod serve;
pub mod target;
