//! [`MediaTable`]: the media sessions of one worker, in slots preallocated at start-up and
//! found by local RTP port through a flat index over the port range. Each slot echoes
//! (RFC 4961 symmetric RTP: back to the source, optionally latched), relays to the other
//! leg's remote address, or blocks; RTP and RTCP can be switched off separately
//! (`dialog_set` action `media`) and packets can be held for a media delay.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use std::sync::Arc;

use super::board::MediaBoard;
use super::delay::{DelayPool, Held};
use super::port::PortRange;
use super::rtcp::RtcpCompound;
use super::rtp::{is_rtcp, RtpPacket};
use super::stats::{MediaCounters, ReceptionStats, SourceState};

/// What a slot does with the packets it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaMode {
    /// Send every packet back to its source (echo service).
    Echo,
    /// Forward to the remote address of the slot at `peer_port` (B2BUA media relay).
    Relay {
        /// Local RTP port of the other leg.
        peer_port: u16,
    },
    /// Drop everything (counted).
    Blocked,
}

/// The description of one media session, from the negotiated SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaSpec {
    /// Mode.
    pub mode: MediaMode,
    /// Remote RTP address from the SDP (`c=` and `m=` port).
    pub remote_rtp: Option<SocketAddr>,
    /// Remote RTCP address (RFC 3605 `a=rtcp`, else RTP port + 1).
    pub remote_rtcp: Option<SocketAddr>,
    /// RFC 4961: the first source of RTP (and of RTCP) becomes the remote address;
    /// packets from other sources are then dropped.
    pub latch: bool,
    /// RFC 5761: RTCP multiplexed on the RTP port.
    pub rtcp_mux: bool,
    /// RTP clock rate of the negotiated codec (for the jitter, RFC 3550 A.8).
    pub clock_rate: u32,
    /// Time packets are held before being sent (`media_delay`); zero to send at once.
    pub delay: Duration,
}

impl MediaSpec {
    /// Echo with latching, no remote known yet, 16 kHz clock (AMR-WB), no delay.
    pub fn echo() -> MediaSpec {
        MediaSpec {
            mode: MediaMode::Echo,
            remote_rtp: None,
            remote_rtcp: None,
            latch: true,
            rtcp_mux: false,
            clock_rate: 16000,
            delay: Duration::ZERO,
        }
    }
}

/// Sizes of a [`MediaTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableConfig {
    /// Most media sessions at once.
    pub capacity: usize,
    /// Lowest port of the RTP range.
    pub port_min: u16,
    /// Highest port of the RTP range.
    pub port_max: u16,
    /// Packets the delay line can hold (each in a [`super::DELAY_MTU`] buffer).
    pub delay_packets: usize,
}

/// Why a packet was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// No media session on this port.
    UnknownPort,
    /// Not valid RTP (RFC 3550 5.1) or RTCP (RFC 3550 6.1 / RFC 5506).
    Malformed,
    /// Blocked mode, or RTP/RTCP switched off.
    Blocked,
    /// Not from the latched source.
    UnexpectedSource,
    /// No destination known (relay peer missing or without remote address).
    NoDestination,
    /// The delay line is full.
    DelayFull,
}

/// The decision on one received packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send the first `len` bytes of the buffer from local port `src_port` to `dst`.
    Send {
        /// Local port (socket) to send from.
        src_port: u16,
        /// Destination.
        dst: SocketAddr,
        /// Bytes to send.
        len: usize,
    },
    /// Drop the packet.
    Drop(DropReason),
    /// The packet was copied into the delay line; see [`MediaTable::poll_due`].
    Hold,
}

/// A delayed packet now due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due<'a> {
    /// Local port (socket) to send from.
    pub src_port: u16,
    /// Destination.
    pub dst: SocketAddr,
    /// The packet.
    pub data: &'a [u8],
}

/// Control-side errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableError {
    /// Every slot is in use.
    Full,
    /// The port is outside the table's range or odd.
    OutOfRange,
    /// A session is already installed on the port.
    AlreadyInstalled,
    /// No session on the port.
    NotInstalled,
}

