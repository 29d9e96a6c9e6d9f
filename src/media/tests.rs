//! Tests of the RTP/RTCP views, the port allocator and the media table on a virtual clock,
//! plus the seeded mutation test over every SDP and media decoder.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::*;

fn rtp(seq: u16, ts: u32, ssrc: u32) -> Vec<u8> {
    let h = RtpHeader { payload_type: 116, sequence_number: seq, timestamp: ts, ssrc, ..RtpHeader::default() };
    let mut b = vec![0u8; 12 + 20];
    h.emit(&mut b).unwrap();
    b
}

fn addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(10, 45, 0, last), port))
}

/// RTCP RR with one report block, then SDES with a CNAME (RFC 3550 6.4.2, 6.5).
const RR_SDES: &[u8] = &[
    0x81, 201, 0, 7, 0x11, 0x22, 0x33, 0x44, // RR, RC=1, length 7
    0xaa, 0xbb, 0xcc, 0xdd, 0x10, 0xff, 0xff, 0xfe, // ssrc, fraction 16, cumulative -2
    0, 1, 0x00, 0x10, 0, 0, 0, 40, // ext highest seq 65552, jitter 40
    0, 0, 0, 0, 0, 0, 0, 0, // lsr, dlsr
    0x81, 202, 0, 3, 0x11, 0x22, 0x33, 0x44, // SDES, SC=1, length 3
    1, 3, b'u', b'e', b'1', 0, 0, 0, // CNAME "ue1", end, pad
];

#[test]
fn rtp_header_with_csrcs_extension_and_padding() {
    let mut b = vec![0xb2, 0xe4, 0x12, 0x34, 0, 0, 1, 0, 0xde, 0xad, 0xbe, 0xef];
    b.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]); // CSRCs
    b.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]); // RFC 8285 one-byte ext
    b.extend_from_slice(&[1, 2, 3, 0, 0, 3]); // payload, 3 padding bytes
    let p = RtpPacket::new_checked(&b[..]).unwrap();
    assert_eq!((p.version(), p.padding(), p.extension(), p.csrc_count()), (2, true, true, 2));
    assert_eq!((p.marker(), p.payload_type(), p.sequence_number()), (true, 100, 0x1234));
    assert_eq!((p.timestamp(), p.ssrc()), (256, 0xdead_beef));
    assert_eq!((p.csrc(1), p.csrc(2)), (Some(2), None));
    assert_eq!(p.extension_data(), Some((0xbede, &[0x10, 0xaa, 0, 0][..])));
    assert_eq!(p.payload(), &[1, 2, 3]);
    let h = RtpHeader::parse(&p);
    let mut out = [0u8; 20];
    assert_eq!(h.emit(&mut out), Some(20));
    assert_eq!(&out[2..20], &b[2..20]);
}

#[test]
fn rtp_rejects_bad_version_and_truncation() {
    let good = rtp(1, 2, 3);
    let mut v1 = good.clone();
    v1[0] = 0x40;
    assert_eq!(RtpPacket::new_checked(&v1[..]).unwrap_err(), RtpError::BadVersion);
    assert_eq!(RtpPacket::new_checked(&good[..11]).unwrap_err(), RtpError::Truncated);
    assert_eq!(RtpPacket::new_checked(&[][..]).unwrap_err(), RtpError::Truncated);
    let mut cc = good[..16].to_vec();
    cc[0] = 0x82; // two CSRCs announced, one present
    assert_eq!(RtpPacket::new_checked(&cc[..]).unwrap_err(), RtpError::Truncated);
    let mut ext = good[..16].to_vec();
    ext[0] = 0x90;
    ext[14] = 0;
    ext[15] = 5; // 5 words announced, none present
    assert_eq!(RtpPacket::new_checked(&ext[..]).unwrap_err(), RtpError::Truncated);
    let mut pad = good.clone();
    pad[0] |= 0x20;
    *pad.last_mut().unwrap() = 0;
    assert_eq!(RtpPacket::new_checked(&pad[..]).unwrap_err(), RtpError::BadPadding);
    *pad.last_mut().unwrap() = 21;
    assert_eq!(RtpPacket::new_checked(&pad[..]).unwrap_err(), RtpError::BadPadding);
}

