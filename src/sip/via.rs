//! The Via header value (RFC 3261 20.42, 18.2.1; RFC 3581 rport): sent-protocol, sent-by
//! and the branch / received / rport / maddr / ttl parameters.

use super::error::Error;
use super::header::HeaderName;
use super::scan::{find_unquoted, is_lws, is_token, is_token_str, params_well_formed, parse_u32, trim, Params};
use super::uri::{parse_port, split_host_port};

/// RFC 3261 8.1.1.7: branches of RFC 3261 transactions start with this magic cookie.
pub const MAGIC_COOKIE: &[u8] = b"z9hG4bK";

/// One Via value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Via<'a> {
    /// Protocol name (`SIP`).
    pub protocol: &'a [u8],
    /// Protocol version (`2.0`).
    pub version: &'a [u8],
    /// Transport (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, or an extension token).
    pub transport: &'a [u8],
    /// sent-by host (IPv6 references keep their brackets).
    pub host: &'a [u8],
    /// sent-by port, if given.
    pub port: Option<u16>,
    /// Parameters, the text after the first `;`.
    pub params: &'a [u8],
}

fn bad() -> Error {
    Error::Bad(HeaderName::Via)
}

/// Splits `s` at the first `/` and trims both sides (LWS may surround SLASH, RFC 3261 25.1).
fn slash(s: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let i = s.iter().position(|&b| b == b'/').ok_or_else(bad)?;
    Ok((trim(s.get(..i).unwrap_or(&[])), s.get(i + 1..).unwrap_or(&[])))
}

impl<'a> Via<'a> {
    /// Parses one Via value (already split from a comma list).
    pub fn parse(v: &'a [u8]) -> Result<Via<'a>, Error> {
        let (protocol, rest) = slash(trim(v))?;
        let (version, rest) = slash(rest)?;
        let rest = trim(rest);
        let tlen = rest.iter().position(|&b| !is_token(b)).unwrap_or(rest.len());
        let transport = rest.get(..tlen).unwrap_or(&[]);
        let rest = rest.get(tlen..).unwrap_or(&[]);
        if !is_token_str(protocol) || !is_token_str(version) || !is_token_str(transport) {
            return Err(bad());
        }
        if !rest.first().is_some_and(|&b| is_lws(b)) {
            return Err(bad());
        }
        let semi = find_unquoted(rest, b';');
        let sent_by = trim(rest.get(..semi.unwrap_or(rest.len())).unwrap_or(&[]));
        let params = semi.and_then(|i| rest.get(i + 1..)).unwrap_or(&[]);
        // RFC 3261 25.1: sent-by = host [ COLON port ]; COLON allows LWS around ':'.
        let (host, port) = split_sent_by(sent_by)?;
        if semi.is_some() && !params_well_formed(params) {
            return Err(bad());
        }
        Ok(Via { protocol, version, transport, host, port, params })
    }

    /// Parameters.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// `branch` parameter.
    pub fn branch(&self) -> Option<&'a [u8]> {
        self.params().get(b"branch").flatten()
    }

    /// True if the branch starts with the RFC 3261 magic cookie (and has more after it).
    pub fn is_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.len() > MAGIC_COOKIE.len() && b.starts_with(MAGIC_COOKIE))
    }

    /// `received` parameter (RFC 3261 18.2.1).
    pub fn received(&self) -> Option<&'a [u8]> {
        self.params().get(b"received").flatten()
    }

    /// `rport` (RFC 3581): `None` if absent, `Some(None)` if present without a value,
    /// `Some(Some(port))` with a value.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params().get(b"rport").map(|v| v.and_then(parse_port))
    }

    /// `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a [u8]> {
        self.params().get(b"maddr").flatten()
    }

    /// `ttl` parameter (0..=255).
    pub fn ttl(&self) -> Option<u8> {
        self.params().get(b"ttl").flatten().and_then(parse_u32).and_then(|t| u8::try_from(t).ok())
    }
}

fn split_sent_by(s: &[u8]) -> Result<(&[u8], Option<u16>), Error> {
    if s.iter().fold(false, |a, &b| a | is_lws(b)) {
        // Rare: LWS around the colon. Rebuild without copying: host is before, port after.
        let c = s.iter().rposition(|&b| b == b':').ok_or_else(bad)?;
        let host = trim(s.get(..c).unwrap_or(&[]));
        let port = parse_port(trim(s.get(c + 1..).unwrap_or(&[]))).ok_or_else(bad)?;
        let (h, p) = split_host_port(host).map_err(|_| bad())?;
        return if p.is_none() { Ok((h, Some(port))) } else { Err(bad()) };
    }
    split_host_port(s).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_via_with_rport() {
        let v = Via::parse(b"SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;rport;branch=390skdjuw").unwrap();
        assert_eq!((v.protocol, v.version, v.transport), (&b"SIP"[..], &b"2.0"[..], &b"UDP"[..]));
        assert_eq!(v.host, b"192.0.2.2");
        assert_eq!(v.port, None);
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.branch(), Some(&b"390skdjuw"[..]));
        assert!(!v.is_rfc3261_branch());
    }

    #[test]
    fn ipv6_sent_by_and_params() {
        let v = Via::parse(b"SIP/2.0/TCP [2001:db8::9]:5062;branch=z9hG4bKabc;received=[2001:db8::1];rport=40000;maddr=224.2.0.1;ttl=16").unwrap();
        assert_eq!(v.host, b"[2001:db8::9]");
        assert_eq!(v.port, Some(5062));
        assert!(v.is_rfc3261_branch());
        assert_eq!(v.received(), Some(&b"[2001:db8::1]"[..]));
        assert_eq!(v.rport(), Some(Some(40000)));
        assert_eq!(v.maddr(), Some(&b"224.2.0.1"[..]));
        assert_eq!(v.ttl(), Some(16));
        let v = Via::parse(b"SIP/2.0/UDP host.example.com : 5070 ;branch=z9hG4bKx").unwrap();
        assert_eq!((v.host, v.port), (&b"host.example.com"[..], Some(5070)));
    }

    #[test]
    fn rejects_bad_vias() {
        assert!(Via::parse(b"SIP/2.0/UDP 192.0.2.15;;").is_err());
        assert!(Via::parse(b"SIP/2.0 192.0.2.15").is_err());
        assert!(Via::parse(b"SIP/2.0/UDP").is_err());
        assert!(Via::parse(b"SIP/2.0/UDP host:x").is_err());
    }
}
