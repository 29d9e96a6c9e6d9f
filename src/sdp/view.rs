//! Checked zero-copy view over an SDP body (RFC 8866 5): the body is split into numbered
//! `<type>=<value>` lines with byte spans; CRLF and bare LF line ends are both accepted
//! (RFC 8866 5: "parsers SHOULD be tolerant and also accept records terminated with a
//! single newline character"), empty lines only at the very end.

use std::ops::Range;

use super::error::{ErrorKind, ParseError};
use super::{MAX_BODY_SIZE, MAX_LINES};

/// One SDP line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: usize,
    /// The type letter (`b'v'`, `b'o'`, ..., `b'a'`).
    pub kind: u8,
    /// Everything after `=`, without the line end.
    pub value: &'a str,
    /// Span of the whole line (type letter to last value byte) in the body.
    pub span: Range<usize>,
}

/// A checked view over an SDP body: every line has valid syntax.
#[derive(Debug, Clone, Copy)]
pub struct SdpView<'a> {
    body: &'a str,
    count: usize,
}

impl<'a> SdpView<'a> {
    /// Checks the size, the encoding and the syntax of every line.
    pub fn new_checked(body: &'a [u8]) -> Result<SdpView<'a>, ParseError> {
        SdpView::check_with(body, |_| {})
    }

    /// [`SdpView::new_checked`], handing each line to `on_line` as it is checked
    /// (one pass over the body).
    pub(super) fn check_with(body: &'a [u8], mut on_line: impl FnMut(Line<'a>)) -> Result<SdpView<'a>, ParseError> {
        if body.len() > MAX_BODY_SIZE {
            return Err(ParseError::new(1, ErrorKind::BodyTooLarge));
        }
        let body = std::str::from_utf8(body).map_err(|e| {
            let before = body.get(..e.valid_up_to()).unwrap_or_default();
            let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
            ParseError::new(line, ErrorKind::NotUtf8)
        })?;
        let mut count = 0;
        let mut trailing_empty = None;
        for (number, range, clean) in raw_lines(body, line_end) {
            let text = body.get(range.clone()).unwrap_or_default();
            if text.is_empty() {
                trailing_empty.get_or_insert(number);
                continue;
            }
            if let Some(empty) = trailing_empty {
                return Err(ParseError::new(empty, ErrorKind::EmptyLine));
            }
            check_line(text, clean).map_err(|kind| ParseError::new(number, kind))?;
            count += 1;
            if count > MAX_LINES {
                return Err(ParseError::new(number, ErrorKind::TooManyLines));
            }
            // check_line: `<type>=` is two ASCII bytes.
            let (kind, value) = (text.as_bytes().first().copied().unwrap_or_default(), text.get(2..).unwrap_or_default());
            on_line(Line { number, kind, value, span: range });
        }
        Ok(SdpView { body, count })
    }

    /// Number of (non-empty) lines.
    pub fn line_count(&self) -> usize {
        self.count
    }

    /// The whole body.
    pub fn as_str(&self) -> &'a str {
        self.body
    }

    /// The lines in order (trailing empty lines skipped).
    pub fn lines(&self) -> impl Iterator<Item = Line<'a>> + 'a {
        let body = self.body;
        // Checked already: only the line ends are looked for.
        raw_lines(body, line_end_checked).filter_map(move |(number, range, _)| {
            let text = body.get(range.clone())?;
            let value = text.get(2..)?;
            Some(Line { number, kind: *text.as_bytes().first()?, value, span: range })
        })
    }
}

/// RFC 8866 5: `<type>=<value>`, type one lowercase letter, value without NUL or CR
/// (`clean`: the line has neither, see [`raw_lines`]).
fn check_line(text: &str, clean: bool) -> Result<(), ErrorKind> {
    match text.as_bytes() {
        [kind, b'=', ..] if kind.is_ascii_lowercase() && clean => Ok(()),
        _ => Err(ErrorKind::LineSyntax),
    }
}

