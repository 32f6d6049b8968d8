//! A history held the way `check` needs it: each distinct string once, and each op as a fixed
//! 72-byte record of numbers and string symbols.
//!
//! An in-memory [`History`] costs about 450 bytes per op (seven `Option<String>` slots and a
//! heap allocation per string); most of those strings repeat (every read names an ETag a write
//! produced, every write names its ETag twice). Here a string is stored once however many ops
//! name it, and an op is looked at through an [`OpRef`] built on the fly. A [`History`] is
//! rebuilt only when a witness has to be shown.
//!
//! Reading builds this form without an allocation per op: each parse thread gives the strings
//! of its part of the file part-local symbols, keyed by the text as it stands in the line and
//! unescaped only the first time the part meets it ([`CompactPart`]); the main thread then looks
//! each of those strings up once in the history's table and renumbers the part's ops. Strings
//! live end to end in one buffer, and the table holds symbols only, so a string costs its bytes
//! and a few more.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::fast::{Raw, RawOp};
use super::format::{Header, History, Op, Out, Req, Via};
use super::view::{OpRef, OpSource, OpSym, OpView, OutView, ReqView, StrSym, Symbols};
use crate::check::model::{FxHashMap, FxHasher};

/// A string's index in [`CompactHistory`]'s strings; [`NONE`] for an absent one.
pub(super) type Sym = u32;
pub(super) const NONE: Sym = Sym::MAX;

/// One op with its strings as `S`: symbols in the compact form, slices of the line while a
/// line is parsed. Numbers, the request's and the outcome's strings, and two tags.
#[derive(Debug, Clone, Copy)]
pub(super) struct Record<S> {
    pub id: u64,
    pub client: u64,
    pub call_ns: u64,
    pub ret_ns: u64,
    pub key: S,
    /// Get/Head: if_match, if_none_match; Put: write_id, etag_if_applied, if_match,
    /// if_none_match, source_key; Delete: if_match.
    pub req: [S; 5],
    /// Ok: etag, write_id; NotModified: etag; NotFound/Rejected: code; Ambiguous: cause.
    pub out: [S; 2],
    pub status: u16,
    pub req_tag: ReqTag,
    pub out_tag: OutTag,
}

/// One op of the compact form.
type COp = Record<Sym>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReqTag {
    Get,
    Head,
    Put(Via),
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OutTag {
    Ok,
    NotModified,
    PreconditionFailed,
    NotFound,
    Conflict,
    Rejected,
    /// Ambiguous; `bool`: a status was recorded.
    Ambiguous(bool),
}

impl<S> Record<S> {
    /// The op with its strings resolved by `s` (`None`: absent) into text or symbols. The one
    /// place the tags are read back into a request and an outcome.
    pub(super) fn view<'s, T: Copy + Default>(
        &'s self,
        s: impl Fn(&'s S) -> Option<T>,
        initiated_ns: Option<u64>,
    ) -> OpView<T> {
        let r = |k: usize| s(&self.req[k]);
        let req = match self.req_tag {
            ReqTag::Get => ReqView::Get {
                if_match: r(0),
                if_none_match: r(1),
            },
            ReqTag::Head => ReqView::Head {
                if_match: r(0),
                if_none_match: r(1),
            },
            ReqTag::Put(via) => ReqView::Put {
                write_id: r(0),
                etag_if_applied: r(1),
                if_match: r(2),
                if_none_match: r(3),
                via,
                source_key: r(4),
                initiated_ns,
            },
            ReqTag::Delete => ReqView::Delete { if_match: r(0) },
        };
        let x = |k: usize| s(&self.out[k]);
        let out = match self.out_tag {
            OutTag::Ok => OutView::Ok {
                status: self.status,
                etag: x(0),
                write_id: x(1),
            },
            OutTag::NotModified => OutView::NotModified { etag: x(0) },
            OutTag::PreconditionFailed => OutView::PreconditionFailed,
            OutTag::NotFound => OutView::NotFound { code: x(0) },
            OutTag::Conflict => OutView::Conflict,
            OutTag::Rejected => OutView::Rejected {
                status: self.status,
                code: x(0),
            },
            OutTag::Ambiguous(has_status) => OutView::Ambiguous {
                cause: x(0).unwrap_or_default(),
                status: has_status.then_some(self.status),
            },
        };
        OpView {
            id: self.id,
            client: self.client,
            key: s(&self.key).unwrap_or_default(),
            call_ns: self.call_ns,
            ret_ns: self.ret_ns,
            req,
            out,
        }
    }

    /// The same op with each string mapped by `f`.
    pub(super) fn map<T>(&self, mut f: impl FnMut(&S) -> T) -> Record<T> {
        Record {
            id: self.id,
            client: self.client,
            call_ns: self.call_ns,
            ret_ns: self.ret_ns,
            key: f(&self.key),
            req: [
                f(&self.req[0]),
                f(&self.req[1]),
                f(&self.req[2]),
                f(&self.req[3]),
                f(&self.req[4]),
            ],
            out: [f(&self.out[0]), f(&self.out[1])],
            status: self.status,
            req_tag: self.req_tag,
            out_tag: self.out_tag,
        }
    }
}

/// Distinct strings, one after another in one buffer: a string costs its bytes and an end
/// offset, not a heap allocation and a pointer.
#[derive(Debug, Default)]
struct Strings {
    text: String,
    ends: Vec<usize>,
}

impl Strings {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, sym: Sym) -> &str {
        let i = sym as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// True for the empty string: its end is where the previous one ends.
    fn is_empty(&self, sym: Sym) -> bool {
        let i = sym as usize;
        self.ends[i] == if i == 0 { 0 } else { self.ends[i - 1] }
    }

    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }
}

