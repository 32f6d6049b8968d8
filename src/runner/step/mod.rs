//! Turning a case's step into the request it sends, one module per step kind: adding an
//! operation is adding a module here and an arm in [`build`].
//!
//! Every module resolves the step's references through a [`Resolver`] and names the headers it
//! sets in [`Notes`], so that a report's step label shows what was really sent.

mod copy;
mod delete;
mod delete_objects;
mod list;
mod mpu;
mod put;
pub mod race;
mod read;
mod rename;

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::case::schema::{Common, Step};
use crate::case::{Template, Value};
use crate::s3::{HttpDate, Key, Operation, Preconditions, RawHeader, Request, Session};

/// Captures made so far, by name.
pub type Vars = BTreeMap<String, Value>;

/// Resolves a step's templates and keys: captures by name, `${i}` inside a race, keys under the
/// session's prefix.
pub struct Resolver<'a> {
    session: &'a Session,
    vars: &'a Vars,
    racer: Option<u32>,
}

impl Resolver<'_> {
    fn lookup(&self, n: &str) -> Option<Value> {
        match (n, self.racer) {
            ("i", Some(i)) => Some(Value::Text(i.to_string())),
            _ => self.vars.get(n).cloned(),
        }
    }

    /// A template's text.
    fn text(&self, t: &Template) -> Result<String, String> {
        t.render(&|n| self.lookup(n)).map_err(|e| e.to_string())
    }

    /// An optional template's text.
    fn opt(&self, t: &Option<Template>) -> Result<Option<String>, String> {
        t.as_ref().map(|t| self.text(t)).transpose()
    }

    /// An optional template's date.
    fn date(&self, t: &Option<Template>) -> Result<Option<HttpDate>, String> {
        t.as_ref()
            .map(|t| t.render_date(&|n| self.lookup(n)))
            .transpose()
    }

    /// The four read preconditions, in header order: match, none-match, modified-since,
    /// unmodified-since.
    fn preconditions(
        &self,
        [m, nm, ms, us]: [&Option<Template>; 4],
    ) -> Result<Preconditions, String> {
        Ok(Preconditions {
            if_match: self.opt(m)?,
            if_none_match: self.opt(nm)?,
            if_modified_since: self.date(ms)?,
            if_unmodified_since: self.date(us)?,
        })
    }

    /// A key under the session's prefix. Inside a race, `${i}` in a key gives each racer its own
    /// key (e.g. one source per racer).
    fn key(&self, k: &str) -> Result<Key, String> {
        let k = match self.racer {
            Some(i) => k.replace("${i}", &i.to_string()),
            None => k.to_owned(),
        };
        self.session.key(&k).map_err(|e| e.to_string())
    }
}

/// The headers a step sets, for its label.
#[derive(Default)]
struct Notes(Vec<String>);

impl Notes {
    fn note(&mut self, name: &str, v: &Option<String>) {
        if let Some(v) = v {
            self.0.push(format!("{name}: {v}"));
        }
    }

    /// Preconditions under their four header names, in the same order.
    fn preconditions(&mut self, names: [&str; 4], p: &Preconditions) {
        self.note(names[0], &p.if_match);
        self.note(names[1], &p.if_none_match);
        self.note(names[2], &p.if_modified_since.map(|d| d.to_string()));
        self.note(names[3], &p.if_unmodified_since.map(|d| d.to_string()));
    }
}

/// Builds the request of a step, resolving references, with a one-line label for reports.
/// `racer` is `${i}` inside a race.
pub fn build(
    session: &Session,
    step: &Step,
    vars: &Vars,
    racer: Option<u32>,
) -> Result<(Request, String), String> {
    let r = Resolver {
        session,
        vars,
        racer,
    };
    let mut notes = Notes::default();
    let (op, head): (Operation, String) = match step {
        Step::Put(s) => put::build(&r, s, &mut notes)?,
        Step::Get(s) => read::build(&r, s, read::Kind::Get, &mut notes)?,
        Step::Head(s) => read::build(&r, s, read::Kind::Head, &mut notes)?,
        Step::Copy(s) => copy::build(&r, s, &mut notes)?,
        Step::Delete(s) => delete::build(&r, s, &mut notes)?,
        Step::DeleteObjects(s) => delete_objects::build(&r, s, &mut notes)?,
        Step::Rename(s) => rename::build(&r, s, &mut notes)?,
        Step::MpuCreate(s) => mpu::create(&r, s)?,
        Step::UploadPart(s) => mpu::upload_part(&r, s)?,
        Step::MpuComplete(s) => mpu::complete(&r, s, &mut notes)?,
        Step::MpuAbort(s) => mpu::abort(&r, s)?,
        Step::List(s) => list::build(s),
        Step::Sleep(_) | Step::Parallel(_) => {
            return Err("not a request step".into());
        }
    };
    let mut request = Request::new(op);
    if let Some(Common { raw_headers, .. }) = step.common() {
        for (name, value) in raw_headers {
            let value = r.text(value)?;
            notes.0.push(format!("{name}: {value}"));
            request = request.with_header(RawHeader::new(name, &value).map_err(|e| e.to_string())?);
        }
    }
    let label = if notes.0.is_empty() {
        head
    } else {
        format!("{head} [{}]", notes.0.join("; "))
    };
    Ok((request, label))
}

/// A step's body: the text, or `size` bytes made by repeating the text (or the alphabet when
/// there is no text), so that big parts and big racer bodies need no big YAML and racers'
/// bodies still differ.
fn body_of(text: Option<String>, size: Option<u64>) -> Bytes {
    let Some(n) = size else {
        return Bytes::from(text.unwrap_or_default());
    };
    let n = usize::try_from(n.min(crate::case::load::MAX_BODY)).unwrap_or(0);
    let pattern = match text {
        Some(t) if !t.is_empty() => t.into_bytes(),
        _ => b"abcdefghijklmnopqrstuvwxyz".to_vec(),
    };
    Bytes::from(pattern.iter().copied().cycle().take(n).collect::<Vec<u8>>())
}
