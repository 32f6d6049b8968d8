//! Which of a step's expectations applies under a profile: the profile's own entry, else the
//! step's default. The loader's policy and the runner both ask.

use crate::profile::Profile;

use super::schema::PerProfile;

/// The expectation (a step's [`Expect`](super::schema::Expect) or a race's
/// [`RaceExpect`](super::schema::RaceExpect)) that applies under `profile`: the profile's own,
/// else the default.
pub fn expectation_for<'a, T>(
    default: Option<&'a T>,
    profiles: Option<&'a PerProfile<T>>,
    profile: Profile,
) -> Option<&'a T> {
    profiles.and_then(|p| p.get(profile)).or(default)
}
