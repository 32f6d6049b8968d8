//! The suite catches real bugs: against the reference endpoint with one injected fault, the
//! named cases fail (a `Fail` verdict, never an `Error`), and cases the fault does not touch
//! still pass.

use crate::support::cases::{problems, run_against_reference};
use s3conform::profile::Profile;
use s3conform::report::{RunReport, Verdict};
use s3conform::server::{Fault, FaultSet};

fn verdict<'a>(report: &'a RunReport, name: &str) -> &'a Verdict {
    &report
        .cases
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case named {name}"))
        .verdict
}

/// Runs the suite under `profile` with `fault`; every case in `caught` must fail, every case in
/// `untouched` must pass.
fn catches(fault: Fault, profile: Profile, caught: &[&str], untouched: &[&str]) {
    let report = run_against_reference(profile, FaultSet::from(fault), None);
    for name in caught {
        assert!(
            matches!(verdict(&report, name), Verdict::Fail { .. }),
            "{fault:?} under {profile}: {name} should fail, got {:?}\nall problems:\n{}",
            verdict(&report, name),
            problems(&report)
        );
    }
    for name in untouched {
        assert_eq!(
            verdict(&report, name),
            &Verdict::Pass,
            "{fault:?} under {profile}: {name} should be unaffected"
        );
    }
}

#[test]
fn ignore_if_match_is_caught() {
    catches(
        Fault::IgnoreIfMatch,
        Profile::Coreweave,
        &[
            "put::if-match-mismatch",
            "put::if-match-stale",
            "race::put-cas-16",
        ],
        &["put::safe-create-existing", "get::if-match-mismatch"],
    );
}

#[test]
fn ignore_if_match_missing_key_is_caught_under_aws() {
    catches(
        Fault::IgnoreIfMatch,
        Profile::Aws,
        &["put::if-match-missing-key", "put::if-match-mismatch"],
        &["put::safe-create-existing"],
    );
}

#[test]
fn non_atomic_create_is_caught() {
    // Two racers must overlap inside the fault's window: a race measurement, so it takes turns.
    let _one = crate::support::TIMED.blocking_lock();
    catches(
        Fault::NonAtomicCreate,
        Profile::Coreweave,
        &["race::put-safe-create-16", "race::put-safe-create-32-small"],
        &["put::safe-create-existing", "put::safe-create-twice"],
    );
}

#[test]
fn not_modified_as_200_is_caught() {
    catches(
        Fault::NotModifiedAs200,
        Profile::Coreweave,
        &[
            "get::if-none-match-hit",
            "head::if-none-match-hit",
            "get::if-modified-since-equal",
            "head::if-modified-since-equal",
            "get::if-none-match-beats-if-modified-since",
        ],
        &["get::if-match-mismatch", "get::if-none-match-mismatch"],
    );
}

#[test]
fn copy_source_304_is_caught() {
    catches(
        Fault::CopySource304,
        Profile::Coreweave,
        &[
            "copy::source-if-none-match-hit",
            "copy::source-if-none-match-unquoted",
            "copy::source-if-none-match-beats-if-modified-since",
        ],
        &["copy::source-if-match-mismatch", "get::if-none-match-hit"],
    );
}

#[test]
fn four_twelve_for_404_is_caught() {
    catches(
        Fault::FourTwelveFor404,
        Profile::Coreweave,
        &[
            "get::if-match-missing-key",
            "head::if-match-missing-key",
            "copy::source-missing",
        ],
        &["put::if-match-mismatch", "get::if-match-mismatch"],
    );
}

#[test]
fn four_twelve_for_404_on_put_is_caught_under_aws() {
    catches(
        Fault::FourTwelveFor404,
        Profile::Aws,
        &[
            "put::if-match-missing-key",
            "mpu::if-match-missing-key",
            "delete::if-match-absent",
            "copy::dest-if-match-absent",
        ],
        &["put::if-match-mismatch"],
    );
}

#[test]
fn phantom_304_is_caught() {
    catches(
        Fault::Phantom304,
        Profile::Coreweave,
        &[
            "get::if-none-match-stale-etag",
            "head::if-none-match-stale-etag",
        ],
        &["get::if-none-match-hit"],
    );
}

