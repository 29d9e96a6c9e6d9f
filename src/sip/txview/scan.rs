//! The light scan of a message this process built (a command from the control thread):
//! the start line and the header lines the transaction layer reads or copies (RFC 3261 17:
//! Via, From, To, Call-ID, CSeq, Route, Timestamp), without the full parse's checks —
//! Request-URI grammar, Content-Length framing, value syntax — that a message we built
//! already satisfies.
//!
//! The scan gives up (`None`) on anything outside the plain form our builder writes: a
//! folded line, a line or header count beyond the parser's limits, more lines than
//! [`CAP`], a start line that is not `Method SP URI SP SIP/2.0` or `SIP/2.0 SP code SP
//! reason`. The caller then falls back to the full parse, so the outcome for such input is
//! the full parse's. Nothing here allocates or panics.

use super::super::scan::{is_lws, is_token};
use super::super::transaction::{TxHeader, MAX_LINES};
use super::super::{HeaderName, MAX_HEADERS, MAX_LINE_LEN, MAX_MESSAGE_SIZE};

/// Most recorded lines: [`MAX_LINES`] Via and Route lines each, plus From, To, Call-ID,
/// CSeq, Timestamp and some slack (duplicates the layer ignores).
pub(super) const CAP: usize = 2 * MAX_LINES + 8;

/// One recorded header line: `len` bytes from `start`, the name to the end of the value.
/// A scanned buffer is at most MAX_MESSAGE_SIZE (64 KiB) long, so a line start (before
/// the last byte) fits a `u16`, and a line is at most MAX_LINE_LEN (16 KiB) long.
#[derive(Clone, Copy, Debug)]
struct LineRef {
    name: TxHeader,
    start: u16,
    len: u16,
}

/// The header lines of interest, in order, as spans of the scanned buffer.
#[derive(Clone, Copy, Debug)]
pub(super) struct Lines<'a> {
    buf: &'a [u8],
    n: usize,
    lines: [LineRef; CAP],
}

impl<'a> Lines<'a> {
    /// The `index`-th line of kind `name`.
    pub fn get(&self, name: TxHeader, index: usize) -> Option<&'a [u8]> {
        let l = self.lines.get(..self.n)?.iter().filter(|l| l.name == name).nth(index)?;
        let start = usize::from(l.start);
        self.buf.get(start..start + usize::from(l.len))
    }

    fn push(&mut self, name: TxHeader, start: usize, end: usize) -> Option<()> {
        let slot = self.lines.get_mut(self.n)?;
        let len = end.checked_sub(start)?;
        *slot = LineRef { name, start: u16::try_from(start).ok()?, len: u16::try_from(len).ok()? };
        self.n += 1;
        Some(())
    }
}

/// The start line as the view needs it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Start<'a> {
    /// Method and Request-URI, as written.
    Request(&'a [u8], &'a [u8]),
    /// Status code.
    Response(u16),
}

/// What one scan found: the start line, the first value of each field the view reads,
/// and the recorded lines.
pub(super) struct Scanned<'a> {
    pub start: Start<'a>,
    /// First value of Via, From, To, Call-ID and CSeq (LWS-trimmed).
    pub values: Values<'a>,
    pub lines: Lines<'a>,
}

/// The first value of each header the view reads.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Values<'a> {
    /// First Via field (a comma list, not split).
    pub via: Option<&'a [u8]>,
    /// From.
    pub from: Option<&'a [u8]>,
    /// To.
    pub to: Option<&'a [u8]>,
    /// Call-ID.
    pub call_id: Option<&'a [u8]>,
    /// CSeq.
    pub cseq: Option<&'a [u8]>,
}

impl<'a> Values<'a> {
    /// Records `value` if it is the first of its kind.
    pub fn see(&mut self, name: HeaderName, value: &'a [u8]) {
        let slot = match name {
            HeaderName::Via => &mut self.via,
            HeaderName::From => &mut self.from,
            HeaderName::To => &mut self.to,
            HeaderName::CallId => &mut self.call_id,
            HeaderName::CSeq => &mut self.cseq,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }
}

fn tx_header(name: HeaderName) -> Option<TxHeader> {
    Some(match name {
        HeaderName::Via => TxHeader::Via,
        HeaderName::From => TxHeader::From,
        HeaderName::To => TxHeader::To,
        HeaderName::CallId => TxHeader::CallId,
        HeaderName::CSeq => TxHeader::CSeq,
        HeaderName::Route => TxHeader::Route,
        HeaderName::Timestamp => TxHeader::Timestamp,
        _ => return None,
    })
}

/// The line at `pos`: its end (before CRLF or LF) and where the next one starts.
fn line_at(buf: &[u8], pos: usize) -> Option<(usize, usize)> {
    let nl = memchr::memchr(b'\n', buf.get(pos..)?)?;
    let end = if nl > 0 && buf.get(pos + nl - 1) == Some(&b'\r') { pos + nl - 1 } else { pos + nl };
    Some((end, pos + nl + 1))
}

/// RFC 3261 7.1 / 7.2, in the exact form our builder writes.
fn start_line(line: &[u8]) -> Option<Start<'_>> {
    if let Some(rest) = line.strip_prefix(b"SIP/2.0 ") {
        let code = match rest {
            [a, b, c] | [a, b, c, b' ', ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
            }
            _ => return None,
        };
        return (100..=699).contains(&code).then_some(Start::Response(code));
    }
    let sp = memchr::memchr(b' ', line)?;
    let (method, rest) = (line.get(..sp)?, line.get(sp + 1..)?);
    let sp = memchr::memchr(b' ', rest)?;
    let (uri, version) = (rest.get(..sp)?, rest.get(sp + 1..)?);
    let method_ok = !method.is_empty() && method.iter().all(|&b| is_token(b));
    (method_ok && !uri.is_empty() && version == b"SIP/2.0").then_some(Start::Request(method, uri))
}

