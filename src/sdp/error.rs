//! SDP parse errors: a line number and a reason, printable in a 488 Warning header
//! (RFC 3261 20.43), e.g. `SDP line 5: bad m= line`.

use std::fmt;

/// Why an SDP body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Body larger than [`super::MAX_BODY_SIZE`].
    BodyTooLarge,
    /// More lines than [`super::MAX_LINES`].
    TooManyLines,
    /// Not UTF-8 text.
    NotUtf8,
    /// A line not of the form `<lowercase letter>=<value>` (RFC 8866 5).
    LineSyntax,
    /// An empty line before the end of the body.
    EmptyLine,
    /// A line type out of place (RFC 8866 5 fixes the order).
    OutOfOrder,
    /// The body does not start with `v=0`.
    BadVersion,
    /// Missing or malformed `o=`.
    BadOrigin,
    /// Missing or malformed `s=`.
    BadSessionName,
    /// Malformed `c=`.
    BadConnection,
    /// A media section without a connection address at either level (RFC 8866 5.7).
    MissingConnection,
    /// Malformed `b=`.
    BadBandwidth,
    /// Missing or malformed `t=`.
    BadTime,
    /// Malformed `m=`.
    BadMedia,
    /// More than [`super::MAX_MEDIA`] media sections.
    TooManyMedia,
    /// More than [`super::MAX_ATTRIBUTES`] attributes at one level.
    TooManyAttributes,
    /// More than [`super::MAX_FORMATS`] formats, [`super::MAX_BANDWIDTHS`] `b=` lines or
    /// [`super::MAX_EXTRA_LINES`] other lines at one level.
    TooManyLinesOfType,
    /// A known attribute (named) with a malformed value.
    BadAttribute(&'static str),
}

impl ErrorKind {
    /// Short reason text for a Warning header.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::BodyTooLarge => "body too large",
            ErrorKind::TooManyLines => "too many lines",
            ErrorKind::NotUtf8 => "not UTF-8",
            ErrorKind::LineSyntax => "bad line syntax",
            ErrorKind::EmptyLine => "empty line",
            ErrorKind::OutOfOrder => "line out of order",
            ErrorKind::BadVersion => "bad v= line",
            ErrorKind::BadOrigin => "bad o= line",
            ErrorKind::BadSessionName => "bad s= line",
            ErrorKind::BadConnection => "bad c= line",
            ErrorKind::MissingConnection => "no c= line for media",
            ErrorKind::BadBandwidth => "bad b= line",
            ErrorKind::BadTime => "bad t= line",
            ErrorKind::BadMedia => "bad m= line",
            ErrorKind::TooManyMedia => "too many m= lines",
            ErrorKind::TooManyAttributes => "too many a= lines",
            ErrorKind::TooManyLinesOfType => "too many lines of one type",
            ErrorKind::BadAttribute(name) => name,
        }
    }
}

/// An SDP parse error: the 1-based line number where it was found and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number (the line after the last one when something is missing).
    pub line: usize,
    /// The reason.
    pub kind: ErrorKind,
}

impl ParseError {
    pub(crate) fn new(line: usize, kind: ErrorKind) -> ParseError {
        ParseError { line, kind }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::BadAttribute(name) => write!(f, "SDP line {}: bad a={} line", self.line, name),
            kind => write!(f, "SDP line {}: {}", self.line, kind.as_str()),
        }
    }
}

impl std::error::Error for ParseError {}
