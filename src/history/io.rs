//! Streaming reader and writer for the JSON Lines history format, and its validation.
//!
//! Errors always name the file, the 1-based line and the field at fault, because histories are
//! written by other programs and a person has to fix them by hand.

use std::collections::HashSet;
use std::io::{BufRead, Read, Write};
use std::path::Path;

use serde_json::Value;

use super::blocks::{self, OpSink};
use super::compact::{CompactBuilder, CompactHistory, CompactPart};
use super::format::{
    FORMAT_NAME, FORMAT_VERSION, Header, History, OLDEST_READABLE_VERSION, Op, Req, Via,
};
use super::view::OpSource;
use crate::check::model::FxHashMap;

/// Why a history could not be read or is not well formed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be opened or read.
    #[error("failed to read {file}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The output could not be written.
    #[error("failed to write history")]
    Write(#[source] std::io::Error),
    /// The file has no header line.
    #[error("{file}: empty history: line 1 must be the header")]
    Empty { file: String },
    /// A line is not JSON at all.
    #[error("{file}:{line}: not valid JSON (column {column}): {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A line is JSON but a field is missing or has the wrong type or value.
    #[error("{file}:{line}: field `{field}`: {message}")]
    Field {
        file: String,
        line: usize,
        field: String,
        message: String,
    },
    /// The ops are individually fine but together break an invariant (duplicate id, overlap).
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
}

/// Reads a history file whole and validates it.
pub fn read_history(path: &Path) -> Result<History, HistoryError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| HistoryError::Io {
        file: name.clone(),
        source,
    })?;
    let size = file.metadata().ok().map(|m| m.len());
    // Capacity for the ops the file can hold at most; pages never touched cost no memory.
    let hint = size.map_or(0, |n| n / 120) as usize;
    read_into(file, &name, Vec::with_capacity(hint), size, all_cores())
}

/// The threads a read uses: one per core.
fn all_cores() -> usize {
    crate::cores::available().map_or(1, |n| n.get())
}

/// Parses and validates a history from any buffered reader; `name` is used in errors.
pub fn parse_history<R: BufRead>(reader: R, name: &str) -> Result<History, HistoryError> {
    read_into(reader, name, Vec::new(), None, all_cores())
}

/// Reads a history file whole, validates it, and keeps it in compact form (what `check`
/// checks: each distinct string once, an op in 72 bytes).
pub fn read_compact(path: &Path) -> Result<CompactHistory, HistoryError> {
    let read = read_compact_unvalidated(path)?;
    read.validate()?;
    Ok(read.into_history())
}

/// [`read_compact`] without the validation that needs all the ops (unique ids, spans, no
/// overlapping ops of a client): the file is read and every line parsed, and
/// [`UnvalidatedCompact::validate`] gives exactly the error [`read_compact`] would. `check`
/// validates on one core while it groups the ops on the other.
pub fn read_compact_unvalidated(path: &Path) -> Result<UnvalidatedCompact, HistoryError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| HistoryError::Io {
        file: name.clone(),
        source,
    })?;
    let size = file.metadata().ok().map(|m| m.len());
    compact_from(file, name, size, all_cores())
}

/// A history file read into compact form whose ops have not yet been validated together, with
/// what validation needs to name the line at fault.
#[derive(Debug)]
pub struct UnvalidatedCompact {
    history: CompactHistory,
    name: String,
    lines: Lines,
}

impl UnvalidatedCompact {
    /// The ops as read: for work that does not rely on them being valid.
    pub fn history(&self) -> &CompactHistory {
        &self.history
    }

    /// The validation [`read_compact`] runs: the same checks in the same order, so the same
    /// first error, naming the file and line.
    pub fn validate(&self) -> Result<(), HistoryError> {
        validate_with_lines(&self.history, &self.name, &self.lines)
    }

    /// The history; only to be kept once [`Self::validate`] has passed.
    pub fn into_history(self) -> CompactHistory {
        self.history
    }
}

fn compact_from<R: Read>(
    reader: R,
    name: String,
    size: Option<u64>,
    threads: usize,
) -> Result<UnvalidatedCompact, HistoryError> {
    let builder = size.map_or_else(CompactBuilder::default, CompactBuilder::for_file);
    let mut sink = (builder, Lines::default());
    let header = blocks::read(reader, &name, &mut sink, size, threads)?;
    let (builder, lines) = sink;
    Ok(UnvalidatedCompact {
        history: builder.finish(header),
        name,
        lines,
    })
}

fn read_into<R: Read>(
    reader: R,
    name: &str,
    ops: Vec<Op>,
    size: Option<u64>,
    threads: usize,
) -> Result<History, HistoryError> {
    let mut sink = (ops, Lines::default());
    let header = blocks::read(reader, name, &mut sink, size, threads)?;
    let (ops, lines) = sink;
    let history = History { header, ops };
    validate_with_lines(&history, name, &lines)?;
    Ok(history)
}

/// The file line of every op, stored only where it is not the line after the previous op's
/// (after the header, a blank line, ...): nothing per op in a file as the writer writes it.
#[derive(Debug, Default)]
pub(super) struct Lines {
    /// (op index, its line), by op index.
    jumps: Vec<(usize, usize)>,
}

