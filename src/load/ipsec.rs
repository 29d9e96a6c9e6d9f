//! The UE side of IMS access security for ringload (TS 33.203 7, TS 24.229 5.1.1.2,
//! RFC 3329): one [`UeIpsec`] per emulated UE sits between the UE's SIP state machine
//! ([`super::ue::Ue`]) and its sockets. It adds Security-Client / Security-Verify and
//! `Require`/`Proxy-Require: sec-agree` to every REGISTER, reads the Security-Server of a
//! 401, derives the four SAs from CK/IK with the core's own code
//! ([`crate::ipsec::Agreement::sa_specs`], TS 33.203 Annex I) seen from the UE's side, and
//! carries every later SIP message over them as UDP-encapsulated tunnel-mode ESP
//! (`mod=UDP-enc-tun`, RFC 3948): requests from the UE's port-c to the P-CSCF's port-s,
//! responses to requests received on port-s back to the P-CSCF's port-c (TS 33.203 7.1).
//! INVITEs go over TCP inside the SA when a [`super::ipsec_tcp::TcpClient`] is attached.
//!
//! Sans-IO: it is handed datagrams and SIP bytes and writes packets into caller buffers;
//! no clock, no socket. RTP is not protected (it never goes to the P-CSCF's SIP port).

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::auth::digest::decode_aka_nonce;
use crate::auth::ipsec_keys::EncrAlg;
use crate::auth::Sim;
use crate::ipsec::inner::{emit_inner, parse_inner, NH_IPV4};
use crate::ipsec::sa::SaParams;
use crate::ipsec::{Aalg, Agreement, Direction, EspMode, IpsecMechanism, Mechanism, RawMechanism, Sa, SaSpec};
use crate::sip::{Message, Method};

use super::ipsec_tcp::TcpClient;

/// Largest SIP message the layer protects (the UE's own bound plus the added headers).
pub const MAX_SIP: usize = super::sipmsg::MAX_MSG + 512;
/// Room for an ESP datagram carrying [`MAX_SIP`] bytes (inner IP/UDP, IV, padding, ICV).
pub const MAX_ESP: usize = MAX_SIP + 128;
/// Anti-replay window of the UE's inbound SAs (RFC 4303 3.4.3).
const REPLAY_WINDOW: u16 = 64;
/// First SPI a UE offers; each new offer takes the next two (1..=255 are reserved).
const FIRST_SPI: u32 = 0x1000;

/// The algorithms a run offers (`--ipsec EALG/AALG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpsecChoice {
    /// Encryption (`ealg`).
    pub ealg: EncrAlg,
    /// Integrity (`alg`).
    pub aalg: Aalg,
    /// Send INVITEs over TCP inside the SA (TS 24.229 allows either transport).
    pub invite_tcp: bool,
}

impl IpsecChoice {
    /// Parses `EALG/AALG`, e.g. `aes-cbc/hmac-sha-1-96` or `null/hmac-md5-96`.
    pub fn parse(text: &str) -> Result<IpsecChoice, String> {
        let (e, a) = text.split_once('/').ok_or_else(|| format!("--ipsec: '{text}' is not EALG/AALG"))?;
        let ealg = EncrAlg::from_name(e.trim().as_bytes())
            .ok_or_else(|| format!("--ipsec: encryption '{e}' is not one of null, des-ede3-cbc, aes-cbc"))?;
        let aalg = match Aalg::from_name(a.trim().as_bytes()) {
            Some(a @ Aalg::Hmac(_)) => a,
            _ => return Err(format!("--ipsec: integrity '{a}' is not one of hmac-md5-96, hmac-sha-1-96")),
        };
        Ok(IpsecChoice { ealg, aalg, invite_tcp: true })
    }
}

/// Which of the UE's two sockets a packet leaves from or arrived on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// The protected client port (port-c): requests out, their responses in.
    Client,
    /// The protected server port (port-s), also the UE's SIP/RTP address: unprotected
    /// SIP, requests from the P-CSCF in and their responses out, RTP.
    Server,
}

