//! Finding, parsing and checking case files: `cases/<operation>/<name>.yaml` → [`Suite`].
//!
//! A malformed file never stops the others from loading: it becomes a [`CaseError`] with its
//! file, line, column and field, listed beside the cases that did load, and it makes the run
//! exit 2. serde-saphyr is used (rather than serde_yaml, deprecated) because its errors carry
//! exact locations; nothing outside this module knows which YAML crate parses cases.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use super::schema::{CaseFile, SavedKind, Step};
use super::template::{RefForm, Template};

/// The longest `sleep` a case may take: the suite must stay fast.
pub const MAX_SLEEP_SECS: f64 = 5.0;
/// The largest generated body (`size:`).
pub const MAX_BODY: u64 = 16 << 20;
/// The most racers a `parallel:` block may start.
pub const MAX_RACERS: u32 = 64;

/// A case that loaded and passed every check.
#[derive(Debug, Clone)]
pub struct Case {
    /// `operation::name`, the trial name.
    pub id: String,
    /// The directory the file sits in (`get`, `put`, ...).
    pub operation: String,
    /// The case name (the file stem unless `name:` says otherwise).
    pub name: String,
    /// The file, as found.
    pub path: PathBuf,
    /// The parsed case.
    pub file: CaseFile,
}

/// A case file that could not be used, located as precisely as the problem allows. The other
/// YAML files s3conform reads (the requirements files) report their problems with it too, so
/// every file error reads `file:line:column: field `x`: what is wrong`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CaseError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line; 0 when the problem is the whole file.
    pub line: u64,
    /// 1-based column; 0 when unknown.
    pub column: u64,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
    /// A suggestion, e.g. the field that was probably meant.
    pub hint: Option<String>,
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Everything found under a cases directory.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    /// Cases that loaded, sorted by id.
    pub cases: Vec<Case>,
    /// Files that did not.
    pub errors: Vec<CaseError>,
}

/// A cases directory that cannot be read at all (as opposed to one bad file in it).
#[derive(Debug, thiserror::Error)]
#[error("failed to read the cases directory {}", path.display())]
pub struct LoadError {
    /// The directory or file.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

impl Suite {
    /// Loads every `*.yaml` under `dir/<operation>/`. Files directly in `dir` and other
    /// extensions (README.md) are ignored.
    pub fn load(dir: &Path) -> Result<Suite, LoadError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| LoadError { path, source }
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let sub = entry.path();
            if !sub.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&sub).map_err(io(&sub))? {
                let f = f.map_err(io(&sub))?.path();
                if f.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    files.push(f);
                }
            }
        }
        files.sort();
        let mut suite = Suite::default();
        for path in files {
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let operation = path
                .parent()
                .and_then(Path::file_name)
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            match parse_case(&path, &operation, &bytes) {
                Ok(case) => suite.cases.push(case),
                Err(e) => suite.errors.push(e),
            }
        }
        suite.reject_duplicates();
        Ok(suite)
    }

    /// Two files with one id would make one trial hide the other.
    fn reject_duplicates(&mut self) {
        self.cases
            .sort_by(|a, b| a.id.cmp(&b.id).then(a.path.cmp(&b.path)));
        let mut seen = BTreeSet::new();
        let mut kept = Vec::new();
        for case in std::mem::take(&mut self.cases) {
            if seen.insert(case.id.clone()) {
                kept.push(case);
            } else {
                self.errors.push(CaseError {
                    path: case.path.clone(),
                    line: 0,
                    column: 0,
                    field: Some("name".into()),
                    message: format!("another case is already named `{}`", case.id),
                    hint: None,
                });
            }
        }
        self.cases = kept;
    }
}

