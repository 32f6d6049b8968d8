//! The suite's written policy (`cases/README.md`, *Write safety* and *Observed cases*) as checks
//! on a parsed case.
//!
//! Every vendor document says that a conditional write whose precondition fails "doesn't modify
//! the object". A status alone cannot show that: a server that answers 412 (or 404, or 501)
//! and writes anyway looks right to a case that only checks the status, and where the documents
//! do not pin the status the case only observes it. So the loader refuses a conditional write
//! that may be refused under some profile unless a later read of the key asserts what the key
//! holds afterwards under that profile ([`check_write_safety`]). And a case that asserts
//! nothing under a profile is reported as observed, never as passed ([`asserts_under`]).

use std::path::Path;

use crate::profile::Profile;

use super::expectation::expectation_for;
use super::load::CaseError;
use super::schema::{Expect, Step};

/// The profiles a case is judged under.
const PROFILES: [Profile; 2] = [Profile::Coreweave, Profile::Aws];

/// Header names (lowercase prefixes) that make a raw header a precondition.
const CONDITIONAL_HEADER_PREFIXES: [&str; 4] = [
    "if-",
    "x-amz-if-",
    "x-amz-copy-source-if-",
    "x-amz-rename-source-if-",
];

/// Whether `step` is a write with a precondition: an `If-*` header (destination or source), a
/// conditional raw header, or a RenameObject client token (a token reused with other parameters
/// must be refused and move nothing).
pub fn is_conditional_write(step: &Step) -> bool {
    let raw_conditional = step.common().is_some_and(|c| {
        c.raw_headers.keys().any(|h| {
            let h = h.to_ascii_lowercase();
            CONDITIONAL_HEADER_PREFIXES.iter().any(|p| h.starts_with(p))
        })
    });
    raw_conditional
        || match step {
            Step::Put(s) => s.if_match.is_some() || s.if_none_match.is_some(),
            Step::MpuComplete(s) => s.if_match.is_some() || s.if_none_match.is_some(),
            Step::Delete(s) => s.if_match.is_some(),
            Step::DeleteObjects(s) => s.objects.iter().any(|o| o.is_conditional()),
            Step::Copy(s) => {
                s.if_match.is_some()
                    || s.if_none_match.is_some()
                    || s.source_if_match.is_some()
                    || s.source_if_none_match.is_some()
                    || s.source_if_modified_since.is_some()
                    || s.source_if_unmodified_since.is_some()
            }
            Step::Rename(s) => {
                s.if_match.is_some()
                    || s.if_none_match.is_some()
                    || s.if_modified_since.is_some()
                    || s.if_unmodified_since.is_some()
                    || s.source_if_match.is_some()
                    || s.source_if_none_match.is_some()
                    || s.source_if_modified_since.is_some()
                    || s.source_if_unmodified_since.is_some()
                    || s.client_token.is_some()
            }
            _ => false,
        }
}

/// The keys a write step may change: the destination, a rename's source, and every key a
/// multi-object delete names.
pub fn written_keys(step: &Step) -> Vec<String> {
    match step {
        Step::Put(s) => vec![s.key.clone()],
        Step::MpuComplete(s) => vec![s.key.clone()],
        Step::Delete(s) => vec![s.key.clone()],
        Step::DeleteObjects(s) => s.objects.iter().map(|o| o.key.clone()).collect(),
        Step::Copy(s) => vec![s.key.clone()],
        Step::Rename(s) => vec![s.key.clone(), s.source.clone()],
        _ => Vec::new(),
    }
}

/// The expectation of a request step under `profile` (`None`: set-up).
fn expectation(step: &Step, profile: Profile) -> Option<&Expect> {
    let c = step.common()?;
    expectation_for(c.expect.as_ref(), c.profiles.as_ref(), profile)
}

/// Whether a write step's expectation under `profile` lets the endpoint refuse it: anything but
/// set-up (which must succeed) or an asserted 2xx-only status.
fn may_be_refused(step: &Step, profile: Profile) -> bool {
    match expectation(step, profile) {
        None => false,
        Some(e) => match &e.status {
            Some(set) => set.0.iter().any(|s| !(200..300).contains(s)),
            None => true,
        },
    }
}

/// The keys a write step may leave unchanged under `profile` while the endpoint may have
/// changed them anyway: every key of a write that may be refused. A multi-object delete answers
/// 200 and refuses per key, so each key with a condition counts unless the step asserts it
/// deleted.
fn refusable_keys(step: &Step, profile: Profile) -> Vec<String> {
    match step {
        Step::DeleteObjects(s) if !may_be_refused(step, profile) => {
            let asserted = expectation(step, profile).and_then(|e| e.deleted.as_ref());
            s.objects
                .iter()
                .filter(|o| o.is_conditional())
                .filter(|o| !asserted.is_some_and(|d| d.contains(&o.key)))
                .map(|o| o.key.clone())
                .collect()
        }
        _ if may_be_refused(step, profile) => written_keys(step),
        _ => Vec::new(),
    }
}