impl Lines {
    /// Op `i` is on `line`; called in op order, at least for the first op after every jump.
    pub(super) fn note(&mut self, i: usize, line: usize) {
        if self.jumps.last().is_none_or(|&(j, l)| l + (i - j) != line) {
            self.jumps.push((i, line));
        }
    }

    fn line(&self, i: usize) -> usize {
        let at = self.jumps.partition_point(|&(j, _)| j <= i);
        match at.checked_sub(1).map(|k| self.jumps[k]) {
            Some((j, l)) => l + (i - j),
            None => i + 2,
        }
    }
}

impl OpSink for (Vec<Op>, Lines) {
    type Part = Vec<Op>;
    fn clear(part: &mut Vec<Op>, _len: usize) {
        part.clear();
    }
    fn parse_line(part: &mut Vec<Op>, _text: &str, _at: usize, line: &str) -> bool {
        match super::fast::parse_op_line(line).or_else(|| serde_json::from_str::<Op>(line).ok()) {
            Some(op) => {
                part.push(op);
                true
            }
            None => false,
        }
    }
    fn append(&mut self, part: &mut Vec<Op>) {
        self.0.append(part);
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn lines(&mut self) -> &mut Lines {
        &mut self.1
    }
}

impl OpSink for (CompactBuilder, Lines) {
    type Part = CompactPart;
    fn clear(part: &mut CompactPart, len: usize) {
        part.clear(len);
    }
    #[inline(always)]
    fn parse_exact(part: &mut CompactPart, text: &str, at: usize) -> Option<usize> {
        let (raw, len) = super::fast::parse_line_at(text.get(at..)?)?;
        part.push_raw(text, at, raw);
        Some(len)
    }
    fn parse_line(part: &mut CompactPart, text: &str, at: usize, line: &str) -> bool {
        if let Some(raw) = super::fast::parse_raw(line) {
            part.push_raw(text, at, raw);
            return true;
        }
        match serde_json::from_str::<Op>(line) {
            Ok(op) => {
                part.push_whole(op);
                true
            }
            Err(_) => false,
        }
    }
    fn append(&mut self, part: &mut CompactPart) {
        self.0.append(part);
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn lines(&mut self) -> &mut Lines {
        &mut self.1
    }
}

/// What validation reads of an op: its numbers, and whether its key is empty.
pub(super) struct Facts {
    pub id: u64,
    pub client: u64,
    pub call_ns: u64,
    pub ret_ns: u64,
    pub initiated_ns: Option<u64>,
    pub empty_key: bool,
}

/// A history as validation reads it: op by op, numbers only, so the compact form is validated
/// from its records without building an op.
pub(super) trait Checkable {
    fn count(&self) -> usize;
    fn facts(&self, i: usize) -> Facts;
    fn id(&self, i: usize) -> u64 {
        self.facts(i).id
    }
}

impl Checkable for History {
    fn count(&self) -> usize {
        self.ops.len()
    }
    fn facts(&self, i: usize) -> Facts {
        let op = &self.ops[i];
        Facts {
            id: op.id,
            client: op.client,
            call_ns: op.call_ns,
            ret_ns: op.ret_ns,
            initiated_ns: match op.req {
                Req::Put { initiated_ns, .. } => initiated_ns,
                _ => None,
            },
            empty_key: op.key.is_empty(),
        }
    }
}

impl Checkable for CompactHistory {
    fn count(&self) -> usize {
        OpSource::len(self)
    }
    fn facts(&self, i: usize) -> Facts {
        CompactHistory::facts(self, i)
    }
    fn id(&self, i: usize) -> u64 {
        CompactHistory::id(self, i)
    }
}

/// Validates an in-memory history (as the fuzz driver builds it): unique ids, `ret_ns >=
/// call_ns`, and no two overlapping ops on one client. Line numbers in errors are those the
/// history would have once written (header on line 1).
pub fn validate(history: &History) -> Result<(), HistoryError> {
    validate_with_lines(history, "<history>", &Lines::default())
}

fn validate_with_lines<S: Checkable + ?Sized>(
    history: &S,
    file: &str,
    lines: &Lines,
) -> Result<(), HistoryError> {
    let invalid = |i: usize, message: String| HistoryError::Invalid {
        file: file.to_string(),
        line: lines.line(i),
        message,
    };
    // One pass over the ops: whether the ids increase (then they are distinct), the first op
    // at fault on its own, and each client's ops in file order.
    let n = history.count();
    let mut increasing = true;
    let mut fault = None;
    let mut clients = ClientPass::default();
    let mut prev_id = None;
    for i in 0..n {
        let op = history.facts(i);
        if prev_id.is_some_and(|p| p >= op.id) {
            increasing = false;
        }
        prev_id = Some(op.id);
        if fault.is_none() && op_fault(&op).is_some() {
            fault = Some(i);
        }
        clients.add(i, &op);
    }
    // The first error in file order; at one op, a duplicate id comes before its own faults.
    let duplicate = if increasing {
        None
    } else {
        first_duplicate_id(history)
    };
    if let Some((i, prev)) = duplicate.filter(|&(d, _)| fault.is_none_or(|f| d <= f)) {
        return Err(invalid(
            i,
            format!(
                "duplicate op id {} (first used on line {})",
                history.id(i),
                lines.line(prev)
            ),
        ));
    }
    if let Some(i) = fault {
        let op = history.facts(i);
        let field = |field: &str, message: String| HistoryError::Field {
            file: file.to_string(),
            line: lines.line(i),
            field: field.into(),
            message,
        };
        return Err(match op_fault(&op) {
            Some(OpFault::ReturnBeforeCall) => invalid(
                i,
                format!(
                    "op {}: ret_ns {} is before call_ns {}",
                    op.id, op.ret_ns, op.call_ns
                ),
            ),
            Some(OpFault::InitiatedAfterCall(t)) => field(
                "req.initiated_ns",
                format!(
                    "op {}: the upload was initiated at {t}, after the Complete call at {}",
                    op.id, op.call_ns
                ),
            ),
            Some(OpFault::EmptyKey) | None => field("key", "must not be empty".into()),
        });
    }
    // A client is a sequential process: its ops may touch but never overlap. The recorded
    // ret_ns of an ambiguous op is used here (the driver retires the client afterwards, so the
    // +∞ the checker assumes never meets a later op of the same client).
    let overlap = match clients.first() {
        Some(first) => first,
        None => first_overlap_sorted(history),
    };
    match overlap {
        Some((ia, ib)) => {
            let (a, b) = (history.facts(ia), history.facts(ib));
            Err(invalid(
                ib,
                format!(
                    "client {} has overlapping ops {} [{}, {}] and {} [{}, {}]",
                    a.client, a.id, a.call_ns, a.ret_ns, b.id, b.call_ns, b.ret_ns
                ),
            ))
        }
        None => Ok(()),
    }
}

/// What is wrong with an op on its own, in the order it is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpFault {
    ReturnBeforeCall,
    /// The multipart upload's `initiated_ns`, after the Complete call.
    InitiatedAfterCall(u64),
    EmptyKey,
}

fn op_fault(op: &Facts) -> Option<OpFault> {
    if op.ret_ns < op.call_ns {
        return Some(OpFault::ReturnBeforeCall);
    }
    if let Some(t) = op.initiated_ns
        && t > op.call_ns
    {
        return Some(OpFault::InitiatedAfterCall(t));
    }
    op.empty_key.then_some(OpFault::EmptyKey)
}

/// A client's latest op (call, return, index) and its first overlapping pair.
type Client = Option<((u64, u64, usize), Option<(usize, usize)>)>;

/// The overlap check in one pass in file order: writers record a client's ops in the order it
/// made them, so each op is compared only with its client's previous one. An op that comes
/// before its client's previous one in (call, return) order ends the pass, and the ops are
/// then sorted ([`first_overlap_sorted`]).
#[derive(Default)]
struct ClientPass {
    // Clients are small numbers in every writer; others go to a map.
    small: Vec<Client>,
    large: FxHashMap<u64, Client>,
    out_of_order: bool,
}

impl ClientPass {
    fn add(&mut self, i: usize, f: &Facts) {
        if self.out_of_order {
            return;
        }
        let slot = match usize::try_from(f.client) {
            Ok(c) if c < 1 << 16 => {
                if self.small.len() <= c {
                    self.small.resize(c + 1, None);
                }
                &mut self.small[c]
            }
            _ => self.large.entry(f.client).or_insert(None),
        };
        let bad = match *slot {
            Some(((call, ret, j), bad)) => {
                if (f.call_ns, f.ret_ns) < (call, ret) {
                    self.out_of_order = true;
                    return;
                }
                bad.or((f.call_ns < ret).then_some((j, i)))
            }
            None => None,
        };
        *slot = Some(((f.call_ns, f.ret_ns, i), bad));
    }

