//! Building the B2BUA's messages: requests in a dialog (shared by the call legs, the echo
//! service, the MT calls and SMS), the extension headers of leg B's INVITE, the body a
//! relayed message carries (SDP anchored) and decimal numbers without the formatting
//! machinery.

use super::super::anchor::{self, Anchor};
use super::super::session_timer;
use super::{lossy, text, Dialog};
use crate::config::typed::{Refresher, DEFAULT_USER_AGENT};
use crate::ims::bindings::Bindings;
use crate::sip::{HeaderName, Message};

/// The body to forward: SDP rewritten to our anchored ports (towards leg B
/// when `towards_b`), anything else unchanged.
pub(super) fn sdp_for(ip: std::net::IpAddr, anchors: &[Anchor], towards_b: bool, ctype: Option<&str>, body: &[u8]) -> Vec<u8> {
    if !is_sdp(ctype) || anchors.is_empty() || body.is_empty() {
        return body.to_vec();
    }
    anchor::rewrite_for(ip, anchors, towards_b, body).unwrap_or_else(|| body.to_vec())
}

/// True when `msg` carries SDP: a non-empty body of an SDP Content-Type (an offer or an
/// answer, RFC 3264 4).
pub(super) fn has_sdp(msg: &Message<'_>) -> bool {
    !msg.body().is_empty() && msg.header(HeaderName::ContentType).is_some_and(crate::sdp::is_media_type)
}

/// True for an SDP body's Content-Type ([`crate::sdp::is_media_type`]).
pub(super) fn is_sdp(ctype: Option<&str>) -> bool {
    ctype.is_some_and(|c| crate::sdp::is_media_type(c.as_bytes()))
}

