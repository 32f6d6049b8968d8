//! The operation layer over real TCP: ambiguity, prefix safety, raw headers, setup errors.

use std::time::{Duration, Instant};

use bytes::Bytes;
use s3conform::s3::{
    AmbiguityCause, CallError, DeleteTarget, Operation, Outcome, Preconditions, RawHeader, Request,
    RunPrefix, Session, SetupError, StaticKeys, Target, Timeouts, WriteConditions,
};
use s3conform::server::{self, Fault, ServerConfig, ServerHandle};

fn target_for(url: &str, bucket: &str) -> Target {
    let mut t = s3conform::embedded::target(url, &ServerConfig::default(), bucket).unwrap();
    t.create_bucket = false;
    t.timeouts = Timeouts {
        connect: Duration::from_secs(2),
        operation: Duration::from_secs(3),
    };
    t
}

async fn reference(faults: &[Fault]) -> (ServerHandle, Session) {
    let config = ServerConfig {
        faults: faults.iter().copied().collect(),
        ..ServerConfig::default()
    };
    let handle = server::spawn(config).await.unwrap();
    let mut target = target_for(&handle.endpoint_url(), "oplayer");
    target.create_bucket = true;
    let session = Session::connect(target, RunPrefix::fresh()).await.unwrap();
    (handle, session)
}

fn put(session: &Session, key: &str, body: &'static str, cond: WriteConditions) -> Request {
    Request::new(Operation::PutObject {
        key: session.key(key).unwrap(),
        body: Bytes::from_static(body.as_bytes()),
        metadata: vec![],
        cond,
    })
}

#[tokio::test]
async fn a_port_that_accepts_then_drops_is_ambiguous() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            if let Ok((sock, _)) = listener.accept().await {
                drop(sock);
            }
        }
    });
    let session = Session::connect_unchecked(
        target_for(&format!("http://{addr}"), "b"),
        RunPrefix::fresh(),
    )
    .await;
    let obs = session
        .call(&put(&session, "k", "x", WriteConditions::default()))
        .await
        .unwrap();
    assert!(obs.is_ambiguous(), "{obs:?}");
    assert!(
        matches!(
            obs.outcome,
            Outcome::Ambiguous(AmbiguityCause::ConnectionLost { .. })
        ),
        "{obs:?}"
    );
    assert_eq!(obs.status, None);
}

#[tokio::test]
async fn a_port_that_never_answers_times_out_as_ambiguous() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut socks = Vec::new();
        loop {
            if let Ok((sock, _)) = listener.accept().await {
                socks.push(sock);
            }
        }
    });
    let mut target = target_for(&format!("http://{addr}"), "b");
    target.timeouts.operation = Duration::from_millis(500);
    let session = Session::connect_unchecked(target, RunPrefix::fresh()).await;
    let started = Instant::now();
    let obs = session
        .call(&put(&session, "k", "x", WriteConditions::default()))
        .await
        .unwrap();
    assert!(
        matches!(obs.outcome, Outcome::Ambiguous(AmbiguityCause::Timeout)),
        "{obs:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    held.abort();
}

#[tokio::test]
async fn a_5xx_after_the_write_is_ambiguous_and_the_write_happened() {
    let (_server, session) = reference(&[Fault::WriteThen500]).await;
    let mut saw_ambiguous = false;
    for i in 0..20 {
        let key = format!("k{i}");
        let obs = session
            .call(&put(&session, &key, "body", WriteConditions::default()))
            .await
            .unwrap();
        if let Outcome::Ambiguous(AmbiguityCause::ServerError { status }) = obs.outcome {
            assert!(status >= 500);
            saw_ambiguous = true;
            let get = Request::new(Operation::GetObject {
                key: session.key(&key).unwrap(),
                cond: Preconditions::default(),
            });
            let read = session.call(&get).await.unwrap();
            assert_eq!(
                read.status,
                Some(200),
                "the write was applied before the 500"
            );
        }
    }
    assert!(saw_ambiguous, "write-then-500 never answered 5xx");
}

