//! The op line exactly as [`crate::history::HistoryWriter`] writes it: no spaces, fields in the
//! order of [`Op`](crate::history::Op)'s declaration, `source_key`/`initiated_ns`/`code` only
//! when present. Field names are matched as byte literals, numbers by one loop, strings eight
//! bytes at a time; anything else returns `None` and the general parser (then serde) decides.
//!
//! Every value is read by the same rules as the general parser (a number is a plain
//! non-negative integer without leading zeros, a string has only one-character escapes, a
//! status fits a u16), so a line accepted here is the very line the general parser would
//! accept, with the same fields.

use super::{Raw, RawOp};
use crate::history::compact::{OutTag, Record, ReqTag};
use crate::history::format::Via;

struct Cur<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

/// Parses `line` if it has the writer's exact shape.
pub(in crate::history) fn parse(line: &str) -> Option<RawOp<'_>> {
    parse_prefix(line).and_then(|(op, len)| (len == line.len()).then_some(op))
}

/// Parses an op of the writer's exact shape at the start of `text`, and returns it with the
/// length of its line: the op must end at a newline (which the length includes) or at the
/// end of `text`. So a block of such lines is read without looking for line ends first.
///
/// Inlined, with what it calls, into the caller that stores the op: the op is a few hundred
/// bytes, and returned through each call it was copied each time.
#[inline(always)]
pub(in crate::history) fn parse_line_at(text: &str) -> Option<(RawOp<'_>, usize)> {
    let (op, len) = parse_prefix(text)?;
    match text.as_bytes().get(len) {
        None => Some((op, len)),
        Some(b'\n') => Some((op, len + 1)),
        Some(_) => None,
    }
}

