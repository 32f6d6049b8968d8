//! PutObject, CompleteMultipartUpload, CopyObject, DeleteObject(s), RenameObject.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, Delete, MetadataDirective, ObjectIdentifier,
};
use s3conform::profile::Profile;

use crate::support::reference::*;

#[tokio::test]
async fn put_if_none_match_star_creates_once_and_412_leaves_object_unchanged() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let c = &env.client;
        let first = c
            .put_object()
            .bucket(BUCKET)
            .key("k")
            .body(ByteStream::from_static(b"one"))
            .if_none_match("*");
        let e1 = first.send().await.unwrap().e_tag.unwrap();
        let again = c
            .put_object()
            .bucket(BUCKET)
            .key("k")
            .body(ByteStream::from_static(b"two"))
            .if_none_match("*");
        let f = fail(again.send().await);
        expect(&f, 412, "PreconditionFailed");
        assert!(
            f.body_text()
                .contains("<Condition>If-None-Match</Condition>"),
            "{}",
            f.body_text()
        );
        assert_eq!(env.body("k").await.unwrap(), "one");
        assert_eq!(env.etag("k").await.unwrap(), e1);
    }
}

#[tokio::test]
async fn put_etags_are_quoted_md5_and_metadata_round_trips() {
    let env = Env::start(Profile::Coreweave).await;
    let out = env
        .client
        .put_object()
        .bucket(BUCKET)
        .key("m")
        .metadata("color", "blue")
        .content_type("text/plain")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.e_tag.as_deref(),
        Some("\"5d41402abc4b2a76b9719d911017c592\"")
    );
    let got = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("m")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.e_tag.as_deref(),
        Some("\"5d41402abc4b2a76b9719d911017c592\"")
    );
    assert_eq!(
        got.metadata.unwrap().get("color").map(String::as_str),
        Some("blue")
    );
    assert_eq!(got.content_type.as_deref(), Some("text/plain"));
    let head = env
        .client
        .head_object()
        .bucket(BUCKET)
        .key("m")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length, Some(5));
    assert_eq!(
        head.metadata.unwrap().get("color").map(String::as_str),
        Some("blue")
    );
    let lm = head.last_modified.unwrap();
    assert_eq!(lm.subsec_nanos(), 0);
}

#[tokio::test]
async fn put_if_match_cas_quoted_unquoted_mismatch_and_missing() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let c = &env.client;
        let e1 = env.put("k", "v1").await;
        let put = |body: &'static str| {
            c.put_object()
                .bucket(BUCKET)
                .key("k")
                .body(ByteStream::from_static(body.as_bytes()))
        };
        let e2 = put("v2").if_match(&e1).send().await.unwrap().e_tag.unwrap();
        assert_ne!(e1, e2);
        // Unquoted ETags compare like quoted ones.
        let e3 = put("v3")
            .if_match(unquoted(&e2))
            .send()
            .await
            .unwrap()
            .e_tag
            .unwrap();
        // Mismatch: 412, object unchanged.
        let f = fail(put("v4").if_match(&e1).send().await);
        expect(&f, 412, "PreconditionFailed");
        assert!(f.body_text().contains("<Condition>If-Match</Condition>"));
        assert_eq!(env.body("k").await.unwrap(), "v3");
        assert_eq!(env.etag("k").await.unwrap(), e3);
        // Missing key: 404 NoSuchKey (AWS; CoreWeave silent).
        let f = fail(
            c.put_object()
                .bucket(BUCKET)
                .key("absent")
                .body(ByteStream::from_static(b"x"))
                .if_match(&e1)
                .send()
                .await,
        );
        expect(&f, 404, "NoSuchKey");
        assert!(env.body("absent").await.is_err());
    }
}

