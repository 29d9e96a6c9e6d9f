//! ESP in a data-plane worker: the protected UDP ports of the P-CSCF SAs (TS 33.203 7.1)
//! carrying UDP-encapsulated ESP (RFC 3948, `mod=UDP-enc-tun`; transport-mode payloads are
//! accepted too), and raw ESP sockets for `mod=trans` (RFC 4303 transport mode over IPv4 and
//! IPv6, one socket per family, steered to the worker by SPI). Inbound: decapsulate (RFC 4303
//! 3.4), check the SA's selectors (RFC 4301 5.2: the inner source must be the UE's protected
//! port the SA was made for) and hand the inner UDP payload to the SIP endpoint as a
//! datagram from the UE's protected port.
//! Outbound: everything the endpoint sends to a UE through a protected socket is wrapped in
//! the UE's outbound SA.
//!
//! SAs are installed and removed by the control thread ([`SaInstall`], by SA set). After
//! the first install no packet allocates: both work buffers are reserved then.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::esp_tcp::EspTcp;
use super::messages::{Peer, Transport};
use crate::engine::{Outbox, SocketId};
use crate::ipsec::inner::{emit_inner, parse_inner};
use crate::ipsec::ip::{Ipv4Repr, IPPROTO_ESP};
use crate::ipsec::natt::{classify, UdpEncap};
use crate::ipsec::sa::Direction;
use crate::ipsec::table::SaKey;
use crate::ipsec::{EspCounters, EspMode, OutboundKey, Sa, SaSpec, SaTable, SaTableConfig, SelectorProto};

/// Largest ESP datagram handled (a UDP payload).
const BUF_LEN: usize = 65_536;

/// ESP counters of one worker, readable from the control thread.
#[derive(Debug, Default)]
pub struct EspStats {
    ok_in: AtomicU64,
    ok_out: AtomicU64,
    bad_icv: AtomicU64,
    replay: AtomicU64,
    unknown_spi: AtomicU64,
    truncated: AtomicU64,
    malformed: AtomicU64,
    out_failed: AtomicU64,
    selector: AtomicU64,
    install_failed: AtomicU64,
}

/// A copy of [`EspStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EspSnapshot {
    /// The SA table's counters (bad ICV, replay, unknown SPI, ...).
    pub esp: EspCounters,
    /// Decapsulated packets whose inner addresses or ports are not the SA's (RFC 4301 5.2),
    /// or whose inner packet is not UDP.
    pub selector: u64,
    /// SA sets not installed (table full, port unavailable, bad keys).
    pub install_failed: u64,
}

impl EspStats {
    /// The current values.
    pub fn snapshot(&self) -> EspSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        EspSnapshot {
            esp: EspCounters {
                ok_in: g(&self.ok_in),
                ok_out: g(&self.ok_out),
                bad_icv: g(&self.bad_icv),
                replay: g(&self.replay),
                unknown_spi: g(&self.unknown_spi),
                truncated: g(&self.truncated),
                malformed: g(&self.malformed),
                out_failed: g(&self.out_failed),
            },
            selector: g(&self.selector),
            install_failed: g(&self.install_failed),
        }
    }

    fn publish(&self, c: &EspCounters, out_ok: u64, out_failed: u64, selector: u64) {
        let s = |a: &AtomicU64, v: u64| a.store(v, Ordering::Relaxed);
        s(&self.ok_in, c.ok_in);
        s(&self.ok_out, out_ok);
        s(&self.bad_icv, c.bad_icv);
        s(&self.replay, c.replay);
        s(&self.unknown_spi, c.unknown_spi);
        s(&self.truncated, c.truncated);
        s(&self.malformed, c.malformed);
        s(&self.out_failed, out_failed);
        s(&self.selector, selector);
    }
}

