//! Allocation-free message builder writing into a caller-provided buffer: start lines,
//! raw or typed headers, automatic Content-Length and body; plus responses built from a
//! request per RFC 3261 8.2.6.

use super::header::HeaderName;
use super::message::Message;
use super::method::Method;
use super::scan::find_param;

/// The output buffer is too small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow;

impl core::fmt::Display for Overflow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SIP message does not fit the output buffer")
    }
}

impl std::error::Error for Overflow {}

/// Bounded writer over `&mut [u8]`.
#[derive(Debug)]
pub struct Writer<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Writer<'b> {
    /// A writer starting at the beginning of `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// Appends bytes.
    #[inline]
    pub fn put(&mut self, s: &[u8]) -> Result<(), Overflow> {
        let end = self.len.checked_add(s.len()).ok_or(Overflow)?;
        self.buf.get_mut(self.len..end).ok_or(Overflow)?.copy_from_slice(s);
        self.len = end;
        Ok(())
    }

    /// Appends a decimal number.
    pub fn put_u32(&mut self, mut n: u32) -> Result<(), Overflow> {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            // i stays in 0..10: a u32 has at most 10 digits.
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.put(digits.get(i..).unwrap_or(&[]))
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The written bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// Builds one message: start line, headers, then [`Builder::finish`] adds Content-Length
/// and the body. Content-Length headers added by hand are the caller's responsibility.
#[derive(Debug)]
pub struct Builder<'b> {
    w: Writer<'b>,
}

impl<'b> Builder<'b> {
    /// Starts a request: `Method SP Request-URI SP SIP/2.0 CRLF`.
    pub fn request(buf: &'b mut [u8], method: Method<'_>, uri: &[u8]) -> Result<Self, Overflow> {
        let mut w = Writer::new(buf);
        w.put(method.as_bytes())?;
        w.put(b" ")?;
        w.put(uri)?;
        w.put(b" SIP/2.0\r\n")?;
        Ok(Builder { w })
    }

    /// Starts a response: `SIP/2.0 SP code SP reason CRLF`.
    pub fn response(buf: &'b mut [u8], code: u16, reason: &[u8]) -> Result<Self, Overflow> {
        let mut w = Writer::new(buf);
        w.put(b"SIP/2.0 ")?;
        w.put_u32(u32::from(code))?;
        w.put(b" ")?;
        w.put(reason)?;
        w.put(b"\r\n")?;
        Ok(Builder { w })
    }

