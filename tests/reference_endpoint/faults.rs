//! One test per injected fault: the fault changes exactly the answer it is meant to break.
//! The same requests against a fault-free server are covered in `writes` and `reads`.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use s3conform::profile::Profile;
use s3conform::server::{
    Fault, SPURIOUS_409_PERIOD, STALE_READ_WINDOW, WRITE_THEN_500_PERIOD, WRITE_THEN_RESET_PERIOD,
};

use crate::support::reference::*;

fn put(
    env: &Env,
    key: &str,
    body: &str,
) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
    env.client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
}

#[tokio::test]
async fn ignore_if_match_turns_cas_into_blind_write() {
    let env = Env::with_fault(Fault::IgnoreIfMatch).await;
    env.put("k", "v1").await;
    assert_eq!(
        status(put(&env, "k", "v2").if_match("\"wrong\"").send().await),
        200
    );
    assert_eq!(
        env.body("k").await.unwrap(),
        "v2",
        "the mismatched write was applied"
    );
    assert_eq!(
        status(put(&env, "absent", "x").if_match("\"wrong\"").send().await),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_atomic_create_lets_concurrent_creators_both_win() {
    let env = Env::with_fault(Fault::NonAtomicCreate).await;
    // Bodies are held until all racers have arrived, so that they reach the check together.
    let (go, gate) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let req = env
            .client
            .put_object()
            .bucket(BUCKET)
            .key("k")
            .if_none_match("*")
            .body(super::races::gated_body(
                bytes::Bytes::from(format!("w{i}")),
                gate.clone(),
            ));
        tasks.push(tokio::spawn(async move {
            status(req.customize().disable_payload_signing().send().await)
        }));
    }
    while env.handle.requests_in_flight() < 16 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    go.send(true).unwrap();
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap() == 200);
    }
    assert!(
        winners > 1,
        "expected a double create, got {winners} winner(s)"
    );
    // Sequentially it still looks right.
    assert_eq!(
        status(put(&env, "k", "late").if_none_match("*").send().await),
        412
    );
}

#[tokio::test]
async fn not_modified_as_200_sends_the_body() {
    let env = Env::with_fault(Fault::NotModifiedAs200).await;
    let e = env.put("k", "data").await;
    let o = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("k")
        .if_none_match(&e)
        .send()
        .await
        .unwrap();
    assert_eq!(o.body.collect().await.unwrap().to_vec(), b"data");
}

#[tokio::test]
async fn copy_source_304_answers_304() {
    let env = Env::with_fault(Fault::CopySource304).await;
    let e = env.put("src", "s").await;
    let f = fail(
        env.client
            .copy_object()
            .bucket(BUCKET)
            .key("dst")
            .copy_source(format!("{BUCKET}/src"))
            .copy_source_if_none_match(&e)
            .send()
            .await,
    );
    assert_eq!(f.status, Some(304));
    assert!(env.body("dst").await.is_err(), "nothing copied");
}

#[tokio::test]
async fn four_twelve_for_404_on_missing_keys() {
    let env = Env::with_fault(Fault::FourTwelveFor404).await;
    let e = env.put("k", "v").await;
    expect(
        &fail(put(&env, "absent", "x").if_match(&e).send().await),
        412,
        "PreconditionFailed",
    );
    expect(
        &fail(
            env.client
                .get_object()
                .bucket(BUCKET)
                .key("absent")
                .if_match(&e)
                .send()
                .await,
        ),
        412,
        "PreconditionFailed",
    );
    expect(
        &fail(
            env.client
                .delete_object()
                .bucket(BUCKET)
                .key("absent")
                .if_match("*")
                .send()
                .await,
        ),
        412,
        "PreconditionFailed",
    );
    // Unconditional reads of a missing key are still 404.
    expect(&env.body("absent").await.unwrap_err(), 404, "NoSuchKey");
}