/// A datagram written into the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// Socket to send it from.
    pub port: Port,
    /// Destination.
    pub dst: SocketAddr,
    /// Bytes written.
    pub len: usize,
}

/// The UE's half of one SA set (TS 33.203 7.1).
pub(super) struct SaSet {
    /// Our Security-Client entry this set answers.
    client: IpsecMechanism,
    /// The P-CSCF's Security-Server entry (echoed in Security-Verify).
    server: IpsecMechanism,
    core_ip: IpAddr,
    /// UE port-c → P-CSCF port-s.
    to_ps: Sa,
    /// UE port-s → P-CSCF port-c.
    to_pc: Sa,
    /// P-CSCF port-s → UE port-c.
    from_ps: Sa,
    /// P-CSCF port-c → UE port-s.
    from_pc: Sa,
}

/// The UE side of an SA the P-CSCF holds: same SPI and keys, the other direction.
fn ue_sa(spec: &SaSpec) -> Option<Sa> {
    let direction = match spec.direction {
        Direction::Inbound => Direction::Outbound,
        Direction::Outbound => Direction::Inbound,
    };
    Sa::new(&SaParams { direction, ..spec.params(REPLAY_WINDOW) }).ok()
}

impl SaSet {
    /// TS 33.203 7.1 / Annex I: the four SAs from the agreement and the challenge's keys,
    /// through the very derivation the P-CSCF uses.
    fn new(client: IpsecMechanism, server: IpsecMechanism, core_ip: IpAddr, ik: &[u8; 16], ck: &[u8; 16]) -> Option<SaSet> {
        let specs = Agreement { client, server }.sa_specs(ik, ck);
        let [in_s, out_c, in_c, out_s] = &specs;
        Some(SaSet {
            client,
            server,
            core_ip,
            to_ps: ue_sa(in_s)?,
            from_ps: ue_sa(out_c)?,
            to_pc: ue_sa(in_c)?,
            from_pc: ue_sa(out_s)?,
        })
    }

    /// The P-CSCF's protected port-s (requests go there).
    pub(super) fn core_port_s(&self) -> SocketAddr {
        SocketAddr::new(self.core_ip, self.server.port_s)
    }

    fn core_port_c(&self) -> SocketAddr {
        SocketAddr::new(self.core_ip, self.server.port_c)
    }

    /// The inbound SA for `spi` arriving from `src`.
    fn inbound(&mut self, spi: u32, src: SocketAddr) -> Option<&mut Sa> {
        if src == self.core_port_s() && spi == self.client.spi_c {
            Some(&mut self.from_ps)
        } else if src == self.core_port_c() && spi == self.client.spi_s {
            Some(&mut self.from_pc)
        } else {
            None
        }
    }
}

/// What [`UeIpsec::send`] did with a SIP message.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    /// One datagram to send.
    Datagram(Datagram),
    /// Handed to the TCP connection: drain [`UeIpsec::poll_transmit`].
    Stream,
    /// Dropped (no SA, or it does not fit).
    Dropped,
}

/// One UE's sec-agree state and SAs.
pub struct UeIpsec {
    choice: IpsecChoice,
    target: SocketAddr,
    ue_ip: IpAddr,
    port_c: u16,
    port_s: u16,
    sim: Option<Sim>,
    next_spi: u32,
    /// Our next fresh Security-Client entry.
    offered: IpsecMechanism,
    /// Security-Client of the last REGISTER sent (what a 401 answers).
    sent: IpsecMechanism,
    current: Option<Box<SaSet>>,
    pending: Option<Box<SaSet>>,
    deregistering: bool,
    rng: u64,
    tcp: Option<Box<TcpClient>>,
    stats: UeIpsecStats,
}

