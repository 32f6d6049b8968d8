//! `s3conform certify`: one command that runs the suite and a level's fuzz campaigns against an
//! endpoint and judges every documented promise of a profile's vendor documents, with evidence.
//!
//! ```text
//! requirements/<profile>.yaml --requirements--> Requirements --resolve(suite)--> Resolved
//! suite + campaigns --engine--> Evidence (evidence.json, SHA-256)
//! Evidence + Requirements --verdict--> Certificate --> certificate.json / .md / .html, badge.svg
//! certificate.json + evidence.json --verify--> verified | tampered (what differs)
//! certificate.json... --summary--> one Markdown table (the README's)
//! ```

pub mod badge;
pub mod engine;
pub mod evidence;
pub mod exchange;
pub mod identity;
pub mod levels;
pub mod model;
pub mod refutation;
pub mod render_html;
pub mod render_markdown;
pub mod requirements;
pub mod summary;
pub mod verdict;
pub mod verify;
