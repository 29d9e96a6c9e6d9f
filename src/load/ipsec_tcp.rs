//! The UE's TCP client inside its IPsec SAs (TS 33.203 7.1: the SAs carry TCP too; TS
//! 24.229 lets a UE send large requests such as INVITEs over TCP). The kernel never sees
//! the inner packets, so each UE runs smoltcp over a virtual IP device: segments for the
//! P-CSCF come out as IPv4 packets to encapsulate ([`TcpClient::poll_frame`]), decrypted
//! ones go in ([`TcpClient::input`]), SIP messages are framed out of the byte stream
//! ([`TcpClient::next_message`]). One connection from the UE's port-c to the P-CSCF's
//! port-s, opened on the first INVITE and kept for the next ones.
//!
//! Bounds: fixed socket buffers, at most [`TX_FRAMES`] frames queued, a message larger
//! than [`MAX_STREAM`] resets the connection.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};

use crate::sip::frame_len;

/// Inner packets (IP MTU of the SA; seed 000 `ipsec_mtu` default).
const MTU: usize = 1400;
/// Frames waiting to be encapsulated.
pub const TX_FRAMES: usize = 16;
/// Socket buffer sizes.
const SOCK_BUF: usize = 8 * 1024;
/// Largest message accepted from the stream, and bytes queued to send.
pub const MAX_STREAM: usize = 16 * 1024;

/// The virtual device: one received packet at a time, a bounded queue of frames out.
struct Dev {
    rx: Option<Vec<u8>>,
    spare: Vec<u8>,
    tx: VecDeque<Vec<u8>>,
    free: Vec<Vec<u8>>,
}

struct RxTok(Vec<u8>);
struct TxTok<'a>(&'a mut Dev);

impl phy::RxToken for RxTok {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for TxTok<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let dev = self.0;
        let mut frame = dev.free.pop().unwrap_or_default();
        frame.clear();
        frame.resize(len, 0);
        let r = f(&mut frame);
        dev.tx.push_back(frame);
        r
    }
}

impl Device for Dev {
    type RxToken<'a> = RxTok;
    type TxToken<'a> = TxTok<'a>;

    fn receive(&mut self, _now: SmolInstant) -> Option<(RxTok, TxTok<'_>)> {
        if self.tx.len() >= TX_FRAMES {
            return None;
        }
        let p = self.rx.take()?;
        Some((RxTok(p), TxTok(self)))
    }

