//! The media plane of one data-plane worker: its share of the RTP port range
//! (RFC 3550 11: RTP on an even port p, RTCP on p + 1), one run-time UDP socket per
//! port opened through the engine's [`Outbox`], and the sans-IO [`MediaTable`] that
//! decides what each packet becomes (echo, relay to the other leg, drop). RTP and RTCP
//! are handled entirely here and never reach the control thread.
//!
//! Per packet: one copy into a preallocated scratch buffer (the table may rewrite it),
//! one copy into an outbox slot; nothing is allocated.
//!
//! Socket pool: opening a pair costs socket, bind, getsockname and arming the receive,
//! closing it a cancel and close, about a fifth of the worker's time per anchored call.
//! So a removed session's pair stays open, bound and armed ("parked") and the next
//! session on that port takes it over; the port allocator hands recently freed ports out
//! first (after a quarantine, `media::port::REUSE_DISTANCE`), so the parked set stays
//! small. Parked sockets are bounded by this worker's share of `port_min..port_max` and
//! by the engine's socket table: a pair is parked only while at least [`PARK_RESERVE`]
//! sockets stay free, and below [`EVICT_BELOW`] each new session closes one parked pair.
//! Trade-off: a parked port keeps receiving; what arrives (late RTP of an ended call, a
//! scan) meets no session in the table and is dropped and counted (`dropped_other`),
//! at the cost of a receive, and the port shows as bound to other programs.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::engine::{Outbox, SocketId};
use crate::stats::MediaTotals;
use crate::media::{Action, DropReason, MediaSnapshot, MediaSpec, MediaTable, PortAllocator, PortRange, TableConfig, TableError};

/// Largest RTP/RTCP packet handled; bigger ones are dropped and counted.
const MAX_PACKET: usize = 8192;
/// A removed session's sockets are parked only while this many run-time sockets stay free.
pub const PARK_RESERVE: usize = 256;
/// Below this many free run-time sockets, each new session closes one parked pair (the
/// slots come back once the worker has run the close, before the next few sessions).
pub const EVICT_BELOW: usize = 128;

/// Sizing and addressing of a worker's media plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaPlaneConfig {
    /// Address the RTP/RTCP sockets bind to (the SDP `c=` address or a wildcard).
    pub bind_ip: IpAddr,
    /// Lowest port of the RTP range (`rtp_port_min`).
    pub port_min: u16,
    /// Highest port of the RTP range (`rtp_port_max`).
    pub port_max: u16,
    /// Media sessions per worker (each holds two sockets of `max_media_sockets`).
    pub max_sessions: usize,
    /// Packets the `media_delay` line can hold.
    pub delay_packets: usize,
}

/// Why a media session could not be set up or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaError {
    /// The port is not an RTP port of this worker's share.
    NotOwned,
    /// The media table refused (full, not installed, ...).
    Table(TableError),
    /// A socket could not be opened (port in use, `max_media_sockets` reached).
    Socket(io::ErrorKind),
}

/// The media sessions, ports and sockets of one worker.
pub struct MediaPlane {
    table: MediaTable,
    ports: PortAllocator,
    range: PortRange,
    worker: usize,
    n_workers: usize,
    bind_ip: IpAddr,
    /// Per pair of this worker's share: the RTP and RTCP sockets.
    socks: Box<[[Option<SocketId>; 2]]>,
    /// Per pair: open with no session (reused by the next session of the port).
    parked: Box<[bool]>,
    parked_count: usize,
    /// Where the search for a parked pair to close resumes.
    evict_cursor: usize,
    scratch: Box<[u8]>,
    oversize: u64,
}

