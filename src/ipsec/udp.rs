//! The UDP header (RFC 768) for the inner transport of transport-mode ESP and for the
//! RFC 3948 encapsulation: emit with the pseudo-header checksum, parse with its check.

use core::ops::Range;
use std::net::IpAddr;

use super::checksum::{finish, pseudo_header, sum};
use super::WireError;

/// UDP header length.
pub const HEADER_LEN: usize = 8;
/// IP protocol number of UDP.
pub const IPPROTO_UDP: u8 = 17;

/// The ports of a UDP datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

/// How the checksum field is filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChecksumMode {
    /// Computed over pseudo-header, header and payload (RFC 768).
    Compute,
    /// Zero over IPv4 (RFC 3948 3.1 for UDP-encapsulated ESP); computed over IPv6, where a
    /// zero checksum is not allowed (RFC 8200 8.1).
    ZeroOnIpv4,
}

impl UdpRepr {
    /// Writes the header in front of a payload already at `buf[8..8 + payload_len]` and
    /// returns the datagram length.
    pub fn emit_in_place(
        &self,
        src: IpAddr,
        dst: IpAddr,
        mode: ChecksumMode,
        buf: &mut [u8],
        payload_len: usize,
    ) -> Result<usize, WireError> {
        let len = HEADER_LEN + payload_len;
        let len16 = u16::try_from(len).map_err(|_| WireError::BufferTooSmall)?;
        let dgram = buf.get_mut(..len).ok_or(WireError::BufferTooSmall)?;
        let pseudo = pseudo_header(src, dst, IPPROTO_UDP, u32::from(len16))?;
        dgram[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        dgram[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        dgram[4..6].copy_from_slice(&len16.to_be_bytes());
        dgram[6..8].fill(0);
        if mode == ChecksumMode::ZeroOnIpv4 && src.is_ipv4() {
            return Ok(len);
        }
        // RFC 768: a computed zero is sent as all ones.
        let c = match finish(sum(dgram, pseudo)) {
            0 => 0xffff,
            c => c,
        };
        dgram[6..8].copy_from_slice(&c.to_be_bytes());
        Ok(len)
    }

    /// Writes header and `payload` into `out`; returns the datagram length.
    pub fn emit(
        &self,
        src: IpAddr,
        dst: IpAddr,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, WireError> {
        let body = out
            .get_mut(HEADER_LEN..HEADER_LEN + payload.len())
            .ok_or(WireError::BufferTooSmall)?;
        body.copy_from_slice(payload);
        self.emit_in_place(src, dst, ChecksumMode::Compute, out, payload.len())
    }

    /// Parses a datagram received between `src` and `dst`; checks the length field and the
    /// checksum (zero means "none" over IPv4 only). Returns the ports and the payload span.
    pub fn parse(
        src: IpAddr,
        dst: IpAddr,
        dgram: &[u8],
    ) -> Result<(UdpRepr, Range<usize>), WireError> {
        let [s0, s1, d0, d1, l0, l1, c0, c1, ..] = *dgram else {
            return Err(WireError::Truncated);
        };
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        if len < HEADER_LEN || len > dgram.len() {
            return Err(WireError::BadLength);
        }
        let dgram = &dgram[..len];
        let zero_ok = src.is_ipv4() && [c0, c1] == [0, 0];
        let pseudo = pseudo_header(src, dst, IPPROTO_UDP, len as u32)?;
        if !zero_ok && finish(sum(dgram, pseudo)) != 0 {
            return Err(WireError::BadChecksum);
        }
        let repr = UdpRepr {
            src_port: u16::from_be_bytes([s0, s1]),
            dst_port: u16::from_be_bytes([d0, d1]),
        };
        Ok((repr, HEADER_LEN..len))
    }
}