/// Per-UE ESP counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UeIpsecStats {
    /// ESP packets sent.
    pub out: u64,
    /// ESP packets decapsulated.
    pub ok_in: u64,
    /// ESP packets that failed decapsulation or selectors.
    pub bad_in: u64,
    /// SA sets created from 401s.
    pub sets: u64,
    /// SIP messages (INVITEs) sent over TCP inside the SAs (retransmissions absorbed).
    pub tcp_messages: u64,
    /// TCP connections opened inside the SAs.
    pub tcp_connects: u64,
    /// REGISTERs sent over SAs (retransmissions included).
    pub registers: u64,
    /// SIP messages received over TCP inside the SAs.
    pub tcp_received: u64,
}

impl std::fmt::Debug for UeIpsec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UeIpsec").field("port_c", &self.port_c).field("port_s", &self.port_s).finish()
    }
}

impl UeIpsec {
    /// The layer of a UE at `ue_ip` with protected ports `port_c` / `port_s` (its two
    /// sockets) talking to the P-CSCF at `target`; `sim` gives CK/IK; `seed` varies IVs.
    pub fn new(choice: IpsecChoice, target: SocketAddr, ue_ip: IpAddr, port_c: u16, port_s: u16, sim: Option<Sim>, seed: u64) -> UeIpsec {
        let offered = offer(choice, FIRST_SPI, port_c, port_s);
        UeIpsec {
            choice,
            target,
            ue_ip,
            port_c,
            port_s,
            sim,
            next_spi: FIRST_SPI + 2,
            offered,
            sent: offered,
            current: None,
            pending: None,
            deregistering: false,
            rng: seed | 1,
            tcp: None,
            stats: UeIpsecStats::default(),
        }
    }

    /// Carries INVITEs over TCP inside the SAs with `tcp`.
    pub fn with_tcp(mut self, tcp: TcpClient) -> UeIpsec {
        self.tcp = Some(Box::new(tcp));
        self
    }

    /// What this UE sent and received through its SAs.
    pub fn stats(&self) -> UeIpsecStats {
        let (tcp_connects, tcp_messages) = self.tcp.as_ref().map_or((0, 0), |t| (t.connects, t.messages));
        UeIpsecStats { tcp_connects, tcp_messages, ..self.stats }
    }

    /// True while an SA set is in use.
    pub fn is_protected(&self) -> bool {
        self.current.is_some()
    }

    /// Our Security-Client entry with the next two SPIs (TS 33.203 7.1: spi-c, spi-s).
    fn fresh_offer(&mut self) -> IpsecMechanism {
        let spi_c = self.next_spi;
        // Bounded: 2^31 offers per UE before wrapping back into the valid range.
        self.next_spi = if self.next_spi >= u32::MAX - 2 { FIRST_SPI } else { self.next_spi + 2 };
        offer(self.choice, spi_c, self.port_c, self.port_s)
    }

    /// Protects `sip` (a message the UE sends to `dst`) and writes what to send into `out`
    /// (at least [`MAX_ESP`] bytes). Media and anything not for the P-CSCF go out plain
    /// from port-s.
    pub fn send(&mut self, now: Instant, sip: &[u8], dst: SocketAddr, out: &mut [u8]) -> Sent {
        if dst != self.target {
            return plain(Port::Server, dst, sip, out);
        }
        if sip.starts_with(b"REGISTER ") {
            return self.send_register(sip, out);
        }
        let response = sip.starts_with(b"SIP/2.0 ");
        // TS 24.229 5.1.1.1 / RFC 3261 18.1.1: INVITEs over TCP inside the SA.
        if !response && sip.starts_with(b"INVITE ") {
            let tcp = self.tcp.as_mut().filter(|_| self.choice.invite_tcp);
            if let (Some(tcp), Some(set)) = (tcp, self.current.as_deref()) {
                return if tcp.send_message(now, set.core_port_s(), sip) { Sent::Stream } else { Sent::Dropped };
            }
        }
        let Some(set) = self.current.as_deref_mut() else {
            return plain(Port::Server, dst, sip, out);
        };
        // TS 33.203 7.1: requests from port-c to port-s, responses from port-s to port-c.
        let (port, src, to, sa) = match response {
            false => (Port::Client, self.port_c, set.core_port_s(), &mut set.to_ps),
            true => (Port::Server, self.port_s, set.core_port_c(), &mut set.to_pc),
        };
        let src = SocketAddr::new(self.ue_ip, src);
        match seal_udp(sa, &mut self.rng, src, to, sip, out) {
            Some(len) => {
                self.stats.out += 1;
                Sent::Datagram(Datagram { port, dst: to, len })
            }
            None => Sent::Dropped,
        }
    }

