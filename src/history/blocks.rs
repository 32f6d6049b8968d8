//! The history file read in line-aligned pieces, parsed on every core while the main thread
//! reads on and merges, in file order.
//!
//! The main thread reads the file a piece at a time into a buffer, cuts it after its last
//! newline (the rest starts the next piece), and hands it to a parse thread; it merges parsed
//! pieces in file order as they come back (interning, numbering lines, naming the first line
//! that does not parse) and hands their buffers out again. So both cores are busy for the whole
//! read, no piece waits for another's merge, and buffers are filled once and reused (no fresh
//! pages to zero and fault in per piece). An input that fits one piece is parsed on the main
//! thread alone, with a buffer the size of the file: no thread, no oversized buffer.
//!
//! Lines, errors and the result are those of reading line by line: a piece's lines are counted
//! where it is merged, the first line that neither parser accepts is handed to serde with its
//! line number to name the field at fault, and an earlier error always wins over a later one.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Mutex, mpsc};

use super::format::Header;
use super::io::{HistoryError, Lines, parse_header, parse_op};

/// The bytes handed to a parse thread at once: large enough that handing over costs nothing,
/// small enough that a few in flight cost no memory next to the ops and the last one parsed
/// keeps the other core waiting only briefly. The buffers in flight are the reader's fresh
/// pages: at 256 KiB rather than 1 MiB, `check` on a 10^5-op file faulted in about 1,200 fewer
/// pages and took about 5 % less CPU and wall time, with no change on a 10^6-op file.
const PIECE: usize = 1 << 18;

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
    /// The bytes read: `buf[..end]` is the piece, and the rest the start of the next one's
    /// first line. Reused, so its memory is faulted in once.
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
    /// The bytes are read into the buffer's spare room, which is never zeroed first: a
    /// buffer is written once by the read, not twice.
    fn fill<P>(&mut self, p: &mut Piece<P>) -> std::io::Result<bool> {
        if self.done() {
            return Ok(false);
        }
        let mut want = self.want.max(self.carry.len() + 4096);
        p.buf.clear();
        p.buf.reserve_exact(want);
        p.buf.extend_from_slice(&self.carry);
        self.carry.clear();
        let mut scanned = 0;
        let end = loop {
            while !self.eof && p.buf.len() < want {
                let asked = want - p.buf.len();
                // Reads into the spare room without initialising it; fewer bytes than asked
                // only at the end of the input.
                let got = (&mut self.reader)
                    .take(asked as u64)
                    .read_to_end(&mut p.buf)?;
                self.read += got as u64;
                if got < asked {
                    self.eof = true;
                }
            }
            let filled = p.buf.len();
            match p.buf[scanned..filled].iter().rposition(|&b| b == b'\n') {
                Some(i) => break scanned + i + 1,
                None if self.eof => break filled,
                None => {
                    // A line longer than the buffer: read on until it ends.
                    scanned = filled;
                    want = filled * 2;
                    p.buf.reserve_exact(want - filled);
                }
            }
        };
        self.carry.extend_from_slice(&p.buf[end..]);
        self.want = self.next_want();
        p.start = 0;
        p.end = end;
        p.lines_before = 0;
        Ok(end > 0)
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

/// Reads the header and every op line of `reader` into `sink`. `size`, when known, is the
/// input's length, so a small input is read into a buffer its size. Returns the header; the
/// caller validates.
pub(super) fn read<R: Read, S: OpSink>(
    reader: R,
    name: &str,
    sink: &mut S,
    size: Option<u64>,
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
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
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

/// What a parse thread sends back: the piece's place in the file, and the piece (or the
/// panic, carried to the main thread).
type Parsed<P> = (usize, std::thread::Result<Piece<P>>);

/// What the main thread hands a parse thread: a piece to parse (with its place in the file),
/// or, once the input is exhausted, a merged piece to free, so its memory is given back
/// beside the last merges instead of after them.
enum Job<P> {
    Parse(usize, Piece<P>),
    Free(Piece<P>),
}

/// The read with `threads` parse threads; `first` is the first piece, already filled.
fn parallel<R: Read, S: OpSink>(
    feed: &mut Feed<R>,
    first: Piece<S::Part>,
    threads: usize,
    name: &str,
    sink: &mut S,
    header: &mut Option<Header>,
) -> Result<(), HistoryError> {
    let io_err = |source| HistoryError::Io {
        file: name.to_string(),
        source,
    };
    // Enough pieces in flight that no parse thread waits for the main thread.
    let in_flight = 2 * threads + 1;
    let (work_tx, work_rx) = mpsc::channel::<Job<S::Part>>();
    let work_rx = Mutex::new(work_rx);
    std::thread::scope(|s| {
        // Owned here, so that returning (an error included) ends the parse threads' wait
        // before the scope joins them.
        let work_tx = work_tx;
        let (done_tx, done_rx) = mpsc::channel::<Parsed<S::Part>>();
        for _ in 0..threads {
            let (work_rx, done_tx) = (&work_rx, done_tx.clone());
            s.spawn(move || {
                loop {
                    let job = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let (seq, mut p) = match job {
                        Ok(Job::Parse(seq, p)) => (seq, p),
                        Ok(Job::Free(p)) => {
                            drop(p);
                            continue;
                        }
                        Err(_) => return,
                    };
                    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        parse_piece::<S>(&mut p);
                        p
                    }));
                    if done_tx.send((seq, parsed)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut spare: Vec<Piece<S::Part>> = Vec::new();
        let mut next = Some(first);
        let (mut sent, mut merged, mut line) = (0usize, 0usize, 0usize);
        let mut waiting: BTreeMap<usize, Piece<S::Part>> = BTreeMap::new();
        loop {
            // Keep the parse threads fed.
            while sent - merged < in_flight {
                let mut p = match next.take() {
                    Some(p) => p,
                    None => {
                        let mut p = spare.pop().unwrap_or_default();
                        if !feed.fill(&mut p).map_err(io_err)? {
                            spare.push(p);
                            break;
                        }
                        p
                    }
                };
                if header.is_none() {
                    // Only pieces before the header's get here, and they are merged before
                    // the next is read (nothing else is in flight), so `line` is theirs.
                    take_header(&mut p, name, line, header)?;
                }
                if work_tx.send(Job::Parse(sent, p)).is_err() {
                    break;
                }
                sent += 1;
                if header.is_none() {
                    break;
                }
            }
            if merged == sent {
                return Ok(());
            }
            let mut p = loop {
                if let Some(p) = waiting.remove(&merged) {
                    break p;
                }
                match done_rx.recv() {
                    Ok((seq, Ok(p))) => {
                        waiting.insert(seq, p);
                    }
                    Ok((_, Err(panic))) => std::panic::resume_unwind(panic),
                    // Every parse thread is gone with pieces in flight; only a panic ends
                    // them early, and that was sent first, so this is never reached.
                    Err(_) => {
                        return Err(io_err(std::io::Error::other(
                            "the parse threads ended early",
                        )));
                    }
                }
            };
            line = merge(&mut p, name, line, sink)?;
            merged += 1;
            spare.push(p);
            if feed.done() {
                // Nothing more to read into them: the parse threads, idle by now, free them
                // (or this thread does, if they are gone).
                for p in spare.drain(..) {
                    let _ = work_tx.send(Job::Free(p));
                }
            }
        }
    })
}
