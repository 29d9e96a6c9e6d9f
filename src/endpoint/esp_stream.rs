//! The ESP plane's side of TCP inside the SAs: decapsulated TCP packets that match the SA's
//! selectors go to the worker's [`EspTcp`] stack; the segments it emits leave through the
//! UE's outbound SA (transport mode: the segment, Next Header 6; UDP-enc-tun: the IP
//! packet, Next Header 4 or 41); SIP bytes go to and from the endpoint as a TCP flow. IPv4
//! and IPv6 alike.

use super::*;
use crate::engine::{ConnId, StreamVerdict};
use crate::ipsec::inner::{NH_IPV4, NH_IPV6};
use crate::ipsec::ip::{Ipv6Repr, IPV4_HEADER_LEN, IPV6_HEADER_LEN};

use super::super::esp_tcp::{is_esp_conn, TcpLimits};

/// IP protocol number of TCP.
const IPPROTO_TCP: u8 = 6;
/// Connections per worker.
const MAX_CONNS: usize = 1024;
/// Largest SIP message over a protected connection.
const MAX_MSG: usize = 64 * 1024;
/// Poll rounds per call (each drains up to the output pool).
const MAX_ROUNDS: usize = 16;

/// What [`to_stack`] did with a decapsulated packet.
pub(super) enum Input {
    /// A TCP packet of the SA: now in the stack.
    Taken,
    /// TCP, but not from the SA's UE port to our port (RFC 4301 5.2), or no room.
    Refused,
    /// Not TCP.
    NotTcp,
}

/// Hands a decapsulated TCP packet (`payload` with Next Header `nh`, between `outer_src`
/// and `outer_dst`) from `ue` to our `local_port` to the stack, with a fresh IP header.
pub(super) fn to_stack(
    tcp: Option<&mut EspTcp>,
    nh: u8,
    payload: &[u8],
    outer_src: IpAddr,
    outer_dst: IpAddr,
    ue: SocketAddr,
    local_port: u16,
) -> Input {
    let (src, dst, segment) = match nh {
        IPPROTO_TCP => (outer_src, outer_dst, Some(payload)),
        NH_IPV4 => match Ipv4Repr::parse(payload) {
            Ok((h, span)) if h.protocol == IPPROTO_TCP => (IpAddr::V4(h.src), IpAddr::V4(h.dst), payload.get(span)),
            _ => return Input::NotTcp,
        },
        NH_IPV6 => match Ipv6Repr::parse(payload) {
            Ok((h, span)) if h.next_header == IPPROTO_TCP => (IpAddr::V6(h.src), IpAddr::V6(h.dst), payload.get(span)),
            _ => return Input::NotTcp,
        },
        _ => return Input::NotTcp,
    };
    let Some(segment @ [s0, s1, d0, d1, ..]) = segment else { return Input::Refused };
    let (sport, dport) = (u16::from_be_bytes([*s0, *s1]), u16::from_be_bytes([*d0, *d1]));
    let Some(tcp) = tcp else { return Input::Refused };
    if src != ue.ip() || sport != ue.port() || dport != local_port {
        return Input::Refused;
    }
    let Ok(payload_len) = u16::try_from(segment.len()) else { return Input::Refused };
    let emit = |h: &mut [u8]| match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            Ipv4Repr { src, dst, protocol: IPPROTO_TCP, ttl: 64, ident: 0, payload_len }.emit(h).is_ok()
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            Ipv6Repr { src, dst, next_header: IPPROTO_TCP, hop_limit: 64, payload_len }.emit(h).is_ok()
        }
        _ => false,
    };
    let header_len = if src.is_ipv4() { IPV4_HEADER_LEN } else { IPV6_HEADER_LEN };
    let taken = tcp.input(header_len + segment.len(), |buf| {
        let (h, body) = buf.split_at_mut(header_len);
        body.copy_from_slice(segment);
        emit(h)
    });
    if taken {
        Input::Taken
    } else {
        Input::Refused
    }
}

impl EspPlane {
    /// Starts the TCP stack on the first install and listens on the set's ports at the
    /// set's address.
    pub(super) fn listen_tcp(&mut self, now: Instant, cmd: &SaInstall) {
        let (worker, seed, local) = (self.worker as usize, self.rng, cmd.local_ip);
        let limits = TcpLimits { max_conns: MAX_CONNS, max_msg: MAX_MSG, mtu: cmd.mtu };
        let tcp = self.tcp.get_or_insert_with(|| EspTcp::new(worker, local, limits, seed, now));
        tcp.add_local(local);
        for spec in cmd.specs.iter().filter(|s| s.direction == Direction::Inbound) {
            tcp.listen(spec.local_port);
        }
    }