/// The state reported by `dialog_get` for one media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaSnapshot {
    /// Local RTP port.
    pub local_port: u16,
    /// Mode.
    pub mode: MediaMode,
    /// RTP switched on.
    pub rtp_enabled: bool,
    /// RTCP switched on.
    pub rtcp_enabled: bool,
    /// Where RTP goes (latched or from SDP).
    pub rtp_addr: Option<SocketAddr>,
    /// Where RTCP goes.
    pub rtcp_addr: Option<SocketAddr>,
    /// Counters.
    pub counters: MediaCounters,
    /// RTP reception statistics.
    pub reception: ReceptionStats,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    port: u16,
    gen: u32,
    spec: MediaSpec,
    rtp_on: bool,
    rtcp_on: bool,
    rtp_latched: bool,
    rtcp_latched: bool,
    counters: MediaCounters,
    source: SourceState,
    epoch: Option<Instant>,
}

impl Slot {
    fn remote(&self, rtcp: bool) -> Option<SocketAddr> {
        match (rtcp, self.spec.rtcp_mux) {
            (true, false) => self.spec.remote_rtcp,
            _ => self.spec.remote_rtp,
        }
    }

    fn send_port(&self, rtcp: bool) -> u16 {
        if rtcp && !self.spec.rtcp_mux {
            self.port.wrapping_add(1)
        } else {
            self.port
        }
    }

    fn count_tx(&mut self, rtcp: bool, len: usize) {
        let c = &mut self.counters;
        let (p, b) = if rtcp { (&mut c.rtcp_tx_packets, &mut c.rtcp_tx_bytes) } else { (&mut c.rtp_tx_packets, &mut c.rtp_tx_bytes) };
        *p += 1;
        *b += len as u64;
    }

    /// RFC 4961 latching; false when the source must be dropped.
    fn accept_source(&mut self, rtcp: bool, src: SocketAddr) -> bool {
        if !self.spec.latch {
            return true;
        }
        let flow_rtcp = rtcp && !self.spec.rtcp_mux;
        let latched = if flow_rtcp { &mut self.rtcp_latched } else { &mut self.rtp_latched };
        if *latched {
            return self.remote(rtcp) == Some(src);
        }
        *latched = true;
        if flow_rtcp {
            self.spec.remote_rtcp = Some(src);
        } else {
            self.spec.remote_rtp = Some(src);
        }
        true
    }
}

/// The media sessions of one worker.
pub struct MediaTable {
    range: PortRange,
    /// Pair index -> slot index + 1 (0: none).
    index: Box<[u32]>,
    slots: Box<[Option<Slot>]>,
    free: Vec<u32>,
    delay: DelayPool,
    next_gen: u32,
    /// Where the counters are published for `dialog_get` (see [`MediaBoard`]).
    board: Option<Arc<MediaBoard>>,
}

impl MediaTable {
    /// A table with every slot, index entry and delay buffer allocated now.
    pub fn new(cfg: TableConfig) -> MediaTable {
        let range = PortRange::new(cfg.port_min, cfg.port_max, 1);
        let capacity = cfg.capacity.min(u32::MAX as usize - 1);
        MediaTable {
            range,
            index: vec![0; range.pairs()].into_boxed_slice(),
            slots: vec![None; capacity].into_boxed_slice(),
            free: (0..capacity as u32).rev().collect(),
            delay: DelayPool::new(cfg.delay_packets),
            next_gen: 0,
            board: None,
        }
    }

    /// Publishes every session's counters on `board` from now on (relaxed atomic stores
    /// per packet, no lock: see [`MediaBoard`]).
    pub fn attach_board(&mut self, board: Arc<MediaBoard>) {
        self.board = Some(board);
    }

    /// Publishes slot `i` on the board, if any.
    fn publish(&self, i: usize) {
        let (Some(board), Some(Some(s))) = (&self.board, self.slots.get(i)) else { return };
        board.publish(s.port, &s.counters, s.remote(false), s.remote(true));
    }

    /// Sessions installed.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// True when no session is installed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Packets in the delay line.
    pub fn held(&self) -> usize {
        self.delay.len()
    }

    fn pair(&self, rtp_port: u16) -> Result<usize, TableError> {
        match self.range.pair_index(rtp_port) {
            Some(k) if self.range.rtp_port(k) == Some(rtp_port) => Ok(k),
            _ => Err(TableError::OutOfRange),
        }
    }

    fn slot_index(&self, port: u16) -> Option<usize> {
        let k = self.range.pair_index(port)?;
        let i = (*self.index.get(k)?).checked_sub(1)?;
        Some(i as usize)
    }

