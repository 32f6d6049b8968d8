//! The fast path of the history reader: op lines of the shape [`super::HistoryWriter`] emits,
//! parsed by hand, a piece of the file at a time on every core ([`super::blocks`]).
//!
//! Two hand parsers: [`exact`] reads a line exactly as the writer writes it (field names as
//! byte literals in the writer's order), and the general one below reads the same fields in
//! any order and spacing. A line the exact parser declines goes to the general one.
//!
//! Every file is still read exactly as serde would read it: a line this parser does not
//! recognise in full (an escape in a string, a field it does not expect, a number that is not
//! a plain non-negative integer, a duplicate field, anything malformed) is handed to the serde
//! reader, which accepts it or names the line and field at fault as before. The fast parser
//! only ever accepts lines that serde would parse to the very same [`Op`].
//!
//! Why by hand: serde_json's derived deserializer for the internally tagged `req`/`out` enums
//! buffers each object into a generic value first, which made reading cost more than checking.
//!
//! The parser leaves strings in the line ([`Raw`]), escapes in: the compact reader interns
//! them by that text and unescapes a string only when it is new, so a line costs no allocation.

use std::borrow::Cow;

mod exact;

pub(super) use exact::parse_line_at;

use super::compact::{OutTag, Record, ReqTag};
use super::format::{Op, Via};

/// A JSON string as it stands in the line: the text between its quotes, escapes still in.
/// The parser has checked every escape, so unescaping cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Raw<'a> {
    text: &'a str,
    escaped: bool,
    /// Where `text` starts in the line, so a part of the file can name it by its place.
    pos: usize,
}

impl<'a> Raw<'a> {
    /// The text between the quotes, as written.
    pub(super) fn text(&self) -> &'a str {
        self.text
    }

    /// Where the text starts in the line it was parsed from.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// True when the text holds an escape (its value differs from the text).
    pub(super) fn escaped(&self) -> bool {
        self.escaped
    }

    /// Appends the string's value to `out`.
    pub(super) fn unescape_into(&self, out: &mut String) {
        if !self.escaped {
            out.push_str(self.text);
            return;
        }
        let mut rest = self.text;
        while let Some(i) = rest.find('\\') {
            out.push_str(&rest[..i]);
            // Only the one-character escapes get here (see `Parser::raw`).
            out.push(match rest.as_bytes().get(i + 1) {
                Some(b'b') => '\u{8}',
                Some(b'f') => '\u{c}',
                Some(b'n') => '\n',
                Some(b'r') => '\r',
                Some(b't') => '\t',
                Some(&c) => char::from(c),
                None => break,
            });
            rest = rest.get(i + 2..).unwrap_or_default();
        }
        out.push_str(rest);
    }

    /// The string's value, borrowed when it has no escapes.
    pub(super) fn unescape(&self) -> Cow<'a, str> {
        if !self.escaped {
            return Cow::Borrowed(self.text);
        }
        let mut s = String::with_capacity(self.text.len());
        self.unescape_into(&mut s);
        Cow::Owned(s)
    }
}

/// One op line as parsed: numbers and tags read, strings left in the line.
pub(super) type RawOp<'a> = (Record<Option<Raw<'a>>>, Option<u64>);

/// Parses one op line, or `None` when it is anything but the plain shape (the caller then
/// asks serde, which decides). The exact shape the writer emits is read first, field names as
/// byte literals in the writer's order; any other arrangement (spaces, another field order)
/// goes through the general parser below, which reads the same values.
pub(super) fn parse_raw(line: &str) -> Option<RawOp<'_>> {
    exact::parse(line).or_else(|| general(line))
}

fn general(line: &str) -> Option<RawOp<'_>> {
    let mut p = Parser {
        s: line,
        b: line.as_bytes(),
        i: 0,
    };
    let op = p.op()?;
    p.ws();
    (p.i == p.b.len()).then_some(op)
}