    /// `None` when the pass ended early; otherwise the first overlapping pair, in the order
    /// of (client, call, return, file position): the earlier op and the later one.
    fn first(&self) -> Option<Option<(usize, usize)>> {
        if self.out_of_order {
            return None;
        }
        let small = self
            .small
            .iter()
            .zip(0u64..)
            .filter_map(|(c, id)| Some((id, (*c)?.1?)));
        let large = self
            .large
            .iter()
            .filter_map(|(&id, c)| Some((id, (*c)?.1?)));
        Some(small.chain(large).min().map(|(_, pair)| pair))
    }
}

/// The first two ops of one client that overlap, in the order of (client, call, return, file
/// position), with every op sorted.
fn first_overlap_sorted<S: Checkable + ?Sized>(history: &S) -> Option<(usize, usize)> {
    let mut by_client: Vec<(u64, u64, u64, u32)> = (0..history.count())
        .map(|i| {
            let f = history.facts(i);
            (f.client, f.call_ns, f.ret_ns, i as u32)
        })
        .collect();
    // By client, then call, then return; ties keep file order, as a stable sort by index did.
    by_client.sort_unstable();
    by_client
        .windows(2)
        .find(|w| w[0].0 == w[1].0 && w[1].1 < w[0].2)
        .map(|w| (w[0].3 as usize, w[1].3 as usize))
}

/// The first op (in file order) whose id an earlier op already has, with that earlier op, by
/// sorting the ids (which costs less than a table of a million ids); called only when the ids
/// do not increase, as writers number them.
fn first_duplicate_id<S: Checkable + ?Sized>(history: &S) -> Option<(usize, usize)> {
    let n = history.count();
    let mut by_id: Vec<(u64, usize)> = (0..n).map(|i| (history.id(i), i)).collect();
    by_id.sort_unstable();
    // In each run of one id, the second op is that id's first duplicate; the earliest wins.
    by_id
        .windows(2)
        .filter(|w| w[0].0 == w[1].0)
        .map(|w| (w[1].1, w[0].1))
        .min()
}

/// Streams ops out of a history file one line at a time, so huge histories need not be held
/// twice. Does not run the cross-op validation of [`validate`].
pub struct HistoryReader<R> {
    reader: R,
    name: String,
    line: usize,
    header: Header,
    buf: String,
}

impl<R: BufRead> HistoryReader<R> {
    /// Reads and checks the header line.
    pub fn new(mut reader: R, name: &str) -> Result<Self, HistoryError> {
        let mut buf = String::new();
        let mut line = 0;
        loop {
            buf.clear();
            let n = reader
                .read_line(&mut buf)
                .map_err(|source| HistoryError::Io {
                    file: name.to_string(),
                    source,
                })?;
            if n == 0 {
                return Err(HistoryError::Empty {
                    file: name.to_string(),
                });
            }
            line += 1;
            if !buf.trim().is_empty() {
                break;
            }
        }
        let header = parse_header(buf.trim(), name, line)?;
        Ok(HistoryReader {
            reader,
            name: name.to_string(),
            line,
            header,
            buf,
        })
    }