#[test]
fn rtcp_compound_rr_sdes() {
    let c = RtcpCompound::new_checked(RR_SDES).unwrap();
    let packets: Vec<_> = c.packets().collect();
    assert_eq!(packets.len(), 2);
    assert_eq!(packets[0].packet_type(), RtcpType::Rr);
    let rb: Vec<_> = packets[0].report_blocks().collect();
    assert_eq!(rb[0].ssrc, 0xaabb_ccdd);
    assert_eq!((rb[0].fraction_lost, rb[0].cumulative_lost), (16, -2));
    assert_eq!((rb[0].highest_seq, rb[0].jitter), (0x0001_0010, 40));
    let items: Vec<_> = packets[1].sdes_items().collect();
    assert_eq!(items, vec![(0x1122_3344, 1, &b"ue1"[..])]);
    assert!(is_rtcp(RR_SDES));
    assert!(!is_rtcp(&rtp(1, 1, 1)));
}

#[test]
fn rtcp_sr_bye_app_and_errors() {
    let mut sr = vec![0x80, 200, 0, 6, 0, 0, 0, 9];
    sr.extend_from_slice(&[0, 0, 0, 1, 0x80, 0, 0, 0, 0, 0, 0x03, 0x20, 0, 0, 0, 5, 0, 0, 0, 100]);
    let bye = [0x81, 203, 0, 2, 0, 0, 0, 9, 3, b'e', b'n', b'd'];
    let app = [0x80, 204, 0, 3, 0, 0, 0, 9, b'R', b'I', b'N', b'G', 1, 2, 3, 4];
    let all = [&sr[..], &bye[..], &app[..]].concat();
    let c = RtcpCompound::new_checked(&all).unwrap();
    let p: Vec<_> = c.packets().collect();
    assert_eq!(p[0].sender_info(), Some(((1 << 32) | 0x8000_0000, 800, 5, 100)));
    assert_eq!(p[1].bye_sources().collect::<Vec<_>>(), vec![9]);
    assert_eq!(p[1].bye_reason(), Some(&b"end"[..]));
    assert_eq!(p[2].app(), Some((&b"RING"[..], &[1, 2, 3, 4][..])));
    // RFC 3550 A.2: compound must start with SR/RR; RFC 5506 relaxes it.
    assert_eq!(RtcpCompound::new_checked(&bye).unwrap_err(), RtcpError::BadFirstPacket);
    assert!(RtcpCompound::new_checked_reduced(&bye).is_ok());
    // Length field beyond the datagram; SR announcing a report block it lacks.
    assert_eq!(RtcpCompound::new_checked(&all[..all.len() - 1]).unwrap_err(), RtcpError::Truncated);
    let mut short_sr = sr.clone();
    short_sr[0] = 0x81;
    assert_eq!(RtcpCompound::new_checked(&short_sr).unwrap_err(), RtcpError::BadLength);
    // Padding only on the last packet (RFC 3550 6.4.1 "P").
    let app_padded = [0xa0, 204, 0, 3, 0, 0, 0, 9, b'R', b'I', b'N', b'G', 0, 0, 0, 4];
    let padded_middle = [&sr[..], &app_padded[..], &bye[..]].concat();
    assert_eq!(RtcpCompound::new_checked(&padded_middle).unwrap_err(), RtcpError::BadPadding);
    let padded_last = [&sr[..], &app_padded[..]].concat();
    let last = RtcpCompound::new_checked(&padded_last).unwrap().packets().nth(1).unwrap();
    assert_eq!(last.app(), Some((&b"RING"[..], &[][..])));
    let mut v1 = sr;
    v1[0] = 0x40;
    assert_eq!(RtcpCompound::new_checked(&v1).unwrap_err(), RtcpError::BadVersion);
}

