//! The headline semantic rows again, this time through the tool's own operation layer
//! (`Session` → `Observation`), under both profiles: what the suite and the fuzzer will see.

use bytes::Bytes;
use s3conform::profile::Profile;
use s3conform::s3::{
    AmbiguityCause, CompletedPart, Observation, Operation, Outcome, Preconditions, RunPrefix,
    Session, WriteConditions,
};
use s3conform::server::{Fault, FaultSet, ServerConfig, ServerHandle};

use crate::support::reference::inm_value_answer;

struct Layer {
    _handle: ServerHandle,
    s: Session,
}

async fn layer(profile: Profile, faults: FaultSet) -> Layer {
    let config = ServerConfig {
        profile,
        faults,
        ..ServerConfig::default()
    };
    let started = s3conform::embedded::start(config, "layer", RunPrefix::fresh())
        .await
        .unwrap();
    Layer {
        _handle: started.server,
        s: started.session,
    }
}

impl Layer {
    async fn call(&self, op: Operation) -> Observation {
        self.s.call(&op.into()).await.unwrap()
    }

    async fn put(&self, key: &str, body: &str, cond: WriteConditions) -> Observation {
        let key = self.s.key(key).unwrap();
        self.call(Operation::PutObject {
            key,
            body: Bytes::from(body.to_owned()),
            metadata: vec![],
            cond,
        })
        .await
    }

    async fn get(&self, key: &str, cond: Preconditions) -> Observation {
        self.call(Operation::GetObject {
            key: self.s.key(key).unwrap(),
            cond,
        })
        .await
    }

    async fn head(&self, key: &str, cond: Preconditions) -> Observation {
        self.call(Operation::HeadObject {
            key: self.s.key(key).unwrap(),
            cond,
        })
        .await
    }
}

fn inm(v: &str) -> WriteConditions {
    WriteConditions {
        if_none_match: Some(v.into()),
        ..Default::default()
    }
}

fn im(v: &str) -> WriteConditions {
    WriteConditions {
        if_match: Some(v.into()),
        ..Default::default()
    }
}

#[track_caller]
fn is(o: &Observation, status: u16, code: Option<&str>) {
    assert_eq!(
        (o.status, o.error_code.as_deref()),
        (Some(status), code),
        "{}",
        o.summary()
    );
}

#[tokio::test]
async fn put_rows_through_the_operation_layer() {
    for profile in Profile::ALL {
        let l = layer(profile, FaultSet::none()).await;
        let created = l.put("k", "v1", inm("*")).await;
        is(&created, 200, None);
        let e1 = created.etag.clone().unwrap();
        is(
            &l.put("k", "v2", inm("*")).await,
            412,
            Some("PreconditionFailed"),
        );
        let (st, code) = inm_value_answer(profile);
        is(&l.put("k", "v2", inm(&e1)).await, st, Some(code));
        is(
            &l.put("k", "v2", im("*")).await,
            501,
            Some("NotImplemented"),
        );
        let both = WriteConditions {
            if_match: Some(e1.clone()),
            if_none_match: Some("*".into()),
        };
        is(&l.put("k", "v2", both).await, 501, Some("NotImplemented"));
        is(&l.put("absent", "v", im(&e1)).await, 404, Some("NoSuchKey"));
        is(
            &l.put("k", "v2", im("\"wrong\"")).await,
            412,
            Some("PreconditionFailed"),
        );
        let got = l.get("k", Preconditions::default()).await;
        assert_eq!(
            got.body_bytes.as_deref(),
            Some(&b"v1"[..]),
            "a 412 leaves the object unchanged"
        );
        is(&l.put("k", "v2", im(&e1)).await, 200, None);
    }
}

#[tokio::test]
async fn read_rows_through_the_operation_layer() {
    for profile in Profile::ALL {
        let l = layer(profile, FaultSet::none()).await;
        let e = l
            .put("k", "data", WriteConditions::default())
            .await
            .etag
            .unwrap();
        let not_modified = l
            .get(
                "k",
                Preconditions {
                    if_none_match: Some(e.clone()),
                    ..Default::default()
                },
            )
            .await;
        is(&not_modified, 304, None);
        assert_eq!(
            not_modified.etag.as_deref(),
            Some(e.as_str()),
            "304 carries the ETag"
        );
        assert!(
            not_modified.last_modified.is_some(),
            "304 carries Last-Modified"
        );
        assert!(
            not_modified.body.is_none()
                && not_modified
                    .body_bytes
                    .as_ref()
                    .is_none_or(|b| b.is_empty())
        );
        let head = l
            .head(
                "k",
                Preconditions {
                    if_match: Some("\"wrong\"".into()),
                    ..Default::default()
                },
            )
            .await;
        is(&head, 412, None);
        let get = l
            .get(
                "k",
                Preconditions {
                    if_match: Some("\"wrong\"".into()),
                    ..Default::default()
                },
            )
            .await;
        is(&get, 412, Some("PreconditionFailed"));
        let missing = l
            .get(
                "nope",
                Preconditions {
                    if_match: Some(e.clone()),
                    ..Default::default()
                },
            )
            .await;
        is(&missing, 404, Some("NoSuchKey"));
        let t = not_modified.last_modified_date().unwrap();
        let ims_equal = l
            .get(
                "k",
                Preconditions {
                    if_modified_since: Some(t),
                    ..Default::default()
                },
            )
            .await;
        is(&ims_equal, 304, None);
        let ims_future = l
            .get(
                "k",
                Preconditions {
                    if_modified_since: Some(t.offset(86_400)),
                    ..Default::default()
                },
            )
            .await;
        is(&ims_future, 200, None);
    }
}

