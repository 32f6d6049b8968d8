//! The YAML case format, as serde types. `cases/README.md` is the user-facing reference; this
//! module is its implementation.
//!
//! Every struct denies unknown fields, so a misspelt field is an error rather than a silently
//! ignored expectation. A step is a mapping whose first key is `op` (an internally tagged
//! format). It is read by a small hand-written visitor instead of `#[serde(tag = "op")]`:
//! serde's internal tagging buffers the whole mapping first and loses every line and column
//! inside it, while reading `op` first and handing the rest of the mapping to the variant's
//! struct keeps serde-saphyr's exact location for every later error.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::profile::Profile;

use super::template::Template;

/// One case file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The case name; defaults to the file name without `.yaml`.
    #[serde(default)]
    pub name: Option<String>,
    /// What the case checks, in one sentence.
    pub description: String,
    /// The document the expectation comes from (a docs/semantics.md section, a vendor doc URL).
    pub source: String,
    /// Free-form tags (`precedence`, `race`, ...).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Run only with `--ignored` (or `--include-ignored`).
    #[serde(default)]
    pub ignored: bool,
    /// The steps, run in order.
    pub steps: Vec<Step>,
}

/// The operation of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// PutObject.
    Put,
    /// GetObject.
    Get,
    /// HeadObject.
    Head,
    /// CopyObject.
    Copy,
    /// DeleteObject.
    Delete,
    /// DeleteObjects.
    DeleteObjects,
    /// RenameObject.
    Rename,
    /// CreateMultipartUpload.
    MpuCreate,
    /// UploadPart.
    UploadPart,
    /// CompleteMultipartUpload.
    MpuComplete,
    /// AbortMultipartUpload.
    MpuAbort,
    /// ListObjectsV2 under the case's prefix.
    List,
    /// Wait, so that a Last-Modified second passes.
    Sleep,
    /// N concurrent copies of one request.
    Parallel,
}

/// One step of a case.
#[derive(Debug, Clone)]
pub enum Step {
    /// PutObject.
    Put(PutStep),
    /// GetObject.
    Get(ReadStep),
    /// HeadObject.
    Head(ReadStep),
    /// CopyObject.
    Copy(CopyStep),
    /// DeleteObject.
    Delete(DeleteStep),
    /// DeleteObjects.
    DeleteObjects(DeleteObjectsStep),
    /// RenameObject.
    Rename(RenameStep),
    /// CreateMultipartUpload.
    MpuCreate(MpuCreateStep),
    /// UploadPart.
    UploadPart(UploadPartStep),
    /// CompleteMultipartUpload.
    MpuComplete(MpuCompleteStep),
    /// AbortMultipartUpload.
    MpuAbort(MpuAbortStep),
    /// ListObjectsV2.
    List(ListStep),
    /// A pause.
    Sleep(SleepStep),
    /// A race.
    Parallel(ParallelStep),
}

impl Step {
    /// The `op:` name.
    pub fn op_name(&self) -> &'static str {
        match self {
            Step::Put(_) => "put",
            Step::Get(_) => "get",
            Step::Head(_) => "head",
            Step::Copy(_) => "copy",
            Step::Delete(_) => "delete",
            Step::DeleteObjects(_) => "delete_objects",
            Step::Rename(_) => "rename",
            Step::MpuCreate(_) => "mpu_create",
            Step::UploadPart(_) => "upload_part",
            Step::MpuComplete(_) => "mpu_complete",
            Step::MpuAbort(_) => "mpu_abort",
            Step::List(_) => "list",
            Step::Sleep(_) => "sleep",
            Step::Parallel(_) => "parallel",
        }
    }

    /// The fields every request step shares; `None` for `sleep` and `parallel`.
    pub fn common(&self) -> Option<&Common> {
        Some(match self {
            Step::Put(s) => &s.common,
            Step::Get(s) | Step::Head(s) => &s.common,
            Step::Copy(s) => &s.common,
            Step::Delete(s) => &s.common,
            Step::DeleteObjects(s) => &s.common,
            Step::Rename(s) => &s.common,
            Step::MpuCreate(s) => &s.common,
            Step::UploadPart(s) => &s.common,
            Step::MpuComplete(s) => &s.common,
            Step::MpuAbort(s) => &s.common,
            Step::List(s) => &s.common,
            Step::Sleep(_) | Step::Parallel(_) => return None,
        })
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StepVisitor)
    }
}

