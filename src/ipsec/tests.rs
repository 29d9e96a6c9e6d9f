//! Behaviour tests of the ESP SA, anti-replay window, SA table, header helpers and
//! sec-agree, driven without any I/O.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::checksum::{finish, pseudo_header, sum};
use super::ip::{Ipv4Repr, Ipv6Repr, IPPROTO_ESP};
use super::natt::{classify, emit_udp_encap, UdpEncap};
use super::udp::{UdpRepr, IPPROTO_UDP};
use super::*;
use crate::auth::ipsec_keys::{EncrAlg, IntegAlg};
use crate::auth::test_util::hex;

const IK20: [u8; 20] = [0x11; 20];
const IK16: [u8; 16] = [0x22; 16];
const CK16: [u8; 16] = [0x33; 16];
const CK24: [u8; 24] = [0x44; 24];

/// Integrity algorithm and key, encryption algorithm and key.
type Combo = (Option<IntegAlg>, &'static [u8], EncrAlg, &'static [u8]);

/// The three combinations the issue names, plus AES/MD5 and AES without integrity.
fn combos() -> Vec<Combo> {
    vec![
        (Some(IntegAlg::HmacSha1_96), &IK20, EncrAlg::AesCbc, &CK16),
        (Some(IntegAlg::HmacMd5_96), &IK16, EncrAlg::Null, &[]),
        (
            Some(IntegAlg::HmacSha1_96),
            &IK20,
            EncrAlg::DesEde3Cbc,
            &CK24,
        ),
        (Some(IntegAlg::HmacMd5_96), &IK16, EncrAlg::AesCbc, &CK16),
        (None, &[], EncrAlg::AesCbc, &CK16),
    ]
}

fn pair(c: &Combo, spi: u32, window: u16) -> (Sa, Sa) {
    let p = |direction| SaParams {
        spi,
        direction,
        integ: c.0,
        integ_key: c.1,
        encr: c.2,
        encr_key: c.3,
        replay_window: window,
    };
    (
        Sa::new(&p(Direction::Outbound)).unwrap(),
        Sa::new(&p(Direction::Inbound)).unwrap(),
    )
}

fn counting_iv() -> impl FnMut(&mut [u8]) {
    let mut n = 0u8;
    move |iv: &mut [u8]| {
        n = n.wrapping_add(1);
        iv.fill(n);
    }
}

fn sha_aes(spi: u32) -> (Sa, Sa) {
    pair(&combos()[0], spi, 64)
}

