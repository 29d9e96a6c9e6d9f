//! Messages the transaction layer builds itself: 100 Trying (RFC 3261 17.2.1), the ACK for
//! a non-2xx final response (17.1.1.3) and a 408 reporting Timer B/F to the TU (17.1.1.2,
//! 17.1.2.2, 8.1.3.1).
//!
//! A message is first described as a bounded list of [`Part`]s (literals, slices of the
//! message at hand, spans of a stored request, numbers), so that its exact length is known
//! before a pool buffer is drawn, then written byte-wise. Nothing here allocates.

use super::message::{TxHeader, TxMessage};

/// Most Via or Route lines kept for one client request.
pub const MAX_LINES: usize = 12;
/// Most parts in one built message.
const MAX_PARTS: usize = 128;

/// A byte range inside a stored message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// The offset of `part` inside `raw`, if `part` borrows from `raw`.
    pub fn of(raw: &[u8], part: &[u8]) -> Option<Span> {
        if part.is_empty() {
            return Some(Span::default());
        }
        let start = (part.as_ptr() as usize).checked_sub(raw.as_ptr() as usize)?;
        let end = start.checked_add(part.len())?;
        if end > raw.len() {
            return None;
        }
        Some(Span {
            start: u32::try_from(start).ok()?,
            len: u32::try_from(part.len()).ok()?,
        })
    }

    /// The bytes of this span in `buf` (empty if out of range).
    pub fn get(self, buf: &[u8]) -> &[u8] {
        let start = self.start as usize;
        buf.get(start..start.saturating_add(self.len as usize))
            .unwrap_or_default()
    }
}

/// Up to [`MAX_LINES`] header lines of one kind.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lines {
    spans: [Span; MAX_LINES],
    n: u8,
}

impl Lines {
    fn capture<M: TxMessage>(msg: &M, raw: &[u8], name: TxHeader) -> Option<Lines> {
        let mut lines = Lines::default();
        let mut i = 0;
        while let Some(line) = msg.header_line(name, i) {
            *lines.spans.get_mut(i)? = Span::of(raw, line)?;
            i += 1;
        }
        lines.n = i as u8;
        Some(lines)
    }

    fn iter(&self) -> impl Iterator<Item = &Span> {
        self.spans.iter().take(self.n as usize)
    }
}

/// Where the fields of a stored outgoing request are, for building its ACK or 408.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestSpans {
    ruri: Span,
    top_via: Span,
    from: Span,
    to: Span,
    call_id: Span,
    cseq_line: Span,
    cseq: u32,
    vias: Lines,
    routes: Lines,
}

impl RequestSpans {
    /// Records the spans of `msg`'s fields inside `raw`. `None` if a field is missing, does
    /// not borrow from `raw`, or there are more than [`MAX_LINES`] Via or Route lines.
    pub fn capture<M: TxMessage>(msg: &M, raw: &[u8]) -> Option<RequestSpans> {
        let line = |name| msg.header_line(name, 0).and_then(|l| Span::of(raw, l));
        Some(RequestSpans {
            ruri: Span::of(raw, msg.request_uri())?,
            top_via: Span::of(raw, msg.top_via())?,
            from: line(TxHeader::From)?,
            to: line(TxHeader::To)?,
            call_id: line(TxHeader::CallId)?,
            cseq_line: line(TxHeader::CSeq)?,
            cseq: msg.cseq().0,
            vias: Lines::capture(msg, raw, TxHeader::Via)?,
            routes: Lines::capture(msg, raw, TxHeader::Route)?,
        })
    }
}

