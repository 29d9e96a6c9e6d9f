//! The Internet checksum (RFC 1071) and the IPv4 / IPv6 pseudo-headers of the transport
//! checksums (RFC 768; RFC 8200 8.1). In transport-mode ESP the inner transport header
//! uses the outer packet's addresses.

use std::net::IpAddr;

use super::WireError;

/// Adds `data` as big-endian 16-bit words (odd tail padded with zero) to `acc`.
pub fn sum(data: &[u8], acc: u64) -> u64 {
    let mut acc = acc;
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds the carries of `acc` and complements: the value to put in a checksum field.
pub fn finish(acc: u64) -> u16 {
    let mut acc = acc;
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Sum of the pseudo-header for upper-layer protocol `proto` and length `len`: IPv4 (RFC 768:
/// src, dst, zero, protocol, length) or IPv6 (RFC 8200 8.1: src, dst, 32-bit length, zero,
/// next header). `AddressFamily` when `src` and `dst` differ in family.
pub fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: u32) -> Result<u64, WireError> {
    let acc = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => sum(&d.octets(), sum(&s.octets(), 0)),
        (IpAddr::V6(s), IpAddr::V6(d)) => sum(&d.octets(), sum(&s.octets(), 0)),
        _ => return Err(WireError::AddressFamily),
    };
    Ok(acc + u64::from(len >> 16) + u64::from(len & 0xffff) + u64::from(proto))
}