fn hash_str(s: &str) -> u64 {
    std::hash::BuildHasherDefault::<FxHasher>::default().hash_one(s.as_bytes())
}

/// A whole history in compact form, header and ops in file order.
#[derive(Debug, Default)]
pub struct CompactHistory {
    pub header: Header,
    strings: Strings,
    ops: Vec<COp>,
    /// `req.initiated_ns` of the multipart writes that recorded it, by op index.
    initiated: FxHashMap<usize, u64>,
}

/// Builds a [`CompactHistory`] op by op, or a parsed part of the file at a time, interning
/// strings as they come.
#[derive(Default)]
pub struct CompactBuilder {
    strings: Strings,
    /// Symbols, found by the hash of the string they name.
    index: HashTable<Sym>,
    /// Each symbol's hash, so growing the index hashes no string again.
    hashes: Vec<u64>,
    ops: Vec<COp>,
    initiated: FxHashMap<usize, u64>,
    /// A part's symbols renumbered, kept between parts for its allocation.
    to_global: Vec<Sym>,
}

impl std::fmt::Debug for CompactBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompactBuilder")
            .field("strings", &self.strings.len())
            .field("ops", &self.ops.len())
            .finish()
    }
}

/// The strings a parse thread met in its part of the file, each once: the symbol it gave each
/// (its index here), the string unescaped and its hash, so the main thread only looks each up.
///
/// A string is found by its text as it stands in the part (escapes in), which is what most
/// lookups have; the table holds symbols and the text's place in the part, not the text, so a
/// part and its allocations are reused for the next part of the file.
pub(super) struct LocalStrings {
    table: HashTable<Sym>,
    /// Each symbol's text in the part (start, end, as written) and that text's hash.
    raw: Vec<(usize, usize, u64)>,
    strings: Strings,
    /// Each symbol's hash as the history's table keys it (of the unescaped string).
    hashes: Vec<u64>,
    /// The last string in each of an op's string fields (key, request's, outcome's): the key,
    /// `"*"`, a write's ETag in the outcome repeat it so often that one comparison saves a
    /// lookup. (start, end) in the part, and the symbol.
    recent: [(usize, usize, Sym); 8],
}

impl Default for LocalStrings {
    fn default() -> Self {
        LocalStrings {
            table: HashTable::new(),
            raw: Vec::new(),
            strings: Strings::default(),
            hashes: Vec::new(),
            recent: [(0, 0, NONE); 8],
        }
    }
}

impl LocalStrings {
    fn clear(&mut self) {
        self.recent = [(0, 0, NONE); 8];
        self.table.clear();
        self.raw.clear();
        self.strings.text.clear();
        self.strings.ends.clear();
        self.hashes.clear();
    }