#[tokio::test]
async fn put_refused_header_values_per_profile() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let c = &env.client;
        let e1 = env.put("k", "v1").await;
        let put = || {
            c.put_object()
                .bucket(BUCKET)
                .key("k")
                .body(ByteStream::from_static(b"x"))
        };
        let (st, code) = inm_value_answer(profile);
        expect(&fail(put().if_none_match(&e1).send().await), st, code);
        expect(
            &fail(put().if_none_match("\"other\"").send().await),
            st,
            code,
        );
        let f = fail(put().if_match("*").send().await);
        expect(&f, 501, "NotImplemented");
        assert!(f.body_text().contains("<Header>If-Match</Header>"));
        let f = fail(put().if_match(&e1).if_none_match("*").send().await);
        expect(&f, 501, "NotImplemented");
        assert!(
            f.body_text()
                .contains("<Header>If-Match,If-None-Match</Header>"),
            "{}",
            f.body_text()
        );
        if profile == Profile::Aws {
            let f = fail(put().if_none_match(&e1).send().await);
            assert!(f.body_text().contains("<Header>If-None-Match</Header>"));
        }
        assert_eq!(
            env.body("k").await.unwrap(),
            "v1",
            "refused writes change nothing"
        );
    }
}

async fn mpu(env: &Env, key: &str, parts: &[&'static [u8]]) -> (String, Vec<CompletedPart>) {
    let c = &env.client;
    let id = c
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap()
        .upload_id
        .unwrap();
    let mut done = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let up = c
            .upload_part()
            .bucket(BUCKET)
            .key(key)
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from_static(p))
            .send()
            .await
            .unwrap();
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(up.e_tag.unwrap())
                .build(),
        );
    }
    (id, done)
}

fn complete(
    env: &Env,
    key: &str,
    id: &str,
    parts: &[CompletedPart],
) -> aws_sdk_s3::operation::complete_multipart_upload::builders::CompleteMultipartUploadFluentBuilder
{
    env.client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts.to_vec()))
                .build(),
        )
}

#[tokio::test]
async fn multipart_etag_is_md5_of_md5s_and_compared_literally() {
    let env = Env::start(Profile::Coreweave).await;
    let (id, parts) = mpu(&env, "m", &[b"abc"]).await;
    let etag = complete(&env, "m", &id, &parts)
        .send()
        .await
        .unwrap()
        .e_tag
        .unwrap();
    assert!(etag.ends_with("-1\""), "{etag}");
    let inner = md5_hex(&hex_decode(&md5_hex(b"abc")));
    assert_eq!(etag, format!("\"{inner}-1\""));
    assert_eq!(env.body("m").await.unwrap(), "abc");
    // If-Match with the composite ETag: 200; with the single-part MD5 of the same bytes: 412.
    let (id, parts) = mpu(&env, "m", &[b"abc"]).await;
    let f = fail(
        complete(&env, "m", &id, &parts)
            .if_match(format!("\"{}\"", md5_hex(b"abc")))
            .send()
            .await,
    );
    expect(&f, 412, "PreconditionFailed");
    complete(&env, "m", &id, &parts)
        .if_match(&etag)
        .send()
        .await
        .unwrap();
    // Small non-last parts are refused, as on AWS.
    let (id, parts) = mpu(&env, "m2", &[b"a", b"b"]).await;
    expect(
        &fail(complete(&env, "m2", &id, &parts).send().await),
        400,
        "EntityTooSmall",
    );
}

fn md5_hex(b: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(b))
}

