//! Media anchoring for calls between UEs (the calls issue: "calls between UEs
//! anchored by default"): every media section of the offer is given a pair of
//! ringcore ports on one worker, one facing each leg. The offer sent to the
//! callee and the answer returned to the caller carry ringcore's address
//! and ports (RFC 3264 5, 6), and the worker relays RTP and RTCP between the
//! two ports, counting packets, so media can be observed, blocked or delayed.

use crate::endpoint::ToWorker;
use crate::media::{MediaMode, MediaSpec, PortAllocator, PortRange};
use super::anchor_patch::patch;
use crate::sdp::{SdpView, MAX_MEDIA};
pub use crate::sdp::{Section, Sections};
use std::net::{IpAddr, SocketAddr};

/// Media ports of all workers: one allocator each (the port tells its owner).
pub struct MediaPorts {
    allocs: Vec<PortAllocator>,
    range: PortRange,
    next: usize,
    /// The address written in our SDP.
    pub ip: IpAddr,
}

impl MediaPorts {
    /// Ports `port_min..=port_max` split between `n_workers`, advertised as `ip`.
    pub fn new(port_min: u16, port_max: u16, n_workers: usize, ip: IpAddr) -> Self {
        let n = n_workers.max(1);
        MediaPorts {
            allocs: (0..n).map(|w| PortAllocator::new(port_min, port_max, w, n)).collect(),
            range: PortRange::new(port_min, port_max, n),
            next: 0,
            ip,
        }
    }

    /// The next worker to host a media session (round robin).
    pub fn pick_worker(&mut self) -> usize {
        self.next = self.next.wrapping_add(1);
        self.next % self.allocs.len()
    }

    /// RTP ports (port pairs) worker `w` can still hand out.
    pub fn available_on(&self, w: usize) -> usize {
        self.allocs.get(w).map_or(0, PortAllocator::available)
    }

    /// An RTP port (even; RTCP is the next one) of worker `w`.
    pub fn alloc_on(&mut self, w: usize) -> Option<u16> {
        self.allocs.get_mut(w)?.alloc()
    }

    /// Returns `port` to its worker's pool.
    pub fn free(&mut self, port: u16) {
        if let Some(w) = self.range.owner(port) {
            if let Some(a) = self.allocs.get_mut(w) {
                a.free(port);
            }
        }
    }
}

/// One media section of an anchored call, in offer order: our port towards each leg and
/// their remote addresses. A section that is not relayed (offered with port 0, or with
/// no address to reach) keeps its place with ports 0, so section `i` of every later
/// offer or answer is `anchors[i]`.
#[derive(Clone, Debug)]
pub struct Anchor {
    /// Worker hosting both ports.
    pub worker: u16,
    /// Our port facing the caller (leg A).
    pub port_a: u16,
    /// Our port facing the callee (leg B).
    pub port_b: u16,
    /// The caller's RTP address from its SDP.
    pub remote_a: Option<SocketAddr>,
    /// The callee's RTP address from its SDP, once answered.
    pub remote_b: Option<SocketAddr>,
    /// Relays installed on the worker.
    pub installed: bool,
}

impl Anchor {
    /// The place of a section that is not relayed.
    fn unrelayed(worker: u16) -> Anchor {
        Anchor { worker, port_a: 0, port_b: 0, remote_a: None, remote_b: None, installed: false }
    }

    /// True when the section has a relay pair (see [`Anchor`]).
    pub fn relayed(&self) -> bool {
        self.port_a != 0
    }
}

/// Why an offer was not anchored.
#[derive(Debug)]
pub enum AnchorError {
    /// The body is not valid SDP (the INVITE is answered 488).
    Sdp(String),
    /// No media port is free (the SDP is passed through).
    NoPorts,
}

/// Anchors an offer from the caller: allocates the port pairs and returns
/// them with the offer for the callee (bytes) and the offer's media sections.
/// The body is checked as the SDP parser would (RFC 8866) and patched in place.
pub fn anchor_offer(ports: &mut MediaPorts, body: &[u8]) -> Result<(Vec<Anchor>, Vec<u8>, Sections), AnchorError> {
    anchor_offer_from(ports, true, body)
}

/// [`anchor_offer`] for an offer from either leg (`from_a`: the caller): the callee's
/// offer in the 2xx to an INVITE without one (RFC 3264 4, "late offer") is anchored
/// the other way round, its addresses the callee's and the patched offer for the caller.
pub fn anchor_offer_from(ports: &mut MediaPorts, from_a: bool, body: &[u8]) -> Result<(Vec<Anchor>, Vec<u8>, Sections), AnchorError> {
    let (view, sections) = SdpView::new_valid(body).map_err(|e| AnchorError::Sdp(e.to_string()))?;
    let w = ports.pick_worker();
    let mut anchors = Vec::with_capacity(sections.len());
    let mut out_ports = [None; MAX_MEDIA];
    for (m, out) in sections.iter().zip(out_ports.iter_mut()) {
        // RFC 3264 5.1: a port 0 offers the stream disabled; it stays 0 towards the
        // answerer and gets no ports. A section with no address has nothing to relay to.
        if m.port == 0 || m.remote.is_none() {
            anchors.push(Anchor::unrelayed(w as u16));
            continue;
        }
        let (Some(pa), Some(pb)) = (ports.alloc_on(w), ports.alloc_on(w)) else {
            for a in &anchors {
                release_one(ports, a);
            }
            return Err(AnchorError::NoPorts);
        };
        let (remote_a, remote_b) = if from_a { (m.remote, None) } else { (None, m.remote) };
        anchors.push(Anchor { worker: w as u16, port_a: pa, port_b: pb, remote_a, remote_b, installed: false });
        *out = Some(if from_a { pb } else { pa });
    }
    let bytes = patch(&view, ports.ip, &out_ports);
    Ok((anchors, bytes, sections))
}