/// An op of the exact shape at the start of `text`, and its length.
#[inline(always)]
fn parse_prefix(text: &str) -> Option<(RawOp<'_>, usize)> {
    let mut c = Cur {
        s: text,
        b: text.as_bytes(),
        i: 0,
    };
    c.lit(b"{\"id\":")?;
    let id = c.num()?;
    c.lit(b",\"client\":")?;
    let client = c.num()?;
    c.lit(b",\"key\":\"")?;
    let key = c.string()?;
    c.lit(b",\"call_ns\":")?;
    let call_ns = c.num()?;
    c.lit(b",\"ret_ns\":")?;
    let ret_ns = c.num()?;
    c.lit(b",\"req\":{\"type\":\"")?;
    let (req_tag, req, initiated) = c.req()?;
    c.lit(b",\"out\":{\"type\":\"")?;
    let (out_tag, out, status) = c.out()?;
    c.lit(b"}")?;
    let rec = Record {
        id,
        client,
        call_ns,
        ret_ns,
        key: Some(key),
        req,
        out,
        status,
        req_tag,
        out_tag,
    };
    Some(((rec, initiated), c.i))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The bytes of `w` that are `"`, `\` or below 0x20, as high bits. The lowest set bit is
/// exact; bits above it may be spurious (a borrow), which the caller's byte check absorbs.
fn specials(w: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    zero(w ^ (ONES * u64::from(b'"')))
        | zero(w ^ (ONES * u64::from(b'\\')))
        | (w.wrapping_sub(ONES * 0x20) & !w & HIGHS)
}

impl<'a> Cur<'a> {
    fn lit(&mut self, l: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + l.len())? == l {
            self.i += l.len();
            Some(())
        } else {
            None
        }
    }

    /// Eats `l` if it comes next.
    fn opt_lit(&mut self, l: &[u8]) -> bool {
        self.lit(l).is_some()
    }

    /// A non-negative integer without leading zeros. Up to 19 digits always fit a u64; longer
    /// ones are left to the general parser. What follows is checked by the next literal, so a
    /// fraction or an exponent fails there.
    fn num(&mut self) -> Option<u64> {
        let start = self.i;
        let mut n: u64 = 0;
        while let Some(&c) = self.b.get(self.i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if self.i - start == 19 {
                return None;
            }
            n = n * 10 + u64::from(d);
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 || (digits > 1 && self.b[start] == b'0') {
            return None;
        }
        Some(n)
    }

    /// The rest of a string whose opening quote has been eaten.
    fn string(&mut self) -> Option<Raw<'a>> {
        let start = self.i;
        let mut escaped = false;
        loop {
            while let Some(chunk) = self.b.get(self.i..self.i + 8) {
                let w = u64::from_le_bytes(chunk.try_into().ok()?);
                let found = specials(w);
                if found != 0 {
                    self.i += (found.trailing_zeros() / 8) as usize;
                    break;
                }
                self.i += 8;
            }
            match *self.b.get(self.i)? {
                b'"' => {
                    let text = self.s.get(start..self.i)?;
                    self.i += 1;
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
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
    }

    /// `null` or a string.
    fn opt_str(&mut self) -> Option<Option<Raw<'a>>> {
        if self.opt_lit(b"null") {
            return Some(None);
        }
        self.lit(b"\"")?;
        self.string().map(Some)
    }

    /// A status: `null` or an integer that fits a u16.
    fn opt_status(&mut self) -> Option<Option<u16>> {
        if self.opt_lit(b"null") {
            return Some(None);
        }
        u16::try_from(self.num()?).ok().map(Some)
    }

    fn status(&mut self) -> Option<u16> {
        u16::try_from(self.num()?).ok()
    }

    /// The request after `"type":"`, through its closing brace.
    #[allow(clippy::type_complexity)]
    #[inline(always)]
    fn req(&mut self) -> Option<(ReqTag, [Option<Raw<'a>>; 5], Option<u64>)> {
        let read = if self.opt_lit(b"get\",\"if_match\":") {
            Some(ReqTag::Get)
        } else if self.opt_lit(b"head\",\"if_match\":") {
            Some(ReqTag::Head)
        } else {
            None
        };
        if let Some(tag) = read {
            let if_match = self.opt_str()?;
            self.lit(b",\"if_none_match\":")?;
            let if_none_match = self.opt_str()?;
            self.lit(b"}")?;
            return Some((tag, [if_match, if_none_match, None, None, None], None));
        }
        if self.opt_lit(b"delete\",\"if_match\":") {
            let if_match = self.opt_str()?;
            self.lit(b"}")?;
            return Some((ReqTag::Delete, [if_match, None, None, None, None], None));
        }
        self.lit(b"put\",\"write_id\":")?;
        let write_id = self.opt_str()?;
        self.lit(b",\"etag_if_applied\":")?;
        let etag_if_applied = self.opt_str()?;
        self.lit(b",\"if_match\":")?;
        let if_match = self.opt_str()?;
        self.lit(b",\"if_none_match\":")?;
        let if_none_match = self.opt_str()?;
        self.lit(b",\"via\":\"")?;
        let via = if self.opt_lit(b"put\"") {
            Via::Put
        } else if self.opt_lit(b"copy\"") {
            Via::Copy
        } else {
            self.lit(b"complete_multipart\"")?;
            Via::CompleteMultipart
        };
        let source_key = if self.opt_lit(b",\"source_key\":\"") {
            Some(self.string()?)
        } else {
            None
        };
        let initiated = if self.opt_lit(b",\"initiated_ns\":") {
            Some(self.num()?)
        } else {
            None
        };
        self.lit(b"}")?;
        Some((
            ReqTag::Put(via),
            [
                write_id,
                etag_if_applied,
                if_match,
                if_none_match,
                source_key,
            ],
            initiated,
        ))
    }

    /// The outcome after `"type":"`, through its closing brace.
    #[allow(clippy::type_complexity)]
    #[inline(always)]
    fn out(&mut self) -> Option<(OutTag, [Option<Raw<'a>>; 2], u16)> {
        if self.opt_lit(b"ok\",\"status\":") {
            let status = self.status()?;
            self.lit(b",\"etag\":")?;
            let etag = self.opt_str()?;
            self.lit(b",\"write_id\":")?;
            let write_id = self.opt_str()?;
            self.lit(b"}")?;
            return Some((OutTag::Ok, [etag, write_id], status));
        }
        if self.opt_lit(b"precondition_failed\"}") {
            return Some((OutTag::PreconditionFailed, [None, None], 0));
        }
        if self.opt_lit(b"not_found\"}") {
            return Some((OutTag::NotFound, [None, None], 0));
        }
        if self.opt_lit(b"not_found\",\"code\":\"") {
            let code = self.string()?;
            self.lit(b"}")?;
            return Some((OutTag::NotFound, [Some(code), None], 0));
        }
        if self.opt_lit(b"not_modified\",\"etag\":") {
            let etag = self.opt_str()?;
            self.lit(b"}")?;
            return Some((OutTag::NotModified, [etag, None], 0));
        }
        if self.opt_lit(b"conflict\"}") {
            return Some((OutTag::Conflict, [None, None], 0));
        }
        if self.opt_lit(b"rejected\",\"status\":") {
            let status = self.status()?;
            self.lit(b",\"code\":")?;
            let code = self.opt_str()?;
            self.lit(b"}")?;
            return Some((OutTag::Rejected, [code, None], status));
        }
        self.lit(b"ambiguous\",\"cause\":\"")?;
        let cause = self.string()?;
        self.lit(b",\"status\":")?;
        let status = self.opt_status()?;
        self.lit(b"}")?;
        Some((
            OutTag::Ambiguous(status.is_some()),
            [Some(cause), None],
            status.unwrap_or(0),
        ))
    }
}
