//! A borrowed view of one op, and the stores that hand them out.
//!
//! The checker's conversion reads ops through [`OpSource`], so it runs the same code on an
//! in-memory [`History`] (fuzz, tests, shrinking) and on a
//! [`CompactHistory`](super::compact::CompactHistory) read from a file (`check`), which keeps
//! every string once and builds an [`OpRef`] only while an op is looked at.
//!
//! An op can be viewed with its strings as text ([`OpRef`]) or as symbols of the store
//! ([`OpSym`], from [`OpSource::symbols`]): equal strings have equal symbols, so the
//! conversion groups, compares and numbers strings without reading or hashing their text. A
//! compact history's records already are symbols; an in-memory history's strings are numbered
//! once ([`SymTable`]).

use std::sync::Arc;

use super::compact::CompactHistory;
use super::format::{History, Op, Out, Req, Via};
use crate::check::model::FxHashMap;

/// One op, its strings as `S`: borrowed text ([`OpRef`]) or the store's symbols ([`OpSym`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpView<S> {
    pub id: u64,
    pub client: u64,
    pub key: S,
    pub call_ns: u64,
    pub ret_ns: u64,
    pub req: ReqView<S>,
    pub out: OutView<S>,
}

/// [`Req`], its strings as `S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReqView<S> {
    Get {
        if_match: Option<S>,
        if_none_match: Option<S>,
    },
    Head {
        if_match: Option<S>,
        if_none_match: Option<S>,
    },
    Put {
        write_id: Option<S>,
        etag_if_applied: Option<S>,
        if_match: Option<S>,
        if_none_match: Option<S>,
        via: Via,
        source_key: Option<S>,
        initiated_ns: Option<u64>,
    },
    Delete {
        if_match: Option<S>,
    },
}

/// [`Out`], its strings as `S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutView<S> {
    Ok {
        status: u16,
        etag: Option<S>,
        write_id: Option<S>,
    },
    NotModified {
        etag: Option<S>,
    },
    PreconditionFailed,
    NotFound {
        code: Option<S>,
    },
    Conflict,
    Rejected {
        status: u16,
        code: Option<S>,
    },
    Ambiguous {
        cause: S,
        status: Option<u16>,
    },
}

/// One op, its strings borrowed from wherever the history keeps them.
pub type OpRef<'a> = OpView<&'a str>;
/// [`Req`], borrowed.
pub type ReqRef<'a> = ReqView<&'a str>;
/// [`Out`], borrowed.
pub type OutRef<'a> = OutView<&'a str>;

/// One op with its strings as symbols of its store.
pub type OpSym = OpView<StrSym>;

/// A string of one store, by number: within a store, two ops name the same string exactly when
/// they name the same symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrSym(u32);

impl StrSym {
    /// What a field every op has (its key, an ambiguous outcome's cause) reads as where a store
    /// holds none, as the text view reads it as "": never the symbol of a string.
    pub const NONE: StrSym = StrSym(u32::MAX);

    pub(super) fn new(i: u32) -> StrSym {
        StrSym(i)
    }

    /// The symbol's index among the store's strings; `None` for [`StrSym::NONE`].
    pub fn index(self) -> Option<usize> {
        (self != StrSym::NONE).then_some(self.0 as usize)
    }
}

impl Default for StrSym {
    fn default() -> Self {
        StrSym::NONE
    }
}

impl<'a> From<&'a Op> for OpRef<'a> {
    fn from(op: &'a Op) -> Self {
        let s = |v: &'a Option<String>| v.as_deref();
        let req = match &op.req {
            Req::Get {
                if_match,
                if_none_match,
            } => ReqRef::Get {
                if_match: s(if_match),
                if_none_match: s(if_none_match),
            },
            Req::Head {
                if_match,
                if_none_match,
            } => ReqRef::Head {
                if_match: s(if_match),
                if_none_match: s(if_none_match),
            },
            Req::Put {
                write_id,
                etag_if_applied,
                if_match,
                if_none_match,
                via,
                source_key,
                initiated_ns,
            } => ReqRef::Put {
                write_id: s(write_id),
                etag_if_applied: s(etag_if_applied),
                if_match: s(if_match),
                if_none_match: s(if_none_match),
                via: *via,
                source_key: s(source_key),
                initiated_ns: *initiated_ns,
            },
            Req::Delete { if_match } => ReqRef::Delete {
                if_match: s(if_match),
            },
        };
        let out = match &op.out {
            Out::Ok {
                status,
                etag,
                write_id,
            } => OutRef::Ok {
                status: *status,
                etag: s(etag),
                write_id: s(write_id),
            },
            Out::NotModified { etag } => OutRef::NotModified { etag: s(etag) },
            Out::PreconditionFailed => OutRef::PreconditionFailed,
            Out::NotFound { code } => OutRef::NotFound { code: s(code) },
            Out::Conflict => OutRef::Conflict,
            Out::Rejected { status, code } => OutRef::Rejected {
                status: *status,
                code: s(code),
            },
            Out::Ambiguous { cause, status } => OutRef::Ambiguous {
                cause,
                status: *status,
            },
        };
        OpRef {
            id: op.id,
            client: op.client,
            key: &op.key,
            call_ns: op.call_ns,
            ret_ns: op.ret_ns,
            req,
            out,
        }
    }
}

