//! Fuzz-driver overhead: ops/s of the driver (recording a history through the operation layer)
//! beside a raw aws-sdk-s3 PUT loop, both against the embedded reference endpoint with the same
//! number of concurrent writers and blind PUTs. Prints medians over several rounds and the ratio.
//!
//! `cargo bench --bench driver` (add `-- --quick` for fewer rounds).

use std::sync::Arc;
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use s3conform::campaign::Campaign;
use s3conform::fuzz::{Counters, Mix};
use s3conform::s3::{EndpointUrl, RunPrefix, Session, StaticKeys, Target};
use s3conform::server::{self, ServerConfig};

const WRITERS: usize = 16;
const OPS: usize = 4000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let rounds = if std::env::args().any(|a| a == "--quick") {
        3
    } else {
        7
    };
    let config = ServerConfig::default();
    let handle = server::spawn(config.clone()).await.expect("server");
    let mut target = Target::new(
        EndpointUrl::parse(&handle.endpoint_url()).expect("url"),
        "bench",
    );
    target.keys = Some(StaticKeys {
        access_key: config.access_key,
        secret_key: config.secret_key,
    });
    target.create_bucket = true;
    let session = Session::connect(target.clone(), RunPrefix::fresh())
        .await
        .expect("connect");
    let client = target.client().await;
    let mix: Mix = "blind=100".parse().expect("mix");

    let (mut raw, mut driver) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // The raw loop: the same SDK client configuration, no recording, no history.
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let c = client.clone();
            let prefix = session.prefix().as_str().to_owned();
            tasks.push(tokio::spawn(async move {
                for i in 0..OPS / WRITERS {
                    let body = format!("raw {round} {w} {i}");
                    let _ = c
                        .put_object()
                        .bucket("bench")
                        .key(format!("{prefix}raw{}", i % 2))
                        .body(ByteStream::from(body.into_bytes()))
                        .send()
                        .await;
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        raw.push(OPS as f64 / started.elapsed().as_secs_f64());

        let campaign = Campaign {
            seed: round as u64,
            writers: WRITERS,
            keys: 2,
            ops: OPS as u64,
            duration: None,
            mix,
        };
        let started = Instant::now();
        let history = campaign
            .run(&session, Arc::new(Counters::default()))
            .await
            .expect("drive");
        driver.push(history.ops.len() as f64 / started.elapsed().as_secs_f64());
    }
    let (r, d) = (median(raw), median(driver));
    println!(
        "fuzz driver vs raw aws-sdk-s3 PUT loop, {WRITERS} writers, {OPS} PUTs per round, {rounds} rounds, embedded endpoint"
    );
    println!("  raw SDK loop : median {r:>8.0} ops/s");
    println!("  fuzz driver  : median {d:>8.0} ops/s");
    println!("  ratio        : {:.1} % of the raw loop", 100.0 * d / r);
    handle.shutdown().await;
}
