//! Injectable faults: each one is a distinct, realistic bug that the suite or the fuzzer must catch.
//!
//! A fault-free reference endpoint proves nothing about the tool's power to find bugs. Each fault
//! here breaks exactly one rule of docs/semantics.md, the way real servers have broken it (the
//! probe in docs/endpoints.md found most of them in the wild), so a test can show that a specific
//! case or anomaly turns red when, and only when, that rule is broken.
//!
//! Faults that fire "some of the time" are deterministic (every Nth eligible request, counted
//! per server), so a test can predict exactly which request is hit.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Every Nth conditional write that would succeed is answered 409 by [`Fault::Spurious409`].
pub const SPURIOUS_409_PERIOD: u64 = 5;
/// Every Nth successful write is answered 500 by [`Fault::WriteThen500`].
pub const WRITE_THEN_500_PERIOD: u64 = 4;
/// Every Nth successful write loses its connection under [`Fault::WriteThenReset`].
pub const WRITE_THEN_RESET_PERIOD: u64 = 4;
/// How long [`Fault::StaleRead`] keeps serving the previous version after a write.
pub const STALE_READ_WINDOW: Duration = Duration::from_millis(100);
/// How long [`Fault::NonAtomicCreate`] waits between its check and its write.
pub const NON_ATOMIC_CREATE_GAP: Duration = Duration::from_millis(20);

listed_enum! {
    /// One injectable bug. Names are kebab-case on the command line (`serve --fault NAME`).
    /// Declaration order is documentation order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Fault {
        /// PutObject ignores `If-Match` entirely: a compare-and-swap becomes a blind write
        /// (lost update; a mismatch answers 200 instead of 412, a missing key 200 instead of 404).
        IgnoreIfMatch,
        /// PutObject checks `If-None-Match: *`, releases the key, waits
        /// [`NON_ATOMIC_CREATE_GAP`], then writes: concurrent creators all win (double create).
        NonAtomicCreate,
        /// GET/HEAD answer 200 with the full object where 304 Not Modified is due.
        NotModifiedAs200,
        /// CopyObject answers a matching `x-amz-copy-source-if-none-match` with 304 instead of 412
        /// (what versitygw's tests expect).
        CopySource304,
        /// A conditional request answers 412 PreconditionFailed where 404 NoSuchKey is due
        /// (`If-Match` on a missing key for PUT/CMU/Copy/Delete, conditional GET/HEAD of a missing
        /// key, a missing copy or rename source), as SeaweedFS, s3s-fs and RGW do.
        FourTwelveFor404,
        /// GET/HEAD are served from a lagging replica: for [`STALE_READ_WINDOW`] after each write of
        /// a key, reads see the version before that write (stale read).
        StaleRead,
        /// GET/HEAD also answer 304 when `If-None-Match` names the version *before* the current one
        /// (phantom 304). The 304 carries the ETag the client named, as a stale validator cache would.
        Phantom304,
        /// Every [`SPURIOUS_409_PERIOD`]th conditional write that would succeed is answered 409
        /// ConditionalRequestConflict and not applied, with no concurrent write (spurious 409).
        Spurious409,
        /// Every [`WRITE_THEN_500_PERIOD`]th successful version-creating write (PutObject,
        /// CompleteMultipartUpload, CopyObject) is applied, then answered 500 InternalError (an
        /// ambiguous outcome that really happened). Deletes and renames are left alone so that a
        /// run's cleanup still works and a checker only meets ambiguous *writes*.
        WriteThen500,
        /// Every [`WRITE_THEN_RESET_PERIOD`]th successful version-creating write (as
        /// [`Fault::WriteThen500`]) is applied, then its connection is dropped without a response
        /// (an ambiguous outcome that really happened).
        WriteThenReset,
        /// A conditional PutObject, CopyObject, CompleteMultipartUpload or RenameObject that is
        /// refused (412, 404, 400 or 501, for a failed precondition or a refused header value) is
        /// applied anyway, and the refusal is still answered. Only a read after the refusal sees it:
        /// the status alone is right.
        RefusedWriteApplied,
        /// DeleteObject deletes the object even when its condition fails (an `If-Match` mismatch,
        /// `x-amz-if-match-size`, `x-amz-if-match-last-modified-time`), and still answers the
        /// refusal, as a store that checks after applying would; DeleteObjects likewise deletes
        /// a key whose `<ETag>`, `<Size>` or `<LastModifiedTime>` refused it.
        DeleteDespiteCondition,
        /// Every `ETag` response header is sent without its quotes (`abc` instead of `"abc"`).
        UnquotedEtag,
        /// Every `ETag` response header is sent as a weak tag (`W/"abc"`).
        WeakEtag,
    }
}

