//! Responses built on the control thread (RFC 3261 8.2.6), into owned
//! buffers handed to a worker's transaction.

use crate::config::typed::DEFAULT_USER_AGENT;
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
/// It is written into this thread's scratch buffer and copied out at its exact size:
/// one allocation per response, nothing zeroed (the scratch buffer grows once to the
/// largest response, bounded by [`MAX_RESPONSE`] plus the body).
pub fn reply_to_tagged(req: &Message<'_>, code: u16, reason: &str, extra: &Extra, tag: &str) -> Vec<u8> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let build = |buf: &mut [u8], extra: &Extra| -> Result<usize, crate::sip::Overflow> {
        let mut b = Builder::response_to(buf, req, code, reason.as_bytes(), tag.as_bytes())?;
        for (name, value) in &extra.headers {
            b.header_raw(name.as_bytes(), value.as_bytes())?;
        }
        // RFC 3261 20.35; the rewriter (custom_headers.rs) leaves the default alone.
        b.header_raw(b"Server", DEFAULT_USER_AGENT.as_bytes())?;
        match &extra.body {
            Some((ctype, body)) => {
                b.header_raw(b"Content-Type", ctype.as_bytes())?;
                b.finish(body)
            }
            None => b.finish(b""),
        }
    };
    SCRATCH.with_borrow_mut(|buf| {
        let size = MAX_RESPONSE + extra.body.as_ref().map_or(0, |(_, b)| b.len());
        if buf.len() < size {
            buf.resize(size, 0);
        }
        let n = match build(buf, extra) {
            Ok(n) => n,
            Err(_) => build(buf, &Extra::warning("response too large")).unwrap_or(0),
        };
        buf.get(..n).unwrap_or(&[]).to_vec()
    })
}