/// Header lines added to a built request or response.
pub(in crate::control) type Headers = Vec<(&'static str, String)>;

/// The option tags of `name` in `msg` except those in `drop`, then `add`, as one header
/// value (RFC 3261 7.3.1, comma separated) written straight into its buffer.
pub(super) fn tokens_except(msg: &Message<'_>, name: HeaderName, drop: &[&[u8]], add: Option<&str>) -> String {
    let kept = msg.tokens(name).filter(|t| !drop.iter().any(|d| t.eq_ignore_ascii_case(d))).map(lossy);
    let mut value = String::new();
    for (i, t) in kept.chain(add.map(std::borrow::Cow::Borrowed)).enumerate() {
        if i > 0 {
            value.push_str(", ");
        }
        value.push_str(&t);
    }
    value
}

/// The extension headers of our INVITE on leg B: the caller's Supported and
/// Require (RFC 3262 `100rel` and RFC 3312 `precondition` removed when
/// disabled for the caller), and the session timer (RFC 4028 8.1:
/// Session-Expires and Min-SE, `timer` supported) when `se` = (interval,
/// refresher, Min-SE) is given.
pub(super) fn b_leg_options(msg: &Message<'_>, rel100: bool, precondition: bool, se: Option<(u32, Option<Refresher>, u32)>) -> Headers {
    let all: [&[u8]; 3] = [b"timer", b"100rel", b"precondition"];
    let drop: &[&[u8]] = match (rel100, precondition) {
        (true, true) => &all[..1],
        (false, true) => &all[..2],
        (true, false) => &[b"timer", b"precondition"],
        (false, false) => &all,
    };
    let supported = tokens_except(msg, HeaderName::Supported, drop, se.map(|_| "timer"));
    let require = tokens_except(msg, HeaderName::Require, drop, None);
    let mut h = Headers::with_capacity(5);
    if let Some((interval, refresher, min_se)) = se {
        h.push(("Session-Expires", session_timer::header_value(interval, refresher)));
        h.push(("Min-SE", min_se.to_string()));
    }
    if !supported.is_empty() {
        h.push(("Supported", supported));
    }
    if !require.is_empty() {
        h.push(("Require", require));
    }
    // The caller's User-Agent stays unless force_user_agent replaces it (custom_headers).
    copy_headers(msg, &[HeaderName::UserAgent], &mut h);
    h
}

/// seed 000 `callflow_modifier.imei`: the IMEI the caller registered with.
pub(super) fn caller_imei(bindings: &Bindings, caller: &str) -> Option<String> {
    bindings.lookup(caller).flat_map(|r| r.contacts.iter()).find_map(|c| c.imei.clone())
}

/// Copies the end-to-end extension headers of a relayed message.
pub(super) fn copy_headers(msg: &Message<'_>, names: &[HeaderName], into: &mut Headers) {
    for n in names {
        for v in msg.headers_of(*n) {
            into.push((n.as_str(), text(v)));
        }
    }
}

/// Builds a request in dialog `d` without extra headers (see [`build_request_ext`]).
#[allow(clippy::too_many_arguments)]
pub(in crate::control) fn build_request(local_addr: &str, d: &Dialog, method: &str, cseq: u32, branch: &str, ctype: Option<&str>, body: &[u8], asserted: Option<&str>) -> Vec<u8> {
    build_request_ext(local_addr, d, method, cseq, branch, ctype, body, asserted, &[])
}

/// Room for the decimal digits of a `usize`.
pub(in crate::control) fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

/// `n` in decimal, written at the end of `buf`.
pub(in crate::control) fn decimal(buf: &mut [u8; 20], mut n: usize) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        // n % 10 < 10: the digit fits a u8; i stays in 0..20 since a usize has at most 20 digits.
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// Builds a request in dialog `d` (RFC 3261 12.2.1.1): Request-URI = remote
/// target, Route set, From/To/Call-ID of the dialog, our Via; a Contact on
/// INVITEs and UPDATEs (8.1.1.8, RFC 3311 5.1), P-Asserted-Identity when
/// `asserted` is given, then `extra` header lines. Shared by the call legs,
/// the echo service and the MT calls.
#[allow(clippy::too_many_arguments)]
pub(in crate::control) fn build_request_ext(
    local_addr: &str,
    d: &Dialog,
    method: &str,
    cseq: u32,
    branch: &str,
    ctype: Option<&str>,
    body: &[u8],
    asserted: Option<&str>,
    extra: &[(&'static str, String)],
) -> Vec<u8> {
    let transport = if d.peer.is_reliable() { "TCP" } else { "UDP" };
    // One allocation of the final size's order; the pieces are copied in without the
    // formatting machinery (this runs for every request of every call).
    let extra_len: usize = extra.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
    let routes_len: usize = d.routes.iter().map(|r| r.len() + 9).sum();
    let guess = 384 + d.target.len() + d.local.len() + d.remote.len() + d.call_id.len() + routes_len + extra_len + body.len();
    let mut m: Vec<u8> = Vec::with_capacity(guess);
    let put = |m: &mut Vec<u8>, parts: &[&str]| parts.iter().for_each(|p| m.extend_from_slice(p.as_bytes()));
    put(&mut m, &[method, " ", &d.target, " SIP/2.0\r\nVia: SIP/2.0/", transport, " ", local_addr, ";branch=", branch, "\r\nMax-Forwards: 70\r\n"]);
    for r in &d.routes {
        put(&mut m, &["Route: ", r, "\r\n"]);
    }
    let mut num = itoa_buf();
    put(&mut m, &["From: ", &d.local, "\r\nTo: ", &d.remote, "\r\nCall-ID: ", &d.call_id, "\r\nCSeq: ", decimal(&mut num, cseq as usize), " ", method, "\r\n"]);
    if method == "INVITE" || method == "UPDATE" {
        put(&mut m, &["Contact: <sip:ringcore@", local_addr, ">\r\n"]);
    }
    if let Some(id) = asserted {
        // TS 24.229 5.4.3.3: the served user's asserted identity.
        put(&mut m, &["P-Asserted-Identity: <", id, ">\r\n"]);
    }
    for (name, value) in extra {
        put(&mut m, &[name, ": ", value, "\r\n"]);
    }
    // RFC 3261 20.41; the rewriter (custom_headers.rs) leaves the default alone.
    put(&mut m, &["User-Agent: ", DEFAULT_USER_AGENT, "\r\n"]);
    if let Some(ct) = ctype.filter(|_| !body.is_empty()) {
        put(&mut m, &["Content-Type: ", ct, "\r\n"]);
    }
    put(&mut m, &["Content-Length: ", decimal(&mut num, body.len()), "\r\n\r\n"]);
    m.extend_from_slice(body);
    m
}

