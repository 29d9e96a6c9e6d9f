//! The checked zero-copy view of a SIP message (RFC 3261 7): start line, a fixed-capacity
//! index of header fields (spans into the receive buffer) and the body. Parsing never
//! allocates; typed accessors (see `accessors.rs`) parse header values on demand.

use super::error::Error;
use super::header::HeaderName;
use super::method::Method;
use super::scan::{is_lws, is_token, is_token_str, parse_u32};
use super::{MAX_HEADERS, MAX_LINE_LEN, MAX_MESSAGE_SIZE};

#[path = "message_index.rs"]
mod index;
pub use index::{Index, Stored};

/// Byte range `[start, end)` into the message buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    // MAX_MESSAGE_SIZE < u32::MAX, so every offset of an accepted buffer fits.
    fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }

    fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start as usize..self.end as usize).unwrap_or(&[])
    }
}

/// One indexed header field, 10 bytes: a header line starts before the last byte of an
/// accepted buffer (it ends with LF) and is at most MAX_LINE_LEN long, so its start
/// (< MAX_MESSAGE_SIZE = 2^16) and every length inside it fit a `u16`.
#[derive(Clone, Copy, Debug)]
struct Entry {
    name: HeaderName,
    /// Offset of the line (and of the raw name) in the buffer.
    line: u16,
    name_len: u16,
    /// Offset of the trimmed value from `line`.
    value_off: u16,
    value_len: u16,
}

impl Entry {
    /// Filler for unused slots (never read: only `..count` is). All-zero bytes, so the
    /// index is initialised with a plain memset.
    const EMPTY: Entry = Entry { name: HeaderName::Via, line: 0, name_len: 0, value_off: 0, value_len: 0 };

    fn raw_name<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        let start = usize::from(self.line);
        buf.get(start..start + usize::from(self.name_len)).unwrap_or(&[])
    }

    fn value<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        let start = usize::from(self.line) + usize::from(self.value_off);
        buf.get(start..start + usize::from(self.value_len)).unwrap_or(&[])
    }

    fn header<'a>(&self, buf: &'a [u8]) -> Header<'a> {
        Header { name: self.name, raw_name: self.raw_name(buf), value: self.value(buf) }
    }
}

/// A header field of a parsed message: its kind, raw name and raw value (all folds and
/// original bytes kept, leading/trailing LWS trimmed), for forwarding unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// Kind of header (compact forms mapped to the full name).
    pub name: HeaderName,
    /// The name exactly as received.
    pub raw_name: &'a [u8],
    /// The value exactly as received, without surrounding LWS.
    pub value: &'a [u8],
}

/// The first line of a message (RFC 3261 7.1, 7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `Method SP Request-URI SP SIP-Version`
    Request {
        /// Request method.
        method: Method<'a>,
        /// Request-URI span (not yet parsed; see [`Message::request_uri`]).
        uri: &'a [u8],
        /// SIP-Version (`SIP/2.0`).
        version: &'a [u8],
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`
    Response {
        /// SIP-Version (`SIP/2.0`).
        version: &'a [u8],
        /// Status-Code, 100..=699.
        code: u16,
        /// Reason-Phrase (may be empty, RFC 4475 noreason).
        reason: &'a [u8],
    },
}

/// A checked view over one SIP message in `&'a [u8]`.
#[derive(Clone)]
pub struct Message<'a> {
    buf: &'a [u8],
    start: StartLine<'a>,
    count: usize,
    headers: [Entry; MAX_HEADERS],
    body: Span,
    content_length: Option<u32>,
}

impl<'a> core::fmt::Debug for Message<'a> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Message")
            .field("start", &self.start)
            .field("headers", &self.count)
            .field("body_len", &self.body().len())
            .finish()
    }
}

/// Splits off the next line (without its CRLF or bare LF) starting at `pos`.
fn line_at(buf: &[u8], pos: usize) -> Option<(usize, usize)> {
    let rest = buf.get(pos..)?;
    let nl = memchr::memchr(b'\n', rest)?;
    let end = if nl > 0 && rest.get(nl - 1) == Some(&b'\r') { nl - 1 } else { nl };
    Some((pos + end, pos + nl + 1))
}