    /// [`Self::sym`] for the string in field `k` of an op, trying the field's last string
    /// first.
    fn field(&mut self, k: usize, text: &str, at: usize, raw: Raw<'_>) -> Sym {
        let (a, b, sym) = self.recent[k];
        if sym != NONE && text.as_bytes().get(a..b) == Some(raw.text().as_bytes()) {
            return sym;
        }
        let sym = self.sym(text, at, raw);
        let a = at + raw.pos();
        self.recent[k] = (a, a + raw.text().len(), sym);
        sym
    }

    /// The part-local symbol of `raw`, found in a line that starts at `at` in the part's
    /// `text`; unescaped and hashed again only the first time the part meets it.
    fn sym(&mut self, text: &str, at: usize, raw: Raw<'_>) -> Sym {
        let r = raw.text();
        let h = hash_str(r);
        let spans = &self.raw;
        let same = |&s: &Sym| {
            let (a, b, _) = spans[s as usize];
            text.as_bytes().get(a..b) == Some(r.as_bytes())
        };
        if let Some(&s) = self.table.find(h, same) {
            return s;
        }
        let sym = Sym::try_from(self.strings.len()).unwrap_or(NONE - 1);
        let start = self.strings.text.len();
        raw.unescape_into(&mut self.strings.text);
        self.strings.ends.push(self.strings.text.len());
        self.hashes.push(if raw.escaped() {
            hash_str(&self.strings.text[start..])
        } else {
            h
        });
        let a = at + raw.pos();
        self.raw.push((a, a + r.len(), h));
        let spans = &self.raw;
        self.table.insert_unique(h, sym, |&s| spans[s as usize].2);
        sym
    }
}

/// One part of the file as a parse thread left it: ops with part-local symbols, in file
/// order, and the ops only serde could read, kept whole. Owns everything it holds, so the
/// reader hands it back to a parse thread for a later part with its allocations.
#[derive(Default)]
pub(super) struct CompactPart {
    strings: LocalStrings,
    /// Ops in order; an op at an index of `whole` is a placeholder.
    ops: Vec<COp>,
    whole: Vec<(usize, Op)>,
    /// `req.initiated_ns` by index in `ops`.
    initiated: Vec<(usize, u64)>,
}

impl CompactPart {
    /// Empties the part for a new piece of the file of `len` bytes.
    pub(super) fn clear(&mut self, len: usize) {
        self.strings.clear();
        self.ops.clear();
        self.whole.clear();
        self.initiated.clear();
        // Room for the ops and strings a part of this size usually holds (op lines are a few
        // hundred bytes and name a new string or two).
        self.ops.reserve(len / 160);
        let spans = &self.strings.raw;
        self.strings
            .table
            .reserve(len / 128, |&s| spans[s as usize].2);
    }

    /// Appends an op the fast parser read from a line starting at `at` in the part's `text`:
    /// no allocation unless a string is new to the part.
    #[inline(always)]
    pub(super) fn push_raw(&mut self, text: &str, at: usize, (rec, initiated): RawOp<'_>) {
        if let Some(t) = initiated {
            self.initiated.push((self.ops.len(), t));
        }
        let strings = &mut self.strings;
        let mut k = 0;
        let c = rec.map(|s| {
            k += 1;
            s.map_or(NONE, |raw| strings.field(k - 1, text, at, raw))
        });
        self.ops.push(c);
    }

    /// Appends an op only serde could read; the main thread interns its strings.
    pub(super) fn push_whole(&mut self, op: Op) {
        let placeholder = Record::of(&op).0.map(|_| NONE);
        self.whole.push((self.ops.len(), op));
        self.ops.push(placeholder);
    }
}

impl CompactBuilder {
    /// A builder with room for about `ops` ops, and for the distinct strings so many ops
    /// usually name (most writes bring a new ETag and write id, which later ops repeat), so
    /// the index seldom grows while the file is read.
    pub fn with_capacity(ops: usize) -> Self {
        CompactBuilder {
            ops: Vec::with_capacity(ops),
            index: HashTable::with_capacity(ops / 2),
            hashes: Vec::with_capacity(ops / 2),
            ..CompactBuilder::default()
        }
    }

    /// A builder for a file of `size` bytes: room for the ops so many bytes of op lines
    /// usually hold (a line is a few hundred bytes), and for their strings' text and offsets
    /// (up to one new string an op, a few bytes of text for every hundred of the file), so
    /// nothing grows by copying while the file is read. Room never written costs no memory.
    pub fn for_file(size: u64) -> Self {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let ops = size / 200;
        let mut b = CompactBuilder::with_capacity(ops);
        b.hashes.reserve(ops);
        b.strings.ends.reserve(ops);
        b.strings.text.reserve(size / 8);
        b
    }

