//! A bucket full of someone else's data comes through `run`, `fuzz`, an interrupted run, a
//! killed run and `clean` unchanged, byte for byte: objects at the root, unicode names, `..`
//! names, look-alike run prefixes and root markers, and names equal to the tool's own keys under
//! a shared `--prefix`, plus a foreign multipart upload. Against the reference endpoint (always)
//! and SeaweedFS (skipped loudly when not installed, a failure under CI=1).

use crate::support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use s3conform::s3::{EndpointUrl, StaticKeys, Target, Timeouts};
use support::endpoints::{self, Kind};

/// Foreign keys planted before the tool runs.
const FOREIGN: &[&str] = &[
    "root.txt",
    "ünïcödé/ключ 🔑.bin",
    "..",
    "a/..b",
    "x/../y",
    "s3conform/20261204T000000Z-deadbeef/k0",
    "s3conform/20261204T000000Z-deadbeef/s3conform-run",
    "s3conform/k0",
    "shared/k0",
    "shared/k1",
    "shared/s3conform-run",
    "shared/put/safe-create/k",
    "shared/20261204T000000Z-deadbeef/k0",
];

/// A planted object, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    bytes: Vec<u8>,
    etag: Option<String>,
    metadata: BTreeMap<String, String>,
}

struct Bucket {
    client: aws_sdk_s3::Client,
    name: String,
    url: String,
    keys: StaticKeys,
}

impl Bucket {
    async fn new(url: &str, keys: StaticKeys, name: &str) -> Bucket {
        let mut t = Target::new(EndpointUrl::parse(url).unwrap(), name);
        t.keys = Some(keys.clone());
        t.timeouts = Timeouts {
            connect: Duration::from_secs(3),
            operation: Duration::from_secs(20),
        };
        let client = t.client().await;
        let _ = client.create_bucket().bucket(name).send().await;
        Bucket {
            client,
            name: name.to_owned(),
            url: url.to_owned(),
            keys,
        }
    }