    /// A REGISTER: sec-agree headers, then over the newest SA set, or plain before any.
    fn send_register(&mut self, sip: &[u8], out: &mut [u8]) -> Sent {
        // TS 24.229 5.1.1.2: a REGISTER over a new set repeats that set's Security-Client;
        // otherwise the UE offers new SPIs for the set the P-CSCF may create.
        let offer = match self.pending.as_deref() {
            Some(p) => p.client,
            None => self.offered,
        };
        let set = self.pending.as_deref_mut().or(self.current.as_deref_mut());
        self.sent = offer;
        self.deregistering = memchr::memmem::find(sip, b"\r\nExpires: 0\r\n").is_some();
        let mut text = [0u8; MAX_SIP];
        let verify = set.as_ref().map(|s| s.server);
        let Some(n) = with_sec_agree(sip, &offer, verify.as_ref(), &mut text) else { return Sent::Dropped };
        let text = text.get(..n).unwrap_or_default();
        let Some(set) = set else { return plain(Port::Server, self.target, text, out) };
        let (src, to) = (SocketAddr::new(self.ue_ip, self.port_c), set.core_port_s());
        match seal_udp(&mut set.to_ps, &mut self.rng, src, to, text, out) {
            Some(len) => {
                self.stats.out += 1;
                self.stats.registers += 1;
                Sent::Datagram(Datagram { port: Port::Client, dst: to, len })
            }
            None => Sent::Dropped,
        }
    }