/// Encapsulates `payload` with `out_sa` and returns the packet.
fn seal(out_sa: &mut Sa, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let n = out_sa
        .encap(payload, 17, &mut counting_iv(), &mut buf)
        .unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn round_trip_every_combination_and_length() {
    for c in combos() {
        let (mut tx, mut rx) = pair(&c, 0x1234, 64);
        for len in 0..70usize {
            let payload: Vec<u8> = (0..len).map(|i| i as u8 ^ 0x5a).collect();
            let mut pkt = seal(&mut tx, &payload);
            assert_eq!(pkt.len(), tx.encap_len(len));
            assert_eq!(EspPacket::new_checked(&pkt[..]).unwrap().spi(), 0x1234);
            let inner = rx.decap(&mut pkt).unwrap();
            assert_eq!(&pkt[inner.payload.clone()], &payload[..], "{c:?} len {len}");
            assert_eq!((inner.next_header, inner.seq), (17, len as u32 + 1));
        }
    }
}

#[test]
fn encap_layout_padding_and_alignment() {
    let (mut tx, _) = sha_aes(0x100);
    let pkt = seal(&mut tx, b"hello");
    // 8 header + 16 IV + 16 (5 + 9 pad + 2) + 12 ICV.
    assert_eq!(pkt.len(), 52);
    assert_eq!(&pkt[..8], &[0, 0, 1, 0, 0, 0, 0, 1]);
    assert_eq!(&pkt[8..24], &[1u8; 16], "IV from the caller's source");
    let (mut tx, _) = pair(&combos()[1], 0x100, 64);
    let pkt = seal(&mut tx, b"hello");
    // NULL: payload in clear, padded 1, 2, 3 ... to a 4-byte boundary (RFC 4303 2.4).
    assert_eq!(&pkt[8..16], b"hello\x01\x01\x11");
    assert_eq!(pkt.len(), 8 + 8 + 12);
    let mut small = [0u8; 27];
    assert_eq!(
        tx.encap(b"hello", 17, &mut counting_iv(), &mut small),
        Err(EspError::BufferTooSmall)
    );
    assert_eq!(
        tx.last_seq(),
        1,
        "a failed encap consumes no sequence number"
    );
}

#[test]
fn wrong_direction_and_bad_keys() {
    let (mut tx, mut rx) = sha_aes(0x100);
    let mut pkt = seal(&mut tx, b"x");
    assert_eq!(tx.decap(&mut pkt), Err(EspError::WrongDirection));
    assert_eq!(
        rx.encap(b"x", 17, &mut counting_iv(), &mut [0u8; 100]),
        Err(EspError::WrongDirection)
    );
    let mut p = SaParams {
        spi: 0x100,
        direction: Direction::Inbound,
        integ: None,
        integ_key: &[],
        encr: EncrAlg::Null,
        encr_key: &[],
        replay_window: 64,
    };
    assert_eq!(
        Sa::new(&p).err(),
        Some(EspError::BadKey),
        "NULL/NULL is refused"
    );
    p.encr = EncrAlg::AesCbc;
    p.encr_key = &CK24;
    assert_eq!(Sa::new(&p).err(), Some(EspError::BadKey));
    p.encr_key = &CK16;
    p.replay_window = 96;
    assert_eq!(Sa::new(&p).err(), Some(EspError::BadWindow));
}

#[test]
fn replay_window_rules() {
    let mut w = ReplayWindow::new(64).unwrap();
    let accept = |w: &mut ReplayWindow, s| w.check(s).map(|()| w.update(s));
    assert_eq!(
        accept(&mut w, 0),
        Err(EspError::Replay),
        "seq 0 is never sent"
    );
    for s in 1..=3 {
        accept(&mut w, s).unwrap();
    }
    accept(&mut w, 10).unwrap();
    accept(&mut w, 7).unwrap(); // out of order inside the window
    assert_eq!(accept(&mut w, 7), Err(EspError::Replay), "duplicate");
    assert_eq!(accept(&mut w, 3), Err(EspError::Replay), "duplicate");
    accept(&mut w, 4).unwrap();
    assert_eq!(w.top(), 10);
    // Shift by exactly 64: seq 10 falls out as 74 - 10 = 64 >= window.
    accept(&mut w, 74).unwrap();
    assert_eq!(accept(&mut w, 10), Err(EspError::Replay), "too old");
    accept(&mut w, 11).unwrap(); // 74 - 11 = 63: the left edge
    assert_eq!(accept(&mut w, 11), Err(EspError::Replay));
    // Shift by 65 clears everything that was in the window.
    accept(&mut w, 139).unwrap();
    assert_eq!(
        accept(&mut w, 74),
        Err(EspError::Replay),
        "too old after 65"
    );
    accept(&mut w, 76).unwrap(); // 139 - 76 = 63, never seen
                                 // A slot reused after the ring wraps is clean: 75 + 64 = 139 share a slot.
    assert_eq!(accept(&mut w, 139), Err(EspError::Replay));
    let mut big = ReplayWindow::new(1024).unwrap();
    accept(&mut big, 2000).unwrap();
    accept(&mut big, 977).unwrap();
    assert_eq!(accept(&mut big, 976), Err(EspError::Replay));
    assert!(ReplayWindow::new(32).is_err() && ReplayWindow::new(1088).is_err());
}

#[test]
fn replay_through_the_sa() {
    let (mut tx, mut rx) = sha_aes(0x100);
    let pkts: Vec<Vec<u8>> = (0..70).map(|_| seal(&mut tx, b"p")).collect();
    let try_seq = |rx: &mut Sa, s: usize| rx.decap(&mut pkts[s - 1].clone()).map(|i| i.seq);
    assert_eq!(try_seq(&mut rx, 2), Ok(2));
    assert_eq!(try_seq(&mut rx, 1), Ok(1));
    assert_eq!(try_seq(&mut rx, 2), Err(EspError::Replay));
    assert_eq!(try_seq(&mut rx, 66), Ok(66));
    assert_eq!(
        try_seq(&mut rx, 3),
        Ok(3),
        "66 - 3 = 63 is inside the window"
    );
    assert_eq!(try_seq(&mut rx, 67), Ok(67));
    assert_eq!(try_seq(&mut rx, 3), Err(EspError::Replay));
    assert_eq!(try_seq(&mut rx, 4), Ok(4), "67 - 4 = 63: the left edge");
    assert_eq!(try_seq(&mut rx, 69), Ok(69));
    assert_eq!(
        try_seq(&mut rx, 5),
        Err(EspError::Replay),
        "69 - 5 = 64: too old, never seen"
    );
    assert_eq!(try_seq(&mut rx, 6), Ok(6));
    assert_eq!(rx.replay_window().top(), 69);
}

fn table(worker: u32) -> SaTable {
    SaTable::new(SaTableConfig {
        worker,
        worker_bits: 2,
        capacity: 8,
    })
    .unwrap()
}

#[test]
fn tampered_packet_is_rejected_and_counted() {
    let mut alloc = SpiAllocator::new(1, 2, 0).unwrap();
    let spi = alloc.next_spi();
    let (mut tx, rx) = sha_aes(spi);
    let mut t = table(1);
    t.insert_inbound(rx, 7).unwrap();
    let good = seal(&mut tx, b"INVITE sip:bob SIP/2.0\r\n\r\n");
    for bit in [8 * 8 + 3, 8 * 30, 8 * (good.len() - 1)] {
        let mut bad = good.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let before = t.inbound_mut(spi).unwrap().replay_window().clone();
        assert_eq!(t.decap(&mut bad), Err(EspError::BadIcv));
        assert_eq!(
            t.inbound_mut(spi).unwrap().replay_window(),
            &before,
            "window unchanged"
        );
    }
    assert_eq!(t.counters().bad_icv, 3);
    assert_eq!(t.decap(&mut good.clone()).map(|i| i.seq), Ok(1));
    assert_eq!(t.decap(&mut good.clone()), Err(EspError::Replay));
    assert_eq!((t.counters().ok_in, t.counters().replay), (1, 1));
}

#[test]
fn truncated_packets_of_every_short_length() {
    for c in combos() {
        let (mut tx, mut rx) = pair(&c, 0x200, 64);
        let pkt = seal(&mut tx, b"");
        let min_len = pkt.len();
        let mut t = table(0);
        t.insert_inbound(rx.clone(), 1).unwrap();
        for len in 0..min_len {
            let mut short = pkt[..len].to_vec();
            assert_eq!(
                rx.decap(&mut short),
                Err(EspError::Truncated),
                "{c:?} len {len}"
            );
            assert_eq!(t.decap(&mut pkt[..len].to_vec()), Err(EspError::Truncated));
        }
        assert_eq!(t.counters().truncated, min_len as u64);
        assert!(rx.decap(&mut pkt.clone()).is_ok());
    }
}

#[test]
fn unknown_spi_and_misaligned_ciphertext() {
    let (mut tx, rx) = sha_aes(0x400);
    let mut t = table(0);
    t.insert_inbound(rx, 1).unwrap();
    let mut pkt = seal(&mut tx, b"abc");
    pkt[3] ^= 4;
    assert_eq!(t.decap(&mut pkt), Err(EspError::UnknownSpi));
    assert_eq!(t.counters().unknown_spi, 1);
    let mut pkt = seal(&mut tx, b"abc");
    pkt.push(0);
    assert_eq!(t.decap(&mut pkt), Err(EspError::BadLength));
    assert_eq!(t.counters().malformed, 1);
}

#[test]
fn spi_allocation_names_the_owning_worker() {
    for worker in 0..4 {
        let mut a = SpiAllocator::new(worker, 2, 0).unwrap();
        let mut t = table(worker);
        for _ in 0..4 {
            let spi = a.next_spi();
            assert!(spi >= 256, "RFC 4303 2.1 reserves 1..=255");
            assert_eq!(worker_of_spi(spi, 2), worker);
            assert!(t.owns_spi(spi));
            let (_, rx) = sha_aes(spi);
            t.insert_inbound(rx, 0).unwrap();
            let (_, rx) = sha_aes(spi);
            assert_eq!(t.insert_inbound(rx, 0), Err(TableError::InUse));
            let mut other = table((worker + 1) % 4);
            assert_eq!(
                other.insert_inbound(sha_aes(spi).1, 0),
                Err(TableError::NotOwned)
            );
        }
    }
    // The counter wraps without ever producing a reserved SPI.
    let mut a = SpiAllocator::new(3, 8, u32::MAX >> 8).unwrap();
    assert_eq!(a.next_spi(), 0xffff_ff03);
    assert_eq!(a.next_spi(), 0x103);
    let mut a = SpiAllocator::new(0, 0, u32::MAX).unwrap();
    assert_eq!((a.next_spi(), a.next_spi()), (u32::MAX, 256));
    assert!(SpiAllocator::new(4, 2, 0).is_err() && SpiAllocator::new(0, 9, 0).is_err());
    assert!(!table(0).owns_spi(3));
}

#[test]
fn table_bounds_lookup_and_removal() {
    let ue = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9));
    let mut t = SaTable::new(SaTableConfig {
        worker: 0,
        worker_bits: 0,
        capacity: 3,
    })
    .unwrap();
    let key = |port, proto| OutboundKey {
        ue_addr: ue,
        ue_port: port,
        proto,
    };
    let (tx, rx) = sha_aes(0x1000);
    t.insert_outbound(key(5062, SelectorProto::Any), tx.clone(), 9)
        .unwrap();
    assert_eq!(
        t.insert_outbound(key(5062, SelectorProto::Any), tx.clone(), 9),
        Err(TableError::InUse)
    );
    assert_eq!(
        t.insert_outbound(key(1, SelectorProto::Tcp), rx.clone(), 9),
        Err(TableError::WrongDirection)
    );
    t.insert_outbound(key(5064, SelectorProto::Udp), tx.clone(), 5)
        .unwrap();
    t.insert_inbound(rx, 9).unwrap();
    assert_eq!(
        t.insert_outbound(key(5066, SelectorProto::Any), tx, 9),
        Err(TableError::Full)
    );
    assert!(t.outbound_mut(ue, 5062, 6).is_some(), "Any matches TCP");
    assert!(t.outbound_mut(ue, 5064, 6).is_none(), "a UDP-only SA");
    // Encapsulate through the table, decapsulate through the same table's inbound SA.
    let mut buf = [0u8; 256];
    let n = t
        .encap(ue, 5062, IPPROTO_UDP, b"sip", &mut counting_iv(), &mut buf)
        .unwrap();
    let inner = t.decap(&mut buf[..n]).unwrap();
    assert_eq!(&buf[inner.payload], b"sip");
    assert_eq!(
        t.encap(ue, 1, IPPROTO_UDP, b"sip", &mut counting_iv(), &mut buf),
        Err(EspError::UnknownSpi)
    );
    assert_eq!(
        (
            t.counters().ok_out,
            t.counters().out_failed,
            t.counters().ok_in
        ),
        (1, 1, 1)
    );
    assert_eq!(t.remove_binding(9), 2);
    assert_eq!(t.len(), 1);
    assert!(!t.remove_inbound(0x1000));
    assert!(t.remove_outbound(&key(5064, SelectorProto::Udp)));
    assert!(t.is_empty());
    assert!(SaTable::new(SaTableConfig {
        worker: 4,
        worker_bits: 2,
        capacity: 1
    })
    .is_err());
}