#[tokio::test]
async fn definite_answers_carry_status_code_etag_and_timing() {
    let (_server, session) = reference(&[]).await;
    let created = session
        .call(&put(&session, "k", "hello", WriteConditions::default()))
        .await
        .unwrap();
    assert_eq!(created.status, Some(200));
    assert_eq!(
        created.etag.as_deref(),
        Some("\"5d41402abc4b2a76b9719d911017c592\"")
    );
    assert!(created.call_ns <= created.ret_ns);
    let again = session
        .call(&put(
            &session,
            "k",
            "other",
            WriteConditions {
                if_none_match: Some("*".into()),
                if_match: None,
            },
        ))
        .await
        .unwrap();
    assert_eq!(again.summary(), "412 PreconditionFailed");
    let head = Request::new(Operation::HeadObject {
        key: session.key("k").unwrap(),
        cond: Preconditions {
            if_none_match: created.etag.clone(),
            ..Preconditions::default()
        },
    });
    let not_modified = session.call(&head).await.unwrap();
    assert_eq!(not_modified.status, Some(304));
    assert_eq!(not_modified.error_code, None);
    assert_eq!(
        not_modified.etag, created.etag,
        "a 304 carries the ETag header"
    );
    let get = Request::new(Operation::GetObject {
        key: session.key("k").unwrap(),
        cond: Preconditions::default(),
    });
    let read = session.call(&get).await.unwrap();
    assert_eq!(
        read.body.as_ref().and_then(|b| b.text.as_deref()),
        Some("hello"),
        "412 left the object unchanged"
    );
    assert!(read.last_modified_date().is_some());
}

#[tokio::test]
async fn raw_headers_are_sent_and_signed() {
    let (_server, session) = reference(&[]).await;
    session
        .call(&put(&session, "k", "v1", WriteConditions::default()))
        .await
        .unwrap();
    let req = put(&session, "k", "v2", WriteConditions::default())
        .with_header(RawHeader::new("If-Match", "\"00000000000000000000000000000000\"").unwrap());
    let obs = session.call(&req).await.unwrap();
    assert_eq!(
        obs.status,
        Some(412),
        "the raw If-Match reached the server through a valid signature: {obs:?}"
    );
    assert!(RawHeader::new("bad header", "x").is_err());
    assert!(RawHeader::new("x-ok", "line\nbreak").is_err());
}

#[tokio::test]
async fn keys_outside_the_run_prefix_are_refused_and_cleanup_is_scoped() {
    let (server, mine) = reference(&[]).await;
    let theirs = Session::connect(
        target_for(&server.endpoint_url(), "oplayer"),
        RunPrefix::fresh(),
    )
    .await
    .unwrap();
    theirs
        .call(&put(
            &theirs,
            "precious",
            "keep me",
            WriteConditions::default(),
        ))
        .await
        .unwrap();
    let foreign = Request::new(Operation::DeleteObject {
        key: theirs.key("precious").unwrap(),
        if_match: None,
    });
    let refused = mine.call(&foreign).await;
    assert!(
        matches!(refused, Err(CallError::OutsidePrefix { .. })),
        "{refused:?}"
    );
    // A multi-object delete naming one foreign key among its own is refused whole.
    let batch = Request::new(Operation::DeleteObjects {
        objects: [mine.key("own").unwrap(), theirs.key("precious").unwrap()]
            .into_iter()
            .map(|key| DeleteTarget {
                key,
                etag: None,
                last_modified_time: None,
                size: None,
            })
            .collect(),
    });
    let refused = mine.call(&batch).await;
    assert!(
        matches!(refused, Err(CallError::OutsidePrefix { .. })),
        "{refused:?}"
    );
    // `theirs` found the bucket already there, so it may not delete it.
    assert!(matches!(
        theirs.call(&Request::new(Operation::DeleteBucket)).await,
        Err(CallError::ForeignBucket(_))
    ));

    let scoped = mine.scoped("case-a").unwrap();
    scoped
        .call(&put(&scoped, "mine", "temp", WriteConditions::default()))
        .await
        .unwrap();
    let report = mine.cleanup().await;
    assert_eq!(report.deleted, 1);
    assert!(report.failures.is_empty(), "{report:?}");
    let get = Request::new(Operation::GetObject {
        key: theirs.key("precious").unwrap(),
        cond: Preconditions::default(),
    });
    assert_eq!(
        theirs.call(&get).await.unwrap().status,
        Some(200),
        "another run's object survived cleanup"
    );
    let gone = Request::new(Operation::GetObject {
        key: scoped.key("mine").unwrap(),
        cond: Preconditions::default(),
    });
    assert_eq!(mine.call(&gone).await.unwrap().status, Some(404));
}

