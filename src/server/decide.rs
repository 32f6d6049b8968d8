//! The decisions every write shares: its destination precondition, the 412-versus-409 rule of
//! the profile, and the faults that fire around a write.
//!
//! The profile rule: a conditional write whose precondition fails *because of a write that
//! committed after this request arrived* is a lost race. CoreWeave answers it 409
//! ConditionalRequestConflict ("one succeeds, the other returns 409"); AWS answers 412. A
//! precondition that already failed when the request arrived is 412 under both. "Arrived" is
//! when the server had read the request head, before the body: [`Arrival`] is taken then.

use s3s::S3Error;

use super::errors;
use super::fault::{AfterWrite, Fault, Faults};
use super::precondition::{WriteCheck, WriteCondition};
use crate::profile::Profile;

/// The state of the request's own key (the URI key) when the request head arrived.
#[derive(Debug, Clone, Default)]
pub(crate) struct Arrival {
    /// The key's unquoted ETag then (`None`: absent, or no key in the URI).
    pub(crate) etag: Option<String>,
}

/// What a write needs to decide: the profile, the faults, and the key's state at arrival.
#[derive(Clone, Copy)]
pub(crate) struct WriteCtx<'a> {
    pub(crate) profile: Profile,
    pub(crate) faults: &'a Faults,
    pub(crate) arrival: Option<&'a Arrival>,
}

impl WriteCtx<'_> {
    /// Checks `cond` against the destination's current ETag, under the store lock.
    ///
    /// - pass → `Ok`, unless the `spurious-409` fault picks this write;
    /// - `If-Match` on a missing key → 404 NoSuchKey (412 under `412-for-404`);
    /// - failed → 412, or 409 under CoreWeave when the precondition held at arrival.
    pub(crate) fn check_destination(
        &self,
        cond: &WriteCondition,
        current: Option<&str>,
        key: &str,
    ) -> Result<(), S3Error> {
        match cond.check(current) {
            WriteCheck::Pass => {
                if cond.is_conditional() && self.faults.spurious_409() {
                    let which = match cond {
                        WriteCondition::IfNoneMatchAny => "If-None-Match",
                        _ => "If-Match",
                    };
                    return Err(errors::conflict(which, key));
                }
                Ok(())
            }
            WriteCheck::NoSuchKey => Err(self.missing_key(key, true, "If-Match")),
            WriteCheck::Failed(which) => {
                let condition = which.condition("");
                let held_at_arrival = self
                    .arrival
                    .is_some_and(|a| cond.check(a.etag.as_deref()) == WriteCheck::Pass);
                if self.profile == Profile::Coreweave && held_at_arrival {
                    Err(errors::conflict(&condition, key))
                } else {
                    Err(errors::precondition_failed(&condition))
                }
            }
        }
    }

    /// 404 NoSuchKey, or 412 with `condition` when the `412-for-404` fault is on and the request
    /// was conditional.
    pub(crate) fn missing_key(&self, key: &str, conditional: bool, condition: &str) -> S3Error {
        missing_key(self.faults, key, conditional, condition)
    }

    /// The answer after a version-creating write (PUT, CMU, Copy) was applied: normally `ok`,
    /// or an injected 500 or reset.
    pub(crate) fn finish<T>(&self, ok: T) -> Result<T, S3Error> {
        match self.faults.after_write() {
            AfterWrite::Answer => Ok(ok),
            AfterWrite::InternalError => Err(errors::internal_error()),
            AfterWrite::Reset => Err(errors::reset()),
        }
    }
}

/// See [`WriteCtx::missing_key`]; also used by reads.
pub(crate) fn missing_key(
    faults: &Faults,
    key: &str,
    conditional: bool,
    condition: &str,
) -> S3Error {
    if conditional && faults.has(Fault::FourTwelveFor404) {
        errors::precondition_failed(condition)
    } else {
        errors::no_such_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::fault::FaultSet;
    use s3s::S3ErrorCode;

    fn code(r: Result<(), S3Error>) -> Option<S3ErrorCode> {
        r.err().map(|e| e.code().clone())
    }

    #[test]
    fn race_loser_is_409_only_under_coreweave_and_only_if_it_held_at_arrival() {
        let faults = Faults::new(FaultSet::none());
        let inm = WriteCondition::IfNoneMatchAny;
        let absent_then = Arrival { etag: None };
        let present_then = Arrival {
            etag: Some("e".into()),
        };
        for (profile, arrival, want) in [
            (
                Profile::Coreweave,
                &absent_then,
                S3ErrorCode::ConditionalRequestConflict,
            ),
            (
                Profile::Coreweave,
                &present_then,
                S3ErrorCode::PreconditionFailed,
            ),
            (Profile::Aws, &absent_then, S3ErrorCode::PreconditionFailed),
        ] {
            let ctx = WriteCtx {
                profile,
                faults: &faults,
                arrival: Some(arrival),
            };
            assert_eq!(
                code(ctx.check_destination(&inm, Some("e"), "k")),
                Some(want)
            );
        }
        let ctx = WriteCtx {
            profile: Profile::Aws,
            faults: &faults,
            arrival: None,
        };
        let im = WriteCondition::parse(Some("e"), None).unwrap();
        assert_eq!(
            code(ctx.check_destination(&im, None, "k")),
            Some(S3ErrorCode::NoSuchKey)
        );
        assert_eq!(code(ctx.check_destination(&im, Some("e"), "k")), None);
    }

    #[test]
    fn spurious_409_fires_on_every_fifth_passing_conditional_write() {
        let faults = Faults::new(FaultSet::from(Fault::Spurious409));
        let ctx = WriteCtx {
            profile: Profile::Aws,
            faults: &faults,
            arrival: None,
        };
        let inm = WriteCondition::IfNoneMatchAny;
        let fired: Vec<bool> = (0..10)
            .map(|_| ctx.check_destination(&inm, None, "k").is_err())
            .collect();
        assert_eq!(fired.iter().filter(|f| **f).count(), 2);
        assert!(fired[4] && fired[9]);
        assert!(
            ctx.check_destination(&WriteCondition::Unconditional, None, "k")
                .is_ok()
        );
    }
}
