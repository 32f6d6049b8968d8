//! The committed history corpus (`tests/histories/`):
//! - `good/*.jsonl` must be linearizable, with a certificate that validates;
//! - `bad/<kind>--<what>.jsonl` must report an anomaly named `<kind>`, render in every form,
//!   and shrink to a history that still shows that kind;
//! - `malformed/*.jsonl` must be rejected with an error naming the file and line, not a panic.

use std::path::{Path, PathBuf};
use std::time::Duration;

use s3conform::check::model::split_by_key;
use s3conform::check::validate::validate_certificate;
use s3conform::check::{
    AnomalyKind, CheckOptions, KeyVerdict, Verdict, check_history, render, shrink,
};
use s3conform::commands::check::{CheckArgs, run_to};
use s3conform::exit_code;
use s3conform::history::read_history;

fn files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/histories")
        .join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no histories in {}", root.display());
    v
}

fn opts() -> CheckOptions {
    CheckOptions {
        time_budget: Duration::from_secs(10),
        ..CheckOptions::default()
    }
}

#[test]
fn good_histories_are_linearizable_with_valid_certificates() {
    for path in files("good") {
        let h = read_history(&path).unwrap_or_else(|e| panic!("{e}"));
        let report = check_history(&h, &opts());
        assert_eq!(
            report.verdict(),
            Verdict::Linearizable,
            "{}: {:#?}",
            path.display(),
            report
        );
        for (k, kh) in report.keys.iter().zip(split_by_key(&h)) {
            assert_eq!(k.verdict, KeyVerdict::Linearizable);
            validate_certificate(&kh, k.certificate.as_ref().expect("certificate")).unwrap();
        }
    }
}

fn expected_kind(path: &Path) -> AnomalyKind {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    let name = stem.split("--").next().unwrap();
    AnomalyKind::from_name(name)
        .unwrap_or_else(|| panic!("{}: `{name}` is not an anomaly name", path.display()))
}

#[test]
fn bad_histories_report_the_named_anomaly() {
    for path in files("bad") {
        let want = expected_kind(&path);
        let h = read_history(&path).unwrap();
        let report = check_history(&h, &opts());
        let Verdict::Anomalous(found) = report.verdict() else {
            panic!(
                "{}: expected {want}, got {:?}",
                path.display(),
                report.verdict()
            )
        };
        assert!(
            found.iter().any(|a| a.kind == want),
            "{}: expected {want}, found {:?}",
            path.display(),
            found.iter().map(|a| a.kind).collect::<Vec<_>>()
        );
        // The first anomaly reported on the key is the most specific one: it must be the expected kind.
        assert_eq!(
            found[0].kind,
            want,
            "{}: first anomaly should be {want}",
            path.display()
        );
        for a in &found {
            let text = render::text(&h, a);
            assert!(
                text.starts_with(a.kind.name()) && text.contains("Then:"),
                "{text}"
            );
            assert!(!render::lanes(&h, a).is_empty() || a.ops.is_empty());
        }
        let json: serde_json::Value = serde_json::from_str(&render::json(&h, &report)).unwrap();
        assert_eq!(json["anomalies"][0]["kind"], want.name());
        let html = render::html(&h, &report);
        assert!(
            html.contains("<html")
                && html.contains(want.name())
                && !html.contains("http://")
                && !html.contains("https://")
        );
        let a = found.iter().find(|a| a.kind == want).unwrap();
        let small = shrink(&h, a, &opts());
        assert!(small.ops.len() <= h.ops.len());
        assert!(
            check_history(&small, &opts())
                .anomalies()
                .any(|x| x.kind == want),
            "{}: shrunk history lost the anomaly",
            path.display()
        );
    }
}

#[test]
fn malformed_histories_are_errors_not_panics() {
    for path in files("malformed") {
        let err = read_history(&path)
            .expect_err(&path.display().to_string())
            .to_string();
        assert!(
            err.contains(&path.display().to_string()),
            "error should name the file: {err}"
        );
        if !path.ends_with("empty.jsonl") {
            assert!(err.contains(".jsonl:"), "error should name the line: {err}");
        }
    }
}

fn args(path: PathBuf) -> CheckArgs {
    CheckArgs {
        file: path,
        time_budget: Duration::from_secs(10),
        max_states: 1_000_000,
        html: None,
        json: None,
        shrink: false,
        no_shrink: false,
        shrink_dir: None,
        out: None,
        threads: Some(1),
    }
}

