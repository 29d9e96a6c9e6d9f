//! Message framing on stream transports (RFC 3261 18.3: Content-Length is mandatory on
//! streams) and RFC 5626 3.5.1 / 4.4.1 CRLF keep-alives.

use super::header::HeaderName;
use super::scan::{parse_u32, trim};

/// Why a stream buffer cannot be framed; the connection should be closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// No end of headers within `max` bytes, or headers plus body exceed `max`.
    TooLarge,
    /// No Content-Length header (mandatory on streams, RFC 3261 18.3).
    MissingContentLength,
    /// Content-Length is not a number, or appears twice with different values.
    BadContentLength,
}

/// A keep-alive at the start of a stream buffer (RFC 5626 4.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepAlive {
    /// `CRLF CRLF` ping: consume 4 bytes and answer with a single CRLF pong.
    Ping,
    /// A single `CRLF` pong (or a stray CRLF between messages): consume 2 bytes.
    Pong,
}

impl KeepAlive {
    /// Bytes to consume from the buffer.
    pub fn len(&self) -> usize {
        match self {
            KeepAlive::Ping => 4,
            KeepAlive::Pong => 2,
        }
    }

    /// Never true.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The pong to send in answer to a [`KeepAlive::Ping`].
pub const PONG: &[u8] = b"\r\n";

/// Detects a keep-alive at the start of `buf`. A lone CRLF at the end of the buffer is
/// reported as a pong (pings are sent in one write, RFC 5626 4.4.1).
pub fn keepalive(buf: &[u8]) -> Option<KeepAlive> {
    if buf.starts_with(b"\r\n\r\n") {
        Some(KeepAlive::Ping)
    } else if buf.starts_with(b"\r\n") && buf.get(2) != Some(&b'\r') {
        Some(KeepAlive::Pong)
    } else {
        None
    }
}

/// Length of the first complete message in a stream buffer, including any leading CRLFs
/// (which are skipped; call [`keepalive`] first to answer pings). `Ok(None)` if more bytes
/// are needed.
pub fn frame_len(buf: &[u8], max: usize) -> Result<Option<usize>, FrameError> {
    let skip = buf.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(buf.len());
    let msg = buf.get(skip..).unwrap_or(&[]);
    let window = msg.get(..msg.len().min(max)).unwrap_or(msg);
    let Some(hend) = window.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if msg.len() >= max { Err(FrameError::TooLarge) } else { Ok(None) };
    };
    let headers = msg.get(..hend + 2).unwrap_or(&[]);
    let body_len = content_length(headers)? as usize;
    let total = hend + 4 + body_len;
    if total > max {
        return Err(FrameError::TooLarge);
    }
    Ok(if msg.len() >= total { Some(skip + total) } else { None })
}

/// Finds Content-Length (or compact `l`) in a header block (each line ends with CRLF).
fn content_length(headers: &[u8]) -> Result<u32, FrameError> {
    let mut found: Option<u32> = None;
    let mut fields = headers.split(|&b| b == b'\n').skip(1).peekable();
    while let Some(line) = fields.next() {
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let name = trim(line.get(..colon).unwrap_or(&[]));
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t')
            || HeaderName::from_bytes(name) != HeaderName::ContentLength
        {
            continue;
        }
        let mut value = trim(line.get(colon + 1..).unwrap_or(&[]));
        // A folded value: the number is on the continuation line.
        if value.is_empty() {
            if let Some(next) = fields.next_if(|l| l.first().is_some_and(|&b| b == b' ' || b == b'\t')) {
                value = trim(next);
            }
        }
        let n = parse_u32(value).ok_or(FrameError::BadContentLength)?;
        if found.is_some_and(|f| f != n) {
            return Err(FrameError::BadContentLength);
        }
        found = Some(n);
    }
    found.ok_or(FrameError::MissingContentLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nl: 3\r\n\r\nabc";

    #[test]
    fn frames_stream_messages() {
        assert_eq!(frame_len(MSG, 1000), Ok(Some(MSG.len())));
        let mut two = MSG.to_vec();
        two.extend_from_slice(MSG);
        assert_eq!(frame_len(&two, 1000), Ok(Some(MSG.len())));
        assert_eq!(frame_len(&MSG[..MSG.len() - 1], 1000), Ok(None));
        assert_eq!(frame_len(&MSG[..10], 1000), Ok(None));
        let mut ka = b"\r\n\r\n".to_vec();
        ka.extend_from_slice(MSG);
        assert_eq!(frame_len(&ka, 1000), Ok(Some(MSG.len() + 4)));
        assert_eq!(frame_len(MSG, 20), Err(FrameError::TooLarge));
        assert_eq!(frame_len(MSG, 33), Err(FrameError::TooLarge));
    }

    #[test]
    fn content_length_errors() {
        let no_cl = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n";
        assert_eq!(frame_len(no_cl, 1000), Err(FrameError::MissingContentLength));
        let bad = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n";
        assert_eq!(frame_len(bad, 1000), Err(FrameError::BadContentLength));
        let folded = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n 2\r\n\r\nab";
        assert_eq!(frame_len(folded, 1000), Ok(Some(folded.len())));
    }

    #[test]
    fn keepalives() {
        assert_eq!(keepalive(b"\r\n\r\nINVITE"), Some(KeepAlive::Ping));
        assert_eq!(keepalive(b"\r\n"), Some(KeepAlive::Pong));
        assert_eq!(keepalive(b"\r\n\r"), None);
        assert_eq!(keepalive(b"INVITE"), None);
        assert_eq!(KeepAlive::Ping.len(), 4);
    }
}
