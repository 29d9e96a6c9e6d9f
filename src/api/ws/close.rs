//! RFC 6455 5.5.1 and 7.4: close frames and their status codes.

/// A close status code (RFC 6455 7.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: endpoint going away.
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: data type that cannot be accepted.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1007: message data inconsistent with its type (bad UTF-8).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: policy violation.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: message too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1011: unexpected server condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);

    /// RFC 6455 7.4.1/7.4.2: may this code appear in a received close frame?
    /// 1004-1006 and 1015 are reserved for local use, 1016-2999 for future
    /// RFCs, below 1000 unused; 1012-1014 are IANA-registered.
    pub fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

/// A parsed close frame body: optional code and UTF-8 reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseBody<'a> {
    /// Status code; `None` when the body is empty.
    pub code: Option<CloseCode>,
    /// Reason text (empty when absent).
    pub reason: &'a str,
}

impl<'a> CloseBody<'a> {
    /// RFC 6455 5.5.1: an empty body, or a 2-byte code then UTF-8 reason.
    /// Errors carry the code to fail the connection with.
    pub fn parse(payload: &'a [u8]) -> Result<CloseBody<'a>, CloseCode> {
        match payload {
            [] => Ok(CloseBody { code: None, reason: "" }),
            [_] => Err(CloseCode::PROTOCOL_ERROR),
            [hi, lo, rest @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_valid_on_wire() {
                    return Err(CloseCode::PROTOCOL_ERROR);
                }
                let reason = std::str::from_utf8(rest).map_err(|_| CloseCode::INVALID_PAYLOAD)?;
                Ok(CloseBody { code: Some(code), reason })
            }
        }
    }

    /// Appends the body; the reason is cut to keep the payload within 125 bytes
    /// (RFC 6455 5.5) at a character boundary.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let Some(code) = self.code else { return };
        out.extend_from_slice(&code.0.to_be_bytes());
        let mut end = self.reason.len().min(super::frame::MAX_CONTROL_PAYLOAD - 2);
        while !self.reason.is_char_boundary(end) {
            end -= 1;
        }
        out.extend_from_slice(self.reason.as_bytes().get(..end).unwrap_or_default());
    }
}
