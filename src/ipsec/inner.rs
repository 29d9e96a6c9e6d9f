//! What an ESP packet of a P-CSCF SA carries once decrypted, and how to build it: an inner
//! UDP datagram, either directly (transport mode, Next Header 17, RFC 4303 3.1.1) or inside
//! an inner IPv4/IPv6 header (tunnel mode, Next Header 4 / 41, RFC 4303 3.1.2, as used by
//! `mod=UDP-enc-tun` with RFC 3948 encapsulation).

use core::ops::Range;
use std::net::{IpAddr, SocketAddr};

use super::ip::{Ipv4Repr, Ipv6Repr, IPV4_HEADER_LEN, IPV6_HEADER_LEN};
use super::udp::{UdpRepr, HEADER_LEN as UDP_HEADER_LEN, IPPROTO_UDP};
use super::WireError;

/// Next Header of an inner IPv4 packet (tunnel mode).
pub const NH_IPV4: u8 = 4;
/// Next Header of an inner IPv6 packet (tunnel mode).
pub const NH_IPV6: u8 = 41;
/// Hop limit of the inner header we build.
const INNER_TTL: u8 = 64;

/// A decapsulated inner UDP datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InnerUdp {
    /// Source address and port (the UE's protected port).
    pub src: SocketAddr,
    /// Destination address and port (our protected port).
    pub dst: SocketAddr,
    /// The UDP payload within the buffer given to [`parse_inner`].
    pub data: Range<usize>,
}

/// Parses the payload of an ESP packet (`next_header` from its trailer). In transport mode
/// the UDP checksum is checked against `outer_src` and `outer_dst` (RFC 768); in tunnel mode
/// against the inner header's addresses. Anything but UDP is `BadVersion`.
pub fn parse_inner(
    next_header: u8,
    payload: &[u8],
    outer_src: IpAddr,
    outer_dst: IpAddr,
) -> Result<InnerUdp, WireError> {
    let (src, dst, span) = match next_header {
        IPPROTO_UDP => (outer_src, outer_dst, 0..payload.len()),
        NH_IPV4 => {
            let (h, span) = Ipv4Repr::parse(payload)?;
            if h.protocol != IPPROTO_UDP {
                return Err(WireError::BadVersion);
            }
            (IpAddr::V4(h.src), IpAddr::V4(h.dst), span)
        }
        NH_IPV6 => {
            let (h, span) = Ipv6Repr::parse(payload)?;
            if h.next_header != IPPROTO_UDP {
                return Err(WireError::BadVersion);
            }
            (IpAddr::V6(h.src), IpAddr::V6(h.dst), span)
        }
        _ => return Err(WireError::BadVersion),
    };
    let dgram = payload.get(span.clone()).ok_or(WireError::Truncated)?;
    let (ports, data) = UdpRepr::parse(src, dst, dgram)?;
    Ok(InnerUdp {
        src: SocketAddr::new(src, ports.src_port),
        dst: SocketAddr::new(dst, ports.dst_port),
        data: span.start + data.start..span.start + data.end,
    })
}

/// Writes the inner packet carrying `data` from `src` to `dst` into `out`: a UDP datagram
/// (transport mode) or an IP packet holding it (`tunnel`). Returns its length and the ESP
/// Next Header.
pub fn emit_inner(
    tunnel: bool,
    src: SocketAddr,
    dst: SocketAddr,
    data: &[u8],
    out: &mut [u8],
) -> Result<(usize, u8), WireError> {
    let ip_len = match (tunnel, src.ip()) {
        (false, _) => 0,
        (true, IpAddr::V4(_)) => IPV4_HEADER_LEN,
        (true, IpAddr::V6(_)) => IPV6_HEADER_LEN,
    };
    let ports = UdpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
    };
    let udp = out.get_mut(ip_len..).ok_or(WireError::BufferTooSmall)?;
    let udp_len = ports.emit(src.ip(), dst.ip(), data, udp)?;
    let payload_len = u16::try_from(udp_len).map_err(|_| WireError::BufferTooSmall)?;
    let nh = match (tunnel, src.ip(), dst.ip()) {
        (false, _, _) => IPPROTO_UDP,
        (true, IpAddr::V4(s), IpAddr::V4(d)) => {
            let h = Ipv4Repr {
                src: s,
                dst: d,
                protocol: IPPROTO_UDP,
                ttl: INNER_TTL,
                ident: 0,
                payload_len,
            };
            h.emit(out)?;
            NH_IPV4
        }
        (true, IpAddr::V6(s), IpAddr::V6(d)) => {
            let h = Ipv6Repr {
                src: s,
                dst: d,
                next_header: IPPROTO_UDP,
                hop_limit: INNER_TTL,
                payload_len,
            };
            h.emit(out)?;
            NH_IPV6
        }
        _ => return Err(WireError::AddressFamily),
    };
    debug_assert!(UDP_HEADER_LEN <= udp_len);
    Ok((ip_len + udp_len, nh))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn tunnel_and_transport_round_trip() {
        let mut buf = [0u8; 256];
        for (src, dst) in [
            (sa("10.0.0.2:5062"), sa("10.0.0.1:6002")),
            (sa("[2001:db8::2]:5062"), sa("[2001:db8::1]:6002")),
        ] {
            for tunnel in [false, true] {
                let (n, nh) = emit_inner(tunnel, src, dst, b"REGISTER", &mut buf).unwrap();
                let inner = parse_inner(nh, &buf[..n], src.ip(), dst.ip()).unwrap();
                assert_eq!((inner.src, inner.dst), (src, dst));
                assert_eq!(&buf[inner.data], b"REGISTER");
                let expect = match (tunnel, src.is_ipv4()) {
                    (false, _) => 17,
                    (true, true) => 4,
                    (true, false) => 41,
                };
                assert_eq!(nh, expect);
            }
        }
    }

    #[test]
    fn bad_inner_packets_are_refused() {
        let (src, dst) = (sa("10.0.0.2:5062"), sa("10.0.0.1:6002"));
        let mut buf = [0u8; 128];
        let (n, nh) = emit_inner(true, src, dst, b"x", &mut buf).unwrap();
        // Inner TCP is not carried.
        let mut tcp = buf;
        tcp[9] = 6;
        assert!(parse_inner(nh, &tcp[..n], src.ip(), dst.ip()).is_err());
        // A flipped payload bit fails the inner UDP checksum.
        let mut flip = buf;
        flip[n - 1] ^= 1;
        assert_eq!(
            parse_inner(nh, &flip[..n], src.ip(), dst.ip()),
            Err(WireError::BadChecksum)
        );
        assert!(parse_inner(nh, &buf[..10], src.ip(), dst.ip()).is_err());
        assert!(parse_inner(59, &buf[..n], src.ip(), dst.ip()).is_err());
        assert_eq!(
            emit_inner(true, src, sa("[::1]:1"), b"x", &mut buf),
            Err(WireError::AddressFamily)
        );
        assert!(emit_inner(false, src, dst, &[0; 200], &mut buf).is_err());
    }
}