    /// The number of ops so far.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True before the first op.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The symbol of `s`, whose hash is `hash`: one probe of the index, found or inserted.
    fn sym_hashed(&mut self, s: &str, hash: u64) -> Sym {
        let (strings, hashes) = (&self.strings, &self.hashes);
        match self
            .index
            .entry(hash, |&c| strings.get(c) == s, |&c| hashes[c as usize])
        {
            hashbrown::hash_table::Entry::Occupied(found) => *found.get(),
            hashbrown::hash_table::Entry::Vacant(slot) => {
                let sym = Sym::try_from(self.strings.len()).unwrap_or(NONE - 1);
                slot.insert(sym);
                self.strings.push(s);
                self.hashes.push(hash);
                sym
            }
        }
    }

    fn sym(&mut self, s: &str) -> Sym {
        self.sym_hashed(s, hash_str(s))
    }

    fn opt(&mut self, s: Option<&str>) -> Sym {
        s.map_or(NONE, |s| self.sym(s))
    }

    /// Appends an op.
    pub fn push(&mut self, op: &Op) {
        let (rec, initiated) = Record::of(op);
        if let Some(t) = initiated {
            self.initiated.insert(self.ops.len(), t);
        }
        let c = rec.map(|s| self.opt(*s));
        self.ops.push(c);
    }

    /// Appends a part parsed by a thread: each of its strings is looked up once, then its ops
    /// are renumbered into the history's symbols. The part keeps its allocations for reuse.
    pub(super) fn append(&mut self, part: &mut CompactPart) {
        let local = &part.strings;
        let mut to_global = std::mem::take(&mut self.to_global);
        to_global.clear();
        for (i, &h) in local.hashes.iter().enumerate() {
            to_global.push(self.sym_hashed(local.strings.get(i as Sym), h));
        }
        let base = self.ops.len();
        for &(i, t) in &part.initiated {
            self.initiated.insert(base + i, t);
        }
        let global = |s: &Sym| {
            if *s == NONE {
                NONE
            } else {
                to_global[*s as usize]
            }
        };
        self.ops.reserve(part.ops.len());
        let mut done = 0;
        for (w, op) in part.whole.drain(..) {
            self.ops
                .extend(part.ops[done..w].iter().map(|op| op.map(global)));
            self.push(&op);
            done = w + 1;
        }
        self.ops
            .extend(part.ops[done..].iter().map(|op| op.map(global)));
        self.to_global = to_global;
    }

    /// The finished history; the interning index is given up, so each string is held once.
    pub fn finish(self, header: Header) -> CompactHistory {
        let CompactBuilder {
            mut strings,
            index,
            hashes,
            mut ops,
            initiated,
            to_global,
        } = self;
        drop((index, hashes, to_global));
        strings.shrink_to_fit();
        ops.shrink_to_fit();
        CompactHistory {
            header,
            strings,
            ops,
            initiated,
        }
    }
}

