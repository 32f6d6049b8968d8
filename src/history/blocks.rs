//! The history file read in line-aligned pieces, parsed on every core while the main thread
//! reads on and merges, in file order.
//!
//! The main thread reads the file a piece at a time into a buffer, cuts it after its last
//! newline (the rest starts the next piece), and queues it; parse threads (one fewer than the
//! cores) take pieces from the queue, and so does the main thread whenever the next piece to
//! merge is not parsed yet. It merges parsed pieces in file order (interning, numbering lines,
//! naming the first line that does not parse) and reuses their buffers. So every core parses,
//! a thread sleeps only when there is nothing for it to do, and buffers are filled once and
//! reused (no fresh pages to zero and fault in per piece). An input that fits one piece is
//! parsed on the main thread alone, with a buffer the size of the file: no thread, no
//! oversized buffer.
//!
//! Lines, errors and the result are those of reading line by line: a piece's lines are counted
//! where it is merged, the first line that neither parser accepts is handed to serde with its
//! line number to name the field at fault, and an earlier error always wins over a later one.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Condvar, Mutex, MutexGuard};

use super::format::Header;
use super::io::{HistoryError, Lines, parse_header, parse_op};

/// The bytes handed to a parse thread at once: large enough that handing over costs nothing,
/// small enough that a few in flight cost no memory next to the ops and the last one parsed
/// keeps the other core waiting only briefly. The buffers in flight are the reader's fresh
/// pages: at 256 KiB rather than 1 MiB, `check` on a 10^5-op file faulted in about 1,200 fewer
/// pages and took about 5 % less CPU and wall time, with no change on a 10^6-op file.
pub(super) const PIECE: usize = 1 << 18;

/// Where the reader puts the ops. A piece is parsed on a thread into a [`Self::Part`], and the
/// parts are appended in file order.
pub(super) trait OpSink {
    /// A piece's ops as a parse thread leaves them; owns what it holds, so it is reused.
    type Part: Default + Send;
    /// Empties `part` for a piece of `len` bytes.
    fn clear(part: &mut Self::Part, len: usize);
    /// Parses the op line `line`, which starts at byte `at` of the piece's `text`, into
    /// `part`; false when neither parser accepts it.
    fn parse_line(part: &mut Self::Part, text: &str, at: usize, line: &str) -> bool;
    /// Parses the op line at byte `at` of `text` if it is exactly as the writer writes it,
    /// and returns its length with its newline; `None` sends the line to [`Self::parse_line`].
    fn parse_exact(_part: &mut Self::Part, _text: &str, _at: usize) -> Option<usize> {
        None
    }
    /// Appends a part's ops (the part is cleared before it is used again).
    fn append(&mut self, part: &mut Self::Part);
    /// The number of ops so far.
    fn len(&self) -> usize;
    fn lines(&mut self) -> &mut Lines;
}

/// One piece of the file, and what parsing it found.
struct Piece<P> {
    /// The bytes read: `buf[..end]` is the piece, and what was read after it the start of the
    /// next one's first line. Reused, so its memory is faulted in once.
    buf: Vec<u8>,
    /// Op lines begin here (after the header, in the first piece).
    start: usize,
    /// The cut: just after the last newline, or the end of the input.
    end: usize,
    /// Lines the main thread read before `start` (the header and blank lines before it).
    lines_before: usize,
    part: P,
    /// The line (within the piece's op lines) of each op not on the line after the previous
    /// op's, by op index within the piece.
    jumps: Vec<(usize, usize)>,
    /// The first line that did not parse: its number within the op lines, and its text.
    failed: Option<(usize, String)>,
    /// The number of lines in `start..end` (read up to the failed line, if any).
    count: usize,
    /// The piece holds bytes that are not UTF-8; lines before them were parsed.
    bad_utf8: bool,
}

impl<P: Default> Default for Piece<P> {
    fn default() -> Self {
        Piece {
            buf: Vec::new(),
            start: 0,
            end: 0,
            lines_before: 0,
            part: P::default(),
            jumps: Vec::new(),
            failed: None,
            count: 0,
            bad_utf8: false,
        }
    }
}

/// The input, read a piece at a time.
struct Feed<R> {
    reader: R,
    /// The bytes after the previous piece's cut: the start of the next piece.
    carry: Vec<u8>,
    eof: bool,
    /// The size of the next buffer to fill.
    want: usize,
    /// The input's length when known, and the bytes read so far.
    size: Option<u64>,
    read: u64,
}

impl<R> Feed<R> {
    /// True once every byte has been handed out in a piece.
    fn done(&self) -> bool {
        self.eof && self.carry.is_empty()
    }

