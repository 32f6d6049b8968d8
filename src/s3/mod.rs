//! The operation layer: the only code that talks to S3.
//!
//! A [`Request`] (operation, key, preconditions, raw headers, body) goes through a [`Session`]
//! and comes back as an [`Observation`] (raw status, error code, ETag, Last-Modified, body
//! digest, call and return instants, ambiguity). Cases and the fuzzer both use it.

mod call;
mod claim;
pub mod guard;
pub mod halt;
pub mod key;
pub mod marker;
pub mod observation;
pub mod request;
pub mod session;
pub mod sweep;
pub mod target;

pub use halt::{Halt, HaltReason};
pub use key::{Key, KeyError, RunPrefix};
pub use observation::{
    AmbiguityCause, BodyDigest, DeleteResults, Observation, Outcome, normalize_etag,
};
pub use request::{
    CompletedPart, DeleteTarget, HttpDate, Operation, Preconditions, RawHeader, RawHeaderError,
    Request, WriteConditions,
};
pub use session::{CallError, CleanupReport, Session, SetupError};
pub use sweep::{SweepOptions, SweepReport};
pub use target::{EndpointError, EndpointUrl, StaticKeys, Target, Timeouts, http_client};
