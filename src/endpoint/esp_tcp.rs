//! SIP over TCP inside the IPsec SAs (TS 33.203 7.1: the SAs carry TCP as well as UDP).
//! The kernel never sees the decrypted segments, so the worker terminates TCP itself with
//! smoltcp: decapsulated TCP packets (IPv4 or IPv6) go into a virtual IP device, the segments smoltcp
//! emits come back out to be encapsulated in the UE's outbound SA. Connections are opened by
//! the UE towards our protected ports (one listening socket per port, replaced when it
//! accepts); each gets a [`ConnId`] with [`ESP_SLOT_BIT`] set in its slot, so the SIP layer
//! and the control thread treat it like any TCP flow.
//!
//! Bounds: at most `max_conns` connections per worker, fixed socket buffers, a fixed pool of
//! output frames per poll; a message that outgrows `max_msg` closes its connection.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, IpEndpoint};

use crate::engine::{ConnId, StreamVerdict};

/// Slot bit that marks a connection terminated here (engine slots stay far below it).
pub const ESP_SLOT_BIT: u32 = 0x8000_0000;
/// Largest IP packet received from a UE.
const RX_LEN: usize = 65_535;
/// Output frames buffered per poll round.
const TX_FRAMES: usize = 32;
/// smoltcp receive window per connection.
const RX_BUF: usize = 16 * 1024;
/// smoltcp send buffer per connection.
const TX_BUF: usize = 64 * 1024;

/// True for a connection of the ESP TCP layer.
pub fn is_esp_conn(conn: ConnId) -> bool {
    conn.slot() & ESP_SLOT_BIT != 0
}

/// The virtual IP device between the SAs and smoltcp.
struct Dev {
    mtu: usize,
    rx: Option<usize>,
    rx_buf: Box<[u8]>,
    tx: TxPool,
}

struct TxPool {
    frames: Vec<Box<[u8]>>,
    lens: Vec<usize>,
    used: usize,
}

struct RxTok<'a>(&'a [u8]);
struct TxTok<'a>(&'a mut TxPool);

impl phy::RxToken for RxTok<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for TxTok<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let pool = self.0;
        // transmit() and receive() hand out a token only while a frame is free, and the
        // pool has TX_FRAMES > 0 frames, so `i` is in range.
        let i = pool.used.min(TX_FRAMES - 1);
        pool.used += 1;
        if let Some(l) = pool.lens.get_mut(i) {
            *l = len;
        }
        // smoltcp never emits more than the device MTU, the frames' size.
        let frame = &mut pool.frames[i];
        let n = len.min(frame.len());
        f(&mut frame[..n])
    }
}

impl Device for Dev {
    type RxToken<'a> = RxTok<'a>;
    type TxToken<'a> = TxTok<'a>;

    fn receive(&mut self, _now: SmolInstant) -> Option<(RxTok<'_>, TxTok<'_>)> {
        if self.tx.used >= self.tx.frames.len() {
            return None;
        }
        let n = self.rx.take()?;
        Some((RxTok(self.rx_buf.get(..n)?), TxTok(&mut self.tx)))
    }

    fn transmit(&mut self, _now: SmolInstant) -> Option<TxTok<'_>> {
        (self.tx.used < self.tx.frames.len()).then_some(TxTok(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ip;
        c.max_transmission_unit = self.mtu;
        c
    }
}

struct Conn {
    handle: SocketHandle,
    peer: SocketAddr,
    pending: Vec<u8>,
    generation: u16,
}

/// Bounds of the TCP endpoint.
#[derive(Clone, Copy, Debug)]
pub struct TcpLimits {
    /// Connections at once.
    pub max_conns: usize,
    /// Largest SIP message.
    pub max_msg: usize,
    /// MTU of the inner packets we send (`ipsec_mtu`).
    pub mtu: u16,
}

/// The TCP endpoint of one worker's SAs.
pub struct EspTcp {
    iface: Interface,
    dev: Dev,
    sockets: SocketSet<'static>,
    listeners: Vec<(u16, SocketHandle)>,
    conns: Vec<Option<Conn>>,
    generations: Vec<u16>,
    worker: usize,
    max_conns: usize,
    max_msg: usize,
    epoch: Instant,
    now: Instant,
}

impl EspTcp {
    /// A TCP endpoint on `local` for `worker` within `limits`.
    pub fn new(worker: usize, local: IpAddr, limits: TcpLimits, seed: u64, now: Instant) -> EspTcp {
        let TcpLimits { max_conns, max_msg, mtu } = limits;
        // ipsec_mtu (seed 000): the MTU of the IPsec interface sizes our segments.
        let mtu = usize::from(mtu).max(68);
        let mut dev = Dev {
            mtu,
            rx: None,
            rx_buf: vec![0u8; RX_LEN].into_boxed_slice(),
            tx: TxPool {
                frames: (0..TX_FRAMES).map(|_| vec![0u8; mtu].into_boxed_slice()).collect(),
                lens: vec![0; TX_FRAMES],
                used: 0,
            },
        };
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = seed;
        let iface = Interface::new(config, &mut dev, SmolInstant::from_micros(0));
        let mut tcp = EspTcp {
            iface,
            dev,
            sockets: SocketSet::new(Vec::new()),
            listeners: Vec::new(),
            conns: (0..max_conns).map(|_| None).collect(),
            generations: vec![0; max_conns],
            worker,
            max_conns,
            max_msg,
            epoch: now,
            now,
        };
        tcp.add_local(local);
        tcp
    }