impl OpRef<'_> {
    /// The owned op, for the rare places that render or keep one.
    pub fn to_op(&self) -> Op {
        let s = |v: Option<&str>| v.map(str::to_string);
        let req = match self.req {
            ReqRef::Get {
                if_match,
                if_none_match,
            } => Req::Get {
                if_match: s(if_match),
                if_none_match: s(if_none_match),
            },
            ReqRef::Head {
                if_match,
                if_none_match,
            } => Req::Head {
                if_match: s(if_match),
                if_none_match: s(if_none_match),
            },
            ReqRef::Put {
                write_id,
                etag_if_applied,
                if_match,
                if_none_match,
                via,
                source_key,
                initiated_ns,
            } => Req::Put {
                write_id: s(write_id),
                etag_if_applied: s(etag_if_applied),
                if_match: s(if_match),
                if_none_match: s(if_none_match),
                via,
                source_key: s(source_key),
                initiated_ns,
            },
            ReqRef::Delete { if_match } => Req::Delete {
                if_match: s(if_match),
            },
        };
        let out = match self.out {
            OutRef::Ok {
                status,
                etag,
                write_id,
            } => Out::Ok {
                status,
                etag: s(etag),
                write_id: s(write_id),
            },
            OutRef::NotModified { etag } => Out::NotModified { etag: s(etag) },
            OutRef::PreconditionFailed => Out::PreconditionFailed,
            OutRef::NotFound { code } => Out::NotFound { code: s(code) },
            OutRef::Conflict => Out::Conflict,
            OutRef::Rejected { status, code } => Out::Rejected {
                status,
                code: s(code),
            },
            OutRef::Ambiguous { cause, status } => Out::Ambiguous {
                cause: cause.to_string(),
                status,
            },
        };
        Op {
            id: self.id,
            client: self.client,
            key: self.key.to_string(),
            call_ns: self.call_ns,
            ret_ns: self.ret_ns,
            req,
            out,
        }
    }
}

impl<S: Copy> OpView<S> {
    /// True for the requests that can change the key's state.
    pub fn is_mutation(&self) -> bool {
        matches!(self.req, ReqView::Put { .. } | ReqView::Delete { .. })
    }

    /// True when the effect is unknown.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self.out, OutView::Ambiguous { .. })
    }

    /// As [`Op::conflict_span_start`].
    pub fn conflict_span_start(&self) -> u64 {
        match self.req {
            ReqView::Put {
                initiated_ns: Some(t),
                ..
            } => t.min(self.call_ns),
            _ => self.call_ns,
        }
    }
}

/// Ops by index, in file order: a [`History`] or a compact one.
pub trait OpSource: Sync {
    /// The number of ops.
    fn len(&self) -> usize;
    /// True without ops.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Op `i`, borrowed from the store.
    fn op(&self, i: usize) -> OpRef<'_>;
    /// The ops with their strings as symbols, and the strings by symbol.
    fn symbols(&self) -> Symbols<'_>;
}

impl OpSource for History {
    fn len(&self) -> usize {
        self.ops.len()
    }
    fn op(&self, i: usize) -> OpRef<'_> {
        OpRef::from(&self.ops[i])
    }
    fn symbols(&self) -> Symbols<'_> {
        Symbols::Table(SymTable::new(self))
    }
}

/// A store's strings by symbol, as a handle the per-key form keeps to name its ETags and write
/// ids without a copy of their text.
#[derive(Clone)]
pub enum StrTable<'h> {
    /// A compact history's strings.
    Compact(&'h CompactHistory),
    /// An in-memory history's strings, numbered by a [`SymTable`].
    Table(Arc<[&'h str]>),
}

impl<'h> StrTable<'h> {
    /// The text of a symbol ("" for [`StrSym::NONE`], as the text view reads an absent key).
    #[inline]
    pub fn str(&self, s: StrSym) -> &'h str {
        match self {
            StrTable::Compact(c) => c.string(s),
            StrTable::Table(t) => s.index().map_or("", |i| t[i]),
        }
    }
}

impl Default for StrTable<'_> {
    fn default() -> Self {
        StrTable::Table(Arc::from(Vec::new()))
    }
}

impl std::fmt::Debug for StrTable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StrTable::Compact(_) => "StrTable::Compact",
            StrTable::Table(_) => "StrTable::Table",
        })
    }
}

