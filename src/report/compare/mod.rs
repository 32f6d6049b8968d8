//! `compare`: several run reports read back into one vendor x case matrix.
//!
//! [`matrix::build`] does all the judging (what each cell says, how endpoints are named); the
//! renderers only lay it out: [`table`] for the terminal, [`markdown`], [`html`] (one
//! self-contained page with the evidence behind every cell), and the matrix's own JSON.

pub mod html;
pub mod markdown;
pub mod matrix;
pub mod table;

pub use matrix::{Cell, CellKind, Endpoint, EndpointSummary, Matrix, Row, build};
