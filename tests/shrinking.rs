//! Every way the shrinker can end gives a witness that is a violation on its own, for the
//! independent oracle (`tests/support/oracle/`) and for the checker: from a detector's proof,
//! by delta debugging, from the search's failure point, and when delta debugging's work budget
//! runs out before the witness is minimal (docs/checker.md §6).

use crate::support::oracle::{self, Answer, describe, generate};

use std::collections::HashSet;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use s3conform::check::WitnessOptions;
use s3conform::check::shrink::{DD_WORK, Method, Work, shrink_within};
use s3conform::check::{
    AnomalyKind, CheckOptions, Shrunk, Witness, check_history, render, witnesses,
};
use s3conform::history::{Header, History, Op, Out, Req, Via};

fn opts() -> CheckOptions {
    CheckOptions {
        time_budget: Duration::from_secs(10),
        threads: 1,
        ..CheckOptions::default()
    }
}

/// The shrunk history is made of the original's ops, unchanged.
fn is_part_of(small: &History, original: &History) -> bool {
    small
        .ops
        .iter()
        .all(|o| original.ops.iter().any(|p| p == o))
}

#[test]
fn every_shrink_path_and_budget_gives_a_witness_the_oracle_calls_a_violation() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(77);
    let mut methods: HashSet<(Method, bool)> = HashSet::new();
    let mut searched = 0;
    for case in 0..1500 {
        let h = generate::history(&mut rng, 8);
        let report = check_history(&h, &opts());
        for a in report.anomalies().filter(|a| !a.kind.is_protocol()) {
            for units in [0, 20, DD_WORK] {
                let s = shrink_within(&h, a, &opts(), &mut Work::new(units));
                methods.insert((s.method, s.complete));
                if a.kind == AnomalyKind::NonLinearizable {
                    searched += 1;
                }
                assert!(is_part_of(&s.history, &h), "case {case}");
                let again = check_history(&s.history, &opts());
                assert!(
                    again
                        .anomalies()
                        .any(|b| b.kind == a.kind && b.key == a.key),
                    "case {case}, budget {units}: the shrunk history does not show {} by itself:\n{}",
                    a.kind,
                    describe(&s.history)
                );
                let answer = oracle::oracle(&s.history);
                assert!(
                    answer != Answer::Linearizable,
                    "case {case}, budget {units}: {} shrunk ({:?}) to a history the oracle accepts:\n{}\nfrom:\n{}",
                    a.kind,
                    s.method,
                    describe(&s.history),
                    describe(&h)
                );
            }
        }
    }
    // Every path was taken, and delta debugging both finished and ran out of budget.
    for path in [
        (Method::Witness, true),
        (Method::DeltaDebugging, true),
        (Method::DeltaDebugging, false),
    ] {
        assert!(methods.contains(&path), "{path:?} never taken: {methods:?}");
    }
    assert!(searched > 0, "no search verdict was shrunk");
}

const MS: u64 = 1_000_000;

fn op(id: u64, client: u64, call: u64, ret: u64, req: Req, out: Out) -> Op {
    Op {
        id,
        client,
        key: "k".into(),
        call_ns: call * MS,
        ret_ns: ret * MS,
        req,
        out,
    }
}

fn put(w: &str, if_match: Option<&str>) -> Req {
    Req::Put {
        write_id: Some(w.into()),
        etag_if_applied: None,
        if_match: if_match.map(str::to_owned),
        if_none_match: None,
        via: Via::Put,
        source_key: None,
        initiated_ns: None,
    }
}

fn get() -> Req {
    Req::Get {
        if_match: None,
        if_none_match: None,
    }
}

fn saw(etag: &str, w: &str) -> Out {
    Out::Ok {
        status: 200,
        etag: Some(etag.into()),
        write_id: Some(w.into()),
    }
}

