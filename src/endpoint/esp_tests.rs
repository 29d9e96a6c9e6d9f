//! The worker's ESP plane against a UE made of the sans-IO SAs with the mirrored keys:
//! delivery of decapsulated SIP, drops that are counted, outbound encapsulation, removal,
//! and a newer SA set taking over from an older one.

use super::*;
use crate::engine::{Op, WorkerCounters};
use crate::ipsec::sa::SaParams;
use crate::ipsec::{negotiate, LocalSecParams, RawMechanism, SecAgreePolicy, SpiAllocator};

const UE_IP: [u8; 4] = [127, 0, 0, 1];

fn free_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr").port()
}

struct Fixture {
    plane: EspPlane,
    out: Outbox,
    stats: Arc<EspStats>,
    ue_out: Sa,
    ue_in: Sa,
    ue: SocketAddr,
    core: SocketAddr,
    sock: SocketId,
}

fn flip(p: &SaParams<'_>) -> Sa {
    let direction = match p.direction {
        Direction::Inbound => Direction::Outbound,
        Direction::Outbound => Direction::Inbound,
    };
    Sa::new(&SaParams { direction, ..*p }).expect("UE SA")
}

/// The SA set `binding` between the UE's ports 40000/40001 and our `pc`/`ps`, our SPIs
/// from `first_spi`.
fn sa_set(binding: u64, first_spi: u32, pc: u16, ps: u16, stats: &Arc<EspStats>) -> SaInstall {
    let offer = RawMechanism {
        mechanism: b"ipsec-3gpp",
        alg: Some(b"hmac-sha-1-96"),
        ealg: Some(b"aes-cbc"),
        spi_c: Some(0x1111 + first_spi),
        spi_s: Some(0x2222 + first_spi),
        port_c: Some(40_000),
        port_s: Some(40_001),
        mode: Some(b"UDP-enc-tun"),
        prot: None,
        q: None,
    }
    .resolve();
    let mut spis = SpiAllocator::new(0, 0, first_spi).expect("allocator");
    let local = LocalSecParams { spi_c: spis.next_spi(), spi_s: spis.next_spi(), port_c: pc, port_s: ps };
    let policy = SecAgreePolicy::from_lists(&["hmac-sha-1-96"], &["aes-cbc"]).with_modes(false, true);
    let agreement = negotiate(&policy, &[offer], local).expect("agreement");
    SaInstall {
        binding,
        capacity: 16,
        worker_bits: 0,
        local_ip: IpAddr::from(UE_IP),
        ue_ip: IpAddr::from(UE_IP),
        mode: EspMode::UdpEncTunnel,
        specs: agreement.sa_specs(&[0x11; 16], &[0x22; 16]),
        replay_window: 64,
        mtu: 1400,
        stats: stats.clone(),
    }
}

fn fixture() -> Fixture {
    let (pc, ps) = (free_port(), free_port());
    let stats = Arc::new(EspStats::default());
    let cmd = sa_set(7, 4096, pc, ps, &stats);
    let specs = cmd.specs;
    let mut plane = EspPlane::new(0);
    let mut out = Outbox::with_sockets(8, 2048, 4, Arc::new(WorkerCounters::default()));
    assert!(plane.install(std::time::Instant::now(), &cmd, &mut out));
    let sock = plane.socks.iter().find(|(a, _)| a.port() == ps).map(|(_, s)| *s).expect("port-s socket");
    Fixture {
        plane,
        out,
        stats,
        // UE port-c -> our port-s (our spi-s), and back (the UE's spi-c).
        ue_out: flip(&specs[0].params(64)),
        ue_in: flip(&specs[1].params(64)),
        ue: SocketAddr::from((UE_IP, 40_000)),
        core: SocketAddr::from((UE_IP, ps)),
        sock,
    }
}

impl Fixture {
    fn packet(&mut self, from: SocketAddr, sip: &[u8]) -> Vec<u8> {
        let mut inner = [0u8; 512];
        let (n, nh) = emit_inner(true, from, self.core, sip, &mut inner).expect("inner");
        let mut buf = [0u8; 600];
        let len = self.ue_out.encap(&inner[..n], nh, &mut |iv: &mut [u8]| iv.fill(3), &mut buf).expect("encap");
        buf[..len].to_vec()
    }

    /// Sends `sip` to the UE's port-c and returns the ESP packet queued (the last one).
    fn sent(&mut self, sip: &[u8]) -> Vec<u8> {
        assert!(self.plane.send(&mut self.out, self.ue, sip));
        let ops = self.out.take_ops();
        let last = ops.iter().rev().find_map(|op| match op {
            Op::SendUdp { buf, .. } => Some(self.out.pool().bytes(buf).to_vec()),
            _ => None,
        });
        let pkt = last.unwrap_or_else(|| panic!("{ops:?}"));
        self.out.restore_ops(ops);
        pkt
    }