#[test]
fn check_command_exit_codes() {
    let mut out = Vec::new();
    let good = files("good").remove(0);
    assert_eq!(run_to(&args(good), &mut out).unwrap(), exit_code::SUCCESS);
    let bad = files("bad")
        .into_iter()
        .find(|p| p.to_str().unwrap().contains("lost-update"))
        .unwrap();
    let dir = std::env::temp_dir().join(format!("s3conform-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut a = args(bad);
    a.html = Some(dir.join("w.html"));
    a.json = Some(dir.join("w.json"));
    a.shrink_dir = Some(dir.join("shrunk"));
    let mut out = Vec::new();
    assert_eq!(run_to(&a, &mut out).unwrap(), exit_code::FAILURE);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("lost-update on key k")
            && text.contains("Let:")
            && (text.contains("already minimal") || text.contains("shrunk from")),
        "{text}"
    );
    assert!(
        dir.join("w.html").exists()
            && dir.join("w.json").exists()
            && dir.join("shrunk/lost-update.jsonl").exists()
    );
    let malformed = files("malformed").remove(0);
    let err = run_to(&args(malformed), &mut Vec::new()).unwrap_err();
    assert_eq!(err.exit_code(), exit_code::SETUP_ERROR);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_exhausted_budget_is_unknown_not_a_guess() {
    // Writes whose ETag is unknown keep Tier 1 out (it needs every version's ETag), so the
    // search must run; a budget of one configuration must then give Unknown, never a verdict.
    let cfg = s3conform::bench::GenConfig {
        writers: 8,
        ops: 300,
        ..Default::default()
    };
    let mut h = s3conform::bench::generate_seeded(&cfg, 3);
    for op in &mut h.ops {
        if let s3conform::history::Req::Put {
            etag_if_applied, ..
        } = &mut op.req
        {
            *etag_if_applied = None;
            if let s3conform::history::Out::Ok { etag, .. } = &mut op.out {
                *etag = None;
            }
        }
    }
    let tight = check_history(
        &h,
        &CheckOptions {
            time_budget: Duration::from_secs(10),
            max_states: 1,
            threads: 1,
        },
    );
    assert!(
        matches!(tight.verdict(), Verdict::Unknown { .. }),
        "{:?}",
        tight.verdict()
    );
    let roomy = check_history(&h, &opts());
    assert_eq!(roomy.verdict(), Verdict::Linearizable);
    // The command maps Unknown to exit code 3.
    let path = std::env::temp_dir().join(format!("s3conform-unknown-{}.jsonl", std::process::id()));
    std::fs::write(
        &path,
        s3conform::history::write_history(Vec::new(), &h).unwrap(),
    )
    .unwrap();
    let mut a = args(path.clone());
    a.max_states = 1;
    let mut out = Vec::new();
    assert_eq!(run_to(&a, &mut out).unwrap(), exit_code::UNKNOWN);
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("unknown: key k0: the search reached its cap of 1 cached configurations")
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn unknown_status_conventions_are_notes_not_anomalies() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/histories/good/unknown-convention-is-a-note.jsonl");
    let h = read_history(&path).unwrap();
    let report = check_history(&h, &opts());
    assert_eq!(report.verdict(), Verdict::Linearizable);
    let notes: Vec<_> = report.notes().map(|n| n.op).collect();
    assert_eq!(
        notes,
        vec![1, 2],
        "{:#?}",
        report.notes().collect::<Vec<_>>()
    );
    let mut out = Vec::new();
    assert_eq!(run_to(&args(path), &mut out).unwrap(), exit_code::SUCCESS);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("2 conformance notes (not anomalies)") && text.contains("GET → 412"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&render::json(&h, &check_history(&h, &opts()))).unwrap();
    assert_eq!(json["conformance_notes"][0]["op"], 1, "{json}");
    // Documented conventions are accepted silently.
    let documented = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/histories/good/documented-status-conventions.jsonl");
    let report = check_history(&read_history(&documented).unwrap(), &opts());
    assert_eq!(report.verdict(), Verdict::Linearizable);
    assert_eq!(report.notes().count(), 0);
}

/// `Anomaly::blamed` names the ops each kind convicts by their position in the detectors'
/// witnesses; `certify` narrows per-operation promises by them. On every anomaly of the bad
/// corpus, the convicted ops are witness ops of the role the kind names: the read for the read
/// kinds (or a CopyObject, which reads its source: a stale source is a stale read), the two `If-Match` winners of a lost update, the two `If-None-Match: *` creates of a
/// double create, the conditional write or delete of an ignored precondition, and none for a
/// search verdict.
#[test]
fn convicted_ops_play_the_role_their_kind_names() {
    use s3conform::history::Req;
    for path in files("bad") {
        let h = read_history(&path).unwrap();
        let report = check_history(&h, &opts());
        for a in report.anomalies() {
            let blamed: Vec<&Req> = a
                .blamed()
                .iter()
                .map(|id| {
                    assert!(a.ops.contains(id), "{}: {a:?}", path.display());
                    &h.ops.iter().find(|o| o.id == *id).unwrap().req
                })
                .collect();
            let read = |r: &&Req| {
                matches!(
                    r,
                    Req::Get { .. }
                        | Req::Head { .. }
                        | Req::Put {
                            via: s3conform::history::Via::Copy,
                            ..
                        }
                )
            };
            let write = |r: &&Req| matches!(r, Req::Put { .. } | Req::Delete { .. });
            let at = format!("{}: {} {:?}", path.display(), a.kind, a.ops);
            match a.kind {
                AnomalyKind::NonLinearizable => assert!(blamed.is_empty(), "{at}"),
                AnomalyKind::LostUpdate => {
                    assert_eq!(blamed.len(), 2, "{at}");
                    assert!(
                        blamed.iter().all(|r| matches!(
                            r,
                            Req::Put {
                                if_match: Some(_),
                                ..
                            }
                        )),
                        "{at}"
                    );
                }
                AnomalyKind::DoubleCreate => {
                    assert_eq!(blamed.len(), 2, "{at}");
                    assert!(
                        blamed.iter().all(|r| matches!(
                            r,
                            Req::Put { if_none_match: Some(e), .. } if e == "*"
                        )),
                        "{at}"
                    );
                }
                AnomalyKind::StaleRead
                | AnomalyKind::NonMonotonicRead
                | AnomalyKind::Phantom304
                | AnomalyKind::Resurrection
                | AnomalyKind::GarbageRead => {
                    assert!(blamed.len() == 1 && blamed.iter().all(read), "{at}")
                }
                AnomalyKind::IgnoredPrecondition | AnomalyKind::Spurious409 => {
                    assert!(blamed.len() == 1 && blamed.iter().all(write), "{at}")
                }
                AnomalyKind::DuplicateEtag => {
                    assert!(blamed.len() == 2 && blamed.iter().all(write), "{at}")
                }
                AnomalyKind::Phantom412 | AnomalyKind::Phantom404 => {
                    assert_eq!(blamed.len(), 1, "{at}")
                }
                AnomalyKind::LostAcknowledgedWrite => {
                    assert!(blamed.iter().any(write), "{at}")
                }
            }
        }
    }
}

/// `check` validates a history beside grouping its ops, on a second thread for a large one: a
/// fault deep in a large file must give the very error the reader gives, and a sound file the
/// verdict the in-memory check gives.
#[test]
fn a_large_history_broken_deep_gives_the_readers_error_through_check() {
    use s3conform::history::{History, Req, write_history};
    let cfg = s3conform::bench::GenConfig {
        writers: 8,
        ops: 12_000,
        ..Default::default()
    };
    let sound = s3conform::bench::generate_seeded(&cfg, 3);
    let dir = std::env::temp_dir().join(format!("s3conform-deep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let check = |name: &str, h: &History| {
        let path = dir.join(name);
        std::fs::write(&path, write_history(Vec::new(), h).unwrap()).unwrap();
        let mut a = args(path.clone());
        a.threads = Some(2);
        (path, run_to(&a, &mut Vec::new()))
    };
    let (_, verdict) = check("sound.jsonl", &sound);
    let expected =
        exit_code::of_verdict(&check_history(&sound, &CheckOptions::default()).verdict());
    assert_eq!(verdict.unwrap(), expected);
    let n = sound.ops.len();
    type Break = fn(&mut History, usize);
    let faults: [(&str, Break); 6] = [
        ("duplicate-id", |h, n| h.ops[n - 100].id = h.ops[n / 2].id),
        ("return-before-call", |h, n| {
            let op = &mut h.ops[n - 50];
            op.ret_ns = op.call_ns - 1;
        }),
        ("empty-key", |h, n| h.ops[n - 10].key.clear()),
        ("overlap", |h, n| {
            let client = h.ops[n - 200].client;
            let next = (n - 199..n).find(|&j| h.ops[j].client == client).unwrap();
            h.ops[n - 200].ret_ns = h.ops[next].call_ns + 1;
        }),
        ("initiated-after-call", |h, n| {
            let i = (0..n)
                .rev()
                .find(|&i| matches!(h.ops[i].req, Req::Put { .. }));
            let op = &mut h.ops[i.unwrap()];
            let late = op.call_ns + 1;
            if let Req::Put { initiated_ns, .. } = &mut op.req {
                *initiated_ns = Some(late);
            }
        }),
        ("overlap-then-duplicate", |h, n| {
            let client = h.ops[n / 3].client;
            let next = (n / 3 + 1..n).find(|&j| h.ops[j].client == client).unwrap();
            h.ops[n / 3].ret_ns = h.ops[next].call_ns + 1;
            h.ops[n - 1].id = h.ops[0].id;
        }),
    ];
    for (name, fault) in faults {
        let mut h = sound.clone();
        fault(&mut h, n);
        let (path, got) = check(&format!("{name}.jsonl"), &h);
        let want = read_history(&path).expect_err(name).to_string();
        let got = got.expect_err(name);
        assert_eq!(got.to_string(), want, "{name}");
        assert_eq!(got.exit_code(), exit_code::SETUP_ERROR, "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