fn hex_decode(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[tokio::test]
async fn multipart_conditions_are_checked_at_completion() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let c = &env.client;
        // INM:* on a new key: 200; on an existing one: 412.
        let (id, parts) = mpu(&env, "a", &[b"x"]).await;
        complete(&env, "a", &id, &parts)
            .if_none_match("*")
            .send()
            .await
            .unwrap();
        let (id, parts) = mpu(&env, "a", &[b"y"]).await;
        expect(
            &fail(
                complete(&env, "a", &id, &parts)
                    .if_none_match("*")
                    .send()
                    .await,
            ),
            412,
            "PreconditionFailed",
        );
        // INM:* and a PUT during the upload: 412.
        let (id, parts) = mpu(&env, "b", &[b"x"]).await;
        env.put("b", "during").await;
        expect(
            &fail(
                complete(&env, "b", &id, &parts)
                    .if_none_match("*")
                    .send()
                    .await,
            ),
            412,
            "PreconditionFailed",
        );
        // INM:* and a DELETE of the existing key during the upload: 409, again on retry; a new MPU succeeds.
        env.put("c", "before").await;
        let (id, parts) = mpu(&env, "c", &[b"x"]).await;
        c.delete_object()
            .bucket(BUCKET)
            .key("c")
            .send()
            .await
            .unwrap();
        for _ in 0..2 {
            let f = fail(
                complete(&env, "c", &id, &parts)
                    .if_none_match("*")
                    .send()
                    .await,
            );
            expect(&f, 409, "ConditionalRequestConflict");
        }
        let (id2, parts2) = mpu(&env, "c", &[b"z"]).await;
        complete(&env, "c", &id2, &parts2)
            .if_none_match("*")
            .send()
            .await
            .unwrap();
        // If-Match E1 and an identical PUT during the upload: 409; against E1 after a different PUT: 412.
        let e1 = env.put("d", "same").await;
        let (id, parts) = mpu(&env, "d", &[b"x"]).await;
        assert_eq!(env.put("d", "same").await, e1);
        expect(
            &fail(complete(&env, "d", &id, &parts).if_match(&e1).send().await),
            409,
            "ConditionalRequestConflict",
        );
        env.put("d", "different").await;
        expect(
            &fail(complete(&env, "d", &id, &parts).if_match(&e1).send().await),
            412,
            "PreconditionFailed",
        );
        // If-Match and a DELETE during the upload: 404.
        let e1 = env.put("e", "v").await;
        let (id, parts) = mpu(&env, "e", &[b"x"]).await;
        c.delete_object()
            .bucket(BUCKET)
            .key("e")
            .send()
            .await
            .unwrap();
        expect(
            &fail(complete(&env, "e", &id, &parts).if_match(&e1).send().await),
            404,
            "NoSuchKey",
        );
        // If-Match unchanged: 200. If-Match on an absent key: 404. INM:<etag>: per profile.
        let e1 = env.put("f", "v").await;
        let (id, parts) = mpu(&env, "f", &[b"x"]).await;
        let (st, code) = inm_value_answer(profile);
        expect(
            &fail(
                complete(&env, "f", &id, &parts)
                    .if_none_match(&e1)
                    .send()
                    .await,
            ),
            st,
            code,
        );
        complete(&env, "f", &id, &parts)
            .if_match(&e1)
            .send()
            .await
            .unwrap();
        let (id, parts) = mpu(&env, "g", &[b"x"]).await;
        expect(
            &fail(complete(&env, "g", &id, &parts).if_match(&e1).send().await),
            404,
            "NoSuchKey",
        );
    }
}

#[tokio::test]
async fn copy_destination_conditions() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let c = &env.client;
        let es = env.put("src", "source").await;
        let copy = |dest: &str| {
            c.copy_object()
                .bucket(BUCKET)
                .key(dest)
                .copy_source(format!("{BUCKET}/src"))
        };
        // INM:* new destination: 200 with the source's bytes and ETag.
        let out = copy("d1").if_none_match("*").send().await.unwrap();
        assert_eq!(out.copy_object_result.unwrap().e_tag.unwrap(), es);
        assert_eq!(env.body("d1").await.unwrap(), "source");
        // INM:* existing destination (and in place): 412.
        expect(
            &fail(copy("d1").if_none_match("*").send().await),
            412,
            "PreconditionFailed",
        );
        expect(
            &fail(copy("src").if_none_match("*").send().await),
            412,
            "PreconditionFailed",
        );
        // If-Match: match 200, wrong 412, absent 404.
        let ed = env.put("d2", "dest").await;
        copy("d2").if_match(&ed).send().await.unwrap();
        assert_eq!(env.body("d2").await.unwrap(), "source");
        expect(
            &fail(copy("d2").if_match(&ed).send().await),
            412,
            "PreconditionFailed",
        );
        expect(
            &fail(copy("nope").if_match(&es).send().await),
            404,
            "NoSuchKey",
        );
        // Refused values.
        let (st, code) = inm_value_answer(profile);
        expect(&fail(copy("d3").if_none_match(&es).send().await), st, code);
        expect(
            &fail(copy("d3").if_match("*").send().await),
            501,
            "NotImplemented",
        );
        // Missing source: 404.
        let f = fail(
            c.copy_object()
                .bucket(BUCKET)
                .key("d4")
                .copy_source(format!("{BUCKET}/missing"))
                .send()
                .await,
        );
        expect(&f, 404, "NoSuchKey");
    }
}

