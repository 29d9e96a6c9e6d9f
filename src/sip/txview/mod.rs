//! The bridge between the zero-copy parser and the transaction layer: a
//! [`TxView`] reads, once, the fields the transaction layer matches on
//! (RFC 3261 17.1.3 / 17.2.3) and serves them through
//! [`transaction::TxMessage`](super::transaction::TxMessage).
//!
//! Three ways to build one, by how much of the message is already known good:
//! - [`TxView::new`]: a parsed message nothing has checked (a received response). Via,
//!   CSeq, Call-ID, From and To are parsed in full, so a malformed one is refused.
//! - [`TxView::from_validated`]: a received request, from what [`Message::validated`]
//!   parsed of those fields while checking them (nothing is parsed twice).
//! - [`TxView::validated`]: a request that passed [`Message::validate`] when only the
//!   message is at hand. The fields are picked with light scans (the top Via's
//!   sent-by and branch, the From/To `tag` parameters without parsing their URIs).
//! - [`TxView::with_built`]: a message this process built (a control-thread command):
//!   no full parse at all, only the light scan of `scan.rs` over the start line and the
//!   lines the layer reads.
//!
//! The light paths fall back to the full parse whenever they meet something outside the
//! plain form, so for any input they give the fields the full parse gives, or the full
//! parse's answer.

mod fields;
mod scan;
#[cfg(test)]
mod tests;

use super::transaction::{TxHeader, TxMessage};
use super::validate::Validated;
use super::{CSeq, Error, HeaderName, Message, NameAddr, StartLine};

/// Where [`TxMessage::header_line`] finds the header lines.
// Boxing the scanned lines would allocate per view; a view lives on the stack for one call.
#[allow(clippy::large_enum_variant)]
enum Source<'m, 'a> {
    /// The parsed message's header index.
    Indexed(&'m Message<'a>),
    /// The lines a light scan recorded.
    Scanned(scan::Lines<'a>),
}

/// The transaction-relevant fields of one message.
pub struct TxView<'m, 'a> {
    source: Source<'m, 'a>,
    method: &'a [u8],
    status: u16,
    request_uri: &'a [u8],
    cseq: (u32, &'a [u8]),
    top_via: &'a [u8],
    branch: Option<&'a [u8]>,
    sent_by: &'a [u8],
    call_id: &'a [u8],
    from_tag: Tag<'a>,
    to_tag: Tag<'a>,
}

/// A From or To tag: found by a light scan, or left in the parameters of the parsed value
/// until the layer asks for it (it never does for a received response, and for a request
/// only for the To tag or the RFC 2543 key).
#[derive(Clone, Copy)]
enum Tag<'a> {
    /// The tag, as the light scan found it.
    Found(Option<&'a [u8]>),
    /// The header parameters of a parsed From or To.
    In(&'a [u8]),
}

impl<'a> Tag<'a> {
    fn get(self) -> Option<&'a [u8]> {
        match self {
            Tag::Found(t) => t,
            Tag::In(params) => NameAddr::tag_in(params),
        }
    }
}

/// Where `part` starts inside `whole`, if it is a sub-slice of it.
fn offset_in(whole: &[u8], part: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len()).then_some(start)
}

/// Method (or, for a response, 0), status and Request-URI of a start line.
fn start_of<'a>(start: StartLine<'a>) -> (&'a [u8], u16, &'a [u8]) {
    match start {
        StartLine::Request { method, uri, .. } => (method.as_bytes(), 0, uri),
        StartLine::Response { code, .. } => (&b""[..], code, &b""[..]),
    }
}

/// The `branch` parameter of top Via value `v` (one element of the list, RFC 3261 20.42),
/// exactly as [`super::Via::parse`] reads it: by the light scan when `v` is in its plain
/// form, else by the full parser. For readers without a transaction view (the control
/// thread picks the service a response belongs to by it).
pub fn via_branch(v: &[u8]) -> Option<&[u8]> {
    match fields::via(v) {
        Some((_, branch)) => branch,
        None => super::Via::parse(v).ok()?.branch(),
    }
}

impl<'m, 'a> TxView<'m, 'a> {
    /// Reads the fields; fails when Via, CSeq, Call-ID, From or To is unusable.
    pub fn new(msg: &'m Message<'a>) -> Result<Self, Error> {
        // The top Via value, split from its list once (what `Message::via_top` parses).
        let top_via_raw = msg.header_values(HeaderName::Via).next().ok_or(Error::Missing(HeaderName::Via))?;
        let top_via = super::Via::parse(top_via_raw)?;
        let cseq = msg.cseq()?;
        let call_id = msg.call_id()?;
        let (from, to) = (msg.from()?, msg.to()?);
        Ok(Self::from_validated(msg, &Validated { top_via_raw, top_via, cseq, call_id, from, to }))
    }

