//! RFC 6455 4.2 opening handshake, server side: parsing the client's HTTP/1.1
//! Upgrade request and emitting the 101 answer or a rejection.

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// RFC 6455 1.3: GUID appended to Sec-WebSocket-Key before hashing.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Why an Upgrade request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeError {
    /// The header block exceeds the configured bound.
    TooLarge,
    /// Not an HTTP/1.1 request with well-formed header lines.
    Malformed,
    /// RFC 6455 4.1: the method must be GET.
    NotGet,
    /// RFC 6455 4.2.1 item 2: Host is required.
    MissingHost,
    /// RFC 6455 4.2.1 items 3-4: Upgrade: websocket and Connection: Upgrade.
    NotUpgrade,
    /// RFC 6455 4.2.1 item 5: Sec-WebSocket-Key must decode to 16 bytes.
    BadKey,
    /// RFC 6455 4.2.1 item 6: only version 13 is spoken.
    UnsupportedVersion,
    /// Seed 000 6: "Origin header is mandatory for the server to accept connections".
    MissingOrigin,
}

impl HandshakeError {
    /// HTTP status line code and reason for the rejection.
    pub fn status(self) -> (u16, &'static str) {
        match self {
            HandshakeError::TooLarge => (431, "Request Header Fields Too Large"),
            HandshakeError::NotGet => (405, "Method Not Allowed"),
            // RFC 6455 4.4: answer an unknown version with 426 and the versions spoken.
            HandshakeError::UnsupportedVersion => (426, "Upgrade Required"),
            HandshakeError::MissingOrigin => (403, "Forbidden"),
            _ => (400, "Bad Request"),
        }
    }
}

/// Checked view of a WebSocket Upgrade request (the header block up to and
/// including the blank line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpgradeRequest<'a> {
    /// Request-target.
    pub path: &'a str,
    /// Host header.
    pub host: &'a str,
    /// Origin header (any value is accepted, seed 000 6).
    pub origin: &'a str,
    /// Sec-WebSocket-Key header.
    pub key: &'a str,
    /// Sec-WebSocket-Protocol header, if any (no subprotocol is selected).
    pub protocols: Option<&'a str>,
}

/// Length of the header block (through CRLF CRLF) at the start of `buf`, if complete.
pub fn header_block_len(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

impl<'a> UpgradeRequest<'a> {
    /// Parses and validates a complete header block.
    pub fn parse(block: &'a [u8]) -> Result<UpgradeRequest<'a>, HandshakeError> {
        let text = std::str::from_utf8(block).map_err(|_| HandshakeError::Malformed)?;
        let mut lines = text.split("\r\n");
        let path = parse_request_line(lines.next().unwrap_or_default())?;
        let mut h = Headers::default();
        for line in lines.take_while(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').ok_or(HandshakeError::Malformed)?;
            if name.is_empty() || name.contains([' ', '\t']) {
                return Err(HandshakeError::Malformed);
            }
            h.set(name, value.trim_matches([' ', '\t']))?;
        }
        h.validate(path)
    }
}

/// RFC 7230 3.1.1 request-line: `GET <target> HTTP/1.1`.
fn parse_request_line(line: &str) -> Result<&str, HandshakeError> {
    let mut parts = line.split(' ');
    let (Some(method), Some(path), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(HandshakeError::Malformed);
    };
    // RFC 6455 4.1 item 2: HTTP/1.1 or higher.
    if version != "HTTP/1.1" || path.is_empty() {
        return Err(HandshakeError::Malformed);
    }
    if method != "GET" {
        return Err(HandshakeError::NotGet);
    }
    Ok(path)
}

/// The header fields the handshake looks at.
#[derive(Default)]
struct Headers<'a> {
    host: Option<&'a str>,
    upgrade: bool,
    connection_upgrade: bool,
    key: Option<&'a str>,
    version: Option<&'a str>,
    origin: Option<&'a str>,
    protocols: Option<&'a str>,
}

impl<'a> Headers<'a> {
    fn set(&mut self, name: &str, value: &'a str) -> Result<(), HandshakeError> {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        let once = |slot: &mut Option<&'a str>| match slot.replace(value) {
            None => Ok(()),
            Some(_) => Err(HandshakeError::Malformed),
        };
        if is("Host") {
            once(&mut self.host)?;
        } else if is("Upgrade") {
            self.upgrade |= has_token(value, "websocket");
        } else if is("Connection") {
            self.connection_upgrade |= has_token(value, "Upgrade");
        } else if is("Sec-WebSocket-Key") {
            once(&mut self.key)?;
        } else if is("Sec-WebSocket-Version") {
            once(&mut self.version)?;
        } else if is("Origin") || is("Sec-WebSocket-Origin") {
            self.origin = Some(value);
        } else if is("Sec-WebSocket-Protocol") {
            self.protocols = Some(value);
        }
        Ok(())
    }

    fn validate(self, path: &'a str) -> Result<UpgradeRequest<'a>, HandshakeError> {
        let host = self.host.filter(|h| !h.is_empty()).ok_or(HandshakeError::MissingHost)?;
        if !self.upgrade || !self.connection_upgrade {
            return Err(HandshakeError::NotUpgrade);
        }
        let key = self.key.ok_or(HandshakeError::BadKey)?;
        // RFC 6455 4.2.1 item 5: base64 of a 16-byte nonce.
        match base64::engine::general_purpose::STANDARD.decode(key) {
            Ok(nonce) if nonce.len() == 16 => {}
            _ => return Err(HandshakeError::BadKey),
        }
        if self.version != Some("13") {
            return Err(HandshakeError::UnsupportedVersion);
        }
        let origin = self.origin.ok_or(HandshakeError::MissingOrigin)?;
        Ok(UpgradeRequest { path, host, origin, key, protocols: self.protocols })
    }
}

/// Case-insensitive membership of `token` in a comma-separated header value.
fn has_token(value: &str, token: &str) -> bool {
    value.split(',').any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// RFC 6455 4.2.2 item 5.4: base64(SHA-1(key + GUID)).
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(WS_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// Appends the RFC 6455 4.2.2 item 5 response accepting `req`.
pub fn emit_accept(req: &UpgradeRequest<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
    out.extend_from_slice(accept_key(req.key).as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
}

/// Appends an HTTP error response for a refused handshake.
pub fn emit_reject(err: HandshakeError, out: &mut Vec<u8>) {
    let (code, reason) = err.status();
    let extra = if err == HandshakeError::UnsupportedVersion { "Sec-WebSocket-Version: 13\r\n" } else { "" };
    let head = format!("HTTP/1.1 {code} {reason}\r\n{extra}Connection: close\r\nContent-Length: 0\r\n\r\n");
    out.extend_from_slice(head.as_bytes());
}
