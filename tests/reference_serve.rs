//! `s3conform serve` as a user runs it: the binary starts, prints its endpoint, access key and
//! profile (never the secret key, which it takes from the environment), answers S3 requests,
//! and exits 0 on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;

#[tokio::test]
async fn serve_prints_its_endpoint_answers_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_s3conform"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--profile",
            "aws",
            "--access-key",
            "AK",
        ])
        // From the environment, not argv (visible in `ps`).
        .env("S3CONFORM_SECRET_KEY", "SK")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut child = KillOnDrop(child);
    let mut printed = Vec::new();
    for _ in 0..7 {
        printed.push(lines.next().expect("a line").expect("utf-8"));
    }
    let text = printed.join("\n");
    let url = printed[0].rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{text}");
    assert!(
        !text.contains("SK\n") && !text.ends_with("SK") && !text.contains(": SK"),
        "the secret key is printed:\n{text}"
    );
    for needle in [
        "profile:    aws",
        "access key: AK",
        "secret key: <not shown> (from S3CONFORM_SECRET_KEY)",
        "faults:     none",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }

    let conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .http_client(s3conform::s3::http_client())
        .endpoint_url(&url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AK", "SK", None, None, "t"))
        .force_path_style(true)
        .retry_config(RetryConfig::disabled())
        .build();
    let c = aws_sdk_s3::Client::from_conf(conf);
    c.create_bucket().bucket("bkt").send().await.unwrap();
    c.put_object()
        .bucket("bkt")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let second = c
        .put_object()
        .bucket("bkt")
        .key("k")
        .if_none_match("\"etag\"")
        .body(ByteStream::from_static(b"y"))
        .send()
        .await;
    let status = second
        .unwrap_err()
        .raw_response()
        .map(|r| r.status().as_u16());
    assert_eq!(
        status,
        Some(501),
        "the aws profile answers If-None-Match: <etag> with 501"
    );

    let pid = child.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut waited = Duration::ZERO;
    let code = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            waited < Duration::from_secs(10),
            "serve did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    };
    assert_eq!(code, Some(0));
}

/// Kills the server if the test fails before stopping it, so that no process outlives the test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