#[test]
fn port_allocator_ownership() {
    let n = 3;
    let mut seen = Vec::new();
    for w in 0..n {
        let mut a = PortAllocator::new(10001, 10020, w, n);
        while let Some(p) = a.alloc() {
            assert_eq!(p % 2, 0);
            assert_eq!(a.range().owner(p), Some(w));
            assert_eq!(a.range().owner(p + 1), Some(w), "RTCP port has the same owner");
            seen.push(p);
        }
        assert_eq!(a.available(), 0);
    }
    seen.sort_unstable();
    assert_eq!(seen, (10002..=10018).step_by(2).collect::<Vec<_>>());
    let mut a = PortAllocator::new(10000, 10011, 1, 2); // pairs 1, 3, 5: 10002, 10006, 10010
    let (p1, p2) = (a.alloc().unwrap(), a.alloc().unwrap());
    assert_eq!((p1, p2), (10002, 10006));
    assert!(!a.free(10000), "owned by worker 0");
    assert!(a.free(p1));
    assert!(!a.free(p1), "double free");
    assert_eq!(a.alloc(), Some(10010), "rotates before reusing");
    assert_eq!(a.alloc(), Some(10002));
    assert_eq!(a.alloc(), None);
    assert_eq!(PortRange::new(10000, 10011, 2).owner(9998), None);
}

fn table(capacity: usize) -> MediaTable {
    MediaTable::new(TableConfig { capacity, port_min: 40000, port_max: 40099, delay_packets: 4 })
}

#[test]
fn echo_latches_and_counts() {
    let mut t = table(4);
    t.install(40000, MediaSpec::echo()).unwrap();
    let now = Instant::now();
    let ue = addr(2, 1234);
    let mut p = rtp(10, 0, 7);
    let a = t.handle_packet(now, 40000, ue, &mut p);
    assert_eq!(a, Action::Send { src_port: 40000, dst: ue, len: 32 });
    // Another source after latching is dropped and counted.
    assert_eq!(t.handle_packet(now, 40000, addr(3, 1234), &mut p), Action::Drop(DropReason::UnexpectedSource));
    // RTCP on port + 1 latches separately and is echoed from port + 1.
    let mut r = RR_SDES.to_vec();
    let a = t.handle_packet(now, 40001, addr(2, 1235), &mut r);
    assert_eq!(a, Action::Send { src_port: 40001, dst: addr(2, 1235), len: RR_SDES.len() });
    let mut bad = vec![0x40; 12];
    assert_eq!(t.handle_packet(now, 40000, ue, &mut bad), Action::Drop(DropReason::Malformed));
    let s = t.snapshot(40000).unwrap();
    assert_eq!((s.rtp_addr, s.rtcp_addr), (Some(ue), Some(addr(2, 1235))));
    let c = s.counters;
    assert_eq!((c.rtp_rx_packets, c.rtp_rx_bytes, c.rtp_tx_packets, c.rtp_tx_bytes), (1, 32, 1, 32));
    assert_eq!((c.rtcp_rx_packets, c.rtcp_tx_packets), (1, 1));
    assert_eq!((c.drop_unexpected_source, c.drop_malformed), (1, 1));
    assert_eq!(t.handle_packet(now, 40002, ue, &mut p), Action::Drop(DropReason::UnknownPort));
}

#[test]
fn echo_without_latch_answers_every_source() {
    let mut t = table(1);
    t.install(40000, MediaSpec { latch: false, ..MediaSpec::echo() }).unwrap();
    let now = Instant::now();
    let mut p = rtp(1, 0, 7);
    for src in [addr(2, 1), addr(3, 1)] {
        assert_eq!(t.handle_packet(now, 40000, src, &mut p), Action::Send { src_port: 40000, dst: src, len: 32 });
    }
}

