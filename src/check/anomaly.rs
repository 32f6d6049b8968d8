//! Named anomalies: what the checker reports when a history is wrong.

use std::fmt;

use serde::{Deserialize, Serialize};

listed_enum! {
    /// The kind of an anomaly, with a stable kebab-case name for the terminal and JSON.
    /// Declaration order is report order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum AnomalyKind {
        /// Two conditional writes (or deletes) succeeded against the same `If-Match` version.
        LostUpdate,
        /// Two `If-None-Match: *` creates succeeded with no delete that could separate them.
        DoubleCreate,
        /// A read saw a version older than one a completed op had already exposed.
        StaleRead,
        /// A client's read saw a version older than one its own earlier read saw.
        NonMonotonicRead,
        /// 304 Not Modified for an ETag that was not current.
        #[serde(rename = "phantom-304")]
        Phantom304,
        /// 412 although the precondition definitely held.
        #[serde(rename = "phantom-412")]
        Phantom412,
        /// 404 although the object definitely existed.
        #[serde(rename = "phantom-404")]
        Phantom404,
        /// A conditional write or delete succeeded although its precondition definitely failed.
        IgnoredPrecondition,
        /// A read returned an ETag / write id pair that no write produced.
        GarbageRead,
        /// A read saw a version after a completed delete (or 404) had definitely removed it.
        Resurrection,
        /// An acknowledged write was never seen, and later reads show an older state.
        LostAcknowledgedWrite,
        /// 409 ConditionalRequestConflict with no other write or delete overlapping in time.
        #[serde(rename = "spurious-409")]
        Spurious409,
        /// Two successful writes with different content got the same ETag.
        DuplicateEtag,
        /// Not linearizable, and none of the named patterns explains it (Tier 2's verdict).
        NonLinearizable,
    }
}

impl AnomalyKind {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            AnomalyKind::LostUpdate => "lost-update",
            AnomalyKind::DoubleCreate => "double-create",
            AnomalyKind::StaleRead => "stale-read",
            AnomalyKind::NonMonotonicRead => "non-monotonic-read",
            AnomalyKind::Phantom304 => "phantom-304",
            AnomalyKind::Phantom412 => "phantom-412",
            AnomalyKind::Phantom404 => "phantom-404",
            AnomalyKind::IgnoredPrecondition => "ignored-precondition",
            AnomalyKind::GarbageRead => "garbage-read",
            AnomalyKind::Resurrection => "resurrection",
            AnomalyKind::LostAcknowledgedWrite => "lost-acknowledged-write",
            AnomalyKind::Spurious409 => "spurious-409",
            AnomalyKind::DuplicateEtag => "duplicate-etag",
            AnomalyKind::NonLinearizable => "non-linearizable",
        }
    }

    /// Parses a kebab-case name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// True for the kinds that are not linearizability violations of the register model but
    /// protocol violations checked beside it (a 409 is no state change; duplicate ETags break
    /// the checker's assumption rather than the model).
    pub fn is_protocol(self) -> bool {
        matches!(self, AnomalyKind::Spurious409 | AnomalyKind::DuplicateEtag)
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One anomaly with its witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub key: String,
    /// The witness ops, by id. The explanation calls them A, B, C, ... in this order.
    pub ops: Vec<u64>,
    /// Elle-style reasoning, one step per line, referring to the ops as A, B, C, ...
    pub explanation: String,
}

impl Anomaly {
    /// The witness ops whose answers the anomaly convicts, by id: the last op for the kinds
    /// that convict one request (a read that saw a stale or phantom state, a write or delete
    /// that ignored or wrongly failed its precondition, a 409 or a garbage read); both winners
    /// of a lost update (not the write that produced the version they both matched); every op
    /// for the kinds where the blame cannot be pinned on one of them (two creates that both
    /// won, two writes sharing an ETag, a lost acknowledged write and whoever saw past it);
    /// none for a search verdict, whose op is where the search got stuck, not who is wrong.
    /// `certify` narrows a promise about one operation to anomalies whose convicted ops are all
    /// of that operation, so naming more ops than are guilty only makes it more cautious, and
    /// naming none keeps every narrowed promise out of it. The positions follow the detectors'
    /// witness order.
    pub fn blamed(&self) -> &[u64] {
        match self.kind {
            AnomalyKind::LostUpdate => self.ops.get(1..).unwrap_or(&[]),
            AnomalyKind::DoubleCreate
            | AnomalyKind::DuplicateEtag
            | AnomalyKind::LostAcknowledgedWrite => &self.ops,
            AnomalyKind::NonLinearizable => &[],
            _ => self.ops.last().map_or(&[], std::slice::from_ref),
        }
    }
}
