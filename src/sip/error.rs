//! Errors of the SIP message layer. Each variant has a short reason text suitable as a
//! 400 reason phrase or Warning text (RFC 3261 21.4.1, 20.43).

use super::header::HeaderName;

/// A reason why a message was rejected by [`Message::parse`](super::Message::parse),
/// [`Message::validate`](super::Message::validate) or a typed accessor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The message exceeds [`MAX_MESSAGE_SIZE`](super::MAX_MESSAGE_SIZE).
    TooLarge,
    /// More than [`MAX_HEADERS`](super::MAX_HEADERS) header fields.
    TooManyHeaders,
    /// A header field (with its folds) or the start line exceeds
    /// [`MAX_LINE_LEN`](super::MAX_LINE_LEN).
    LineTooLong,
    /// No empty line ends the header section.
    Truncated,
    /// The start line is neither a Request-Line nor a Status-Line.
    BadStartLine,
    /// The Request-URI is malformed (RFC 3261 25.1, 19.1.1).
    BadRequestUri,
    /// SIP-Version other than SIP/2.0 (answer 505, RFC 3261 21.5.6).
    BadVersion,
    /// Status-Code outside 100..=699.
    BadStatusCode,
    /// A header line without a valid `name:`.
    BadHeaderLine,
    /// Content-Length is not a number.
    BadContentLength,
    /// Content-Length is larger than the received body (RFC 3261 18.3).
    ContentLengthTooLarge,
    /// A single-valued header appears more than once (RFC 3261 7.3).
    Duplicate(HeaderName),
    /// A mandatory header is missing (RFC 3261 8.1.1).
    Missing(HeaderName),
    /// A known header has a value that does not match its grammar.
    Bad(HeaderName),
    /// The CSeq method differs from the request method (RFC 3261 8.1.1.5).
    CSeqMethodMismatch,
    /// A URI is malformed.
    BadUri,
    /// A body is present without a Content-Type (RFC 3261 20.15).
    MissingContentType,
}

impl Error {
    /// A short reason text for a 400 response or a Warning header.
    pub fn reason(&self) -> &'static str {
        use HeaderName as H;
        match self {
            Error::TooLarge => "Message Too Large",
            Error::TooManyHeaders => "Too Many Headers",
            Error::LineTooLong => "Header Too Long",
            Error::Truncated => "Incomplete Header Section",
            Error::BadStartLine => "Bad Start Line",
            Error::BadRequestUri => "Bad Request-URI",
            Error::BadVersion => "Version Not Supported",
            Error::BadStatusCode => "Bad Status Code",
            Error::BadHeaderLine => "Bad Header Line",
            Error::BadContentLength => "Bad Content-Length",
            Error::ContentLengthTooLarge => "Content-Length Too Large",
            Error::Duplicate(H::From) => "Duplicate From",
            Error::Duplicate(H::To) => "Duplicate To",
            Error::Duplicate(H::CallId) => "Duplicate Call-ID",
            Error::Duplicate(H::CSeq) => "Duplicate CSeq",
            Error::Duplicate(H::ContentLength) => "Duplicate Content-Length",
            Error::Duplicate(_) => "Duplicate Header",
            Error::Missing(H::Via) => "Missing Via",
            Error::Missing(H::From) => "Missing From",
            Error::Missing(H::To) => "Missing To",
            Error::Missing(H::CallId) => "Missing Call-ID",
            Error::Missing(H::CSeq) => "Missing CSeq",
            Error::Missing(H::MaxForwards) => "Missing Max-Forwards",
            Error::Missing(_) => "Missing Header",
            Error::Bad(H::Via) => "Bad Via",
            Error::Bad(H::From) => "Bad From",
            Error::Bad(H::To) => "Bad To",
            Error::Bad(H::CallId) => "Bad Call-ID",
            Error::Bad(H::CSeq) => "Bad CSeq",
            Error::Bad(H::MaxForwards) => "Bad Max-Forwards",
            Error::Bad(H::Contact) => "Bad Contact",
            Error::Bad(H::Expires) => "Bad Expires",
            Error::Bad(H::Date) => "Bad Date",
            Error::Bad(H::ContentType) => "Bad Content-Type",
            Error::Bad(_) => "Bad Header Value",
            Error::CSeqMethodMismatch => "CSeq Method Mismatch",
            Error::BadUri => "Bad URI",
            Error::MissingContentType => "Missing Content-Type",
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for Error {}