struct StepVisitor;

impl<'de> Visitor<'de> for StepVisitor {
    type Value = Step;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a step: a mapping whose first key is `op`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
        match map.next_key::<String>()?.as_deref() {
            Some("op") => {}
            Some(other) => {
                return Err(de::Error::custom(format!(
                    "a step must start with `op:` (found `{other}` first)"
                )));
            }
            None => return Err(de::Error::missing_field("op")),
        }
        let kind: OpKind = map.next_value()?;
        let rest = de::value::MapAccessDeserializer::new(map);
        Ok(match kind {
            OpKind::Put => Step::Put(PutStep::deserialize(rest)?),
            OpKind::Get => Step::Get(ReadStep::deserialize(rest)?),
            OpKind::Head => Step::Head(ReadStep::deserialize(rest)?),
            OpKind::Copy => Step::Copy(CopyStep::deserialize(rest)?),
            OpKind::Delete => Step::Delete(DeleteStep::deserialize(rest)?),
            OpKind::DeleteObjects => Step::DeleteObjects(DeleteObjectsStep::deserialize(rest)?),
            OpKind::Rename => Step::Rename(RenameStep::deserialize(rest)?),
            OpKind::MpuCreate => Step::MpuCreate(MpuCreateStep::deserialize(rest)?),
            OpKind::UploadPart => Step::UploadPart(UploadPartStep::deserialize(rest)?),
            OpKind::MpuComplete => Step::MpuComplete(MpuCompleteStep::deserialize(rest)?),
            OpKind::MpuAbort => Step::MpuAbort(MpuAbortStep::deserialize(rest)?),
            OpKind::List => Step::List(ListStep::deserialize(rest)?),
            OpKind::Sleep => Step::Sleep(SleepStep::deserialize(rest)?),
            OpKind::Parallel => Step::Parallel(ParallelStep::deserialize(rest)?),
        })
    }
}

/// What every request step may carry besides its operation's own fields. Declared in each step
/// struct (serde's `flatten` would disable `deny_unknown_fields`), then gathered by
/// [`Step::common`].
#[derive(Debug, Clone, Default)]
pub struct Common {
    /// Extra headers sent verbatim (before signing), e.g. a malformed date.
    pub raw_headers: BTreeMap<String, Template>,
    /// Captures from a successful answer.
    pub save: Option<Save>,
    /// The default expectation.
    pub expect: Option<Expect>,
    /// Per-profile expectations that replace `expect` under that profile.
    pub profiles: Option<PerProfile<Expect>>,
}

