//! A TCP proxy in front of a real endpoint that forwards the first N requests and then freezes:
//! it keeps every connection open and accepts new ones, but never answers again. This is what a
//! hung load balancer or a stopped VM looks like to a client.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy; it stops with the runtime it was started on.
pub struct Freezer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    requests: Arc<AtomicUsize>,
    frozen: Arc<AtomicBool>,
    after: Arc<AtomicUsize>,
}

impl Freezer {
    /// Freezes once `n` requests in all went through (from now on).
    pub fn freeze_after(&self, n: usize) {
        self.after.store(n, Ordering::SeqCst);
    }

    /// Requests seen so far (counted by request line).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Whether the proxy has stopped answering.
    pub fn frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }
}

/// Starts a proxy to `upstream` (`host:port`) that freezes once `after` requests went through.
pub async fn start(upstream: String, after: usize) -> Freezer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(AtomicUsize::new(0));
    let frozen = Arc::new(AtomicBool::new(false));
    let after = Arc::new(AtomicUsize::new(after));
    let (r, f, a) = (requests.clone(), frozen.clone(), after.clone());
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            if f.load(Ordering::SeqCst) {
                held.push(client);
                continue;
            }
            let Ok(server) = TcpStream::connect(&upstream).await else {
                continue;
            };
            tokio::spawn(pipe(client, server, r.clone(), f.clone(), a.clone()));
        }
    });
    Freezer {
        url: format!("http://{addr}"),
        requests,
        frozen,
        after,
    }
}

/// Copies both ways until the proxy freezes, then holds both sockets open forever.
async fn pipe(
    client: TcpStream,
    server: TcpStream,
    requests: Arc<AtomicUsize>,
    frozen: Arc<AtomicBool>,
    after: Arc<AtomicUsize>,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = {
        let frozen = frozen.clone();
        async move {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = cr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let seen = count_request_lines(&buf[..n]);
                let total = requests.fetch_add(seen, Ordering::SeqCst) + seen;
                if total > after.load(Ordering::SeqCst) {
                    frozen.store(true, Ordering::SeqCst);
                }
                if frozen.load(Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                if sw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            let _ = sw.shutdown().await;
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = sr.read(&mut buf).await {
            if frozen.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            if n == 0 {
                break;
            }
            if cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    };
    tokio::join!(up, down);
}

/// Request lines in a chunk of client bytes (`... HTTP/1.1\r\n` at a line start).
fn count_request_lines(chunk: &[u8]) -> usize {
    chunk
        .windows(b" HTTP/1.1\r\n".len())
        .filter(|w| *w == b" HTTP/1.1\r\n")
        .count()
}