    fn transmit(&mut self, _now: SmolInstant) -> Option<TxTok<'_>> {
        (self.tx.len() < TX_FRAMES).then_some(TxTok(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ip;
        c.max_transmission_unit = MTU;
        c
    }
}

/// One UE's TCP connection to the P-CSCF inside the SAs.
pub struct TcpClient {
    iface: Interface,
    dev: Dev,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    local: (Ipv4Addr, u16),
    epoch: Instant,
    now: Instant,
    out: Vec<u8>,
    stream: Vec<u8>,
    last: u64,
    /// Connections opened.
    pub connects: u64,
    /// Messages queued (retransmissions absorbed not counted).
    pub messages: u64,
}

impl TcpClient {
    /// A client at `ue_ip` (IPv4) with local port `port_c`; `seed` for smoltcp's ISNs and
    /// ephemeral choices. `None` for IPv6 UEs (UDP is used then).
    pub fn new(ue_ip: IpAddr, port_c: u16, seed: u64, now: Instant) -> Option<TcpClient> {
        let IpAddr::V4(ip) = ue_ip else { return None };
        let mut dev = Dev { rx: None, spare: Vec::new(), tx: VecDeque::with_capacity(TX_FRAMES), free: Vec::new() };
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut dev, SmolInstant::from_micros(0));
        // The P-CSCF is on-link: every packet goes into the SA.
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(IpAddress::Ipv4(ip), 0));
        });
        let mut sockets = SocketSet::new(Vec::with_capacity(1));
        let s = tcp::Socket::new(tcp::SocketBuffer::new(vec![0; SOCK_BUF]), tcp::SocketBuffer::new(vec![0; SOCK_BUF]));
        let handle = sockets.add(s);
        Some(TcpClient {
            iface,
            dev,
            sockets,
            handle,
            local: (ip, port_c),
            epoch: now,
            now,
            out: Vec::new(),
            stream: Vec::new(),
            last: 0,
            connects: 0,
            messages: 0,
        })
    }

    fn smol_now(&self) -> SmolInstant {
        SmolInstant::from_micros(self.now.saturating_duration_since(self.epoch).as_micros() as i64)
    }

    /// Queues `sip` for `core` (connecting first if needed), its Via transport set to TCP
    /// (RFC 3261 18.1.1). A retransmission of the message just queued is absorbed: TCP is
    /// reliable (RFC 3261 17.1.1.2: no Timer A over TCP). False when it does not fit.
    pub fn send_message(&mut self, now: Instant, core: SocketAddr, sip: &[u8]) -> bool {
        let h = hash(sip);
        let s = self.sockets.get::<tcp::Socket>(self.handle);
        if h == self.last && s.is_active() {
            return true;
        }
        if self.out.len() + sip.len() > MAX_STREAM {
            return false;
        }
        if !s.is_active() {
            self.out.clear();
            self.stream.clear();
            let IpAddr::V4(core_ip) = core.ip() else { return false };
            let cx = self.iface.context();
            let s = self.sockets.get_mut::<tcp::Socket>(self.handle);
            if s.connect(cx, (IpAddress::Ipv4(core_ip), core.port()), self.local.1).is_err() {
                return false;
            }
            self.connects += 1;
        }
        self.last = h;
        self.messages += 1;
        let start = self.out.len();
        self.out.extend_from_slice(sip);
        via_tcp(self.out.get_mut(start..).unwrap_or_default());
        self.poll(now);
        true
    }

    /// A decrypted inner IPv4 packet (TCP) from the P-CSCF.
    pub fn input(&mut self, now: Instant, packet: &[u8]) {
        let mut p = std::mem::take(&mut self.dev.spare);
        p.clear();
        p.extend_from_slice(packet);
        if let Some(old) = self.dev.rx.replace(p) {
            self.dev.spare = old;
        }
        self.poll(now);
    }

    /// Runs the stack: moves queued bytes into the socket and received ones out of it.
    fn poll(&mut self, now: Instant) {
        self.now = now.max(self.now);
        let t = self.smol_now();
        for _ in 0..4 {
            self.iface.poll(t, &mut self.dev, &mut self.sockets);
            let s = self.sockets.get_mut::<tcp::Socket>(self.handle);
            let mut moved = false;
            if s.may_send() && !self.out.is_empty() {
                if let Ok(n) = s.send_slice(&self.out) {
                    self.out.drain(..n);
                    moved = n > 0;
                }
            }
            while s.can_recv() && self.stream.len() < MAX_STREAM {
                let mut buf = [0u8; 2048];
                let room = (MAX_STREAM - self.stream.len()).min(buf.len());
                match s.recv_slice(buf.get_mut(..room).unwrap_or_default()) {
                    Ok(n) if n > 0 => {
                        self.stream.extend_from_slice(buf.get(..n).unwrap_or_default());
                        moved = true;
                    }
                    _ => break,
                }
            }
            // The P-CSCF closed its side: close ours (a later INVITE reconnects).
            if s.state() == tcp::State::CloseWait {
                s.close();
            }
            if !moved {
                break;
            }
        }
    }

    /// The next complete SIP message of the stream; a broken stream resets the connection.
    pub fn next_message(&mut self) -> Option<Vec<u8>> {
        match frame_len(&self.stream, MAX_STREAM) {
            Ok(Some(n)) => {
                let msg: Vec<u8> = self.stream.drain(..n.min(self.stream.len())).collect();
                let skip = msg.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(msg.len());
                Some(msg.get(skip..).unwrap_or_default().to_vec())
            }
            Ok(None) => None,
            Err(_) => {
                self.reset();
                None
            }
        }
    }

    /// Writes the next IPv4 packet to encapsulate into `out`; its length.
    pub fn poll_frame(&mut self, now: Instant, out: &mut [u8]) -> Option<usize> {
        if self.dev.tx.is_empty() {
            self.poll(now);
        }
        let frame = self.dev.tx.pop_front()?;
        let n = frame.len();
        let r = out.get_mut(..n).map(|o| o.copy_from_slice(&frame));
        self.dev.free.push(frame);
        r.map(|()| n)
    }

    /// Forgets the frames waiting to be encapsulated.
    pub fn discard_frames(&mut self) {
        while let Some(f) = self.dev.tx.pop_front() {
            self.dev.free.push(f);
        }
    }

    /// When the stack next needs to run (retransmission, delayed ACK).
    pub fn poll_at(&mut self) -> Option<Instant> {
        if !self.dev.tx.is_empty() {
            return Some(self.now);
        }
        let t = self.smol_now();
        let d = self.iface.poll_delay(t, &self.sockets)?;
        Some(self.now + Duration::from_micros(d.total_micros()))
    }

    /// Drops the connection (its SA set is gone) and everything queued.
    pub fn reset(&mut self) {
        self.sockets.get_mut::<tcp::Socket>(self.handle).abort();
        self.out.clear();
        self.stream.clear();
        self.last = 0;
    }

    /// True while connected or connecting.
    pub fn is_active(&self) -> bool {
        self.sockets.get::<tcp::Socket>(self.handle).is_active()
    }
}

/// FNV-1a of a message, to recognise a retransmission.
fn hash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3))
}

/// Rewrites the first Via's `SIP/2.0/UDP` to `SIP/2.0/TCP` in place (same length).
fn via_tcp(sip: &mut [u8]) {
    if let Some(i) = memchr::memmem::find(sip, b"SIP/2.0/UDP") {
        if let Some(t) = sip.get_mut(i + 8..i + 11) {
            t.copy_from_slice(b"TCP");
        }
    }
}