#[tokio::test]
async fn copy_source_conditions_fail_with_412_never_304() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let c = &env.client;
        let es = env.put("src", "source").await;
        let head = c
            .head_object()
            .bucket(BUCKET)
            .key("src")
            .send()
            .await
            .unwrap();
        let lm = head.last_modified.unwrap();
        let t = lm
            .fmt(aws_sdk_s3::primitives::DateTimeFormat::HttpDate)
            .unwrap();
        let copy = || {
            c.copy_object()
                .bucket(BUCKET)
                .key("dst")
                .copy_source(format!("{BUCKET}/src"))
        };
        copy().copy_source_if_match(&es).send().await.unwrap();
        let f = fail(copy().copy_source_if_match("\"wrong\"").send().await);
        expect(&f, 412, "PreconditionFailed");
        assert!(
            f.body_text()
                .contains("<Condition>x-amz-copy-source-If-Match</Condition>"),
            "{}",
            f.body_text()
        );
        for inm in [es.clone(), unquoted(&es)] {
            let f = fail(copy().copy_source_if_none_match(inm).send().await);
            expect(&f, 412, "PreconditionFailed");
            assert!(f.body_text().contains("x-amz-copy-source-If-None-Match"));
        }
        // If-Modified-Since equal → 412; future → ignored (200).
        expect(
            &fail(
                copy()
                    .copy_source_if_modified_since(shift(&t, 0))
                    .send()
                    .await,
            ),
            412,
            "PreconditionFailed",
        );
        copy()
            .copy_source_if_modified_since(shift(&t, 86_400))
            .send()
            .await
            .unwrap();
        // If-Unmodified-Since past → 412; equal → 200.
        expect(
            &fail(
                copy()
                    .copy_source_if_unmodified_since(shift(&t, -86_400))
                    .send()
                    .await,
            ),
            412,
            "PreconditionFailed",
        );
        copy()
            .copy_source_if_unmodified_since(shift(&t, 0))
            .send()
            .await
            .unwrap();
        // Precedence: if-match true + if-unmodified-since false → 200 and the copy happens.
        c.delete_object()
            .bucket(BUCKET)
            .key("dst")
            .send()
            .await
            .unwrap();
        copy()
            .copy_source_if_match(&es)
            .copy_source_if_unmodified_since(shift(&t, -86_400))
            .send()
            .await
            .unwrap();
        assert_eq!(env.body("dst").await.unwrap(), "source");
        // if-none-match false + if-modified-since true → 412.
        let f = fail(
            copy()
                .copy_source_if_none_match(&es)
                .copy_source_if_modified_since(shift(&t, -86_400))
                .send()
                .await,
        );
        expect(&f, 412, "PreconditionFailed");
        // Metadata: COPY keeps the source's, REPLACE takes the request's.
        c.put_object()
            .bucket(BUCKET)
            .key("meta")
            .metadata("a", "1")
            .body(ByteStream::from_static(b"m"))
            .send()
            .await
            .unwrap();
        c.copy_object()
            .bucket(BUCKET)
            .key("m2")
            .copy_source(format!("{BUCKET}/meta"))
            .send()
            .await
            .unwrap();
        let h = c
            .head_object()
            .bucket(BUCKET)
            .key("m2")
            .send()
            .await
            .unwrap();
        assert_eq!(h.metadata.unwrap().get("a").map(String::as_str), Some("1"));
        c.copy_object()
            .bucket(BUCKET)
            .key("m2")
            .copy_source(format!("{BUCKET}/meta"))
            .metadata_directive(MetadataDirective::Replace)
            .metadata("b", "2")
            .send()
            .await
            .unwrap();
        let h = c
            .head_object()
            .bucket(BUCKET)
            .key("m2")
            .send()
            .await
            .unwrap();
        let m = h.metadata.unwrap();
        assert_eq!(
            (m.get("a"), m.get("b").map(String::as_str)),
            (None, Some("2"))
        );
    }
}