/// One SA set (the four SAs of TS 33.203 7.1 for one UE), to install in a worker.
#[derive(Clone, Debug)]
pub struct SaInstall {
    /// The SA set's id (removal goes by it).
    pub binding: u64,
    /// Most SAs the worker's table holds (used by the first install).
    pub capacity: usize,
    /// Low SPI bits naming the worker (see [`crate::ipsec::worker_of_spi`]).
    pub worker_bits: u8,
    /// Our address (protected sockets are bound to it; inner source in tunnel mode).
    pub local_ip: IpAddr,
    /// The UE's address.
    pub ue_ip: IpAddr,
    /// Tunnel (UDP-enc-tun) or transport inner packets for what we send.
    pub mode: EspMode,
    /// The four SAs.
    pub specs: [SaSpec; 4],
    /// Anti-replay window of the inbound SAs.
    pub replay_window: u16,
    /// MTU of the IPsec interface (`ipsec_mtu`): the largest inner packet we send over TCP.
    pub mtu: u16,
    /// Where this worker publishes its counters.
    pub stats: Arc<EspStats>,
}

struct InSel {
    ue: SocketAddr,
    /// Our address (the inner destination; transport-mode checksums use it).
    local_ip: IpAddr,
    local_port: u16,
    binding: u64,
}

struct OutSel {
    sock: SocketId,
    local: SocketAddr,
    /// Where ESP datagrams go: the UE's protected port, then the last outer source seen
    /// (RFC 3948 NAT traversal).
    outer: SocketAddr,
    tunnel: bool,
    binding: u64,
}

/// What [`EspPlane::on_datagram`] made of a datagram.
#[derive(Debug, PartialEq, Eq)]
pub enum EspRx {
    /// Not a protected socket: handle as plain SIP.
    NotOurs,
    /// Dropped (and counted).
    Dropped,
    /// TCP segments went to the worker's TCP stack: run [`EspPlane::poll_stream`].
    Stream,
    /// A SIP datagram from `peer`, at `data` in the buffer of [`EspPlane::take_buffer`].
    Deliver {
        /// The UE's protected port, reached back through its outbound SA.
        peer: Peer,
        /// Where the SIP bytes are.
        data: Range<usize>,
    },
}

/// The ESP state of one worker.
pub struct EspPlane {
    worker: u32,
    table: Option<SaTable>,
    /// Protected UDP sockets (UDP-enc-tun) by bound address (a core on both families has
    /// one per family on the same port).
    socks: Vec<(SocketAddr, SocketId)>,
    /// The raw ESP sockets (transport mode), IPv4 then IPv6, each opened on first use.
    raw: [Option<SocketId>; 2],
    inbound: HashMap<u32, InSel>,
    outbound: HashMap<SocketAddr, OutSel>,
    /// TCP inside the SAs (IPv4), once an SA set was installed.
    tcp: Option<EspTcp>,
    /// Outbound SAs of a newer set whose UE port an older set still serves.
    standby: Vec<(OutboundKey, Sa, OutSel)>,
    buf: Box<[u8]>,
    enc: Box<[u8]>,
    rng: u64,
    /// CBC IVs (RFC 3602 2.1: unpredictable).
    iv: crate::ipsec::iv::IvGen,
    stats: Option<Arc<EspStats>>,
    out_ok: u64,
    out_failed: u64,
    selector: u64,
}

impl EspPlane {
    /// The (empty) ESP state of worker `worker`; nothing is reserved before an install.
    pub fn new(worker: usize) -> EspPlane {
        EspPlane {
            worker: worker as u32,
            table: None,
            socks: Vec::new(),
            raw: [None; 2],
            inbound: HashMap::new(),
            outbound: HashMap::new(),
            standby: Vec::new(),
            tcp: None,
            buf: Box::default(),
            enc: Box::default(),
            rng: seed(),
            iv: crate::ipsec::iv::IvGen::from_os(),
            stats: None,
            out_ok: 0,
            out_failed: 0,
            selector: 0,
        }
    }

    /// Lends out the decapsulation buffer ([`EspRx::Deliver`] points into it) while the
    /// endpoint handles the message; [`Self::put_buffer`] gives it back. No allocation.
    pub fn take_buffer(&mut self) -> Box<[u8]> {
        std::mem::take(&mut self.buf)
    }