/// Declares a step struct with the [`Common`] fields appended, so each stays a plain
/// `deny_unknown_fields` struct with exact error locations.
macro_rules! step_struct {
    ($(#[$m:meta])* $name:ident { $($(#[doc = $doc:literal])* $field:ident : $ty:ty $(= $default:ident)?),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone)]
        pub struct $name {
            $($(#[doc = $doc])* pub $field: $ty,)*
            /// Headers, captures and expectations.
            pub common: Common,
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Raw {
                    $($(#[serde($default)])? $field: $ty,)*
                    #[serde(default)]
                    raw_headers: BTreeMap<String, Template>,
                    #[serde(default)]
                    save: Option<Save>,
                    #[serde(default)]
                    expect: Option<Expect>,
                    #[serde(default)]
                    profiles: Option<PerProfile<Expect>>,
                }
                let r = Raw::deserialize(d)?;
                Ok($name {
                    $($field: r.$field,)*
                    common: Common {
                        raw_headers: r.raw_headers,
                        save: r.save,
                        expect: r.expect,
                        profiles: r.profiles,
                    },
                })
            }
        }
    };
}

step_struct!(
    /// `op: put`.
    PutStep {
        /// The key, relative to the case's prefix.
        key: String,
        /// The body as text (references allowed); empty when neither `body` nor `size` is given.
        body: Option<Template> = default,
        /// A generated body of this many bytes (deterministic), instead of `body`.
        size: Option<u64> = default,
        /// `x-amz-meta-*` metadata.
        metadata: BTreeMap<String, String> = default,
        /// `If-Match`.
        if_match: Option<Template> = default,
        /// `If-None-Match`.
        if_none_match: Option<Template> = default,
    }
);

step_struct!(
    /// `op: get` and `op: head`.
    ReadStep {
        /// The key.
        key: String,
        /// The expectation that replaces `expect` when an earlier write was accepted.
        accepted: Option<Accepted> = default,
        /// `If-Match`.
        if_match: Option<Template> = default,
        /// `If-None-Match`.
        if_none_match: Option<Template> = default,
        /// `If-Modified-Since` (an HTTP date, usually `${t1-1d}`).
        if_modified_since: Option<Template> = default,
        /// `If-Unmodified-Since`.
        if_unmodified_since: Option<Template> = default,
    }
);

step_struct!(
    /// `op: copy`.
    CopyStep {
        /// The copy source key.
        source: String,
        /// The destination key.
        key: String,
        /// Destination `If-Match`.
        if_match: Option<Template> = default,
        /// Destination `If-None-Match`.
        if_none_match: Option<Template> = default,
        /// `x-amz-copy-source-if-match`.
        source_if_match: Option<Template> = default,
        /// `x-amz-copy-source-if-none-match`.
        source_if_none_match: Option<Template> = default,
        /// `x-amz-copy-source-if-modified-since`.
        source_if_modified_since: Option<Template> = default,
        /// `x-amz-copy-source-if-unmodified-since`.
        source_if_unmodified_since: Option<Template> = default,
    }
);

step_struct!(
    /// `op: delete`.
    DeleteStep {
        /// The key.
        key: String,
        /// `If-Match` (an ETag or `*`).
        if_match: Option<Template> = default,
    }
);

step_struct!(
    /// `op: delete_objects`: one multi-object delete, each object with its own conditions.
    DeleteObjectsStep {
        /// The objects, in request order (at least one).
        objects: Vec<DeleteObjectsEntry>,
    }
);

/// One `<Object>` of a DeleteObjects request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteObjectsEntry {
    /// The key.
    pub key: String,
    /// `<ETag>`: delete only if the current version has this ETag.
    #[serde(default)]
    pub etag: Option<Template>,
    /// `<LastModifiedTime>` (an HTTP date, usually `${t1}`): delete only if it matches.
    #[serde(default)]
    pub last_modified_time: Option<Template>,
    /// `<Size>`: delete only if the object has this many bytes.
    #[serde(default)]
    pub size: Option<i64>,
}

impl DeleteObjectsEntry {
    /// Whether the object carries a condition.
    pub fn is_conditional(&self) -> bool {
        self.etag.is_some() || self.last_modified_time.is_some() || self.size.is_some()
    }
}

step_struct!(
    /// `op: rename`.
    RenameStep {
        /// `x-amz-rename-source`, a key in the case's prefix.
        source: String,
        /// The destination key.
        key: String,
        /// Destination `If-Match`.
        if_match: Option<Template> = default,
        /// Destination `If-None-Match`.
        if_none_match: Option<Template> = default,
        /// Destination `If-Modified-Since`.
        if_modified_since: Option<Template> = default,
        /// Destination `If-Unmodified-Since`.
        if_unmodified_since: Option<Template> = default,
        /// `x-amz-rename-source-if-match`.
        source_if_match: Option<Template> = default,
        /// `x-amz-rename-source-if-none-match`.
        source_if_none_match: Option<Template> = default,
        /// `x-amz-rename-source-if-modified-since`.
        source_if_modified_since: Option<Template> = default,
        /// `x-amz-rename-source-if-unmodified-since`.
        source_if_unmodified_since: Option<Template> = default,
        /// `x-amz-client-token`.
        client_token: Option<Template> = default,
    }
);

step_struct!(
    /// `op: mpu_create`.
    MpuCreateStep {
        /// The key.
        key: String,
        /// `x-amz-meta-*` metadata.
        metadata: BTreeMap<String, String> = default,
    }
);

step_struct!(
    /// `op: upload_part`.
    UploadPartStep {
        /// The key.
        key: String,
        /// The UploadId, normally `${u1}`.
        upload: Template,
        /// The 1-based part number.
        part: i32,
        /// The part as text.
        body: Option<Template> = default,
        /// A generated part of this many bytes.
        size: Option<u64> = default,
    }
);

step_struct!(
    /// `op: mpu_complete`.
    MpuCompleteStep {
        /// The key.
        key: String,
        /// The UploadId.
        upload: Template,
        /// The part ETags in order; part numbers are 1, 2, ...
        parts: Vec<Template>,
        /// `If-Match`.
        if_match: Option<Template> = default,
        /// `If-None-Match`.
        if_none_match: Option<Template> = default,
    }
);

step_struct!(
    /// `op: mpu_abort`.
    MpuAbortStep {
        /// The key.
        key: String,
        /// The UploadId.
        upload: Template,
    }
);

step_struct!(
    /// `op: list`.
    ListStep {
        /// A further prefix under the case's prefix.
        prefix: Option<String> = default,
        /// The expectation that replaces `expect` when an earlier write was accepted.
        accepted: Option<Accepted> = default,
    }
);

/// `op: sleep`: only where a Last-Modified second must pass.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SleepStep {
    /// Seconds to wait (fractions allowed, at most 5).
    pub seconds: f64,
}

/// `op: parallel`: racers released together: `count` copies of one request (`step`), or the
/// distinct requests of `steps`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParallelStep {
    /// How many copies of `step` race (2 to 64).
    #[serde(default)]
    pub count: Option<u32>,
    /// The request each racer sends; `${i}` is the racer's index (0-based).
    #[serde(default)]
    pub step: Option<Box<Step>>,
    /// Distinct racers, one request each (2 to 64), instead of `count` and `step`.
    #[serde(default)]
    pub steps: Option<Vec<Step>>,
    /// The default invariants.
    #[serde(default)]
    pub expect: Option<RaceExpect>,
    /// Per-profile invariants that replace `expect`.
    #[serde(default)]
    pub profiles: Option<PerProfile<RaceExpect>>,
}

impl ParallelStep {
    /// Every racer's request with its index (`${i}`), in index order.
    pub fn racers(&self) -> Vec<(u32, &Step)> {
        match (&self.steps, &self.step, self.count) {
            (Some(steps), _, _) => steps
                .iter()
                .enumerate()
                .map(|(i, s)| (u32::try_from(i).unwrap_or(u32::MAX), s))
                .collect(),
            (None, Some(step), Some(n)) => (0..n).map(|i| (i, step.as_ref())).collect(),
            _ => Vec::new(),
        }
    }
}

/// `accepted:` on a read: what the read must see when the write at `step` (or any of the
/// writes listed) was accepted (2xx). The read's own `expect` (or profile entry) then applies
/// when every one was refused (4xx, 501); when an outcome is unknown (a timeout, a 5xx) either
/// may hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    /// The indexes of the earlier write steps (0-based, as reports number steps).
    pub step: StepRefs,
    /// The expectation when it was accepted.
    pub expect: Expect,
}