#[tokio::test]
async fn delete_if_match() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let c = &env.client;
        let e1 = env.put("k", "v").await;
        let del = |k: &str| c.delete_object().bucket(BUCKET).key(k);
        expect(
            &fail(del("k").if_match("\"wrong\"").send().await),
            412,
            "PreconditionFailed",
        );
        assert_eq!(env.body("k").await.unwrap(), "v", "412 keeps the key");
        del("k").if_match(&e1).send().await.unwrap();
        assert_eq!(env.body("k").await.unwrap_err().status, Some(404));
        env.put("k", "v").await;
        del("k").if_match("*").send().await.unwrap();
        expect(&fail(del("k").if_match("*").send().await), 404, "NoSuchKey");
        expect(&fail(del("k").if_match(&e1).send().await), 404, "NoSuchKey");
        del("k").send().await.unwrap();
        env.put("k", "v").await;
        let f = fail(del("k").if_match_size(1).send().await);
        expect(&f, 501, "NotImplemented");
        assert!(f.body_text().contains("x-amz-if-match-size"));
        let t = aws_sdk_s3::primitives::DateTime::from_secs(1_000_000_000);
        let f = fail(del("k").if_match_last_modified_time(t).send().await);
        expect(&f, 501, "NotImplemented");
        assert!(f.body_text().contains("x-amz-if-match-last-modified-time"));
        assert_eq!(env.body("k").await.unwrap(), "v");
    }
}

#[tokio::test]
async fn delete_objects_per_key_etags() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let e1 = env.put("a", "1").await;
        env.put("b", "2").await;
        let ids = vec![
            ObjectIdentifier::builder()
                .key("a")
                .e_tag(&e1)
                .build()
                .unwrap(),
            ObjectIdentifier::builder()
                .key("b")
                .e_tag("\"wrong\"")
                .build()
                .unwrap(),
        ];
        let out = env
            .client
            .delete_objects()
            .bucket(BUCKET)
            .delete(Delete::builder().set_objects(Some(ids)).build().unwrap())
            .send()
            .await
            .unwrap();
        let deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
        assert_eq!(deleted, ["a"]);
        let errors: Vec<_> = out
            .errors()
            .iter()
            .map(|e| (e.key().unwrap(), e.code().unwrap()))
            .collect();
        assert_eq!(errors, [("b", "PreconditionFailed")]);
        assert_eq!(env.body("b").await.unwrap(), "2");
    }
}

fn rename(
    env: &Env,
    src: &str,
    dest: &str,
) -> aws_sdk_s3::operation::rename_object::builders::RenameObjectFluentBuilder {
    env.client
        .rename_object()
        .bucket(BUCKET)
        .key(dest)
        .rename_source(format!("{BUCKET}/{src}"))
}