/// Commands for workers: (worker, command).
pub type Commands = Vec<(u16, ToWorker)>;

/// The relay of one leg: RTP to `remote`, RTCP to the next port (RFC 3550 11).
fn relay_spec(remote: Option<SocketAddr>, peer_port: u16) -> MediaSpec {
    MediaSpec {
        mode: MediaMode::Relay { peer_port },
        remote_rtp: remote,
        remote_rtcp: remote.map(|r| SocketAddr::new(r.ip(), r.port().wrapping_add(1))),
        latch: true,
        ..MediaSpec::echo()
    }
}

/// Anchors the callee's answer: learns the callee's addresses, returns the
/// answer for the caller and the relays to install (or update). The relays of the
/// sections the answer rejects are removed and their ports freed (RFC 3264 6: the stream
/// is off); the sections keep their places.
pub fn anchor_answer(ports: &mut MediaPorts, anchors: &mut [Anchor], body: &[u8]) -> Option<(Vec<u8>, Commands)> {
    anchor_answer_from(ports, anchors, false, body)
}

/// [`anchor_answer`] for an answer from either leg (`from_a`: the caller's answer in its
/// ACK to a 2xx that carried the callee's offer, RFC 3264 4).
pub fn anchor_answer_from(ports: &mut MediaPorts, anchors: &mut [Anchor], from_a: bool, body: &[u8]) -> Option<(Vec<u8>, Commands)> {
    let (view, sections) = SdpView::new_valid(body).ok()?;
    let mut cmds = Vec::with_capacity(2 * anchors.len());
    let mut out_ports = [None; MAX_MEDIA];
    for (i, a) in anchors.iter_mut().enumerate().filter(|(_, a)| a.relayed()) {
        let Some(remote) = sections.get(i).and_then(|m| m.remote) else {
            // RFC 3264 6: rejected (port 0, or nothing to send to): it stays 0 onwards.
            cmds.extend(drop_relay(ports, a));
            continue;
        };
        let towards_offerer = if from_a { a.port_b } else { a.port_a };
        *(if from_a { &mut a.remote_a } else { &mut a.remote_b }) = Some(remote);
        if let Some(p) = out_ports.get_mut(i) {
            *p = Some(towards_offerer);
        }
        let (sa, sb) = (relay_spec(a.remote_a, a.port_b), relay_spec(a.remote_b, a.port_a));
        if a.installed {
            cmds.push((a.worker, ToWorker::MediaUpdate { port: a.port_a, spec: sa }));
            cmds.push((a.worker, ToWorker::MediaUpdate { port: a.port_b, spec: sb }));
        } else {
            cmds.push((a.worker, ToWorker::MediaInstall { port: a.port_a, spec: sa }));
            cmds.push((a.worker, ToWorker::MediaInstall { port: a.port_b, spec: sb }));
            a.installed = true;
        }
    }
    Some((patch(&view, ports.ip, &out_ports), cmds))
}

/// Gives relay ports to the media sections an in-call offer from one leg (`from_a`:
/// the caller) adds or re-enables: a section beyond the call's anchors (video added to
/// a voice call, RFC 3264 8.1) or one offered with port 0 before and a port now (8.1: a
/// disabled slot reused).
/// Returns the relays to install: towards the offerer's address from its SDP, and
/// towards the other leg's from the answer (see [`learn_answer`]) or from its first
/// packet (latching). A section without ports left stays unrelayed (port 0 onwards).
/// The [`Added`] sections are given back if the offer fails ([`unrelay`]).
pub fn extend_for_reoffer(ports: &mut MediaPorts, anchors: &mut Vec<Anchor>, from_a: bool, body: &[u8]) -> (Commands, Added) {
    let mut added = Added::default();
    let Ok((_, sections)) = SdpView::new_valid(body) else { return (Vec::new(), added) };
    let Some(w) = anchors.first().map(|a| a.worker) else { return (Vec::new(), added) };
    let mut cmds = Vec::new();
    for (i, m) in sections.iter().enumerate() {
        if anchors.len() <= i {
            anchors.push(Anchor::unrelayed(w));
        }
        let Some(a) = anchors.get_mut(i) else { break };
        if a.relayed() || m.port == 0 || m.remote.is_none() {
            continue;
        }
        let Some(pa) = ports.alloc_on(usize::from(w)) else { break };
        let Some(pb) = ports.alloc_on(usize::from(w)) else {
            ports.free(pa);
            break;
        };
        let (remote_a, remote_b) = if from_a { (m.remote, None) } else { (None, m.remote) };
        *a = Anchor { worker: w, port_a: pa, port_b: pb, remote_a, remote_b, installed: true };
        added.insert(i);
        cmds.push((w, ToWorker::MediaInstall { port: pa, spec: relay_spec(remote_a, pb) }));
        cmds.push((w, ToWorker::MediaInstall { port: pb, spec: relay_spec(remote_b, pa) }));
    }
    (cmds, added)
}