    /// The size of the piece after this one: [`PIECE`], but smaller over the last few pieces
    /// of an input of known length, so the last piece's parse and merge, which nothing runs
    /// beside, are short.
    fn next_want(&self) -> usize {
        match self.size {
            Some(size) => {
                let left = usize::try_from(size.saturating_sub(self.read)).unwrap_or(PIECE);
                (left / 4).clamp(PIECE / 16, PIECE)
            }
            None => PIECE,
        }
    }
}

impl<R: Read> Feed<R> {
    /// Fills `p` with the next line-aligned piece; false when the input is exhausted.
    ///
    /// The buffer keeps its length between pieces (the piece is `buf[..end]`), so it is
    /// zeroed only when it grows, and a piece is read with as few calls as the input allows
    /// (one, from a file), each into the whole room left.
    fn fill<P>(&mut self, p: &mut Piece<P>) -> std::io::Result<bool> {
        if self.done() {
            return Ok(false);
        }
        let mut want = self.want.max(self.carry.len() + 4096);
        let mut filled = self.carry.len();
        grow(&mut p.buf, want);
        p.buf[..filled].copy_from_slice(&self.carry);
        self.carry.clear();
        let mut scanned = 0;
        let end = loop {
            while !self.eof && filled < want {
                match self.reader.read(&mut p.buf[filled..want]) {
                    Ok(0) => self.eof = true,
                    Ok(got) => {
                        filled += got;
                        self.read += got as u64;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            match p.buf[scanned..filled].iter().rposition(|&b| b == b'\n') {
                Some(i) => break scanned + i + 1,
                None if self.eof => break filled,
                None => {
                    // A line longer than the buffer: read on until it ends.
                    scanned = filled;
                    want = filled * 2;
                    grow(&mut p.buf, want);
                }
            }
        };
        self.carry.extend_from_slice(&p.buf[end..filled]);
        self.want = self.next_want();
        p.start = 0;
        p.end = end;
        p.lines_before = 0;
        Ok(end > 0)
    }
}

/// Makes `buf` at least `len` bytes long, zeroing only what it adds.
fn grow(buf: &mut Vec<u8>, len: usize) {
    if buf.len() < len {
        buf.resize(len, 0);
    }
}

/// Reads the header from the start of `p` on the main thread, if it is there: skips blank
/// lines, parses the first other line, and leaves `p.start` after it.
fn take_header<P>(
    p: &mut Piece<P>,
    name: &str,
    line: usize,
    header: &mut Option<Header>,
) -> Result<(), HistoryError> {
    let bytes = &p.buf[..p.end];
    while header.is_none() && p.start < p.end {
        let rest = &bytes[p.start..];
        let len = rest.iter().position(|&b| b == b'\n');
        let raw = &rest[..len.unwrap_or(rest.len())];
        p.start += len.map_or(rest.len(), |n| n + 1);
        p.lines_before += 1;
        let Ok(text) = std::str::from_utf8(raw) else {
            return Err(not_utf8(name));
        };
        if !text.trim().is_empty() {
            *header = Some(parse_header(text.trim(), name, line + p.lines_before)?);
        }
    }
    Ok(())
}

fn not_utf8(name: &str) -> HistoryError {
    HistoryError::Io {
        file: name.to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ),
    }
}

/// Parses a piece's op lines (on a parse thread): every line up to the first that neither
/// parser accepts, or up to the line holding bytes that are not UTF-8.
fn parse_piece<S: OpSink>(p: &mut Piece<S::Part>) {
    let Piece {
        buf,
        start,
        end,
        part,
        jumps,
        failed,
        count,
        bad_utf8,
        ..
    } = p;
    let bytes = &buf[*start..*end];
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            *bad_utf8 = true;
            let valid = &bytes[..e.valid_up_to()];
            let upto = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            std::str::from_utf8(&bytes[..upto]).unwrap_or_default()
        }
    };
    S::clear(part, text.len());
    jumps.clear();
    *failed = None;
    let (mut n, mut ops, mut at) = (0, 0, 0);
    while at < text.len() {
        if let Some(len) = S::parse_exact(part, text, at) {
            n += 1;
            at += len;
            if jumps.last().is_none_or(|&(j, l)| l + (ops - j) != n) {
                jumps.push((ops, n));
            }
            ops += 1;
            continue;
        }
        let rest = &text[at..];
        let len = rest.find('\n');
        let l = &rest[..len.unwrap_or(rest.len())];
        n += 1;
        let t = l.trim_start();
        let t_at = at + (l.len() - t.len());
        let t = t.trim_end();
        at += len.map_or(rest.len(), |k| k + 1);
        if t.is_empty() {
            continue;
        }
        if !S::parse_line(part, text, t_at, t) {
            *failed = Some((n, t.to_string()));
            break;
        }
        if jumps.last().is_none_or(|&(j, l)| l + (ops - j) != n) {
            jumps.push((ops, n));
        }
        ops += 1;
    }
    *count = n;
}