#[tokio::test]
async fn rename_moves_atomically_with_conditions() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let es = env.put("src", "S").await;
        // Success: destination gets the source version, source is gone.
        rename(&env, "src", "dst")
            .destination_if_none_match("*")
            .send()
            .await
            .unwrap();
        assert_eq!(env.body("dst").await.unwrap(), "S");
        assert_eq!(env.etag("dst").await.unwrap(), es);
        expect(&env.body("src").await.unwrap_err(), 404, "NoSuchKey");
        // Missing source: 404.
        expect(
            &fail(rename(&env, "src", "x").send().await),
            404,
            "NoSuchKey",
        );
        // Destination INM:* on an existing destination: 412, both unchanged.
        env.put("src", "S2").await;
        expect(
            &fail(
                rename(&env, "src", "dst")
                    .destination_if_none_match("*")
                    .send()
                    .await,
            ),
            412,
            "PreconditionFailed",
        );
        assert_eq!(env.body("src").await.unwrap(), "S2");
        assert_eq!(env.body("dst").await.unwrap(), "S");
        // Destination If-Match: wrong 412, right 200.
        expect(
            &fail(
                rename(&env, "src", "dst")
                    .destination_if_match("\"wrong\"")
                    .send()
                    .await,
            ),
            412,
            "PreconditionFailed",
        );
        rename(&env, "src", "dst")
            .destination_if_match(&es)
            .send()
            .await
            .unwrap();
        assert_eq!(env.body("dst").await.unwrap(), "S2");
        // Source conditions.
        let es3 = env.put("s3", "S3").await;
        let f = fail(
            rename(&env, "s3", "d3")
                .source_if_match("\"wrong\"")
                .send()
                .await,
        );
        expect(&f, 412, "PreconditionFailed");
        assert!(
            f.body_text().contains("x-amz-rename-source-If-Match"),
            "{}",
            f.body_text()
        );
        expect(
            &fail(
                rename(&env, "s3", "d3")
                    .source_if_none_match("*")
                    .send()
                    .await,
            ),
            412,
            "PreconditionFailed",
        );
        let past = aws_sdk_s3::primitives::DateTime::from_secs(1_000_000_000);
        expect(
            &fail(
                rename(&env, "s3", "d3")
                    .source_if_unmodified_since(past)
                    .send()
                    .await,
            ),
            412,
            "PreconditionFailed",
        );
        env.put("d3", "D3").await;
        expect(
            &fail(
                rename(&env, "s3", "d3")
                    .destination_if_unmodified_since(past)
                    .send()
                    .await,
            ),
            412,
            "PreconditionFailed",
        );
        rename(&env, "s3", "d4")
            .source_if_match(&es3)
            .send()
            .await
            .unwrap();
        // Keys ending in '/' are refused.
        env.put("dir/", "").await;
        assert_eq!(
            fail(rename(&env, "dir/", "d5").send().await).status,
            Some(400)
        );
    }
}

#[tokio::test]
async fn rename_client_token_is_idempotent() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        env.put("a", "A").await;
        rename(&env, "a", "b")
            .client_token("tok-1")
            .send()
            .await
            .unwrap();
        // Same token, same parameters: a no-op success even though the source is gone now.
        rename(&env, "a", "b")
            .client_token("tok-1")
            .send()
            .await
            .unwrap();
        assert_eq!(env.body("b").await.unwrap(), "A");
        // Same token, different parameters: 400 IdempotencyParameterMismatch.
        let f = fail(rename(&env, "a", "c").client_token("tok-1").send().await);
        expect(&f, 400, "IdempotencyParameterMismatch");
    }
}

#[tokio::test]
async fn buckets_and_listing() {
    let env = Env::start(Profile::Coreweave).await;
    let c = &env.client;
    for k in ["p/1", "p/2", "p/3", "q/1"] {
        env.put(k, "x").await;
    }
    let page = c
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("p/")
        .max_keys(2)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = page.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["p/1", "p/2"]);
    assert_eq!(page.is_truncated(), Some(true));
    let token = page.next_continuation_token().unwrap();
    let page = c
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("p/")
        .continuation_token(token)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = page.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["p/3"]);
    let all = c
        .list_objects_v2()
        .bucket(BUCKET)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = all
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["p/", "q/"]);
    let names: Vec<_> = c
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, [BUCKET]);
    c.head_bucket().bucket(BUCKET).send().await.unwrap();
    assert_eq!(status(c.head_bucket().bucket("nope").send().await), 404);
    expect(
        &fail(c.create_bucket().bucket(BUCKET).send().await),
        409,
        "BucketAlreadyOwnedByYou",
    );
    expect(
        &fail(c.delete_bucket().bucket(BUCKET).send().await),
        409,
        "BucketNotEmpty",
    );
    c.create_bucket().bucket("empty").send().await.unwrap();
    c.delete_bucket().bucket("empty").send().await.unwrap();
    expect(
        &fail(c.get_object().bucket("empty").key("k").send().await),
        404,
        "NoSuchBucket",
    );
}