    /// The header read from line 1.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The line number of the op most recently returned.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The next op, `None` at end of file; blank lines are skipped.
    pub fn next_op(&mut self) -> Result<Option<Op>, HistoryError> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_line(&mut self.buf)
                .map_err(|source| HistoryError::Io {
                    file: self.name.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            let text = self.buf.trim();
            if text.is_empty() {
                continue;
            }
            return parse_op(text, &self.name, self.line).map(Some);
        }
    }
}

impl<R: BufRead> Iterator for HistoryReader<R> {
    type Item = Result<Op, HistoryError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_op().transpose()
    }
}

pub(super) fn parse_header(text: &str, file: &str, line: usize) -> Result<Header, HistoryError> {
    let value = parse_value(text, file, line)?;
    let field = |field: &str, message: String| HistoryError::Field {
        file: file.to_string(),
        line,
        field: field.to_string(),
        message,
    };
    match value.get("format") {
        Some(Value::String(s)) if s == FORMAT_NAME => {}
        Some(other) => {
            return Err(field(
                "format",
                format!("expected \"{FORMAT_NAME}\", found {other}; line 1 must be the header"),
            ));
        }
        None => {
            return Err(field(
                "format",
                format!(
                    "missing; line 1 must be the header {{\"format\":\"{FORMAT_NAME}\",\"version\":{FORMAT_VERSION},...}}"
                ),
            ));
        }
    }
    match value.get("version").and_then(Value::as_u64) {
        Some(v)
            if (u64::from(OLDEST_READABLE_VERSION)..=u64::from(FORMAT_VERSION)).contains(&v) => {}
        Some(v) => {
            return Err(field(
                "version",
                format!(
                    "unsupported version {v}; this build reads versions {OLDEST_READABLE_VERSION} to {FORMAT_VERSION}"
                ),
            ));
        }
        None => return Err(field("version", "missing or not an integer".into())),
    }
    serde_json::from_value(value).map_err(|e| field("header", e.to_string()))
}

fn parse_value(text: &str, file: &str, line: usize) -> Result<Value, HistoryError> {
    let value: Value = serde_json::from_str(text).map_err(|e| HistoryError::Syntax {
        file: file.to_string(),
        line,
        column: e.column(),
        message: e.to_string(),
    })?;
    if !value.is_object() {
        return Err(HistoryError::Syntax {
            file: file.to_string(),
            line,
            column: 1,
            message: "expected a JSON object".into(),
        });
    }
    Ok(value)
}

pub(super) fn parse_op(text: &str, file: &str, line: usize) -> Result<Op, HistoryError> {
    match serde_json::from_str::<Op>(text) {
        Ok(op) => Ok(op),
        Err(e) => {
            let value = parse_value(text, file, line)?;
            let (field, message) =
                locate_op_error(&value).unwrap_or_else(|| ("op".to_string(), e.to_string()));
            Err(HistoryError::Field {
                file: file.to_string(),
                line,
                field,
                message,
            })
        }
    }
}

/// What a field must look like, for error messages that name the exact field.
#[derive(Clone, Copy)]
enum Kind {
    U64,
    OptU64,
    U16,
    Str,
    OptStr,
    OptU16,
    Via,
}

