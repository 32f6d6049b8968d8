//! The overwritten-state detector (docs/checker.md §3.2): it closes, before any search, the
//! histories whose violation has a two-op proof however many writers raced, and it fires only
//! on histories the independent oracle (`tests/support/oracle/`) finds non-linearizable.

use std::time::{Duration, Instant};

use crate::support::oracle::{self, Answer};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use s3conform::check::detect::overwritten_states;
use s3conform::check::model::split_by_key;
use s3conform::check::tier2::{Budget, SearchResult, search};
use s3conform::check::{AnomalyKind, CheckOptions, KeyVerdict, Verdict, check_history};
use s3conform::history::{Header, History, Op, Out, Req, Via};

const MS: u64 = 1_000_000;

fn put(w: &str, im: Option<&str>, inm: Option<&str>) -> Req {
    Req::Put {
        write_id: Some(w.into()),
        etag_if_applied: Some(format!("\"e{w}\"")),
        if_match: im.map(|e| format!("\"{e}\"")),
        if_none_match: inm.map(str::to_owned),
        via: Via::Put,
        source_key: None,
        initiated_ns: None,
    }
}

fn ok(etag: Option<String>, wid: Option<&str>) -> Out {
    Out::Ok {
        status: 200,
        etag: etag.map(|e| format!("\"{e}\"")),
        write_id: wid.map(str::to_owned),
    }
}

fn written(w: &str) -> Out {
    ok(Some(format!("e{w}")), None)
}

fn ambiguous() -> Out {
    Out::Ambiguous {
        cause: "timeout".into(),
        status: None,
    }
}

struct Builder {
    ops: Vec<Op>,
}

impl Builder {
    fn new() -> Self {
        Builder { ops: Vec::new() }
    }
    fn op(&mut self, client: u64, call: u64, ret: u64, req: Req, out: Out) -> &mut Self {
        self.ops.push(Op {
            id: 0,
            client,
            key: "k".into(),
            call_ns: call,
            ret_ns: ret,
            req,
            out,
        });
        self
    }
    fn history(&mut self) -> History {
        let mut ops = std::mem::take(&mut self.ops);
        ops.sort_by_key(|o| (o.call_ns, o.client));
        for (i, o) in ops.iter_mut().enumerate() {
            o.id = i as u64;
        }
        History {
            header: Header::new(),
            ops,
        }
    }
}

/// A definite write, then `writers` clients racing unconditional writes whose answers were
/// lost, and an `If-None-Match: *` create that succeeded after the definite write returned;
/// `delete_between` adds an unanswered delete that may have landed between.
fn racing_blind_writes(writers: u64, delete_between: bool) -> History {
    let mut b = Builder::new();
    b.op(0, 0, 10 * MS, put("w0", None, None), written("w0"));
    for c in 1..=writers {
        let call = 2 * MS + c * 1000;
        b.op(
            c,
            call,
            call + 100 * MS,
            put(&format!("w{c}"), None, None),
            ambiguous(),
        );
    }
    // Answered racers too, so no write stands alone in the window.
    b.op(100, 5 * MS, 80 * MS, put("x1", None, None), written("x1"));
    b.op(101, 6 * MS, 85 * MS, put("x2", None, None), written("x2"));
    if delete_between {
        b.op(
            102,
            12 * MS,
            13 * MS,
            Req::Delete { if_match: None },
            ambiguous(),
        );
    }
    b.op(
        103,
        20 * MS,
        30 * MS,
        put("c", None, Some("*")),
        written("c"),
    );
    b.history()
}

#[test]
fn a_create_after_a_definite_write_is_caught_before_the_search_however_many_writers_race() {
    let h = racing_blind_writes(40, false);
    let budget = Budget {
        deadline: Instant::now() + Duration::from_secs(5),
        max_states: 200_000,
        cancel: None,
    };
    // The search alone runs out of states on it...
    let kh = &split_by_key(&h)[0];
    assert!(
        matches!(search(kh, &budget), SearchResult::Unknown { .. }),
        "the search alone should not decide this history within its budget"
    );
    // ...the checker names it at once, with the two ops that prove it.
    let opts = CheckOptions {
        time_budget: Duration::from_secs(5),
        max_states: 200_000,
        threads: 1,
    };
    let started = Instant::now();
    let report = check_history(&h, &opts);
    let took = started.elapsed();
    let Verdict::Anomalous(found) = report.verdict() else {
        panic!("expected an anomaly, got {:?}", report.verdict());
    };
    let a = found
        .iter()
        .find(|a| a.kind == AnomalyKind::IgnoredPrecondition)
        .unwrap_or_else(|| panic!("{found:#?}"));
    let ids: Vec<u64> = a.ops.clone();
    let names: Vec<&str> = ids
        .iter()
        .map(|&id| match &h.ops[id as usize].req {
            Req::Put { write_id, .. } => write_id.as_deref().unwrap_or("?"),
            _ => "?",
        })
        .collect();
    assert_eq!(names, ["w0", "c"], "{a:#?}");
    assert_eq!(report.keys[0].states, 0, "no search ran");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // The witness is true on its own: the two ops alone show the same anomaly.
    let alone = History {
        header: Header::new(),
        ops: ids.iter().map(|&id| h.ops[id as usize].clone()).collect(),
    };
    let again = check_history(&alone, &opts);
    assert!(
        again
            .anomalies()
            .any(|x| x.kind == AnomalyKind::IgnoredPrecondition && x.ops == ids),
        "{again:#?}"
    );
}

