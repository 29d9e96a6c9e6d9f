//! [`Index`]: what [`Message::parse`] found in a buffer (start line, header index, body),
//! detached from the buffer so that it can travel with a copy of the bytes to another
//! thread. The worker parses every message it receives; the control thread rebuilds the
//! same [`Message`] from the shipped index with [`Message::from_index`] instead of
//! scanning the bytes a second time.
//!
//! The index holds offsets only. Rebuilding trusts it for structure (it came from our own
//! parser, in this process) but never for memory safety: every field access of a
//! [`Message`] is bounds-checked, so an index that does not belong to the bytes yields
//! empty fields, never a panic; a length mismatch is refused outright.

use super::{Entry, Message, Span, StartLine};
use crate::sip::method::Method;

/// A message kept for later (a B2BUA keeps the caller's INVITE to answer it): a copy of
/// its bytes with their index, so that reading it again costs no parse.
#[derive(Clone, Debug)]
pub struct Stored {
    bytes: Box<[u8]>,
    index: Index,
}

impl Stored {
    /// Keeps `msg`.
    pub fn new(msg: &Message<'_>) -> Stored {
        Stored { bytes: msg.buffer().into(), index: msg.index() }
    }

    /// The kept message (None only if it no longer parses, which a kept message does).
    pub fn message(&self) -> Option<Message<'_>> {
        Message::from_index(&self.bytes, &self.index).or_else(|| Message::parse(&self.bytes).ok())
    }

    /// The kept bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The start line as offsets into the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    Request { method: Span, uri: Span, version: Span },
    Response { version: Span, code: u16, reason: Span },
}

/// A parsed message's index without the message's bytes (see the module docs).
#[derive(Clone, Debug)]
pub struct Index {
    /// Length of the buffer the index was made from.
    len: u32,
    start: Start,
    /// The used part of the header index, in message order.
    headers: Vec<Entry>,
    body: Span,
    content_length: Option<u32>,
}

/// The span of `part`, a sub-slice of `buf` (pointer arithmetic on addresses only;
/// nothing is dereferenced).
fn span_of(buf: &[u8], part: &[u8]) -> Span {
    let start = (part.as_ptr() as usize).saturating_sub(buf.as_ptr() as usize);
    Span::new(start, start + part.len())
}

impl<'a> Message<'a> {
    /// The index of this message, to rebuild it over a copy of [`Message::buffer`]
    /// with [`Message::from_index`]. One allocation (the used header entries).
    pub fn index(&self) -> Index {
        let buf = self.buf;
        let start = match self.start {
            StartLine::Request { method, uri, version } => {
                // RFC 3261 7.1: Method SP Request-URI; a known method's bytes are a static
                // name, so its span is found back from the URI's.
                let uri = span_of(buf, uri);
                let end = (uri.start as usize).saturating_sub(1);
                let method = Span::new(end.saturating_sub(method.as_bytes().len()), end);
                Start::Request { method, uri, version: span_of(buf, version) }
            }
            StartLine::Response { version, code, reason } => {
                Start::Response { version: span_of(buf, version), code, reason: span_of(buf, reason) }
            }
        };
        Index {
            // MAX_MESSAGE_SIZE < u32::MAX: every accepted buffer's length fits.
            len: buf.len() as u32,
            start,
            headers: self.headers.get(..self.count).unwrap_or_default().to_vec(),
            body: self.body,
            content_length: self.content_length,
        }
    }

    /// The message `index` describes, over `buf` (a copy of the bytes the index was made
    /// from). None when the lengths differ or the index has more headers than a message
    /// may have; otherwise no byte is scanned.
    pub fn from_index(buf: &'a [u8], index: &Index) -> Option<Message<'a>> {
        if buf.len() != index.len as usize || index.headers.len() > super::MAX_HEADERS {
            return None;
        }
        let start = match index.start {
            Start::Request { method, uri, version } => {
                StartLine::Request { method: Method::from_bytes(method.get(buf)), uri: uri.get(buf), version: version.get(buf) }
            }
            Start::Response { version, code, reason } => StartLine::Response { version: version.get(buf), code, reason: reason.get(buf) },
        };
        let mut msg = Message {
            buf,
            start,
            count: index.headers.len(),
            headers: [Entry::EMPTY; super::MAX_HEADERS],
            body: index.body,
            content_length: index.content_length,
        };
        msg.headers.get_mut(..index.headers.len())?.copy_from_slice(&index.headers);
        Some(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::HeaderName;

    const INVITE: &[u8] = b"INVITE sip:bob@ims.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n\
f: <sip:alice@ims.test>;tag=a\r\n\
To: <sip:bob@ims.test>\r\n\
Call-ID: c1\r\n\
CSeq: 1 INVITE\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\r\ntrailing";

    const RINGING: &[u8] = b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n\
To: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

    /// Every accessor of the rebuilt message answers what the parse answered.
    fn same(a: &Message<'_>, b: &Message<'_>) {
        assert_eq!(a.start_line(), b.start_line());
        assert_eq!(a.body(), b.body());
        let ha: Vec<_> = a.headers().collect();
        let hb: Vec<_> = b.headers().collect();
        assert_eq!(ha, hb);
        assert_eq!(a.call_id().ok(), b.call_id().ok());
        assert_eq!(a.header(HeaderName::From), b.header(HeaderName::From));
    }

    #[test]
    fn a_request_and_a_response_rebuild_from_their_index_over_a_copy() {
        let crlf_extension: &[u8] = b"\r\nFOO sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\nCall-ID: d\r\n\r\n";
        for raw in [INVITE, RINGING, crlf_extension] {
            let parsed = Message::parse(raw).expect("test message parses");
            let index = parsed.index();
            let copy = raw.to_vec();
            let rebuilt = Message::from_index(&copy, &index).expect("same length");
            same(&parsed, &rebuilt);
        }
        let parsed = Message::parse(INVITE).expect("test message parses");
        assert_eq!(parsed.body(), b"v=0\r");
    }

    #[test]
    fn a_stored_message_reads_back_as_parsed() {
        let parsed = Message::parse(INVITE).expect("test message parses");
        let stored = Stored::new(&parsed);
        same(&parsed, &stored.message().expect("kept message"));
        assert_eq!(stored.bytes(), INVITE);
    }

    #[test]
    fn an_index_over_other_bytes_is_refused_or_harmless() {
        let index = Message::parse(INVITE).expect("test message parses").index();
        assert!(Message::from_index(RINGING, &index).is_none(), "length differs");
        // Same length, other bytes: fields are whatever the offsets cover, no panic.
        let garbage = vec![0xffu8; INVITE.len()];
        let m = Message::from_index(&garbage, &index).expect("same length");
        let _ = (m.call_id(), m.via_top(), m.cseq(), m.from(), m.to(), m.body(), m.method());
    }
}