/// Appends a parsed piece to `sink` (on the main thread); returns the line number of the
/// piece's last line, or the error its first bad line or bytes make.
fn merge<S: OpSink>(
    p: &mut Piece<S::Part>,
    name: &str,
    line: usize,
    sink: &mut S,
) -> Result<usize, HistoryError> {
    let base = line + p.lines_before;
    let first = sink.len();
    for &(i, n) in &p.jumps {
        sink.lines().note(first + i, base + n);
    }
    sink.append(&mut p.part);
    if let Some((n, t)) = p.failed.take() {
        // serde names the field at fault, with the line's number in the file.
        parse_op(&t, name, base + n)?;
    }
    if p.bad_utf8 {
        return Err(not_utf8(name));
    }
    Ok(base + p.count)
}

/// Reads the header and every op line of `reader` into `sink`, on `threads` threads when the
/// input is larger than a piece. `size`, when known, is the input's length, so a small input is
/// read into a buffer its size. Returns the header; the caller validates.
pub(super) fn read<R: Read, S: OpSink>(
    reader: R,
    name: &str,
    sink: &mut S,
    size: Option<u64>,
    threads: usize,
) -> Result<Header, HistoryError> {
    let io_err = |source| HistoryError::Io {
        file: name.to_string(),
        source,
    };
    let first_want = size.map_or(PIECE, |n| match usize::try_from(n) {
        // One more byte than the file, so the first read ends at end of file.
        Ok(n) if n < PIECE => n + 1,
        // A short first piece, so the parse threads start sooner.
        _ => PIECE / 4,
    });
    let mut feed = Feed {
        reader,
        carry: Vec::new(),
        eof: false,
        want: first_want,
        size,
        read: 0,
    };
    let mut header: Option<Header> = None;
    // Lines before the next piece to merge.
    let mut line = 0usize;
    let mut first = Piece::<S::Part>::default();
    let mut have = feed.fill(&mut first).map_err(io_err)?;
    if threads < 2 || feed.done() {
        // One piece, or one core: everything on this thread.
        while have {
            take_header(&mut first, name, line, &mut header)?;
            parse_piece::<S>(&mut first);
            line = merge(&mut first, name, line, sink)?;
            have = feed.fill(&mut first).map_err(io_err)?;
        }
    } else {
        parallel(&mut feed, first, threads, name, sink, &mut header)?;
    }
    header.ok_or_else(|| HistoryError::Empty {
        file: name.to_string(),
    })
}

/// The pieces between the main thread and the parse threads.
struct Queue<P> {
    /// Pieces read and not yet taken for parsing, in file order, with their places.
    todo: std::collections::VecDeque<(usize, Piece<P>)>,
    /// Pieces parsed (or the panic that ended a parse), by place, until merged.
    parsed: BTreeMap<usize, std::thread::Result<Piece<P>>>,
    /// Merged pieces no longer needed: an idle parse thread frees them, beside the last
    /// merges instead of after them.
    free: Vec<Piece<P>>,
    /// Parse threads waiting for a piece.
    idle: usize,
    /// The main thread is waiting for a parsed piece.
    waiting: bool,
    /// No more pieces will come: the parse threads end.
    closed: bool,
}

/// The queue and the two ways to wait on it.
struct Shared<P> {
    queue: Mutex<Queue<P>>,
    /// A piece to parse (or the end) for an idle parse thread.
    work: Condvar,
    /// A parsed piece for the main thread.
    parsed: Condvar,
}

impl<P> Shared<P> {
    fn lock(&self) -> MutexGuard<'_, Queue<P>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Closes the queue when the main thread leaves the read (an error and a panic included), so
/// the parse threads stop waiting before the scope joins them.
struct Close<'a, P>(&'a Shared<P>);

impl<P> Drop for Close<'_, P> {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.work.notify_all();
    }
}

/// A parse thread: parses the pieces it takes, frees those it is given, and sleeps only when
/// the queue has neither.
fn parse_thread<S: OpSink>(shared: &Shared<S::Part>) {
    let mut q = shared.lock();
    loop {
        if let Some(p) = q.free.pop() {
            drop(q);
            drop(p);
            q = shared.lock();
            continue;
        }
        let Some((seq, mut p)) = q.todo.pop_front() else {
            if q.closed {
                return;
            }
            q.idle += 1;
            q = shared.work.wait(q).unwrap_or_else(|e| e.into_inner());
            q.idle -= 1;
            continue;
        };
        drop(q);
        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parse_piece::<S>(&mut p);
            p
        }));
        q = shared.lock();
        q.parsed.insert(seq, parsed);
        if q.waiting {
            shared.parsed.notify_one();
        }
    }
}