    /// Starts a response to `req` per RFC 3261 8.2.6.2: copies every Via in order, From,
    /// To (adding `;tag=to_tag` if the To has no tag and `code > 100`), Call-ID and CSeq,
    /// byte for byte. Missing headers are skipped (a 400 to a broken request).
    pub fn response_to(
        buf: &'b mut [u8],
        req: &Message<'_>,
        code: u16,
        reason: &[u8],
        to_tag: &[u8],
    ) -> Result<Self, Overflow> {
        let mut b = Builder::response(buf, code, reason)?;
        for h in req.headers() {
            match h.name {
                HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                    b.header(h.name, h.value)?;
                }
                HeaderName::To => {
                    b.header(HeaderName::To, h.value)?;
                    let tagged = super::nameaddr::NameAddr::parse(h.value)
                        .map_or_else(|_| find_param(h.value, b"tag").is_some(), |n| n.tag().is_some());
                    if code > 100 && !tagged && !to_tag.is_empty() {
                        // Overwrite the CRLF just written: `To: value;tag=x CRLF`.
                        b.w.len -= 2;
                        b.w.put(b";tag=")?;
                        b.w.put(to_tag)?;
                        b.w.put(b"\r\n")?;
                    }
                }
                _ => {}
            }
        }
        Ok(b)
    }

    /// Adds `Name: value CRLF` with the canonical name of a known header.
    pub fn header(&mut self, name: HeaderName, value: &[u8]) -> Result<&mut Self, Overflow> {
        self.header_raw(name.as_str().as_bytes(), value)
    }

    /// Adds `name: value CRLF` verbatim (forwarding an unknown header unchanged).
    pub fn header_raw(&mut self, name: &[u8], value: &[u8]) -> Result<&mut Self, Overflow> {
        self.w.put(name)?;
        self.w.put(b": ")?;
        self.w.put(value)?;
        self.w.put(b"\r\n")?;
        Ok(self)
    }

    /// Adds a numeric header (`Max-Forwards: 70`, `Expires: 600`, `RSeq: 1`...).
    pub fn header_u32(&mut self, name: HeaderName, value: u32) -> Result<&mut Self, Overflow> {
        self.w.put(name.as_str().as_bytes())?;
        self.w.put(b": ")?;
        self.w.put_u32(value)?;
        self.w.put(b"\r\n")?;
        Ok(self)
    }

    /// Adds `CSeq: seq method`.
    pub fn cseq(&mut self, seq: u32, method: Method<'_>) -> Result<&mut Self, Overflow> {
        self.w.put(b"CSeq: ")?;
        self.w.put_u32(seq)?;
        self.w.put(b" ")?;
        self.w.put(method.as_bytes())?;
        self.w.put(b"\r\n")?;
        Ok(self)
    }

    /// Adds `Via: SIP/2.0/transport host[:port];branch=branch[;rport]`.
    pub fn via(
        &mut self,
        transport: &[u8],
        host: &[u8],
        port: Option<u16>,
        branch: &[u8],
        rport: bool,
    ) -> Result<&mut Self, Overflow> {
        self.w.put(b"Via: SIP/2.0/")?;
        self.w.put(transport)?;
        self.w.put(b" ")?;
        self.w.put(host)?;
        if let Some(p) = port {
            self.w.put(b":")?;
            self.w.put_u32(u32::from(p))?;
        }
        self.w.put(b";branch=")?;
        self.w.put(branch)?;
        if rport {
            self.w.put(b";rport")?;
        }
        self.w.put(b"\r\n")?;
        Ok(self)
    }

    /// Adds `Name: <uri>[;params]` (From/To/Contact/Route...); `params` without the
    /// leading `;`.
    pub fn name_addr(&mut self, name: HeaderName, uri: &[u8], params: &[u8]) -> Result<&mut Self, Overflow> {
        self.w.put(name.as_str().as_bytes())?;
        self.w.put(b": <")?;
        self.w.put(uri)?;
        self.w.put(b">")?;
        if !params.is_empty() {
            self.w.put(b";")?;
            self.w.put(params)?;
        }
        self.w.put(b"\r\n")?;
        Ok(self)
    }

    /// Writes `Content-Length`, the empty line and `body`; returns the message length.
    pub fn finish(mut self, body: &[u8]) -> Result<usize, Overflow> {
        self.w.put(b"Content-Length: ")?;
        let n = u32::try_from(body.len()).map_err(|_| Overflow)?;
        self.w.put_u32(n)?;
        self.w.put(b"\r\n\r\n")?;
        self.w.put(body)?;
        Ok(self.w.len())
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.w.len()
    }

    /// Never true: a start line is always written.
    pub fn is_empty(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1, SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK0\r\n\
v: SIP/2.0/TCP ue.example.com;branch=z9hG4bKa;rport=5060\r\n\
Max-Forwards: 69\r\nf: \"A\" <sip:a@example.com>;tag=x\r\nt: <sip:bob@example.com>\r\n\
i: abc@h\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn response_copies_mandatory_headers_and_tags_to() {
        let req = Message::parse(INVITE).unwrap();
        let mut buf = [0u8; 1024];
        let mut b = Builder::response_to(&mut buf, &req, 486, b"Busy Here", b"t42").unwrap();
        b.header(HeaderName::RetryAfter, b"30").unwrap();
        let n = b.finish(b"").unwrap();
        let resp = Message::parse(&buf[..n]).unwrap();
        resp.validate().unwrap();
        assert_eq!(resp.status(), Some(486));
        assert_eq!(resp.reason(), Some(&b"Busy Here"[..]));
        let branches: Vec<_> = resp.vias().map(|v| v.unwrap().branch().unwrap()).collect();
        assert_eq!(branches, vec![&b"z9hG4bK1"[..], b"z9hG4bK0", b"z9hG4bKa"]);
        assert_eq!(resp.to().unwrap().tag(), Some(&b"t42"[..]));
        assert_eq!(resp.from().unwrap().tag(), Some(&b"x"[..]));
        assert_eq!(resp.call_id().unwrap(), b"abc@h");
        assert_eq!(resp.cseq().unwrap().seq, 7);
        assert_eq!(resp.content_length(), Some(0));
        assert_eq!(resp.header(HeaderName::RetryAfter), Some(&b"30"[..]));
    }

    #[test]
    fn trying_has_no_to_tag_and_overflow_is_reported() {
        let req = Message::parse(INVITE).unwrap();
        let mut buf = [0u8; 1024];
        let n = Builder::response_to(&mut buf, &req, 100, b"Trying", b"t").unwrap().finish(b"").unwrap();
        assert_eq!(Message::parse(&buf[..n]).unwrap().to().unwrap().tag(), None);
        let mut small = [0u8; 64];
        assert_eq!(Builder::response_to(&mut small, &req, 200, b"OK", b"t").err(), Some(Overflow));
    }

    #[test]
    fn builds_requests() {
        let mut buf = [0u8; 512];
        let mut b = Builder::request(&mut buf, Method::Register, b"sip:ims.example.com").unwrap();
        b.via(b"UDP", b"10.0.0.1", Some(5060), b"z9hG4bK77", true).unwrap();
        b.header_u32(HeaderName::MaxForwards, 70).unwrap();
        b.name_addr(HeaderName::From, b"sip:a@ims.example.com", b"tag=1").unwrap();
        b.name_addr(HeaderName::To, b"sip:a@ims.example.com", b"").unwrap();
        b.header(HeaderName::CallId, b"r1").unwrap();
        b.cseq(4294967295, Method::Register).unwrap();
        let n = b.finish(b"").unwrap();
        let m = Message::parse(&buf[..n]).unwrap();
        m.validate().unwrap();
        assert_eq!(m.via_top().unwrap().rport(), Some(None));
        assert_eq!(m.cseq().unwrap().seq, u32::MAX);
        assert_eq!(m.max_forwards(), Ok(70));
    }
}