    /// Returns the buffer lent by [`Self::take_buffer`].
    pub fn put_buffer(&mut self, buf: Box<[u8]>) {
        self.buf = buf;
    }

    /// True for a protected socket of this worker.
    pub fn is_protected(&self, sock: SocketId) -> bool {
        sock.is_runtime() && (self.raw.contains(&Some(sock)) || self.socks.iter().any(|(_, s)| *s == sock))
    }

    /// Installs an SA set: opens the protected sockets if needed, keys the four SAs. On
    /// any failure nothing of the set stays and `install_failed` counts it.
    pub fn install(&mut self, now: Instant, cmd: &SaInstall, out: &mut Outbox) -> bool {
        self.stats = Some(cmd.stats.clone());
        let ok = self.try_install(cmd, out).is_some();
        if ok {
            self.listen_tcp(now, cmd);
        }
        if !ok {
            self.remove(cmd.binding);
            cmd.stats.install_failed.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    fn try_install(&mut self, cmd: &SaInstall, out: &mut Outbox) -> Option<()> {
        if self.table.is_none() {
            let cfg = SaTableConfig { worker: self.worker, worker_bits: cmd.worker_bits, capacity: cmd.capacity.max(4) };
            self.table = Some(SaTable::new(cfg).ok()?);
            self.inbound.reserve(cfg.capacity);
            self.outbound.reserve(cfg.capacity);
            self.standby.reserve(cfg.capacity / 4);
            self.buf = vec![0u8; BUF_LEN].into_boxed_slice();
            self.enc = vec![0u8; BUF_LEN].into_boxed_slice();
        }
        let transport = cmd.mode == EspMode::Transport;
        for spec in &cmd.specs {
            let sock = match transport {
                true => self.raw_socket(cmd, out)?,
                false => self.socket(SocketAddr::new(cmd.local_ip, spec.local_port), out)?,
            };
            let sa = Sa::new(&spec.params(cmd.replay_window)).ok()?;
            let ue = SocketAddr::new(cmd.ue_ip, spec.ue_port);
            let table = self.table.as_mut()?;
            match spec.direction {
                Direction::Inbound => {
                    table.insert_inbound(sa, cmd.binding).ok()?;
                    self.inbound.insert(spec.spi, InSel { ue, local_ip: cmd.local_ip, local_port: spec.local_port, binding: cmd.binding });
                }
                Direction::Outbound => {
                    let key = OutboundKey { ue_addr: cmd.ue_ip, ue_port: spec.ue_port, proto: SelectorProto::Any };
                    let local = SocketAddr::new(cmd.local_ip, spec.local_port);
                    let tunnel = cmd.mode == EspMode::UdpEncTunnel;
                    // Raw ESP goes to the UE's address; the port is not used.
                    let outer = if transport { SocketAddr::new(cmd.ue_ip, 0) } else { ue };
                    let sel = OutSel { sock, local, outer, tunnel, binding: cmd.binding };
                    match self.outbound.entry(ue) {
                        // TS 33.203 7.4: the old SA towards this UE port keeps sending
                        // until its set is removed (the UE may not hold the new one yet).
                        Entry::Occupied(_) if self.standby.len() >= self.standby.capacity() => return None,
                        Entry::Occupied(_) => self.standby.push((key, sa, sel)),
                        Entry::Vacant(v) => {
                            table.insert_outbound(key, sa, cmd.binding).ok()?;
                            v.insert(sel);
                        }
                    }
                }
            }
        }
        Some(())
    }

    /// The protected socket bound to `addr`, opened on first use.
    fn socket(&mut self, addr: SocketAddr, out: &mut Outbox) -> Option<SocketId> {
        if let Some((_, s)) = self.socks.iter().find(|(a, _)| *a == addr) {
            return Some(*s);
        }
        let sock = out.open_udp(addr).ok()?;
        self.socks.push((addr, sock));
        Some(sock)
    }

    /// This worker's raw ESP socket of `cmd.local_ip`'s family, opened on first use (TS
    /// 33.203 `mod=trans`).
    fn raw_socket(&mut self, cmd: &SaInstall, out: &mut Outbox) -> Option<SocketId> {
        let slot = self.raw.get_mut(usize::from(cmd.local_ip.is_ipv6()))?;
        if slot.is_none() {
            *slot = Some(out.open_raw_esp(cmd.local_ip, self.worker, cmd.worker_bits).ok()?);
        }
        *slot
    }

    /// Removes every SA of set `binding` (de-registration, expiry, a newer set); an
    /// outbound SA waiting for the removed one's UE port takes its place. Costs O(SAs of
    /// the set) through the table's per-set list, plus O(standby): the standby list holds
    /// only the outbound SAs of sets installed while an older set of the same UE port is
    /// still in use (a re-registration or de-registration in progress), at most
    /// capacity / 4, and is usually empty or small.
    pub fn remove(&mut self, binding: u64) {
        let Some(table) = self.table.as_mut() else { return };
        let (inbound, outbound, tcp) = (&mut self.inbound, &mut self.outbound, &mut self.tcp);
        // Every inbound/outbound selector has its SA in the table under the same set (both
        // are inserted and removed together), so the set's list names all of them.
        table.remove_binding_with(binding, |sa| match sa {
            SaKey::Inbound(spi) => {
                if let (Some(sel), Some(tcp)) = (inbound.remove(&spi), tcp.as_mut()) {
                    debug_assert_eq!(sel.binding, binding);
                    tcp.abort_peer(sel.ue);
                }
            }
            SaKey::Outbound(key) => {
                let sel = outbound.remove(&SocketAddr::new(key.ue_addr, key.ue_port));
                debug_assert!(sel.is_some_and(|s| s.binding == binding));
            }
        });
        if self.standby.is_empty() {
            return;
        }
        self.standby.retain(|(_, _, s)| s.binding != binding);
        let mut i = 0;
        while i < self.standby.len() {
            let ue = SocketAddr::new(self.standby[i].0.ue_addr, self.standby[i].0.ue_port);
            if self.outbound.contains_key(&ue) {
                i += 1;
                continue;
            }
            let (key, sa, sel) = self.standby.swap_remove(i);
            if table.insert_outbound(key, sa, sel.binding).is_ok() {
                self.outbound.insert(ue, sel);
            }
        }
    }

    /// Handles a datagram that arrived on `sock` from `src`.
    pub fn on_datagram(&mut self, sock: SocketId, src: SocketAddr, data: &[u8]) -> EspRx {
        if !self.is_protected(sock) {
            return EspRx::NotOurs;
        }
        // RFC 3948 2.2-2.3: keep-alives and IKE (non-ESP marker) are not ours to answer.
        if matches!(classify(data), Ok(UdpEncap::Keepalive | UdpEncap::NonEsp)) {
            return EspRx::Dropped;
        }
        let rx = match self.raw.contains(&Some(sock)) {
            true => self.decap_raw(sock, src.ip(), data),
            false => self.decap(sock, src.ip(), None, data, Some(src)),
        };
        self.publish();
        rx.unwrap_or(EspRx::Dropped)
    }

    /// A packet from a raw socket: over IPv4 the whole packet (the ESP packet follows the
    /// IP header); over IPv6 the ESP packet alone, from `src` to the address the socket is
    /// bound to (RFC 3542 3: raw IPv6 sockets never pass the IPv6 header).
    fn decap_raw(&mut self, sock: SocketId, src: IpAddr, packet: &[u8]) -> Option<EspRx> {
        if src.is_ipv6() {
            return self.decap(sock, src, None, packet, None);
        }
        let (ip, span) = Ipv4Repr::parse(packet).ok()?;
        if ip.protocol != IPPROTO_ESP {
            return None;
        }
        self.decap(sock, IpAddr::V4(ip.src), Some(IpAddr::V4(ip.dst)), packet.get(span)?, None)
    }

    /// Decapsulates `data` (an ESP packet from `outer_src` to `outer_dst`, our address when
    /// None); `nat_src` is the outer UDP source of an encapsulated packet.
    fn decap(
        &mut self,
        sock: SocketId,
        outer_src: IpAddr,
        outer_dst: Option<IpAddr>,
        data: &[u8],
        nat_src: Option<SocketAddr>,
    ) -> Option<EspRx> {
        let table = self.table.as_mut()?;
        let pkt = self.buf.get_mut(..data.len())?;
        pkt.copy_from_slice(data);
        let inner = table.decap(pkt).ok()?;
        // The decapsulation succeeded, so the packet holds at least the 8-byte ESP header.
        let spi = u32::from_be_bytes(data.get(..4)?.try_into().ok()?);
        let sel = self.inbound.get(&spi)?;
        let payload = pkt.get(inner.payload.clone())?;
        let dst = outer_dst.unwrap_or(sel.local_ip);
        let (ue, local_port) = (sel.ue, sel.local_port);
        match stream::to_stack(self.tcp.as_mut(), inner.next_header, payload, outer_src, dst, ue, local_port) {
            stream::Input::Taken => return Some(EspRx::Stream),
            stream::Input::Refused => {
                self.selector += 1;
                return None;
            }
            stream::Input::NotTcp => {}
        }
        let udp = match parse_inner(inner.next_header, payload, outer_src, dst) {
            Ok(u) if u.src == sel.ue && u.dst.port() == sel.local_port => u,
            _ => {
                // RFC 4301 5.2 step 4: the packet must match the SA's selectors.
                self.selector += 1;
                return None;
            }
        };
        if let (Some(o), Some(src)) = (self.outbound.get_mut(&udp.src), nat_src) {
            o.outer = src;
        }
        let start = inner.payload.start;
        let peer = Peer { transport: Transport::Udp(sock), addr: udp.src };
        Some(EspRx::Deliver { peer, data: start + udp.data.start..start + udp.data.end })
    }

    /// Sends `bytes` to the UE's protected port `ue` through its outbound SA; false (and
    /// counted) when there is none or the packet does not fit.
    pub fn send(&mut self, out: &mut Outbox, ue: SocketAddr, bytes: &[u8]) -> bool {
        let ok = self.encap(out, ue, bytes).is_some();
        if ok {
            self.out_ok += 1;
        } else {
            self.out_failed += 1;
        }
        self.publish();
        ok
    }

    fn encap(&mut self, out: &mut Outbox, ue: SocketAddr, bytes: &[u8]) -> Option<()> {
        let sel = self.outbound.get(&ue)?;
        let (n, nh) = emit_inner(sel.tunnel, sel.local, ue, bytes, &mut self.enc).ok()?;
        seal(self.table.as_mut()?, &mut self.iv, sel, ue, self.enc.get(..n)?, nh, out)
    }

    fn publish(&self) {
        if let (Some(s), Some(t)) = (&self.stats, &self.table) {
            s.publish(t.counters(), self.out_ok, self.out_failed, self.selector);
        }
    }
}

/// Encapsulates `inner` (Next Header `nh`) in the outbound SA towards `ue` and queues the
/// ESP packet on the SA's socket.
fn seal(table: &mut SaTable, iv: &mut crate::ipsec::iv::IvGen, sel: &OutSel, ue: SocketAddr, inner: &[u8], nh: u8, out: &mut Outbox) -> Option<()> {
    let sa = table.outbound_mut(ue.ip(), ue.port(), crate::ipsec::udp::IPPROTO_UDP)?;
    // RFC 4303 3.3.3: never cycle the sequence number; a bigger packet than a slot is refused.
    if sa.last_seq() == u32::MAX || sa.encap_len(inner.len()) > out.slot_size() {
        return None;
    }
    out.build_udp(sel.sock, sel.outer, |slot| sa.encap(inner, nh, iv, slot).unwrap_or(0)).ok()
}

/// A seed from the process's randomly keyed hasher (no extra dependency).
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish() | 1
}

#[path = "esp_stream.rs"]
mod stream;

#[cfg(test)]
#[path = "esp_tests.rs"]
mod tests;
