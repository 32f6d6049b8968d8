//! `s3conform certify` end to end against the embedded endpoint: conformant under both profiles
//! when nothing is broken; with each injected fault, the requirements whose cases the fault
//! breaks are named violated, and a campaign's anomaly violates no promise it does not disprove
//! (a double create leaves the conditional-read promises alone); `--verify` finds a tampered
//! evidence file and a tampered certificate.
//!
//! Expected requirement ids are derived, never copied from a run: each test names the cases the
//! fault breaks (the same ones `tests/cases_faults.rs` shows failing, for the reason given) and
//! asks the profile's requirements which promises those cases establish.

use std::path::{Path, PathBuf};

use clap::Parser;
use s3conform::case::Suite;
use s3conform::certify::model::{Certificate, Overall, State};
use s3conform::certify::refutation::Operation;
use s3conform::certify::{render_html, requirements};
use s3conform::cli::{Cli, run};
use s3conform::profile::Profile;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("certify-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `s3conform certify -q --seed 5 ARGS --out DIR` and returns the exit code and the folder.
fn certify(name: &str, args: &[&str]) -> (u8, PathBuf) {
    // One certification at a time, and none beside another timed test: campaigns measure
    // races, and two sharing 2 cores overlap every op (a spurious 409 then always has a
    // concurrent write to excuse it).
    let _one = crate::support::TIMED.blocking_lock();
    let out = scratch(name);
    let mut argv = vec!["s3conform", "certify", "-q", "--seed", "5", "--out"];
    let out_text = out.display().to_string();
    argv.push(&out_text);
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(&argv).expect("argv parses");
    let code = run(cli).expect("certify ran");
    let folder = std::fs::read_dir(&out)
        .expect("results root")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir() && !p.ends_with("latest"))
        .expect("a results folder");
    (code, folder)
}

fn load(folder: &Path) -> Certificate {
    let text = std::fs::read_to_string(folder.join("certificate.json")).expect("certificate");
    serde_json::from_str(&text).expect("certificate parses")
}

fn violated(cert: &Certificate) -> Vec<&str> {
    cert.requirements
        .iter()
        .filter(|r| r.verdict == State::Violated)
        .map(|r| r.id.as_str())
        .collect()
}

/// The requirements of `profile` that `cases` establish.
fn promises_of(profile: Profile, cases: &[&str]) -> Vec<String> {
    let reqs = requirements::embedded(profile).expect("embedded requirements");
    let suite = Suite::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cases")).unwrap();
    let ids: Vec<String> = suite.cases.iter().map(|c| c.id.clone()).collect();
    let resolved = reqs.resolve(&ids).expect("requirements resolve");
    let mut out: Vec<String> = cases
        .iter()
        .flat_map(|c| resolved.requirements(c).to_vec())
        .collect();
    out.sort();
    out.dedup();
    assert!(
        !out.is_empty(),
        "{cases:?} establish no requirement of {profile}"
    );
    out
}

/// Certifies the embedded endpoint with `fault` under `profile` and asserts it is not
/// conformant and that every promise `broken` cases establish is violated.
fn names(fault: &str, profile: Profile, broken: &[&str]) -> Certificate {
    let (code, folder) = certify(
        &format!("{fault}-{profile}"),
        &["--profile", profile.name(), "--fault", fault],
    );
    let cert = load(&folder);
    let got = violated(&cert);
    for id in promises_of(profile, broken) {
        assert!(
            got.contains(&id.as_str()),
            "{fault} under {profile}: {id} should be violated; violated: {got:?}"
        );
    }
    assert_eq!(cert.verdict, Overall::NotConformant, "{fault}");
    assert_eq!(code, 1, "{fault}: not conformant exits 1");
    cert
}