#[test]
fn an_unanswered_delete_that_could_fall_between_keeps_it_linearizable() {
    let h = racing_blind_writes(3, true);
    assert!(
        overwritten_states(&split_by_key(&h)[0]).is_empty(),
        "the delete may have landed between the write and the create"
    );
    assert_eq!(oracle::oracle(&h), Answer::Linearizable);
    let report = check_history(&h, &CheckOptions::default());
    assert_eq!(report.verdict(), Verdict::Linearizable, "{report:#?}");
    // The same history without the delete is the violation.
    let bad = racing_blind_writes(3, false);
    assert_eq!(oracle::oracle(&bad), Answer::Violation);
    assert!(!overwritten_states(&split_by_key(&bad)[0]).is_empty());
}

/// A random small one-key history of every request kind the rule judges, with outcomes drawn
/// at random (most are violations, many are not), unanswered ones included.
fn random_history(rng: &mut Xoshiro256PlusPlus) -> History {
    let n = rng.random_range(2..=7);
    let mut b = Builder::new();
    let mut etags: Vec<String> = Vec::new();
    for i in 0..n {
        let call = rng.random_range(0..60u64) * MS;
        let ret = call + rng.random_range(1..30u64) * MS;
        let w = format!("w{i}");
        let known = |rng: &mut Xoshiro256PlusPlus, etags: &Vec<String>| {
            if etags.is_empty() || rng.random_bool(0.2) {
                "ezz".to_string()
            } else {
                etags[rng.random_range(0..etags.len())].clone()
            }
        };
        let (req, out) = match rng.random_range(0..8) {
            0..=1 => (put(&w, None, None), written(&w)),
            2 => (put(&w, None, Some("*")), written(&w)),
            3 => {
                let e = known(rng, &etags);
                (put(&w, Some(&e), None), written(&w))
            }
            4 => {
                let im = rng
                    .random_bool(0.5)
                    .then(|| format!("\"{}\"", known(rng, &etags)));
                let out = match rng.random_range(0..3) {
                    0 => Out::PreconditionFailed,
                    1 => Out::NotFound { code: None },
                    _ => ok(None, None),
                };
                (Req::Delete { if_match: im }, out)
            }
            _ => {
                let inm = match rng.random_range(0..4) {
                    0 => Some("*".to_string()),
                    1 => Some(format!("\"{}\"", known(rng, &etags))),
                    _ => None,
                };
                let out = match rng.random_range(0..5) {
                    0 => Out::NotFound { code: None },
                    1 if inm.is_some() => Out::NotModified { etag: None },
                    _ => {
                        let e = known(rng, &etags);
                        let wid = e.strip_prefix('e').unwrap_or("nobody").to_string();
                        ok(Some(e), Some(&wid))
                    }
                };
                (
                    Req::Get {
                        if_match: None,
                        if_none_match: inm,
                    },
                    out,
                )
            }
        };
        let out = match (&req, rng.random_range(0..6)) {
            (Req::Put { .. } | Req::Delete { .. }, 0) => ambiguous(),
            (Req::Put { .. }, 1) => Out::PreconditionFailed,
            _ => out,
        };
        if matches!(req, Req::Put { .. }) {
            etags.push(format!("e{w}"));
        }
        b.op(i, call, ret, req, out);
    }
    b.history()
}

#[test]
fn the_rule_fires_only_on_histories_the_oracle_finds_non_linearizable() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(10);
    let (mut fired, mut violations) = (0, 0);
    for case in 0..6000 {
        let h = random_history(&mut rng);
        let answer = oracle::oracle(&h);
        if answer == Answer::Violation {
            violations += 1;
        }
        let kh = &split_by_key(&h)[0];
        for f in overwritten_states(kh) {
            fired += 1;
            assert_eq!(
                answer,
                Answer::Violation,
                "case {case}: the rule fired ({:?}) on a history the oracle accepts:\n{}",
                f.kind,
                oracle::describe(&h)
            );
            // The witness is true on its own: its ops alone show the same anomaly.
            let ids: Vec<u64> = f.ops.iter().map(|&i| kh.ops[i].id).collect();
            let alone = History {
                header: Header::new(),
                ops: h
                    .ops
                    .iter()
                    .filter(|o| ids.contains(&o.id))
                    .cloned()
                    .collect(),
            };
            assert_eq!(oracle::oracle(&alone), Answer::Violation, "case {case}");
            let again = check_history(&alone, &CheckOptions::default());
            // Alone, a more specific pattern may name it first (a garbage read, a lost
            // update); whatever the name, the culprit is caught.
            let culprit = *ids.last().expect("a finding has ops");
            assert!(
                again
                    .anomalies()
                    .any(|a| !a.kind.is_protocol() && a.ops.contains(&culprit)),
                "case {case}: the witness alone does not show {:?}:\n{}\n{again:#?}",
                f.kind,
                oracle::describe(&alone)
            );
        }
    }
    // The generator must exercise the rule, on both sides.
    assert!(fired > 500, "fired {fired}");
    assert!(violations > fired / 2, "{violations} violations");
}

