//! The requirements files against the suite: every promise has a case (or says why no black-box
//! test can check it), every case establishes a promise or is listed as an extra with a reason,
//! and every case pattern names a case. The tables in docs/requirements.md are generated from
//! the files and must match them.

use std::path::PathBuf;

use s3conform::case::Suite;
use s3conform::certify::requirements::{self, Requirements};
use s3conform::profile::Profile;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn suite_ids() -> Vec<String> {
    let suite = Suite::load(&root().join("cases")).expect("cases/ reads");
    assert!(
        suite.errors.is_empty(),
        "malformed cases: {:?}",
        suite.errors
    );
    suite.cases.into_iter().map(|c| c.id).collect()
}

fn shipped(profile: Profile) -> Requirements {
    requirements::embedded(profile).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_requirement_has_a_case_and_every_case_a_requirement_or_a_reason() {
    let ids = suite_ids();
    for profile in Profile::ALL {
        let reqs = shipped(profile);
        let resolved = reqs.resolve(&ids).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            resolved.unmapped.is_empty(),
            "{}: these cases establish no requirement and are not extras: {:?}",
            reqs.origin,
            resolved.unmapped
        );
        for r in &reqs.requirements {
            assert!(
                r.not_testable.is_some() || !resolved.cases(&r.id).is_empty(),
                "{}:{}: {} has no case and is not marked not-testable",
                reqs.origin,
                r.line,
                r.id
            );
        }
    }
}
