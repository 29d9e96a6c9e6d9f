//! Value types shared by several sections: fixed-size hexadecimal keys
//! ([`Hex`]), socket addresses with a default port, and digit strings
//! (IMSI, MSISDN, IMEI).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde::{Serialize, Serializer};

use super::reader::{Ctx, Field};

/// A fixed-size byte string written in the configuration as hexadecimal
/// (keys, OPc, SQN). Serializes back to lowercase hexadecimal.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hex<const N: usize>(pub [u8; N]);

impl<const N: usize> Default for Hex<N> {
    fn default() -> Self {
        Hex([0u8; N])
    }
}

impl<const N: usize> fmt::Debug for Hex<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl<const N: usize> Serialize for Hex<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{self:?}"))
    }
}

/// Decodes exactly `N` bytes of hexadecimal.
pub(crate) fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], String> {
    if s.len() != 2 * N {
        let msg = format!("expected {N}-byte hexadecimal string ({} digits), got {} characters", 2 * N, s.len());
        return Err(msg);
    }
    let mut out = [0u8; N];
    for (i, (byte, pair)) in out.iter_mut().zip(s.as_bytes().chunks(2)).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        match pair {
            [h, l] => match (digit(*h), digit(*l)) {
                // Two hex digits are at most 0xff, the cast is lossless.
                (Some(h), Some(l)) => *byte = (h * 16 + l) as u8,
                _ => return Err(format!("invalid hexadecimal digit near position {}", 2 * i)),
            },
            _ => return Err("odd number of hexadecimal digits".to_owned()),
        }
    }
    Ok(out)
}

impl Field<'_> {
    /// A hexadecimal string of exactly `N` bytes.
    pub fn hex<const N: usize>(&self, ctx: &mut Ctx) -> Option<Hex<N>> {
        let s = self.str(ctx)?;
        match parse_hex::<N>(s) {
            Ok(b) => Some(Hex(b)),
            Err(e) => {
                ctx.error(&self.v.loc, &self.path, e);
                None
            }
        }
    }

    /// An IP address with an optional port (`1.2.3.4`, `1.2.3.4:5060`, `::1`,
    /// `[::1]`, `[::1]:5060`); `default_port` when the port is omitted.
    pub fn socket_addr(&self, ctx: &mut Ctx, default_port: u16) -> Option<SocketAddr> {
        let s = self.str(ctx)?;
        let parsed = parse_socket_addr(s, default_port);
        if parsed.is_none() {
            let msg = format!("invalid address \"{s}\", expected IP address with optional port");
            ctx.error(&self.v.loc, &self.path, msg);
        }
        parsed
    }

    /// A string of decimal digits whose length is in `len`, optionally with a
    /// leading `+` when `plus` is allowed.
    pub fn digits(&self, ctx: &mut Ctx, what: &str, len: std::ops::RangeInclusive<usize>, plus: bool) -> Option<String> {
        let s = self.str(ctx)?;
        let body = if plus { s.strip_prefix('+').unwrap_or(s) } else { s };
        if body.bytes().all(|b| b.is_ascii_digit()) && len.contains(&body.len()) {
            return Some(s.to_owned());
        }
        let sign = if plus { "optional '+' and " } else { "" };
        let msg = format!("invalid {what} \"{s}\", expected {sign}{} to {} digits", len.start(), len.end());
        ctx.error(&self.v.loc, &self.path, msg);
        None
    }
}

/// Parses `ip`, `ip:port`, bare IPv6, `[ipv6]` or `[ipv6]:port`.
pub(crate) fn parse_socket_addr(s: &str, default_port: u16) -> Option<SocketAddr> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Some(a);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, default_port));
    }
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, default_port))
}