    /// Also terminates connections to `local` (a core on both families has one address of
    /// each). Every UE is on-link: packets go to the SA, not through a router.
    pub fn add_local(&mut self, local: IpAddr) {
        let addr = IpAddress::from(local);
        self.iface.update_ip_addrs(|a| {
            if !a.iter().any(|c| c.address() == addr) {
                let _ = a.push(IpCidr::new(addr, 0));
            }
        });
    }

    fn smol_now(&self) -> SmolInstant {
        SmolInstant::from_micros(self.now.saturating_duration_since(self.epoch).as_micros() as i64)
    }

    /// Keeps a listening socket on our protected `port`.
    pub fn listen(&mut self, port: u16) {
        if self.listeners.iter().any(|(p, _)| *p == port) || self.sockets.iter().count() > self.max_conns {
            return;
        }
        let mut s = tcp::Socket::new(tcp::SocketBuffer::new(vec![0; RX_BUF]), tcp::SocketBuffer::new(vec![0; TX_BUF]));
        if s.listen(port).is_ok() {
            let h = self.sockets.add(s);
            self.listeners.push((port, h));
        }
    }

    /// Hands a decapsulated IP packet (header and TCP segment) to the stack; false when
    /// it does not fit.
    pub fn input(&mut self, packet_len: usize, fill: impl FnOnce(&mut [u8]) -> bool) -> bool {
        let Some(buf) = self.dev.rx_buf.get_mut(..packet_len) else { return false };
        if !fill(buf) {
            return false;
        }
        self.dev.rx = Some(packet_len);
        true
    }

    /// Runs the stack at `now`: accepts, receives, sends, times out. Output frames wait in
    /// [`Self::frames`] until [`Self::clear_frames`].
    pub fn poll(&mut self, now: Instant) {
        self.now = now.max(self.now);
        let t = self.smol_now();
        self.iface.poll(t, &mut self.dev, &mut self.sockets);
        self.accept();
        self.read();
    }

    /// Frames smoltcp emitted (IPv4 or IPv6 packets), in order.
    pub fn frames(&self) -> impl Iterator<Item = &[u8]> {
        let used = self.dev.tx.used.min(TX_FRAMES);
        self.dev.tx.frames.iter().zip(&self.dev.tx.lens).take(used).map(|(f, l)| f.get(..*l).unwrap_or_default())
    }

    /// Forgets the emitted frames; true if there were as many as the pool holds (poll
    /// again: more may be waiting).
    pub fn clear_frames(&mut self) -> bool {
        let full = self.dev.tx.used >= TX_FRAMES;
        self.dev.tx.used = 0;
        full || self.dev.rx.is_some()
    }

    /// When smoltcp next needs [`Self::poll`].
    pub fn poll_at(&mut self) -> Option<Instant> {
        let t = self.smol_now();
        let d = self.iface.poll_delay(t, &self.sockets)?;
        Some(self.now + Duration::from_micros(d.total_micros()))
    }

    /// Listening sockets that got a connection become connections; a new one listens.
    fn accept(&mut self) {
        let mut i = 0;
        while i < self.listeners.len() {
            let (port, h) = self.listeners[i];
            let s = self.sockets.get::<tcp::Socket>(h);
            if s.is_listening() {
                i += 1;
                continue;
            }
            self.listeners.swap_remove(i);
            let peer = s.remote_endpoint().map(endpoint_addr);
            match (peer, self.conns.iter().position(Option::is_none)) {
                (Some(peer), Some(slot)) => {
                    let generation = self.generations.get(slot).copied().unwrap_or(0);
                    if let Some(c) = self.conns.get_mut(slot) {
                        *c = Some(Conn { handle: h, peer, pending: Vec::new(), generation });
                    }
                }
                _ => {
                    self.sockets.get_mut::<tcp::Socket>(h).abort();
                }
            }
            self.listen(port);
        }
    }