    /// Runs the TCP stack at `now` and sends the segments it emitted through the SAs.
    pub fn poll_stream(&mut self, now: Instant, out: &mut Outbox) {
        for _ in 0..MAX_ROUNDS {
            let Some(tcp) = self.tcp.as_mut() else { return };
            tcp.poll(now);
            if !self.flush_frames(out) {
                break;
            }
        }
        self.publish();
    }

    /// Encapsulates the stack's output; true when more may be waiting.
    fn flush_frames(&mut self, out: &mut Outbox) -> bool {
        let (Some(tcp), Some(table)) = (self.tcp.as_mut(), self.table.as_mut()) else { return false };
        for frame in tcp.frames() {
            match seal_frame(table, &mut self.iv, &self.outbound, frame, out) {
                Some(()) => self.out_ok += 1,
                None => self.out_failed += 1,
            }
        }
        tcp.clear_frames()
    }

    /// The next protected connection with SIP bytes, from slot `*from` on (bytes lent
    /// until [`Self::stream_consumed`]).
    pub fn next_stream(&mut self, from: &mut usize) -> Option<(ConnId, SocketAddr, Vec<u8>)> {
        self.tcp.as_mut()?.next_readable(from)
    }

    /// Gives back the bytes of [`Self::next_stream`] with the SIP layer's verdict.
    pub fn stream_consumed(&mut self, conn: ConnId, bytes: Vec<u8>, verdict: StreamVerdict) {
        if let Some(t) = self.tcp.as_mut() {
            t.consumed(conn, bytes, verdict);
        }
    }

    /// True for a connection terminated by this plane.
    pub fn owns_conn(&self, conn: ConnId) -> bool {
        self.tcp.is_some() && is_esp_conn(conn)
    }

    /// Sends SIP bytes on a protected connection; false (and counted) when it is gone or
    /// its send buffer is full.
    pub fn send_stream(&mut self, out: &mut Outbox, conn: ConnId, bytes: &[u8]) -> bool {
        let Some(t) = self.tcp.as_mut() else { return false };
        let ok = t.send(conn, bytes);
        let now = t.last_now();
        if !ok {
            self.out_failed += 1;
        }
        self.poll_stream(now, out);
        ok
    }

    /// When the TCP stack next needs [`Self::poll_stream`].
    pub fn poll_at(&mut self) -> Option<Instant> {
        self.tcp.as_mut()?.poll_at()
    }
}