    /// The view of a request that passed [`Message::validated`], from what the validation
    /// parsed: the same fields as [`TxView::new`], without parsing anything again.
    pub fn from_validated(msg: &'m Message<'a>, v: &Validated<'a>) -> Self {
        let (method, status, request_uri) = start_of(msg.start_line());
        let buf = msg.buffer();
        let host = v.top_via.host;
        // sent-by = host [":" port] as written (RFC 3261 20.42).
        let sent_by = match offset_in(buf, host) {
            Some(start) => {
                let mut end = start + host.len();
                if buf.get(end) == Some(&b':') {
                    end += 1;
                    while buf.get(end).is_some_and(u8::is_ascii_digit) {
                        end += 1;
                    }
                }
                buf.get(start..end).unwrap_or(host)
            }
            None => host,
        };
        TxView {
            source: Source::Indexed(msg),
            method: if status == 0 { method } else { v.cseq.method.as_bytes() },
            status,
            request_uri,
            cseq: (v.cseq.seq, v.cseq.method.as_bytes()),
            top_via: v.top_via_raw,
            branch: v.top_via.branch(),
            sent_by,
            call_id: v.call_id,
            from_tag: Tag::In(v.from.params),
            to_tag: Tag::In(v.to.params),
        }
    }

    /// Reads the fields of a message that passed [`Message::validate`] (a received
    /// request: the 400 decision is already taken) with light scans; anything the scans
    /// find unusual goes through [`TxView::new`]. Without the prior validation it is
    /// still safe, only less strict than `new`.
    pub fn validated(msg: &'m Message<'a>) -> Result<Self, Error> {
        let mut values = scan::Values::default();
        for h in msg.headers() {
            values.see(h.name, h.value);
        }
        let (method, status, request_uri) = start_of(msg.start_line());
        match Self::light(Source::Indexed(msg), (method, status, request_uri), &values) {
            Some(view) => Ok(view),
            None => Self::new(msg),
        }
    }

    /// Runs `f` on the view of `raw`, a message this process built (a response or a
    /// request from the control thread): the light scan of the start line and the lines
    /// the layer reads, or, when the scan finds the message unusual, the full parse and
    /// [`TxView::new`]. `None` if neither gives a view.
    pub fn with_built<R>(raw: &[u8], f: impl FnOnce(&TxView<'_, '_>) -> R) -> Option<R> {
        let light = scan::scan(raw).and_then(|s| {
            let start = match s.start {
                scan::Start::Request(method, uri) => (method, 0, uri),
                scan::Start::Response(code) => (&b""[..], code, &b""[..]),
            };
            TxView::light(Source::Scanned(s.lines), start, &s.values)
        });
        if let Some(view) = light {
            return Some(f(&view));
        }
        let msg = Message::parse(raw).ok()?;
        let view = TxView::new(&msg).ok()?;
        Some(f(&view))
    }

    /// The status code of `raw`, a response this process built, from its start line: all a
    /// server transaction reads of the response it sends, but for the To tag of an RFC 2543
    /// transaction (see [`TxView::built_to_tag`] and
    /// [`TransactionLayer::respond_with`](super::transaction::TransactionLayer::respond_with)).
    /// `None` for a request or an unusual start line: [`TxView::with_built`] then gives the
    /// full view.
    pub fn built_status(raw: &[u8]) -> Option<u16> {
        match scan::start(raw)? {
            scan::Start::Response(code) => Some(code),
            scan::Start::Request(..) => None,
        }
    }

    /// The To tag of `raw`, a response this process built: by a scan of the lines up to
    /// To, or when that scan finds them unusual, the full parse's.
    pub fn built_to_tag(raw: &[u8]) -> Option<&[u8]> {
        if let Some(tag) = scan::response_to(raw).and_then(fields::tag) {
            return tag;
        }
        Message::parse(raw).ok()?.to().ok()?.tag()
    }

    /// The fields by light scans of the raw values; `None` if one of them is missing or
    /// not in its plain form.
    fn light(source: Source<'m, 'a>, start: (&'a [u8], u16, &'a [u8]), v: &scan::Values<'a>) -> Option<Self> {
        let (method, status, request_uri) = start;
        let top_via = fields::first_element(v.via?)?;
        let (sent_by, branch) = fields::via(top_via)?;
        let cseq = CSeq::parse(v.cseq?).ok()?;
        Some(TxView {
            source,
            method: if status == 0 { method } else { cseq.method.as_bytes() },
            status,
            request_uri,
            cseq: (cseq.seq, cseq.method.as_bytes()),
            top_via,
            branch,
            sent_by,
            call_id: fields::call_id(v.call_id?)?,
            from_tag: Tag::Found(fields::tag(v.from?)?),
            to_tag: Tag::Found(fields::tag(v.to?)?),
        })
    }

    /// The parsed message, unless the view came from a light scan of a built message.
    pub fn message(&self) -> Option<&'m Message<'a>> {
        match self.source {
            Source::Indexed(m) => Some(m),
            Source::Scanned(_) => None,
        }
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
        self.from_tag.get()
    }
    fn to_tag(&self) -> Option<&[u8]> {
        self.to_tag.get()
    }
    fn header_line(&self, name: TxHeader, index: usize) -> Option<&[u8]> {
        let msg = match &self.source {
            Source::Indexed(m) => m,
            Source::Scanned(lines) => return lines.get(name, index),
        };
        let want = header_name_of(name);
        let buf = msg.buffer();
        let h = msg.headers().filter(|h| h.name == want).nth(index)?;
        // The line runs from the raw name to the end of the value.
        let start = offset_in(buf, h.raw_name)?;
        let end = offset_in(buf, h.value)? + h.value.len();
        buf.get(start..end)
    }
}
