//! Synthetic histories and the checker benchmark.

pub mod generate;

pub use generate::{Bug, GenConfig, generate, generate_arbitrary, generate_seeded};
