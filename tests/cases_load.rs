//! The committed suite itself: it loads without errors, is big enough, covers every operation
//! group, cites a source for every case, and races with at least 16 racers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use s3conform::case::Suite;
use s3conform::case::schema::Step;

fn suite() -> Suite {
    Suite::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cases")).expect("cases")
}

#[test]
fn committed_cases_load_without_errors() {
    let s = suite();
    assert!(s.errors.is_empty(), "{:#?}", s.errors);
    assert!(s.cases.len() >= 80, "only {} cases", s.cases.len());
}

#[test]
fn every_operation_group_has_cases_and_every_case_cites_a_source() {
    let s = suite();
    let mut by_op: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &s.cases {
        *by_op.entry(c.operation.as_str()).or_default() += 1;
        assert!(!c.file.source.trim().is_empty(), "{} cites no source", c.id);
        assert!(
            !c.file.description.trim().is_empty(),
            "{} has no description",
            c.id
        );
        assert_eq!(c.id, format!("{}::{}", c.operation, c.name));
    }
    for op in [
        "get", "head", "put", "mpu", "copy", "delete", "rename", "race",
    ] {
        assert!(by_op.get(op).copied().unwrap_or(0) >= 5, "{op}: {by_op:?}");
    }
}

/// Every race names its racer count (`put-safe-create-16`), judges something under every
/// profile, and at least four races run 16 racers or more.
#[test]
fn races_name_their_racer_count_and_judge_both_profiles() {
    let s = suite();
    let races: Vec<_> = s.cases.iter().filter(|c| c.operation == "race").collect();
    let mut big = 0;
    for c in &races {
        let named: Vec<usize> = c.name.split('-').filter_map(|p| p.parse().ok()).collect();
        for step in &c.file.steps {
            if let Step::Parallel(p) = step {
                let racers = p.racers().len();
                assert_eq!(named.first(), Some(&racers), "{}: {racers} racers", c.id);
                big += usize::from(racers >= 16);
                assert!(
                    p.expect.is_some() || p.profiles.is_some(),
                    "{} judges nothing",
                    c.id
                );
            }
        }
    }
    assert!(big >= 4, "only {big} races with 16 racers or more");
}

#[test]
fn sleeps_are_rare() {
    let s = suite();
    let sleeping = s
        .cases
        .iter()
        .filter(|c| c.file.steps.iter().any(|st| matches!(st, Step::Sleep(_))))
        .count();
    assert!(sleeping <= 4, "{sleeping} cases sleep");
}

/// A case that asserts nothing under a profile is reported as observed; every such case says so
/// with the `observed` tag (`observed-coreweave` or `observed-aws` when only one profile is
/// silent), so that the suite's observed count is a decision, not an accident.
#[test]
fn cases_that_assert_nothing_are_tagged_observed() {
    use s3conform::case::policy::asserts_under;
    use s3conform::profile::Profile;
    let s = suite();
    for profile in [Profile::Coreweave, Profile::Aws] {
        let mut observed = Vec::new();
        for c in &s.cases {
            let tagged = c
                .file
                .tags
                .iter()
                .any(|t| t == "observed" || *t == format!("observed-{}", profile.name()));
            let asserts = asserts_under(&c.file.steps, profile);
            assert_eq!(
                !asserts, tagged,
                "{} under {profile}: asserts = {asserts}, tagged observed = {tagged}",
                c.id
            );
            if !asserts {
                observed.push(c.id.as_str());
            }
        }
        println!(
            "{profile}: {} asserted, {} observed: {observed:?}",
            s.cases.len() - observed.len(),
            observed.len()
        );
    }
}
