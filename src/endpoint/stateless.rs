//! Responses the endpoint builds itself (RFC 3261 8.2.6): to OPTIONS, and
//! the 400/481/503 it sends without asking the control thread.

use crate::sip::{Builder, HeaderName, Message, Method};

/// Methods the core handles (RFC 3261 20.5).
pub const ALLOW: &[u8] = b"INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE, REGISTER, SUBSCRIBE, NOTIFY, MESSAGE, INFO";
/// Extensions the core supports (RFC 3261 20.37).
pub const SUPPORTED: &[u8] = b"path, 100rel, timer, replaces, precondition, sec-agree, gruu";
/// Bodies the core accepts (RFC 3261 20.1).
pub const ACCEPT: &[u8] = b"application/sdp, application/vnd.3gpp.sms, text/plain, application/reginfo+xml";

/// Writes a response to `req` into `buf` and returns its length (0 if it
/// does not fit). OPTIONS 200s carry Allow/Accept/Supported (RFC 3261 11.2);
/// `warning` adds `Warning: 399 ringcore "..."` (RFC 3261 20.43);
/// `retry_after` adds Retry-After (RFC 3261 20.33) when not empty.
pub fn response(buf: &mut [u8], req: &Message<'_>, code: u16, reason: &str, warning: Option<&str>, retry_after: &str) -> usize {
    let to_tag = to_tag_for(req);
    let mut build = || -> Result<usize, crate::sip::Overflow> {
        let mut b = Builder::response_to(buf, req, code, reason.as_bytes(), &to_tag)?;
        if code == 200 && matches!(req.method(), Some(Method::Options)) {
            b.header(HeaderName::Allow, ALLOW)?;
            b.header(HeaderName::Accept, ACCEPT)?;
            b.header(HeaderName::Supported, SUPPORTED)?;
        }
        if let Some(w) = warning {
            let mut v = [0u8; 256];
            let text = format_warning(&mut v, w);
            b.header(HeaderName::Warning, text)?;
        }
        if !retry_after.is_empty() {
            b.header(HeaderName::RetryAfter, retry_after.as_bytes())?;
        }
        b.header(HeaderName::Server, b"ringcore")?;
        b.finish(b"")
    };
    build().unwrap_or(0)
}

/// `399 ringcore "text"` with quotes and backslashes removed from the text.
fn format_warning<'v>(v: &'v mut [u8; 256], text: &str) -> &'v [u8] {
    let mut n = 0;
    for &c in b"399 ringcore \"".iter().chain(text.as_bytes().iter().filter(|c| **c != b'"' && **c != b'\\').take(200)).chain(b"\"") {
        v[n] = c;
        n += 1;
    }
    &v[..n]
}

/// A deterministic To tag for stateless responses (RFC 3261 8.2.6.2: the same
/// request must get the same tag), hashed from the raw Call-ID and From
/// values (no parsing: this runs for every OPTIONS).
fn to_tag_for(req: &Message<'_>) -> [u8; 16] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let call_id = req.header(HeaderName::CallId).unwrap_or(b"");
    let from = req.header(HeaderName::From).unwrap_or(b"");
    for &b in call_id.iter().chain(from) {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = b"0123456789abcdef"[((h >> (i * 4)) & 15) as usize];
    }
    out
}
