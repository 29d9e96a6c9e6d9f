//! Anchored SDP written by patching the body text (RFC 3264 5, 6 through a
//! relay): the lines of a body checked by [`SdpView::new_valid`] are copied into
//! one output buffer and only what anchoring changes is rewritten — one
//! session-level `c=` naming our address, each `m=` port, no media-level `c=`
//! and no `a=rtcp`. For a body in RFC 8866 5 line order with CRLF ends the
//! result is byte for byte what parsing, rewriting and emitting the
//! [`crate::sdp::SessionDescription`] gives.

use crate::sdp::{SdpView, MAX_MEDIA};
use std::io::Write;
use std::net::IpAddr;

/// Writes `view` pointing every media section at `ip`: `ports[i]` is the port
/// of section `i` (None or missing: 0, the section is rejected).
pub fn patch(view: &SdpView<'_>, ip: IpAddr, ports: &[Option<u16>]) -> Vec<u8> {
    // Growth bound: CR added to each LF-only line, the c= line, up to 4 more port digits per m=.
    let mut out = Vec::with_capacity(view.as_str().len() + view.line_count() + 64 + 4 * MAX_MEDIA);
    let mut wrote_c = false;
    let mut section: Option<usize> = None;
    for l in view.lines() {
        // RFC 8866 5: v o s i u e p precede the session c=; it goes before anything else.
        if section.is_none() && !wrote_c && !matches!(l.kind, b'v' | b'o' | b's' | b'i' | b'u' | b'e' | b'p') {
            // RFC 8866 5.7: one session-level c= names our relay address.
            let _ = write!(out, "c=IN {} {ip}\r\n", if ip.is_ipv4() { "IP4" } else { "IP6" });
            wrote_c = true;
        }
        match (l.kind, section) {
            (b'm', _) => {
                let i = section.map_or(0, |i| i + 1);
                section = Some(i);
                patch_m(&mut out, l.value, ports.get(i).copied().flatten().unwrap_or(0));
            }
            // Replaced by ours (session level), or covered by it (media level).
            (b'c', _) => {}
            // RFC 3605 2.1: a=rtcp names the other side's address; RTCP is on port + 1 here.
            (b'a', Some(_)) if l.value.starts_with("rtcp:") => {}
            _ => push_line(&mut out, l.kind, l.value),
        }
    }
    out
}

/// RFC 8866 5.14 `m=<media> <port>[/<number of ports>] <proto> <fmt> ...`: only
/// `<port>` changes (RFC 3264 6: 0 rejects the stream).
fn patch_m(out: &mut Vec<u8>, value: &str, port: u16) {
    let (kind, rest) = value.split_once(' ').unwrap_or((value, ""));
    let tail = rest.find(['/', ' ']).and_then(|i| rest.get(i..)).unwrap_or("");
    out.extend_from_slice(b"m=");
    out.extend_from_slice(kind.as_bytes());
    let _ = write!(out, " {port}");
    out.extend_from_slice(tail.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// RFC 8866 5: `<type>=<value>` ended by CRLF.
fn push_line(out: &mut Vec<u8>, kind: u8, value: &str) {
    out.extend_from_slice(&[kind, b'=']);
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}
