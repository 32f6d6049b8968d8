//! Concurrent conditional writers on one key: exactly one winner, and losers per profile.
//!
//! A loser gets 409 under `coreweave` only if its precondition still held when the server read
//! its request head. To make every racer "arrive" before any of them commits, the bodies are
//! held back until the server reports all racers in flight, then released together.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use s3conform::profile::Profile;
use tokio::sync::watch;

use crate::support::reference::*;

const RACERS: usize = 32;
const ROUNDS: usize = 20;

/// A body of `data` that is only produced once `go` turns true. The gate sits behind a mutex
/// because the SDK wants a `Sync` body.
struct GatedBody {
    data: Option<Bytes>,
    len: u64,
    gate: Mutex<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

pub fn gated_body(data: Bytes, mut go: watch::Receiver<bool>) -> ByteStream {
    let gate: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
        let _ = go.wait_for(|g| *g).await;
    });
    let len = data.len() as u64;
    ByteStream::from_body_1_x(GatedBody {
        data: Some(data),
        len,
        gate: Mutex::new(gate),
    })
}

impl hyper::body::Body for GatedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.data.is_none() {
            return Poll::Ready(None);
        }
        let ready = self.gate.lock().unwrap().as_mut().poll(cx).is_ready();
        if !ready {
            return Poll::Pending;
        }
        Poll::Ready(self.data.take().map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

#[derive(Clone, Copy)]
enum Race<'a> {
    Create,
    Swap(&'a str),
}

/// Runs one round and returns (statuses, codes, winner body).
async fn round(env: &Env, key: &str, race: Race<'_>) -> (Vec<u16>, Vec<Option<String>>) {
    let (tx, rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let base = env.handle.requests_in_flight();
    for i in 0..RACERS {
        let req = env
            .client
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(gated_body(Bytes::from(format!("writer-{i}")), rx.clone()));
        let req = match race {
            Race::Create => req.if_none_match("*"),
            Race::Swap(e) => req.if_match(e),
        };
        tasks.push(tokio::spawn(async move {
            match req.customize().disable_payload_signing().send().await {
                Ok(o) => (200, None, o.e_tag),
                Err(e) => {
                    let f = Fail::from_sdk(e);
                    (f.status.unwrap_or(0), f.code, None)
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while env.handle.requests_in_flight() < base + RACERS {
        assert!(Instant::now() < deadline, "racers never all arrived");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tx.send(true).unwrap();
    let mut statuses = Vec::new();
    let mut codes = Vec::new();
    let mut winner_etag = None;
    for t in tasks {
        let (s, c, e) = t.await.unwrap();
        statuses.push(s);
        codes.push(c);
        if e.is_some() {
            winner_etag = e;
        }
    }
    // The stored object is the winner's.
    assert_eq!(env.etag(key).await, winner_etag);
    (statuses, codes)
}

async fn check_rounds(profile: Profile, swap: bool) {
    let env = Arc::new(Env::start(profile).await);
    let (loser_status, loser_code) = loser_answer(profile);
    for r in 0..ROUNDS {
        let key = format!("race-{r}");
        let etag;
        let race = if swap {
            etag = env.put(&key, "base").await;
            Race::Swap(&etag)
        } else {
            Race::Create
        };
        let (statuses, codes) = round(&env, &key, race).await;
        let winners = statuses.iter().filter(|s| **s == 200).count();
        assert_eq!(winners, 1, "round {r}: {statuses:?}");
        for (s, c) in statuses.iter().zip(&codes) {
            if *s != 200 {
                assert_eq!(
                    (*s, c.as_deref()),
                    (loser_status, Some(loser_code)),
                    "round {r}: {statuses:?}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_race_has_one_winner_losers_409_coreweave() {
    check_rounds(Profile::Coreweave, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_race_has_one_winner_losers_412_aws() {
    check_rounds(Profile::Aws, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swap_race_has_one_winner_per_profile() {
    check_rounds(Profile::Coreweave, true).await;
    check_rounds(Profile::Aws, true).await;
}

/// Without gating, racers that reach the server after the winner committed see a key that
/// already exists: 412 under both profiles. Exactly one winner regardless.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ungated_create_race_still_has_one_winner() {
    let env = Env::start(Profile::Coreweave).await;
    for r in 0..ROUNDS {
        let key = format!("free-{r}");
        let mut tasks = Vec::new();
        for i in 0..RACERS {
            let req = env
                .client
                .put_object()
                .bucket(BUCKET)
                .key(&key)
                .if_none_match("*")
                .body(ByteStream::from(format!("w{i}").into_bytes()));
            tasks.push(tokio::spawn(async move { status(req.send().await) }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| [200, 409, 412].contains(s)),
            "{statuses:?}"
        );
    }
}
