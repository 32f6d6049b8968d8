//! A borrowed view of one op, and the stores that hand them out.
//!
//! The checker's conversion reads ops through [`OpSource`], so it runs the same code on an
//! in-memory [`History`] (fuzz, tests, shrinking) and on a
//! [`CompactHistory`](super::compact::CompactHistory) read from a file (`check`), which keeps
//! every string once and builds an [`OpRef`] only while an op is looked at.

use super::format::{History, Op, Out, Req, Via};

/// One op, its strings borrowed from wherever the history keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpRef<'a> {
    pub id: u64,
    pub client: u64,
    pub key: &'a str,
    pub call_ns: u64,
    pub ret_ns: u64,
    pub req: ReqRef<'a>,
    pub out: OutRef<'a>,
}

/// [`Req`], borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReqRef<'a> {
    Get {
        if_match: Option<&'a str>,
        if_none_match: Option<&'a str>,
    },
    Head {
        if_match: Option<&'a str>,
        if_none_match: Option<&'a str>,
    },
    Put {
        write_id: Option<&'a str>,
        etag_if_applied: Option<&'a str>,
        if_match: Option<&'a str>,
        if_none_match: Option<&'a str>,
        via: Via,
        source_key: Option<&'a str>,
        initiated_ns: Option<u64>,
    },
    Delete {
        if_match: Option<&'a str>,
    },
}

/// [`Out`], borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutRef<'a> {
    Ok {
        status: u16,
        etag: Option<&'a str>,
        write_id: Option<&'a str>,
    },
    NotModified {
        etag: Option<&'a str>,
    },
    PreconditionFailed,
    NotFound {
        code: Option<&'a str>,
    },
    Conflict,
    Rejected {
        status: u16,
        code: Option<&'a str>,
    },
    Ambiguous {
        cause: &'a str,
        status: Option<u16>,
    },
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

    /// True for the requests that can change the key's state.
    pub fn is_mutation(&self) -> bool {
        matches!(self.req, ReqRef::Put { .. } | ReqRef::Delete { .. })
    }

    /// True when the effect is unknown.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self.out, OutRef::Ambiguous { .. })
    }

    /// As [`Op::conflict_span_start`].
    pub fn conflict_span_start(&self) -> u64 {
        match self.req {
            ReqRef::Put {
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
}

impl OpSource for History {
    fn len(&self) -> usize {
        self.ops.len()
    }
    fn op(&self, i: usize) -> OpRef<'_> {
        OpRef::from(&self.ops[i])
    }
}