impl MediaPlane {
    /// The media plane of `worker` (of `n_workers`), every table allocated now.
    pub fn new(cfg: &MediaPlaneConfig, worker: usize, n_workers: usize) -> MediaPlane {
        let n_workers = n_workers.max(1);
        let ports = PortAllocator::new(cfg.port_min, cfg.port_max, worker, n_workers);
        let range = ports.range();
        let tc = TableConfig {
            capacity: cfg.max_sessions,
            port_min: cfg.port_min,
            port_max: cfg.port_max,
            delay_packets: cfg.delay_packets,
        };
        MediaPlane {
            table: MediaTable::new(tc),
            ports,
            range,
            worker,
            n_workers,
            bind_ip: cfg.bind_ip,
            socks: vec![[None; 2]; range.pairs() / n_workers + 1].into_boxed_slice(),
            parked: vec![false; range.pairs() / n_workers + 1].into_boxed_slice(),
            parked_count: 0,
            evict_cursor: 0,
            scratch: vec![0u8; MAX_PACKET].into_boxed_slice(),
            oversize: 0,
        }
    }

    /// Takes a free RTP port of this worker's share (RTCP is `port + 1`).
    pub fn alloc_pair(&mut self) -> Option<u16> {
        self.ports.alloc()
    }

    /// Takes over the parked RTP and RTCP sockets of `port` or opens them, and installs
    /// its session. On failure the sockets are parked or closed and the port goes back
    /// to the allocator.
    pub fn install(&mut self, port: u16, spec: MediaSpec, out: &mut Outbox) -> Result<(), MediaError> {
        let j = self.share_index(port).ok_or(MediaError::NotOwned)?;
        if self.table.snapshot(port).is_some() {
            return Err(MediaError::Table(TableError::AlreadyInstalled));
        }
        let r = if self.unpark(j) {
            Ok(())
        } else {
            self.evict_one(out);
            self.open_pair(j, port, out)
        };
        let r = r.and_then(|()| self.table.install(port, spec).map_err(MediaError::Table));
        if r.is_err() {
            self.release_pair(j, out);
            self.ports.free(port);
        }
        r
    }

    /// Replaces the spec of a session (re-INVITE), keeping its sockets and counters.
    pub fn update(&mut self, port: u16, spec: MediaSpec) -> Result<(), MediaError> {
        self.table.update(port, spec).map_err(MediaError::Table)
    }

    /// Switches RTP and RTCP forwarding of a session on or off (`dialog_set` `media`).
    pub fn switch(&mut self, port: u16, rtp: bool, rtcp: bool) -> Result<(), MediaError> {
        self.table.set_switches(port, rtp, rtcp).map_err(MediaError::Table)
    }

    /// Removes a session, parks (or closes) its sockets and frees its port; returns its
    /// last state.
    pub fn remove(&mut self, port: u16, out: &mut Outbox) -> Result<MediaSnapshot, MediaError> {
        let j = self.share_index(port).ok_or(MediaError::NotOwned)?;
        let snap = self.table.remove(port).map_err(MediaError::Table)?;
        self.release_pair(j, out);
        self.ports.free(port);
        Ok(snap)
    }

    /// Publishes the sessions' counters on `board` for `dialog_get` (see [`crate::media::MediaBoard`]).
    pub fn attach_board(&mut self, board: std::sync::Arc<crate::media::MediaBoard>) {
        self.table.attach_board(board);
    }

    /// The `dialog_get` view of a session.
    pub fn snapshot(&self, port: u16) -> Option<MediaSnapshot> {
        self.table.snapshot(port)
    }

    /// Pairs open without a session, waiting for their port's next session.
    pub fn parked_pairs(&self) -> usize {
        self.parked_count
    }

    /// Packets dropped for exceeding the largest handled size.
    pub fn oversize_drops(&self) -> u64 {
        self.oversize
    }

    /// Handles a datagram if `sock` is one of this plane's sockets (returns false
    /// otherwise, and the caller treats it as SIP): the table decides, and a packet to
    /// send leaves from the socket of the port it names (the other leg's for a relay).
    pub fn on_datagram(&mut self, now: Instant, sock: SocketId, src: SocketAddr, data: &[u8], out: &mut Outbox, totals: &MediaTotals) -> bool {
        if !sock.is_runtime() {
            return false;
        }
        let Some(port) = out.udp_local_addr(sock).map(|a| a.port()) else { return false };
        if self.sock_for(port) != Some(sock) {
            return false;
        }
        let Some(buf) = self.scratch.get_mut(..data.len()) else {
            self.oversize += 1;
            return true;
        };
        buf.copy_from_slice(data);
        totals.received.inc();
        match self.table.handle_packet(now, port, src, buf) {
            Action::Send { src_port, dst, len } => {
                if let (Some(s), Some(bytes)) = (self.sock_for(src_port), self.scratch.get(..len)) {
                    if out.send_udp(s, dst, bytes).is_ok() {
                        totals.sent.inc();
                    }
                }
            }
            Action::Drop(DropReason::UnexpectedSource) => totals.dropped_unexpected_source.inc(),
            Action::Drop(DropReason::Malformed) => totals.dropped_malformed.inc(),
            Action::Drop(_) => totals.dropped_other.inc(),
            _ => {}
        }
        true
    }