/// One step index or a list of them: `step: 2` or `step: [2, 3]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRefs(pub Vec<usize>);

impl fmt::Display for StepRefs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(usize::to_string).collect();
        f.write_str(&parts.join(" or "))
    }
}

impl<'de> Deserialize<'de> for StepRefs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StepRefs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a step index or a list of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StepRefs, E> {
                usize::try_from(v)
                    .map(|v| StepRefs(vec![v]))
                    .map_err(|_| E::custom("a step index is small"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StepRefs, E> {
                let v = u64::try_from(v).map_err(|_| E::custom("a step index is 0 or more"))?;
                self.visit_u64(v)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<StepRefs, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<usize>()? {
                    out.push(v);
                }
                if out.is_empty() {
                    return Err(de::Error::custom("an empty list names no step"));
                }
                Ok(StepRefs(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// What to capture from a successful answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Save {
    /// The `ETag` (verbatim).
    #[serde(default)]
    pub etag: Option<String>,
    /// The `Last-Modified` date. A write's answer carries none on many servers, so save it
    /// from a `head` or `get`.
    #[serde(default)]
    pub last_modified: Option<String>,
    /// The UploadId of `mpu_create`.
    #[serde(default)]
    pub upload_id: Option<String>,
    /// The part ETag of `upload_part` (the same as `etag`, named for readability).
    #[serde(default)]
    pub part_etag: Option<String>,
}

impl Save {
    /// Every name this save defines, with the kind of value it will hold.
    pub fn names(&self) -> Vec<(&str, SavedKind)> {
        let mut v = Vec::new();
        if let Some(n) = &self.etag {
            v.push((n.as_str(), SavedKind::Etag));
        }
        if let Some(n) = &self.part_etag {
            v.push((n.as_str(), SavedKind::Etag));
        }
        if let Some(n) = &self.last_modified {
            v.push((n.as_str(), SavedKind::Date));
        }
        if let Some(n) = &self.upload_id {
            v.push((n.as_str(), SavedKind::Text));
        }
        v
    }
}

/// What a saved name holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedKind {
    /// An ETag.
    Etag,
    /// A date.
    Date,
    /// Opaque text.
    Text,
}

/// Per-profile replacements of a step's `expect` ([`Expect`]) or of a race's ([`RaceExpect`]):
/// `profiles: { coreweave: ..., aws: ... }`, each entry optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerProfile<T> {
    /// Under `--profile coreweave`.
    #[serde(default)]
    pub coreweave: Option<T>,
    /// Under `--profile aws`.
    #[serde(default)]
    pub aws: Option<T>,
}

impl<T> PerProfile<T> {
    /// The entry for `profile`, if the case gives one.
    pub fn get(&self, profile: Profile) -> Option<&T> {
        match profile {
            Profile::Coreweave => self.coreweave.as_ref(),
            Profile::Aws => self.aws.as_ref(),
        }
    }
}

/// A field an `observe` list may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObsField {
    /// The HTTP status.
    Status,
    /// The S3 error code.
    ErrorCode,
    /// The ETag header.
    Etag,
    /// The body (text preview or length and MD5).
    Body,
    /// A DeleteObjects answer's per-key results (`<Deleted>` keys and `<Error>` codes).
    Results,
}

impl ObsField {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            ObsField::Status => "status",
            ObsField::ErrorCode => "error_code",
            ObsField::Etag => "etag",
            ObsField::Body => "body",
            ObsField::Results => "results",
        }
    }
}

