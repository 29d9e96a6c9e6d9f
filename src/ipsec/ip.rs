//! Outer IPv4 (RFC 791) and IPv6 (RFC 8200) headers for raw-socket ESP (protocol 50):
//! emit with the IPv4 header checksum, parse with its checks. No options or extension
//! headers are emitted; IPv4 options are skipped on parse, IPv6 extension headers are not
//! walked (the reported next header is the fixed header's).

use core::ops::Range;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::checksum::{finish, sum};
use super::WireError;

/// IP protocol number of ESP (RFC 4303 2).
pub const IPPROTO_ESP: u8 = 50;
/// IPv4 header length without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// IPv6 fixed header length.
pub const IPV6_HEADER_LEN: usize = 40;

/// An IPv4 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol of the payload (50 for ESP).
    pub protocol: u8,
    /// Time to live.
    pub ttl: u8,
    /// Identification (for fragmentation by the network; we set DF=0).
    pub ident: u16,
    /// Payload length in bytes.
    pub payload_len: u16,
}

impl Ipv4Repr {
    /// Writes the 20-byte header with its checksum (RFC 791 3.1) into `out`.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, WireError> {
        let total = u16::try_from(IPV4_HEADER_LEN + usize::from(self.payload_len))
            .map_err(|_| WireError::BufferTooSmall)?;
        let h = out
            .get_mut(..IPV4_HEADER_LEN)
            .ok_or(WireError::BufferTooSmall)?;
        h.fill(0);
        h[0] = 0x45; // version 4, IHL 5
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h[4..6].copy_from_slice(&self.ident.to_be_bytes());
        h[8] = self.ttl;
        h[9] = self.protocol;
        h[12..16].copy_from_slice(&self.src.octets());
        h[16..20].copy_from_slice(&self.dst.octets());
        let c = finish(sum(h, 0));
        h[10..12].copy_from_slice(&c.to_be_bytes());
        Ok(IPV4_HEADER_LEN)
    }

    /// Parses an IPv4 packet: version, IHL, total length, header checksum, no fragment.
    /// Returns the header and the payload span.
    pub fn parse(p: &[u8]) -> Result<(Ipv4Repr, Range<usize>), WireError> {
        let h = p.get(..IPV4_HEADER_LEN).ok_or(WireError::Truncated)?;
        if h[0] >> 4 != 4 {
            return Err(WireError::BadVersion);
        }
        let ihl = usize::from(h[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
        if ihl < IPV4_HEADER_LEN || total < ihl {
            return Err(WireError::BadLength);
        }
        if total > p.len() {
            return Err(WireError::Truncated);
        }
        if finish(sum(&p[..ihl], 0)) != 0 {
            return Err(WireError::BadChecksum);
        }
        // More Fragments set or a non-zero Fragment Offset.
        if u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0 {
            return Err(WireError::Fragmented);
        }
        let repr = Ipv4Repr {
            src: Ipv4Addr::new(h[12], h[13], h[14], h[15]),
            dst: Ipv4Addr::new(h[16], h[17], h[18], h[19]),
            protocol: h[9],
            ttl: h[8],
            ident: u16::from_be_bytes([h[4], h[5]]),
            payload_len: (total - ihl) as u16,
        };
        Ok((repr, ihl..total))
    }
}

/// An IPv6 fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Repr {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Next header (50 for ESP).
    pub next_header: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Payload length in bytes.
    pub payload_len: u16,
}

impl Ipv6Repr {
    /// Writes the 40-byte header (traffic class and flow label zero) into `out`.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, WireError> {
        let h = out
            .get_mut(..IPV6_HEADER_LEN)
            .ok_or(WireError::BufferTooSmall)?;
        h.fill(0);
        h[0] = 0x60;
        h[4..6].copy_from_slice(&self.payload_len.to_be_bytes());
        h[6] = self.next_header;
        h[7] = self.hop_limit;
        h[8..24].copy_from_slice(&self.src.octets());
        h[24..40].copy_from_slice(&self.dst.octets());
        Ok(IPV6_HEADER_LEN)
    }

    /// Parses an IPv6 packet; returns the header and the payload span.
    pub fn parse(p: &[u8]) -> Result<(Ipv6Repr, Range<usize>), WireError> {
        let h = p.get(..IPV6_HEADER_LEN).ok_or(WireError::Truncated)?;
        if h[0] >> 4 != 6 {
            return Err(WireError::BadVersion);
        }
        let payload_len = u16::from_be_bytes([h[4], h[5]]);
        let end = IPV6_HEADER_LEN + usize::from(payload_len);
        if end > p.len() {
            return Err(WireError::Truncated);
        }
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src.copy_from_slice(&h[8..24]);
        dst.copy_from_slice(&h[24..40]);
        let repr = Ipv6Repr {
            src: Ipv6Addr::from(src),
            dst: Ipv6Addr::from(dst),
            next_header: h[6],
            hop_limit: h[7],
            payload_len,
        };
        Ok((repr, IPV6_HEADER_LEN..end))
    }
}