    /// When delayed packets (`media_delay`) are next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.table.poll_timeout()
    }

    /// Sends every delayed packet due at `now`.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Outbox, totals: &MediaTotals) {
        while let Some(due) = self.table.poll_due(now) {
            if let Some(s) = sock_of(&self.socks, self.range, self.n_workers, due.src_port) {
                if out.send_udp(s, due.dst, due.data).is_ok() {
                    totals.sent.inc();
                }
            }
        }
    }

    /// Index in `socks` of the pair whose RTP port is `port`, if this worker owns it.
    fn share_index(&self, port: u16) -> Option<usize> {
        let k = self.range.pair_index(port)?;
        let owned = self.range.rtp_port(k) == Some(port) && k % self.n_workers == self.worker;
        owned.then_some(k / self.n_workers)
    }

    fn sock_for(&self, port: u16) -> Option<SocketId> {
        sock_of(&self.socks, self.range, self.n_workers, port)
    }

    fn open_pair(&mut self, j: usize, port: u16, out: &mut Outbox) -> Result<(), MediaError> {
        for (i, p) in [port, port.wrapping_add(1)].into_iter().enumerate() {
            let id = out.open_udp(SocketAddr::new(self.bind_ip, p)).map_err(|e| MediaError::Socket(e.kind()))?;
            if let Some(cell) = self.socks.get_mut(j).and_then(|pair| pair.get_mut(i)) {
                *cell = Some(id);
            }
        }
        Ok(())
    }

    /// Marks pair `j` in use again if it was parked.
    fn unpark(&mut self, j: usize) -> bool {
        let Some(p) = self.parked.get_mut(j).filter(|p| **p) else { return false };
        *p = false;
        self.parked_count -= 1;
        true
    }

    /// Parks pair `j` when both its sockets are open and the socket table has room to
    /// spare; closes what is open otherwise.
    fn release_pair(&mut self, j: usize, out: &mut Outbox) {
        let open = self.socks.get(j).is_some_and(|pair| pair.iter().all(Option::is_some));
        match self.parked.get_mut(j) {
            Some(p) if open && !*p && out.udp_free() >= PARK_RESERVE => {
                *p = true;
                self.parked_count += 1;
            }
            _ => self.close_pair(j, out),
        }
    }

    /// Closes one parked pair when the socket table runs low (bounded scan of the share).
    fn evict_one(&mut self, out: &mut Outbox) {
        if self.parked_count == 0 || out.udp_free() >= EVICT_BELOW {
            return;
        }
        let n = self.parked.len();
        for step in 0..n {
            let j = (self.evict_cursor + step) % n;
            if self.unpark(j) {
                self.close_pair(j, out);
                self.evict_cursor = (j + 1) % n;
                return;
            }
        }
    }

    fn close_pair(&mut self, j: usize, out: &mut Outbox) {
        for cell in self.socks.get_mut(j).into_iter().flatten() {
            if let Some(id) = cell.take() {
                out.close_udp(id);
            }
        }
    }
}

