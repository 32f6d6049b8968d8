//! The checker against an independent oracle (`tests/support/oracle/`, no code shared with
//! `src/check/`), in both directions, on thousands of small generated histories with copies,
//! multipart uploads, `If-None-Match: *` reads, non-MD5 ETags, unanswered writes that land late
//! or never, `NoSuchUpload`, deletes and recreates:
//! - every anomaly the checker names is a real violation for the oracle;
//! - every violation the oracle finds is named by the checker, or the checker says Unknown,
//!   except where several unanswered writes' ETags are unknown and only a response without a
//!   write id (a 304) reveals one: the oracle fixes the ETag there, the checker's model leaves
//!   it open. Those misses are counted and printed, and must stay rare.

use crate::support::oracle;

use std::path::Path;
use std::time::Duration;

use oracle::{Answer, describe, generate};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use s3conform::check::{CheckOptions, KeyVerdict, check_history};
use s3conform::history::{History, read_history, validate};

fn opts() -> CheckOptions {
    CheckOptions {
        time_budget: Duration::from_secs(10),
        threads: 1,
        ..CheckOptions::default()
    }
}

/// (checker named a model anomaly, checker said Unknown somewhere)
fn checker(h: &History) -> (bool, bool) {
    let report = check_history(h, &opts());
    let anomalous = report.anomalies().any(|a| !a.kind.is_protocol());
    let unknown = report
        .keys
        .iter()
        .any(|k| matches!(k.verdict, KeyVerdict::Unknown { .. }));
    (anomalous, unknown)
}

#[test]
fn the_oracle_agrees_with_the_hand_made_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    for (dir, want) in [("good", Answer::Linearizable), ("bad", Answer::Violation)] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            // Protocol findings (409s, duplicate ETags) are not linearizability violations.
            if name.starts_with("spurious-409") || name.starts_with("duplicate-etag") {
                continue;
            }
            let h = read_history(&path).unwrap();
            assert_eq!(oracle::oracle(&h), want, "{name}");
        }
    }
}

#[test]
fn checker_and_oracle_agree_in_both_directions() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
    let (mut legal, mut violations, mut unknown, mut big, mut gap) = (0, 0, 0, 0, 0);
    for case in 0..20_000 {
        let h = generate::history(&mut rng, 7);
        validate(&h).unwrap_or_else(|e| panic!("case {case}: generator made {e}"));
        let answer = oracle::oracle(&h);
        let (anomalous, undecided) = checker(&h);
        match answer {
            Answer::TooBig => big += 1,
            Answer::Linearizable => {
                assert!(
                    !anomalous,
                    "case {case}: the checker named an anomaly the oracle disproves:\n{}\n{:#?}",
                    describe(&h),
                    check_history(&h, &opts()).anomalies().collect::<Vec<_>>()
                );
                legal += 1;
            }
            Answer::Violation
                if !(anomalous || undecided) && oracle::has_unknown_etag_write(&h) =>
            {
                gap += 1;
            }
            Answer::Violation => {
                assert!(
                    anomalous || undecided,
                    "case {case}: the oracle finds a violation the checker missed:\n{}",
                    describe(&h)
                );
                if anomalous {
                    violations += 1;
                } else {
                    unknown += 1;
                }
            }
        }
    }
    eprintln!(
        "linearizable {legal}, violations named {violations}, unknown {unknown}, missed where an unanswered write's ETag is unknown {gap}, too big {big}"
    );
    assert!(
        legal > 1000 && violations > 500,
        "the generator must make both kinds"
    );
    assert!(
        gap * 50 <= violations,
        "{gap} misses against {violations} named violations"
    );
}