#[test]
fn on_the_oracle_s_own_histories_the_rule_fires_only_on_violations() {
    // Two keys, copies, multipart uploads, non-MD5 ETags, unanswered writes that land late or
    // never, 409s, deletes and recreates, one outcome corrupted in half of them.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
    let mut fired = 0;
    for case in 0..4000 {
        let h = oracle::generate::history(&mut rng, 8);
        let findings: Vec<_> = split_by_key(&h)
            .iter()
            .flat_map(|kh| overwritten_states(kh).into_iter().map(|f| (f.kind, f.ops)))
            .collect();
        if findings.is_empty() {
            continue;
        }
        fired += 1;
        let answer = oracle::oracle(&h);
        assert!(
            answer != Answer::Linearizable,
            "case {case}: the rule fired ({findings:?}) on a history the oracle accepts:\n{}",
            oracle::describe(&h)
        );
    }
    assert!(fired > 100, "fired on {fired} histories");
}

#[test]
fn the_checker_is_never_unknown_where_the_rule_has_a_proof() {
    // Wide races of unanswered blind writes make the search hopeless; the rule does not care.
    for writers in [8, 24, 64] {
        let h = racing_blind_writes(writers, false);
        let report = check_history(
            &h,
            &CheckOptions {
                time_budget: Duration::from_secs(5),
                max_states: 50_000,
                threads: 1,
            },
        );
        assert_eq!(report.keys[0].verdict, KeyVerdict::NotLinearizable);
    }
}

#[test]
fn an_unknown_verdict_says_what_ran_out_and_where_the_search_was_stuck() {
    // The 412 needs one of the unanswered writes to have landed before it, and the last read
    // says none did: no rule has a proof, and forty unanswered writes make the orders explode.
    let mut b = Builder::new();
    b.op(0, 0, 10 * MS, put("w0", None, Some("*")), written("w0"));
    b.op(
        1,
        12 * MS,
        14 * MS,
        Req::Get {
            if_match: None,
            if_none_match: None,
        },
        ok(Some("ew0".into()), Some("w0")),
    );
    for c in 2..42 {
        let call = 15 * MS + c * 1000;
        b.op(
            c,
            call,
            call + 100 * MS,
            put(&format!("w{c}"), None, None),
            ambiguous(),
        );
    }
    b.op(
        50,
        40 * MS,
        50 * MS,
        put("x", Some("ew0"), None),
        Out::PreconditionFailed,
    );
    b.op(
        51,
        70 * MS,
        80 * MS,
        Req::Get {
            if_match: None,
            if_none_match: None,
        },
        ok(Some("ew0".into()), Some("w0")),
    );
    let h = b.history();
    let report = check_history(
        &h,
        &CheckOptions {
            time_budget: Duration::from_secs(20),
            max_states: 2_000,
            threads: 1,
        },
    );
    let KeyVerdict::Unknown {
        reason,
        exhausted: Some(x),
    } = &report.keys[0].verdict
    else {
        panic!("expected Unknown with what ran out: {report:#?}");
    };
    assert_eq!(x.limit, s3conform::check::tier2::Limit::States);
    assert!(x.states > 2_000 && x.max_states == 2_000, "{x:?}");
    assert!(x.deepest < x.ops && x.stuck_at.is_some(), "{x:?}");
    assert!(x.ambiguous >= 20 && x.window >= x.ambiguous, "{x:?}");
    assert_eq!(x.optional, 40, "{x:?}");
    for needle in [
        "2000 cached configurations",
        "--max-states",
        "unanswered",
        "stopping before op",
    ] {
        assert!(reason.contains(needle), "{needle:?} not in {reason}");
    }
    // The overall verdict names the key, and the JSON report carries the same facts.
    let Verdict::Unknown { reason: overall } = report.verdict() else {
        panic!("{:?}", report.verdict());
    };
    assert!(overall.starts_with("key k: "), "{overall}");
    let json = serde_json::to_value(&report).unwrap();
    let exhausted = &json["keys"][0]["verdict"]["exhausted"];
    assert_eq!(exhausted["limit"], "states");
    assert_eq!(exhausted["max_states"], 2_000);
    // A time budget says so, and which flags raise it.
    let report = check_history(
        &h,
        &CheckOptions {
            time_budget: Duration::from_millis(200),
            max_states: usize::MAX,
            threads: 1,
        },
    );
    let KeyVerdict::Unknown {
        reason,
        exhausted: Some(x),
    } = &report.keys[0].verdict
    else {
        panic!("expected Unknown: {report:#?}");
    };
    assert_eq!(x.limit, s3conform::check::tier2::Limit::Time);
    assert!(
        reason.contains("--time-budget") && reason.contains("--check-budget"),
        "{reason}"
    );
}