#[test]
fn the_reference_endpoint_is_conformant_under_both_profiles() {
    for profile in Profile::ALL {
        let (code, folder) = certify(&format!("clean-{profile}"), &["--profile", profile.name()]);
        let cert = load(&folder);
        assert_eq!(
            cert.verdict,
            Overall::Conformant,
            "{profile}: {}",
            cert.because
        );
        assert_eq!(code, 0);
        assert_eq!(cert.counts.violated + cert.counts.not_established, 0);
        assert!(
            cert.campaigns
                .iter()
                .all(|c| c.ops > 0 && c.history.is_some())
        );
        for file in [
            "certificate.md",
            "certificate.html",
            "badge.svg",
            "evidence.json",
        ] {
            assert!(folder.join(file).is_file(), "{file}");
        }
        let badge = std::fs::read_to_string(folder.join("badge.svg")).unwrap();
        assert!(badge.contains(&format!("s3conform {profile}")) && badge.contains("conformant"));
    }
}

/// PutObject ignores If-Match: a mismatched or stale If-Match overwrites (the 412 promise and
/// compare-and-swap), and racing CAS writers all win. The fault is PutObject's alone, so the
/// campaigns' lost updates disprove PutObject's `If-Match` promises and no promise about
/// another operation's (CompleteMultipartUpload, CopyObject), whose cases pass.
#[test]
fn ignore_if_match() {
    let cert = names(
        "ignore-if-match",
        Profile::Coreweave,
        &[
            "put::if-match-mismatch",
            "put::if-match-stale",
            "race::put-cas-16",
        ],
    );
    the_page_shows_each_proof_once(&cert);
    let reqs = requirements::embedded(Profile::Coreweave).expect("embedded requirements");
    let narrowed_to = |r: &requirements::Requirement| -> Vec<Operation> {
        let mut ops: Vec<Operation> = r
            .refuted_by
            .iter()
            .flat_map(|x| x.operations.iter().copied())
            .collect();
        ops.sort();
        ops.dedup();
        if r.refuted_by.iter().any(|x| x.operations.is_empty()) {
            Vec::new()
        } else {
            ops
        }
    };
    let lists_lost_update = |r: &requirements::Requirement| {
        r.refuted_by
            .iter()
            .any(|x| x.kind == s3conform::check::AnomalyKind::LostUpdate)
    };
    let others: Vec<&requirements::Requirement> = reqs
        .requirements
        .iter()
        .filter(|r| {
            let ops = narrowed_to(r);
            lists_lost_update(r) && !ops.is_empty() && !ops.contains(&Operation::PutObject)
        })
        .collect();
    assert!(
        others.iter().any(|r| r.id == "CW-CMU-IM-NO-MATCH"),
        "CompleteMultipartUpload's If-Match promise is narrowed to it"
    );
    for r in others {
        let got = cert.requirements.iter().find(|x| x.id == r.id).unwrap();
        assert_ne!(
            got.verdict,
            State::Violated,
            "{}: a PutObject fault violates a promise about {:?}: {}",
            r.id,
            narrowed_to(r),
            got.because
        );
    }
    // And PutObject's own promise is violated by the campaigns' witnesses, each of which
    // convicts PutObjects only.
    let put = reqs
        .requirements
        .iter()
        .find(|r| lists_lost_update(r) && narrowed_to(r) == [Operation::PutObject])
        .expect("a promise narrowed to PutObject");
    let got = cert.requirements.iter().find(|x| x.id == put.id).unwrap();
    let witnesses: Vec<_> = got.campaigns.iter().flat_map(|c| &c.witnesses).collect();
    assert!(
        got.verdict == State::Violated && !witnesses.is_empty(),
        "{}: {}",
        put.id,
        got.because
    );
    for w in witnesses {
        assert_eq!(w.culprit_operations, [Operation::PutObject], "{w:?}");
    }
    assert!(
        got.refuted_by
            .iter()
            .any(|x| x.to_string() == "lost-update(PutObject)"),
        "the rule is on the certificate: {:?}",
        got.refuted_by
    );
}

