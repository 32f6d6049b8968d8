//! Claiming a run root before the first write: a root nobody has written to, on a bucket whose
//! deletes really remove what the run wrote, on an endpoint that speaks S3 at all.
//!
//! Two runs given the same `--prefix` must never share a key (the fuzzer assumes its keys are
//! absent at the start, and cleanup would delete the other run's objects), and a run must never
//! write over an object that existed before it started. So each run takes a fresh
//! `<base><run-id>/` root and first checks, by listing it, that it is empty; a taken root is
//! skipped for another id. The same probes tell an endpoint that does not speak S3 (an HTML
//! page answering everything) from one that does, before anything is judged.

use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::types::BucketVersioningStatus;
use bytes::Bytes;

use super::key::RunPrefix;
use super::request::{Operation, Request, WriteConditions};
use super::session::{Session, SetupError};
use super::target::Target;

/// How many fresh run ids are tried before giving up on a base prefix.
const ATTEMPTS: usize = 5;

/// A name read (never written) under a fresh, empty run root to see how a 404 looks.
const ABSENT_NAME: &str = "s3conform-absent";

/// The relative name of the root marker: an object written first under each run root (which
/// also checks that PUT answers an ETag) and deleted last by cleanup. `s3conform clean` aborts
/// a multipart upload only under a root that still has it, since an upload's metadata cannot
/// be read back.
pub const ROOT_MARKER: &str = "s3conform-run";

impl Session {
    /// Connects to `target` and claims a fresh, empty run root under `base`: checks the bucket,
    /// refuses a versioned bucket, and checks that the endpoint answers S3 (a listing that
    /// parses, an ETag on a PUT).
    pub async fn connect_run(target: Target, base: &RunPrefix) -> Result<Session, SetupError> {
        let session = Session::connect(target, base.fresh_run()).await?;
        session.refuse_versioning().await?;
        let mut session = session;
        for _ in 0..ATTEMPTS {
            if session.root_is_empty().await? {
                session.probe_missing().await?;
                session.put_root_marker().await?;
                return Ok(session);
            }
            session = session.with_root(base.fresh_run());
        }
        Err(SetupError::PrefixInUse {
            base: base.as_str().to_owned(),
            attempts: ATTEMPTS,
        })
    }

    fn not_s3(&self, what: &str, detail: String) -> SetupError {
        SetupError::NotS3 {
            endpoint: self.target().endpoint.to_string(),
            detail: format!("{what}: {detail}"),
        }
    }

    /// Whether nothing is stored under the run root yet.
    async fn root_is_empty(&self) -> Result<bool, SetupError> {
        let obs = self
            .call(&Request::new(Operation::ListObjectsV2 { prefix: None }))
            .await
            .map_err(|e| self.not_s3("ListObjectsV2", e.to_string()))?;
        if obs.is_ambiguous() && obs.status.is_none() {
            return Err(SetupError::Unreachable {
                endpoint: self.target().endpoint.to_string(),
                detail: format!("ListObjectsV2 of the run prefix: {}", obs.summary()),
            });
        }
        match (obs.status, &obs.listed_keys) {
            (Some(200), Some(keys)) => Ok(keys.is_empty()),
            _ => Err(self.not_s3("ListObjectsV2 did not answer a listing", describe(&obs))),
        }
    }

    /// Reads a key that cannot exist (the root was just found empty): S3 answers 404 (or 403
    /// without list permission) with an XML error body naming a code. A page, or a 200, means
    /// every later answer is meaningless.
    async fn probe_missing(&self) -> Result<(), SetupError> {
        let key = self
            .key(ABSENT_NAME)
            .map_err(|e| self.not_s3("probe key", e.to_string()))?;
        let get = Request::new(Operation::GetObject {
            key,
            cond: super::request::Preconditions::default(),
        });
        let obs = self
            .call(&get)
            .await
            .map_err(|e| self.not_s3("GetObject", e.to_string()))?;
        if obs.is_ambiguous() && obs.status.is_none() {
            return Err(SetupError::Unreachable {
                endpoint: self.target().endpoint.to_string(),
                detail: format!("GetObject of a missing key: {}", obs.summary()),
            });
        }
        match (obs.status, obs.error_code.as_deref()) {
            // 403 is how S3 answers a missing key without s3:ListBucket: still S3.
            (Some(400..=499), Some(code)) if !code.is_empty() => Ok(()),
            _ => Err(self.not_s3(
                "GetObject of a missing key did not answer an S3 error",
                describe(&obs),
            )),
        }
    }