impl Record<Option<&str>> {
    /// An in-memory op's numbers, tags and strings (borrowed), and its `initiated_ns`.
    fn of(op: &Op) -> (Record<Option<&str>>, Option<u64>) {
        fn s(v: &Option<String>) -> Option<&str> {
            v.as_deref()
        }
        let mut req = [None; 5];
        let mut initiated = None;
        let req_tag = match &op.req {
            Req::Get {
                if_match,
                if_none_match,
            } => {
                req[0] = s(if_match);
                req[1] = s(if_none_match);
                ReqTag::Get
            }
            Req::Head {
                if_match,
                if_none_match,
            } => {
                req[0] = s(if_match);
                req[1] = s(if_none_match);
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
                    s(write_id),
                    s(etag_if_applied),
                    s(if_match),
                    s(if_none_match),
                    s(source_key),
                ];
                initiated = *initiated_ns;
                ReqTag::Put(*via)
            }
            Req::Delete { if_match } => {
                req[0] = s(if_match);
                ReqTag::Delete
            }
        };
        let mut out = [None; 2];
        let mut status = 0;
        let out_tag = match &op.out {
            Out::Ok {
                status: st,
                etag,
                write_id,
            } => {
                status = *st;
                out = [s(etag), s(write_id)];
                OutTag::Ok
            }
            Out::NotModified { etag } => {
                out[0] = s(etag);
                OutTag::NotModified
            }
            Out::PreconditionFailed => OutTag::PreconditionFailed,
            Out::NotFound { code } => {
                out[0] = s(code);
                OutTag::NotFound
            }
            Out::Conflict => OutTag::Conflict,
            Out::Rejected { status: st, code } => {
                status = *st;
                out[0] = s(code);
                OutTag::Rejected
            }
            Out::Ambiguous { cause, status: st } => {
                status = st.unwrap_or(0);
                out[0] = Some(cause.as_str());
                OutTag::Ambiguous(st.is_some())
            }
        };
        let rec = Record {
            id: op.id,
            client: op.client,
            call_ns: op.call_ns,
            ret_ns: op.ret_ns,
            key: Some(op.key.as_str()),
            req,
            out,
            status,
            req_tag,
            out_tag,
        };
        (rec, initiated)
    }
}

impl From<&History> for CompactHistory {
    fn from(history: &History) -> Self {
        let mut b = CompactBuilder::with_capacity(history.ops.len());
        for op in &history.ops {
            b.push(op);
        }
        b.finish(history.header.clone())
    }
}

impl CompactHistory {
    fn s(&self, sym: Sym) -> Option<&str> {
        (sym != NONE).then(|| self.strings.get(sym))
    }

    /// The id of op `i`.
    pub(super) fn id(&self, i: usize) -> u64 {
        self.ops[i].id
    }

    /// What validation reads of op `i`: its numbers, its `initiated_ns`, whether its key is
    /// empty. Read from the records, without building the op.
    pub(super) fn facts(&self, i: usize) -> super::io::Facts {
        let op = &self.ops[i];
        super::io::Facts {
            id: op.id,
            client: op.client,
            call_ns: op.call_ns,
            ret_ns: op.ret_ns,
            initiated_ns: match op.req_tag {
                ReqTag::Put(_) if !self.initiated.is_empty() => self.initiated.get(&i).copied(),
                _ => None,
            },
            empty_key: op.key == NONE || self.strings.is_empty(op.key),
        }
    }

    /// The in-memory history with the same header and ops, for rendering witnesses.
    pub fn to_history(&self) -> History {
        History {
            header: self.header.clone(),
            ops: (0..self.ops.len()).map(|i| self.op(i).to_op()).collect(),
        }
    }

    /// Op `i` with its strings as symbols: no string is looked at.
    #[inline]
    pub fn sym_op(&self, i: usize) -> OpSym {
        let rec = &self.ops[i];
        // Only a write records `initiated_ns`, and most histories have none.
        let initiated = match rec.req_tag {
            ReqTag::Put(_) if !self.initiated.is_empty() => self.initiated.get(&i).copied(),
            _ => None,
        };
        rec.view(|&s| (s != NONE).then(|| StrSym::new(s)), initiated)
    }

    /// The text of a symbol ("" for [`StrSym::NONE`], as [`OpSource::op`] reads an absent key).
    pub fn string(&self, sym: StrSym) -> &str {
        sym.index().map_or("", |i| self.strings.get(i as Sym))
    }

    /// The number of distinct strings: every symbol's index is below it.
    pub fn string_count(&self) -> usize {
        self.strings.len()
    }

    /// Bytes the history is held in (ops, strings, and the multipart instants beside them),
    /// for the benchmark's memory figures: what reading the format costs per op, apart from
    /// what the check then builds.
    pub fn heap_bytes(&self) -> usize {
        let initiated = self.initiated.capacity()
            * (std::mem::size_of::<(usize, u64)>() + std::mem::size_of::<u8>());
        self.ops.capacity() * std::mem::size_of::<COp>() + self.strings.heap_bytes() + initiated
    }
}

impl OpSource for CompactHistory {
    fn len(&self) -> usize {
        self.ops.len()
    }

    fn op(&self, i: usize) -> OpRef<'_> {
        self.ops[i].view(|&s| self.s(s), self.initiated.get(&i).copied())
    }

    fn symbols(&self) -> Symbols<'_> {
        Symbols::Compact(self)
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