#[test]
fn udp_pseudo_header_checksums_match_hand_computation() {
    let (s4, d4) = (
        IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)),
        IpAddr::V4(Ipv4Addr::new(192, 168, 0, 2)),
    );
    let (s6, d6) = (
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
    );
    let ports = UdpRepr {
        src_port: 5060,
        dst_port: 5060,
    };
    // By hand (RFC 1071 sums of the 16-bit words): pseudo-header + header + "ab".
    for (src, dst, want) in [(s4, d4, 0xf59bu16), (s6, d6, 0x1b7b)] {
        let mut out = [0u8; 10];
        assert_eq!(ports.emit(src, dst, b"ab", &mut out), Ok(10));
        assert_eq!(u16::from_be_bytes([out[6], out[7]]), want);
        assert_eq!(UdpRepr::parse(src, dst, &out), Ok((ports, 8..10)));
        out[9] ^= 1;
        assert_eq!(UdpRepr::parse(src, dst, &out), Err(WireError::BadChecksum));
    }
    assert_eq!(pseudo_header(s4, d6, 17, 8), Err(WireError::AddressFamily));
    assert_eq!(finish(sum(&[0xff, 0xff], 0)), 0);
    assert_eq!(UdpRepr::parse(s4, d4, &[0; 7]), Err(WireError::Truncated));
    // A zero checksum means "none" over IPv4 only.
    let zero = [0x13, 0xc4, 0x13, 0xc4, 0, 8, 0, 0];
    assert!(UdpRepr::parse(s4, d4, &zero).is_ok());
    assert_eq!(UdpRepr::parse(s6, d6, &zero), Err(WireError::BadChecksum));
}