    /// Writes the root marker (with the marker metadata, as every object): an S3 PUT answers
    /// 200 with an ETag.
    async fn put_root_marker(&self) -> Result<(), SetupError> {
        let key = self
            .key(ROOT_MARKER)
            .map_err(|e| self.not_s3("probe key", e.to_string()))?;
        let put = Request::new(Operation::PutObject {
            key: key.clone(),
            body: Bytes::from_static(b"s3conform probe"),
            metadata: Vec::new(),
            cond: WriteConditions::default(),
        });
        let obs = self
            .call(&put)
            .await
            .map_err(|e| self.not_s3("PutObject", e.to_string()))?;
        let good = obs.status == Some(200) && obs.etag.as_deref().is_some_and(|e| !e.is_empty());
        if good {
            Ok(())
        } else {
            Err(self.not_s3("PutObject answered no ETag", describe(&obs)))
        }
    }

    /// Refuses a bucket with versioning enabled or suspended: deletes by key would leave every
    /// version this run wrote, and a delete marker, behind. An endpoint that does not implement
    /// GetBucketVersioning (an error status) has no versions to leave.
    pub async fn refuse_versioning(&self) -> Result<(), SetupError> {
        let endpoint = self.target().endpoint.to_string();
        let bucket = self.bucket().to_owned();
        let limit = self.target().timeouts.operation + std::time::Duration::from_secs(1);
        let asked = tokio::time::timeout(
            limit,
            self.client().get_bucket_versioning().bucket(&bucket).send(),
        )
        .await;
        let answer = match asked {
            Err(_) | Ok(Err(SdkError::TimeoutError(_))) => {
                return Err(SetupError::Unreachable {
                    endpoint,
                    detail: format!("GetBucketVersioning: no answer within {limit:?}"),
                });
            }
            Ok(a) => a,
        };
        match answer {
            Ok(out) => match out.status() {
                Some(s @ (BucketVersioningStatus::Enabled | BucketVersioningStatus::Suspended)) => {
                    Err(SetupError::Versioned {
                        bucket,
                        status: s.as_str().to_owned(),
                    })
                }
                _ => Ok(()),
            },
            // A 2xx the SDK could not parse: some servers name the root element differently
            // (moto: `GetBucketVersioningResponse`), so read the status from the XML itself; a
            // body that is not XML at all is not S3. An error status means no versioning.
            Err(SdkError::ServiceError(e)) => {
                let status = e.raw().status().as_u16();
                if !(200..300).contains(&status) {
                    return Ok(());
                }
                let body = e
                    .raw()
                    .body()
                    .bytes()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                for state in ["Enabled", "Suspended"] {
                    if body.contains(&format!("<Status>{state}</Status>")) {
                        return Err(SetupError::Versioned {
                            bucket,
                            status: state.to_owned(),
                        });
                    }
                }
                if looks_like_xml(&body) {
                    Ok(())
                } else {
                    Err(self.not_s3(
                        "GetBucketVersioning",
                        format!("answered {status} with a body that is not XML"),
                    ))
                }
            }
            Err(e @ SdkError::ResponseError(_)) => Err(self.not_s3(
                "GetBucketVersioning answered something that does not parse",
                DisplayErrorContext(&e).to_string(),
            )),
            Err(e @ SdkError::DispatchFailure(_)) => Err(SetupError::Unreachable {
                endpoint,
                detail: DisplayErrorContext(&e).to_string(),
            }),
            Err(_) => Ok(()),
        }
    }
}

/// Whether a body is an XML document rather than a web page or text.
fn looks_like_xml(body: &str) -> bool {
    let b = body.trim_start().to_ascii_lowercase();
    b.starts_with("<?xml")
        || (b.starts_with('<') && !b.starts_with("<html") && !b.starts_with("<!doctype"))
}

/// Status, content type and the note of an observation, for a "not S3" message.
fn describe(obs: &super::Observation) -> String {
    let ctype = obs
        .headers
        .get("content-type")
        .map(|c| format!(", content-type {c}"))
        .unwrap_or_default();
    let note = obs
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    format!("{}{ctype}{note}", obs.summary())
}

#[cfg(test)]
mod tests {
    use super::looks_like_xml;

    #[test]
    fn xml_is_told_from_pages_and_text() {
        assert!(looks_like_xml(
            "<?xml version=\"1.0\"?><GetBucketVersioningResponse/>"
        ));
        assert!(looks_like_xml("  <VersioningConfiguration/>"));
        assert!(!looks_like_xml("<html><body>Welcome</body></html>"));
        assert!(!looks_like_xml("<!DOCTYPE html><html/>"));
        assert!(!looks_like_xml("here are your files"));
        assert!(!looks_like_xml(""));
    }
}