impl<'a> Message<'a> {
    /// Parses the start line, indexes every header field and locates the body. Leading
    /// CRLFs are skipped (RFC 3261 7.5). If Content-Length is present the body is cut to
    /// it and any trailing bytes are ignored (RFC 3261 18.3); otherwise the body is the rest
    /// of the buffer (datagram transports).
    pub fn parse(buf: &'a [u8]) -> Result<Message<'a>, Error> {
        if buf.len() > MAX_MESSAGE_SIZE {
            return Err(Error::TooLarge);
        }
        let mut pos = buf.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(buf.len());
        let (line_end, next) = line_at(buf, pos).ok_or(Error::Truncated)?;
        if line_end - pos > MAX_LINE_LEN {
            return Err(Error::LineTooLong);
        }
        let start = parse_start_line(buf.get(pos..line_end).unwrap_or(&[]))?;
        pos = next;
        let mut msg = Message {
            buf,
            start,
            count: 0,
            headers: [Entry::EMPTY; MAX_HEADERS],
            body: Span::default(),
            content_length: None,
        };
        pos = msg.index_headers(pos)?;
        msg.locate_body(pos)?;
        Ok(msg)
    }

    /// Indexes header lines from `pos` up to the empty line; returns the body offset.
    fn index_headers(&mut self, mut pos: usize) -> Result<usize, Error> {
        let buf = self.buf;
        loop {
            let (mut end, mut next) = line_at(buf, pos).ok_or(Error::Truncated)?;
            if end == pos {
                return Ok(next);
            }
            // RFC 3261 7.3.1: a line starting with WSP continues the previous header.
            while matches!(buf.get(next), Some(b' ' | b'\t')) {
                (end, next) = line_at(buf, next).ok_or(Error::Truncated)?;
            }
            if end - pos > MAX_LINE_LEN {
                return Err(Error::LineTooLong);
            }
            self.push_header(pos, end)?;
            pos = next;
        }
    }

    fn push_header(&mut self, start: usize, end: usize) -> Result<(), Error> {
        let line = self.buf.get(start..end).unwrap_or(&[]);
        // RFC 3261 25.1: header-name = token; HCOLON = *( SP / HTAB ) ":" SWS
        let name_len = line.iter().position(|&b| !is_token(b)).unwrap_or(line.len());
        let mut colon = name_len;
        while matches!(line.get(colon), Some(b' ' | b'\t')) {
            colon += 1;
        }
        if name_len == 0 || line.get(colon) != Some(&b':') {
            return Err(Error::BadHeaderLine);
        }
        let raw = line.get(colon + 1..).unwrap_or(&[]);
        let lead = raw.iter().position(|&b| !is_lws(b)).unwrap_or(raw.len());
        let vlen = raw.iter().rposition(|&b| !is_lws(b)).map_or(0, |p| p + 1 - lead);
        let small = |n: usize| u16::try_from(n).map_err(|_| Error::TooLarge);
        let entry = Entry {
            name: HeaderName::from_bytes(line.get(..name_len).unwrap_or(&[])),
            line: small(start)?,
            name_len: small(name_len)?,
            value_off: small(colon + 1 + lead)?,
            value_len: small(vlen)?,
        };
        *self.headers.get_mut(self.count).ok_or(Error::TooManyHeaders)? = entry;
        self.count += 1;
        Ok(())
    }

    fn locate_body(&mut self, pos: usize) -> Result<(), Error> {
        let avail = self.buf.len().saturating_sub(pos);
        let mut cl = None;
        for h in self.headers_of(HeaderName::ContentLength) {
            if cl.is_some() {
                // RFC 4475 mcl01: conflicting framing information.
                return Err(Error::Duplicate(HeaderName::ContentLength));
            }
            cl = Some(parse_u32(h).ok_or(Error::BadContentLength)?);
        }
        let len = match cl {
            Some(n) if n as usize > avail => return Err(Error::ContentLengthTooLarge),
            Some(n) => n as usize,
            None => avail,
        };
        self.content_length = cl;
        self.body = Span::new(pos, pos + len);
        Ok(())
    }

    /// The buffer this message was parsed from.
    pub fn buffer(&self) -> &'a [u8] {
        self.buf
    }