    /// A datagram from `src` on `port`: ESP from the P-CSCF's protected ports is
    /// decapsulated and its SIP handed to `deliver` (with the TCP stream's complete
    /// messages); plain SIP from the P-CSCF is inspected and handed on; anything else
    /// (RTP) goes to `deliver` untouched. Returns false for what was dropped.
    pub fn receive(&mut self, now: Instant, port: Port, src: SocketAddr, data: &[u8], deliver: &mut dyn FnMut(&[u8])) -> bool {
        let spi = match data {
            [a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]),
            _ => 0,
        };
        let esp = [self.pending.as_deref(), self.current.as_deref()]
            .into_iter()
            .flatten()
            .any(|s| (src == s.core_port_s() && port == Port::Client) || (src == s.core_port_c() && port == Port::Server));
        if !esp {
            if src == self.target {
                self.inspect(data);
            }
            deliver(data);
            return true;
        }
        let mut buf = [0u8; MAX_ESP];
        let Some(pkt) = buf.get_mut(..data.len()) else { return self.bad() };
        let ue_ip = self.ue_ip;
        // The newest set first; a packet of the set in use still decapsulates after it.
        let mut inner = None;
        for set in [self.pending.as_deref_mut(), self.current.as_deref_mut()].into_iter().flatten() {
            if let Some(sa) = set.inbound(spi, src) {
                pkt.copy_from_slice(data);
                if let Ok(i) = sa.decap(pkt) {
                    inner = Some(i);
                    break;
                }
            }
        }
        let Some(inner) = inner else { return self.bad() };
        let Some(payload) = pkt.get(inner.payload.clone()) else { return self.bad() };
        self.stats.ok_in += 1;
        if inner.next_header == NH_IPV4 && payload.get(9) == Some(&6) {
            let Some(tcp) = self.tcp.as_mut() else { return self.bad() };
            tcp.input(now, payload);
            while let Some(msg) = self.tcp.as_mut().and_then(|t| t.next_message()) {
                self.stats.tcp_received += 1;
                self.inspect(&msg);
                deliver(&msg);
            }
            return true;
        }
        match parse_inner(inner.next_header, payload, src.ip(), ue_ip) {
            // RFC 4301 5.2: the inner ports must be the SA's.
            Ok(u) if u.src.port() == src.port() && u.dst.port() == self.port_of(port) => {
                let Some(sip) = payload.get(u.data) else { return self.bad() };
                self.inspect(sip);
                deliver(sip);
                true
            }
            _ => self.bad(),
        }
    }

    fn port_of(&self, port: Port) -> u16 {
        match port {
            Port::Client => self.port_c,
            Port::Server => self.port_s,
        }
    }

    fn bad(&mut self) -> bool {
        self.stats.bad_in += 1;
        false
    }

    /// Watches REGISTER responses: a 401 with Security-Server makes a new SA set
    /// (TS 33.203 7.2); a 2xx puts the newest set in use, or after a de-registration
    /// forgets every set (the P-CSCF removed them).
    fn inspect(&mut self, sip: &[u8]) {
        if !sip.starts_with(b"SIP/2.0 ") {
            return;
        }
        let Ok(msg) = Message::parse(sip) else { return };
        let (Some(code), Ok(cseq)) = (msg.status(), msg.cseq()) else { return };
        if cseq.method != Method::Register {
            return;
        }
        match code {
            401 => {
                if let Some(set) = self.set_from_challenge(&msg) {
                    // A retransmitted 401 names a set we hold: keep its counters (RFC 4303 3.3.3).
                    let held = |s: &Option<Box<SaSet>>| s.as_ref().is_some_and(|h| h.server == set.server);
                    if held(&self.pending) || held(&self.current) {
                        return;
                    }
                    self.pending = Some(Box::new(set));
                    self.stats.sets += 1;
                    if self.sent == self.offered {
                        self.offered = self.fresh_offer();
                    }
                }
            }
            200..=299 if self.deregistering => {
                self.current = None;
                self.pending = None;
                self.reset_tcp();
            }
            200..=299 => {
                if let Some(p) = self.pending.take() {
                    self.current = Some(p);
                    // The P-CSCF dropped the old set's connections with it.
                    self.reset_tcp();
                }
            }
            _ => {}
        }
    }

    fn reset_tcp(&mut self) {
        if let Some(t) = self.tcp.as_mut() {
            t.reset();
        }
    }

    /// The SA set a 401 carries: its first `ipsec-3gpp` Security-Server with our algorithms
    /// and CK/IK of the challenge's RAND (TS 33.203 Annex I via `sa_specs`).
    fn set_from_challenge(&self, msg: &Message<'_>) -> Option<SaSet> {
        let server = msg
            .security_server()
            .filter_map(Result::ok)
            .map(|m| RawMechanism::from(&m).resolve())
            .find(|m| m.mechanism == Mechanism::Ipsec3gpp && m.alg == self.sent.alg)?;
        let ch = msg.www_authenticate().ok()??;
        let nonce = std::str::from_utf8(ch.nonce()?).ok()?;
        let rand = decode_aka_nonce(nonce).ok()?.rand;
        let keys = self.sim.as_ref()?.f2345(&rand);
        let ik: [u8; 16] = keys.ik.as_slice().try_into().ok()?;
        let ck: [u8; 16] = keys.ck.as_slice().try_into().ok()?;
        SaSet::new(self.sent, server, self.target.ip(), &ik, &ck)
    }

    /// Writes the next TCP segment to send (ESP over the current set) into `out`.
    pub fn poll_transmit(&mut self, now: Instant, out: &mut [u8]) -> Option<Datagram> {
        let tcp = self.tcp.as_mut()?;
        let Some(set) = self.current.as_deref_mut() else {
            // No SA to carry them (after de-registration): the segments go nowhere.
            tcp.discard_frames();
            return None;
        };
        let mut frame = [0u8; MAX_SIP];
        let n = tcp.poll_frame(now, &mut frame)?;
        let inner = frame.get(..n)?;
        let mut iv = |iv: &mut [u8]| fill_iv(&mut self.rng, iv);
        let len = set.to_ps.encap(inner, NH_IPV4, &mut iv, out).ok()?;
        self.stats.out += 1;
        Some(Datagram { port: Port::Client, dst: set.core_port_s(), len })
    }

    /// When [`Self::poll_transmit`] needs to run again (TCP timers).
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.current.as_ref()?;
        self.tcp.as_mut().and_then(|t| t.poll_at())
    }
}