/// A violation only the search finds (the 412 needs the unanswered write to have landed, the
/// last read says it never did), after `padding` reads of the first version that return before
/// any of it began.
fn search_verdict_after(padding: u64) -> History {
    let mut ops = vec![op(
        0,
        0,
        0,
        10,
        put("w1", None),
        Out::Ok {
            status: 200,
            etag: Some("\"a1\"".into()),
            write_id: None,
        },
    )];
    for i in 0..padding {
        ops.push(op(1 + i, 100 + i, 11, 14, get(), saw("\"a1\"", "w1")));
    }
    let n = ops.len() as u64;
    ops.extend([
        op(
            n,
            1,
            15,
            60,
            put("w3", None),
            Out::Ambiguous {
                cause: "timeout".into(),
                status: None,
            },
        ),
        op(n + 1, 2, 20, 30, get(), saw("\"a1\"", "w1")),
        op(
            n + 2,
            3,
            40,
            50,
            put("w4", Some("\"a1\"")),
            Out::PreconditionFailed,
        ),
        op(n + 3, 4, 70, 80, get(), saw("\"a1\"", "w1")),
    ]);
    History {
        header: Header::new(),
        ops,
    }
}

#[test]
fn a_search_verdict_shrinks_to_its_essential_ops_well_within_the_budget() {
    // Small enough for the oracle as it is.
    let small = search_verdict_after(0);
    assert_eq!(oracle::oracle(&small), Answer::Violation);
    // 400 reads of the first version before any of the trouble: delta debugging drops them by
    // halves, so the work is a few times the history's size, not a check per read.
    let h = search_verdict_after(400);
    let report = check_history(&h, &opts());
    let a = report
        .anomalies()
        .find(|a| a.kind == AnomalyKind::NonLinearizable)
        .expect("only the search finds this one")
        .clone();
    let mut work = Work::default();
    let s = shrink_within(&h, &a, &opts(), &mut work);
    assert_eq!(s.method, Method::DeltaDebugging);
    assert!(s.complete);
    let spent = DD_WORK - work.left();
    assert!(
        spent < 3 * h.ops.len() as u64,
        "{spent} units in {} checks",
        s.checks
    );
    // The acknowledged write, the unanswered one, the 412 and the read that denies it.
    assert_eq!(s.history.ops.len(), 4, "{}", describe(&s.history));
    assert!(is_part_of(&s.history, &h));
    assert_eq!(oracle::oracle(&s.history), Answer::Violation);
    assert!(
        check_history(&s.history, &opts())
            .anomalies()
            .any(|b| b.kind == AnomalyKind::NonLinearizable)
    );
}

#[test]
fn a_witness_whose_budget_ran_out_is_printed_true_and_says_so() {
    let h = search_verdict_after(400);
    let report = check_history(&h, &opts());
    let a = report
        .anomalies()
        .find(|a| a.kind == AnomalyKind::NonLinearizable)
        .expect("only the search finds this one")
        .clone();
    // No work at all: the first check that confirms the key shows it is all there is.
    let s = shrink_within(&h, &a, &opts(), &mut Work::new(0));
    assert!(!s.complete);
    assert!(is_part_of(&s.history, &h));
    let again = check_history(&s.history, &opts());
    let shown = again
        .anomalies()
        .find(|b| b.kind == AnomalyKind::NonLinearizable)
        .expect("the unshrunk witness is still a violation on its own")
        .clone();
    let w = Witness {
        kind: a.kind,
        key: a.key.clone(),
        count: 1,
        anomaly: a.clone(),
        shrunk: Some(Shrunk {
            history: s.history.clone(),
            anomaly: shown,
            minimal: false,
        }),
    };
    let text = render::witness(&h, &w);
    assert!(text.contains("budget ran out"), "{text}");
    assert!(
        s.history
            .header
            .note
            .as_deref()
            .is_some_and(|n| n.contains("budget ran out")),
        "{:?}",
        s.history.header.note
    );
    // With the default budget, the witness `check` prints is minimal and says nothing of it.
    let found = witnesses(
        &h,
        &report,
        &WitnessOptions {
            shrink: true,
            check: opts(),
        },
    );
    let shrunk = found[0].shrunk.as_ref().expect("shrunk");
    assert!(shrunk.minimal);
    assert!(!render::witness(&h, &found[0]).contains("budget ran out"));
}
