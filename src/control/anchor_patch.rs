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
            push_connection(&mut out, ip);
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
    out.push(b' ');
    push_decimal(out, port);
    out.extend_from_slice(tail.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// RFC 8866 5.7 `c=IN IP4 <addr>` (or `IP6`) ended by CRLF; an IPv4 address written
/// digit by digit, as `Display` writes it, without the formatting machinery (this runs
/// for every anchored offer and answer).
fn push_connection(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            out.extend_from_slice(b"c=IN IP4 ");
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_decimal(out, u16::from(octet));
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "c=IN IP6 {v6}");
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// `n` in decimal (as `Display` writes it).
fn push_decimal(out: &mut Vec<u8>, n: u16) {
    let mut buf = super::calls::itoa_buf();
    out.extend_from_slice(super::calls::decimal(&mut buf, usize::from(n)).as_bytes());
}

/// RFC 8866 5: `<type>=<value>` ended by CRLF.
fn push_line(out: &mut Vec<u8>, kind: u8, value: &str) {
    out.extend_from_slice(&[kind, b'=']);
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::{push_connection, push_decimal};

    #[test]
    fn numbers_and_addresses_are_written_as_display_writes_them() {
        for n in [0u16, 7, 10, 99, 100, 4000, 40002, 65535] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
        for ip in ["0.0.0.0", "127.0.0.1", "10.20.255.9", "::1", "2001:db8::5"] {
            let ip: std::net::IpAddr = ip.parse().expect("literal");
            let mut out = Vec::new();
            push_connection(&mut out, ip);
            let kind = if ip.is_ipv4() { "IP4" } else { "IP6" };
            assert_eq!(String::from_utf8(out).expect("ascii"), format!("c=IN {kind} {ip}\r\n"));
        }
    }
}
