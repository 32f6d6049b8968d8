//! The suite is repeatable: run twice against one endpoint, even under the same `--prefix`, it
//! passes both times. Values that must differ between runs (RenameObject client tokens) come
//! from `${unique}`; a fixed token would make every run after the first fail.

use crate::support::cases::{cases_dir, problems, run_repeatedly_against_reference};
use s3conform::case::{Suite, parse_str};
use s3conform::profile::Profile;
use s3conform::server::FaultSet;

fn twice(profile: Profile) {
    let suite = Suite::load(&cases_dir()).expect("cases");
    let reports = run_repeatedly_against_reference(
        &suite,
        profile,
        FaultSet::none(),
        None,
        2,
        Some("s3conform/repeat/"),
    );
    for (n, report) in reports.iter().enumerate() {
        let p = problems(report);
        assert!(p.is_empty(), "run {} under {profile}:\n{p}", n + 1);
        assert!(report.cases.len() > 100);
    }
}

#[test]
fn the_suite_passes_twice_against_one_endpoint_under_coreweave() {
    twice(Profile::Coreweave);
}

#[test]
fn the_suite_passes_twice_against_one_endpoint_under_aws() {
    twice(Profile::Aws);
}

/// The same case with a fixed token passes once and then fails: what `${unique}` prevents.
#[test]
fn a_fixed_client_token_fails_the_second_run() {
    let text = |token: &str| {
        format!(
            "description: d\nsource: s\nsteps:\n  - op: put\n    key: src\n    body: a\n  - op: rename\n    source: src\n    key: dst\n    client_token: \"{token}\"\n    expect:\n      status: 200\n"
        )
    };
    let run = |token: &str| {
        let case = parse_str("rename", "token", &text(token)).expect("case");
        let suite = Suite {
            cases: vec![case],
            errors: Vec::new(),
        };
        run_repeatedly_against_reference(&suite, Profile::Aws, FaultSet::none(), None, 2, None)
            .into_iter()
            .map(|r| r.cases[0].verdict.name())
            .collect::<Vec<_>>()
    };
    assert_eq!(run("fixed-token"), ["pass", "fail"]);
    assert_eq!(run("t-${unique}"), ["pass", "pass"]);
}