/// Check-then-write creates: racing If-None-Match: * creators all win, in the race cases and in
/// the safe-create storm.
#[test]
fn non_atomic_create() {
    let cert = names(
        "non-atomic-create",
        Profile::Coreweave,
        &["race::put-safe-create-16", "race::put-safe-create-32-small"],
    );
    the_page_shows_each_proof_once(&cert);
    // A double create disproves safe create, not reads: no promise established by conditional
    // reads alone is violated, whatever anomalies the campaigns found.
    let reads = read_promises(Profile::Coreweave);
    assert!(reads.iter().any(|id| id == "CW-GET-IM-MATCH"), "{reads:?}");
    let got = violated(&cert);
    for id in &reads {
        assert!(
            !got.contains(&id.as_str()),
            "non-atomic-create: {id} rests on reads only, yet is violated: {}",
            cert.requirements
                .iter()
                .find(|r| &r.id == id)
                .unwrap()
                .because
        );
    }
}

/// The requirements of `profile` whose cases are all conditional reads (GET or HEAD).
fn read_promises(profile: Profile) -> Vec<String> {
    let reqs = requirements::embedded(profile).expect("embedded requirements");
    reqs.requirements
        .iter()
        .filter(|r| {
            !r.cases.is_empty()
                && r.cases
                    .iter()
                    .all(|c| c.starts_with("get::") || c.starts_with("head::"))
        })
        .map(|r| r.id.clone())
        .collect()
}

