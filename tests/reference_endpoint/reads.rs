//! GetObject and HeadObject preconditions (RFC 9110 §13.2.2 order, AWS's recorded answers).

use aws_sdk_s3::primitives::DateTimeFormat;
use s3conform::profile::Profile;

use crate::support::reference::*;

struct Obj {
    etag: String,
    /// Last-Modified as an HTTP-date.
    t: String,
}

async fn setup(env: &Env) -> Obj {
    let etag = env.put("k", "data").await;
    let head = env
        .client
        .head_object()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .unwrap();
    let t = head
        .last_modified
        .unwrap()
        .fmt(DateTimeFormat::HttpDate)
        .unwrap();
    Obj { etag, t }
}

#[tokio::test]
async fn get_304_carries_validators_and_no_body() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let o = setup(&env).await;
        let get = || env.client.get_object().bucket(BUCKET).key("k");
        for inm in [
            o.etag.clone(),
            unquoted(&o.etag),
            "*".to_owned(),
            format!("W/{}", o.etag),
            format!("\"x\", {}", o.etag),
        ] {
            let f = fail(get().if_none_match(&inm).send().await);
            assert_eq!(f.status, Some(304), "If-None-Match: {inm}");
            assert!(f.body.is_empty(), "304 has no body");
            assert_eq!(f.etag.as_deref(), Some(o.etag.as_str()));
            assert_eq!(f.last_modified.as_deref(), Some(o.t.as_str()));
        }
        let ok = get().if_none_match("\"wrong\"").send().await.unwrap();
        assert_eq!(ok.body.collect().await.unwrap().to_vec(), b"data");
        // HEAD 304 too.
        let f = fail(
            env.client
                .head_object()
                .bucket(BUCKET)
                .key("k")
                .if_none_match(&o.etag)
                .send()
                .await,
        );
        assert_eq!((f.status, f.body.is_empty()), (Some(304), true));
    }
}

#[tokio::test]
async fn get_412_has_condition_head_412_has_no_body() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let o = setup(&env).await;
        let f = fail(
            env.client
                .get_object()
                .bucket(BUCKET)
                .key("k")
                .if_match("\"wrong\"")
                .send()
                .await,
        );
        expect(&f, 412, "PreconditionFailed");
        assert!(f.body_text().contains("<Condition>If-Match</Condition>"));
        let f = fail(
            env.client
                .head_object()
                .bucket(BUCKET)
                .key("k")
                .if_match("\"wrong\"")
                .send()
                .await,
        );
        assert_eq!(f.status, Some(412));
        assert!(f.body.is_empty(), "HEAD errors have no body");
        // Matching forms proceed.
        for im in [
            o.etag.clone(),
            unquoted(&o.etag),
            "*".into(),
            format!("\"x\", {}", o.etag),
        ] {
            env.client
                .get_object()
                .bucket(BUCKET)
                .key("k")
                .if_match(&im)
                .send()
                .await
                .unwrap();
            env.client
                .head_object()
                .bucket(BUCKET)
                .key("k")
                .if_match(&im)
                .send()
                .await
                .unwrap();
        }
        // A weak tag never matches If-Match (strong comparison).
        let f = fail(
            env.client
                .get_object()
                .bucket(BUCKET)
                .key("k")
                .if_match(format!("W/{}", o.etag))
                .send()
                .await,
        );
        assert_eq!(f.status, Some(412));
    }
}

#[tokio::test]
async fn get_dates_and_precedence() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let o = setup(&env).await;
        let get = || env.client.get_object().bucket(BUCKET).key("k");
        let st = |r| async move { status(r) };
        // If-Modified-Since: past 200, equal 304, future ignored 200.
        assert_eq!(
            st(get().if_modified_since(shift(&o.t, -86_400)).send().await).await,
            200
        );
        assert_eq!(
            st(get().if_modified_since(shift(&o.t, 0)).send().await).await,
            304
        );
        assert_eq!(
            st(get()
                .if_modified_since(shift(&o.t, 86_400 * 365))
                .send()
                .await)
            .await,
            200
        );
        // If-Unmodified-Since: past 412, equal 200.
        assert_eq!(
            st(get().if_unmodified_since(shift(&o.t, -86_400)).send().await).await,
            412
        );
        assert_eq!(
            st(get().if_unmodified_since(shift(&o.t, 0)).send().await).await,
            200
        );
        // If-Match true + If-Unmodified-Since false → 200.
        assert_eq!(
            st(get()
                .if_match(&o.etag)
                .if_unmodified_since(shift(&o.t, -86_400))
                .send()
                .await)
            .await,
            200
        );
        // If-None-Match matching + If-Modified-Since true → 304.
        assert_eq!(
            st(get()
                .if_none_match(&o.etag)
                .if_modified_since(shift(&o.t, -86_400))
                .send()
                .await)
            .await,
            304
        );
        // If-None-Match not matching + If-Modified-Since false → 200 (IMS ignored).
        assert_eq!(
            st(get()
                .if_none_match("\"wrong\"")
                .if_modified_since(shift(&o.t, 0))
                .send()
                .await)
            .await,
            200
        );
        // All four with If-Match failing → 412 If-Match.
        let f = fail(
            get()
                .if_match("\"wrong\"")
                .if_none_match(&o.etag)
                .if_modified_since(shift(&o.t, 0))
                .if_unmodified_since(shift(&o.t, -86_400))
                .send()
                .await,
        );
        assert!(f.body_text().contains("<Condition>If-Match</Condition>"));
        // If-Unmodified-Since false beats a matching If-None-Match.
        let f = fail(
            get()
                .if_unmodified_since(shift(&o.t, -86_400))
                .if_none_match(&o.etag)
                .send()
                .await,
        );
        assert_eq!(f.status, Some(412));
        assert!(
            f.body_text()
                .contains("<Condition>If-Unmodified-Since</Condition>")
        );
        // An invalid date is ignored.
        let r = get()
            .customize()
            .mutate_request(|r| {
                r.headers_mut().insert("if-modified-since", "not a date");
            })
            .send()
            .await;
        assert_eq!(status(r), 200);
    }
}

#[tokio::test]
async fn conditional_read_of_missing_key_stays_404() {
    for profile in Profile::ALL {
        let env = Env::start(profile).await;
        let f = fail(
            env.client
                .get_object()
                .bucket(BUCKET)
                .key("none")
                .if_match("\"x\"")
                .send()
                .await,
        );
        expect(&f, 404, "NoSuchKey");
        let f = fail(
            env.client
                .get_object()
                .bucket(BUCKET)
                .key("none")
                .if_none_match("*")
                .send()
                .await,
        );
        expect(&f, 404, "NoSuchKey");
        let f = fail(
            env.client
                .head_object()
                .bucket(BUCKET)
                .key("none")
                .if_match("\"x\"")
                .send()
                .await,
        );
        assert_eq!((f.status, f.body.is_empty()), (Some(404), true));
    }
}

#[tokio::test]
async fn ranged_get() {
    let env = Env::start(Profile::Coreweave).await;
    env.put("k", "0123456789").await;
    let o = env
        .client
        .get_object()
        .bucket(BUCKET)
        .key("k")
        .range("bytes=2-4")
        .send()
        .await
        .unwrap();
    assert_eq!(o.content_range(), Some("bytes 2-4/10"));
    assert_eq!(o.body.collect().await.unwrap().to_vec(), b"234");
    let f = fail(
        env.client
            .get_object()
            .bucket(BUCKET)
            .key("k")
            .range("bytes=20-")
            .send()
            .await,
    );
    expect(&f, 416, "InvalidRange");
}
