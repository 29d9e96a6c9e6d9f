//! Light scans of the header values the transaction layer matches on: the top Via's
//! sent-by and branch (RFC 3261 20.42, 17.1.3, 17.2.3), Call-ID (20.8) and the From / To
//! `tag` parameter (19.3), read without parsing the URIs around them.
//!
//! Each scan returns `None` when the value is not in the plain form it expects; the
//! caller then uses the full parsers (`Via::parse`, `NameAddr::parse`), so a scan never
//! has to decide that a value is malformed. On a value the full parsers accept, each scan
//! gives exactly what they give (see the tests).

use super::super::scan::{find_byte, find_param, find_unquoted, is_lws, is_token_str, parse_u32, trim, Split};

/// The first non-empty element of a comma list (RFC 3261 7.3.1), as
/// `Message::header_values` splits it.
pub(super) fn first_element(v: &[u8]) -> Option<&[u8]> {
    Split::new(v, b',').find(|e| !e.is_empty())
}

/// RFC 3261 20.42: `sent-protocol LWS sent-by *( SEMI via-params )` with sent-protocol
/// written `name/version/transport` and sent-by `host[:port]`, both without inner LWS.
/// Gives sent-by as written and the `branch` parameter.
pub(super) fn via(v: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let semi = find_unquoted(v, b';');
    let head = trim(v.get(..semi.unwrap_or(v.len()))?);
    let params = match semi {
        Some(i) => v.get(i + 1..)?,
        None => &[][..],
    };
    let sp = head.iter().position(|&b| is_lws(b))?;
    let (protocol, sent_by) = (head.get(..sp)?, trim(head.get(sp..)?));
    let mut parts = protocol.split(|&b| b == b'/');
    let plain_protocol = parts.by_ref().take(3).filter(|p| is_token_str(p)).count() == 3 && parts.next().is_none();
    if !plain_protocol || !plain_sent_by(sent_by) {
        return None;
    }
    // RFC 3261 17.1.3 / 17.2.3: the branch parameter identifies the transaction.
    Some((sent_by, find_param(params, b"branch").flatten()))
}

/// `host [":" port]` with a hostname, an IPv4 address or a bracketed IPv6 reference
/// (RFC 3261 25.1), port at most 65535.
fn plain_sent_by(s: &[u8]) -> bool {
    let (host, port) = match s.first() {
        Some(b'[') => {
            let Some(close) = find_byte(b']', s) else { return false };
            let inner = s.get(1..close).unwrap_or_default();
            let ok = !inner.is_empty() && inner.iter().all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
            if !ok {
                return false;
            }
            (&b"["[..], s.get(close + 1..).unwrap_or_default())
        }
        _ => {
            let colon = find_byte(b':', s).unwrap_or(s.len());
            (s.get(..colon).unwrap_or_default(), s.get(colon..).unwrap_or_default())
        }
    };
    let host_ok = host == b"[" || (!host.is_empty() && host.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
    let port_ok = match port {
        [] => true,
        [b':', digits @ ..] => digits.len() <= 5 && parse_u32(digits).is_some_and(|p| p <= 65535),
        _ => false,
    };
    host_ok && port_ok
}

/// RFC 3261 25.1: `Call-ID = word [ "@" word ]`: the trimmed value, non-empty and without
/// LWS or controls (what `Message::call_id` accepts).
pub(super) fn call_id(v: &[u8]) -> Option<&[u8]> {
    let v = trim(v);
    (!v.is_empty() && v.iter().all(|&b| b > b' ')).then_some(v)
}

/// RFC 3261 19.3 / 20.20 / 20.39: the `tag` parameter of a From or To value: the header
/// parameters follow the `>` of a name-addr, or the first `;` of an addr-spec (which
/// cannot contain one, RFC 3261 20). `Some(None)`: no tag; `None`: not a plain value.
pub(super) fn tag(v: &[u8]) -> Option<Option<&[u8]>> {
    let v = trim(v);
    let params = match find_unquoted(v, b'<') {
        Some(lt) => {
            let after = v.get(lt + 1..)?;
            let gt = find_byte(b'>', after)?;
            match trim(after.get(gt + 1..)?) {
                [] => &[][..],
                [b';', p @ ..] => p,
                _ => return None,
            }
        }
        None => match find_byte(b';', v) {
            Some(semi) => v.get(semi + 1..)?,
            None => &[][..],
        },
    };
    Some(find_param(params, b"tag").flatten())
}