    /// Moves received bytes into each connection's message buffer; frees closed ones.
    fn read(&mut self) {
        for slot in 0..self.conns.len() {
            let Some(Some(c)) = self.conns.get_mut(slot) else { continue };
            let s = self.sockets.get_mut::<tcp::Socket>(c.handle);
            if s.can_recv() && c.pending.len() < self.max_msg {
                // The buffer grows to at most max_msg; reads then copy without allocating.
                let old = c.pending.len();
                let take = s.recv_queue().min(self.max_msg - old);
                c.pending.resize(old + take, 0);
                let n = c.pending.get_mut(old..).map_or(Ok(0), |b| s.recv_slice(b)).unwrap_or(0);
                c.pending.truncate(old + n);
            }
            if !s.is_open() {
                let h = c.handle;
                self.sockets.remove(h);
                self.free(slot);
            }
        }
    }

    fn free(&mut self, slot: usize) {
        if let Some(c) = self.conns.get_mut(slot) {
            *c = None;
        }
        if let Some(g) = self.generations.get_mut(slot) {
            *g = g.wrapping_add(1);
        }
    }

    fn conn_id(&self, slot: usize, generation: u16) -> ConnId {
        ConnId::new(self.worker, ESP_SLOT_BIT | slot as u32, u32::from(generation))
    }

    fn slot_of(&self, conn: ConnId) -> Option<usize> {
        let slot = (conn.slot() & !ESP_SLOT_BIT) as usize;
        let c = self.conns.get(slot)?.as_ref()?;
        (u32::from(c.generation) == conn.generation() && is_esp_conn(conn)).then_some(slot)
    }

    /// The next connection with buffered bytes from slot `*from` on: its id, peer and
    /// bytes (lent until [`Self::consumed`]).
    pub fn next_readable(&mut self, from: &mut usize) -> Option<(ConnId, SocketAddr, Vec<u8>)> {
        while *from < self.conns.len() {
            let slot = *from;
            *from += 1;
            let Some(Some(c)) = self.conns.get_mut(slot) else { continue };
            if c.pending.is_empty() {
                continue;
            }
            let (peer, generation, bytes) = (c.peer, c.generation, std::mem::take(&mut c.pending));
            return Some((self.conn_id(slot, generation), peer, bytes));
        }
        None
    }

    /// Returns the bytes lent by [`Self::next_readable`] with the SIP layer's verdict.
    pub fn consumed(&mut self, conn: ConnId, mut bytes: Vec<u8>, verdict: StreamVerdict) {
        let Some(slot) = self.slot_of(conn) else { return };
        let full = bytes.len() >= self.max_msg;
        let close = match verdict {
            StreamVerdict::Consumed(n) => {
                bytes.drain(..n.min(bytes.len()));
                // RFC 3261 18.3: a message larger than we accept cannot be framed.
                full && n == 0
            }
            StreamVerdict::Close => true,
        };
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            // Bytes that arrived while these were lent (a send polls the stack) follow them.
            if !c.pending.is_empty() {
                bytes.extend_from_slice(&c.pending);
            }
            c.pending = bytes;
            if close {
                self.sockets.get_mut::<tcp::Socket>(c.handle).abort();
            }
        }
    }

    /// Queues `data` on `conn`; false for an unknown connection or a full send buffer.
    pub fn send(&mut self, conn: ConnId, data: &[u8]) -> bool {
        let Some(slot) = self.slot_of(conn) else { return false };
        let Some(Some(c)) = self.conns.get(slot) else { return false };
        let s = self.sockets.get_mut::<tcp::Socket>(c.handle);
        if s.send_capacity() - s.send_queue() < data.len() {
            return false;
        }
        s.send_slice(data).is_ok_and(|n| n == data.len())
    }

    /// Aborts the connections from `peer` (its SAs are gone: nothing could reach it).
    pub fn abort_peer(&mut self, peer: SocketAddr) {
        for c in self.conns.iter().flatten().filter(|c| c.peer == peer) {
            self.sockets.get_mut::<tcp::Socket>(c.handle).abort();
        }
    }

    /// The time of the last poll (sends between polls use it).
    pub fn last_now(&self) -> Instant {
        self.now
    }
}

fn endpoint_addr(e: IpEndpoint) -> SocketAddr {
    let ip = match e.addr {
        IpAddress::Ipv4(a) => IpAddr::V4(a),
        IpAddress::Ipv6(a) => IpAddr::V6(a),
    };
    SocketAddr::new(ip, e.port)
}