/// What a step's answer must look like. Every field is optional; an empty expectation asserts
/// nothing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The status, or a list of allowed statuses.
    #[serde(default)]
    pub status: Option<StatusSet>,
    /// The S3 error code (`PreconditionFailed`, `NoSuchKey`, ...).
    #[serde(default)]
    pub error_code: Option<String>,
    /// The ETag equals this (quotes and `W/` ignored).
    #[serde(default)]
    pub etag: Option<Template>,
    /// The ETag differs from this.
    #[serde(default)]
    pub etag_not: Option<Template>,
    /// The ETag header is in this format (where the documents pin one).
    #[serde(default)]
    pub etag_format: Option<EtagFormat>,
    /// The body is exactly this text.
    #[serde(default)]
    pub body: Option<Template>,
    /// `true`: no body, or an empty one (304, HEAD).
    #[serde(default)]
    pub no_body: Option<bool>,
    /// These response headers are present.
    #[serde(default)]
    pub headers_present: Vec<String>,
    /// These response headers are absent.
    #[serde(default)]
    pub headers_absent: Vec<String>,
    /// For `list`: exactly these keys, relative to the case's prefix, in order.
    #[serde(default)]
    pub listed: Option<Vec<String>>,
    /// For `delete_objects`: exactly these keys are reported in `<Deleted>` (in any order).
    #[serde(default)]
    pub deleted: Option<Vec<String>>,
    /// For `delete_objects`: exactly these keys are reported in `<Error>`, each with this code.
    #[serde(default)]
    pub errors: Option<BTreeMap<String, String>>,
    /// Record these fields without judging them: what no source pins down.
    #[serde(default)]
    pub observe: Vec<ObsField>,
}