/// Parses and checks one case file. `operation` is its directory's name.
pub fn parse_case(path: &Path, operation: &str, bytes: &[u8]) -> Result<Case, CaseError> {
    let err = |line, column, field: Option<&str>, message: String| CaseError {
        path: path.to_owned(),
        line,
        column,
        field: field.map(str::to_owned),
        message,
        hint: None,
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = line_col(bytes, e.valid_up_to());
            return Err(err(
                line,
                column,
                None,
                "not UTF-8 text: a case file is YAML".into(),
            ));
        }
    };
    if text.trim().is_empty() {
        return Err(err(
            0,
            0,
            None,
            "the file is empty: a case needs `description`, `source` and `steps`".into(),
        ));
    }
    let file: CaseFile = serde_saphyr::from_str(text).map_err(|e| {
        let mut e = yaml_error(path, text, &e);
        if e.message == "unexpected end of input" {
            e.message =
                "unexpected end of input: a case needs `description`, `source` and `steps`".into();
        }
        e
    })?;
    let name = match &file.name {
        Some(n) => n.clone(),
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if !valid_name(&name) {
        return Err(err(
            0,
            0,
            Some("name"),
            format!("`{name}`: a case name is lowercase letters, digits and `-`"),
        ));
    }
    if !valid_name(operation) {
        return Err(err(
            0,
            0,
            None,
            format!(
                "directory `{operation}`: an operation group is lowercase letters, digits, `-` and `_`"
            ),
        ));
    }
    check_steps(path, &file.steps).map_err(|mut e| {
        if e.line == 0
            && let Some(field) = e.field.clone()
            && let Some(rest) = field.strip_prefix("steps[")
            && let Some((index, sub)) = rest.split_once(']')
            && let Ok(index) = index.parse::<usize>()
        {
            (e.line, e.column) = locate(text, index, sub.trim_start_matches('.'));
        }
        e
    })?;
    Ok(Case {
        id: format!("{operation}::{name}"),
        operation: operation.to_owned(),
        name,
        path: path.to_owned(),
        file,
    })
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The checks serde cannot make: references name earlier captures of the right kind, keys are
/// usable, sleeps and races are bounded.
fn check_steps(path: &Path, steps: &[Step]) -> Result<(), CaseError> {
    let mut defined: BTreeMap<String, SavedKind> = BTreeMap::new();
    defined.insert(UNIQUE.to_owned(), SavedKind::Text);
    if steps.is_empty() {
        return Err(CaseError {
            path: path.to_owned(),
            line: 0,
            column: 0,
            field: Some("steps".into()),
            message: "a case needs at least one step".into(),
            hint: None,
        });
    }
    for (i, step) in steps.iter().enumerate() {
        check_step(path, i, step, &mut defined, false)?;
        check_accepted(path, i, step, steps)?;
    }
    super::policy::check_write_safety(path, steps)?;
    Ok(())
}

/// The name of the value unique to each run of a case (`${unique}`): what must differ between
/// runs against the same endpoint, such as a RenameObject client token.
pub const UNIQUE: &str = "unique";

/// A race's shape: one form (`count` with `step`, or `steps`), 2 to [`MAX_RACERS`] racers that
/// write, no expectations or captures of their own.
fn check_race(
    p: &super::schema::ParallelStep,
    step_err: &dyn Fn(&str, String) -> CaseError,
) -> Result<(), CaseError> {
    let n = match (&p.steps, &p.step, p.count) {
        (Some(steps), None, None) => steps.len(),
        (None, Some(_), Some(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        (None, Some(_), None) => {
            return Err(step_err(
                "count",
                "a race of one request needs `count`".into(),
            ));
        }
        (None, None, _) => {
            return Err(step_err(
                "step",
                "a race needs `count` and `step`, or `steps`".into(),
            ));
        }
        (Some(_), _, _) => {
            return Err(step_err(
                "steps",
                "a race has either `count` and `step`, or `steps`, not both".into(),
            ));
        }
    };
    if !(2..=MAX_RACERS as usize).contains(&n) {
        return Err(step_err(
            if p.steps.is_some() { "steps" } else { "count" },
            format!("a race has 2 to {MAX_RACERS} racers"),
        ));
    }
    for (_, racer) in p.racers() {
        match racer {
            Step::Put(_)
            | Step::Copy(_)
            | Step::Delete(_)
            | Step::Rename(_)
            | Step::MpuComplete(_) => {}
            other => {
                return Err(step_err(
                    "step",
                    format!(
                        "racers may put, copy, delete, rename or mpu_complete, not `{}`",
                        other.op_name()
                    ),
                ));
            }
        }
        if racer
            .common()
            .is_some_and(|c| c.expect.is_some() || c.profiles.is_some())
        {
            return Err(step_err(
                "step.expect",
                "racers are judged by the race's invariants: put `expect` on the `parallel` step"
                    .into(),
            ));
        }
        if racer.common().is_some_and(|c| c.save.is_some()) {
            return Err(step_err("step.save", "a racer cannot save captures".into()));
        }
    }
    Ok(())
}

/// The most objects one DeleteObjects request may name (the S3 limit).
pub const MAX_DELETE_OBJECTS: usize = 1000;

/// A multi-object delete names 1 to [`MAX_DELETE_OBJECTS`] distinct keys, and its expected
/// per-key results name only those keys, each at most once.
fn check_delete_objects(
    step: &Step,
    s: &super::schema::DeleteObjectsStep,
    step_err: &dyn Fn(&str, String) -> CaseError,
) -> Result<(), CaseError> {
    if s.objects.is_empty() || s.objects.len() > MAX_DELETE_OBJECTS {
        return Err(step_err(
            "objects",
            format!("a multi-object delete names 1 to {MAX_DELETE_OBJECTS} objects"),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, o) in s.objects.iter().enumerate() {
        if !seen.insert(o.key.as_str()) {
            return Err(step_err(
                &format!("objects[{i}].key"),
                format!("`{}` is named twice", o.key),
            ));
        }
        if o.size.is_some_and(|n| n < 0) {
            return Err(step_err(
                &format!("objects[{i}].size"),
                "a size is 0 or more".into(),
            ));
        }
    }
    for (prefix, e) in expects_of(step) {
        let deleted = e.deleted.iter().flatten().map(|k| ("deleted", k));
        let errors = e
            .errors
            .iter()
            .flat_map(|m| m.keys())
            .map(|k| ("errors", k));
        let mut reported = std::collections::BTreeSet::new();
        for (field, k) in deleted.chain(errors) {
            if !seen.contains(k.as_str()) {
                return Err(step_err(
                    &format!("{prefix}.{field}"),
                    format!("`{k}` is not one of the objects this step deletes"),
                ));
            }
            if !reported.insert(k.as_str()) {
                return Err(step_err(
                    &format!("{prefix}.{field}"),
                    format!("`{k}` is expected both deleted and in error"),
                ));
            }
        }
    }
    Ok(())
}

/// A step's expectations with the field path each is written under: `expect`, and its profiles'.
fn expects_of(step: &Step) -> Vec<(&'static str, &super::schema::Expect)> {
    let mut v = Vec::new();
    if let Some(c) = step.common() {
        if let Some(e) = &c.expect {
            v.push(("expect", e));
        }
        if let Some(p) = &c.profiles {
            if let Some(e) = &p.coreweave {
                v.push(("profiles.coreweave", e));
            }
            if let Some(e) = &p.aws {
                v.push(("profiles.aws", e));
            }
        }
    }
    v
}

/// `accepted.step` names an earlier write of the key (or, for a listing, any earlier write).
fn check_accepted(path: &Path, index: usize, step: &Step, steps: &[Step]) -> Result<(), CaseError> {
    let (accepted, key) = match step {
        Step::Get(s) | Step::Head(s) => (s.accepted.as_ref(), Some(s.key.as_str())),
        Step::List(s) => (s.accepted.as_ref(), None),
        _ => return Ok(()),
    };
    let Some(a) = accepted else {
        return Ok(());
    };
    let err = |message: String| CaseError {
        path: path.to_owned(),
        line: 0,
        column: 0,
        field: Some(format!("steps[{index}].accepted.step")),
        message,
        hint: None,
    };
    for &n in &a.step.0 {
        if n >= index {
            return Err(err(format!(
                "`accepted.step: {n}` must name an earlier step (this is step {index})"
            )));
        }
        let written = super::policy::written_keys(&steps[n]);
        if written.is_empty() {
            return Err(err(format!(
                "step {n} is a `{}`, not a write",
                steps[n].op_name()
            )));
        }
        if let Some(k) = key
            && !written.iter().any(|w| w == k)
        {
            return Err(err(format!(
                "step {n} does not write `{k}` (it writes {})",
                written.join(", ")
            )));
        }
    }
    Ok(())
}

fn check_step(
    path: &Path,
    index: usize,
    step: &Step,
    defined: &mut BTreeMap<String, SavedKind>,
    in_race: bool,
) -> Result<(), CaseError> {
    let step_err = |field: &str, message: String| CaseError {
        path: path.to_owned(),
        line: 0,
        column: 0,
        field: Some(format!("steps[{index}].{field}")),
        message,
        hint: None,
    };
    for (field, t) in templates_of(step) {
        check_template(path, index, field, t, defined, in_race)?;
    }
    for name in step.common().iter().flat_map(|c| c.raw_headers.keys()) {
        if let Some(message) = crate::s3::guard::refuse_raw_header(name) {
            return Err(step_err(&format!("raw_headers.{name}"), message));
        }
    }
    for key in keys_of(step) {
        if key.contains("${") && !(in_race && key.replace("${i}", "").find("${").is_none()) {
            return Err(step_err(
                "key",
                format!("`{key}`: a key may only use `${{i}}`, and only inside `parallel`"),
            ));
        }
        if let Err(e) = crate::s3::RunPrefix::fresh().key(key) {
            return Err(step_err("key", e.to_string()));
        }
    }
    match step {
        Step::Sleep(s) if !(s.seconds > 0.0 && s.seconds <= MAX_SLEEP_SECS) => {
            return Err(step_err(
                "seconds",
                format!("a sleep is more than 0 and at most {MAX_SLEEP_SECS} seconds"),
            ));
        }
        Step::Parallel(p) => {
            if in_race {
                return Err(step_err("step", "a race cannot contain a race".into()));
            }
            check_race(p, &step_err)?;
            for (_, racer) in p.racers() {
                check_step(path, index, racer, defined, true)?;
            }
        }
        Step::Put(s) if s.size.is_some_and(|n| n > MAX_BODY) => {
            return Err(step_err(
                "size",
                format!("a body is at most {MAX_BODY} bytes"),
            ));
        }
        Step::UploadPart(s) if s.size.is_some_and(|n| n > MAX_BODY) => {
            return Err(step_err(
                "size",
                format!("a part is at most {MAX_BODY} bytes"),
            ));
        }
        Step::UploadPart(s) if s.part < 1 || s.part > 10_000 => {
            return Err(step_err("part", "a part number is 1 to 10000".into()));
        }
        Step::DeleteObjects(s) => check_delete_objects(step, s, &step_err)?,
        _ => {}
    }
    if !matches!(step, Step::DeleteObjects(_)) {
        for (prefix, e) in expects_of(step) {
            if e.deleted.is_some() || e.errors.is_some() {
                return Err(step_err(
                    &format!("{prefix}.deleted"),
                    "`deleted` and `errors` judge a `delete_objects` answer only".into(),
                ));
            }
        }
    }
    if let Some(save) = step.common().and_then(|c| c.save.as_ref()) {
        if save.upload_id.is_some() && !matches!(step, Step::MpuCreate(_)) {
            return Err(step_err(
                "save.upload_id",
                "only `mpu_create` answers an UploadId".into(),
            ));
        }
        for (name, kind) in save.names() {
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
                return Err(step_err(
                    "save",
                    format!("`{name}`: a capture name is letters, digits and `_`"),
                ));
            }
            if name == "i" || name == UNIQUE {
                return Err(step_err(
                    "save",
                    format!(
                        "`{name}` is reserved (`i`: the racer index, `{UNIQUE}`: a value unique to each run of the case)"
                    ),
                ));
            }
            defined.insert(name.to_owned(), kind);
        }
    }
    Ok(())
}

fn check_template(
    path: &Path,
    index: usize,
    field: String,
    t: &Template,
    defined: &BTreeMap<String, SavedKind>,
    in_race: bool,
) -> Result<(), CaseError> {
    for r in t.references() {
        let problem = match (r.name.as_str(), defined.get(&r.name)) {
            ("i", _) if in_race && r.form == RefForm::Verbatim => None,
            ("i", _) if in_race => Some("`${i}` takes no suffix".to_owned()),
            ("i", _) => Some("`${i}` (the racer index) exists only inside `parallel`".into()),
            (_, None) => Some(format!(
                "`${{{r}}}` is not defined: no earlier step saves `{}`",
                r.name
            )),
            (_, Some(SavedKind::Etag)) if matches!(r.form, RefForm::Offset(_)) => Some(format!(
                "`${{{r}}}`: `{}` holds an ETag, which takes no date offset",
                r.name
            )),
            (_, Some(SavedKind::Date)) if r.form == RefForm::Unquoted => Some(format!(
                "`${{{r}}}`: `{}` holds a date, which has no unquoted form",
                r.name
            )),
            (_, Some(SavedKind::Text)) if r.form != RefForm::Verbatim => Some(format!(
                "`${{{r}}}`: `{}` holds an UploadId, which takes no suffix",
                r.name
            )),
            _ => None,
        };
        if let Some(message) = problem {
            return Err(CaseError {
                path: path.to_owned(),
                line: t.line,
                column: t.column,
                field: Some(format!("steps[{index}].{field}")),
                message,
                hint: closest(&r.name, defined.keys().map(String::as_str))
                    .filter(|n| *n != r.name)
                    .map(|n| format!("did you mean `{n}`?")),
            });
        }
    }
    Ok(())
}

/// Every template of a step, with its field name.
fn templates_of(step: &Step) -> Vec<(String, &Template)> {
    fn add<'a>(v: &mut Vec<(String, &'a Template)>, name: &str, t: &'a Option<Template>) {
        if let Some(t) = t {
            v.push((name.to_owned(), t));
        }
    }
    let mut v: Vec<(String, &Template)> = Vec::new();
    match step {
        Step::Put(s) => {
            add(&mut v, "body", &s.body);
            add(&mut v, "if_match", &s.if_match);
            add(&mut v, "if_none_match", &s.if_none_match);
        }
        Step::Get(s) | Step::Head(s) => {
            add(&mut v, "if_match", &s.if_match);
            add(&mut v, "if_none_match", &s.if_none_match);
            add(&mut v, "if_modified_since", &s.if_modified_since);
            add(&mut v, "if_unmodified_since", &s.if_unmodified_since);
        }
        Step::Copy(s) => {
            add(&mut v, "if_match", &s.if_match);
            add(&mut v, "if_none_match", &s.if_none_match);
            add(&mut v, "source_if_match", &s.source_if_match);
            add(&mut v, "source_if_none_match", &s.source_if_none_match);
            add(
                &mut v,
                "source_if_modified_since",
                &s.source_if_modified_since,
            );
            add(
                &mut v,
                "source_if_unmodified_since",
                &s.source_if_unmodified_since,
            );
        }
        Step::Delete(s) => add(&mut v, "if_match", &s.if_match),
        Step::DeleteObjects(s) => {
            for (i, o) in s.objects.iter().enumerate() {
                add(&mut v, &format!("objects[{i}].etag"), &o.etag);
                add(
                    &mut v,
                    &format!("objects[{i}].last_modified_time"),
                    &o.last_modified_time,
                );
            }
        }
        Step::Rename(s) => {
            add(&mut v, "if_match", &s.if_match);
            add(&mut v, "if_none_match", &s.if_none_match);
            add(&mut v, "if_modified_since", &s.if_modified_since);
            add(&mut v, "if_unmodified_since", &s.if_unmodified_since);
            add(&mut v, "source_if_match", &s.source_if_match);
            add(&mut v, "source_if_none_match", &s.source_if_none_match);
            add(
                &mut v,
                "source_if_modified_since",
                &s.source_if_modified_since,
            );
            add(
                &mut v,
                "source_if_unmodified_since",
                &s.source_if_unmodified_since,
            );
            add(&mut v, "client_token", &s.client_token);
        }
        Step::UploadPart(s) => {
            v.push(("upload".into(), &s.upload));
            add(&mut v, "body", &s.body);
        }
        Step::MpuComplete(s) => {
            v.push(("upload".into(), &s.upload));
            for (i, p) in s.parts.iter().enumerate() {
                v.push((format!("parts[{i}]"), p));
            }
            add(&mut v, "if_match", &s.if_match);
            add(&mut v, "if_none_match", &s.if_none_match);
        }
        Step::MpuAbort(s) => v.push(("upload".into(), &s.upload)),
        Step::MpuCreate(_) | Step::List(_) | Step::Sleep(_) | Step::Parallel(_) => {}
    }
    if let Some(c) = step.common() {
        for (name, t) in &c.raw_headers {
            v.push((format!("raw_headers.{name}"), t));
        }
        let mut expects: Vec<(&str, &super::schema::Expect)> = Vec::new();
        if let Some(e) = &c.expect {
            expects.push(("expect", e));
        }
        if let Some(p) = &c.profiles {
            if let Some(e) = &p.coreweave {
                expects.push(("profiles.coreweave", e));
            }
            if let Some(e) = &p.aws {
                expects.push(("profiles.aws", e));
            }
        }
        match step {
            Step::Get(s) | Step::Head(s) => {
                if let Some(a) = &s.accepted {
                    expects.push(("accepted.expect", &a.expect));
                }
            }
            Step::List(s) => {
                if let Some(a) = &s.accepted {
                    expects.push(("accepted.expect", &a.expect));
                }
            }
            _ => {}
        }
        for (prefix, e) in expects {
            add(&mut v, &format!("{prefix}.etag"), &e.etag);
            add(&mut v, &format!("{prefix}.etag_not"), &e.etag_not);
            add(&mut v, &format!("{prefix}.body"), &e.body);
        }
    }
    v
}

/// Every key a step addresses.
fn keys_of(step: &Step) -> Vec<&str> {
    match step {
        Step::Put(s) => vec![&s.key],
        Step::Get(s) | Step::Head(s) => vec![&s.key],
        Step::Copy(s) => vec![&s.source, &s.key],
        Step::Delete(s) => vec![&s.key],
        Step::DeleteObjects(s) => s.objects.iter().map(|o| o.key.as_str()).collect(),
        Step::Rename(s) => vec![&s.source, &s.key],
        Step::MpuCreate(s) => vec![&s.key],
        Step::UploadPart(s) => vec![&s.key],
        Step::MpuComplete(s) => vec![&s.key],
        Step::MpuAbort(s) => vec![&s.key],
        Step::List(_) | Step::Sleep(_) | Step::Parallel(_) => vec![],
    }
}

/// Turns a serde-saphyr error into a [`CaseError`]: its location, the field it concerns, and a
/// "did you mean" for a misspelt field or operation. Any YAML file the crate parses with
/// serde-saphyr reports through it.
pub(crate) fn yaml_error(path: &Path, text: &str, e: &serde_saphyr::Error) -> CaseError {
    let (line, column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let message = strip_location(&e.without_snippet().to_string());
    let quoted = between_backticks(&message);
    let (field, hint) =
        if message.starts_with("unknown field") || message.starts_with("unknown variant") {
            let expected = expected_list(&message);
            let hint = quoted
                .as_deref()
                .and_then(|q| closest(q, expected.iter().map(String::as_str)))
                .map(|n| format!("did you mean `{n}`?"));
            let field = if message.starts_with("unknown field") {
                quoted.clone()
            } else {
                key_at(text, line, column)
            };
            (field, hint)
        } else if message.starts_with("a step must start with `op:`") {
            (Some("op".to_owned()), None)
        } else if message.starts_with("missing field") {
            (quoted.clone(), None)
        } else {
            (key_at(text, line, column), None)
        };
    CaseError {
        path: path.to_owned(),
        line,
        column,
        field,
        message,
        hint,
    }
}

/// serde-saphyr appends " at line N, column M"; the location is reported separately.
fn strip_location(msg: &str) -> String {
    let msg = msg.trim();
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(", column ") => msg[..i].to_owned(),
        _ => msg.to_owned(),
    }
}

fn between_backticks(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_owned())
}

/// The names after "expected one of" (serde's wording; the items may be backticked).
fn expected_list(msg: &str) -> Vec<String> {
    let Some(i) = msg.find("expected one of ") else {
        return msg
            .find("expected `")
            .map(|i| {
                msg[i + 9..]
                    .split(['`', ' ', ','])
                    .filter(|s| !s.is_empty() && *s != "or")
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
    };
    msg[i + 16..]
        .split(',')
        .map(|s| s.trim().trim_matches('`').trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The mapping key an error at `line`:`column` concerns: the key starting there (a type error
/// inside a value's own mapping), or the key whose value starts there.
fn key_at(text: &str, line: u64, column: u64) -> Option<String> {
    let l = text
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let col = usize::try_from(column)
        .unwrap_or(usize::MAX)
        .saturating_sub(1);
    let clean = |k: &str| {
        let k = k.trim().trim_start_matches("- ").trim();
        let k = k.trim_matches(|c| c == '"' || c == '\'');
        (!k.is_empty() && !k.contains(' ')).then(|| k.to_owned())
    };
    let from: String = l.chars().skip(col).collect();
    if let Some(colon) = from.find(':')
        && let Some(k) = clean(&from[..colon])
    {
        return Some(k);
    }
    let head: String = l.chars().take(col.max(1)).collect();
    let colon = head.rfind(':')?;
    clean(&head[..colon])
}

/// Where `steps[index].field` is written: the `index`-th `- op:` item of the top-level step
/// list, then the first `field:` key after it. Checks made after parsing have no location of
/// their own; this recovers one from the text for the common block style.
fn locate(text: &str, index: usize, field: &str) -> (u64, u64) {
    let leaf = field.rsplit('.').next().unwrap_or(field);
    let leaf = leaf.split('[').next().unwrap_or(leaf);
    let mut items = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("- op:"));
    let Some((start, item)) = items.nth(index) else {
        return (0, 0);
    };
    let item_indent = item.len() - item.trim_start().len();
    for (n, l) in text.lines().enumerate().skip(start) {
        let indent = l.len() - l.trim_start().len();
        if n > start && !l.trim().is_empty() && indent <= item_indent {
            break;
        }
        let body = l.trim_start().trim_start_matches("- ");
        if body.starts_with(&format!("{leaf}:")) {
            let col = l.len() - body.len() + 1;
            return (n as u64 + 1, col as u64);
        }
    }
    let col = item_indent + 1;
    (start as u64 + 1, col as u64)
}

/// The closest candidate to `given`, if any is close enough to be a plausible typo.
pub(crate) fn closest<'a>(
    given: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// 1-based line and column of byte offset `at`.
fn line_col(bytes: &[u8], at: usize) -> (u64, u64) {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line as u64, col as u64)
}

/// Parses a case from text, for tests and tools; `operation` names its group.
pub fn parse_str(operation: &str, name: &str, text: &str) -> Result<Case, CaseError> {
    parse_case(
        &PathBuf::from(format!("{operation}/{name}.yaml")),
        operation,
        text.as_bytes(),
    )
}
