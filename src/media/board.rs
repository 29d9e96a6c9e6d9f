//! [`MediaBoard`]: the per-session media counters and destinations that the workers
//! publish for the control thread's `dialog_get` (seed 000 6.6 `medias`: rtp_addr,
//! rtp_recv_count, rtp_send_count, rtcp_addr, rtcp_recv_count, rtcp_send_count).
//!
//! Why a board and not a request over the command queue: `dialog_get` must not wait
//! for N workers to answer (the control thread never blocks), and the hot path must
//! stay free of locks and allocation. The board is one cell per RTP port pair of the
//! whole media range, allocated at start-up and shared (`Arc`) between the workers
//! and the control thread. A pair belongs to exactly one worker ([`super::PortRange`]
//! splits the range), so each cell has a single writer: the worker stores its
//! session counters with relaxed atomic stores (plain moves on x86-64 and AArch64,
//! no read-modify-write), and the control thread reads them with relaxed loads.
//! The six fields of a cell are not read as one snapshot; for counters shown to an
//! operator a reading that is a few packets apart between fields is fine.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::port::PortRange;
use super::stats::MediaCounters;

/// One port pair's published state; 64-byte aligned so that two workers writing
/// neighbouring pairs never share a cache line.
#[repr(align(64))]
#[derive(Default)]
struct Cell {
    rtp_rx: AtomicU64,
    rtp_tx: AtomicU64,
    rtcp_rx: AtomicU64,
    rtcp_tx: AtomicU64,
    /// [`encode_addr`] of the RTP destination.
    rtp_addr: AtomicU64,
    /// [`encode_addr`] of the RTCP destination.
    rtcp_addr: AtomicU64,
}

/// What the control thread reads for one media session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoardEntry {
    /// RTP packets received.
    pub rtp_recv: u64,
    /// RTP packets sent.
    pub rtp_send: u64,
    /// RTCP packets received.
    pub rtcp_recv: u64,
    /// RTCP packets sent.
    pub rtcp_send: u64,
    /// Where RTP goes (latched source or SDP address); None when unknown or IPv6.
    pub rtp_addr: Option<SocketAddr>,
    /// Where RTCP goes.
    pub rtcp_addr: Option<SocketAddr>,
}

/// The media counters of every port pair of the media range.
pub struct MediaBoard {
    range: PortRange,
    cells: Box<[Cell]>,
}

/// Marks an encoded address as present (bit 48, above the 32-bit IPv4 address and the port).
const PRESENT: u64 = 1 << 48;

/// An IPv4 address and port in one word (IPv6 addresses are not published: the
/// control thread falls back to the SDP address for them).
fn encode_addr(a: Option<SocketAddr>) -> u64 {
    match a {
        Some(SocketAddr::V4(v4)) => PRESENT | u64::from(u32::from(*v4.ip())) << 16 | u64::from(v4.port()),
        _ => 0,
    }
}

fn decode_addr(w: u64) -> Option<SocketAddr> {
    if w & PRESENT == 0 {
        return None;
    }
    let ip = Ipv4Addr::from((w >> 16) as u32);
    Some(SocketAddr::V4(SocketAddrV4::new(ip, w as u16)))
}

impl MediaBoard {
    /// A board for RTP ports `port_min..=port_max`, every cell allocated now.
    pub fn new(port_min: u16, port_max: u16) -> MediaBoard {
        let range = PortRange::new(port_min, port_max, 1);
        let cells = (0..range.pairs()).map(|_| Cell::default()).collect();
        MediaBoard { range, cells }
    }

    fn cell(&self, rtp_port: u16) -> Option<&Cell> {
        let k = self.range.pair_index(rtp_port)?;
        (self.range.rtp_port(k) == Some(rtp_port)).then(|| self.cells.get(k)).flatten()
    }

    /// Worker side: publishes the state of the session on `rtp_port` (its owner only).
    pub fn publish(&self, rtp_port: u16, c: &MediaCounters, rtp_addr: Option<SocketAddr>, rtcp_addr: Option<SocketAddr>) {
        let Some(cell) = self.cell(rtp_port) else { return };
        cell.rtp_rx.store(c.rtp_rx_packets, Relaxed);
        cell.rtp_tx.store(c.rtp_tx_packets, Relaxed);
        cell.rtcp_rx.store(c.rtcp_rx_packets, Relaxed);
        cell.rtcp_tx.store(c.rtcp_tx_packets, Relaxed);
        cell.rtp_addr.store(encode_addr(rtp_addr), Relaxed);
        cell.rtcp_addr.store(encode_addr(rtcp_addr), Relaxed);
    }

    /// Worker side: the session on `rtp_port` is gone or new; its cell reads as zero.
    pub fn clear(&self, rtp_port: u16) {
        self.publish(rtp_port, &MediaCounters::default(), None, None);
    }

