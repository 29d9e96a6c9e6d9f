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
        for (number, range) in raw_lines(body) {
            let text = body.get(range.clone()).unwrap_or_default();
            if text.is_empty() {
                trailing_empty.get_or_insert(number);
                continue;
            }
            if let Some(empty) = trailing_empty {
                return Err(ParseError::new(empty, ErrorKind::EmptyLine));
            }
            check_line(text).map_err(|kind| ParseError::new(number, kind))?;
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
        raw_lines(body).filter_map(move |(number, range)| {
            let text = body.get(range.clone())?;
            let value = text.get(2..)?;
            Some(Line { number, kind: *text.as_bytes().first()?, value, span: range })
        })
    }
}

/// RFC 8866 5: `<type>=<value>`, type one lowercase letter, value without NUL or CR.
fn check_line(text: &str) -> Result<(), ErrorKind> {
    match text.as_bytes() {
        [kind, b'=', rest @ ..] if kind.is_ascii_lowercase() => {
            if memchr::memchr2(0, b'\r', rest).is_some() {
                Err(ErrorKind::LineSyntax)
            } else {
                Ok(())
            }
        }
        _ => Err(ErrorKind::LineSyntax),
    }
}

/// Splits on LF, strips one CR before it; yields (1-based number, span without line end).
fn raw_lines(body: &str) -> impl Iterator<Item = (usize, Range<usize>)> + '_ {
    let bytes = body.as_bytes();
    let mut start = 0;
    let mut number = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let rest = bytes.get(start..)?;
        let (len, next) = match memchr::memchr(b'\n', rest) {
            Some(nl) => (nl, start + nl + 1),
            None => (rest.len(), bytes.len()),
        };
        let mut end = start + len;
        if end > start && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        let range = start..end;
        start = next;
        number += 1;
        Some((number, range))
    })
}