/// The first line of `rest`: (its length without the line end, its length with it, no NUL
/// nor CR inside it). The line end is LF, one CR before it stripped (and a CR ending the
/// body). One `memchr3` finds the end of a clean line.
fn line_end(rest: &[u8]) -> (usize, usize, bool) {
    let Some(i) = memchr::memchr3(b'\n', b'\r', 0, rest) else { return (rest.len(), rest.len(), true) };
    match (rest.get(i), rest.get(i + 1)) {
        (Some(b'\n'), _) => (i, i + 1, true),
        (Some(b'\r'), Some(b'\n')) => (i, i + 2, true),
        (Some(b'\r'), None) => (i, i + 1, true),
        // A NUL, or a CR not ending the line, at i: inside the line, which ends further on.
        _ => {
            let (len, next, _) = line_end_checked(rest);
            (len, next, false)
        }
    }
}

/// [`line_end`] for a body already checked: the LF alone is looked for (the line is
/// reported clean).
#[inline]
fn line_end_checked(rest: &[u8]) -> (usize, usize, bool) {
    let next = memchr::memchr(b'\n', rest).map_or(rest.len(), |nl| nl + 1);
    let line = rest.get(..next).unwrap_or(rest);
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    (line.strip_suffix(b"\r").unwrap_or(line).len(), next, true)
}

/// Splits on LF, strips one CR before it; yields (1-based number, span without line end,
/// the span has no NUL nor CR).
/// `end` finds the first line of the rest ([`line_end`] or [`line_end_checked`]).
fn raw_lines<'b>(body: &'b str, end: impl Fn(&[u8]) -> (usize, usize, bool) + 'b) -> impl Iterator<Item = (usize, Range<usize>, bool)> + 'b {
    let bytes = body.as_bytes();
    let mut start = 0;
    let mut number = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let (len, with_end, clean) = end(bytes.get(start..)?);
        let range = start..start + len;
        start += with_end;
        number += 1;
        Some((number, range, clean))
    })
}

#[cfg(test)]
mod tests {
    use super::{line_end, line_end_checked, raw_lines};

    /// The plain definition: split on LF, one CR before it (or ending the body) stripped,
    /// clean when the rest has no NUL or CR.
    fn oracle(body: &str) -> Vec<(usize, std::ops::Range<usize>, bool)> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < body.len() {
            let rest = &body.as_bytes()[start..];
            let (len, next) = rest.iter().position(|&b| b == b'\n').map_or((rest.len(), body.len()), |nl| (nl, start + nl + 1));
            let mut end = start + len;
            if end > start && body.as_bytes()[end - 1] == b'\r' {
                end -= 1;
            }
            let clean = !body.as_bytes()[start..end].iter().any(|&b| b == 0 || b == b'\r');
            out.push((out.len() + 1, start..end, clean));
            start = next;
        }
        out
    }

    #[test]
    fn lines_split_as_the_plain_definition() {
        let bodies = [
            "", "\n", "\r\n", "\r", "v=0", "v=0\r", "v=0\n", "v=0\r\n", "v=0\r\r\n", "v=0\rx\r\n", "v\0=0\r\ns=-",
            "a=x\r\n\r\n", "a=\r\r", "a=b\n\rc=d\n", "a=b\0\r\n", "\0", "a=1\r\nb=2\nc=3\r", "a=1\r\n\nb=2",
        ];
        for body in bodies {
            let ours: Vec<_> = raw_lines(body, line_end).collect();
            assert_eq!(ours, oracle(body), "{body:?}");
            // The spans of the checked walk are the same.
            let spans = |v: Vec<(usize, std::ops::Range<usize>, bool)>| v.into_iter().map(|(n, r, _)| (n, r)).collect::<Vec<_>>();
            assert_eq!(spans(raw_lines(body, line_end_checked).collect()), spans(ours), "{body:?}");
        }
    }
}
