//! The `run` command's contract: filters like `cargo test`, exit 4 when nothing is selected,
//! exit 2 (with the rest still run) when a case file is malformed, exit 1 on a failure.

use crate::support::cases;

use std::path::PathBuf;

use s3conform::commands::run::{RunError, SelectArgs};
use s3conform::exit_code;
use s3conform::profile::Profile;
use s3conform::report::Verdict;
use s3conform::server::{Fault, FaultSet};

#[test]
fn a_filter_matching_nothing_is_exit_4() {
    let args = SelectArgs {
        filter: Some("no-such-case-anywhere".into()),
        cases: Some(cases::cases_dir()),
        ..SelectArgs::default()
    };
    let err = args.load().expect_err("nothing selected");
    assert!(matches!(err, RunError::NothingSelected { .. }));
    assert_eq!(err.exit_code(), exit_code::NOTHING_SELECTED);
    assert!(err.to_string().contains("no-such-case-anywhere"));
}

#[test]
fn an_unreadable_cases_dir_is_exit_2() {
    let args = SelectArgs {
        cases: Some(PathBuf::from("/nonexistent/s3conform-cases")),
        ..SelectArgs::default()
    };
    let err = args.load().expect_err("unreadable");
    assert_eq!(err.exit_code(), exit_code::SETUP_ERROR);
}

#[test]
fn exact_and_skip_select_like_cargo_test() {
    let base = SelectArgs {
        cases: Some(cases::cases_dir()),
        ..SelectArgs::default()
    };
    let suite = base.load().expect("cases");
    let count = |args: &SelectArgs| args.options(Profile::Coreweave).selected(&suite);
    let all = count(&base);
    assert!(all >= 80, "only {all} cases");
    let get = SelectArgs {
        filter: Some("get::".into()),
        ..base.clone()
    };
    assert!(count(&get) > 10 && count(&get) < all);
    let exact = SelectArgs {
        filter: Some("get::if-match-hit".into()),
        exact: true,
        ..base.clone()
    };
    assert_eq!(count(&exact), 1);
    let skipped = SelectArgs {
        filter: Some("get::".into()),
        skip: vec!["if-match".into()],
        ..base.clone()
    };
    assert!(count(&skipped) < count(&get));
}

#[test]
fn a_fault_makes_the_run_exit_1_with_a_readable_diff() {
    let report = cases::run_against_reference(
        Profile::Coreweave,
        FaultSet::from(Fault::NotModifiedAs200),
        Some("get::if-none-match-hit"),
    );
    assert_eq!(report.cases.len(), 1);
    let Verdict::Fail { mismatches } = &report.cases[0].verdict else {
        panic!("expected a failure: {:?}", report.cases[0].verdict);
    };
    let status = mismatches
        .iter()
        .find(|m| m.field == "status")
        .expect("status mismatch");
    assert_eq!(
        (status.expected.as_str(), status.observed.as_str()),
        ("304", "200")
    );
    assert_eq!(
        exit_code::with_malformed(exit_code::of_run(&report, false), 0),
        exit_code::FAILURE
    );
}

/// A case that asserts nothing under the profile is reported as observed, never as passed, and
/// does not fail the run.
#[test]
fn observed_values_are_recorded_and_never_fail() {
    let report =
        cases::run_against_reference(Profile::Aws, FaultSet::none(), Some("get::if-match-star"));
    let case = &report.cases[0];
    assert_eq!(case.verdict, Verdict::Observed);
    assert_eq!(report.counts().observed, 1);
    assert_eq!(report.counts().passed, 0);
    assert!(
        case.observed.iter().any(|o| o.field == "status"),
        "{:?}",
        case.observed
    );
    assert_eq!(
        exit_code::with_malformed(exit_code::of_run(&report, false), 0),
        exit_code::SUCCESS
    );
}

#[test]
fn malformed_files_are_listed_and_the_rest_still_runs() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let report = cases::run_dir_against_reference(&dir, Profile::Coreweave);
    let good = report
        .cases
        .iter()
        .find(|c| c.name == "get::still-loads")
        .expect("the valid case ran");
    assert_eq!(good.verdict, Verdict::Pass);
    let malformed = report
        .cases
        .iter()
        .filter(|c| c.tags.iter().any(|t| t == "malformed"))
        .count();
    assert_eq!(malformed, 17);
    assert_eq!(
        exit_code::with_malformed(exit_code::of_run(&report, false), malformed),
        exit_code::SETUP_ERROR
    );
}

#[test]
fn list_selects_like_run() {
    use s3conform::commands::list::{ListArgs, run as list};
    let ok = ListArgs {
        select: SelectArgs {
            filter: Some("race::".into()),
            cases: Some(cases::cases_dir()),
            ..SelectArgs::default()
        },
    };
    assert_eq!(list(&ok).expect("lists"), exit_code::SUCCESS);
    let none = ListArgs {
        select: SelectArgs {
            filter: Some("nothing-like-this".into()),
            cases: Some(cases::cases_dir()),
            ..SelectArgs::default()
        },
    };
    assert_eq!(
        list(&none).expect_err("empty").exit_code(),
        exit_code::NOTHING_SELECTED
    );
    let malformed = ListArgs {
        select: SelectArgs {
            cases: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/malformed")),
            ..SelectArgs::default()
        },
    };
    assert_eq!(list(&malformed).expect("lists"), exit_code::SETUP_ERROR);
}

/// `run`'s flags and the target flags flatten into one command line without clashes, and a
/// cargo-test-like command line parses.
#[test]
fn run_flags_compose_with_the_target_flags() {
    use clap::{CommandFactory, Parser};
    use s3conform::commands::run::RunArgs;
    use s3conform::commands::target::TargetArgs;

    #[derive(Debug, Parser)]
    struct Run {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        target: TargetArgs,
    }
    Run::command().debug_assert();
    let parsed = Run::try_parse_from([
        "run",
        "put::",
        "--exact",
        "--skip",
        "race",
        "--test-threads",
        "4",
        "--profile",
        "aws",
        "--cases",
        "/tmp/x",
    ])
    .expect("parses");
    assert_eq!(parsed.run.select.filter.as_deref(), Some("put::"));
    assert!(parsed.run.select.exact);
    assert_eq!(parsed.run.select.skip, ["race"]);
    assert_eq!(parsed.run.test_threads, Some(4));
    assert_eq!(parsed.target.profile, Profile::Aws);
}
