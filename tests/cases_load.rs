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

/// One missing-key policy for every write: a conditional write against a missing key has its
/// status observed under `coreweave` (whose documents are silent), 404 NoSuchKey asserted under
/// `aws` where AWS recorded it (PutObject, CompleteMultipartUpload, CopyObject, DeleteObject;
/// RenameObject's answer is unrecorded, so observed; DeleteObjects' per-key result likewise),
/// and under both a later read asserts that nothing was created (the loader's write-safety
/// rule).
#[test]
fn one_missing_key_policy_across_every_write() {
    use s3conform::case::expectation::expectation_for;
    use s3conform::case::policy::is_conditional_write;
    use s3conform::profile::Profile;
    let s = suite();
    let mut checked = Vec::new();
    for c in &s.cases {
        let tagged = c.file.tags.iter().any(|t| t == "missing-key");
        let about_source = c.file.tags.iter().any(|t| t == "source");
        if !tagged
            || about_source
            || !["put", "mpu", "copy", "delete", "rename"].contains(&c.operation.as_str())
        {
            continue;
        }
        let write = c
            .file
            .steps
            .iter()
            .find(|st| {
                is_conditional_write(st)
                    && st
                        .common()
                        .is_some_and(|cm| cm.expect.is_some() || cm.profiles.is_some())
            })
            .unwrap_or_else(|| panic!("{}: no judged conditional write", c.id));
        let common = write.common().unwrap();
        let under = |p| expectation_for(common.expect.as_ref(), common.profiles.as_ref(), p);
        if matches!(write, s3conform::case::schema::Step::DeleteObjects(_)) {
            // The request is answered 200 either way; the key's own result is unrecorded.
            for p in [Profile::Coreweave, Profile::Aws] {
                let e = under(p).expect("judged");
                assert!(
                    e.deleted.is_none() && e.errors.is_none(),
                    "{}: DeleteObjects' per-key answer for a missing key is unrecorded",
                    c.id
                );
            }
            continue;
        }
        let cw = under(Profile::Coreweave).expect("judged under coreweave");
        assert!(
            cw.status.is_none() && cw.error_code.is_none(),
            "{}: coreweave asserts a status",
            c.id
        );
        let aws = under(Profile::Aws).expect("judged under aws");
        if c.operation == "rename" {
            assert!(
                aws.status.is_none(),
                "{}: RenameObject's answer is unrecorded",
                c.id
            );
        } else {
            assert_eq!(
                aws.status.as_ref().map(|s| s.0.clone()),
                Some(vec![404]),
                "{}",
                c.id
            );
            assert_eq!(aws.error_code.as_deref(), Some("NoSuchKey"), "{}", c.id);
        }
        checked.push(c.operation.clone());
    }
    checked.sort();
    checked.dedup();
    assert_eq!(checked, ["copy", "delete", "mpu", "put", "rename"]);
}