fn check_kind(v: Option<&Value>, kind: Kind) -> Result<(), String> {
    let ok = match (kind, v) {
        (Kind::OptStr | Kind::OptU16 | Kind::OptU64, None | Some(Value::Null)) => true,
        (_, None) => return Err("missing".into()),
        (Kind::U64 | Kind::OptU64, Some(v)) => v.as_u64().is_some(),
        (Kind::U16 | Kind::OptU16, Some(v)) => v.as_u64().is_some_and(|n| n <= u64::from(u16::MAX)),
        (Kind::Str | Kind::OptStr, Some(v)) => v.is_string(),
        (Kind::Via, Some(v)) => serde_json::from_value::<Via>(v.clone()).is_ok(),
    };
    if ok {
        return Ok(());
    }
    let want = match kind {
        Kind::U64 => "a non-negative integer",
        Kind::OptU64 => "a non-negative integer or null",
        Kind::U16 | Kind::OptU16 => "an HTTP status (integer up to 65535)",
        Kind::Str => "a string",
        Kind::OptStr => "a string or null",
        Kind::Via => "one of \"put\", \"copy\", \"complete_multipart\"",
    };
    Err(format!(
        "expected {want}, found {}",
        v.map(|v| v.to_string()).unwrap_or_default()
    ))
}

/// Finds the first field of an op line that does not fit the schema.
fn locate_op_error(v: &Value) -> Option<(String, String)> {
    for (name, kind) in [
        ("id", Kind::U64),
        ("client", Kind::U64),
        ("key", Kind::Str),
        ("call_ns", Kind::U64),
        ("ret_ns", Kind::U64),
    ] {
        if let Err(m) = check_kind(v.get(name), kind) {
            return Some((name.to_string(), m));
        }
    }
    let req_fields: &[(&str, &[(&str, Kind)])] = &[
        (
            "get",
            &[("if_match", Kind::OptStr), ("if_none_match", Kind::OptStr)],
        ),
        (
            "head",
            &[("if_match", Kind::OptStr), ("if_none_match", Kind::OptStr)],
        ),
        (
            "put",
            &[
                ("write_id", Kind::OptStr),
                ("etag_if_applied", Kind::OptStr),
                ("if_match", Kind::OptStr),
                ("if_none_match", Kind::OptStr),
                ("via", Kind::Via),
                ("source_key", Kind::OptStr),
                ("initiated_ns", Kind::OptU64),
            ],
        ),
        ("delete", &[("if_match", Kind::OptStr)]),
    ];
    let out_fields: &[(&str, &[(&str, Kind)])] = &[
        (
            "ok",
            &[
                ("status", Kind::U16),
                ("etag", Kind::OptStr),
                ("write_id", Kind::OptStr),
            ],
        ),
        ("not_modified", &[("etag", Kind::OptStr)]),
        ("precondition_failed", &[]),
        ("not_found", &[("code", Kind::OptStr)]),
        ("conflict", &[]),
        ("rejected", &[("status", Kind::U16), ("code", Kind::OptStr)]),
        (
            "ambiguous",
            &[("cause", Kind::Str), ("status", Kind::OptU16)],
        ),
    ];
    for (obj, table) in [("req", req_fields), ("out", out_fields)] {
        let Some(inner) = v.get(obj) else {
            return Some((obj.to_string(), "missing".into()));
        };
        if !inner.is_object() {
            return Some((
                obj.to_string(),
                format!("expected an object, found {inner}"),
            ));
        }
        let Some(ty) = inner.get("type").and_then(Value::as_str) else {
            return Some((format!("{obj}.type"), "missing or not a string".into()));
        };
        let Some((_, fields)) = table.iter().find(|(t, _)| *t == ty) else {
            let known: Vec<&str> = table.iter().map(|(t, _)| *t).collect();
            return Some((
                format!("{obj}.type"),
                format!(
                    "unknown type \"{ty}\" (expected one of {})",
                    known.join(", ")
                ),
            ));
        };
        for (name, kind) in fields.iter() {
            if let Err(m) = check_kind(inner.get(*name), *kind) {
                return Some((format!("{obj}.{name}"), m));
            }
        }
    }
    None
}

/// Writes a history as JSON Lines, one op at a time, so the fuzz driver can stream it.
pub struct HistoryWriter<W: Write> {
    out: W,
}

impl<W: Write> HistoryWriter<W> {
    /// Writes the header line.
    pub fn new(mut out: W, header: &Header) -> Result<Self, HistoryError> {
        serde_json::to_writer(&mut out, header).map_err(|e| HistoryError::Write(e.into()))?;
        out.write_all(b"\n").map_err(HistoryError::Write)?;
        Ok(HistoryWriter { out })
    }