/// One piece of a message being built.
#[derive(Clone, Copy, Debug)]
pub enum Part<'m> {
    /// Literal text.
    Lit(&'static [u8]),
    /// Bytes of the message at hand.
    Ext(&'m [u8]),
    /// A span of the stored source buffer.
    Src(Span),
    /// A decimal number.
    Num(u32),
}

/// A bounded list of parts; overflow makes the whole message invalid.
pub struct Parts<'m> {
    parts: [Part<'m>; MAX_PARTS],
    n: usize,
    overflow: bool,
}

const CRLF: &[u8] = b"\r\n";
const END: &[u8] = b"Content-Length: 0\r\n\r\n";

fn decimal(mut n: u32, out: &mut [u8; 10]) -> &[u8] {
    let mut i = out.len();
    loop {
        i -= 1;
        out[i] = b'0' + (n % 10) as u8; // i >= 0: a u32 has at most 10 digits.
        n /= 10;
        if n == 0 {
            return out.get(i..).unwrap_or_default();
        }
    }
}

impl<'m> Parts<'m> {
    fn new() -> Self {
        Parts {
            parts: [Part::Lit(b""); MAX_PARTS],
            n: 0,
            overflow: false,
        }
    }

    fn push(&mut self, part: Part<'m>) -> &mut Self {
        match self.parts.get_mut(self.n) {
            Some(p) => {
                *p = part;
                self.n += 1;
            }
            None => self.overflow = true,
        }
        self
    }

    fn line(&mut self, part: Part<'m>) -> &mut Self {
        self.push(part).push(Part::Lit(CRLF))
    }

    fn each(&self, src: &[u8], mut f: impl FnMut(&[u8])) {
        let mut digits = [0u8; 10];
        for part in self.parts.iter().take(self.n) {
            match *part {
                Part::Lit(b) | Part::Ext(b) => f(b),
                Part::Src(span) => f(span.get(src)),
                Part::Num(n) => f(decimal(n, &mut digits)),
            }
        }
    }

    /// Total length in bytes, or `None` if the part list overflowed.
    pub fn len(&self, src: &[u8]) -> Option<usize> {
        let mut len = 0;
        self.each(src, |b| len += b.len());
        (!self.overflow).then_some(len)
    }

    /// Writes the message into `dst` (sized by [`Parts::len`]); returns the bytes written.
    pub fn write(&self, src: &[u8], dst: &mut [u8]) -> usize {
        let mut at = 0;
        self.each(src, |b| {
            if let Some(d) = dst.get_mut(at..at + b.len()) {
                d.copy_from_slice(b);
                at += b.len();
            }
        });
        at
    }
}

/// RFC 3261 17.2.1 and 8.2.6: a 100 Trying copying the request's Via lines, From, To,
/// Call-ID, CSeq and (8.2.6.1) Timestamp.
pub fn trying<M: TxMessage>(req: &M) -> Parts<'_> {
    let mut p = Parts::new();
    p.push(Part::Lit(b"SIP/2.0 100 Trying\r\n"));
    for name in [
        TxHeader::Via,
        TxHeader::From,
        TxHeader::To,
        TxHeader::CallId,
    ]
    .into_iter()
    .chain([TxHeader::CSeq, TxHeader::Timestamp])
    {
        let mut i = 0;
        while let Some(line) = req.header_line(name, i) {
            p.line(Part::Ext(line));
            i += 1;
            if p.overflow {
                break;
            }
        }
    }
    p.push(Part::Lit(END));
    p
}

/// RFC 3261 17.1.1.3: the ACK for a non-2xx final response. Request-URI, Call-ID, From and
/// CSeq number of the original request, CSeq method ACK, To of the response, a single Via
/// equal to the request's top Via, and the request's Route lines.
pub fn ack<'m, M: TxMessage>(req: &RequestSpans, resp: &'m M) -> Parts<'m> {
    let mut p = Parts::new();
    p.push(Part::Lit(b"ACK "))
        .push(Part::Src(req.ruri))
        .push(Part::Lit(b" SIP/2.0\r\n"));
    p.push(Part::Lit(b"Via: ")).line(Part::Src(req.top_via));
    for route in req.routes.iter() {
        p.line(Part::Src(*route));
    }
    p.push(Part::Lit(b"Max-Forwards: 70\r\n"));
    p.line(Part::Src(req.from));
    match resp.header_line(TxHeader::To, 0) {
        Some(to) => p.line(Part::Ext(to)),
        None => p.line(Part::Src(req.to)),
    };
    p.line(Part::Src(req.call_id));
    p.push(Part::Lit(b"CSeq: "))
        .push(Part::Num(req.cseq))
        .push(Part::Lit(b" ACK\r\n"));
    p.push(Part::Lit(END));
    p
}

/// RFC 3261 8.1.3.1, 17.1.1.2, 17.1.2.2: the 408 a client transaction reports on Timer B/F,
/// built like a response to the stored request (its Via lines, From, To, Call-ID, CSeq).
pub fn timeout_408(req: &RequestSpans) -> Parts<'static> {
    let mut p = Parts::new();
    p.push(Part::Lit(b"SIP/2.0 408 Request Timeout\r\n"));
    for via in req.vias.iter() {
        p.line(Part::Src(*via));
    }
    for span in [req.from, req.to, req.call_id, req.cseq_line] {
        p.line(Part::Src(span));
    }
    p.push(Part::Lit(END));
    p
}