#[tokio::test]
async fn stale_read_serves_the_previous_version_for_a_while() {
    let env = Env::with_fault(Fault::StaleRead).await;
    // A read counts only if it happened well inside the window; a stalled machine retries.
    let mut seen_stale = false;
    for i in 0..5 {
        env.put("k", &format!("old{i}")).await;
        tokio::time::sleep(STALE_READ_WINDOW + Duration::from_millis(50)).await;
        let written = std::time::Instant::now();
        env.put("k", &format!("new{i}")).await;
        let body = env.body("k").await.unwrap();
        if written.elapsed() < STALE_READ_WINDOW / 2 {
            assert_eq!(body, format!("old{i}"), "stale right after the write");
            seen_stale = true;
            break;
        }
    }
    assert!(seen_stale, "the machine was too slow to observe the window");
    tokio::time::sleep(STALE_READ_WINDOW + Duration::from_millis(50)).await;
    assert!(
        env.body("k").await.unwrap().starts_with("new"),
        "fresh after the window"
    );
}

#[tokio::test]
async fn phantom_304_for_the_previous_version() {
    let env = Env::with_fault(Fault::Phantom304).await;
    let e1 = env.put("k", "v1").await;
    env.put("k", "v2").await;
    let f = fail(
        env.client
            .get_object()
            .bucket(BUCKET)
            .key("k")
            .if_none_match(&e1)
            .send()
            .await,
    );
    assert_eq!(f.status, Some(304), "a changed object answered 304");
    assert_eq!(f.etag.as_deref(), Some(e1.as_str()));
    // A fault-free server sends the new version.
    let clean = Env::start(Profile::Coreweave).await;
    let e1 = clean.put("k", "v1").await;
    clean.put("k", "v2").await;
    let o = clean
        .client
        .get_object()
        .bucket(BUCKET)
        .key("k")
        .if_none_match(&e1)
        .send()
        .await
        .unwrap();
    assert_eq!(o.body.collect().await.unwrap().to_vec(), b"v2");
}

#[tokio::test]
async fn spurious_409_without_any_concurrent_write() {
    let env = Env::with_fault(Fault::Spurious409).await;
    let mut etag = env.put("k", "v0").await;
    let mut answers = Vec::new();
    for i in 1..=SPURIOUS_409_PERIOD {
        let body = format!("v{i}");
        match put(&env, "k", &body).if_match(&etag).send().await {
            Ok(o) => {
                etag = o.e_tag.unwrap();
                answers.push(200);
            }
            Err(e) => {
                let f = Fail::from_sdk(e);
                assert_eq!(f.code.as_deref(), Some("ConditionalRequestConflict"));
                answers.push(f.status.unwrap());
            }
        }
    }
    let mut want = vec![200; SPURIOUS_409_PERIOD as usize];
    *want.last_mut().unwrap() = 409;
    assert_eq!(answers, want);
    assert_eq!(
        env.body("k").await.unwrap(),
        format!("v{}", SPURIOUS_409_PERIOD - 1),
        "the 409 write was not applied"
    );
}

#[tokio::test]
async fn write_then_500_applies_the_write() {
    let env = Env::with_fault(Fault::WriteThen500).await;
    let mut answers = Vec::new();
    for i in 1..=WRITE_THEN_500_PERIOD {
        answers.push(status(put(&env, "k", &format!("v{i}")).send().await));
    }
    let mut want = vec![200; WRITE_THEN_500_PERIOD as usize];
    *want.last_mut().unwrap() = 500;
    assert_eq!(answers, want);
    assert_eq!(
        env.body("k").await.unwrap(),
        format!("v{WRITE_THEN_500_PERIOD}"),
        "applied despite the 500"
    );
}

#[tokio::test]
async fn write_then_reset_applies_the_write_and_drops_the_connection() {
    let env = Env::with_fault(Fault::WriteThenReset).await;
    let mut answers = Vec::new();
    for i in 1..=WRITE_THEN_RESET_PERIOD {
        match put(&env, "k", &format!("v{i}")).send().await {
            Ok(_) => answers.push("ok".to_owned()),
            Err(e) => {
                let dispatch = matches!(e, aws_sdk_s3::error::SdkError::DispatchFailure(_));
                let f = Fail::from_sdk(e);
                assert_eq!(f.status, None, "no response at all");
                answers.push(if dispatch {
                    "dispatch".into()
                } else {
                    "other".into()
                });
            }
        }
    }
    assert_eq!(
        answers.last().map(String::as_str),
        Some("dispatch"),
        "{answers:?}"
    );
    assert!(
        answers[..answers.len() - 1].iter().all(|a| a == "ok"),
        "{answers:?}"
    );
    assert_eq!(
        env.body("k").await.unwrap(),
        format!("v{WRITE_THEN_RESET_PERIOD}"),
        "applied despite the reset"
    );
}