    /// The start line.
    pub fn start_line(&self) -> StartLine<'a> {
        self.start
    }

    /// True for requests.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The request method (`None` for responses).
    pub fn method(&self) -> Option<Method<'a>> {
        match self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The raw Request-URI (`None` for responses).
    pub fn request_uri_raw(&self) -> Option<&'a [u8]> {
        match self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code (`None` for requests).
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase (`None` for requests).
    pub fn reason(&self) -> Option<&'a [u8]> {
        match self.start {
            StartLine::Response { reason, .. } => Some(reason),
            StartLine::Request { .. } => None,
        }
    }

    /// The body (empty if none).
    pub fn body(&self) -> &'a [u8] {
        self.body.get(self.buf)
    }

    /// Content-Length as received (`None` if absent).
    pub fn content_length(&self) -> Option<u32> {
        self.content_length
    }

    /// Length of the message in the buffer (start line through the body).
    pub fn len(&self) -> usize {
        self.body.end as usize
    }

    /// Never true: a parsed message has at least a start line.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Number of indexed header fields.
    pub fn header_count(&self) -> usize {
        self.count
    }

    /// The `i`-th header field.
    pub fn field(&self, i: usize) -> Option<Header<'a>> {
        Some(self.headers.get(..self.count)?.get(i)?.header(self.buf))
    }

    /// All header fields in order of appearance.
    pub fn headers(&self) -> impl Iterator<Item = Header<'a>> + '_ {
        let buf = self.buf;
        self.headers.get(..self.count).unwrap_or(&[]).iter().map(move |e| e.header(buf))
    }

    /// Raw values of every header field of kind `name`, in order (one item per field,
    /// comma lists not split; see [`Message::header_values`]).
    pub fn headers_of(&self, name: HeaderName) -> impl Iterator<Item = &'a [u8]> + '_ {
        let buf = self.buf;
        self.headers
            .get(..self.count)
            .unwrap_or(&[])
            .iter()
            .filter(move |e| e.name == name)
            .map(move |e| e.value(buf))
    }

    /// Raw values of header fields with the given name (any case; compact forms of known
    /// headers match too).
    pub fn headers_named<'n>(&'n self, name: &'n [u8]) -> impl Iterator<Item = &'a [u8]> + 'n {
        let kind = HeaderName::from_bytes(name);
        self.headers().filter(move |h| {
            h.name == kind && (kind != HeaderName::Other || h.raw_name.eq_ignore_ascii_case(name))
        })
        .map(|h| h.value)
    }

    /// The raw value of the first header field of kind `name`.
    pub fn header(&self, name: HeaderName) -> Option<&'a [u8]> {
        self.headers_of(name).next()
    }
}

fn parse_start_line(line: &[u8]) -> Result<StartLine<'_>, Error> {
    // RFC 3261 7.1: exactly one SP between the elements; no other LWS (RFC 4475 lwsstart,
    // trws, lwsruri).
    let mut parts = line.splitn(3, |&b| b == b' ');
    let a = parts.next().unwrap_or(&[]);
    let b = parts.next().ok_or(Error::BadStartLine)?;
    let c = parts.next().ok_or(Error::BadStartLine)?;
    if a.len() >= 4 && a.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/")) {
        return parse_status_line(a, b, c);
    }
    if !is_token_str(a) || b.is_empty() {
        return Err(Error::BadStartLine);
    }
    if c.iter().any(|&x| is_lws(x)) {
        return Err(Error::BadRequestUri);
    }
    check_version(c)?;
    check_request_uri(b)?;
    Ok(StartLine::Request { method: Method::from_bytes(a), uri: b, version: c })
}

fn parse_status_line<'a>(v: &'a [u8], code: &'a [u8], reason: &'a [u8]) -> Result<StartLine<'a>, Error> {
    check_version(v)?;
    let n = match code {
        [a, b, c] if code.iter().all(u8::is_ascii_digit) => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(Error::BadStatusCode),
    };
    if !(100..=699).contains(&n) {
        return Err(Error::BadStatusCode);
    }
    Ok(StartLine::Response { version: v, code: n, reason })
}

fn check_version(v: &[u8]) -> Result<(), Error> {
    // RFC 3261 7.1: SIP-Version is case-insensitive; only 2.0 is supported.
    if v.eq_ignore_ascii_case(b"SIP/2.0") {
        Ok(())
    } else if v.len() > 4 && v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/")) {
        Err(Error::BadVersion)
    } else {
        Err(Error::BadStartLine)
    }
}

