//! Certificates for the third-party servers: `s3conform certify` (the binary, as a user runs it)
//! against each server at the quick level, under the profile its committed report uses.
//!
//! Every certificate must verify, and every promise that the server's known failing cases
//! (its strict baseline in `reports/baselines/`) establish must be named violated: those
//! failures are deterministic, so the certificate must show them, whatever the campaigns find.
//! With `S3CONFORM_WRITE_REPORTS=1` (what `reports/regenerate.sh` sets) the certificates are
//! written to `reports/certificates/<server>/` without the campaign histories, which are large
//! and which `--verify` then reports as not checked.

use std::path::{Path, PathBuf};

use crate::support::endpoints::{self, Kind};
use s3conform::case::Suite;
use s3conform::certify::model::{Certificate, Overall, State};
use s3conform::certify::requirements;
use s3conform::profile::Profile;
use s3conform::report::baseline;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn writing() -> bool {
    std::env::var_os("S3CONFORM_WRITE_REPORTS").is_some()
}

/// The files committed per server (the histories stay out).
const COMMITTED: [&str; 5] = [
    "certificate.json",
    "certificate.md",
    "certificate.html",
    "badge.svg",
    "evidence.json",
];

/// Runs the binary's `certify` against a fresh `kind` server and returns the results folder,
/// or `None` when the server is not installed (outside CI). A run the server left unfinished
/// because it stopped answering (an inconclusive certificate saying where it stopped: LocalStack
/// does so now and then under load), or that reached no certificate, is tried once more on a
/// fresh server; a second such run fails the test.
fn certify(kind: Kind, profile: Profile) -> Option<PathBuf> {
    match certify_once(kind, profile)? {
        Ok(folder) => Some(folder),
        Err(why) => {
            eprintln!("{}: {why}; once more on a fresh server", kind.label());
            match certify_once(kind, profile)? {
                Ok(folder) => Some(folder),
                Err(why) => panic!("{}: {why}, twice", kind.label()),
            }
        }
    }
}

/// One `certify` on a fresh server: the results folder of a run that finished, or why it did
/// not (its exit status, or where the server stopped answering).
fn certify_once(kind: Kind, profile: Profile) -> Option<Result<PathBuf, String>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ep = rt.block_on(endpoints::start(kind))?;
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("certify-{}", kind.label()));
    let _ = std::fs::remove_dir_all(&out);
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_s3conform"))
        .args(["certify", "-q", "--seed", "12", "--create-bucket"])
        .args(["--endpoint", &ep.url, "--bucket", "s3conform-certify"])
        .args([
            "--label",
            kind.label(),
            "--profile",
            profile.name(),
            "--timeout",
            "20",
        ])
        .arg("--out")
        .arg(&out)
        .env("AWS_ACCESS_KEY_ID", &ep.keys.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &ep.keys.secret_key)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ENDPOINT_URL")
        .status()
        .expect("the binary runs");
    // 0, 1 and 3 are verdicts; 2 is a run that reached none.
    if !matches!(status.code(), Some(0 | 1 | 3)) {
        return Some(Err(format!("certify exited {status}")));
    }
    drop(ep);
    let folder = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir() && !p.ends_with("latest"))
        .expect("a results folder");
    let cert: Certificate =
        serde_json::from_str(&std::fs::read_to_string(folder.join("certificate.json")).unwrap())
            .unwrap();
    if let Some(stop) = cert.stopped {
        return Some(Err(format!(
            "certify did not finish: {} during {}",
            stop.reason, stop.during
        )));
    }
    Some(Ok(folder))
}

fn verify(cert: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_s3conform"))
        .args(["certify", "--verify"])
        .arg(cert)
        .output()
        .expect("the binary runs")
}

fn certificate_of(kind: Kind, profile: Profile) {
    // One server at a time, and no other timed test beside it: campaigns measure races.
    let _one = crate::support::TIMED.blocking_lock();
    let Some(folder) = certify(kind, profile) else {
        return;
    };
    let verified = verify(&folder.join("certificate.json"));
    assert!(
        verified.status.success(),
        "{}: {}",
        kind.label(),
        String::from_utf8_lossy(&verified.stdout)
    );
    let cert: Certificate =
        serde_json::from_str(&std::fs::read_to_string(folder.join("certificate.json")).unwrap())
            .unwrap();
    let known = baseline::load(&root().join("reports/baselines").join(format!(
        "{}-{}.yaml",
        kind.label(),
        profile
    )))
    .expect("the server's baseline");
    let reqs = requirements::embedded(profile).unwrap();
    let suite = Suite::load(&root().join("cases")).unwrap();
    let ids: Vec<String> = suite.cases.iter().map(|c| c.id.clone()).collect();
    let resolved = reqs.resolve(&ids).unwrap();
    for (case, reason) in &known.entries {
        // Errors (ambiguous answers) are never violations.
        if reason.starts_with("error:") {
            continue;
        }
        // A race shows a non-atomic server only when the requests overlap inside it: on
        // SeaweedFS four CompleteMultipartUpload calls sometimes finish one after another, and
        // the race then rightly passes. Only a race that failed in this run proves anything.
        let outcome = cert
            .requirements
            .iter()
            .flat_map(|r| &r.cases)
            .find(|c| &c.case == case)
            .map(|c| c.outcome.as_str());
        if case.starts_with("race::") && outcome == Some("pass") {
            continue;
        }
        for id in resolved.requirements(case) {
            let r = cert.requirements.iter().find(|r| &r.id == id).unwrap();
            assert_eq!(
                r.verdict,
                State::Violated,
                "{}: {case} fails on this server, so {id} must be violated",
                kind.label()
            );
        }
    }
    if cert.counts.violated > 0 {
        assert_eq!(cert.verdict, Overall::NotConformant);
    }
    if writing() {
        let dest = root().join("reports/certificates").join(kind.label());
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::create_dir_all(&dest).unwrap();
        for file in COMMITTED {
            std::fs::copy(folder.join(file), dest.join(file)).unwrap();
        }
    }
}

#[test]
#[ignore = "needs SeaweedFS (.ci/endpoints.sh install)"]
fn seaweedfs() {
    certificate_of(Kind::SeaweedFs, Profile::Coreweave);
}

#[test]
#[ignore = "needs LocalStack (.ci/endpoints.sh install)"]
fn localstack() {
    certificate_of(Kind::LocalStack, Profile::Aws);
}

#[test]
#[ignore = "needs moto (.ci/endpoints.sh install)"]
fn moto() {
    certificate_of(Kind::Moto, Profile::Coreweave);
}

#[test]
#[ignore = "needs s3rver (.ci/endpoints.sh install)"]
fn s3rver() {
    certificate_of(Kind::S3rver, Profile::Coreweave);
}

#[test]
fn s3s_fs() {
    certificate_of(Kind::S3sFs, Profile::Coreweave);
}
