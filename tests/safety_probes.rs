//! Every third-party server the project tests against passes the setup probes (versioning,
//! an empty run root, a 404 that is an S3 error, a PUT with an ETag): being careful must not
//! turn a real S3 implementation away. Servers not installed are skipped loudly (a failure
//! under CI=1).

use crate::support;

use std::process::Command;
use std::time::Instant;

use support::endpoints::{self, Kind};

#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_party_servers_pass_the_setup_probes() {
    for kind in [
        Kind::SeaweedFs,
        Kind::Moto,
        Kind::S3rver,
        Kind::S3sFs,
        Kind::LocalStack,
    ] {
        let Some(ep) = endpoints::start(kind).await else {
            continue;
        };
        let mut c = Command::new(env!("CARGO_BIN_EXE_s3conform"));
        c.args([
            "fuzz",
            "--endpoint",
            &ep.url,
            "--bucket",
            "probes",
            "--create-bucket",
        ])
        .args([
            "--ops",
            "20",
            "--writers",
            "2",
            "--keys",
            "1",
            "--no-progress",
        ])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("S3CONFORM_PROFILE")
        .env("AWS_ACCESS_KEY_ID", &ep.keys.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &ep.keys.secret_key)
        .env("AWS_REGION", "us-east-1")
        .current_dir(std::env::temp_dir());
        let started = Instant::now();
        let out = tokio::task::spawn_blocking(move || c.output().expect("runs"))
            .await
            .unwrap();
        let t = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "{}: exit {:?} in {:.1} s",
            kind.label(),
            out.status.code(),
            started.elapsed().as_secs_f64()
        );
        assert!(
            matches!(out.status.code(), Some(0 | 1 | 3)),
            "{} was turned away:\n{t}",
            kind.label()
        );
        assert!(t.contains("verdict:"), "{}: {t}", kind.label());
    }
}