/// Parses one op line into an owned [`Op`], as [`parse_raw`] decides.
pub(super) fn parse_op_line(line: &str) -> Option<Op> {
    let (rec, initiated) = parse_raw(line)?;
    let values = rec.map(|r| r.map(|r| r.unescape()));
    Some(values.view(|v| v.as_deref(), initiated).to_op())
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

/// The fields of an op line, before they are checked for completeness.
#[derive(Default)]
struct OpFields<'a> {
    id: Option<u64>,
    client: Option<u64>,
    key: Option<Raw<'a>>,
    call_ns: Option<u64>,
    ret_ns: Option<u64>,
    req: Option<(ReqTag, [Option<Raw<'a>>; 5], Option<u64>)>,
    out: Option<(OutTag, [Option<Raw<'a>>; 2], u16)>,
}

/// A JSON value of the kinds op lines hold.
enum Val<'a> {
    Null,
    Num(u64),
    Str(Raw<'a>),
}

impl<'a> Val<'a> {
    fn opt_str(self) -> Option<Option<Raw<'a>>> {
        match self {
            Val::Null => Some(None),
            Val::Str(s) => Some(Some(s)),
            Val::Num(_) => None,
        }
    }
    fn opt_num(self) -> Option<Option<u64>> {
        match self {
            Val::Null => Some(None),
            Val::Num(n) => Some(Some(n)),
            Val::Str(_) => None,
        }
    }
}

/// Sets a field once; a second occurrence sends the line to serde.
fn set<T>(slot: &mut Option<T>, v: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(v);
    Some(())
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// A string without escapes (names and tags; anything else is read by [`Self::raw`]).
    fn str_slice(&mut self) -> Option<&'a str> {
        let r = self.raw()?;
        (!r.escaped).then_some(r.text)
    }

    /// A string value, left in the line. ETags are recorded with their quotes, so `\"` is the
    /// common escape; `\u` escapes are left to serde.
    fn raw(&mut self) -> Option<Raw<'a>> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            let rest = &self.b[self.i..];
            let len = rest
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            self.i += len;
            match self.b[self.i] {
                b'"' => {
                    self.i += 1;
                    // The line is a `str` and `"` is ASCII, so the slice is on char boundaries.
                    let text = self.s.get(start..self.i - 1)?;
                    return Some(Raw {
                        text,
                        escaped,
                        pos: start,
                    });
                }
                b'\\' => match self.b.get(self.i + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                        escaped = true;
                        self.i += 2;
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
    }

    /// A non-negative integer in JSON's syntax (no leading zeros) that fits a u64.
    fn num(&mut self) -> Option<u64> {
        self.ws();
        let start = self.i;
        let mut n: u64 = 0;
        while let Some(&c) = self.b.get(self.i) {
            if !c.is_ascii_digit() {
                break;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 || (digits > 1 && self.b[start] == b'0') {
            return None;
        }
        // A fraction or exponent makes it a float, which serde refuses for an integer field.
        match self.b.get(self.i) {
            Some(b'.' | b'e' | b'E') => None,
            _ => Some(n),
        }
    }

    fn val(&mut self) -> Option<Val<'a>> {
        match self.peek()? {
            b'"' => self.raw().map(Val::Str),
            b'n' => {
                if self.b[self.i..].starts_with(b"null") {
                    self.i += 4;
                    Some(Val::Null)
                } else {
                    None
                }
            }
            b'0'..=b'9' => self.num().map(Val::Num),
            _ => None,
        }
    }

    /// Calls `field` for every member of an object; `field` reads the value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let name = self.str_slice()?;
            self.eat(b':')?;
            field(self, name)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn op(&mut self) -> Option<RawOp<'a>> {
        let mut f = OpFields::default();
        self.object(|p, name| match name {
            "id" => set(&mut f.id, p.num()?),
            "client" => set(&mut f.client, p.num()?),
            "key" => set(&mut f.key, p.raw()?),
            "call_ns" => set(&mut f.call_ns, p.num()?),
            "ret_ns" => set(&mut f.ret_ns, p.num()?),
            "req" => set(&mut f.req, p.req()?),
            "out" => set(&mut f.out, p.out()?),
            _ => None,
        })?;
        let (req_tag, req, initiated) = f.req?;
        let (out_tag, out, status) = f.out?;
        let rec = Record {
            id: f.id?,
            client: f.client?,
            call_ns: f.call_ns?,
            ret_ns: f.ret_ns?,
            key: Some(f.key?),
            req,
            out,
            status,
            req_tag,
            out_tag,
        };
        Some((rec, initiated))
    }

    /// The members of a tagged object: its `type` and its other fields by name, each once.
    fn tagged<const N: usize>(
        &mut self,
        names: &[&str; N],
    ) -> Option<(&'a str, [Option<Val<'a>>; N])> {
        let mut ty: Option<&'a str> = None;
        let mut vals: [Option<Val<'a>>; N] = std::array::from_fn(|_| None);
        self.object(|p, name| {
            if name == "type" {
                return set(&mut ty, p.str_slice()?);
            }
            let slot = names.iter().position(|n| *n == name)?;
            set(&mut vals[slot], p.val()?)
        })?;
        Some((ty?, vals))
    }

    /// The request: its tag, its strings in [`Record::req`]'s order, and `initiated_ns`.
    #[allow(clippy::type_complexity)]
    fn req(&mut self) -> Option<(ReqTag, [Option<Raw<'a>>; 5], Option<u64>)> {
        const NAMES: [&str; 7] = [
            "if_match",
            "if_none_match",
            "write_id",
            "etag_if_applied",
            "via",
            "source_key",
            "initiated_ns",
        ];
        let (
            ty,
            [
                if_match,
                if_none_match,
                write_id,
                etag_if_applied,
                via,
                source_key,
                initiated,
            ],
        ) = self.tagged(&NAMES)?;
        let opt_str = |v: Option<Val<'a>>| v.map_or(Some(None), Val::opt_str);
        let if_match = opt_str(if_match)?;
        let if_none_match = opt_str(if_none_match)?;
        let put_only = [&write_id, &etag_if_applied, &via, &source_key, &initiated];
        let no_put_fields = put_only.iter().all(|v| v.is_none());
        let req = match ty {
            "get" if no_put_fields => (
                ReqTag::Get,
                [if_match, if_none_match, None, None, None],
                None,
            ),
            "head" if no_put_fields => (
                ReqTag::Head,
                [if_match, if_none_match, None, None, None],
                None,
            ),
            "delete" if if_none_match.is_none() && no_put_fields => {
                // `if_none_match` on a delete is a field serde ignores: only null or absent is
                // the same line either way, and absent vs null cannot be told apart here.
                (ReqTag::Delete, [if_match, None, None, None, None], None)
            }
            "put" => {
                let via = match via? {
                    Val::Str(s) if !s.escaped && s.text == "put" => Via::Put,
                    Val::Str(s) if !s.escaped && s.text == "copy" => Via::Copy,
                    Val::Str(s) if !s.escaped && s.text == "complete_multipart" => {
                        Via::CompleteMultipart
                    }
                    _ => return None,
                };
                (
                    ReqTag::Put(via),
                    [
                        opt_str(write_id)?,
                        opt_str(etag_if_applied)?,
                        if_match,
                        if_none_match,
                        opt_str(source_key)?,
                    ],
                    initiated.map_or(Some(None), Val::opt_num)?,
                )
            }
            _ => return None,
        };
        Some(req)
    }

    /// The outcome: its tag, its strings in [`Record::out`]'s order, and its status (0 when
    /// none was recorded).
    #[allow(clippy::type_complexity)]
    fn out(&mut self) -> Option<(OutTag, [Option<Raw<'a>>; 2], u16)> {
        const NAMES: [&str; 5] = ["status", "etag", "write_id", "code", "cause"];
        let (ty, [status, etag, write_id, code, cause]) = self.tagged(&NAMES)?;
        let opt_str = |v: Option<Val<'a>>| v.map_or(Some(None), Val::opt_str);
        let status16 = |v: Option<Val>| -> Option<Option<u16>> {
            match v {
                None | Some(Val::Null) => Some(None),
                Some(Val::Num(n)) => u16::try_from(n).ok().map(Some),
                Some(Val::Str(_)) => None,
            }
        };
        let none = |vs: &[&Option<Val>]| vs.iter().all(|v| v.is_none());
        let out = match ty {
            "ok" if none(&[&code, &cause]) => (
                OutTag::Ok,
                [opt_str(etag)?, opt_str(write_id)?],
                status16(status)??,
            ),
            "not_modified" if none(&[&status, &write_id, &code, &cause]) => {
                (OutTag::NotModified, [opt_str(etag)?, None], 0)
            }
            "precondition_failed" if none(&[&status, &etag, &write_id, &code, &cause]) => {
                (OutTag::PreconditionFailed, [None, None], 0)
            }
            "not_found" if none(&[&status, &etag, &write_id, &cause]) => {
                (OutTag::NotFound, [opt_str(code)?, None], 0)
            }
            "conflict" if none(&[&status, &etag, &write_id, &code, &cause]) => {
                (OutTag::Conflict, [None, None], 0)
            }
            "rejected" if none(&[&etag, &write_id, &cause]) => {
                (OutTag::Rejected, [opt_str(code)?, None], status16(status)??)
            }
            "ambiguous" if none(&[&etag, &write_id, &code]) => {
                let cause = match cause? {
                    Val::Str(s) => s,
                    _ => return None,
                };
                let status = status16(status)?;
                (
                    OutTag::Ambiguous(status.is_some()),
                    [Some(cause), None],
                    status.unwrap_or(0),
                )
            }
            _ => return None,
        };
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(line: &str) -> (Option<Op>, Option<Op>) {
        (parse_op_line(line), serde_json::from_str::<Op>(line).ok())
    }

    #[test]
    fn accepted_lines_parse_as_serde_parses_them() {
        let lines = [
            r#"{"id":0,"client":3,"key":"k0","call_ns":1200,"ret_ns":5400,"req":{"type":"put","write_id":"w0","etag_if_applied":"\"9e10\"","if_match":null,"if_none_match":"*","via":"put"},"out":{"type":"ok","status":200,"etag":"\"9e10\"","write_id":null}}"#,
            r#"{"id":1,"client":4,"key":"k0","call_ns":6000,"ret_ns":7000,"req":{"type":"get","if_match":null,"if_none_match":null},"out":{"type":"ok","status":200,"etag":"\"9e10\"","write_id":"w0"}}"#,
            r#"{"id":2,"client":5,"key":"k0","call_ns":6100,"ret_ns":9000,"req":{"type":"delete","if_match":"\"9e10\""},"out":{"type":"ambiguous","cause":"timeout","status":null}}"#,
            r#"{"id":4,"client":1,"key":"k","call_ns":900,"ret_ns":950,"req":{"type":"put","write_id":"w4","etag_if_applied":null,"if_match":null,"if_none_match":"*","via":"complete_multipart","initiated_ns":100},"out":{"type":"not_found","code":"NoSuchUpload"}}"#,
            r#" { "id" : 5 , "client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"head"},"out":{"type":"not_modified"} } "#,
            r#"{"out":{"type":"rejected","status":501,"code":null},"req":{"type":"put","via":"copy","source_key":"s"},"ret_ns":1,"call_ns":0,"key":"k","client":1,"id":6}"#,
            r#"{"id":7,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"delete"},"out":{"type":"precondition_failed"}}"#,
            r#"{"id":8,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"delete"},"out":{"type":"conflict"}}"#,
            r#"{"id":10,"client":1,"key":"a\"\\\/\n\tb","call_ns":0,"ret_ns":1,"req":{"type":"get"},"out":{"type":"not_found"}}"#,
            r#"{"id":9,"client":1,"key":"ké","call_ns":0,"ret_ns":1,"req":{"type":"get"},"out":{"type":"ambiguous","cause":"5xx","status":503}}"#,
        ];
        for line in lines {
            let (fast, serde) = both(line);
            assert!(fast.is_some(), "{line}");
            assert_eq!(fast, serde, "{line}");
        }
    }

    /// The op a parse gives, for comparing two parses.
    fn op_of(raw: Option<RawOp<'_>>) -> Option<Op> {
        let (rec, initiated) = raw?;
        let values = rec.map(|r| r.map(|r| r.unescape()));
        Some(values.view(|v| v.as_deref(), initiated).to_op())
    }

    #[test]
    fn every_line_the_writer_writes_takes_the_exact_path_and_reads_as_the_general_parser_reads_it()
    {
        use crate::bench::{Bug, GenConfig, generate_seeded};
        use crate::history::format::{Out, Req};
        let mut ops: Vec<Op> = Vec::new();
        for (i, bug) in [None, Some(Bug::LostUpdate)].into_iter().enumerate() {
            let cfg = GenConfig {
                writers: 4,
                ops: 3000,
                keys: 3,
                ambiguous_rate: 0.1,
                blind_rate: 0.1,
                delete_rate: 0.1,
                bug,
                ..GenConfig::default()
            };
            ops.extend(generate_seeded(&cfg, i as u64).ops);
        }
        // Every shape the format has, escapes and large numbers included.
        let base = ops[0].clone();
        let with = |req: Req, out: Out| Op {
            req,
            out,
            ..base.clone()
        };
        let put = |via, source_key: Option<&str>, initiated_ns| Req::Put {
            write_id: Some("w\"1".into()),
            etag_if_applied: None,
            if_match: Some("\"e\"".into()),
            if_none_match: Some("*".into()),
            via,
            source_key: source_key.map(String::from),
            initiated_ns,
        };
        ops.extend([
            with(put(Via::Copy, Some("src/\u{1}"), None), Out::Conflict),
            with(
                put(
                    Via::CompleteMultipart,
                    None,
                    Some(9_999_999_999_999_999_999),
                ),
                Out::NotFound {
                    code: Some("NoSuchUpload".into()),
                },
            ),
            with(
                Req::Head {
                    if_match: None,
                    if_none_match: Some("\"é\"".into()),
                },
                Out::NotModified { etag: None },
            ),
            with(
                Req::Delete { if_match: None },
                Out::Rejected {
                    status: 501,
                    code: None,
                },
            ),
            with(
                Req::Get {
                    if_match: None,
                    if_none_match: None,
                },
                Out::Ambiguous {
                    cause: "5xx\n".into(),
                    status: Some(503),
                },
            ),
            Op {
                id: 9_999_999_999_999_999_999,
                call_ns: 0,
                key: "k\\\t".into(),
                ..with(
                    Req::Delete {
                        if_match: Some("x".into()),
                    },
                    Out::PreconditionFailed,
                )
            },
        ]);
        let (mut verbs, mut outs) = (
            std::collections::HashSet::new(),
            std::collections::HashSet::new(),
        );
        for op in &ops {
            let line = serde_json::to_string(op).unwrap();
            let exact = exact::parse(&line);
            verbs.insert(op.req.verb());
            outs.insert(std::mem::discriminant(&op.out));
            if line.contains("\\u") {
                // serde writes a control character as \u; the general parser leaves it to serde.
                assert!(exact.is_none(), "{line}");
                continue;
            }
            let exact = op_of(exact);
            assert_eq!(exact.as_ref(), Some(op), "{line}");
            assert_eq!(exact, op_of(general(&line)), "{line}");
        }
        assert_eq!((verbs.len(), outs.len()), (6, 7), "{verbs:?}");
    }

    #[test]
    fn the_exact_path_leaves_any_other_arrangement_to_the_general_parser() {
        let exact_ok = r#"{"id":1,"client":4,"key":"k0","call_ns":6000,"ret_ns":7000,"req":{"type":"get","if_match":null,"if_none_match":null},"out":{"type":"ok","status":200,"etag":"\"9e10\"","write_id":"w0"}}"#;
        assert!(exact::parse(exact_ok).is_some());
        let general_only = [
            // Spaces, another field order, a field left out, a null the writer skips.
            exact_ok.replace(":", ": "),
            exact_ok.replace(r#""id":1,"client":4"#, r#""client":4,"id":1"#),
            exact_ok.replace(r#","write_id":"w0""#, ""),
            exact_ok.replace(
                r#"{"type":"ok","status":200,"etag":"\"9e10\"","write_id":"w0"}"#,
                r#"{"type":"not_found","code":null}"#,
            ),
        ];
        for line in &general_only {
            assert!(exact::parse(line).is_none(), "{line}");
            assert_eq!(
                op_of(general(line)),
                serde_json::from_str::<Op>(line).ok(),
                "{line}"
            );
        }
        let neither = [
            exact_ok.replace("\"id\":1", "\"id\":01"),
            exact_ok.replace("\"id\":1", "\"id\":1.5"),
            exact_ok.replace("\"id\":1", "\"id\":1e3"),
            exact_ok.replace("\"id\":1", "\"id\":99999999999999999999"),
            exact_ok.replace("\"id\":1", "\"id\":-1"),
            exact_ok.replace("\"status\":200", "\"status\":70000"),
            exact_ok.replace("k0", "k\u{1}0"),
            exact_ok.replace("k0", "k\\u00410"),
            exact_ok.replace("k0", "k\\x0"),
            format!("{exact_ok}x"),
            exact_ok[..exact_ok.len() - 1].to_string(),
        ];
        for line in &neither {
            assert!(exact::parse(line).is_none(), "{line}");
            assert!(general(line).is_none(), "{line}");
        }
        // 20 digits: too long for the exact path, read by the general one when it fits.
        let big = exact_ok.replace("\"id\":1", "\"id\":10000000000000000000");
        assert!(exact::parse(&big).is_none());
        assert_eq!(op_of(general(&big)), serde_json::from_str::<Op>(&big).ok());
    }

    #[test]
    fn anything_unusual_goes_to_serde() {
        let lines = [
            // A \\u escape, a float, a negative number, a leading zero, a huge number.
            r#"{"id":0,"client":1,"key":"a\u0041b","call_ns":0,"ret_ns":1,"req":{"type":"get"},"out":{"type":"not_found"}}"#,
            r#"{"id":0,"client":1,"key":"k","call_ns":1.0,"ret_ns":1,"req":{"type":"get"},"out":{"type":"not_found"}}"#,
            r#"{"id":-1,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"get"},"out":{"type":"not_found"}}"#,
            r#"{"id":01,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"get"},"out":{"type":"not_found"}}"#,
            r#"{"id":99999999999999999999,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"get"},"out":{"type":"not_found"}}"#,
            // An unknown field, a duplicate field, a missing field, a wrong type.
            r#"{"id":0,"client":1,"key":"k","call_ns":0,"ret_ns":1,"extra":1,"req":{"type":"get"},"out":{"type":"not_found"}}"#,
            r#"{"id":0,"id":1,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"get"},"out":{"type":"not_found"}}"#,
            r#"{"id":0,"client":1,"key":"k","ret_ns":1,"req":{"type":"get"},"out":{"type":"not_found"}}"#,
            r#"{"id":0,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"get","if_match":7},"out":{"type":"not_found"}}"#,
            r#"{"id":0,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"got"},"out":{"type":"not_found"}}"#,
            r#"{"id":0,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"get"},"out":{"type":"ok","status":70000}}"#,
            r#"{"id":0,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"get"},"out":{"type":"ok"}}"#,
            // Truncated, trailing garbage.
            r#"{"id":0,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"get""#,
            r#"{"id":0,"client":1,"key":"k","call_ns":0,"ret_ns":1,"req":{"type":"get"},"out":{"type":"not_found"}} x"#,
        ];
        for line in lines {
            assert_eq!(parse_op_line(line), None, "{line}");
        }
    }
}
