//! The suite through a buffering HTTP proxy that serializes requests: no two racers are ever
//! concurrent at the server, so every race loser gets 412, never 409. The suite still passes
//! under both profiles, because no case asserts which interleaving happened.

use std::sync::Arc;

use crate::support::cases::{cases_dir, connect, problems};
use s3conform::case::Suite;
use s3conform::profile::Profile;
use s3conform::report::{EndpointInfo, RunReport};
use s3conform::runner::{RunOptions, run_suite};
use s3conform::server::{self, FaultSet, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

/// Reads more of the request into `rest`; `None` at the end of the connection.
async fn more(client: &mut TcpStream, rest: &mut Vec<u8>) -> Option<()> {
    let mut chunk = vec![0u8; 65536];
    let n = client.read(&mut chunk).await.ok()?;
    rest.extend_from_slice(&chunk[..n]);
    (n > 0).then_some(())
}

/// Reads one HTTP/1.1 request head and its whole body (Content-Length or chunked), answering
/// `Expect: 100-continue` itself. Returns the head lines (without the request line's CRLF) and
/// the body, or `None` at the end of the connection.
async fn read_request(client: &mut TcpStream) -> Option<(Vec<String>, Vec<u8>)> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = client.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut rest = buf[head_end + 4..].to_vec();
    let lines: Vec<String> = head.split("\r\n").map(str::to_owned).collect();
    let header = |name: &str| {
        lines.iter().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    if header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        client
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await
            .ok()?;
    }
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                more(client, &mut rest).await?;
            };
            let size_text = String::from_utf8_lossy(&rest[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            while rest.len() < line_end + 2 + size + 2 {
                more(client, &mut rest).await?;
            }
            body.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest.drain(..line_end + 2 + size + 2);
            if size == 0 {
                break body;
            }
        }
    } else {
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while rest.len() < len {
            more(client, &mut rest).await?;
        }
        rest.truncate(len);
        rest
    };
    Some((lines, body))
}

/// One connection, one request: the whole request is forwarded under `lock`, so that the server
/// sees one request at a time, and the whole answer is read before the next request goes.
async fn serve(mut client: TcpStream, upstream: String, lock: Arc<Mutex<()>>) {
    if let Some((lines, body)) = read_request(&mut client).await {
        let mut out = format!("{}\r\n", lines[0]);
        for l in lines.iter().skip(1) {
            let name = l
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if matches!(
                name.as_str(),
                "connection" | "expect" | "transfer-encoding" | "content-length"
            ) {
                continue;
            }
            out.push_str(l);
            out.push_str("\r\n");
        }
        out.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        ));
        let answer = {
            let _one_at_a_time = lock.lock().await;
            let mut up = TcpStream::connect(&upstream).await.expect("upstream");
            up.write_all(out.as_bytes()).await.expect("forward head");
            up.write_all(&body).await.expect("forward body");
            let mut answer = Vec::new();
            up.read_to_end(&mut answer).await.expect("answer");
            answer
        };
        // The server was asked to close, so the answer says `connection: close`: the client
        // opens a new connection for its next request.
        let _ = client.write_all(&answer).await;
    }
}

/// Starts the proxy in front of `upstream` (host:port) and returns its address.
async fn spawn_proxy(upstream: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let lock = Arc::new(Mutex::new(()));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(serve(client, upstream.clone(), lock.clone()));
        }
    });
    addr
}

fn run_through_proxy(profile: Profile) -> RunReport {
    let suite = Suite::load(&cases_dir()).expect("cases");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let (handle, proxy) = rt.block_on(async {
        let handle = server::spawn(ServerConfig {
            profile,
            faults: FaultSet::none(),
            ..ServerConfig::default()
        })
        .await
        .expect("server");
        let proxy = spawn_proxy(handle.addr().to_string()).await;
        (handle, proxy)
    });
    let url = format!("http://{proxy}");
    let session = rt.block_on(connect(&url, None));
    let opts = RunOptions {
        profile,
        quiet: true,
        ..RunOptions::default()
    };
    let endpoint = EndpointInfo {
        url,
        label: "reference-behind-proxy".into(),
        embedded: false,
    };
    let report = run_suite(&session, &suite, &opts, endpoint, rt.handle());
    rt.block_on(async {
        session.cleanup().await;
        handle.shutdown().await;
    });
    report
}

fn passes_through_a_serializing_proxy(profile: Profile) {
    let report = run_through_proxy(profile);
    let p = problems(&report);
    assert!(p.is_empty(), "under {profile} behind the proxy:\n{p}");
    // The proxy really serialized the racers: the winner had committed before any loser
    // arrived, so every loser was refused with 412, none with 409.
    let race = report
        .cases
        .iter()
        .find(|c| c.name == "race::put-safe-create-16")
        .expect("race ran");
    let losers: Vec<u16> = race.steps[0]
        .observations
        .iter()
        .take(16)
        .filter_map(|o| o.status)
        .filter(|s| *s != 200)
        .collect();
    assert_eq!(losers, [412; 15], "{:?}", race.steps[0].observations);
}

#[test]
fn the_suite_passes_through_a_serializing_proxy_under_coreweave() {
    passes_through_a_serializing_proxy(Profile::Coreweave);
}

#[test]
fn the_suite_passes_through_a_serializing_proxy_under_aws() {
    passes_through_a_serializing_proxy(Profile::Aws);
}
