//! Property tests of the checker on thousands of random histories (seeded, reproducible):
//! the tiers agree with the brute force, certificates validate, injected bugs get their name,
//! and ambiguous writes never cause a false anomaly.

use std::time::{Duration, Instant};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use s3conform::bench::{Bug, GenConfig, generate_seeded};
use s3conform::check::brute::brute_force;
use s3conform::check::detect::model_findings;
use s3conform::check::model::split_by_key;
use s3conform::check::tier1::{Tier1Result, tier1};
use s3conform::check::tier2::{Budget, SearchResult, search};
use s3conform::check::validate::validate_certificate;
use s3conform::check::{AnomalyKind, CheckOptions, Verdict, check_history};
use s3conform::history::{History, Out, Req};

fn budget() -> Budget<'static> {
    Budget {
        deadline: Instant::now() + Duration::from_secs(20),
        max_states: 1_000_000,
        cancel: None,
    }
}

/// Corrupts a few outcomes so that some histories become non-linearizable, in every way a
/// store could get them wrong: wrong status, wrong ETag, wrong content.
fn chaos(h: &mut History, rng: &mut Xoshiro256PlusPlus) {
    let etags: Vec<String> = h
        .ops
        .iter()
        .filter_map(|o| match &o.req {
            Req::Put {
                etag_if_applied, ..
            } => etag_if_applied.clone(),
            _ => None,
        })
        .collect();
    let n = h.ops.len();
    if n == 0 {
        return;
    }
    for _ in 0..rng.random_range(0..3) {
        let i = rng.random_range(0..n);
        let pick = |rng: &mut Xoshiro256PlusPlus| {
            if etags.is_empty() {
                "\"none\"".to_string()
            } else {
                etags[rng.random_range(0..etags.len())].clone()
            }
        };
        let new = match (&h.ops[i].req, rng.random_range(0..6)) {
            (_, 0) => Out::PreconditionFailed,
            (_, 1) => Out::NotFound { code: None },
            (Req::Get { .. } | Req::Head { .. }, 2) => Out::NotModified { etag: None },
            (Req::Get { .. } | Req::Head { .. }, _) => {
                let e = pick(rng);
                let wid = format!("w0-{}", rng.random_range(1..6));
                Out::Ok {
                    status: 200,
                    etag: Some(e),
                    write_id: Some(wid),
                }
            }
            (
                Req::Put {
                    etag_if_applied, ..
                },
                _,
            ) => Out::Ok {
                status: 200,
                etag: etag_if_applied.clone(),
                write_id: None,
            },
            (Req::Delete { .. }, _) => Out::Ok {
                status: 204,
                etag: None,
                write_id: None,
            },
        };
        if !h.ops[i].out.is_ambiguous() {
            h.ops[i].out = new;
        }
    }
    // Break the version graph's assumptions now and then: a repeated ETag (identical bytes or
    // an in-place copy), a copy whose content id is unknown, an ETag nobody predicted.
    if !etags.is_empty() && rng.random_bool(0.3) {
        let i = rng.random_range(0..n);
        let e = etags[rng.random_range(0..etags.len())].clone();
        let op = &mut h.ops[i];
        if let (Req::Put { .. }, Out::Ok { etag, .. }) = (&op.req, &mut op.out) {
            *etag = Some(e);
        }
    }
    if rng.random_bool(0.2) {
        let i = rng.random_range(0..n);
        if let Req::Put {
            write_id,
            via,
            etag_if_applied,
            ..
        } = &mut h.ops[i].req
        {
            match rng.random_range(0..2) {
                0 => {
                    *write_id = None;
                    *via = s3conform::history::Via::Copy;
                }
                _ => *etag_if_applied = None,
            }
        }
    }
}

fn small_config(rng: &mut Xoshiro256PlusPlus) -> GenConfig {
    GenConfig {
        writers: rng.random_range(1..=4),
        ops: rng.random_range(1..=10),
        keys: 1,
        read_rate: 0.4,
        blind_rate: if rng.random_bool(0.5) { 0.3 } else { 0.0 },
        delete_rate: if rng.random_bool(0.5) { 0.2 } else { 0.0 },
        create_rate: 0.2,
        ambiguous_rate: if rng.random_bool(0.5) { 0.25 } else { 0.0 },
        bug: None,
    }
}