#[test]
fn outer_ip_headers() {
    let v4 = Ipv4Repr {
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: Ipv4Addr::new(10, 0, 0, 2),
        protocol: IPPROTO_ESP,
        ttl: 64,
        ident: 0,
        payload_len: 100,
    };
    let mut pkt = [0u8; 120];
    assert_eq!(v4.emit(&mut pkt), Ok(20));
    assert_eq!(&pkt[10..12], &[0x66, 0x52], "checksum computed by hand");
    assert_eq!(Ipv4Repr::parse(&pkt), Ok((v4, 20..120)));
    assert_eq!(Ipv4Repr::parse(&pkt[..119]), Err(WireError::Truncated));
    pkt[6] = 0x20; // More Fragments
    assert_eq!(Ipv4Repr::parse(&pkt), Err(WireError::BadChecksum));
    let mut frag = pkt;
    frag[10..12].fill(0);
    let c = finish(sum(&frag[..20], 0));
    frag[10..12].copy_from_slice(&c.to_be_bytes());
    assert_eq!(Ipv4Repr::parse(&frag), Err(WireError::Fragmented));
    // A textbook header with DF set: 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7.
    let mut known = hex("450000730000400040 11b861c0a80001c0a800c7");
    known.resize(0x73, 0);
    assert_eq!(Ipv4Repr::parse(&known).map(|(r, _)| r.protocol), Ok(17));
    let v6 = Ipv6Repr {
        src: Ipv6Addr::LOCALHOST,
        dst: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2),
        next_header: IPPROTO_ESP,
        hop_limit: 64,
        payload_len: 4,
    };
    let mut pkt = [0u8; 44];
    assert_eq!(v6.emit(&mut pkt), Ok(40));
    assert_eq!(Ipv6Repr::parse(&pkt), Ok((v6, 40..44)));
    assert_eq!(Ipv6Repr::parse(&pkt[..43]), Err(WireError::Truncated));
    assert_eq!(Ipv4Repr::parse(&pkt), Err(WireError::BadVersion));
}