/// The page of a certificate where one fault breaks many promises: each violated promise has
/// its anchor (the README's table links to it), a failed case or a witness that proves several
/// promises is shown in full once, and every link within the page leads somewhere.
fn the_page_shows_each_proof_once(cert: &Certificate) {
    let page = render_html::html(cert);
    let ids: Vec<&str> = page
        .split(" id=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "an id is repeated: {ids:?}");
    for r in violated(cert) {
        assert!(
            ids.contains(&format!("v-{r}").as_str()),
            "no anchor for {r}"
        );
    }
    // Each failed case is shown in full exactly once, however many promises it proves broken
    // (how many promises share one depends on which races the fault happened to break, so only
    // the exact count is asserted).
    let mut failed: Vec<&str> = cert
        .requirements
        .iter()
        .filter(|r| r.verdict == State::Violated)
        .flat_map(|r| r.cases.iter().filter(|c| c.outcome == "fail"))
        .map(|c| c.case.as_str())
        .collect();
    failed.sort_unstable();
    failed.dedup();
    let shown = ids.iter().filter(|i| i.starts_with("c-")).count();
    assert!(
        shown > 0 && shown == failed.len(),
        "{shown} failed cases in full for {} distinct failed cases",
        failed.len()
    );
    for target in page.split("href=\"#").skip(1) {
        let target = &target[..target.find('"').unwrap()];
        assert!(
            ids.contains(&target),
            "a link to #{target}, which is nowhere"
        );
    }
}

/// 200 with the body where If-None-Match matches: the conditional-read promise.
#[test]
fn not_modified_as_200() {
    names(
        "not-modified-as-200",
        Profile::Coreweave,
        &["get::if-none-match-hit", "head::if-none-match-hit"],
    );
}

/// A matching copy-source-if-none-match answered 304 rather than 412: AWS's CopyObject
/// reference promises 412 (CoreWeave's documents say nothing of copy-source conditions, so under
/// `coreweave` the case is an extra and decides no promise).
#[test]
fn copy_source_304() {
    let cert = names(
        "copy-source-304",
        Profile::Aws,
        &["copy::source-if-none-match-hit"],
    );
    // No race or campaign uses source conditions: the race promises are untouched.
    let race = cert
        .requirements
        .iter()
        .find(|r| r.id == promises_of(Profile::Aws, &["race::put-safe-create-16"])[0])
        .unwrap();
    assert_eq!(race.verdict, State::Holds);
}

/// 412 where AWS answers 404 NoSuchKey: If-Match on a missing key for PUT, DELETE, GET and a
/// missing copy source.
#[test]
fn four_twelve_for_404() {
    names(
        "412-for-404",
        Profile::Aws,
        &[
            "put::if-match-missing-key",
            "delete::if-match-absent",
            "get::if-match-missing-key",
            "copy::source-missing",
        ],
    );
}

/// Reads see the version before the last write for 100 ms: a PUT followed at once by HEAD and
/// GET sees another ETag (read-after-write consistency).
#[test]
fn stale_read() {
    names("stale-read", Profile::Aws, &["put::etag-consistent"]);
}

/// 304 for an If-None-Match naming the previous version.
#[test]
fn phantom_304() {
    names(
        "phantom-304",
        Profile::Coreweave,
        &[
            "get::if-none-match-stale-etag",
            "head::if-none-match-stale-etag",
        ],
    );
}

/// Every 5th conditional write that would succeed is refused with 409, whichever case or
/// campaign sends it: which case is hit depends on the order cases run, so the test asserts what
/// holds for every order: something is violated, and every violation is proven by a 409 (anywhere
/// in a failing case's record) or a spurious-409 witness, never by anything else.
#[test]
fn spurious_409() {
    let (code, folder) = certify(
        "spurious-409",
        &["--profile", "coreweave", "--fault", "spurious-409"],
    );
    let cert = load(&folder);
    assert!(!violated(&cert).is_empty() && code == 1, "{}", cert.because);
    // The 409 may come at any step of a failing case (a refused set-up write fails the read
    // after it), so look for it in the case's whole record in the evidence.
    let evidence: s3conform::certify::evidence::Evidence =
        serde_json::from_str(&std::fs::read_to_string(folder.join("evidence.json")).unwrap())
            .unwrap();
    for r in cert
        .requirements
        .iter()
        .filter(|r| r.verdict == State::Violated)
    {
        for c in r.cases.iter().filter(|c| c.outcome == "fail") {
            let record = evidence.cases.iter().find(|e| e.name == c.case).unwrap();
            assert!(
                record
                    .steps
                    .iter()
                    .flat_map(|s| &s.observations)
                    .any(|o| o.status == Some(409)),
                "{}: {} failed without any 409",
                r.id,
                c.case
            );
        }
        for w in r.campaigns.iter().flat_map(|c| &c.witnesses) {
            assert_eq!(w.witness.kind, "spurious-409", "{}", r.id);
        }
    }
}

/// A write applied and then answered 500, or its connection dropped: every such answer is
/// ambiguous, so nothing is violated, and with one write in four lost the certificate is
/// inconclusive (exit 3), never conformant.
#[test]
fn lost_answers_are_inconclusive_never_violations() {
    for fault in ["write-then-500", "write-then-reset"] {
        let (code, folder) = certify(fault, &["--profile", "coreweave", "--fault", fault]);
        let cert = load(&folder);
        assert_eq!(violated(&cert), Vec::<&str>::new(), "{fault}");
        assert_eq!(cert.verdict, Overall::Inconclusive, "{fault}");
        assert!(cert.ambiguity.suite.over, "{fault}");
        assert_eq!(code, 3);
    }
}

/// A refused conditional write applied anyway: the reads after each refusal see it, for PUT
/// (If-Match, If-None-Match with an ETag), CopyObject source conditions and racing creates.
#[test]
fn refused_write_applied() {
    names(
        "refused-write-applied",
        Profile::Coreweave,
        &[
            "put::if-match-mismatch",
            "put::if-none-match-etag-current",
            "copy::source-if-match-mismatch",
            "race::put-safe-create-2",
        ],
    );
}

/// DeleteObject deletes although If-Match fails (AWS documents conditional deletes; CoreWeave
/// does not).
#[test]
fn delete_despite_condition() {
    names(
        "delete-despite-condition",
        Profile::Aws,
        &["delete::if-match-mismatch", "delete::if-match-stale"],
    );
}

/// ETags without quotes, or weak: the documents show quoted hex strings.
#[test]
fn unquoted_and_weak_etags() {
    for fault in ["unquoted-etag", "weak-etag"] {
        names(
            fault,
            Profile::Coreweave,
            &["put::etag-consistent", "put::head-then-if-match"],
        );
    }
}

fn verify(cert: &Path, extra: &[&str]) -> u8 {
    let text = cert.display().to_string();
    let mut argv = vec!["s3conform", "certify", "--verify", &text];
    argv.extend_from_slice(extra);
    run(Cli::try_parse_from(&argv).unwrap()).expect("verify ran")
}

#[test]
fn verify_finds_tampered_evidence_and_a_tampered_certificate() {
    let (_, folder) = certify("verify", &["--profile", "coreweave"]);
    let cert = folder.join("certificate.json");
    let evidence = folder.join("evidence.json");
    assert_eq!(verify(&cert, &[]), 0, "an untouched certificate verifies");
    // From any directory: the shipped requirements are the embedded copy, not whatever
    // `requirements/coreweave.yaml` the current directory holds.
    let elsewhere = std::process::Command::new(env!("CARGO_BIN_EXE_s3conform"))
        .args(["certify", "--verify", "certificate.json"])
        .current_dir(&folder)
        .output()
        .expect("the binary runs");
    assert!(
        elsewhere.status.success(),
        "{}{}",
        String::from_utf8_lossy(&elsewhere.stdout),
        String::from_utf8_lossy(&elsewhere.stderr)
    );

    // Evidence changed after the fact: the digest no longer matches.
    let original = std::fs::read_to_string(&evidence).unwrap();
    let failed = original.replacen(
        r#""verdict": {
        "kind": "pass"
      }"#,
        r#""verdict": {
        "kind": "fail",
        "mismatches": [{"step": 1, "field": "status", "expected": "412", "observed": "200"}]
      }"#,
        1,
    );
    assert_ne!(
        failed, original,
        "the evidence has a passing case to tamper with"
    );
    let forged = folder.join("forged-evidence.json");
    std::fs::write(&forged, &failed).unwrap();
    assert_eq!(
        verify(&cert, &["--evidence", &forged.display().to_string()]),
        1
    );

    // Both changed, the certificate's digest updated to match: the verdicts no longer follow.
    let mut c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cert).unwrap()).unwrap();
    c["evidence"]["sha256"] =
        serde_json::Value::String(s3conform::certify::evidence::sha256_hex(failed.as_bytes()));
    let forged_cert = folder.join("forged-certificate.json");
    std::fs::write(&forged_cert, serde_json::to_string_pretty(&c).unwrap()).unwrap();
    assert_eq!(
        verify(&forged_cert, &["--evidence", &forged.display().to_string()]),
        1
    );

    // Other wording of the requirements: the certificate is not current, and says so apart
    // from tampering.
    let reworded = folder.join("reworded.yaml");
    let wording = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("requirements/coreweave.yaml"),
    )
    .unwrap();
    std::fs::write(&reworded, format!("{wording}# reworded\n")).unwrap();
    let found = s3conform::certify::verify::verify(&cert, None, Some(&reworded)).unwrap();
    assert!(found.requirements_changed, "{:?}", found.differences);
    assert_eq!(
        verify(&cert, &["--requirements", &reworded.display().to_string()]),
        1
    );
    let found = s3conform::certify::verify::verify(&cert, None, None).unwrap();
    assert!(!found.requirements_changed && found.differences.is_empty());

    // The certificate alone edited: a requirement's verdict no longer follows from the evidence.
    let mut c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cert).unwrap()).unwrap();
    c["requirements"][0]["verdict"] = serde_json::Value::String("violated".into());
    std::fs::write(&forged_cert, serde_json::to_string_pretty(&c).unwrap()).unwrap();
    assert_eq!(
        verify(
            &forged_cert,
            &["--evidence", &evidence.display().to_string()]
        ),
        1
    );
}