impl Expect {
    /// Whether the expectation asserts anything (as opposed to only observing).
    pub fn asserts(&self) -> bool {
        self.status.is_some()
            || self.error_code.is_some()
            || self.etag.is_some()
            || self.etag_not.is_some()
            || self.etag_format.is_some()
            || self.body.is_some()
            || self.no_body.is_some()
            || !self.headers_present.is_empty()
            || !self.headers_absent.is_empty()
            || self.listed.is_some()
            || self.deleted.is_some()
            || self.errors.is_some()
    }
}

/// A format an ETag header must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EtagFormat {
    /// A strong entity-tag whose opaque part is hex, optionally followed by `-<part count>`
    /// (a multipart ETag): `"9b2cf535f27731c974343645a3985328"`, `"…-2"`. Not `W/`, not
    /// unquoted.
    QuotedHex,
}

impl EtagFormat {
    /// Whether `etag` (the header value, verbatim) has this format.
    pub fn matches(self, etag: &str) -> bool {
        match self {
            EtagFormat::QuotedHex => {
                let Some(inner) = etag.strip_prefix('"').and_then(|e| e.strip_suffix('"')) else {
                    return false;
                };
                let (hex, parts) = match inner.split_once('-') {
                    Some((h, n)) => (h, Some(n)),
                    None => (inner, None),
                };
                !hex.is_empty()
                    && hex.chars().all(|c| c.is_ascii_hexdigit())
                    && parts.is_none_or(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            }
        }
    }

    /// How the format is written in cases and reports.
    pub fn name(self) -> &'static str {
        match self {
            EtagFormat::QuotedHex => "quoted-hex",
        }
    }
}

/// One status or a list of statuses: `status: 412` or `status: [409, 412]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet(pub Vec<u16>);

impl StatusSet {
    /// Whether `s` is allowed.
    pub fn contains(&self, s: u16) -> bool {
        self.0.contains(&s)
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u16::to_string).collect();
        f.write_str(&parts.join(" or "))
    }
}

impl<'de> Deserialize<'de> for StatusSet {
    /// A hand-written visitor rather than `#[serde(untagged)]`, whose errors name no variant.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an HTTP status (100-599) or a list of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusSet, E> {
                Ok(StatusSet(vec![status(v)?]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusSet, E> {
                let v = u64::try_from(v).map_err(|_| E::custom("a status is 100-599"))?;
                self.visit_u64(v)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<StatusSet, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<u64>()? {
                    out.push(status(v)?);
                }
                if out.is_empty() {
                    return Err(de::Error::custom("an empty status list allows nothing"));
                }
                Ok(StatusSet(out))
            }
        }
        fn status<E: de::Error>(v: u64) -> Result<u16, E> {
            match u16::try_from(v) {
                Ok(s) if (100..600).contains(&s) => Ok(s),
                _ => Err(E::custom(format!("{v} is not an HTTP status (100-599)"))),
            }
        }
        d.deserialize_any(V)
    }
}

/// The invariants of a race.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaceExpect {
    /// Exactly this many racers get a 2xx.
    #[serde(default)]
    pub winners: Option<u32>,
    /// Every other racer's status is in this set.
    #[serde(default)]
    pub losers: Option<StatusSet>,
    /// `true`: after the race the state is the (single) winner's and the losers changed
    /// nothing: a `put` winner's bytes (a `mpu_complete` or `copy` winner's ETag) are the
    /// key's; a `rename` winner's source is gone, its destination holds that source's ETag, and
    /// every losing rename's source is unchanged; a `delete` winner left the key absent.
    #[serde(default)]
    pub final_is_winner: Option<bool>,
    /// Record the losers' statuses without judging them.
    #[serde(default)]
    pub observe_losers: bool,
}