/// The read with `threads` threads in all (this one and `threads - 1` parse threads); `first`
/// is the first piece, already filled.
///
/// This thread reads ahead, merges pieces in file order as they are parsed, and parses the
/// next piece itself when nothing is ready to merge: so it waits only for the one piece it
/// needs next, a parse thread sleeps only when nothing is left to parse, and no more threads
/// run than there are cores. (With a reading thread that only read and merged, and a parse
/// thread per core, both sides slept and were woken a few hundred times a file, each wake-up
/// costing tens of microseconds.)
fn parallel<R: Read, S: OpSink>(
    feed: &mut Feed<R>,
    first: Piece<S::Part>,
    threads: usize,
    name: &str,
    sink: &mut S,
    header: &mut Option<Header>,
) -> Result<(), HistoryError> {
    // Enough pieces read ahead that no parse thread waits for this one.
    let ahead = 2 * threads + 1;
    let shared = Shared {
        queue: Mutex::new(Queue {
            todo: std::collections::VecDeque::new(),
            parsed: BTreeMap::new(),
            free: Vec::new(),
            idle: 0,
            waiting: false,
            closed: false,
        }),
        work: Condvar::new(),
        parsed: Condvar::new(),
    };
    // One parse thread is the process's kept second thread, which the check's own splits use
    // next (its core is then awake); any more are started here.
    std::thread::scope(|s| {
        for _ in 2..threads {
            s.spawn(|| parse_thread::<S>(&shared));
        }
        let (read, ()) = crate::second_core::join(
            || {
                let _close = Close(&shared);
                read_and_merge(feed, first, ahead, &shared, name, sink, header)
            },
            || parse_thread::<S>(&shared),
        );
        read
    })
}

/// The main thread's part of [`parallel`]: reads pieces ahead for the parse threads, parses
/// when the next piece to merge is not ready, and merges in file order.
fn read_and_merge<R: Read, S: OpSink>(
    feed: &mut Feed<R>,
    first: Piece<S::Part>,
    ahead: usize,
    shared: &Shared<S::Part>,
    name: &str,
    sink: &mut S,
    header: &mut Option<Header>,
) -> Result<(), HistoryError> {
    let io_err = |source| HistoryError::Io {
        file: name.to_string(),
        source,
    };
    let mut spare: Vec<Piece<S::Part>> = Vec::new();
    let mut next = Some(first);
    let (mut sent, mut merged, mut line) = (0usize, 0usize, 0usize);
    loop {
        // Read ahead, so the parse threads have pieces to take.
        if sent - merged < ahead {
            let p = match next.take() {
                Some(p) => Some(p),
                None => {
                    let mut p = spare.pop().unwrap_or_default();
                    if feed.fill(&mut p).map_err(io_err)? {
                        Some(p)
                    } else {
                        spare.push(p);
                        None
                    }
                }
            };
            if let Some(mut p) = p {
                if header.is_none() {
                    // Only pieces before the header's get here, and each is merged before
                    // the next is read, so `line` is theirs.
                    take_header(&mut p, name, line, header)?;
                }
                let mut q = shared.lock();
                q.todo.push_back((sent, p));
                if q.idle > 0 {
                    shared.work.notify_one();
                }
                drop(q);
                sent += 1;
                if header.is_some() {
                    continue;
                }
            }
        }
        if merged == sent {
            return Ok(());
        }
        // The next piece to merge: parsed already, or parsed here (it, or a later one
        // while a parse thread has it), or waited for.
        let parsed = {
            let mut q = shared.lock();
            loop {
                if let Some(p) = q.parsed.remove(&merged) {
                    break p;
                }
                if let Some((seq, mut p)) = q.todo.pop_front() {
                    drop(q);
                    parse_piece::<S>(&mut p);
                    if seq == merged {
                        break Ok(p);
                    }
                    q = shared.lock();
                    q.parsed.insert(seq, Ok(p));
                    continue;
                }
                q.waiting = true;
                q = shared.parsed.wait(q).unwrap_or_else(|e| e.into_inner());
                q.waiting = false;
            }
        };
        let mut p = parsed.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        line = merge(&mut p, name, line, sink)?;
        merged += 1;
        if feed.done() {
            let mut q = shared.lock();
            q.free.push(p);
            if q.idle > 0 {
                shared.work.notify_one();
            }
        } else {
            spare.push(p);
        }
    }
}