#[test]
fn reception_stats_loss_gaps_and_jitter() {
    let mut t = table(1);
    t.install(40000, MediaSpec { clock_rate: 8000, ..MediaSpec::echo() }).unwrap();
    let t0 = Instant::now();
    let ue = addr(2, 1234);
    // 20 ms packets, 160 ticks each; seq 3 lost; packet 5 arrives 10 ms late.
    for (seq, late_ms) in [(1u16, 0u64), (2, 0), (4, 0), (5, 10), (6, 0)] {
        let at = t0 + Duration::from_millis(20 * u64::from(seq) + late_ms);
        let mut p = rtp(seq, 160 * u32::from(seq), 99);
        t.handle_packet(at, 40000, ue, &mut p);
    }
    let r = t.snapshot(40000).unwrap().reception;
    assert_eq!((r.ssrc, r.received, r.expected, r.lost, r.gaps), (99, 5, 6, 1, 1));
    // |D| = 80 then 80 ticks: J = 80/16 = 5, then 5 + (80 - 5)/16 = 9 (integer A.8).
    assert_eq!(r.jitter, 9);
}

#[test]
fn relay_between_two_slots() {
    let mut t = table(4);
    let (a_ue, b_ue) = (addr(2, 1000), addr(3, 2000));
    let leg = |peer_port, remote: SocketAddr| MediaSpec {
        mode: MediaMode::Relay { peer_port },
        remote_rtp: Some(remote),
        remote_rtcp: Some(SocketAddr::new(remote.ip(), remote.port() + 1)),
        latch: false,
        ..MediaSpec::echo()
    };
    t.install(40000, leg(40002, a_ue)).unwrap();
    t.install(40002, leg(40000, b_ue)).unwrap();
    let now = Instant::now();
    let mut p = rtp(1, 0, 5);
    assert_eq!(t.handle_packet(now, 40000, a_ue, &mut p), Action::Send { src_port: 40002, dst: b_ue, len: 32 });
    assert_eq!(t.handle_packet(now, 40002, b_ue, &mut p), Action::Send { src_port: 40000, dst: a_ue, len: 32 });
    let mut r = RR_SDES.to_vec();
    let a = t.handle_packet(now, 40001, addr(2, 1001), &mut r);
    assert_eq!(a, Action::Send { src_port: 40003, dst: addr(3, 2001), len: RR_SDES.len() });
    let (sa, sb) = (t.snapshot(40000).unwrap().counters, t.snapshot(40002).unwrap().counters);
    assert_eq!((sa.rtp_rx_packets, sa.rtp_tx_packets, sb.rtp_rx_packets, sb.rtp_tx_packets), (1, 1, 1, 1));
    assert_eq!(sb.rtcp_tx_packets, 1);
    // RTP switched off on leg A (dialog_set media rtp=false): blocked, RTCP still flows.
    t.set_switches(40000, false, true).unwrap();
    assert_eq!(t.handle_packet(now, 40000, a_ue, &mut p), Action::Drop(DropReason::Blocked));
    assert!(matches!(t.handle_packet(now, 40001, a_ue, &mut r), Action::Send { .. }));
    // Peer gone: no destination.
    t.remove(40002).unwrap();
    t.set_switches(40000, true, true).unwrap();
    assert_eq!(t.handle_packet(now, 40000, a_ue, &mut p), Action::Drop(DropReason::NoDestination));
}

