//! `s3conform clean`: finding and removing what killed runs left behind, and nothing else.
//!
//! An object is removed only if it carries the tool's marker metadata (every object the tool
//! creates does; see [`super::marker`]), and it is deleted with `If-Match` on the ETag seen with
//! the marker, so an object a foreign writer replaced in between survives. A multipart upload
//! has no readable metadata, so one is aborted only under a run root whose root marker object
//! (see [`super::claim::ROOT_MARKER`]) still carries the marker.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::error::DisplayErrorContext;
use futures::StreamExt;

use super::claim::ROOT_MARKER;
use super::marker::MARKER_HEADER;
use super::request::{HttpDate, Operation, Preconditions, Request};
use super::session::{Session, SetupError};

/// How many objects are examined at once.
const CONCURRENCY: usize = 16;

/// What to remove.
#[derive(Debug, Clone, Copy, Default)]
pub struct SweepOptions {
    /// Only what was written (or an upload started) at least this long ago.
    pub older_than: Option<Duration>,
    /// Report what would be removed without removing it.
    pub dry_run: bool,
}

/// What a sweep found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Objects listed under the prefix.
    pub examined: usize,
    /// Objects removed (or that would be, in a dry run).
    pub deleted: Vec<String>,
    /// Uploads aborted (or that would be).
    pub aborted: Vec<String>,
    /// Objects without the marker: never touched.
    pub foreign: usize,
    /// Marked objects or uploads newer than `--older-than`.
    pub recent: usize,
    /// Objects or uploads that could not be examined or removed, with the reason.
    pub failures: Vec<String>,
}

/// One listed upload.
struct Upload {
    key: String,
    id: String,
    initiated: Option<SystemTime>,
}

impl Session {
    /// Removes, under this session's prefix, every object carrying the marker and every upload
    /// under a marked run root, older than `opts.older_than`.
    pub async fn sweep(&self, opts: SweepOptions) -> Result<SweepReport, SetupError> {
        let cutoff = opts.older_than.map(|d| {
            SystemTime::now()
                .checked_sub(d)
                .unwrap_or(SystemTime::UNIX_EPOCH)
        });
        let keys = self.list_all_keys().await?;
        let uploads = self.list_all_uploads().await?;
        let report = Mutex::new(SweepReport {
            examined: keys.len(),
            ..SweepReport::default()
        });
        let eligible = Mutex::new(Vec::new());
        futures::stream::iter(keys)
            .for_each_concurrent(CONCURRENCY, |full| {
                let (report, eligible) = (&report, &eligible);
                async move {
                    let outcome = self.examine(&full, cutoff).await;
                    let (Ok(mut r), Ok(mut e)) = (report.lock(), eligible.lock()) else {
                        return;
                    };
                    match outcome {
                        Examined::Foreign => r.foreign += 1,
                        Examined::Recent => r.recent += 1,
                        Examined::Failed(why) => r.failures.push(format!("{full}: {why}")),
                        Examined::Marked(etag) => e.push((full, etag)),
                    }
                }
            })
            .await;
        let eligible = eligible.into_inner().unwrap_or_else(|e| e.into_inner());
        let suffix = format!("/{ROOT_MARKER}");
        // Root markers stay until the uploads under their root are aborted: a later `clean`
        // needs them to recognise those uploads.
        let (markers, objects): (Vec<_>, Vec<_>) = eligible
            .into_iter()
            .partition(|(k, _)| k.ends_with(&suffix));
        self.delete_all(objects, opts.dry_run, &report).await;
        let mut report = report.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut blocked: BTreeSet<String> = BTreeSet::new();
        for upload in uploads {
            let Some((root, _)) = markers
                .iter()
                .find(|(m, _)| upload.key.starts_with(&m[..m.len() - ROOT_MARKER.len()]))
            else {
                continue;
            };
            if cutoff.is_some_and(|c| upload.initiated.is_none_or(|t| t > c)) {
                report.recent += 1;
                blocked.insert(root.clone());
                continue;
            }
            let what = format!("{} (upload {})", upload.key, upload.id);
            if opts.dry_run {
                report.aborted.push(what);
                continue;
            }
            let Ok(key) = self.prefix().key(self.relative(&upload.key)) else {
                continue;
            };
            let op = Operation::AbortMultipartUpload {
                key,
                upload_id: upload.id.clone(),
            };
            match self.call(&Request::new(op)).await {
                Ok(obs) if obs.succeeded() || obs.status == Some(404) => report.aborted.push(what),
                Ok(obs) => {
                    blocked.insert(root.clone());
                    report.failures.push(format!("{what}: {}", obs.summary()));
                }
                Err(e) => {
                    blocked.insert(root.clone());
                    report.failures.push(format!("{what}: {e}"));
                }
            }
        }
        let markers: Vec<_> = markers
            .into_iter()
            .filter(|(m, _)| !blocked.contains(m))
            .collect();
        let report = Mutex::new(report);
        self.delete_all(markers, opts.dry_run, &report).await;
        let mut report = report.into_inner().unwrap_or_else(|e| e.into_inner());
        report.deleted.sort();
        report.aborted.sort();
        report.failures.sort();
        Ok(report)
    }

    /// Deletes examined objects, each only if its ETag is still the one examined.
    async fn delete_all(
        &self,
        objects: Vec<(String, Option<String>)>,
        dry_run: bool,
        report: &Mutex<SweepReport>,
    ) {
        futures::stream::iter(objects)
            .for_each_concurrent(CONCURRENCY, |(full, etag)| async move {
                let result = if dry_run {
                    Ok(true)
                } else {
                    self.delete_examined(&full, etag).await
                };
                let Ok(mut r) = report.lock() else { return };
                match result {
                    Ok(true) => r.deleted.push(full),
                    Ok(false) => r.foreign += 1,
                    Err(why) => r.failures.push(format!("{full}: {why}")),
                }
            })
            .await;
    }