/// A set of media sections by index (bit `i`: section `i`; an SDP body has at most
/// [`MAX_MEDIA`] sections): those an in-call offer gave relays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Added(pub u16);

const _: () = assert!(MAX_MEDIA <= 16, "Added holds one bit per section");

impl Added {
    fn insert(&mut self, i: usize) {
        self.0 |= 1u16.checked_shl(i as u32).unwrap_or(0);
    }

    fn contains(self, i: usize) -> bool {
        1u16.checked_shl(i as u32).is_some_and(|b| self.0 & b != 0)
    }

    /// True when no section is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Removes the relays of section `a` and frees their ports; it keeps its place, unrelayed.
fn drop_relay(ports: &mut MediaPorts, a: &mut Anchor) -> Commands {
    let cmds = release(ports, std::slice::from_ref(a));
    *a = Anchor::unrelayed(a.worker);
    cmds
}

/// Removes the relays of the sections in `which` and frees their ports; they keep their
/// places, unrelayed (a later offer may enable them again).
pub fn unrelay(ports: &mut MediaPorts, anchors: &mut [Anchor], which: Added) -> Commands {
    let mut cmds = Vec::new();
    for (i, a) in anchors.iter_mut().enumerate() {
        if which.contains(i) && a.relayed() {
            cmds.extend(drop_relay(ports, a));
        }
    }
    cmds
}

/// What an SDP answer (or offer) sent by one leg (`from_a`: the caller) tells the
/// relays, read in one pass: that leg's media addresses they do not know yet (relay
/// updates), and, in a final 2xx answer (`final_ok`), the relayed sections it disables
/// (port 0, RFC 3264 6 and 8.2), whose relays are removed and ports freed; those keep
/// their places, unrelayed (a later offer may enable them again).
pub fn learn_answer(ports: &mut MediaPorts, anchors: &mut [Anchor], from_a: bool, final_ok: bool, body: &[u8]) -> Commands {
    let Ok((_, sections)) = SdpView::new_valid(body) else { return Vec::new() };
    let mut cmds = Vec::new();
    for (a, m) in anchors.iter_mut().zip(sections.iter()).filter(|(a, _)| a.relayed()) {
        if final_ok && m.port == 0 {
            cmds.extend(drop_relay(ports, a));
            continue;
        }
        let (known, port, peer) = if from_a { (&mut a.remote_a, a.port_a, a.port_b) } else { (&mut a.remote_b, a.port_b, a.port_a) };
        if a.installed && known.is_none() && m.port != 0 && m.remote.is_some() {
            *known = m.remote;
            cmds.push((a.worker, ToWorker::MediaUpdate { port, spec: relay_spec(m.remote, peer) }));
        }
    }
    cmds
}

/// Rewrites an SDP body sent to `towards` inside an anchored call (a
/// re-INVITE or UPDATE offer, or its answer) so it keeps pointing at our
/// ports; the relays keep latching onto the sources they see. None when the
/// body is not SDP.
pub fn rewrite_for(ip: IpAddr, anchors: &[Anchor], towards_b: bool, body: &[u8]) -> Option<Vec<u8>> {
    let (view, sections) = SdpView::new_valid(body).ok()?;
    let mut ports = [None; MAX_MEDIA];
    for ((a, m), p) in anchors.iter().zip(sections.iter()).zip(ports.iter_mut()) {
        *p = (m.port != 0 && a.relayed()).then_some(if towards_b { a.port_b } else { a.port_a });
    }
    Some(patch(&view, ip, &ports))
}

fn release_one(ports: &mut MediaPorts, a: &Anchor) {
    if a.relayed() {
        ports.free(a.port_a);
        ports.free(a.port_b);
    }
}

/// Frees the ports of a call and removes its relays.
pub fn release(ports: &mut MediaPorts, anchors: &[Anchor]) -> Vec<(u16, ToWorker)> {
    let mut cmds = Vec::new();
    for a in anchors {
        if a.installed {
            cmds.push((a.worker, ToWorker::MediaRemove { port: a.port_a }));
            cmds.push((a.worker, ToWorker::MediaRemove { port: a.port_b }));
        }
        release_one(ports, a);
    }
    cmds
}

#[path = "anchor_fuzzing.rs"]
pub mod fuzzing;

#[cfg(test)]
#[path = "anchor_tests.rs"]
mod tests;