    /// Plants every foreign key the endpoint accepts and returns their snapshots.
    async fn plant(&self) -> BTreeMap<String, Snapshot> {
        for (i, key) in FOREIGN.iter().enumerate() {
            let body = format!("foreign object {i}: {key}\n").repeat(i + 1);
            let put = self
                .client
                .put_object()
                .bucket(&self.name)
                .key(*key)
                .metadata("owner", "someone-else")
                .body(ByteStream::from(body.into_bytes()))
                .send()
                .await;
            if let Err(e) = put {
                eprintln!("{}: the endpoint refuses key {key:?}: {e}", self.url);
            }
        }
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.name)
            .key("shared/k0")
            .send()
            .await;
        if let Err(e) = upload {
            eprintln!("{}: no multipart upload: {e}", self.url);
        }
        self.snapshot().await
    }

    async fn all_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.name)
                .set_continuation_token(token)
                .send()
                .await
                .expect("list");
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_owned()),
                _ => return keys,
            }
        }
    }

    async fn uploads(&self) -> Vec<(String, String)> {
        match self
            .client
            .list_multipart_uploads()
            .bucket(&self.name)
            .send()
            .await
        {
            Ok(out) => out
                .uploads()
                .iter()
                .map(|u| {
                    (
                        u.key().unwrap_or("").to_owned(),
                        u.upload_id().unwrap_or("").to_owned(),
                    )
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    async fn snapshot(&self) -> BTreeMap<String, Snapshot> {
        let mut all = BTreeMap::new();
        for key in self.all_keys().await {
            let out = self
                .client
                .get_object()
                .bucket(&self.name)
                .key(&key)
                .send()
                .await
                .expect("get");
            let etag = out.e_tag().map(str::to_owned);
            let metadata = out
                .metadata()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            let bytes = out.body.collect().await.expect("body").to_vec();
            all.insert(
                key,
                Snapshot {
                    bytes,
                    etag,
                    metadata,
                },
            );
        }
        all
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_s3conform"));
        c.args(args)
            .args([
                "--endpoint",
                &self.url,
                "--bucket",
                &self.name,
                "--timeout",
                "10",
            ])
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("S3CONFORM_PROFILE")
            .env_remove("S3CONFORM_BUCKET")
            .env("AWS_ACCESS_KEY_ID", &self.keys.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &self.keys.secret_key)
            .env("AWS_REGION", "us-east-1")
            // A fuzz campaign that finds an anomaly saves its history in the current directory.
            .current_dir(std::env::temp_dir());
        c
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut c = self.command(args);
        let started = Instant::now();
        let out = tokio::task::spawn_blocking(move || c.output().expect("runs"))
            .await
            .unwrap();
        eprintln!(
            "s3conform {args:?}: exit {:?} in {:.1} s",
            out.status.code(),
            started.elapsed().as_secs_f64()
        );
        out
    }

    /// Starts a long fuzz campaign, waits until it has printed its run prefix and written for a
    /// moment, sends `signal`, and returns its output and run prefix.
    async fn signalled_fuzz(&self, signal: &str) -> (Output, String, Duration) {
        let mut c = self.command(&[
            "fuzz",
            "--prefix",
            "shared/",
            "--ops",
            "1000000",
            "--duration",
            "60s",
            "--no-progress",
        ]);
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let signal = signal.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut child = c.spawn().expect("spawns");
            let mut stdout = BufReader::new(child.stdout.take().unwrap());
            let mut prefix = String::new();
            let mut seen = String::new();
            let mut line = String::new();
            while stdout.read_line(&mut line).unwrap_or(0) > 0 {
                seen.push_str(&line);
                if let Some(p) = line.split("run prefix ").nth(1) {
                    prefix = p.split_whitespace().next().unwrap_or("").to_owned();
                    break;
                }
                line.clear();
            }
            assert!(!prefix.is_empty(), "no run prefix printed:\n{seen}");
            std::thread::sleep(Duration::from_millis(800));
            let sent = Instant::now();
            let _ = Command::new("kill")
                .args([&format!("-{signal}"), &child.id().to_string()])
                .status();
            let mut out = child.wait_with_output().expect("waits");
            let took = sent.elapsed();
            seen.push_str(&String::from_utf8_lossy(&out.stdout));
            out.stdout = seen.into_bytes();
            (out, prefix, took)
        })
        .await
        .unwrap()
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The whole scenario against one endpoint.
async fn foreign_objects_survive(url: &str, keys: StaticKeys) {
    let bucket = Bucket::new(url, keys, "production").await;
    let before = bucket.plant().await;
    let uploads_before = bucket.uploads().await;
    assert!(before.len() >= 10, "planted only {:?}", before.keys());

    let out = bucket
        .run(&["run", "--prefix", "shared/", "-q", "put::"])
        .await;
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "run: {}",
        text(&out)
    );
    assert!(text(&out).contains("run prefix shared/"), "{}", text(&out));
    let out = bucket.run(&["run", "-q", "mpu::"]).await;
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "run: {}",
        text(&out)
    );

    let out = bucket
        .run(&[
            "fuzz",
            "--prefix",
            "shared/",
            "--ops",
            "300",
            "--no-progress",
        ])
        .await;
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "fuzz: {}",
        text(&out)
    );

    // Ctrl-C: stops, cleans up its own objects, exits 130.
    let (out, prefix, took) = bucket.signalled_fuzz("INT").await;
    let t = text(&out);
    eprintln!(
        "interrupted fuzz: exit {:?} {:.1} s after SIGINT",
        out.status.code(),
        took.as_secs_f64()
    );
    assert_eq!(out.status.code(), Some(130), "{t}");
    assert!(t.contains("interrupted"), "{t}");
    assert!(took < Duration::from_secs(25), "{took:?}: {t}");
    let left: Vec<String> = bucket
        .all_keys()
        .await
        .into_iter()
        .filter(|k| k.starts_with(&prefix))
        .collect();
    assert!(left.is_empty(), "the interrupted run left {left:?}");

    // SIGKILL: nothing is cleaned, so `clean` must find the leftovers by their marker.
    let (out, prefix, _) = bucket.signalled_fuzz("KILL").await;
    assert_eq!(out.status.code(), None, "killed");
    let killed_left = bucket
        .all_keys()
        .await
        .into_iter()
        .filter(|k| k.starts_with(&prefix))
        .count();
    assert!(
        killed_left > 0,
        "a killed run leaves objects under {prefix}"
    );
    let out = bucket
        .run(&[
            "fuzz",
            "--prefix",
            "shared/",
            "--ops",
            "50",
            "--keep",
            "--no-progress",
        ])
        .await;
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "{}",
        text(&out)
    );

    let out = bucket
        .run(&["clean", "--prefix", "shared/", "--dry-run"])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("would delete"), "{}", text(&out));
    for prefix in ["shared/", "s3conform/"] {
        let out = bucket.run(&["clean", "--prefix", prefix]).await;
        assert_eq!(out.status.code(), Some(0), "clean {prefix}: {}", text(&out));
        assert!(
            text(&out).contains("without the s3conform marker left alone"),
            "{}",
            text(&out)
        );
    }

    let after = bucket.snapshot().await;
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "exactly the foreign objects remain, and all of them"
    );
    for (key, snap) in &before {
        assert_eq!(after.get(key), Some(snap), "{key} changed");
    }
    let uploads_after = bucket.uploads().await;
    for u in &uploads_before {
        assert!(
            uploads_after.contains(u),
            "the foreign upload {u:?} was aborted"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_objects_survive_on_the_reference_endpoint() {
    let handle = s3conform::server::spawn(s3conform::server::ServerConfig::default())
        .await
        .unwrap();
    let keys = StaticKeys {
        access_key: s3conform::server::DEFAULT_ACCESS_KEY.into(),
        secret_key: s3conform::server::DEFAULT_SECRET_KEY.into(),
    };
    foreign_objects_survive(&handle.endpoint_url(), keys).await;
}

/// One SeaweedFS for both scenarios: two `weed mini` in parallel fight over their ports.
#[ignore = "needs a third-party server: .ci/endpoints.sh install, then cargo test -- --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seaweedfs_keeps_foreign_objects_and_versioned_buckets_are_refused() {
    let Some(ep) = endpoints::start(Kind::SeaweedFs).await else {
        return;
    };
    foreign_objects_survive(&ep.url, ep.keys.clone()).await;
    a_versioned_bucket_is_refused_before_any_write(&ep).await;
}

/// A versioned bucket is refused before the first write: deleting by key would leave every
/// version and a delete marker behind.
async fn a_versioned_bucket_is_refused_before_any_write(ep: &endpoints::Endpoint) {
    let bucket = Bucket::new(&ep.url, ep.keys.clone(), "versioned").await;
    bucket
        .client
        .put_bucket_versioning()
        .bucket("versioned")
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("SeaweedFS enables versioning");
    for args in [
        &["run", "-q", "put"][..],
        &["fuzz", "--ops", "50", "--no-progress"][..],
        &["clean", "--prefix", "s3conform/"][..],
    ] {
        let out = bucket.run(args).await;
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {t}");
        assert!(t.contains("has versioning Enabled"), "{args:?}: {t}");
    }
    let versions = bucket
        .client
        .list_object_versions()
        .bucket("versioned")
        .send()
        .await
        .expect("list versions");
    assert!(
        versions.versions().is_empty() && versions.delete_markers().is_empty(),
        "nothing was written: {versions:?}"
    );
}
