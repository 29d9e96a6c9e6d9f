//! SIP, SIPS (RFC 3261 19.1, 25.1) and tel (RFC 3966) URIs as zero-copy views: user,
//! password, host (IPv6 references keep their brackets), port, parameters and headers.
//! Escapes are kept verbatim; [`unescape_pct`](super::scan::unescape_pct) expands them.

use super::error::Error;
use super::scan::{eq_ic, find_byte, Params};

/// URI scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme<'a> {
    /// `sip:`
    Sip,
    /// `sips:`
    Sips,
    /// `tel:` (RFC 3966)
    Tel,
    /// Any other absoluteURI scheme (RFC 4475 unkscm, novelsc); the URI is opaque.
    Other(&'a [u8]),
}

/// A parsed URI. For `tel:` the telephone-subscriber number is in `user` and `host` is
/// empty; for other schemes only `scheme` and `raw` are set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uri<'a> {
    /// The whole URI.
    pub raw: &'a [u8],
    /// Scheme.
    pub scheme: Scheme<'a>,
    /// User part (escaped form), or the tel number.
    pub user: Option<&'a [u8]>,
    /// Password (RFC 3261 19.1.1; NOT RECOMMENDED but legal).
    pub password: Option<&'a [u8]>,
    /// Host: hostname, IPv4 address or bracketed IPv6 reference.
    pub host: &'a [u8],
    /// Port, if given.
    pub port: Option<u16>,
    /// URI parameters, the text after the first `;` (before `?`), empty if none.
    pub params: &'a [u8],
    /// Headers, the text after `?`.
    pub headers: Option<&'a [u8]>,
}

impl<'a> Uri<'a> {
    /// Parses a URI (no surrounding `<>`, no LWS).
    pub fn parse(raw: &'a [u8]) -> Result<Uri<'a>, Error> {
        let colon = find_byte(b':', raw).ok_or(Error::BadUri)?;
        let scheme_s = raw.get(..colon).unwrap_or(&[]);
        let rest = raw.get(colon + 1..).unwrap_or(&[]);
        // No early exit: the fold vectorises.
        let ctl = raw.iter().fold(false, |a, &b| a | (b <= b' ') | (b == 0x7f));
        if scheme_s.is_empty() || rest.is_empty() || ctl {
            return Err(Error::BadUri);
        }
        let mut uri = Uri {
            raw,
            scheme: Scheme::Other(scheme_s),
            user: None,
            password: None,
            host: &[],
            port: None,
            params: &[],
            headers: None,
        };
        if eq_ic(scheme_s, b"sip") {
            uri.scheme = Scheme::Sip;
            uri.parse_sip(rest)?;
        } else if eq_ic(scheme_s, b"sips") {
            uri.scheme = Scheme::Sips;
            uri.parse_sip(rest)?;
        } else if eq_ic(scheme_s, b"tel") {
            uri.scheme = Scheme::Tel;
            uri.parse_tel(rest)?;
        } else if !scheme_s.first().is_some_and(u8::is_ascii_alphabetic)
            || !scheme_s.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            return Err(Error::BadUri);
        }
        Ok(uri)
    }

    fn parse_sip(&mut self, rest: &'a [u8]) -> Result<(), Error> {
        // RFC 3261 25.1: userinfo may itself contain ';', '?' and ':' (RFC 4475 semiuri,
        // intmeth), so split at '@' first; '@' is not allowed unescaped anywhere else.
        let hostpart = match find_byte(b'@', rest) {
            Some(at) => {
                let userinfo = rest.get(..at).unwrap_or(&[]);
                match find_byte(b':', userinfo) {
                    Some(c) => {
                        self.user = userinfo.get(..c);
                        self.password = userinfo.get(c + 1..);
                    }
                    None => self.user = Some(userinfo),
                }
                if userinfo.is_empty() {
                    return Err(Error::BadUri);
                }
                rest.get(at + 1..).unwrap_or(&[])
            }
            None => rest,
        };
        let q = find_byte(b'?', hostpart);
        let before_q = hostpart.get(..q.unwrap_or(hostpart.len())).unwrap_or(&[]);
        self.headers = q.and_then(|i| hostpart.get(i + 1..));
        let semi = find_byte(b';', before_q).unwrap_or(before_q.len());
        self.params = before_q.get(semi + 1..).unwrap_or(&[]);
        let (host, port) = split_host_port(before_q.get(..semi).unwrap_or(&[]))?;
        self.host = host;
        self.port = port;
        Ok(())
    }

    fn parse_tel(&mut self, rest: &'a [u8]) -> Result<(), Error> {
        // RFC 3966 3: telephone-subscriber = global-number / local-number
        let semi = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
        let number = rest.get(..semi).unwrap_or(&[]);
        self.params = rest.get(semi + 1..).unwrap_or(&[]);
        let visual = |b: u8| matches!(b, b'-' | b'.' | b'(' | b')');
        let ok = match number {
            [b'+', digits @ ..] => {
                digits.iter().any(u8::is_ascii_digit)
                    && digits.iter().all(|&b| b.is_ascii_digit() || visual(b))
            }
            _ => {
                // RFC 3966 5.1.5: a local number requires a phone-context.
                !number.is_empty()
                    && number.iter().all(|&b| b.is_ascii_hexdigit() || b == b'*' || b == b'#' || visual(b))
                    && self.param(b"phone-context").flatten().is_some()
            }
        };
        if !ok {
            return Err(Error::BadUri);
        }
        self.user = Some(number);
        Ok(())
    }