/// Our single Security-Client entry (RFC 3329 2.2, TS 33.203 Annex H).
fn offer(choice: IpsecChoice, spi_c: u32, port_c: u16, port_s: u16) -> IpsecMechanism {
    IpsecMechanism {
        mechanism: Mechanism::Ipsec3gpp,
        alg: Some(choice.aalg),
        ealg: Some(choice.ealg),
        spi_c,
        spi_s: spi_c + 1,
        port_c,
        port_s,
        mode: EspMode::UdpEncTunnel,
        esp: true,
        q: None,
    }
}

fn plain(port: Port, dst: SocketAddr, sip: &[u8], out: &mut [u8]) -> Sent {
    match out.get_mut(..sip.len()) {
        Some(o) => {
            o.copy_from_slice(sip);
            Sent::Datagram(Datagram { port, dst, len: sip.len() })
        }
        None => Sent::Dropped,
    }
}

/// The ESP packet (RFC 3948 payload) of `sip` from `src` to `dst` in tunnel mode.
fn seal_udp(sa: &mut Sa, rng: &mut u64, src: SocketAddr, dst: SocketAddr, sip: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut inner = [0u8; MAX_SIP + 64];
    let (n, nh) = emit_inner(true, src, dst, sip, &mut inner).ok()?;
    let mut iv = |iv: &mut [u8]| fill_iv(rng, iv);
    sa.encap(inner.get(..n)?, nh, &mut iv, out).ok()
}

/// `sip` with Security-Client (`offer`), Security-Verify (`verify`) and the sec-agree
/// option tags after its request line (RFC 3329 2.3.1, TS 24.229 5.1.1.2.1).
fn with_sec_agree(sip: &[u8], offer: &IpsecMechanism, verify: Option<&IpsecMechanism>, out: &mut [u8]) -> Option<usize> {
    use std::io::Write as _;
    let line_end = memchr::memmem::find(sip, b"\r\n")? + 2;
    let (line, rest) = sip.split_at(line_end);
    let mut w = std::io::Cursor::new(out);
    w.write_all(line).ok()?;
    write!(w, "Security-Client: {offer}\r\n").ok()?;
    if let Some(v) = verify {
        write!(w, "Security-Verify: {v}\r\n").ok()?;
    }
    w.write_all(b"Require: sec-agree\r\nProxy-Require: sec-agree\r\n").ok()?;
    w.write_all(rest).ok()?;
    usize::try_from(w.position()).ok()
}

#[cfg(test)]
#[path = "ipsec_tests.rs"]
mod tests;

/// The emulated UEs' CBC IVs: splitmix64 over a random per-UE seed. Fast and well spread,
/// but not cryptographically unpredictable (RFC 3602 2.1 asks that of real implementations;
/// the core's side uses `crate::ipsec::iv::IvGen`): a load generator's traffic needs no
/// confidentiality.
fn fill_iv(state: &mut u64, iv: &mut [u8]) {
    for chunk in iv.chunks_mut(8) {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let b = z.to_le_bytes();
        chunk.copy_from_slice(&b[..chunk.len()]);
    }
}