#[test]
fn udp_encapsulation_rfc3948() {
    assert_eq!(classify(&[0xff]), Ok(UdpEncap::Keepalive));
    assert_eq!(classify(&[0, 0, 0, 0, 1, 2]), Ok(UdpEncap::NonEsp));
    assert_eq!(classify(&[0, 0, 1, 0, 0, 0, 0, 1]), Ok(UdpEncap::Esp));
    assert_eq!(classify(&[0, 0, 1]), Err(WireError::Truncated));
    assert_eq!(classify(&[]), Err(WireError::Truncated));
    let ports = UdpRepr {
        src_port: 4500,
        dst_port: 4500,
    };
    let (s4, d4) = (
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
    );
    let mut buf = [0u8; 8 + 16];
    buf[8..].fill(0xab);
    assert_eq!(emit_udp_encap(ports, s4, d4, &mut buf, 16), Ok(24));
    assert_eq!(&buf[4..8], &[0, 24, 0, 0], "zero checksum over IPv4");
    let (s6, d6) = (
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    );
    emit_udp_encap(ports, s6, d6, &mut buf, 16).unwrap();
    assert_ne!(&buf[6..8], &[0, 0], "IPv6 needs a checksum");
    assert_eq!(UdpRepr::parse(s6, d6, &buf), Ok((ports, 8..24)));
}

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

#[test]
fn seeded_mutations_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for c in combos() {
        let (mut tx, rx) = pair(&c, 0x300, 128);
        let good: Vec<Vec<u8>> = (0..8)
            .map(|i| seal(&mut tx, &vec![i as u8; i * 7]))
            .collect();
        for _ in 0..3000 {
            let mut rx = rx.clone();
            let mut p = good[(xorshift(&mut seed) % 8) as usize].clone();
            for _ in 0..(xorshift(&mut seed) % 4) {
                let i = (xorshift(&mut seed) as usize) % p.len().max(1);
                if let Some(b) = p.get_mut(i) {
                    *b ^= xorshift(&mut seed) as u8;
                }
            }
            if xorshift(&mut seed) % 3 == 0 {
                p.truncate((xorshift(&mut seed) as usize) % (p.len() + 1));
            }
            if let Ok(inner) = rx.decap(&mut p) {
                assert!(inner.payload.end <= p.len());
            }
            let _ = classify(&p);
            let _ = Ipv4Repr::parse(&p);
            let _ = Ipv6Repr::parse(&p);
        }
    }
}
