//! Responses built on the control thread (RFC 3261 8.2.6), into owned
//! buffers handed to a worker's transaction.

use crate::sip::{Builder, Message};

/// Largest response the control thread builds.
const MAX_RESPONSE: usize = 16 * 1024;

/// Extra content of a response.
#[derive(Default)]
pub struct Extra {
    /// Header lines (name, value) in order.
    pub headers: Vec<(&'static str, String)>,
    /// Content-Type and body.
    pub body: Option<(String, Vec<u8>)>,
}

impl Extra {
    /// Just a `Warning: 399 ringcore "text"` (RFC 3261 20.43).
    pub fn warning(text: &str) -> Extra {
        let clean: String = text.chars().filter(|c| *c != '"' && *c != '\\').take(200).collect();
        Extra { headers: vec![("Warning", format!("399 ringcore \"{clean}\""))], body: None }
    }
}

/// A deterministic To tag for the dialog-less responses of the control
/// thread (the same request always gets the same tag, RFC 3261 8.2.6.2).
pub fn local_tag(req: &Message<'_>) -> String {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for &b in req.call_id().unwrap_or(b"") {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    format!("rc{h:016x}")
}

/// Builds a response to `req` with the deterministic local tag. Never fails:
/// an oversized response is replaced by a bare one with a Warning.
pub fn reply_to(req: &Message<'_>, code: u16, reason: &str, extra: &Extra) -> Vec<u8> {
    reply_to_tagged(req, code, reason, extra, &local_tag(req))
}

/// Builds a response to `req` whose To tag (when the request has none) is `tag`.
pub fn reply_to_tagged(req: &Message<'_>, code: u16, reason: &str, extra: &Extra, tag: &str) -> Vec<u8> {
    let mut buf = vec![0u8; MAX_RESPONSE + extra.body.as_ref().map_or(0, |(_, b)| b.len())];
    let build = |buf: &mut [u8], extra: &Extra| -> Result<usize, crate::sip::Overflow> {
        let mut b = Builder::response_to(buf, req, code, reason.as_bytes(), tag.as_bytes())?;
        for (name, value) in &extra.headers {
            b.header_raw(name.as_bytes(), value.as_bytes())?;
        }
        b.header_raw(b"Server", b"ringcore")?;
        match &extra.body {
            Some((ctype, body)) => {
                b.header_raw(b"Content-Type", ctype.as_bytes())?;
                b.finish(body)
            }
            None => b.finish(b""),
        }
    };
    let n = match build(&mut buf, extra) {
        Ok(n) => n,
        Err(_) => build(&mut buf, &Extra::warning("response too large")).unwrap_or(0),
    };
    buf.truncate(n);
    buf
}