#[test]
fn tiers_agree_with_brute_force_on_small_histories() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let (mut legal, mut illegal, mut t1_cert, mut t1_witness) = (0, 0, 0, 0);
    for case in 0..20_000u64 {
        let cfg = small_config(&mut rng);
        let mut h = generate_seeded(&cfg, case);
        if case % 2 == 1 {
            chaos(&mut h, &mut rng);
        }
        for kh in split_by_key(&h) {
            let Ok(brute) = brute_force(&kh) else {
                continue;
            };
            let ctx = || format!("case {case}: {}", serde_json::to_string(&h.ops).unwrap());
            let t2 = search(&kh, &budget());
            match (&brute, &t2) {
                (Some(_), SearchResult::Linearizable(order)) => {
                    validate_certificate(&kh, order)
                        .unwrap_or_else(|e| panic!("tier 2 certificate invalid ({e}): {}", ctx()));
                    legal += 1;
                }
                (None, SearchResult::Illegal { .. }) => illegal += 1,
                _ => panic!(
                    "tier 2 {t2:?} disagrees with brute force {brute:?}: {}",
                    ctx()
                ),
            }
            match tier1(&kh) {
                Tier1Result::Certificate(order) => {
                    assert!(
                        brute.is_some(),
                        "tier 1 certified an illegal history: {}",
                        ctx()
                    );
                    validate_certificate(&kh, &order).unwrap();
                    t1_cert += 1;
                }
                Tier1Result::Inconclusive(_) => {
                    let findings = model_findings(&kh);
                    if !findings.is_empty() {
                        assert!(
                            brute.is_none(),
                            "pattern {:?} fired on a linearizable history: {}",
                            findings[0],
                            ctx()
                        );
                        t1_witness += 1;
                    }
                }
            }
        }
    }
    eprintln!(
        "legal {legal}, illegal {illegal}, tier1 certificates {t1_cert}, tier1 witnesses {t1_witness}"
    );
    assert!(
        legal > 1000 && illegal > 300,
        "the generator must produce both kinds"
    );
    assert!(
        t1_cert > legal / 2,
        "tier 1 should certify most legal histories"
    );
}

#[test]
fn generated_histories_without_bugs_are_linearizable() {
    for seed in 0..60u64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let cfg = GenConfig {
            writers: rng.random_range(2..=16),
            ops: rng.random_range(50..=600),
            keys: rng.random_range(1..=3),
            blind_rate: if seed % 3 == 0 { 0.1 } else { 0.0 },
            delete_rate: if seed % 4 == 0 { 0.05 } else { 0.0 },
            ambiguous_rate: [0.0, 0.01, 0.05][seed as usize % 3],
            ..GenConfig::default()
        };
        let h = generate_seeded(&cfg, seed);
        let report = check_history(&h, &CheckOptions::default());
        assert_eq!(
            report.verdict(),
            Verdict::Linearizable,
            "seed {seed} cfg {cfg:?}"
        );
        for k in &report.keys {
            let kh = split_by_key(&h)
                .into_iter()
                .find(|x| x.key == k.key)
                .unwrap();
            validate_certificate(&kh, k.certificate.as_ref().unwrap()).unwrap();
        }
    }
}

#[test]
fn every_injected_bug_is_detected_with_its_name() {
    for bug in Bug::ALL {
        let mut detected = 0;
        let mut named = 0;
        let mut injected = 0;
        for seed in 0..20u64 {
            let cfg = GenConfig {
                writers: 8,
                ops: 400,
                delete_rate: if bug == Bug::Resurrection { 0.15 } else { 0.0 },
                blind_rate: if bug == Bug::LostAckWrite { 0.1 } else { 0.0 },
                create_rate: if bug == Bug::DoubleCreate { 0.1 } else { 0.02 },
                bug: Some(bug),
                ..GenConfig::default()
            };
            let clean = generate_seeded(
                &GenConfig {
                    bug: None,
                    ..cfg.clone()
                },
                seed,
            );
            let h = generate_seeded(&cfg, seed);
            if h.ops == clean.ops {
                continue; // no opportunity arose
            }
            injected += 1;
            if let Verdict::Anomalous(a) = check_history(&h, &CheckOptions::default()).verdict() {
                detected += 1;
                if a.iter().any(|a| a.kind == bug.expected()) {
                    named += 1;
                } else {
                    eprintln!(
                        "{bug:?} seed {seed}: named {:?}",
                        a.iter().map(|a| a.kind).collect::<Vec<_>>()
                    );
                }
            }
        }
        eprintln!("{bug:?}: injected {injected}, detected {detected}, named {named}");
        assert!(injected >= 5, "{bug:?}: too few opportunities ({injected})");
        if bug == Bug::LostAckWrite {
            // A lost blind write that nobody looked for before it was overwritten anyway is
            // indistinguishable from one that landed and was overwritten: not a violation.
            assert!(
                detected * 10 >= injected * 8,
                "{bug:?}: detected only {detected}/{injected}"
            );
        } else {
            assert_eq!(
                detected, injected,
                "{bug:?}: every injected bug must be detected"
            );
        }
        assert!(
            named * 10 >= detected * 8,
            "{bug:?}: named right only {named}/{detected}"
        );
    }
}

#[test]
fn ambiguous_writes_never_cause_false_anomalies() {
    for seed in 0..200u64 {
        let cfg = GenConfig {
            writers: 6,
            ops: 60,
            ambiguous_rate: 0.3,
            delete_rate: 0.1,
            blind_rate: 0.1,
            ..GenConfig::default()
        };
        let h = generate_seeded(&cfg, seed);
        let v = check_history(&h, &CheckOptions::default()).verdict();
        assert!(!matches!(v, Verdict::Anomalous(_)), "seed {seed}: {v:?}");
    }
}