/// The keys a write step surely changes under `profile` (set-up, or an asserted 2xx-only
/// status; for a multi-object delete, its unconditional keys and those asserted deleted): such
/// a write changes the key, so a read after it no longer shows an earlier refusal's state.
fn surely_written(step: &Step, profile: Profile) -> Vec<String> {
    if matches!(step, Step::Parallel(_) | Step::Sleep(_)) || may_be_refused(step, profile) {
        return Vec::new();
    }
    let refusable = refusable_keys(step, profile);
    written_keys(step)
        .into_iter()
        .filter(|k| !refusable.contains(k))
        .collect()
}

/// Whether `step` reads `key` and asserts what it finds under `profile`.
fn asserts_state_of(step: &Step, key: &str, profile: Profile) -> bool {
    let reads = match step {
        Step::Get(s) | Step::Head(s) => s.key == key,
        Step::List(s) => s.prefix.as_deref().is_none_or(|p| key.starts_with(p)),
        _ => false,
    };
    reads && expectation(step, profile).is_some_and(Expect::asserts)
}

/// Whether the race at `step` checks the final state under `profile`.
fn race_checks_final_state(step: &Step, profile: Profile) -> bool {
    let Step::Parallel(p) = step else {
        return false;
    };
    expectation_for(p.expect.as_ref(), p.profiles.as_ref(), profile)
        .is_some_and(|e| e.final_is_winner == Some(true))
}

