//! The shard's side of `--ipsec`: each UE gets a second socket (its protected client port,
//! port-c; the UE's own socket is port-s) and a [`UeIpsec`] layer between its SIP state
//! machine and the sockets. [`super::shard::Shard`] calls in here on every datagram in and
//! out; without `--ipsec` every call is a pass-through.

use std::net::SocketAddr;
use std::time::Instant;

use crate::auth::Sim;
use crate::engine::{Outbox, SocketId};

use super::ipsec::{Datagram, IpsecChoice, Port, Sent, UeIpsec, UeIpsecStats, MAX_ESP};
use super::ipsec_tcp::TcpClient;
use super::ue::Ue;

/// Per-shard IPsec state: one layer and one port-c socket per UE.
pub struct ShardIpsec {
    choice: Option<IpsecChoice>,
    layers: Vec<UeIpsec>,
    client_socks: Vec<SocketId>,
    server_socks: Vec<SocketId>,
    buf: Box<[u8]>,
    seed: u64,
}

impl ShardIpsec {
    /// The state for `choice` (`None`: IPsec off).
    pub fn new(choice: Option<IpsecChoice>) -> ShardIpsec {
        ShardIpsec {
            choice,
            layers: Vec::new(),
            client_socks: Vec::new(),
            server_socks: Vec::new(),
            buf: vec![0u8; if choice.is_some() { MAX_ESP } else { 0 }].into_boxed_slice(),
            seed: random_seed(),
        }
    }

    /// True with `--ipsec`.
    pub fn enabled(&self) -> bool {
        self.choice.is_some()
    }

    /// Opens the port-c socket of the next UE (local index = number opened so far), whose
    /// own socket `sock` is bound at `local` (port-s); returns the new socket, which the
    /// shard maps to the same UE. `sim` gives the UE's CK/IK.
    pub fn open_ue(&mut self, now: Instant, out: &mut Outbox, sock: SocketId, local: SocketAddr, target: SocketAddr, sim: Option<Sim>) -> Result<Option<SocketId>, String> {
        let Some(choice) = self.choice else { return Ok(None) };
        let bind = SocketAddr::new(local.ip(), 0);
        let c = out.open_udp(bind).map_err(|e| format!("cannot bind the protected client port at {bind}: {e}"))?;
        let port_c = out.udp_local_addr(c).ok_or("no local address for the protected client port")?.port();
        self.seed = self.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut layer = UeIpsec::new(choice, target, local.ip(), port_c, local.port(), sim, self.seed);
        if choice.invite_tcp {
            if let Some(tcp) = TcpClient::new(local.ip(), port_c, self.seed, now) {
                layer = layer.with_tcp(tcp);
            }
        }
        self.layers.push(layer);
        self.client_socks.push(c);
        self.server_socks.push(sock);
        Ok(Some(c))
    }

    /// A datagram for UE `k` on `sock`: true when the layer took it (and fed `ue` what it
    /// carried); false without IPsec (the caller hands it to the UE).
    pub fn receive(&mut self, now: Instant, k: usize, sock: SocketId, src: SocketAddr, data: &[u8], ue: &mut Ue) -> bool {
        let (Some(layer), Some(&c)) = (self.layers.get_mut(k), self.client_socks.get(k)) else { return false };
        let port = if sock == c { Port::Client } else { Port::Server };
        layer.receive(now, port, src, data, &mut |d| ue.handle_datagram(now, src, d));
        true
    }

    /// Sends what UE `k` wrote to `dst` (protected when it is SIP for the P-CSCF); false
    /// when it was dropped. Without IPsec: a plain send from `sock`.
    pub fn transmit(&mut self, now: Instant, k: usize, sock: SocketId, dst: SocketAddr, data: &[u8], out: &mut Outbox) -> bool {
        let Some(layer) = self.layers.get_mut(k) else { return out.send_udp(sock, dst, data).is_ok() };
        match layer.send(now, data, dst, &mut self.buf) {
            Sent::Datagram(d) => send(&self.client_socks, &self.server_socks, k, d, &self.buf, out),
            Sent::Stream => true,
            Sent::Dropped => false,
        }
    }

    /// Sends UE `k`'s pending TCP segments; the number dropped.
    pub fn flush(&mut self, now: Instant, k: usize, out: &mut Outbox) -> u64 {
        let Some(layer) = self.layers.get_mut(k) else { return 0 };
        let mut dropped = 0;
        while let Some(d) = layer.poll_transmit(now, &mut self.buf) {
            if !send(&self.client_socks, &self.server_socks, k, d, &self.buf, out) {
                dropped += 1;
            }
        }
        dropped
    }

    /// When UE `k`'s layer needs [`Self::flush`] again.
    pub fn poll_timeout(&mut self, k: usize) -> Option<Instant> {
        self.layers.get_mut(k)?.poll_timeout()
    }

    /// The ESP counts summed over the shard's UEs.
    pub fn stats(&self) -> UeIpsecStats {
        self.layers.iter().map(UeIpsec::stats).fold(UeIpsecStats::default(), |mut t, l| {
            t.out += l.out;
            t.ok_in += l.ok_in;
            t.bad_in += l.bad_in;
            t.sets += l.sets;
            t.tcp_messages += l.tcp_messages;
            t.tcp_received += l.tcp_received;
            t.tcp_connects += l.tcp_connects;
            t.registers += l.registers;
            t
        })
    }

    /// One line of totals for worker `w` (printed at the end of a run), `None` without IPsec.
    pub fn summary(&self, w: usize) -> Option<String> {
        self.choice?;
        let s = self.stats();
        Some(format!(
            "ringload: ipsec worker {w}: {} SA sets, ESP out {} in {} bad {}, TCP connections {} messages out {} in {}, REGISTERs over SAs {}",
            s.sets, s.out, s.ok_in, s.bad_in, s.tcp_connects, s.tcp_messages, s.tcp_received, s.registers
        ))
    }
}

fn send(client: &[SocketId], server: &[SocketId], k: usize, d: Datagram, buf: &[u8], out: &mut Outbox) -> bool {
    let sock = match d.port {
        Port::Client => client.get(k),
        Port::Server => server.get(k),
    };
    match (sock, buf.get(..d.len)) {
        (Some(&s), Some(bytes)) => out.send_udp(s, d.dst, bytes).is_ok(),
        _ => false,
    }
}

/// A seed from the process's randomly keyed hasher (IVs and TCP ISNs).
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x1b5e);
    h.finish() | 1
}