    /// Control side: the last published state of `rtp_port` (None outside the range).
    pub fn read(&self, rtp_port: u16) -> Option<BoardEntry> {
        let cell = self.cell(rtp_port)?;
        Some(BoardEntry {
            rtp_recv: cell.rtp_rx.load(Relaxed),
            rtp_send: cell.rtp_tx.load(Relaxed),
            rtcp_recv: cell.rtcp_rx.load(Relaxed),
            rtcp_send: cell.rtcp_tx.load(Relaxed),
            rtp_addr: decode_addr(cell.rtp_addr.load(Relaxed)),
            rtcp_addr: decode_addr(cell.rtcp_addr.load(Relaxed)),
        })
    }
}

impl std::fmt::Debug for MediaBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaBoard").field("pairs", &self.cells.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_then_read_round_trips_counters_and_ipv4_addresses() {
        let b = MediaBoard::new(40000, 40099);
        let c = MediaCounters { rtp_rx_packets: 7, rtp_tx_packets: 6, rtcp_rx_packets: 2, rtcp_tx_packets: 1, ..Default::default() };
        let a: SocketAddr = "192.0.2.7:5004".parse().expect("literal");
        let r: SocketAddr = "192.0.2.7:5005".parse().expect("literal");
        b.publish(40010, &c, Some(a), Some(r));
        let e = b.read(40010).expect("in range");
        assert_eq!((e.rtp_recv, e.rtp_send, e.rtcp_recv, e.rtcp_send), (7, 6, 2, 1));
        assert_eq!((e.rtp_addr, e.rtcp_addr), (Some(a), Some(r)));
        assert_eq!(b.read(40012), Some(BoardEntry::default()), "other pairs untouched");
        b.clear(40010);
        assert_eq!(b.read(40010), Some(BoardEntry::default()));
    }

    #[test]
    fn odd_and_out_of_range_ports_are_refused_and_ipv6_is_not_published() {
        let b = MediaBoard::new(40000, 40099);
        assert_eq!(b.read(40011), None);
        assert_eq!(b.read(39998), None);
        assert_eq!(b.read(40100), None);
        let v6: SocketAddr = "[2001:db8::1]:5004".parse().expect("literal");
        b.publish(40000, &MediaCounters::default(), Some(v6), None);
        assert_eq!(b.read(40000).map(|e| e.rtp_addr), Some(None));
        // 0.0.0.0:0 is still a present address.
        let zero: SocketAddr = "0.0.0.0:0".parse().expect("literal");
        b.publish(40002, &MediaCounters::default(), Some(zero), None);
        assert_eq!(b.read(40002).and_then(|e| e.rtp_addr), Some(zero));
    }

    /// RTP (RFC 3550 5.1): V=2, PT 96, the sequence number, timestamp and SSRC, 20 bytes of payload.
    fn rtp(seq: u16) -> Vec<u8> {
        let mut p = vec![0x80, 96];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&(u32::from(seq) * 320).to_be_bytes());
        p.extend_from_slice(&0x0102_0304u32.to_be_bytes());
        p.extend_from_slice(&[0u8; 20]);
        p
    }

    #[test]
    fn the_table_publishes_echo_and_switch_state_per_packet_on_a_virtual_clock() {
        use crate::media::{Action, MediaSpec, MediaTable, TableConfig};
        use std::sync::Arc;
        use std::time::{Duration, Instant};
        let board = Arc::new(MediaBoard::new(40000, 40099));
        let mut t = MediaTable::new(TableConfig { capacity: 4, port_min: 40000, port_max: 40099, delay_packets: 4 });
        t.attach_board(board.clone());
        t.install(40020, MediaSpec::echo()).expect("installs");
        let ue: SocketAddr = "198.51.100.9:7078".parse().expect("literal");
        let t0 = Instant::now();
        for seq in 0..3u16 {
            let mut p = rtp(seq);
            let a = t.handle_packet(t0 + Duration::from_millis(20 * u64::from(seq)), 40020, ue, &mut p);
            assert!(matches!(a, Action::Send { dst, .. } if dst == ue), "{a:?}");
        }
        let e = board.read(40020).expect("in range");
        assert_eq!((e.rtp_recv, e.rtp_send, e.rtp_addr), (3, 3, Some(ue)));
        // dialog_set media rtp=false: received and counted, not sent back.
        t.set_switches(40020, false, true).expect("installed");
        let mut p = rtp(3);
        assert!(matches!(t.handle_packet(t0 + Duration::from_millis(60), 40020, ue, &mut p), Action::Drop(_)));
        let e = board.read(40020).expect("in range");
        assert_eq!((e.rtp_recv, e.rtp_send), (4, 3));
        t.remove(40020).expect("installed");
        assert_eq!(board.read(40020), Some(BoardEntry::default()), "a removed session reads as zero");
    }
}
