//! Public user identities as look-up keys: the normal form of a SIP or tel URI
//! ([`normalize_impu`]) and the global telephone number an identity names
//! ([`telephone_number`]), so that `tel:+1-555-0100`, `sip:+15550100@ims;user=phone` (RFC
//! 3261 19.1.6: its user part is then a telephone-subscriber, as the tel URL's) and a
//! subscriber configured as either reach the same user.

/// Normalises a public identity for look-ups: `sip:`/`sips:` URIs as
/// `sip:user@host` with the host lower-cased and no port, parameters or
/// headers (RFC 3261 19.1.4 compares hosts case-insensitively); `tel:` URIs
/// as `tel:` plus the number without visual separators (RFC 3966 5.1.1). The telephone
/// number of `sip:+N@host;user=phone` is matched to `tel:+N` by [`telephone_number`].
pub fn normalize_impu(uri: &str) -> String {
    // Built in one buffer without the formatting machinery: this runs several times for
    // every INVITE (caller and callee, each in both forms).
    let s = uri.trim().trim_start_matches('<').trim_end_matches('>');
    let mut out = String::with_capacity(s.len() + 4);
    if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("tel:")) {
        out.push_str("tel:");
        push_digits(&mut out, s.get(4..).unwrap_or(""));
        return out;
    }
    let rest = s
        .strip_prefix("sips:")
        .or_else(|| s.strip_prefix("sip:"))
        .or_else(|| s.get(..4).filter(|p| p.eq_ignore_ascii_case("sip:")).map(|_| &s[4..]))
        .unwrap_or(s);
    let rest = rest.split([';', '?']).next().unwrap_or(rest);
    out.push_str("sip:");
    let host = match rest.rsplit_once('@') {
        Some((user, host)) => {
            out.push_str(user);
            out.push('@');
            host
        }
        None => rest,
    };
    out.extend(strip_port(host).chars().map(|c| c.to_ascii_lowercase()));
    out
}

/// Appends a telephone-subscriber without its parameters and visual separators (RFC
/// 3966 5.1.1).
fn push_digits(out: &mut String, number: &str) {
    out.extend(number.split(';').next().unwrap_or("").chars().filter(|c| !"-.() ".contains(*c)));
}

/// A telephone-subscriber without its parameters and visual separators.
fn digits_of(number: &str) -> String {
    let mut out = String::with_capacity(number.len());
    push_digits(&mut out, number);
    out
}

/// The global number (`+` and digits) that normalised identity `impu` names: a
/// `tel:+...` URI, or a SIP URI whose user part is a global number (as UEs write theirs in
/// From and Request-URI, with or without `user=phone`; visual separators dropped, RFC
/// 3966 5.1.1). None otherwise.
pub fn telephone_number(impu: &str) -> Option<String> {
    let number = match impu.strip_prefix("tel:") {
        Some(n) => n,
        None => impu.strip_prefix("sip:")?.split('@').next()?,
    };
    let number = digits_of(number);
    let digits = number.strip_prefix('+')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(number)
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.split(':').next().unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impu_normalisation() {
        let cases = [
            ("<sip:Alice@IMS.Example.ORG:5060;transport=udp>", "sip:Alice@ims.example.org"),
            ("sips:bob@host", "sip:bob@host"),
            ("tel:+1-555-123.4567;phone-context=x", "tel:+15551234567"),
            ("sip:[2001:db8::1]:5060", "sip:[2001:db8::1]"),
        ];
        for (uri, normal) in cases {
            assert_eq!(normalize_impu(uri), normal, "{uri}");
        }
    }

    #[test]
    fn telephone_numbers_of_identities() {
        let dialled = normalize_impu("<sip:+1-555-0100@IMS.test;user=phone>");
        let cases = [
            ("tel:+15550100", Some("+15550100")),
            ("sip:+15550100@ims.test", Some("+15550100")),
            (dialled.as_str(), Some("+15550100")),
            ("sip:alice@ims.test", None),
            // A local number names no global one.
            ("tel:0612345678", None),
            ("sip:+@ims", None),
            ("sip:+1555x@ims", None),
        ];
        for (impu, number) in cases {
            assert_eq!(telephone_number(impu).as_deref(), number, "{impu}");
        }
    }
}