/// The start line of `buf`, read as [`scan`] reads it.
pub(super) fn start(buf: &[u8]) -> Option<Start<'_>> {
    if buf.len() > MAX_MESSAGE_SIZE {
        return None;
    }
    start_line(buf.get(..line_at(buf, 0)?.0)?)
}

/// Scans `buf` up to the empty line that ends the header section (RFC 3261 7).
pub(super) fn scan(buf: &[u8]) -> Option<Scanned<'_>> {
    if buf.len() > MAX_MESSAGE_SIZE {
        return None;
    }
    let (end, mut pos) = line_at(buf, 0)?;
    let start = start_line(buf.get(..end)?)?;
    let mut values = Values::default();
    let mut lines = Lines { buf, n: 0, lines: [LineRef { name: TxHeader::Via, start: 0, len: 0 }; CAP] };
    for _ in 0..=MAX_HEADERS {
        let (end, next) = line_at(buf, pos)?;
        if end == pos {
            return Some(Scanned { start, values, lines });
        }
        // RFC 3261 7.3.1: a folded line continues the previous one; we never build those.
        if matches!(buf.get(next), Some(b' ' | b'\t')) || end - pos > MAX_LINE_LEN {
            return None;
        }
        header(buf.get(pos..end)?, pos, &mut values, &mut lines)?;
        pos = next;
    }
    None
}

/// One header line at offset `at`: records it if the layer reads it.
fn header<'a>(line: &'a [u8], at: usize, values: &mut Values<'a>, lines: &mut Lines<'a>) -> Option<()> {
    let Some((kind, value_at, tail)) = classify(line)? else { return Some(()) };
    let Some(tx) = tx_header(kind) else { return Some(()) };
    values.see(kind, line.get(value_at..tail)?);
    // The line ends where its trimmed value does (as `Message` indexes it).
    lines.push(tx, at, at + tail)
}

/// A header line: `Some(None)` if it is none of the headers the layer reads, else its kind
/// and the trimmed value as `value_start..value_end` offsets in the line; `None` if the
/// line is not `name HCOLON value`.
fn classify(line: &[u8]) -> Option<Option<(HeaderName, usize, usize)>> {
    // RFC 3261 25.1: header-name = token; HCOLON = *( SP / HTAB ) ":" SWS
    // Only Via, From, To, Call-ID, CSeq, Route and Timestamp (and the compact forms v,
    // f, t, i) matter: the others are told apart by first letter and length, without
    // a name lookup.
    let first = line.first().map(u8::to_ascii_lowercase)?;
    let name_len = line.iter().position(|&b| !is_token(b)).filter(|&n| n > 0)?;
    let ours = matches!(
        (name_len, first),
        (1, b'v' | b'f' | b't' | b'i') | (2, b't') | (3, b'v') | (4, b'f' | b'c') | (5, b'r') | (7, b'c') | (9, b't')
    );
    if !ours {
        return Some(None);
    }
    let kind = HeaderName::from_bytes(line.get(..name_len)?);
    if tx_header(kind).is_none() {
        return Some(None);
    }
    let after = line.get(name_len..)?;
    let colon = after.iter().position(|&b| b != b' ' && b != b'\t')?;
    if after.get(colon) != Some(&b':') {
        return None;
    }
    let value_at = name_len + colon + 1;
    let raw = line.get(value_at..)?;
    let lead = raw.iter().position(|&b| !is_lws(b)).unwrap_or(raw.len());
    let tail = raw.iter().rposition(|&b| !is_lws(b)).map_or(raw.len(), |p| p + 1);
    Some(Some((kind, value_at + lead, value_at + tail)))
}

/// The first To value of a response this process built, from the start line and the
/// header lines up to that To, read as [`scan`] reads them; `None` for a request or
/// anything [`scan`] would refuse before the To line. The lines after it are not looked at.
pub(super) fn response_to(buf: &[u8]) -> Option<&[u8]> {
    let Start::Response(_) = start(buf)? else { return None };
    let mut pos = line_at(buf, 0)?.1;
    for _ in 0..=MAX_HEADERS {
        let (end, next) = line_at(buf, pos)?;
        // RFC 3261 7.3.1: a folded line continues the previous one; we never build those.
        if end == pos || matches!(buf.get(next), Some(b' ' | b'\t')) || end - pos > MAX_LINE_LEN {
            return None;
        }
        let line = buf.get(pos..end)?;
        if let Some((HeaderName::To, start, end)) = classify(line)? {
            return line.get(start..end);
        }
        pos = next;
    }
    None
}