    /// Iterator over URI parameters.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// Looks up a URI parameter (`Some(None)` for a flag like `lr`).
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        self.params().get(name)
    }

    /// `transport` parameter.
    pub fn transport(&self) -> Option<&'a [u8]> {
        self.param(b"transport").flatten()
    }

    /// `user` parameter (`phone` marks a telephone number in a SIP URI).
    pub fn user_param(&self) -> Option<&'a [u8]> {
        self.param(b"user").flatten()
    }

    /// True if the `lr` parameter (RFC 3261 19.1.1 loose routing) is present.
    pub fn lr(&self) -> bool {
        self.param(b"lr").is_some()
    }

    /// tel `phone-context` parameter (RFC 3966 5.1.5).
    pub fn phone_context(&self) -> Option<&'a [u8]> {
        self.param(b"phone-context").flatten()
    }
}

/// Splits `host[:port]` with IPv6 references `[..]` (RFC 3261 25.1 hostport).
pub(crate) fn split_host_port(hp: &[u8]) -> Result<(&[u8], Option<u16>), Error> {
    let (host, port) = if hp.first() == Some(&b'[') {
        let close = find_byte(b']', hp).ok_or(Error::BadUri)?;
        let inner = hp.get(1..close).unwrap_or(&[]);
        let ipv6_ok = inner.iter().fold(true, |a, &b| a & (b.is_ascii_hexdigit() | (b == b':') | (b == b'.')));
        if inner.is_empty() || !ipv6_ok {
            return Err(Error::BadUri);
        }
        let after = hp.get(close + 1..).unwrap_or(&[]);
        match after {
            [] => (hp.get(..close + 1).unwrap_or(&[]), None),
            [b':', p @ ..] => (hp.get(..close + 1).unwrap_or(&[]), Some(p)),
            _ => return Err(Error::BadUri),
        }
    } else {
        match find_byte(b':', hp) {
            Some(c) => (hp.get(..c).unwrap_or(&[]), hp.get(c + 1..)),
            None => (hp, None),
        }
    };
    let host_ok = host.first() == Some(&b'[')
        || (!host.is_empty()
            && host.iter().fold(true, |a, &b| a & (b.is_ascii_alphanumeric() | (b == b'-') | (b == b'.'))));
    if !host_ok {
        return Err(Error::BadUri);
    }
    let port = match port {
        Some(p) => Some(parse_port(p).ok_or(Error::BadUri)?),
        None => None,
    };
    Ok((host, port))
}

/// Parses a port number (1-5 digits, at most 65535).
pub(crate) fn parse_port(p: &[u8]) -> Option<u16> {
    if p.len() > 5 {
        return None;
    }
    super::scan::parse_u32(p).and_then(|v| u16::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_uri_parts() {
        let u = Uri::parse(b"sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=x%20y").unwrap();
        assert_eq!(u.scheme, Scheme::Sips);
        assert_eq!(u.user, Some(&b"alice"[..]));
        assert_eq!(u.password, Some(&b"secret"[..]));
        assert_eq!(u.host, b"[2001:db8::1]");
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.transport(), Some(&b"tcp"[..]));
        assert!(u.lr());
        assert_eq!(u.headers, Some(&b"subject=x%20y"[..]));
    }

    #[test]
    fn user_with_semicolon_and_unusual_chars() {
        let u = Uri::parse(b"sip:user;par=example.net@example.com").unwrap();
        assert_eq!(u.user, Some(&b"user;par=example.net"[..]));
        assert_eq!(u.host, b"example.com");
        let u = Uri::parse(b"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com").unwrap();
        assert_eq!(u.user, Some(&b"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"[..]));
        assert_eq!(u.password, Some(&b"&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"[..]));
        assert!(u.headers.is_none());
    }

    #[test]
    fn tel_uris() {
        let u = Uri::parse(b"tel:+1-201-555-0123").unwrap();
        assert_eq!(u.scheme, Scheme::Tel);
        assert_eq!(u.user, Some(&b"+1-201-555-0123"[..]));
        let u = Uri::parse(b"tel:7042;phone-context=example.com").unwrap();
        assert_eq!(u.phone_context(), Some(&b"example.com"[..]));
        assert!(Uri::parse(b"tel:7042").is_err());
        assert!(Uri::parse(b"tel:+").is_err());
    }

    #[test]
    fn rejects_malformed() {
        assert!(Uri::parse(b"sip:").is_err());
        assert!(Uri::parse(b" sip:a@b").is_err());
        assert!(Uri::parse(b"sip:a@b:99999").is_err());
        assert!(Uri::parse(b"sip:a@[zz]").is_err());
        assert!(Uri::parse(b"sip:a@").is_err());
        let u = Uri::parse(b"nobodyKnowsThisScheme:totallyopaquecontent").unwrap();
        assert_eq!(u.scheme, Scheme::Other(b"nobodyKnowsThisScheme"));
    }
}