impl Fault {
    /// The kebab-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Fault::IgnoreIfMatch => "ignore-if-match",
            Fault::NonAtomicCreate => "non-atomic-create",
            Fault::NotModifiedAs200 => "not-modified-as-200",
            Fault::CopySource304 => "copy-source-304",
            Fault::FourTwelveFor404 => "412-for-404",
            Fault::StaleRead => "stale-read",
            Fault::Phantom304 => "phantom-304",
            Fault::Spurious409 => "spurious-409",
            Fault::WriteThen500 => "write-then-500",
            Fault::WriteThenReset => "write-then-reset",
            Fault::RefusedWriteApplied => "refused-write-applied",
            Fault::DeleteDespiteCondition => "delete-despite-condition",
            Fault::UnquotedEtag => "unquoted-etag",
            Fault::WeakEtag => "weak-etag",
        }
    }

    /// One line saying what the fault breaks, for `--help`.
    pub fn summary(self) -> &'static str {
        match self {
            Fault::IgnoreIfMatch => "PutObject ignores If-Match (lost update)",
            Fault::NonAtomicCreate => "If-None-Match:* checked, then written later (double create)",
            Fault::NotModifiedAs200 => "GET/HEAD answer 200 with the body where 304 is due",
            Fault::CopySource304 => {
                "CopyObject answers a matching copy-source-if-none-match with 304, not 412"
            }
            Fault::FourTwelveFor404 => "412 where 404 NoSuchKey is due on a conditional request",
            Fault::StaleRead => "GET/HEAD see the previous version for 100 ms after each write",
            Fault::Phantom304 => "304 also when If-None-Match names the previous version",
            Fault::Spurious409 => {
                "every 5th passing conditional write is answered 409 and not applied"
            }
            Fault::WriteThen500 => "every 4th PUT/CMU/Copy is applied, then answered 500",
            Fault::WriteThenReset => {
                "every 4th PUT/CMU/Copy is applied, then its connection is dropped"
            }
            Fault::RefusedWriteApplied => {
                "a refused conditional PUT/Copy/CMU/Rename is applied anyway (the refusal is answered)"
            }
            Fault::DeleteDespiteCondition => {
                "a conditional DeleteObject (or a DeleteObjects key) deletes even when its condition fails"
            }
            Fault::UnquotedEtag => "ETag headers are sent without quotes",
            Fault::WeakEtag => "ETag headers are sent as weak tags (W/\"...\")",
        }
    }

    /// Every name, for help texts and error messages.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Fault::ALL.into_iter().map(Fault::name)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a fault name that is not in [`Fault::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{given}` (known faults: {})", Fault::names().collect::<Vec<_>>().join(", "))]
pub struct UnknownFault {
    /// What the user wrote.
    pub given: String,
}

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFault {
                given: s.to_owned(),
            })
    }
}

/// A set of enabled faults. Empty (the default) means exact semantics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultSet(BTreeSet<Fault>);

impl FaultSet {
    /// No faults: the exact reference semantics.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether `fault` is enabled.
    pub fn has(&self, fault: Fault) -> bool {
        self.0.contains(&fault)
    }

    /// Enables `fault`.
    pub fn insert(&mut self, fault: Fault) {
        self.0.insert(fault);
    }

    /// Whether no fault is enabled.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The enabled faults, in [`Fault::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = Fault> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Fault> for FaultSet {
    fn from_iter<I: IntoIterator<Item = Fault>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl From<Fault> for FaultSet {
    fn from(fault: Fault) -> Self {
        Self::from_iter([fault])
    }
}

impl fmt::Display for FaultSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<_> = self.iter().map(Fault::name).collect();
        f.write_str(&names.join(","))
    }
}

/// A deterministic "every Nth event" trigger, shared by all connections of one server.
#[derive(Debug)]
pub(crate) struct Ticker {
    period: u64,
    count: AtomicU64,
}

impl Ticker {
    pub(crate) const fn new(period: u64) -> Self {
        Self {
            period,
            count: AtomicU64::new(0),
        }
    }

    /// Counts one event; true on every `period`th one (the 5th, 10th, ... for period 5).
    pub(crate) fn tick(&self) -> bool {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        n.is_multiple_of(self.period)
    }
}

/// The faults of one running server, with their counters.
#[derive(Debug)]
pub(crate) struct Faults {
    set: FaultSet,
    spurious_409: Ticker,
    write_then_500: Ticker,
    write_then_reset: Ticker,
}

/// What to do with a write that was just applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterWrite {
    /// Answer normally.
    Answer,
    /// Answer 500 InternalError ([`Fault::WriteThen500`]).
    InternalError,
    /// Drop the connection without an answer ([`Fault::WriteThenReset`]).
    Reset,
}

impl Faults {
    pub(crate) fn new(set: FaultSet) -> Self {
        Self {
            set,
            spurious_409: Ticker::new(SPURIOUS_409_PERIOD),
            write_then_500: Ticker::new(WRITE_THEN_500_PERIOD),
            write_then_reset: Ticker::new(WRITE_THEN_RESET_PERIOD),
        }
    }

    pub(crate) fn has(&self, fault: Fault) -> bool {
        self.set.has(fault)
    }

    /// Called once per conditional write whose precondition passed: true when
    /// [`Fault::Spurious409`] turns it into a 409.
    pub(crate) fn spurious_409(&self) -> bool {
        self.has(Fault::Spurious409) && self.spurious_409.tick()
    }

    /// Called once per write that was applied.
    pub(crate) fn after_write(&self) -> AfterWrite {
        if self.has(Fault::WriteThenReset) && self.write_then_reset.tick() {
            return AfterWrite::Reset;
        }
        if self.has(Fault::WriteThen500) && self.write_then_500.tick() {
            return AfterWrite::InternalError;
        }
        AfterWrite::Answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let names: BTreeSet<_> = Fault::names().collect();
        assert_eq!(names.len(), Fault::ALL.len());
        for f in Fault::ALL {
            assert_eq!(f.name().parse::<Fault>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        let err = "nope".parse::<Fault>().unwrap_err().to_string();
        assert!(
            err.contains("ignore-if-match") && err.contains("write-then-reset"),
            "{err}"
        );
    }

    #[test]
    fn ticker_fires_every_nth() {
        let t = Ticker::new(3);
        let fired: Vec<bool> = (0..7).map(|_| t.tick()).collect();
        assert_eq!(fired, [false, false, true, false, false, true, false]);
    }

    #[test]
    fn fault_set_display() {
        assert_eq!(FaultSet::none().to_string(), "none");
        let s: FaultSet = [Fault::StaleRead, Fault::IgnoreIfMatch]
            .into_iter()
            .collect();
        assert_eq!(s.to_string(), "ignore-if-match,stale-read");
    }
}
