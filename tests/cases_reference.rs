//! The whole YAML suite passes against the embedded reference endpoint under both profiles.
//! A case that fails here is either a wrong case or a wrong reference: both are bugs.

use crate::support::cases::{problems, run_against_reference};
use s3conform::profile::Profile;
use s3conform::server::FaultSet;

fn whole_suite_passes(profile: Profile) {
    let report = run_against_reference(profile, FaultSet::none(), None);
    assert!(
        report.cases.len() >= 3,
        "the suite ran only {} cases",
        report.cases.len()
    );
    let p = problems(&report);
    assert!(p.is_empty(), "under {profile}:\n{p}");
}

#[test]
fn whole_suite_passes_under_coreweave() {
    whole_suite_passes(Profile::Coreweave);
}

#[test]
fn whole_suite_passes_under_aws() {
    whole_suite_passes(Profile::Aws);
}