#[test]
fn media_delay_on_a_virtual_clock() {
    let mut t = table(2);
    let ue = addr(2, 1234);
    t.install(40000, MediaSpec { delay: Duration::from_millis(100), ..MediaSpec::echo() }).unwrap();
    let t0 = Instant::now();
    for seq in 0..3u16 {
        let mut p = rtp(seq, 0, 1);
        assert_eq!(t.handle_packet(t0 + Duration::from_millis(20 * u64::from(seq)), 40000, ue, &mut p), Action::Hold);
    }
    assert_eq!(t.poll_timeout(), Some(t0 + Duration::from_millis(100)));
    assert!(t.poll_due(t0 + Duration::from_millis(99)).is_none());
    let d = t.poll_due(t0 + Duration::from_millis(130)).unwrap();
    assert_eq!((d.src_port, d.dst, d.data.len()), (40000, ue, 32));
    assert_eq!(RtpPacket::new_checked(d.data).unwrap().sequence_number(), 0);
    let seq1 = t.poll_due(t0 + Duration::from_millis(130)).map(|d| RtpPacket::new_checked(d.data).unwrap().sequence_number());
    assert_eq!(seq1, Some(1));
    assert!(t.poll_due(t0 + Duration::from_millis(130)).is_none(), "seq 2 is due at 140 ms");
    assert_eq!(t.poll_timeout(), Some(t0 + Duration::from_millis(140)));
    assert!(t.poll_due(t0 + Duration::from_millis(140)).is_some());
    assert_eq!(t.snapshot(40000).unwrap().counters.rtp_tx_packets, 3);
    // Bounded: the 4-packet pool overflows on the fifth.
    for seq in 0..5u16 {
        let mut p = rtp(seq, 0, 1);
        let a = t.handle_packet(t0, 40000, ue, &mut p);
        assert_eq!(a, if seq < 4 { Action::Hold } else { Action::Drop(DropReason::DelayFull) });
    }
    // Packets of a removed session are discarded when due.
    t.remove(40000).unwrap();
    assert!(t.poll_due(t0 + Duration::from_secs(1)).is_none());
    assert_eq!(t.held(), 0);
}

#[test]
fn table_bounds() {
    let mut t = table(2);
    t.install(40000, MediaSpec::echo()).unwrap();
    assert_eq!(t.install(40000, MediaSpec::echo()), Err(TableError::AlreadyInstalled));
    t.install(40002, MediaSpec::echo()).unwrap();
    assert_eq!(t.install(40004, MediaSpec::echo()), Err(TableError::Full));
    assert_eq!(t.install(40001, MediaSpec::echo()), Err(TableError::OutOfRange));
    assert_eq!(t.install(50000, MediaSpec::echo()), Err(TableError::OutOfRange));
    assert_eq!(t.set_switches(40004, true, true), Err(TableError::NotInstalled));
    assert_eq!(t.len(), 2);
    t.remove(40000).unwrap();
    t.install(40004, MediaSpec::echo()).unwrap();
    assert!(t.snapshot(40000).is_none());
}

use crate::testkit::XorShift;

fn mutate(rng: &mut XorShift, seed: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(seed);
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if at < out.len() => out[at] = rng.next() as u8,
            1 if at < out.len() => out[at] ^= 1 << rng.below(8),
            2 => out.insert(at, b"\n=:/ 0123456789ax\r"[rng.below(18)]),
            3 if at < out.len() => {
                out.remove(at);
            }
            _ => out.truncate(at),
        }
    }
}

#[test]
fn seeded_mutations_never_panic() {
    let sdp_seeds = [
        crate::sdp::tests::SAMSUNG,
        crate::sdp::tests::IPHONE_V6,
        crate::sdp::tests::VILTE,
        crate::sdp::tests::MGW_OFFER,
    ];
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut buf = Vec::new();
    for i in 0..6000 {
        mutate(&mut rng, sdp_seeds[i % sdp_seeds.len()].as_bytes(), &mut buf);
        crate::sdp::fuzzing::exercise(&buf);
    }
    let mut ext = rtp(1, 2, 3);
    ext[0] = 0xb1;
    let media_seeds: [&[u8]; 3] = [&rtp(1, 2, 3), RR_SDES, &ext];
    for i in 0..20000 {
        mutate(&mut rng, media_seeds[i % media_seeds.len()], &mut buf);
        fuzzing::exercise(&buf);
    }
}