    fn slot_mut(&mut self, rtp_port: u16) -> Result<&mut Slot, TableError> {
        self.pair(rtp_port)?;
        let i = self.slot_index(rtp_port).ok_or(TableError::NotInstalled)?;
        self.slots.get_mut(i).and_then(Option::as_mut).ok_or(TableError::NotInstalled)
    }

    /// Installs a session on an (even) RTP port; RTCP is on the next port.
    pub fn install(&mut self, rtp_port: u16, spec: MediaSpec) -> Result<(), TableError> {
        let k = self.pair(rtp_port)?;
        if self.index.get(k).is_some_and(|&i| i != 0) {
            return Err(TableError::AlreadyInstalled);
        }
        let i = self.free.pop().ok_or(TableError::Full)?;
        self.next_gen = self.next_gen.wrapping_add(1);
        let slot = Slot {
            port: rtp_port,
            gen: self.next_gen,
            spec,
            rtp_on: true,
            rtcp_on: true,
            rtp_latched: false,
            rtcp_latched: false,
            counters: MediaCounters::default(),
            source: SourceState::default(),
            epoch: None,
        };
        if let (Some(s), Some(e)) = (self.slots.get_mut(i as usize), self.index.get_mut(k)) {
            *s = Some(slot);
            *e = i + 1;
        }
        self.publish(i as usize);
        Ok(())
    }

    /// Replaces the spec of a session (re-INVITE), keeping counters; latching restarts.
    pub fn update(&mut self, rtp_port: u16, spec: MediaSpec) -> Result<(), TableError> {
        let slot = self.slot_mut(rtp_port)?;
        slot.spec = spec;
        slot.rtp_latched = false;
        slot.rtcp_latched = false;
        if let Some(i) = self.slot_index(rtp_port) {
            self.publish(i);
        }
        Ok(())
    }

    /// Switches RTP and RTCP forwarding on or off (`dialog_set` action `media`).
    pub fn set_switches(&mut self, rtp_port: u16, rtp: bool, rtcp: bool) -> Result<(), TableError> {
        let slot = self.slot_mut(rtp_port)?;
        slot.rtp_on = rtp;
        slot.rtcp_on = rtcp;
        Ok(())
    }

    /// Removes a session; its delayed packets are discarded when due.
    pub fn remove(&mut self, rtp_port: u16) -> Result<MediaSnapshot, TableError> {
        let k = self.pair(rtp_port)?;
        let snap = self.snapshot(rtp_port).ok_or(TableError::NotInstalled)?;
        let i = self.slot_index(rtp_port).ok_or(TableError::NotInstalled)?;
        if let (Some(s), Some(e)) = (self.slots.get_mut(i), self.index.get_mut(k)) {
            *s = None;
            *e = 0;
            self.free.push(i as u32);
        }
        if let Some(b) = &self.board {
            b.clear(rtp_port);
        }
        Ok(snap)
    }

    /// The `dialog_get` view of a session.
    pub fn snapshot(&self, rtp_port: u16) -> Option<MediaSnapshot> {
        let s = self.slots.get(self.slot_index(rtp_port)?)?.as_ref()?;
        (s.port == rtp_port).then(|| MediaSnapshot {
            local_port: s.port,
            mode: s.spec.mode,
            rtp_enabled: s.rtp_on,
            rtcp_enabled: s.rtcp_on,
            rtp_addr: s.remote(false),
            rtcp_addr: s.remote(true),
            counters: s.counters,
            reception: s.source.stats(),
        })
    }