    fn rx(&mut self, pkt: &[u8]) -> Option<Vec<u8>> {
        match self.plane.on_datagram(self.sock, self.ue, pkt) {
            EspRx::Deliver { peer, data } => {
                assert_eq!(peer, Peer { transport: Transport::Udp(self.sock), addr: self.ue });
                let buf = self.plane.take_buffer();
                let sip = buf.get(data).map(<[u8]>::to_vec);
                self.plane.put_buffer(buf);
                sip
            }
            _ => None,
        }
    }
}

#[test]
fn delivers_decapsulated_sip_and_counts_drops() {
    let mut f = fixture();
    let good = f.packet(f.ue, b"REGISTER sip:x SIP/2.0\r\n\r\n");
    assert_eq!(f.rx(&good).as_deref(), Some(&b"REGISTER sip:x SIP/2.0\r\n\r\n"[..]));
    assert_eq!(f.rx(&good), None, "replay");
    let mut flipped = f.packet(f.ue, b"OPTIONS");
    flipped[30] ^= 0x04;
    assert_eq!(f.rx(&flipped), None, "flipped bit");
    let mut unknown = f.packet(f.ue, b"OPTIONS");
    unknown[..4].copy_from_slice(&0xdead_0001u32.to_be_bytes());
    assert_eq!(f.rx(&unknown), None, "unknown SPI");
    let spoofed = f.packet(SocketAddr::from((UE_IP, 40_009)), b"OPTIONS");
    assert_eq!(f.rx(&spoofed), None, "inner source is not the SA's UE port");
    assert_eq!(f.plane.on_datagram(f.sock, f.ue, &[0xff]), EspRx::Dropped, "NAT keep-alive");
    assert_eq!(f.plane.on_datagram(f.sock, f.ue, &[1, 2, 3]), EspRx::Dropped, "truncated");
    let s = f.stats.snapshot();
    assert_eq!(
        (s.esp.ok_in, s.esp.replay, s.esp.bad_icv, s.esp.unknown_spi, s.selector, s.esp.truncated),
        (2, 1, 1, 1, 1, 1)
    );
    assert_eq!(f.plane.on_datagram(SocketId(0), f.ue, &good), EspRx::NotOurs);
}

#[test]
fn sends_through_the_outbound_sa_until_removed() {
    let mut f = fixture();
    let armed = f.out.take_ops();
    f.out.restore_ops(armed);
    assert!(f.plane.send(&mut f.out, f.ue, b"SIP/2.0 200 OK\r\n\r\n"));
    let ops = f.out.take_ops();
    let Some(Op::SendUdp { local, dst, buf }) = ops.first() else { panic!("{ops:?}") };
    assert_eq!((*local, *dst), (f.sock, f.ue));
    let mut pkt = f.out.pool().bytes(buf).to_vec();
    f.out.restore_ops(ops);
    let inner = f.ue_in.decap(&mut pkt).expect("the UE's SA decrypts it");
    let udp = parse_inner(inner.next_header, &pkt[inner.payload.clone()], f.core.ip(), f.ue.ip()).expect("inner UDP");
    assert_eq!((udp.src, udp.dst), (f.core, f.ue));
    assert_eq!(&pkt[inner.payload][udp.data], b"SIP/2.0 200 OK\r\n\r\n");
    assert!(!f.plane.send(&mut f.out, SocketAddr::from((UE_IP, 9)), b"x"), "no SA to that port");
    f.plane.remove(7);
    assert!(!f.plane.send(&mut f.out, f.ue, b"x"));
    let good = f.packet(f.ue, b"REGISTER");
    assert_eq!(f.rx(&good), None);
    let s = f.stats.snapshot();
    assert_eq!((s.esp.ok_out, s.esp.out_failed, s.esp.unknown_spi), (1, 2, 1));
}

#[test]
fn a_newer_set_waits_for_the_older_one_then_takes_over() {
    let mut f = fixture();
    let (pc, ps) = (f.plane.socks[0].0.port(), f.core.port());
    let newer = sa_set(8, 8192, pc, ps, &f.stats);
    assert!(f.plane.install(std::time::Instant::now(), &newer, &mut f.out));
    let mut new_ue_in = flip(&newer.specs[1].params(64));
    // TS 33.203 7.4: the old set keeps sending to the UE until it is removed.
    let mut pkt = f.sent(b"NOTIFY");
    assert!(f.ue_in.decap(&mut pkt).is_ok(), "still the old outbound SA");
    f.plane.remove(7);
    let mut pkt = f.sent(b"NOTIFY");
    assert!(new_ue_in.decap(&mut pkt).is_ok(), "the waiting SA took the port over");
    let old = f.packet(f.ue, b"REGISTER");
    assert_eq!(f.rx(&old), None, "the old inbound SAs are gone");
    f.ue_out = flip(&newer.specs[0].params(64));
    let new = f.packet(f.ue, b"REGISTER");
    assert_eq!(f.rx(&new).as_deref(), Some(&b"REGISTER"[..]), "the newer inbound SA stays");
    f.plane.remove(8);
    assert!(!f.plane.send(&mut f.out, f.ue, b"x"), "nothing left");
}