#[tokio::test]
async fn sigv4_is_enforced() {
    let env = Env::start(Profile::Coreweave).await;
    let conf = env
        .client
        .config()
        .to_builder()
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "AKIDWRONG",
            "nope",
            None,
            None,
            "t",
        ))
        .build();
    let stranger = aws_sdk_s3::Client::from_conf(conf);
    assert_eq!(
        status(stranger.list_objects_v2().bucket(BUCKET).send().await),
        403
    );
    let conf = env
        .client
        .config()
        .to_builder()
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            s3conform::server::DEFAULT_ACCESS_KEY,
            "wrong-secret",
            None,
            None,
            "t",
        ))
        .build();
    let forger = aws_sdk_s3::Client::from_conf(conf);
    assert_eq!(
        status(forger.get_object().bucket(BUCKET).key("k").send().await),
        403
    );
    assert_eq!(
        status(
            forger
                .rename_object()
                .bucket(BUCKET)
                .key("b")
                .rename_source(format!("{BUCKET}/a"))
                .send()
                .await
        ),
        403
    );
}

#[tokio::test]
async fn unsigned_requests_are_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let env = Env::start(Profile::Coreweave).await;
    env.put("k", "secret").await;
    for request in [
        "GET /ref/k HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        "PUT /ref/k2?renameObject HTTP/1.1\r\nHost: h\r\nx-amz-rename-source: ref/k\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ] {
        let mut sock = tokio::net::TcpStream::connect(env.handle.addr())
            .await
            .unwrap();
        sock.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        sock.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
        assert!(!answer.contains("secret"));
    }
    assert_eq!(env.body("k").await.unwrap(), "secret");
}

#[tokio::test]
async fn abort_removes_the_upload() {
    let env = Env::start(Profile::Coreweave).await;
    let (id, parts) = mpu(&env, "m", &[b"p"]).await;
    env.client
        .abort_multipart_upload()
        .bucket(BUCKET)
        .key("m")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    expect(
        &fail(complete(&env, "m", &id, &parts).send().await),
        404,
        "NoSuchUpload",
    );
    let again = env
        .client
        .abort_multipart_upload()
        .bucket(BUCKET)
        .key("m")
        .upload_id(&id)
        .send()
        .await;
    expect(&fail(again), 404, "NoSuchUpload");
    assert!(env.body("m").await.is_err(), "nothing was written");
}

#[tokio::test]
async fn conditional_delete_of_a_version_is_not_implemented() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let e = env.put("k", "v").await;
        let f = fail(
            env.client
                .delete_object()
                .bucket(BUCKET)
                .key("k")
                .if_match(&e)
                .version_id("v1")
                .send()
                .await,
        );
        expect(&f, 501, "NotImplemented");
        assert_eq!(env.body("k").await.unwrap(), "v");
    }
}

#[tokio::test]
async fn shutdown_is_prompt_with_idle_connections_and_bind_errors_are_reported() {
    let env = Env::start(Profile::Coreweave).await;
    env.put("k", "v").await; // leaves a pooled keep-alive connection
    let addr = env.handle.addr();
    let taken = s3conform::server::spawn(s3conform::server::ServerConfig {
        addr,
        ..Default::default()
    })
    .await;
    assert!(
        matches!(taken, Err(s3conform::server::ServerError::Bind { .. })),
        "{taken:?}"
    );
    let Env { handle, client } = env;
    tokio::time::timeout(std::time::Duration::from_secs(5), handle.shutdown())
        .await
        .expect("shutdown is prompt");
    let after = client.get_object().bucket(BUCKET).key("k").send().await;
    assert!(after.is_err(), "nothing answers after shutdown");
}

#[tokio::test]
async fn listing_pages_through_common_prefixes() {
    let env = Env::start(Profile::Coreweave).await;
    for k in ["a/1", "a/2", "b/1", "b/2", "c"] {
        env.put(k, "x").await;
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let mut req = env
            .client
            .list_objects_v2()
            .bucket(BUCKET)
            .delimiter("/")
            .max_keys(1);
        if let Some(t) = &token {
            req = req.continuation_token(t);
        }
        let page = req.send().await.unwrap();
        seen.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        match page.next_continuation_token() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["a/", "b/", "c"]);
    let empty = env
        .client
        .list_objects_v2()
        .bucket(BUCKET)
        .max_keys(0)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (empty.key_count(), empty.is_truncated()),
        (Some(0), Some(false))
    );
}