/// The write-safety rule: a write that may be refused under a profile (its status is observed,
/// or asserted to be an error) is followed, before any write of the key that must succeed, by a
/// read of every key it may change that asserts under that profile. A race of conditional
/// writers checks its final state (`final_is_winner`) or is followed by such a read.
pub fn check_write_safety(path: &Path, steps: &[Step]) -> Result<(), CaseError> {
    for (i, step) in steps.iter().enumerate() {
        let (writes, checked_by_race): (Vec<&Step>, Option<&Step>) = match step {
            Step::Parallel(p) => (p.racers().into_iter().map(|(_, s)| s).collect(), Some(step)),
            other => (vec![other], None),
        };
        for profile in PROFILES {
            for write in &writes {
                let keys = match checked_by_race {
                    Some(r) if race_checks_final_state(r, profile) => Vec::new(),
                    Some(_) if is_conditional_write(write) => written_keys(write),
                    Some(_) => Vec::new(),
                    None => refusable_keys(write, profile),
                };
                for key in keys {
                    if key.contains("${") {
                        return Err(violation(
                            path,
                            i,
                            profile,
                            &key,
                            "racers writing per-racer keys are checked only by `final_is_winner: true`",
                        ));
                    }
                    if !checked_later(&steps[i + 1..], &key, profile) {
                        return Err(violation(
                            path,
                            i,
                            profile,
                            &key,
                            "add a later `get`, `head` or `list` of the key that asserts what it holds (use `accepted:` where the write may also succeed)",
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Whether a step of `later` asserts the state of `key` before a write of `key` that must
/// succeed.
fn checked_later(later: &[Step], key: &str, profile: Profile) -> bool {
    for step in later {
        if asserts_state_of(step, key, profile) {
            return true;
        }
        if surely_written(step, profile).iter().any(|k| k == key) {
            return false;
        }
    }
    false
}

fn violation(path: &Path, index: usize, profile: Profile, key: &str, fix: &str) -> CaseError {
    CaseError {
        path: path.to_owned(),
        line: 0,
        column: 0,
        field: Some(format!("steps[{index}]")),
        message: format!(
            "write safety: this write may be refused under profile `{profile}`, but nothing after it asserts what `{key}` holds then; {fix}"
        ),
        hint: Some("see *Write safety* in cases/README.md".into()),
    }
}

/// Whether the case judges anything under `profile` beyond its set-up: an expectation that
/// asserts, or a race with an invariant. A case that does not is reported as observed.
pub fn asserts_under(steps: &[Step], profile: Profile) -> bool {
    steps.iter().any(|step| match step {
        Step::Parallel(p) => expectation_for(p.expect.as_ref(), p.profiles.as_ref(), profile)
            .is_some_and(|e| {
                e.winners.is_some() || e.losers.is_some() || e.final_is_winner == Some(true)
            }),
        Step::Sleep(_) => false,
        other => {
            let accepted_asserts = match other {
                Step::Get(s) | Step::Head(s) => {
                    s.accepted.as_ref().is_some_and(|a| a.expect.asserts())
                }
                Step::List(s) => s.accepted.as_ref().is_some_and(|a| a.expect.asserts()),
                _ => false,
            };
            accepted_asserts || expectation(other, profile).is_some_and(Expect::asserts)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_str;

    const OBSERVED_PUT: &str = "description: d\nsource: s\nsteps:\n  - op: put\n    key: k\n    body: v1\n    if_match: '\"0123\"'\n    expect:\n      observe: [status]\n";

    #[test]
    fn an_observed_conditional_write_without_a_later_read_is_refused() {
        let e = parse_str("put", "x", OBSERVED_PUT).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("steps[0]"));
        assert_eq!((e.line, e.column), (4, 3), "{e}");
        assert!(e.message.contains("write safety"), "{e}");
        assert!(e.message.contains("`k`"), "{e}");
    }

    #[test]
    fn a_later_asserting_read_satisfies_it_and_an_observing_one_does_not() {
        let ok =
            format!("{OBSERVED_PUT}  - op: head\n    key: k\n    expect:\n      status: 404\n");
        parse_str("put", "x", &ok).unwrap();
        let observing = format!(
            "{OBSERVED_PUT}  - op: head\n    key: k\n    expect:\n      observe: [status]\n"
        );
        assert!(parse_str("put", "x", &observing).is_err());
        let other_key =
            format!("{OBSERVED_PUT}  - op: head\n    key: j\n    expect:\n      status: 404\n");
        assert!(parse_str("put", "x", &other_key).is_err());
    }

    #[test]
    fn a_write_that_must_succeed_in_between_hides_the_refusal() {
        let hidden = format!(
            "{OBSERVED_PUT}  - op: put\n    key: k\n    body: v2\n  - op: get\n    key: k\n    expect:\n      body: v2\n"
        );
        assert!(parse_str("put", "x", &hidden).is_err());
    }

    #[test]
    fn a_profile_that_only_observes_needs_the_read_under_that_profile_too() {
        let text = "description: d\nsource: s\nsteps:\n  - op: put\n    key: k\n    body: v1\n    if_match: '\"0123\"'\n    profiles:\n      coreweave:\n        observe: [status]\n      aws:\n        status: 404\n  - op: head\n    key: k\n    profiles:\n      aws:\n        status: 404\n";
        let e = parse_str("put", "x", text).unwrap_err();
        assert!(e.message.contains("`coreweave`"), "{e}");
    }

    #[test]
    fn a_race_without_a_final_state_check_is_refused() {
        let text = "description: d\nsource: s\nsteps:\n  - op: parallel\n    count: 2\n    step:\n      op: put\n      key: k\n      if_none_match: \"*\"\n    expect:\n      winners: 1\n";
        assert!(parse_str("race", "x", text).is_err());
        let fixed = text.replace("winners: 1\n", "winners: 1\n      final_is_winner: true\n");
        parse_str("race", "x", &fixed).unwrap();
    }

    const MULTI_DELETE: &str = "description: d\nsource: s\nsteps:\n  - op: put\n    key: a\n  - op: put\n    key: b\n  - op: delete_objects\n    objects:\n      - key: a\n        etag: '\"0123\"'\n      - key: b\n    expect:\n      status: 200\n      deleted: [b]\n";

    #[test]
    fn a_multi_object_delete_needs_a_read_of_each_key_it_may_have_refused() {
        let e = parse_str("delete", "x", MULTI_DELETE).unwrap_err();
        assert!(e.message.contains("`a`"), "{e}");
        let read_b =
            format!("{MULTI_DELETE}  - op: head\n    key: b\n    expect:\n      status: 404\n");
        assert!(parse_str("delete", "x", &read_b).is_err());
        let read_a =
            format!("{MULTI_DELETE}  - op: head\n    key: a\n    expect:\n      status: 200\n");
        parse_str("delete", "x", &read_a).unwrap();
        // Asserting `a` deleted makes it a delete that must succeed, not a refusal to check.
        let asserted = MULTI_DELETE.replace("deleted: [b]", "deleted: [a, b]");
        parse_str("delete", "x", &asserted).unwrap();
    }

    #[test]
    fn a_case_that_only_observes_asserts_nothing() {
        let text = "description: d\nsource: s\nsteps:\n  - op: put\n    key: k\n  - op: get\n    key: k\n    expect:\n      observe: [status]\n";
        let case = parse_str("get", "x", text).unwrap();
        assert!(!asserts_under(&case.file.steps, Profile::Coreweave));
        let asserting = text.replace("observe: [status]", "status: 200");
        let case = parse_str("get", "x", &asserting).unwrap();
        assert!(asserts_under(&case.file.steps, Profile::Aws));
    }
}