#[tokio::test]
async fn setup_errors_are_clear() {
    let (server, _session) = reference(&[]).await;
    let missing = Session::connect(
        target_for(&server.endpoint_url(), "no-such-bucket"),
        RunPrefix::fresh(),
    )
    .await;
    assert!(
        matches!(missing, Err(SetupError::NoSuchBucket { .. })),
        "{missing:?}"
    );
    let mut wrong_keys = target_for(&server.endpoint_url(), "oplayer");
    wrong_keys.keys = Some(StaticKeys {
        access_key: "nobody".into(),
        secret_key: "nothing".into(),
    });
    let denied = Session::connect(wrong_keys, RunPrefix::fresh()).await;
    assert!(
        matches!(denied, Err(SetupError::AccessDenied { .. })),
        "{denied:?}"
    );

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let started = Instant::now();
    let down = Session::connect(
        target_for(&format!("http://127.0.0.1:{port}"), "b"),
        RunPrefix::fresh(),
    )
    .await;
    assert!(
        matches!(down, Err(SetupError::Unreachable { .. })),
        "{down:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// 32 concurrent safe creates through the operation layer: exactly one winner, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_racing_creates_have_one_winner() {
    let (_server, session) = reference(&[]).await;
    for round in 0..5 {
        let key = format!("race{round}");
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let s = session.clone();
            let k = key.clone();
            tasks.push(tokio::spawn(async move {
                s.call(&put(
                    &s,
                    &k,
                    "x",
                    WriteConditions {
                        if_none_match: Some("*".into()),
                        if_match: None,
                    },
                ))
                .await
                .unwrap()
            }));
        }
        let mut winners = 0;
        for t in tasks {
            let obs = t.await.unwrap();
            match obs.status {
                Some(200) => winners += 1,
                Some(409 | 412) => {}
                other => panic!("unexpected {other:?}: {obs:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
}

#[tokio::test]
async fn raw_headers_that_name_a_foreign_key_are_refused_before_sending() {
    let (server, mine) = reference(&[]).await;
    let theirs = Session::connect(
        target_for(&server.endpoint_url(), "oplayer"),
        RunPrefix::fresh(),
    )
    .await
    .unwrap();
    theirs
        .call(&put(
            &theirs,
            "secret",
            "not yours",
            WriteConditions::default(),
        ))
        .await
        .unwrap();
    let source = format!("oplayer/{}", theirs.key("secret").unwrap());
    for header in ["x-amz-copy-source", "X-Amz-Rename-Source", "host"] {
        let req = Request::new(Operation::GetObject {
            key: mine.key("dest").unwrap(),
            cond: Preconditions::default(),
        })
        .with_header(RawHeader::new(header, &source).unwrap());
        let refused = mine.call(&req).await;
        assert!(
            matches!(refused, Err(CallError::AddressingHeader(ref h)) if h.eq_ignore_ascii_case(header)),
            "{header}: {refused:?}"
        );
    }
    // A copy through the typed fields is still guarded by key, and the foreign object is intact.
    let get = Request::new(Operation::GetObject {
        key: theirs.key("secret").unwrap(),
        cond: Preconditions::default(),
    });
    let obs = theirs.call(&get).await.unwrap();
    assert_eq!(obs.status, Some(200));
    let listed = mine
        .call(&Request::new(Operation::ListObjectsV2 { prefix: None }))
        .await
        .unwrap();
    assert_eq!(listed.listed_keys.as_deref(), Some(&[][..]), "{listed:?}");
}
