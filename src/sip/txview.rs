//! The bridge between the zero-copy parser and the transaction layer: a
//! [`TxView`] reads, once, the fields the transaction layer matches on
//! (RFC 3261 17.1.3 / 17.2.3) and serves them through
//! [`transaction::TxMessage`](super::transaction::TxMessage).

use super::transaction::{TxHeader, TxMessage};
use super::{Error, HeaderName, Message, StartLine};

/// The transaction-relevant fields of one parsed message.
pub struct TxView<'m, 'a> {
    msg: &'m Message<'a>,
    method: &'a [u8],
    status: u16,
    request_uri: &'a [u8],
    cseq: (u32, &'a [u8]),
    top_via: &'a [u8],
    branch: Option<&'a [u8]>,
    sent_by: &'a [u8],
    call_id: &'a [u8],
    from_tag: Option<&'a [u8]>,
    to_tag: Option<&'a [u8]>,
}

/// Where `part` starts inside `whole`, if it is a sub-slice of it.
fn offset_in(whole: &[u8], part: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len()).then_some(start)
}

impl<'m, 'a> TxView<'m, 'a> {
    /// Reads the fields; fails when Via, CSeq, Call-ID, From or To is unusable.
    pub fn new(msg: &'m Message<'a>) -> Result<Self, Error> {
        let (method, status, request_uri) = match msg.start_line() {
            StartLine::Request { method, uri, .. } => (method.as_bytes(), 0, uri),
            StartLine::Response { code, .. } => (&b""[..], code, &b""[..]),
        };
        // The top Via value, split from its list once (what `Message::via_top` parses).
        let top_via = msg.header_values(HeaderName::Via).next().ok_or(Error::Missing(HeaderName::Via))?;
        let via = super::Via::parse(top_via)?;
        let cseq = msg.cseq()?;
        let buf = msg.buffer();
        // sent-by = host [":" port] as written (RFC 3261 20.42).
        let sent_by = match offset_in(buf, via.host) {
            Some(start) => {
                let mut end = start + via.host.len();
                if buf.get(end) == Some(&b':') {
                    end += 1;
                    while buf.get(end).is_some_and(u8::is_ascii_digit) {
                        end += 1;
                    }
                }
                &buf[start..end]
            }
            None => via.host,
        };
        Ok(TxView {
            msg,
            method: if status == 0 { method } else { cseq.method.as_bytes() },
            status,
            request_uri,
            cseq: (cseq.seq, cseq.method.as_bytes()),
            top_via,
            branch: via.branch(),
            sent_by,
            call_id: msg.call_id()?,
            from_tag: msg.from()?.tag(),
            to_tag: msg.to()?.tag(),
        })
    }

    /// The parsed message.
    pub fn message(&self) -> &'m Message<'a> {
        self.msg
    }
}

fn header_name_of(h: TxHeader) -> HeaderName {
    match h {
        TxHeader::Via => HeaderName::Via,
        TxHeader::From => HeaderName::From,
        TxHeader::To => HeaderName::To,
        TxHeader::CallId => HeaderName::CallId,
        TxHeader::CSeq => HeaderName::CSeq,
        TxHeader::Route => HeaderName::Route,
        TxHeader::Timestamp => HeaderName::Timestamp,
    }
}

impl TxMessage for TxView<'_, '_> {
    fn is_request(&self) -> bool {
        self.status == 0
    }
    fn method(&self) -> &[u8] {
        self.method
    }
    fn status(&self) -> u16 {
        self.status
    }
    fn request_uri(&self) -> &[u8] {
        self.request_uri
    }
    fn cseq(&self) -> (u32, &[u8]) {
        self.cseq
    }
    fn top_via(&self) -> &[u8] {
        self.top_via
    }
    fn top_via_branch(&self) -> Option<&[u8]> {
        self.branch
    }
    fn top_via_sent_by(&self) -> &[u8] {
        self.sent_by
    }
    fn call_id(&self) -> &[u8] {
        self.call_id
    }
    fn from_tag(&self) -> Option<&[u8]> {
        self.from_tag
    }
    fn to_tag(&self) -> Option<&[u8]> {
        self.to_tag
    }
    fn header_line(&self, name: TxHeader, index: usize) -> Option<&[u8]> {
        let want = header_name_of(name);
        let buf = self.msg.buffer();
        let h = self.msg.headers().filter(|h| h.name == want).nth(index)?;
        // The line runs from the raw name to the end of the value.
        let start = offset_in(buf, h.raw_name)?;
        let end = offset_in(buf, h.value)? + h.value.len();
        buf.get(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_lines_borrow_from_the_message() {
        let raw = b"INVITE sip:bob@b.example SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1, SIP/2.0/UDP p:5060;branch=z9hG4bK0\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@a>;tag=f1\r\nTo: <sip:b@b>\r\nCall-ID: c1\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(raw).unwrap();
        let v = TxView::new(&m).unwrap();
        assert_eq!(v.top_via_sent_by(), b"10.0.0.1:5062");
        assert_eq!(v.top_via_branch(), Some(&b"z9hG4bK1"[..]));
        assert_eq!(v.cseq(), (7, &b"INVITE"[..]));
        assert_eq!(v.from_tag(), Some(&b"f1"[..]));
        assert_eq!(v.to_tag(), None);
        assert_eq!(v.header_line(TxHeader::CSeq, 0), Some(&b"CSeq: 7 INVITE"[..]));
        assert!(v.header_line(TxHeader::Via, 0).unwrap().starts_with(b"v: SIP/2.0/UDP 10.0.0.1:5062"));
        assert_eq!(v.header_line(TxHeader::Route, 0), None);
    }
}