    /// Appends one op line.
    pub fn write_op(&mut self, op: &Op) -> Result<(), HistoryError> {
        serde_json::to_writer(&mut self.out, op).map_err(|e| HistoryError::Write(e.into()))?;
        self.out.write_all(b"\n").map_err(HistoryError::Write)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> Result<W, HistoryError> {
        self.out.flush().map_err(HistoryError::Write)?;
        Ok(self.out)
    }
}

/// Writes a whole history.
pub fn write_history<W: Write>(out: W, history: &History) -> Result<W, HistoryError> {
    let mut w = HistoryWriter::new(out, &history.header)?;
    for op in &history.ops {
        w.write_op(op)?;
    }
    w.finish()
}

/// The distinct keys of a history, in first-appearance order.
pub fn keys(history: &History) -> Vec<String> {
    let mut seen = HashSet::new();
    history
        .ops
        .iter()
        .filter(|o| seen.insert(o.key.as_str()))
        .map(|o| o.key.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"format":"s3conform-history","version":2,"seed":1,"endpoint":null,"profile":null,"note":null}"#;

    fn parse(text: &str) -> Result<History, HistoryError> {
        parse_history(text.as_bytes(), "t.jsonl")
    }

    fn op_line(id: u64, client: u64, call: u64, ret: u64) -> String {
        format!(
            r#"{{"id":{id},"client":{client},"key":"k","call_ns":{call},"ret_ns":{ret},"req":{{"type":"get","if_match":null,"if_none_match":null}},"out":{{"type":"not_found"}}}}"#
        )
    }

    #[test]
    fn round_trip() {
        let text = format!(
            "{HEADER}\n{}\n\n{}\n",
            op_line(0, 1, 0, 5),
            op_line(1, 1, 5, 9)
        );
        let h = parse(&text).unwrap();
        assert_eq!(h.ops.len(), 2);
        let bytes = write_history(Vec::new(), &h).unwrap();
        let again = parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
        assert_eq!(h, again);
    }

    #[test]
    fn version_1_files_are_still_read() {
        let text = format!(
            "{}\n{}\n",
            HEADER.replace("\"version\":2", "\"version\":1"),
            op_line(0, 1, 0, 5)
        );
        assert_eq!(parse(&text).unwrap().header.version, 1);
    }

    /// The line-by-line serde reader the block reader replaced, kept as its oracle.
    fn line_by_line(text: &[u8], name: &str) -> Result<History, HistoryError> {
        let mut rd = HistoryReader::new(text, name)?;
        let header = rd.header().clone();
        let (mut ops, mut lines) = (Vec::new(), Lines::default());
        while let Some(op) = rd.next_op()? {
            lines.note(ops.len(), rd.line());
            ops.push(op);
        }
        let history = History { header, ops };
        validate_with_lines(&history, name, &lines)?;
        Ok(history)
    }

    fn same_as_line_by_line(text: &[u8], name: &str) {
        let fast = read_into(text, name, Vec::new(), None, all_cores());
        let slow = line_by_line(text, name);
        let compact = compact_from(text, name.to_string(), None, all_cores())
            .and_then(|read| read.validate().map(|()| read.history.to_history()));
        match (&compact, &slow) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{name}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
            (a, b) => panic!("{name}: compact reader {a:?}, line reader {b:?}"),
        }
        match (fast, slow) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{name}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
            (a, b) => panic!("{name}: block reader {a:?}, line reader {b:?}"),
        }
    }

    /// `text` read on `threads` threads into both sinks: the history, or the error's text. A
    /// reader that loses a piece waits for it for ever: that fails here within a minute.
    fn read_on_threads(text: &[u8], name: &str, threads: usize) -> [Result<History, String>; 2] {
        let (text, name) = (text.to_vec(), name.to_string());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // The receiver has given up only when the test has already failed.
            let _ = tx.send(read_both(&text, &name, threads));
        });
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .expect("the reader finishes")
    }

    fn read_both(text: &[u8], name: &str, threads: usize) -> [Result<History, String>; 2] {
        let compact = compact_from(text, name.to_string(), None, threads)
            .and_then(|read| read.validate().map(|()| read.history.to_history()));
        let ops = read_into(text, name, Vec::new(), None, threads);
        [compact, ops].map(|r| r.map_err(|e| e.to_string()))
    }

    /// However many threads read a file, and whichever of them parses a piece (a parse
    /// thread, or the main thread while it waits), the history and the first error are those
    /// of reading on one thread.
    #[test]
    fn any_number_of_threads_reads_what_one_thread_reads() {
        use crate::bench::{GenConfig, generate_seeded};
        let cfg = GenConfig {
            writers: 8,
            ops: 12_000,
            keys: 3,
            ambiguous_rate: 0.05,
            delete_rate: 0.05,
            ..GenConfig::default()
        };
        let text = write_history(Vec::new(), &generate_seeded(&cfg, 3)).unwrap();
        let s = String::from_utf8(text.clone()).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert!(text.len() > 8 * blocks::PIECE, "{}", text.len());
        let edit = |at: usize, line: &str| {
            let mut l: Vec<&str> = lines.clone();
            l[at] = line;
            l.join("\n").into_bytes()
        };
        let n = lines.len();
        let spaced = format!("  {}  ", lines[n / 2].replacen(':', " : ", 3));
        let texts = [
            ("whole", text.clone()),
            ("blank", edit(n / 3, "")),
            ("spaced", edit(n / 2, &spaced)),
            ("broken early", edit(n / 10, "{\"id\":1")),
            ("broken late", edit(n - 5, "[1]")),
            ("duplicate id", edit(n - 50, lines[n / 2])),
        ];
        for (what, text) in &texts {
            let one = read_on_threads(text, what, 1);
            for threads in [2, 3, 5] {
                assert_eq!(
                    read_on_threads(text, what, threads),
                    one,
                    "{what}, {threads} threads"
                );
            }
        }
        let mut bytes = text;
        bytes[n * 100] = 0xff;
        let one = read_on_threads(&bytes, "utf8", 1);
        assert!(
            one[0].as_ref().is_err_and(|e| e == "failed to read utf8"),
            "{one:?}"
        );
        assert_eq!(read_on_threads(&bytes, "utf8", 4), one);
    }

    #[test]
    fn the_block_reader_reads_every_committed_history_as_the_line_reader_did() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
        let mut seen = 0;
        for dir in ["good", "bad", "malformed"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read(&path).unwrap();
                same_as_line_by_line(&text, &path.display().to_string());
                seen += 1;
            }
        }
        assert!(seen > 40, "{seen}");
    }

    #[test]
    fn the_block_reader_reads_generated_histories_and_edits_of_them_as_the_line_reader_did() {
        use crate::bench::{Bug, GenConfig, generate_seeded};
        let mut text = Vec::new();
        for (i, bug) in [None, Some(Bug::LostUpdate), Some(Bug::GarbageRead)]
            .into_iter()
            .enumerate()
        {
            let cfg = GenConfig {
                writers: 8,
                ops: 20_000,
                keys: 2,
                ambiguous_rate: 0.05,
                blind_rate: 0.1,
                delete_rate: 0.05,
                bug,
                ..GenConfig::default()
            };
            let h = generate_seeded(&cfg, i as u64);
            text = write_history(Vec::new(), &h).unwrap();
            // Larger than a parallel block, so several threads and cuts take part.
            assert!(text.len() > 64 << 10);
            assert_eq!(
                read_into(&text[..], "g.jsonl", Vec::new(), None, all_cores()).unwrap(),
                h
            );
        }
        // Blank lines, CRLF, spaces, a line serde must read, and breakage deep in the file.
        let s = String::from_utf8(text).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        let edits: Vec<(usize, String)> = vec![
            (3, String::new()),
            (5, format!("{}\r", lines[5])),
            (7, format!("  {}  ", lines[7].replacen(':', " : ", 3))),
            (9, lines[9].replacen("\"key\":\"", "\"key\":\"\\u006b", 1)),
        ];
        let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        for (i, l) in &edits {
            edited[*i] = l.clone();
        }
        same_as_line_by_line(edited.join("\n").as_bytes(), "e.jsonl");
        for (at, breakage) in [
            (lines.len() - 3, "{\"id\":1"),
            (lines.len() / 2, "[1]"),
            (lines.len() / 3 + 1, "{}"),
        ] {
            let mut broken = edited.clone();
            broken[at] = breakage.to_string();
            same_as_line_by_line(broken.join("\n").as_bytes(), "b.jsonl");
        }
        let mut bytes = edited.join("\n").into_bytes();
        let at = bytes.len() / 2;
        bytes[at] = 0xff;
        same_as_line_by_line(&bytes, "u.jsonl");
    }

    #[test]
    fn pieces_cut_anywhere_read_as_the_line_reader_did() {
        use crate::bench::{GenConfig, generate_seeded};
        let cfg = GenConfig {
            writers: 4,
            ops: 12_000,
            keys: 1,
            ..GenConfig::default()
        };
        let h = generate_seeded(&cfg, 7);
        let text = String::from_utf8(write_history(Vec::new(), &h).unwrap()).unwrap();
        // Several pieces, a line longer than a piece in the middle, and a header after more
        // blank lines than a piece holds.
        assert!(text.len() > 2 << 20, "{}", text.len());
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let mid = lines.len() / 2;
        let key = format!("\"key\":\"{}\"", "x".repeat(3 << 20));
        lines[mid] = lines[mid].replacen("\"key\":\"k0\"", &key, 1);
        assert!(lines[mid].len() > 3 << 20);
        let blank = "\n".repeat((1 << 20) + 5);
        same_as_line_by_line(format!("{blank}{}", lines.join("\n")).as_bytes(), "p.jsonl");
        same_as_line_by_line(lines.join("\r\n").as_bytes(), "crlf.jsonl");
        // An error in the long line, and bytes that are not UTF-8 in it.
        let mut broken = lines.clone();
        broken[mid] = broken[mid].replacen("\"id\":", "\"id\":-", 1);
        same_as_line_by_line(broken.join("\n").as_bytes(), "l.jsonl");
        let mut bytes = lines.join("\n").into_bytes();
        let at = bytes.len() / 2;
        bytes[at] = 0xff;
        same_as_line_by_line(&bytes, "lu.jsonl");
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty history"),
            (
                "{\"format\":\"x\",\"version\":1}".into(),
                "t.jsonl:1: field `format`",
            ),
            (
                r#"{"format":"s3conform-history","version":9}"#.into(),
                "field `version`: unsupported version 9; this build reads versions 1 to 2",
            ),
            (
                format!(
                    "{HEADER}\n{}",
                    op_line(0, 1, 50, 60).replace(
                        r#"{"type":"get","if_match":null,"if_none_match":null}"#,
                        r#"{"type":"put","write_id":"w","via":"complete_multipart","initiated_ns":70}"#
                    )
                ),
                "t.jsonl:2: field `req.initiated_ns`: op 0: the upload was initiated at 70",
            ),
            (
                format!(
                    "{HEADER}\n{}",
                    op_line(0, 1, 50, 60).replace(
                        r#"{"type":"get","if_match":null,"if_none_match":null}"#,
                        r#"{"type":"put","write_id":"w","via":"complete_multipart","initiated_ns":"soon"}"#
                    )
                ),
                "t.jsonl:2: field `req.initiated_ns`: expected a non-negative integer or null",
            ),
            (format!("{HEADER}\n{{not json"), "t.jsonl:2: not valid JSON"),
            (format!("{HEADER}\n[1,2]"), "t.jsonl:2: not valid JSON"),
            (
                format!(
                    "{HEADER}\n{}",
                    op_line(0, 1, 0, 5).replace("\"call_ns\":0", "\"call_ns\":-3")
                ),
                "t.jsonl:2: field `call_ns`",
            ),
            (
                format!(
                    "{HEADER}\n{}",
                    op_line(0, 1, 0, 5).replace("\"get\"", "\"got\"")
                ),
                "field `req.type`: unknown type \"got\"",
            ),
            (
                format!(
                    "{HEADER}\n{}",
                    op_line(0, 1, 0, 5).replace("\"if_match\":null", "\"if_match\":7")
                ),
                "field `req.if_match`",
            ),
            (
                format!(
                    "{HEADER}\n{}",
                    op_line(0, 1, 0, 5).replace(r#"{"type":"not_found"}"#, r#"{"type":"ok"}"#)
                ),
                "field `out.status`: missing",
            ),
            (
                format!(
                    "{HEADER}\n{}",
                    op_line(0, 1, 0, 5).replace(",\"key\":\"k\"", "")
                ),
                "field `key`: missing",
            ),
            (
                format!("{HEADER}\n{}\n{}", op_line(0, 1, 0, 5), op_line(0, 2, 0, 5)),
                "t.jsonl:3: duplicate op id 0",
            ),
            (
                format!(
                    "{HEADER}\n{}\n{}\n\n{}\n{}",
                    op_line(5, 1, 0, 5),
                    op_line(3, 2, 0, 5),
                    op_line(3, 3, 0, 5),
                    op_line(5, 4, 0, 5)
                ),
                "t.jsonl:5: duplicate op id 3 (first used on line 3)",
            ),
            (
                format!("{HEADER}\n{}", op_line(0, 1, 9, 5)),
                "ret_ns 5 is before call_ns 9",
            ),
            (
                format!("{HEADER}\n{}\n{}", op_line(0, 1, 0, 5), op_line(1, 1, 4, 8)),
                "client 1 has overlapping ops",
            ),
            // A client's ops out of order in the file: still the first pair in time.
            (
                format!(
                    "{HEADER}\n{}\n{}\n{}",
                    op_line(0, 1, 10, 20),
                    op_line(1, 1, 30, 40),
                    op_line(2, 1, 0, 12)
                ),
                "t.jsonl:2: client 1 has overlapping ops 2 [0, 12] and 0 [10, 20]",
            ),
            // The lowest client with an overlap is named, wherever it is in the file.
            (
                format!(
                    "{HEADER}\n{}\n{}\n{}\n{}",
                    op_line(0, 5, 0, 5),
                    op_line(1, 5, 4, 8),
                    op_line(2, 2, 0, 5),
                    op_line(3, 2, 5, 6)
                ),
                "t.jsonl:3: client 5 has overlapping ops 0 [0, 5] and 1 [4, 8]",
            ),
            (
                format!(
                    "{HEADER}\n{}\n{}\n{}\n{}",
                    op_line(0, 5, 0, 5),
                    op_line(1, 5, 4, 8),
                    op_line(2, 2, 0, 5),
                    op_line(3, 2, 3, 6)
                ),
                "t.jsonl:5: client 2 has overlapping ops 2 [0, 5] and 3 [3, 6]",
            ),
            // The first error in file order wins; at one op, a duplicate id comes before its
            // own faults, and every op's own faults come before any overlap.
            (
                format!(
                    "{HEADER}\n{}\n{}\n{}",
                    op_line(0, 1, 0, 5),
                    op_line(1, 2, 9, 5),
                    op_line(0, 3, 0, 5)
                ),
                "t.jsonl:3: op 1: ret_ns 5 is before call_ns 9",
            ),
            (
                format!(
                    "{HEADER}\n{}\n{}\n{}",
                    op_line(0, 1, 0, 5),
                    op_line(0, 2, 0, 5),
                    op_line(2, 3, 9, 5)
                ),
                "t.jsonl:3: duplicate op id 0 (first used on line 2)",
            ),
            (
                format!(
                    "{HEADER}\n{}\n{}",
                    op_line(0, 1, 0, 5),
                    op_line(0, 2, 9, 5)
                ),
                "t.jsonl:3: duplicate op id 0 (first used on line 2)",
            ),
            (
                format!(
                    "{HEADER}\n{}\n{}\n{}",
                    op_line(0, 1, 0, 5),
                    op_line(1, 1, 4, 8),
                    op_line(2, 2, 0, 5).replace("\"key\":\"k\"", "\"key\":\"\"")
                ),
                "t.jsonl:4: field `key`: must not be empty",
            ),
            (
                format!(
                    "{HEADER}\n{}\n{}\n{}",
                    op_line(2, 1, 10, 20),
                    op_line(1, 1, 0, 12),
                    op_line(1, 2, 0, 5)
                ),
                "t.jsonl:4: duplicate op id 1 (first used on line 3)",
            ),
        ];
        for (text, want) in cases {
            let err = parse(&text).expect_err(&text).to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
    }
}
