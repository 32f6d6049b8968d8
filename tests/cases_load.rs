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

#[test]
fn seed_races_have_at_least_16_racers_and_judge_both_profiles() {
    let s = suite();
    let races: Vec<_> = s.cases.iter().filter(|c| c.operation == "race").collect();
    assert!(races.len() >= 4);
    for c in races {
        for step in &c.file.steps {
            if let Step::Parallel(p) = step {
                assert!(p.count >= 16, "{}: {} racers", c.id, p.count);
                assert!(
                    p.expect.is_some() || p.profiles.is_some(),
                    "{} judges nothing",
                    c.id
                );
            }
        }
    }
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