#[tokio::test]
async fn copy_delete_rename_and_multipart_rows_through_the_operation_layer() {
    for profile in Profile::ALL {
        let l = layer(profile, FaultSet::none()).await;
        let k = |n: &str| l.s.key(n).unwrap();
        let es = l
            .put("src", "S", WriteConditions::default())
            .await
            .etag
            .unwrap();
        let copy = l
            .call(Operation::CopyObject {
                source: k("src"),
                key: k("dst"),
                cond: WriteConditions::default(),
                source_cond: Preconditions {
                    if_none_match: Some(es.clone()),
                    ..Default::default()
                },
            })
            .await;
        is(&copy, 412, Some("PreconditionFailed"));
        let del = l
            .call(Operation::DeleteObject {
                key: k("dst"),
                if_match: Some("*".into()),
            })
            .await;
        is(&del, 404, Some("NoSuchKey"));
        let ren = l
            .call(Operation::RenameObject {
                source: k("src"),
                key: k("moved"),
                cond: Preconditions {
                    if_none_match: Some("*".into()),
                    ..Default::default()
                },
                source_cond: Preconditions {
                    if_match: Some(es.clone()),
                    ..Default::default()
                },
                client_token: None,
            })
            .await;
        is(&ren, 200, None);
        is(
            &l.get("src", Preconditions::default()).await,
            404,
            Some("NoSuchKey"),
        );
        assert_eq!(
            l.head("moved", Preconditions::default())
                .await
                .etag
                .as_deref(),
            Some(es.as_str())
        );

        // CMU with If-None-Match:* after the existing key was deleted during the upload: 409.
        let created = l
            .call(Operation::CreateMultipartUpload {
                key: k("moved"),
                metadata: vec![],
            })
            .await;
        let upload_id = created.upload_id.clone().unwrap();
        let part = l
            .call(Operation::UploadPart {
                key: k("moved"),
                upload_id: upload_id.clone(),
                part_number: 1,
                body: Bytes::from_static(b"p"),
            })
            .await;
        let parts = vec![CompletedPart {
            part_number: 1,
            etag: part.etag.unwrap(),
        }];
        is(
            &l.call(Operation::DeleteObject {
                key: k("moved"),
                if_match: None,
            })
            .await,
            204,
            None,
        );
        let complete = l
            .call(Operation::CompleteMultipartUpload {
                key: k("moved"),
                upload_id,
                parts,
                cond: inm("*"),
            })
            .await;
        is(&complete, 409, Some("ConditionalRequestConflict"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn race_through_the_operation_layer_has_one_winner() {
    for profile in Profile::ALL {
        let l = std::sync::Arc::new(layer(profile, FaultSet::none()).await);
        for round in 0..5 {
            let key = format!("race-{round}");
            let mut tasks = Vec::new();
            for i in 0..32 {
                let l = l.clone();
                let key = key.clone();
                tasks.push(tokio::spawn(async move {
                    l.put(&key, &format!("w{i}"), inm("*")).await
                }));
            }
            let mut statuses = Vec::new();
            for t in tasks {
                statuses.push(t.await.unwrap().status.unwrap());
            }
            assert_eq!(
                statuses.iter().filter(|s| **s == 200).count(),
                1,
                "{statuses:?}"
            );
            let allowed: &[u16] = match profile {
                // A racer the server reads after the winner committed gets 412 under both profiles.
                Profile::Coreweave => &[200, 409, 412],
                Profile::Aws => &[200, 412],
            };
            assert!(statuses.iter().all(|s| allowed.contains(s)), "{statuses:?}");
        }
    }
}

#[tokio::test]
async fn injected_5xx_and_resets_are_ambiguous_observations() {
    let l = layer(
        Profile::Coreweave,
        FaultSet::from_iter([Fault::WriteThenReset]),
    )
    .await;
    let mut last = None;
    for i in 0..s3conform::server::WRITE_THEN_RESET_PERIOD {
        last = Some(
            l.put("k", &format!("v{i}"), WriteConditions::default())
                .await,
        );
    }
    let last = last.unwrap();
    assert!(
        matches!(
            last.outcome,
            Outcome::Ambiguous(AmbiguityCause::ConnectionLost { .. })
        ),
        "{}",
        last.summary()
    );

    let l = layer(Profile::Coreweave, FaultSet::from(Fault::WriteThen500)).await;
    let mut last = None;
    for i in 0..s3conform::server::WRITE_THEN_500_PERIOD {
        last = Some(
            l.put("k", &format!("v{i}"), WriteConditions::default())
                .await,
        );
    }
    let last = last.unwrap();
    assert!(
        matches!(
            last.outcome,
            Outcome::Ambiguous(AmbiguityCause::ServerError { status: 500 })
        ),
        "{}",
        last.summary()
    );
}
