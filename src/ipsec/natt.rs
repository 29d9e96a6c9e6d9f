//! UDP encapsulation of ESP (RFC 3948): what a datagram on the encapsulation port carries
//! (ESP, a non-ESP marker for IKE, or a NAT keep-alive) and the UDP header in front of ESP.

use std::net::IpAddr;

use super::udp::{ChecksumMode, UdpRepr, HEADER_LEN};
use super::WireError;

/// The IKE/NAT-T port (RFC 3948 2).
pub const NATT_PORT: u16 = 4500;

/// What a UDP payload on an encapsulation port is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UdpEncap {
    /// An ESP packet starting at the first byte of the UDP payload (RFC 3948 2.1).
    Esp,
    /// A single 0xFF byte: NAT keep-alive (RFC 3948 2.3); drop silently.
    Keepalive,
    /// Four zero bytes (the non-ESP marker, RFC 3948 2.2): IKE, which we do not run; drop.
    NonEsp,
}

/// Classifies the payload of a UDP datagram received on an encapsulation port. `Truncated`
/// for anything else shorter than an ESP header.
pub fn classify(payload: &[u8]) -> Result<UdpEncap, WireError> {
    match payload {
        [0xff] => Ok(UdpEncap::Keepalive),
        // RFC 3948 2.2: an SPI of zero is the non-ESP marker.
        [0, 0, 0, 0, ..] => Ok(UdpEncap::NonEsp),
        p if p.len() >= 8 => Ok(UdpEncap::Esp),
        _ => Err(WireError::Truncated),
    }
}

/// Writes the UDP header in front of an ESP packet already at `buf[8..8 + esp_len]`; the
/// checksum is zero over IPv4 (RFC 3948 3.1) and computed over IPv6.
pub fn emit_udp_encap(
    ports: UdpRepr,
    src: IpAddr,
    dst: IpAddr,
    buf: &mut [u8],
    esp_len: usize,
) -> Result<usize, WireError> {
    ports.emit_in_place(src, dst, ChecksumMode::ZeroOnIpv4, buf, esp_len)
}

/// Size of the UDP header that [`emit_udp_encap`] writes.
pub const ENCAP_HEADER_LEN: usize = HEADER_LEN;