/// A write applied and then answered 500 (or with a dropped connection) leaves its effect
/// unknown: a case that meets one is an error, never a failure of the endpoint.
#[test]
fn ambiguous_answers_are_errors_never_failures() {
    for fault in [Fault::WriteThen500, Fault::WriteThenReset] {
        let report = run_against_reference(Profile::Coreweave, FaultSet::from(fault), None);
        let mut errors = 0;
        for case in &report.cases {
            let ambiguous = case
                .steps
                .iter()
                .flat_map(|s| &s.observations)
                .any(|o| o.is_ambiguous());
            match &case.verdict {
                Verdict::Error { .. } => errors += 1,
                Verdict::Fail { .. } => assert!(
                    !ambiguous,
                    "{fault:?}: {} failed after an ambiguous answer:\n{}",
                    case.name,
                    problems(&report)
                ),
                _ => {}
            }
        }
        assert!(errors > 0, "{fault:?} produced no error verdict");
    }
}

/// The MinIO #21526 bug class: PutObject If-Match on a missing key creates the object. Under
/// `coreweave`, whose documents do not pin the status, the status is only observed, and the
/// read after it catches the object that should not exist.
#[test]
fn ignore_if_match_on_a_missing_key_is_caught_under_coreweave() {
    catches(
        Fault::IgnoreIfMatch,
        Profile::Coreweave,
        &["put::if-match-missing-key", "put::if-match-star-absent"],
        &["put::safe-create-existing", "mpu::if-match-missing-key"],
    );
}

/// A refused conditional write that is applied anyway answers exactly as it should: only the
/// reads the write-safety policy requires can see it, under both profiles, for every write
/// operation, whether the status is asserted or only observed.
#[test]
fn refused_write_applied_is_caught_by_the_reads_after_it() {
    let caught = [
        "put::if-match-mismatch",
        "put::if-match-missing-key",
        "put::if-match-star-absent",
        "put::if-match-star-existing",
        "put::both-headers",
        "put::if-none-match-etag-current",
        "mpu::if-match-mismatch",
        "mpu::if-match-missing-key",
        "mpu::both-headers",
        "mpu::if-match-other-put-during-upload",
        "mpu::if-match-delete-then-reput-during-upload",
        "copy::dest-if-match-absent",
        "copy::dest-both-headers",
        "copy::dest-if-match-star",
        "copy::source-if-match-mismatch",
        "rename::dest-if-match-absent",
        "rename::dest-if-none-match-existing",
        "rename::source-if-match-mismatch",
        "race::rename-safe-create-16",
        "race::put-safe-create-2",
        "race::mpu-safe-create-4",
    ];
    let untouched = [
        "put::if-match-hit",
        "delete::if-match-mismatch",
        "get::if-match-hit",
    ];
    catches(
        Fault::RefusedWriteApplied,
        Profile::Coreweave,
        &caught,
        &untouched,
    );
    catches(
        Fault::RefusedWriteApplied,
        Profile::Aws,
        &caught,
        &untouched,
    );
}

/// SeaweedFS deletes the object although the delete's size or time condition fails: the read
/// after the refused delete sees it, under both profiles, even where the status is only
/// observed. The same holds per key in a multi-object delete, whose answer is 200 whatever it
/// refused.
#[test]
fn delete_despite_condition_is_caught() {
    let caught = [
        "delete::if-match-mismatch",
        "delete::if-match-stale",
        "delete::if-match-size",
        "delete::if-match-last-modified-time",
        "delete::if-match-last-modified-time-mismatch",
        "delete::objects-etag-mismatch",
        "delete::objects-mixed-batch",
        "delete::objects-size-mismatch",
        "delete::objects-last-modified-time-mismatch",
    ];
    let untouched = [
        "delete::if-match-hit",
        "delete::if-match-star-existing",
        "delete::objects-etag-hit",
        "delete::objects-etag-missing-key",
    ];
    catches(
        Fault::DeleteDespiteCondition,
        Profile::Coreweave,
        &caught,
        &untouched,
    );
    catches(
        Fault::DeleteDespiteCondition,
        Profile::Aws,
        &caught,
        &untouched,
    );
}

/// The documents show ETags as quoted hex strings: an unquoted or weak ETag header fails the
/// cases that assert the format, while the cases that only compare ETag values stay tolerant.
#[test]
fn unquoted_and_weak_etags_are_caught_where_the_format_is_asserted() {
    for fault in [Fault::UnquotedEtag, Fault::WeakEtag] {
        catches(
            fault,
            Profile::Coreweave,
            &["put::etag-consistent", "put::head-then-if-match"],
            &["put::safe-create-existing", "get::if-none-match-hit"],
        );
    }
    catches(
        Fault::UnquotedEtag,
        Profile::Coreweave,
        &[],
        &[
            "put::if-match-hit",
            "put::if-match-mismatch",
            "mpu::if-match-hit",
        ],
    );
}