/// Encapsulates one IP packet of the stack in the SA towards its destination.
fn seal_frame(
    table: &mut SaTable,
    iv: &mut crate::ipsec::iv::IvGen,
    outbound: &HashMap<SocketAddr, OutSel>,
    frame: &[u8],
    out: &mut Outbox,
) -> Option<()> {
    let (dst, span, nh_tunnel) = match frame.first()? >> 4 {
        4 => Ipv4Repr::parse(frame).ok().map(|(h, span)| (IpAddr::V4(h.dst), span, NH_IPV4))?,
        _ => Ipv6Repr::parse(frame).ok().map(|(h, span)| (IpAddr::V6(h.dst), span, NH_IPV6))?,
    };
    let segment = frame.get(span)?;
    let dport = u16::from_be_bytes([*segment.get(2)?, *segment.get(3)?]);
    let ue = SocketAddr::new(dst, dport);
    let sel = outbound.get(&ue)?;
    let (inner, nh) = if sel.tunnel { (frame, nh_tunnel) } else { (segment, IPPROTO_TCP) };
    seal(table, iv, sel, ue, inner, nh, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn segment(sport: u16, dport: u16) -> Vec<u8> {
        let mut s = vec![0u8; 20];
        s[..2].copy_from_slice(&sport.to_be_bytes());
        s[2..4].copy_from_slice(&dport.to_be_bytes());
        s
    }

    #[test]
    fn only_the_sas_tcp_reaches_the_stack() {
        let (ue_ip, core_ip) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 1));
        let ue = SocketAddr::from((ue_ip, 5062));
        let limits = TcpLimits { max_conns: 4, max_msg: 1024, mtu: 1400 };
        let mut tcp = EspTcp::new(0, core_ip.into(), limits, 1, Instant::now());
        let (src, dst) = (IpAddr::V4(ue_ip), IpAddr::V4(core_ip));
        let go = |tcp: &mut EspTcp, nh, p: &[u8], src| to_stack(Some(tcp), nh, p, src, dst, ue, 7003);
        assert!(matches!(go(&mut tcp, IPPROTO_TCP, &segment(5062, 7003), src), Input::Taken));
        assert!(matches!(go(&mut tcp, IPPROTO_TCP, &segment(5063, 7003), src), Input::Refused), "other UE port");
        assert!(matches!(go(&mut tcp, IPPROTO_TCP, &segment(5062, 7002), src), Input::Refused), "other local port");
        let other = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9));
        assert!(matches!(go(&mut tcp, IPPROTO_TCP, &segment(5062, 7003), other), Input::Refused), "other UE");
        assert!(matches!(go(&mut tcp, IPPROTO_TCP, &[0, 1], src), Input::Refused), "truncated");
        assert!(matches!(go(&mut tcp, 17, &segment(5062, 7003), src), Input::NotTcp));
        // Tunnel mode: the inner IPv4 header names the addresses.
        let mut inner = vec![0u8; 40];
        let h = Ipv4Repr { src: ue_ip, dst: core_ip, protocol: IPPROTO_TCP, ttl: 64, ident: 0, payload_len: 20 };
        h.emit(&mut inner).unwrap();
        inner[20..].copy_from_slice(&segment(5062, 7003));
        assert!(matches!(go(&mut tcp, NH_IPV4, &inner, IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1))), Input::Taken));
        assert!(matches!(to_stack(None, IPPROTO_TCP, &segment(5062, 7003), src, dst, ue, 7003), Input::Refused));
    }

    /// A SYN from `src`:`sport` to `dst`:`dport` with its checksum over the pseudo-header.
    fn syn(src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> Vec<u8> {
        use crate::ipsec::checksum::{finish, pseudo_header, sum};
        let mut s = segment(sport, dport);
        s[4..8].copy_from_slice(&1000u32.to_be_bytes());
        s[12] = 5 << 4; // data offset: 5 words
        s[13] = 0x02; // SYN
        s[14..16].copy_from_slice(&65535u16.to_be_bytes());
        let c = finish(sum(&s, pseudo_header(src, dst, IPPROTO_TCP, 20).unwrap()));
        s[16..18].copy_from_slice(&c.to_be_bytes());
        s
    }

    #[test]
    fn ipv6_tcp_is_answered_in_ipv6() {
        let (ue_ip, core_ip): (std::net::Ipv6Addr, std::net::Ipv6Addr) =
            ("2001:db8::2".parse().unwrap(), "2001:db8::1".parse().unwrap());
        let (src, dst) = (IpAddr::V6(ue_ip), IpAddr::V6(core_ip));
        let ue = SocketAddr::new(src, 5062);
        let limits = TcpLimits { max_conns: 4, max_msg: 1024, mtu: 1400 };
        let now = Instant::now();
        // The stack starts on an IPv4 address and gets the IPv6 one later (both families).
        let mut tcp = EspTcp::new(0, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), limits, 1, now);
        tcp.add_local(dst);
        tcp.listen(7003);
        let go = |tcp: &mut EspTcp, nh, p: &[u8], src| to_stack(Some(tcp), nh, p, src, dst, ue, 7003);
        let other = IpAddr::V6("2001:db8::9".parse().unwrap());
        assert!(matches!(go(&mut tcp, IPPROTO_TCP, &syn(src, dst, 5062, 7003), other), Input::Refused), "other UE");
        assert!(matches!(go(&mut tcp, IPPROTO_TCP, &syn(src, dst, 5062, 7003), src), Input::Taken));
        tcp.poll(now);
        let frames: Vec<Vec<u8>> = tcp.frames().map(<[u8]>::to_vec).collect();
        let [synack] = frames.as_slice() else { panic!("one SYN-ACK: {frames:?}") };
        let (h, span) = Ipv6Repr::parse(synack).expect("an IPv6 packet");
        assert_eq!((h.src, h.dst, h.next_header), (core_ip, ue_ip, IPPROTO_TCP));
        let seg = &synack[span];
        assert_eq!((u16::from_be_bytes([seg[0], seg[1]]), u16::from_be_bytes([seg[2], seg[3]])), (7003, 5062));
        assert_eq!(seg[13] & 0x12, 0x12, "SYN and ACK");
        // Tunnel mode (Next Header 41): the inner IPv6 header names the addresses.
        let mut inner = vec![0u8; 60];
        let h = Ipv6Repr { src: ue_ip, dst: core_ip, next_header: IPPROTO_TCP, hop_limit: 64, payload_len: 20 };
        h.emit(&mut inner).unwrap();
        inner[40..].copy_from_slice(&segment(5062, 7003));
        assert!(matches!(go(&mut tcp, NH_IPV6, &inner, IpAddr::V6("2001:db8::7".parse().unwrap())), Input::Taken));
        assert!(matches!(go(&mut tcp, NH_IPV6, &inner[..30], src), Input::NotTcp), "truncated inner header");
    }
}