/// TS 33.203 `mod=trans` over IPv6: the raw socket's datagrams are bare ESP packets from
/// the recvmsg source, and the inner UDP checksums cover the IPv6 pseudo-header (RFC 8200
/// 8.1) of that source and our address. Needs CAP_NET_RAW (skipped without).
#[test]
fn transport_mode_over_ipv6_raw_esp() {
    let (core_ip, ue_ip) = (IpAddr::from(std::net::Ipv6Addr::LOCALHOST), "2001:db8::5".parse::<IpAddr>().unwrap());
    if !crate::engine::raw_esp::available(core_ip) {
        eprintln!("SKIP: raw IPv6 ESP sockets need CAP_NET_RAW");
        return;
    }
    let stats = Arc::new(EspStats::default());
    let (pc, ps) = (free_port(), free_port());
    let cmd = SaInstall { local_ip: core_ip, ue_ip, mode: EspMode::Transport, ..sa_set(9, 8192, pc, ps, &stats) };
    let mut plane = EspPlane::new(0);
    let mut out = Outbox::with_sockets(8, 2048, 4, Arc::new(WorkerCounters::default()));
    assert!(plane.install(std::time::Instant::now(), &cmd, &mut out));
    let raw6 = plane.raw[1].expect("IPv6 raw socket");
    assert!(plane.raw[0].is_none() && plane.socks.is_empty(), "only the IPv6 raw socket");
    let (mut ue_out, mut ue_in) = (flip(&cmd.specs[0].params(64)), flip(&cmd.specs[1].params(64)));
    let (ue, core) = (SocketAddr::new(ue_ip, 40_000), SocketAddr::new(core_ip, ps));

    // UE -> core: an inner UDP datagram (Next Header 17), its checksum over ue_ip/core_ip.
    let mut inner = [0u8; 256];
    let (n, nh) = emit_inner(false, ue, core, b"OPTIONS", &mut inner).expect("inner");
    assert_eq!(nh, crate::ipsec::udp::IPPROTO_UDP);
    let mut esp = [0u8; 512];
    let len = ue_out.encap(&inner[..n], nh, &mut |iv: &mut [u8]| iv.fill(5), &mut esp).expect("encap");
    let from = SocketAddr::new(ue_ip, 0);
    match plane.on_datagram(raw6, from, &esp[..len]) {
        EspRx::Deliver { peer, data } => {
            assert_eq!(peer, Peer { transport: Transport::Udp(raw6), addr: ue });
            let buf = plane.take_buffer();
            assert_eq!(buf.get(data), Some(&b"OPTIONS"[..]));
            plane.put_buffer(buf);
        }
        other => panic!("{other:?}"),
    }
    // The same bytes claimed by another source: the pseudo-header no longer matches.
    let len = ue_out.encap(&inner[..n], nh, &mut |iv: &mut [u8]| iv.fill(6), &mut esp).expect("encap");
    let other = SocketAddr::new("2001:db8::6".parse().unwrap(), 0);
    assert_eq!(plane.on_datagram(raw6, other, &esp[..len]), EspRx::Dropped);
    assert_eq!(stats.snapshot().selector, 1);

    // core -> UE: a bare ESP packet to (ue_ip, 0) on the IPv6 raw socket.
    assert!(plane.send(&mut out, ue, b"SIP/2.0 200 OK"));
    let ops = out.take_ops();
    let (dst, mut pkt) = ops
        .iter()
        .find_map(|op| match op {
            Op::SendUdp { local, dst, buf } if *local == raw6 => Some((*dst, out.pool().bytes(buf).to_vec())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{ops:?}"));
    assert_eq!(dst, SocketAddr::new(ue_ip, 0));
    let got = ue_in.decap(&mut pkt).expect("UE decapsulates");
    let udp = parse_inner(got.next_header, &pkt[got.payload.clone()], core_ip, ue_ip).expect("checksum over IPv6");
    assert_eq!((udp.src, udp.dst), (core, ue));
    assert_eq!(&pkt[got.payload.start + udp.data.start..got.payload.start + udp.data.end], b"SIP/2.0 200 OK");
}
