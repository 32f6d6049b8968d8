//! A history held the way `check` needs it: each distinct string once, and each op as a fixed
//! 72-byte record of numbers and string symbols.
//!
//! An in-memory [`History`] costs about 450 bytes per op (seven `Option<String>` slots and a
//! heap allocation per string); most of those strings repeat (every read names an ETag a write
//! produced, every write names its ETag twice). Here a string is stored once however many ops
//! name it, and an op is looked at through an [`OpRef`] built on the fly. A [`History`] is
//! rebuilt only when a witness has to be shown.

use super::format::{Header, History, Op, Out, Req, Via};
use super::view::{OpRef, OpSource, OutRef, ReqRef};
use crate::check::model::FxHashMap;

/// A string's index in [`CompactHistory::strings`]; [`NONE`] for an absent one.
type Sym = u32;
const NONE: Sym = Sym::MAX;

/// One op: numbers, the request's and the outcome's strings as symbols, and two tags.
#[derive(Debug, Clone, Copy)]
struct COp {
    id: u64,
    client: u64,
    call_ns: u64,
    ret_ns: u64,
    key: Sym,
    /// Get/Head: if_match, if_none_match; Put: write_id, etag_if_applied, if_match,
    /// if_none_match, source_key; Delete: if_match.
    req: [Sym; 5],
    /// Ok: etag, write_id; NotModified: etag; NotFound/Rejected: code; Ambiguous: cause.
    out: [Sym; 2],
    status: u16,
    req_tag: ReqTag,
    out_tag: OutTag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReqTag {
    Get,
    Head,
    Put(Via),
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutTag {
    Ok,
    NotModified,
    PreconditionFailed,
    NotFound,
    Conflict,
    Rejected,
    /// Ambiguous; `bool`: a status was recorded.
    Ambiguous(bool),
}

/// A whole history in compact form, header and ops in file order.
#[derive(Debug, Default)]
pub struct CompactHistory {
    pub header: Header,
    strings: Vec<Box<str>>,
    ops: Vec<COp>,
    /// `req.initiated_ns` of the multipart writes that recorded it, by op index.
    initiated: FxHashMap<usize, u64>,
}

/// Builds a [`CompactHistory`] op by op, interning strings as they come.
#[derive(Debug, Default)]
pub struct CompactBuilder {
    index: FxHashMap<Box<str>, Sym>,
    ops: Vec<COp>,
    initiated: FxHashMap<usize, u64>,
}

impl CompactBuilder {
    /// A builder with room for about `ops` ops.
    pub fn with_capacity(ops: usize) -> Self {
        CompactBuilder {
            index: FxHashMap::default(),
            ops: Vec::with_capacity(ops),
            initiated: FxHashMap::default(),
        }
    }

    fn sym(&mut self, s: String) -> Sym {
        if let Some(&sym) = self.index.get(s.as_str()) {
            return sym;
        }
        let sym = Sym::try_from(self.index.len()).unwrap_or(NONE - 1);
        self.index.insert(s.into_boxed_str(), sym);
        sym
    }

    fn opt(&mut self, s: Option<String>) -> Sym {
        s.map_or(NONE, |s| self.sym(s))
    }

    /// Appends an op.
    pub fn push(&mut self, op: Op) {
        let mut req = [NONE; 5];
        let req_tag = match op.req {
            Req::Get {
                if_match,
                if_none_match,
            } => {
                req[0] = self.opt(if_match);
                req[1] = self.opt(if_none_match);
                ReqTag::Get
            }
            Req::Head {
                if_match,
                if_none_match,
            } => {
                req[0] = self.opt(if_match);
                req[1] = self.opt(if_none_match);
                ReqTag::Head
            }
            Req::Put {
                write_id,
                etag_if_applied,
                if_match,
                if_none_match,
                via,
                source_key,
                initiated_ns,
            } => {
                req = [
                    self.opt(write_id),
                    self.opt(etag_if_applied),
                    self.opt(if_match),
                    self.opt(if_none_match),
                    self.opt(source_key),
                ];
                if let Some(t) = initiated_ns {
                    self.initiated.insert(self.ops.len(), t);
                }
                ReqTag::Put(via)
            }
            Req::Delete { if_match } => {
                req[0] = self.opt(if_match);
                ReqTag::Delete
            }
        };
        let mut out = [NONE; 2];
        let mut status = 0;
        let out_tag = match op.out {
            Out::Ok {
                status: s,
                etag,
                write_id,
            } => {
                status = s;
                out = [self.opt(etag), self.opt(write_id)];
                OutTag::Ok
            }
            Out::NotModified { etag } => {
                out[0] = self.opt(etag);
                OutTag::NotModified
            }
            Out::PreconditionFailed => OutTag::PreconditionFailed,
            Out::NotFound { code } => {
                out[0] = self.opt(code);
                OutTag::NotFound
            }
            Out::Conflict => OutTag::Conflict,
            Out::Rejected { status: s, code } => {
                status = s;
                out[0] = self.opt(code);
                OutTag::Rejected
            }
            Out::Ambiguous { cause, status: s } => {
                status = s.unwrap_or(0);
                out[0] = self.sym(cause);
                OutTag::Ambiguous(s.is_some())
            }
        };
        let key = self.sym(op.key);
        self.ops.push(COp {
            id: op.id,
            client: op.client,
            call_ns: op.call_ns,
            ret_ns: op.ret_ns,
            key,
            req,
            out,
            status,
            req_tag,
            out_tag,
        });
    }

    /// The finished history; the interning index is given up, so each string is held once.
    pub fn finish(self, header: Header) -> CompactHistory {
        let mut strings: Vec<Box<str>> = vec![Box::from(""); self.index.len()];
        for (s, sym) in self.index {
            strings[sym as usize] = s;
        }
        let mut ops = self.ops;
        ops.shrink_to_fit();
        CompactHistory {
            header,
            strings,
            ops,
            initiated: self.initiated,
        }
    }
}

impl From<&History> for CompactHistory {
    fn from(history: &History) -> Self {
        let mut b = CompactBuilder::with_capacity(history.ops.len());
        for op in &history.ops {
            b.push(op.clone());
        }
        b.finish(history.header.clone())
    }
}

impl CompactHistory {
    fn s(&self, sym: Sym) -> Option<&str> {
        (sym != NONE).then(|| &*self.strings[sym as usize])
    }

    /// The in-memory history with the same header and ops, for rendering witnesses.
    pub fn to_history(&self) -> History {
        History {
            header: self.header.clone(),
            ops: (0..self.ops.len()).map(|i| self.op(i).to_op()).collect(),
        }
    }

    /// Bytes held (ops, strings and their index), for the benchmark's memory figures.
    pub fn heap_bytes(&self) -> usize {
        self.ops.capacity() * std::mem::size_of::<COp>()
            + self.strings.capacity() * std::mem::size_of::<Box<str>>()
            + self.strings.iter().map(|s| s.len()).sum::<usize>()
    }
}

impl OpSource for CompactHistory {
    fn len(&self) -> usize {
        self.ops.len()
    }

    fn op(&self, i: usize) -> OpRef<'_> {
        let o = &self.ops[i];
        let r = |k: usize| self.s(o.req[k]);
        let req = match o.req_tag {
            ReqTag::Get => ReqRef::Get {
                if_match: r(0),
                if_none_match: r(1),
            },
            ReqTag::Head => ReqRef::Head {
                if_match: r(0),
                if_none_match: r(1),
            },
            ReqTag::Put(via) => ReqRef::Put {
                write_id: r(0),
                etag_if_applied: r(1),
                if_match: r(2),
                if_none_match: r(3),
                via,
                source_key: r(4),
                initiated_ns: self.initiated.get(&i).copied(),
            },
            ReqTag::Delete => ReqRef::Delete { if_match: r(0) },
        };
        let x = |k: usize| self.s(o.out[k]);
        let out = match o.out_tag {
            OutTag::Ok => OutRef::Ok {
                status: o.status,
                etag: x(0),
                write_id: x(1),
            },
            OutTag::NotModified => OutRef::NotModified { etag: x(0) },
            OutTag::PreconditionFailed => OutRef::PreconditionFailed,
            OutTag::NotFound => OutRef::NotFound { code: x(0) },
            OutTag::Conflict => OutRef::Conflict,
            OutTag::Rejected => OutRef::Rejected {
                status: o.status,
                code: x(0),
            },
            OutTag::Ambiguous(has_status) => OutRef::Ambiguous {
                cause: x(0).unwrap_or_default(),
                status: has_status.then_some(o.status),
            },
        };
        OpRef {
            id: o.id,
            client: o.client,
            key: self.s(o.key).unwrap_or_default(),
            call_ns: o.call_ns,
            ret_ns: o.ret_ns,
            req,
            out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_op_is_72_bytes_and_every_op_comes_back_as_it_went_in() {
        assert!(
            std::mem::size_of::<COp>() <= 72,
            "{}",
            std::mem::size_of::<COp>()
        );
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
        for dir in ["good", "bad"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let h = crate::history::read_history(&path).unwrap();
                let c = CompactHistory::from(&h);
                assert_eq!(c.to_history(), h, "{}", path.display());
            }
        }
    }
}
