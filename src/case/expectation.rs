//! Which of a step's expectations applies under a profile: the profile's own entry, else the
//! step's default. The loader's policy and the runner both ask.

use crate::profile::Profile;

use super::schema::{Expect, ProfileExpects, RaceExpect, RaceProfiles};

/// The expectation that applies under `profile`: the profile's own, else the default.
pub fn expectation_for<'a>(
    default: Option<&'a Expect>,
    profiles: Option<&'a ProfileExpects>,
    profile: Profile,
) -> Option<&'a Expect> {
    let specific = profiles.and_then(|p| match profile {
        Profile::Coreweave => p.coreweave.as_ref(),
        Profile::Aws => p.aws.as_ref(),
    });
    specific.or(default)
}

/// The race invariants that apply under `profile`.
pub fn race_expectation_for<'a>(
    default: Option<&'a RaceExpect>,
    profiles: Option<&'a RaceProfiles>,
    profile: Profile,
) -> Option<&'a RaceExpect> {
    let specific = profiles.and_then(|p| match profile {
        Profile::Coreweave => p.coreweave.as_ref(),
        Profile::Aws => p.aws.as_ref(),
    });
    specific.or(default)
}