/// The socket of an RTP or RTCP port of the share (a free function so that it can be
/// used while the table lends out a delayed packet).
fn sock_of(socks: &[[Option<SocketId>; 2]], range: PortRange, n_workers: usize, port: u16) -> Option<SocketId> {
    let k = range.pair_index(port)?;
    let rtp = range.rtp_port(k)?;
    let pair = socks.get(k / n_workers.max(1))?;
    *pair.get(usize::from(port.checked_sub(rtp)?))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{
        Backend, ConnId, Engine, EngineConfig, EngineError, EventSender, Handler, Listeners, StreamVerdict, WorkerCtx,
    };
    use crate::media::MediaMode;
    use std::net::UdpSocket;
    use std::time::Duration;

    const WAIT: Duration = Duration::from_secs(5);

    enum Cmd {
        Install(MediaSpec),
        Update(u16, MediaSpec),
        Remove(u16),
        Snapshot(u16),
    }

    #[derive(Debug)]
    enum Ev {
        Installed(Result<u16, MediaError>),
        Updated(Result<(), MediaError>),
        Removed(Result<MediaSnapshot, MediaError>),
        Snapshot(Option<MediaSnapshot>),
        Sip,
    }

    /// A worker handler made of a media plane only; other datagrams are reported.
    struct MediaHandler {
        plane: MediaPlane,
        totals: MediaTotals,
        events: EventSender<Ev>,
    }

    impl Handler for MediaHandler {
        type Command = Cmd;
        type Event = Ev;

        fn on_datagram(&mut self, now: Instant, sock: SocketId, src: SocketAddr, data: &[u8], out: &mut Outbox) {
            if !self.plane.on_datagram(now, sock, src, data, out, &self.totals) {
                let _ = self.events.send(Ev::Sip);
            }
        }

        fn on_stream(&mut self, _: Instant, _: ConnId, _: SocketAddr, d: &[u8], _: &mut Outbox) -> StreamVerdict {
            StreamVerdict::Consumed(d.len())
        }

        fn on_command(&mut self, _now: Instant, cmd: Cmd, out: &mut Outbox) {
            let ev = match cmd {
                Cmd::Install(spec) => Ev::Installed(self.install(spec, out)),
                Cmd::Update(port, spec) => Ev::Updated(self.plane.update(port, spec)),
                Cmd::Remove(port) => Ev::Removed(self.plane.remove(port, out)),
                Cmd::Snapshot(port) => Ev::Snapshot(self.plane.snapshot(port)),
            };
            let _ = self.events.send(ev);
        }

        fn poll_timeout(&mut self) -> Option<Instant> {
            self.plane.poll_timeout()
        }

        fn handle_timeout(&mut self, now: Instant, out: &mut Outbox) {
            self.plane.handle_timeout(now, out, &self.totals);
        }
    }

    impl MediaHandler {
        /// Allocates and installs, trying further pairs when a port is taken by another
        /// process on this machine.
        fn install(&mut self, spec: MediaSpec, out: &mut Outbox) -> Result<u16, MediaError> {
            let mut last = MediaError::Table(TableError::Full);
            for _ in 0..16 {
                let port = self.plane.alloc_pair().ok_or(last)?;
                match self.plane.install(port, spec, out) {
                    Ok(()) => return Ok(port),
                    Err(e @ MediaError::Socket(io::ErrorKind::AddrInUse)) => last = e,
                    Err(e) => return Err(e),
                }
            }
            Err(last)
        }
    }

    fn lo(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Ports of test `k` (0..=4): a range of this process's own, so that parallel test runs
    /// rarely meet, and within it a block per test, so that this binary's tests, running
    /// in parallel threads, never bind the same port.
    fn plane_cfg_of(k: u16) -> MediaPlaneConfig {
        let base = 20000 + (std::process::id() % 1000) as u16 * 40 + k * 200;
        MediaPlaneConfig {
            bind_ip: IpAddr::from([127, 0, 0, 1]),
            port_min: base,
            port_max: base + 199,
            max_sessions: 8,
            delay_packets: 16,
        }
    }

    type Media = Engine<Cmd, Ev>;

    /// One engine per backend available here (io_uring skipped where it is not), its media
    /// ports those of test `k` (see [`plane_cfg_of`]).
    fn for_each_backend(k: u16, mut f: impl FnMut(&mut Media)) {
        let mut seen = Vec::new();
        for backend in [Backend::Epoll, Backend::Uring] {
            let cfg = EngineConfig {
                backend,
                workers: Some(1),
                queue_capacity: 64,
                ring_entries: 64,
                rx_buffers: 64,
                max_datagram: 2048,
                out_slots: 128,
                out_slot_size: 2048,
                max_media_sockets: 5,
                ..EngineConfig::default()
            };
            let listeners = Listeners { udp: vec![lo(0)], tcp: vec![] };
            let started = Engine::start(cfg, &listeners, move |ctx: WorkerCtx<Ev>| MediaHandler {
                plane: MediaPlane::new(&plane_cfg_of(k), ctx.worker, ctx.n_workers),
                totals: MediaTotals::default(),
                events: ctx.events,
            });
            let mut e = match started {
                Ok(e) => e,
                Err(EngineError::UringUnavailable) => continue,
                Err(err) => panic!("engine start: {err}"),
            };
            if seen.contains(&e.backend()) {
                continue;
            }
            seen.push(e.backend());
            f(&mut e);
            assert!(e.shutdown().is_ok());
        }
    }

    fn ask(e: &mut Media, cmd: Cmd) -> Ev {
        assert!(matches!(e.commands(0).map(|c| c.send(cmd)), Some(Ok(()))));
        match e.events().recv_timeout(WAIT) {
            Some((0, ev)) => ev,
            other => panic!("no answer: {other:?}"),
        }
    }

    fn install(e: &mut Media, spec: MediaSpec) -> Result<u16, MediaError> {
        match ask(e, Cmd::Install(spec)) {
            Ev::Installed(r) => r,
            other => panic!("expected Installed, got {other:?}"),
        }
    }

    fn snapshot(e: &mut Media, port: u16) -> MediaSnapshot {
        match ask(e, Cmd::Snapshot(port)) {
            Ev::Snapshot(Some(s)) => s,
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    fn client(read_timeout: Duration) -> UdpSocket {
        let c = UdpSocket::bind(lo(0)).unwrap_or_else(|err| panic!("client: {err}"));
        let _ = c.set_read_timeout(Some(read_timeout));
        c
    }

    /// RFC 3550 5.1: V=2, PT 96, then sequence number, timestamp, SSRC and the payload.
    fn rtp(seq: u16, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, 96];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&(u32::from(seq) * 320).to_be_bytes());
        p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    /// RFC 3550 6.4.2: an empty receiver report (RC 0, length 1 word after the header).
    const RTCP_RR: [u8; 8] = [0x80, 201, 0, 1, 0x12, 0x34, 0x56, 0x78];

    fn recv(c: &UdpSocket) -> Option<(Vec<u8>, SocketAddr)> {
        let mut buf = [0u8; 2048];
        let (n, from) = c.recv_from(&mut buf).ok()?;
        Some((buf.get(..n)?.to_vec(), from))
    }

    #[test]
    fn rtp_and_rtcp_echo_latching_close_and_bound() {
        for_each_backend(0, |e| {
            let b = e.backend();
            let port = install(e, MediaSpec::echo()).unwrap_or_else(|err| panic!("{b:?}: install: {err:?}"));
            let c = client(WAIT);
            for seq in 0..50u16 {
                let pkt = rtp(seq, format!("payload {seq:02} of fifty").as_bytes());
                let _ = c.send_to(&pkt, lo(port));
                assert_eq!(recv(&c), Some((pkt, lo(port))), "{b:?}: RTP {seq} echoed from the RTP port");
            }
            let _ = c.send_to(&RTCP_RR, lo(port + 1));
            assert_eq!(recv(&c), Some((RTCP_RR.to_vec(), lo(port + 1))), "{b:?}: RTCP echoed from port + 1");
            // RFC 4961 latching: another source is dropped and counted.
            let intruder = client(Duration::from_millis(300));
            let _ = intruder.send_to(&rtp(99, b"intruder"), lo(port));
            assert_eq!(recv(&intruder), None, "{b:?}: unexpected source must get nothing");
            let s = snapshot(e, port);
            assert_eq!(s.counters.drop_unexpected_source, 1, "{b:?}");
            assert_eq!((s.counters.rtp_rx_packets, s.counters.rtp_tx_packets), (50, 50), "{b:?}");
            assert_eq!((s.counters.rtcp_rx_packets, s.counters.rtcp_tx_packets), (1, 1), "{b:?}");
            assert_eq!(s.rtp_addr, c.local_addr().ok(), "{b:?}: latched on the first source");
            // Two sessions hold 4 of the 5 sockets; a third opens its RTP socket, is refused
            // its RTCP one, and gives the RTP one back.
            let second = install(e, MediaSpec::echo()).unwrap_or_else(|err| panic!("{b:?}: second: {err:?}"));
            let third = install(e, MediaSpec::echo());
            assert_eq!(third, Err(MediaError::Socket(io::ErrorKind::OutOfMemory)), "{b:?}: max_media_sockets");
            // Removing closes the sockets: no more echo; the freed sockets serve again.
            assert!(matches!(ask(e, Cmd::Remove(port)), Ev::Removed(Ok(_))), "{b:?}");
            let _ = c.set_read_timeout(Some(Duration::from_millis(300)));
            let _ = c.send_to(&rtp(50, b"after close"), lo(port));
            assert_eq!(recv(&c), None, "{b:?}: closed port must not echo");
            assert!(matches!(ask(e, Cmd::Remove(port)), Ev::Removed(Err(_))), "{b:?}: removed once");
            assert!(install(e, MediaSpec::echo()).is_ok(), "{b:?}: sockets were given back");
            assert!(matches!(ask(e, Cmd::Remove(second)), Ev::Removed(Ok(_))), "{b:?}");
        });
    }

    #[test]
    fn relay_leaves_through_the_other_legs_port_and_delay_holds() {
        for_each_backend(4, |e| {
            let b = e.backend();
            let (ua, ub) = (client(WAIT), client(WAIT));
            let (a_addr, b_addr) = (ua.local_addr().ok(), ub.local_addr().ok());
            let leg = |peer_port, remote: Option<SocketAddr>| MediaSpec {
                mode: MediaMode::Relay { peer_port },
                remote_rtp: remote,
                remote_rtcp: remote,
                latch: false,
                ..MediaSpec::echo()
            };
            // A is installed before B exists, then pointed at it (as after the answer).
            let pa = install(e, leg(0, a_addr)).unwrap_or_else(|err| panic!("{b:?}: leg A: {err:?}"));
            let pb = install(e, leg(pa, b_addr)).unwrap_or_else(|err| panic!("{b:?}: leg B: {err:?}"));
            assert!(matches!(ask(e, Cmd::Update(pa, leg(pb, a_addr))), Ev::Updated(Ok(()))), "{b:?}");
            let pkt = rtp(1, b"from A");
            let _ = ua.send_to(&pkt, lo(pa));
            assert_eq!(recv(&ub), Some((pkt.clone(), lo(pb))), "{b:?}: relayed out of B's RTP port");
            let _ = ub.send_to(&RTCP_RR, lo(pb + 1));
            assert_eq!(recv(&ua), Some((RTCP_RR.to_vec(), lo(pa + 1))), "{b:?}: RTCP out of A's RTCP port");
            // media_delay: the packet is held in the worker, then sent by its timeout.
            let delayed = MediaSpec { delay: Duration::from_millis(150), ..leg(pa, b_addr) };
            assert!(matches!(ask(e, Cmd::Update(pb, delayed)), Ev::Updated(Ok(()))), "{b:?}");
            let t0 = Instant::now();
            let _ = ub.send_to(&pkt, lo(pb));
            assert_eq!(recv(&ua), Some((pkt.clone(), lo(pa))), "{b:?}: delayed packet arrives");
            assert!(t0.elapsed() >= Duration::from_millis(150), "{b:?}: held {:?}", t0.elapsed());
        });
    }

    /// Clears the queued ops (keeping the outbox's capacity): how many arm and close.
    fn drain_ops(out: &mut Outbox) -> (usize, usize) {
        use crate::engine::Op;
        let mut ops = out.take_ops();
        let arms = ops.iter().filter(|op| matches!(op, Op::ArmUdp { .. })).count();
        let closes = ops.iter().filter(|op| matches!(op, Op::CloseUdp { .. })).count();
        ops.clear();
        out.restore_ops(ops);
        (arms, closes)
    }

    #[test]
    fn a_removed_pair_is_parked_and_taken_over_without_new_sockets() {
        let cfg = MediaPlaneConfig { max_sessions: 128, ..plane_cfg_of(1) };
        let counters = std::sync::Arc::new(crate::engine::WorkerCounters::default());
        let mut out = Outbox::with_sockets(8, 2048, 300, counters);
        let mut plane = MediaPlane::new(&cfg, 0, 1);
        let p = plane.alloc_pair().unwrap_or_else(|| panic!("ports"));
        assert_eq!(plane.install(p, MediaSpec::echo(), &mut out), Ok(()));
        assert_eq!((drain_ops(&mut out), out.udp_free()), ((2, 0), 298), "RTP and RTCP opened");
        assert!(plane.remove(p, &mut out).is_ok());
        assert_eq!((plane.parked_pairs(), out.udp_free()), (1, 298), "parked, still open");
        assert_eq!(drain_ops(&mut out), (0, 0), "nothing closed");
        assert!(plane.snapshot(p).is_none(), "no session: late packets are dropped");
        assert_eq!(plane.install(p, MediaSpec::echo(), &mut out), Ok(()));
        assert_eq!((drain_ops(&mut out), out.udp_free(), plane.parked_pairs()), ((0, 0), 298, 0), "taken over");
        assert!(plane.snapshot(p).is_some());
    }

    #[test]
    fn parking_is_bounded_by_the_socket_table() {
        let cfg = MediaPlaneConfig { max_sessions: 128, ..plane_cfg_of(2) };
        let counters = std::sync::Arc::new(crate::engine::WorkerCounters::default());
        // Room to park one pair above PARK_RESERVE, not two.
        let mut out = Outbox::with_sockets(8, 2048, PARK_RESERVE + 3, counters);
        let mut plane = MediaPlane::new(&cfg, 0, 1);
        let mut ports = Vec::new();
        for parked in [1, 1] {
            let p = plane.alloc_pair().unwrap_or_else(|| panic!("ports"));
            assert!(!ports.contains(&p), "quarantine: a fresh pair");
            assert_eq!(plane.install(p, MediaSpec::echo(), &mut out), Ok(()));
            assert!(plane.remove(p, &mut out).is_ok());
            assert_eq!(plane.parked_pairs(), parked, "{} free", out.udp_free());
            ports.push(p);
        }
        // New sessions on other ports fill the table; under EVICT_BELOW free the parked
        // pair is closed so that its sockets come back.
        let _ = drain_ops(&mut out);
        let fresh = (PARK_RESERVE - EVICT_BELOW) / 2 + 2;
        for _ in 0..fresh {
            let Some(p) = plane.alloc_pair() else { break };
            if p == ports[0] {
                continue;
            }
            assert_eq!(plane.install(p, MediaSpec::echo(), &mut out), Ok(()));
            if plane.parked_pairs() == 0 {
                break;
            }
        }
        assert_eq!(plane.parked_pairs(), 0, "evicted at {} free", out.udp_free());
        assert_eq!(drain_ops(&mut out).1, 2, "the parked RTP and RTCP sockets are closed");
    }

    #[test]
    fn ports_of_another_worker_or_odd_ports_are_refused() {
        let cfg = plane_cfg_of(3);
        let mut out = Outbox::with_sockets(8, 2048, 8, std::sync::Arc::new(crate::engine::WorkerCounters::default()));
        let mut w1 = MediaPlane::new(&cfg, 1, 2);
        let p = w1.alloc_pair().unwrap_or_else(|| panic!("worker 1 has ports"));
        assert_eq!(PortRange::new(cfg.port_min, cfg.port_max, 2).owner(p), Some(1));
        let mut w0 = MediaPlane::new(&cfg, 0, 2);
        assert_eq!(w0.install(p, MediaSpec::echo(), &mut out), Err(MediaError::NotOwned));
        assert_eq!(w1.install(p + 1, MediaSpec::echo(), &mut out), Err(MediaError::NotOwned), "RTCP port");
        assert!(out.is_empty(), "nothing opened");
        assert_eq!(w0.remove(p, &mut out).err(), Some(MediaError::NotOwned));
    }
}