    fn relative<'a>(&self, full: &'a str) -> &'a str {
        full.strip_prefix(self.prefix().as_str()).unwrap_or(full)
    }

    /// Whether `full` carries the marker (and is old enough): its ETag when it does.
    async fn examine(&self, full: &str, cutoff: Option<SystemTime>) -> Examined {
        // A name the tool could never have made (`..`, `//`, control characters) is not ours.
        let Ok(key) = self.prefix().key(self.relative(full)) else {
            return Examined::Foreign;
        };
        let head = Request::new(Operation::HeadObject {
            key,
            cond: Preconditions::default(),
        });
        let obs = match self.call(&head).await {
            Ok(obs) => obs,
            Err(e) => return Examined::Failed(e.to_string()),
        };
        if obs.status == Some(404) {
            return Examined::Foreign;
        }
        if !obs.succeeded() {
            return Examined::Failed(format!("HeadObject answered {}", obs.summary()));
        }
        if !obs.headers.contains_key(MARKER_HEADER) {
            return Examined::Foreign;
        }
        let modified = obs
            .last_modified
            .as_deref()
            .and_then(HttpDate::parse)
            .map(HttpDate::system_time);
        if cutoff.is_some_and(|c| modified.is_none_or(|m| m > c)) {
            return Examined::Recent;
        }
        Examined::Marked(obs.etag)
    }

    /// Deletes `full` if its ETag is still `etag`: `Ok(false)` when it was replaced since.
    async fn delete_examined(&self, full: &str, etag: Option<String>) -> Result<bool, String> {
        let key = self
            .prefix()
            .key(self.relative(full))
            .map_err(|e| e.to_string())?;
        let delete = |if_match| {
            Request::new(Operation::DeleteObject {
                key: key.clone(),
                if_match,
            })
        };
        let answer = self.call(&delete(etag)).await;
        let answer = match answer {
            // An endpoint without conditional deletes: the marker was just seen on this key.
            Ok(o) if o.status == Some(501) || o.error_code.as_deref() == Some("NotImplemented") => {
                self.call(&delete(None)).await
            }
            other => other,
        };
        match answer {
            Ok(o) if o.succeeded() || o.status == Some(404) => Ok(true),
            Ok(o) if o.status == Some(412) => Ok(false),
            Ok(o) => Err(format!("DeleteObject answered {}", o.summary())),
            Err(e) => Err(e.to_string()),
        }
    }

    fn listing_error(&self, what: &str, detail: String) -> SetupError {
        SetupError::Unreachable {
            endpoint: self.target().endpoint.to_string(),
            detail: format!("{what}: {detail}"),
        }
    }

    fn page_limit(&self) -> Duration {
        self.target().timeouts.operation + Duration::from_secs(1)
    }

    /// Every key under the prefix, following continuation tokens.
    async fn list_all_keys(&self) -> Result<Vec<String>, SetupError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let req = self
                .client()
                .list_objects_v2()
                .bucket(self.bucket())
                .prefix(self.prefix().as_str())
                .set_continuation_token(token.clone())
                .send();
            let out = match tokio::time::timeout(self.page_limit(), req).await {
                Err(_) => {
                    return Err(self.listing_error(
                        "ListObjectsV2",
                        format!("no answer within {:?}", self.page_limit()),
                    ));
                }
                Ok(Err(e)) => {
                    return Err(
                        self.listing_error("ListObjectsV2", DisplayErrorContext(&e).to_string())
                    );
                }
                Ok(Ok(out)) => out,
            };
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .map(str::to_owned),
            );
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) && token.as_deref() != Some(t) => {
                    token = Some(t.to_owned());
                }
                _ => return Ok(keys),
            }
        }
    }

    /// Every multipart upload under the prefix. An endpoint that does not list uploads (an
    /// error status) has none this could find.
    async fn list_all_uploads(&self) -> Result<Vec<Upload>, SetupError> {
        let mut uploads = Vec::new();
        let mut markers: (Option<String>, Option<String>) = (None, None);
        loop {
            let req = self
                .client()
                .list_multipart_uploads()
                .bucket(self.bucket())
                .prefix(self.prefix().as_str())
                .set_key_marker(markers.0.clone())
                .set_upload_id_marker(markers.1.clone())
                .send();
            let out = match tokio::time::timeout(self.page_limit(), req).await {
                Err(_) => {
                    return Err(self.listing_error(
                        "ListMultipartUploads",
                        format!("no answer within {:?}", self.page_limit()),
                    ));
                }
                Ok(Err(_)) => return Ok(uploads),
                Ok(Ok(out)) => out,
            };
            for u in out.uploads() {
                if let (Some(key), Some(id)) = (u.key(), u.upload_id()) {
                    uploads.push(Upload {
                        key: key.to_owned(),
                        id: id.to_owned(),
                        initiated: u.initiated().and_then(|t| SystemTime::try_from(*t).ok()),
                    });
                }
            }
            let next = (
                out.next_key_marker().map(str::to_owned),
                out.next_upload_id_marker().map(str::to_owned),
            );
            if out.is_truncated() != Some(true) || next == markers || next.0.is_none() {
                return Ok(uploads);
            }
            markers = next;
        }
    }
}

/// What examining one listed object found.
enum Examined {
    /// No marker, or a name the tool cannot make: never touched.
    Foreign,
    /// Marked, but newer than `--older-than`.
    Recent,
    /// Marked and old enough; its ETag.
    Marked(Option<String>),
    /// Could not be examined.
    Failed(String),
}