/// A store's ops as symbols and its strings by symbol.
pub enum Symbols<'h> {
    /// A compact history: its records are symbols already.
    Compact(&'h CompactHistory),
    /// An in-memory history, its strings numbered once.
    Table(SymTable<'h>),
}

impl<'h> Symbols<'h> {
    /// The number of ops.
    pub fn len(&self) -> usize {
        match self {
            Symbols::Compact(c) => c.len(),
            Symbols::Table(t) => t.ops.len(),
        }
    }

    /// True without ops.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Op `i` with its strings as symbols.
    #[inline]
    pub fn op(&self, i: usize) -> OpSym {
        match self {
            Symbols::Compact(c) => c.sym_op(i),
            Symbols::Table(t) => t.ops[i],
        }
    }

    /// The text of a symbol ("" for [`StrSym::NONE`], as the text view reads an absent key).
    pub fn str(&self, s: StrSym) -> &'h str {
        match self {
            Symbols::Compact(c) => c.string(s),
            Symbols::Table(t) => s.index().map_or("", |i| t.strings[i]),
        }
    }

    /// The strings, as a handle to keep.
    pub fn table(&self) -> StrTable<'h> {
        match self {
            Symbols::Compact(c) => StrTable::Compact(c),
            Symbols::Table(t) => StrTable::Table(t.strings.clone()),
        }
    }

    /// The number of distinct strings: every symbol's index is below it.
    pub fn strings(&self) -> usize {
        match self {
            Symbols::Compact(c) => c.string_count(),
            Symbols::Table(t) => t.strings.len(),
        }
    }
}

/// An in-memory history's ops with its strings numbered, each distinct string once and in
/// order of first appearance, as a compact history numbers them; the strings stay the
/// history's.
pub struct SymTable<'h> {
    ops: Vec<OpSym>,
    strings: Arc<[&'h str]>,
}

impl<'h> SymTable<'h> {
    /// Numbers the history's strings: one hash per string an op names.
    pub fn new(history: &'h History) -> Self {
        Self::of_ops(history.ops.iter())
    }

    /// Numbers the strings of some ops (a candidate sub-history borrowed from a larger one).
    pub fn of_ops(ops: impl Iterator<Item = &'h Op>) -> Self {
        let mut index: FxHashMap<&'h str, StrSym> = FxHashMap::default();
        let mut strings: Vec<&'h str> = Vec::new();
        let mut sym = |s: &'h str| {
            *index.entry(s).or_insert_with(|| {
                strings.push(s);
                StrSym::new(u32::try_from(strings.len() - 1).unwrap_or(u32::MAX - 1))
            })
        };
        let ops = ops.map(|op| OpRef::from(op).map(&mut sym)).collect();
        SymTable {
            ops,
            strings: strings.into(),
        }
    }
}

impl<'a> OpRef<'a> {
    /// The same op with each string mapped by `f`, in the order a compact record keeps them
    /// (key, the request's, the outcome's).
    fn map<T>(&self, mut f: impl FnMut(&'a str) -> T) -> OpView<T> {
        let key = f(self.key);
        let req = match self.req {
            ReqView::Get {
                if_match,
                if_none_match,
            } => ReqView::Get {
                if_match: if_match.map(&mut f),
                if_none_match: if_none_match.map(&mut f),
            },
            ReqView::Head {
                if_match,
                if_none_match,
            } => ReqView::Head {
                if_match: if_match.map(&mut f),
                if_none_match: if_none_match.map(&mut f),
            },
            ReqView::Put {
                write_id,
                etag_if_applied,
                if_match,
                if_none_match,
                via,
                source_key,
                initiated_ns,
            } => ReqView::Put {
                write_id: write_id.map(&mut f),
                etag_if_applied: etag_if_applied.map(&mut f),
                if_match: if_match.map(&mut f),
                if_none_match: if_none_match.map(&mut f),
                via,
                source_key: source_key.map(&mut f),
                initiated_ns,
            },
            ReqView::Delete { if_match } => ReqView::Delete {
                if_match: if_match.map(&mut f),
            },
        };
        let out = match self.out {
            OutView::Ok {
                status,
                etag,
                write_id,
            } => OutView::Ok {
                status,
                etag: etag.map(&mut f),
                write_id: write_id.map(&mut f),
            },
            OutView::NotModified { etag } => OutView::NotModified {
                etag: etag.map(&mut f),
            },
            OutView::PreconditionFailed => OutView::PreconditionFailed,
            OutView::NotFound { code } => OutView::NotFound {
                code: code.map(&mut f),
            },
            OutView::Conflict => OutView::Conflict,
            OutView::Rejected { status, code } => OutView::Rejected {
                status,
                code: code.map(&mut f),
            },
            OutView::Ambiguous { cause, status } => OutView::Ambiguous {
                cause: f(cause),
                status,
            },
        };
        OpView {
            id: self.id,
            client: self.client,
            key,
            call_ns: self.call_ns,
            ret_ns: self.ret_ns,
            req,
            out,
        }
    }
}
