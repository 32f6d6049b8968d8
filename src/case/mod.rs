//! Conformance cases: the YAML format ([`schema`]), loading and checking files ([`load`]), the
//! suite's written policy as checks on a case ([`policy`]: write safety, observed cases),
//! references inside values ([`template`]) and the expectation that applies under a profile
//! ([`expectation`]). Judging answers is runner work (`runner::judge`).

pub mod expectation;
pub mod load;
pub mod policy;
pub mod schema;
pub mod template;

pub use load::{Case, CaseError, LoadError, Suite, parse_case, parse_str};
pub use schema::{CaseFile, Step};
pub use template::{Template, TemplateError, Value};