fn check_request_uri(u: &[u8]) -> Result<(), Error> {
    // RFC 3261 25.1: Request-URI = SIP-URI / SIPS-URI / absoluteURI; never in <> (RFC 4475
    // ltgtruri). RFC 3261 19.1.1: headers are not allowed in a Request-URI (escruri).
    let colon = u.iter().position(|&b| b == b':').ok_or(Error::BadRequestUri)?;
    let scheme = u.get(..colon).unwrap_or(&[]);
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    // No early exit: the fold vectorises.
    let bad = u.iter().fold(false, |a, &b| a | (b < 0x21) | (b == b'<') | (b == b'>') | (b == b'"'));
    if !scheme_ok || bad {
        return Err(Error::BadRequestUri);
    }
    if scheme.eq_ignore_ascii_case(b"sip") || scheme.eq_ignore_ascii_case(b"sips") {
        let uri = super::uri::Uri::parse(u).map_err(|_| Error::BadRequestUri)?;
        if uri.headers.is_some() {
            return Err(Error::BadRequestUri);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REG: &[u8] = b"REGISTER sip:ims.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n\
f: <sip:alice@ims.example.com>;tag=a\r\n\
t: <sip:alice@ims.example.com>\r\n\
Call-ID: c1\r\n\
CSeq: 1 REGISTER\r\n\
X-Folded: one\r\n  two\r\n\
l: 4\r\n\
\r\nbodyEXTRA";

    #[test]
    fn indexes_headers_and_body() {
        let m = Message::parse(REG).unwrap();
        assert_eq!(m.method(), Some(Method::Register));
        assert_eq!(m.request_uri_raw(), Some(&b"sip:ims.example.com"[..]));
        assert_eq!(m.header_count(), 7);
        assert_eq!(m.header(HeaderName::From), Some(&b"<sip:alice@ims.example.com>;tag=a"[..]));
        assert_eq!(m.headers_named(b"x-folded").next(), Some(&b"one\r\n  two"[..]));
        assert_eq!(m.headers().nth(1).unwrap().raw_name, b"f");
        assert_eq!(m.body(), b"body");
        assert_eq!(m.content_length(), Some(4));
        assert_eq!(m.len(), REG.len() - 5);
    }

    #[test]
    fn rejects_bad_start_lines() {
        let e = |s: &[u8]| Message::parse(s).unwrap_err();
        assert_eq!(e(b"INVITE  sip:a@b SIP/2.0\r\n\r\n"), Error::BadStartLine);
        assert_eq!(e(b"INVITE sip:a@b SIP/2.0 \r\n\r\n"), Error::BadRequestUri);
        assert_eq!(e(b"INVITE <sip:a@b> SIP/2.0\r\n\r\n"), Error::BadRequestUri);
        assert_eq!(e(b"INVITE sip:a@b SIP/7.0\r\n\r\n"), Error::BadVersion);
        assert_eq!(e(b"SIP/2.0 4294967301 big\r\n\r\n"), Error::BadStatusCode);
        assert_eq!(e(b"SIP/2.0 200 OK\r\nVia x\r\n\r\n"), Error::BadHeaderLine);
        assert_eq!(e(b"SIP/2.0 200 OK\r\nl: 5\r\n\r\nabc"), Error::ContentLengthTooLarge);
        assert_eq!(e(b"SIP/2.0 200 OK\r\nl: -5\r\n\r\n"), Error::BadContentLength);
        assert_eq!(e(b"SIP/2.0 200 OK\r\nl: 0\r\n"), Error::Truncated);
    }

    #[test]
    fn header_limit_is_enforced() {
        let mut v = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
        for _ in 0..MAX_HEADERS + 1 {
            v.extend_from_slice(b"X: y\r\n");
        }
        v.extend_from_slice(b"\r\n");
        assert_eq!(Message::parse(&v).unwrap_err(), Error::TooManyHeaders);
    }

    #[test]
    fn empty_reason_phrase() {
        let m = Message::parse(b"\r\nSIP/2.0 100 \r\nl:0\r\n\r\n").unwrap();
        assert_eq!(m.status(), Some(100));
        assert_eq!(m.reason(), Some(&b""[..]));
    }
}