#[test]
fn named_kinds_round_trip() {
    for k in AnomalyKind::ALL {
        assert_eq!(AnomalyKind::from_name(k.name()), Some(k));
        assert_eq!(
            serde_json::to_string(&k).unwrap(),
            format!("\"{}\"", k.name())
        );
    }
}

#[test]
fn arbitrary_bytes_drive_the_generator_and_the_checker_agrees_with_brute_force() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let mut checked = 0;
    for _ in 0..1500 {
        let bytes: Vec<u8> = (0..64).map(|_| rng.random()).collect();
        let mut u = arbitrary::Unstructured::new(&bytes);
        let Ok((cfg, h)) = s3conform::bench::generate_arbitrary(&mut u) else {
            continue;
        };
        s3conform::history::validate(&h).unwrap();
        // Written and read back, the history is the same.
        let text = s3conform::history::write_history(Vec::new(), &h).unwrap();
        assert_eq!(
            s3conform::history::parse_history(&text[..], "mem").unwrap(),
            h
        );
        let report = check_history(&h, &CheckOptions::default());
        if cfg.bug.is_none() {
            assert_eq!(report.verdict(), Verdict::Linearizable, "{cfg:?}");
        }
        for (k, kh) in report.keys.iter().zip(split_by_key(&h)) {
            let Ok(brute) = brute_force(&kh) else {
                continue;
            };
            let anomalous = k.anomalies.iter().any(|a| !a.kind.is_protocol());
            assert_eq!(brute.is_none(), anomalous, "{cfg:?} {:?}", h.ops);
            checked += 1;
        }
    }
    assert!(
        checked > 500,
        "only {checked} keys small enough for the brute force"
    );
}

#[test]
fn tier1_agrees_with_tier2_on_medium_histories() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let (mut both_ok, mut both_bad) = (0, 0);
    for case in 0..600u64 {
        let cfg = GenConfig {
            ops: rng.random_range(20..=80),
            writers: rng.random_range(2..=8),
            ..small_config(&mut rng)
        };
        let mut h = generate_seeded(&cfg, 10_000 + case);
        if case % 2 == 1 {
            chaos(&mut h, &mut rng);
        }
        for kh in split_by_key(&h) {
            let t2 = search(&kh, &budget());
            let ctx = || format!("case {case}: {}", serde_json::to_string(&h.ops).unwrap());
            match tier1(&kh) {
                Tier1Result::Certificate(_) => {
                    assert!(
                        matches!(t2, SearchResult::Linearizable(_)),
                        "tier 1 certified, tier 2 says {t2:?}: {}",
                        ctx()
                    );
                    both_ok += 1;
                }
                Tier1Result::Inconclusive(_) => {
                    if let Some(f) = model_findings(&kh).first() {
                        assert!(
                            matches!(t2, SearchResult::Illegal { .. }),
                            "pattern {f:?} fired, tier 2 says {t2:?}: {}",
                            ctx()
                        );
                        both_bad += 1;
                    }
                }
            }
        }
    }
    eprintln!("agreed: {both_ok} linearizable, {both_bad} anomalous");
    assert!(both_ok > 200 && both_bad > 50);
}

#[test]
fn injected_bugs_shrink_to_a_handful_of_ops_with_the_same_anomaly() {
    for bug in Bug::ALL {
        for seed in 0..3u64 {
            let cfg = GenConfig {
                writers: 8,
                ops: 400,
                delete_rate: if bug == Bug::Resurrection { 0.15 } else { 0.0 },
                blind_rate: if bug == Bug::LostAckWrite { 0.1 } else { 0.0 },
                bug: Some(bug),
                ..GenConfig::default()
            };
            let h = generate_seeded(&cfg, seed);
            let report = check_history(&h, &CheckOptions::default());
            let Some(a) = report.anomalies().find(|a| a.kind == bug.expected()) else {
                continue;
            };
            let small = s3conform::check::shrink(&h, a, &CheckOptions::default());
            assert!(
                small.ops.len() <= 8,
                "{bug:?} seed {seed}: shrunk only to {} ops",
                small.ops.len()
            );
            // The witness the shrunk history shows by itself is one the detectors find in the
            // original, with the same ops: its explanation is true of the original.
            let original: Vec<Vec<u64>> = split_by_key(&h)
                .into_iter()
                .filter(|kh| kh.key == a.key)
                .flat_map(|kh| {
                    s3conform::check::detect::all_findings(&kh)
                        .into_iter()
                        .filter(|f| f.kind == a.kind)
                        .map(|f| f.ops.iter().map(|&i| kh.ops[i].id).collect::<Vec<u64>>())
                        .collect::<Vec<_>>()
                })
                .collect();
            let again = check_history(&small, &CheckOptions::default());
            let shown: Vec<_> = again.anomalies().filter(|x| x.kind == a.kind).collect();
            assert!(
                !shown.is_empty(),
                "{bug:?} seed {seed}: the shrunk history lost it"
            );
            for x in shown {
                assert!(
                    original.contains(&x.ops),
                    "{bug:?} seed {seed}: shrunk witness {:?} is not a finding of the original",
                    x.ops
                );
            }
            s3conform::history::validate(&small).unwrap();
        }
    }
}
