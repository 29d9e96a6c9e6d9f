//! What the transaction layer reads of a parsed SIP message.
//!
//! The layer does not parse SIP: the SIP parser's zero-copy view implements [`TxMessage`].
//! Every slice a view returns must borrow from the raw message bytes the view was parsed
//! from (a zero-copy parser does this naturally); for outgoing requests the layer records
//! the offsets of those slices inside the bytes it keeps, so that it can later build an
//! ACK (RFC 3261 17.1.1.3) or a 408 (Timer B/F) from them without parsing again.

/// Header fields the layer copies whole into the messages it builds
/// (100 Trying, ACK for non-2xx, 408 on timeout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxHeader {
    /// `Via` (every line, top first).
    Via,
    /// `From`.
    From,
    /// `To`.
    To,
    /// `Call-ID`.
    CallId,
    /// `CSeq`.
    CSeq,
    /// `Route` (every line, in order).
    Route,
    /// `Timestamp` (copied into 100 Trying, RFC 3261 8.2.6.1).
    Timestamp,
}

/// The view of a SIP message the transaction layer needs, implemented by the SIP parser.
///
/// Accessors for fields a message lacks return an empty slice (or `None` where stated);
/// the layer treats such messages as stray or malformed, never panics on them.
pub trait TxMessage {
    /// True for a request, false for a response.
    fn is_request(&self) -> bool;
    /// Request method (`INVITE`, `ACK`, ...); unused for responses.
    fn method(&self) -> &[u8];
    /// Status code of a response; unused for requests.
    fn status(&self) -> u16;
    /// Request-URI of a request, as it appears on the request line.
    fn request_uri(&self) -> &[u8];
    /// CSeq sequence number and method.
    fn cseq(&self) -> (u32, &[u8]);
    /// The first (topmost) Via value, without the header name, e.g.
    /// `SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776`.
    fn top_via(&self) -> &[u8];
    /// The `branch` parameter of the top Via value, if present.
    fn top_via_branch(&self) -> Option<&[u8]>;
    /// The sent-by (`host[:port]`) of the top Via value.
    fn top_via_sent_by(&self) -> &[u8];
    /// Call-ID value.
    fn call_id(&self) -> &[u8];
    /// `tag` parameter of From, if present.
    #[allow(clippy::wrong_self_convention)] // Named after the From header, not a conversion.
    fn from_tag(&self) -> Option<&[u8]>;
    /// `tag` parameter of To, if present.
    fn to_tag(&self) -> Option<&[u8]>;
    /// The `index`-th header line (0-based) of kind `name`, complete with its name and
    /// without the line end, e.g. `Call-ID: a84b4c76e66710`; `None` past the last one.
    fn header_line(&self, name: TxHeader, index: usize) -> Option<&[u8]>;
}