    /// Decides what to do with a datagram received on `local_port` from `src`.
    pub fn handle_packet(&mut self, now: Instant, local_port: u16, src: SocketAddr, packet: &mut [u8]) -> Action {
        let Some(i) = self.slot_index(local_port) else { return Action::Drop(DropReason::UnknownPort) };
        let Some(slot) = self.slots.get_mut(i).and_then(Option::as_mut) else {
            return Action::Drop(DropReason::UnknownPort);
        };
        let rtcp = local_port != slot.port || (slot.spec.rtcp_mux && is_rtcp(packet));
        let verdict = receive(slot, now, rtcp, src, packet);
        let (mode, delay, gen, echo_port) = (slot.spec.mode, slot.spec.delay, slot.gen, slot.send_port(rtcp));
        self.publish(i);
        if let Err(reason) = verdict {
            return Action::Drop(reason);
        }
        let route = match mode {
            MediaMode::Echo => Some((i, src, echo_port)),
            MediaMode::Relay { peer_port } => self.relay_route(peer_port, rtcp),
            MediaMode::Blocked => None,
        };
        let Some((out, dst, src_port)) = route else {
            return self.drop_on(i, DropReason::NoDestination);
        };
        let len = packet.len();
        if delay > Duration::ZERO {
            let out_gen = self.slots.get(out).and_then(Option::as_ref).map_or(gen, |s| s.gen);
            let held = Held::new(dst, src_port, out as u32, out_gen, rtcp);
            if !self.delay.push(now + delay, held, packet) {
                return self.drop_on(i, DropReason::DelayFull);
            }
            return Action::Hold;
        }
        if let Some(s) = self.slots.get_mut(out).and_then(Option::as_mut) {
            s.count_tx(rtcp, len);
        }
        self.publish(out);
        Action::Send { src_port, dst, len }
    }

    /// The sending slot, destination and source port of a relayed packet.
    fn relay_route(&self, peer_port: u16, rtcp: bool) -> Option<(usize, SocketAddr, u16)> {
        let j = self.slot_index(peer_port)?;
        let peer = self.slots.get(j)?.as_ref()?;
        Some((j, peer.remote(rtcp)?, peer.send_port(rtcp)))
    }

    fn drop_on(&mut self, i: usize, reason: DropReason) -> Action {
        if let Some(s) = self.slots.get_mut(i).and_then(Option::as_mut) {
            match reason {
                DropReason::NoDestination => s.counters.drop_no_destination += 1,
                DropReason::DelayFull => s.counters.drop_delay_full += 1,
                _ => {}
            }
        }
        Action::Drop(reason)
    }

    /// The next delayed packet due at `now`, if any (packets of sessions removed while
    /// held are discarded).
    pub fn poll_due(&mut self, now: Instant) -> Option<Due<'_>> {
        let (held, idx) = loop {
            let (held, idx) = self.delay.pop_due(now)?;
            let slot = self.slots.get_mut(held.slot as usize).and_then(Option::as_mut);
            if let Some(s) = slot.filter(|s| s.gen == held.gen) {
                s.count_tx(held.rtcp, DelayPool::held_len(&held));
                break (held, idx);
            }
        };
        self.publish(held.slot as usize);
        Some(Due { src_port: held.src_port, dst: held.dst, data: self.delay.data(idx, &held) })
    }

    /// When [`Self::poll_due`] next has something.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.delay.next_due()
    }
}

/// Validation, source check, receive counters and switches of one packet on its slot.
fn receive(slot: &mut Slot, now: Instant, rtcp: bool, src: SocketAddr, packet: &[u8]) -> Result<(), DropReason> {
    let c = &mut slot.counters;
    let rtp = if rtcp {
        if RtcpCompound::new_checked_reduced(packet).is_err() {
            c.drop_malformed += 1;
            return Err(DropReason::Malformed);
        }
        None
    } else {
        match RtpPacket::new_checked(packet) {
            Ok(p) => Some((p.ssrc(), p.sequence_number(), p.timestamp())),
            Err(_) => {
                c.drop_malformed += 1;
                return Err(DropReason::Malformed);
            }
        }
    };
    if !slot.accept_source(rtcp, src) {
        slot.counters.drop_unexpected_source += 1;
        return Err(DropReason::UnexpectedSource);
    }
    let c = &mut slot.counters;
    let len = packet.len() as u64;
    if rtcp {
        c.rtcp_rx_packets += 1;
        c.rtcp_rx_bytes += len;
    } else {
        c.rtp_rx_packets += 1;
        c.rtp_rx_bytes += len;
    }
    if let Some((ssrc, seq, ts)) = rtp {
        let epoch = *slot.epoch.get_or_insert(now);
        let units = now.saturating_duration_since(epoch).as_nanos() * u128::from(slot.spec.clock_rate) / 1_000_000_000;
        slot.source.update(ssrc, seq, ts, units as u32);
    }
    let on = if rtcp { slot.rtcp_on } else { slot.rtp_on };
    if !on || slot.spec.mode == MediaMode::Blocked {
        slot.counters.drop_blocked += 1;
        return Err(DropReason::Blocked);
    }
    Ok(())
}
