//! Calls between registered UEs through ringcore acting as a B2BUA (the
//! lteims dialog model: a server dialog towards the caller, leg A, and an
//! MT dialog towards the callee, leg B).
//!
//! This first stage covers the basic call: INVITE routed to the callee's
//! registered contact (over the flow it registered on, Path honoured as
//! Route), provisional and final responses mapped back (RFC 3261 13.2.2,
//! 13.3.1), the ACK for a 2xx sent by the B2BUA on leg B (13.2.2.4), BYE
//! from either side (15.1), CANCEL (9.1/9.2: the caller's CANCEL becomes a
//! CANCEL on leg B and its 487 is relayed), Timer B (a 408 on leg A) and the
//! error mapping (404 unknown, 480 not registered, 403 unknown caller,
//! 503 when the dialog table is full). SDP bodies are relayed unchanged; media
//! anchoring, re-INVITE, UPDATE, PRACK and session timers come next.

use super::anchor::{self, Anchor, MediaPorts};
use super::reply::{reply_to, Extra};
use crate::endpoint::{Peer, ToWorker, Transport};
use crate::engine::{ConnId, SocketId};
use crate::ims::bindings::{Bindings, Flow};
use crate::ims::hss::{normalize_impu, Hss};
use crate::sip::transaction::TxId;
use crate::sip::{HeaderName, Message, Method};
use std::collections::HashMap;
use std::time::Instant;

/// Which dialog of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    /// Towards the caller (ringcore is the UAS).
    A,
    /// Towards the callee (ringcore is the UAC).
    B,
}

/// Where a call stands (seed 000 dialog states init, ringing, start, stop).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    /// INVITE sent to the callee, no answer yet.
    Init,
    /// A provisional response with a To tag came back.
    Ringing,
    /// Answered.
    Started,
    /// Ended or ending.
    Stopped,
}

/// One leg's dialog (RFC 3261 12: Call-ID, local and remote tags, remote
/// target, CSeq) and the flow it is reached by.
#[derive(Clone, Debug)]
pub(super) struct Dialog {
    pub(super) call_id: String,
    /// From header value of our requests on this leg (with our tag).
    pub(super) local: String,
    /// To header value of our requests on this leg (with the remote tag once known).
    pub(super) remote: String,
    /// Request-URI of our in-dialog requests.
    pub(super) target: String,
    /// Route headers for our requests (Path of the callee's binding, RFC 3327 5.3).
    pub(super) routes: Vec<String>,
    pub(super) cseq: u32,
    pub(super) worker: u16,
    pub(super) peer: Peer,
}

struct Call {
    state: CallState,
    a: Dialog,
    b: Dialog,
    /// The caller's INVITE (to build responses) and its server transaction.
    a_invite: Vec<u8>,
    a_tx: Option<TxId>,
    /// Branch, Via and CSeq of our INVITE on leg B (for CANCEL, RFC 3261 9.1).
    b_invite_branch: String,
    started: Instant,
    /// Anchored media sections (empty: SDP passed through).
    anchors: Vec<Anchor>,
}

/// A command for a worker.
pub type Out = (u16, ToWorker);

/// An in-dialog request relayed to the other leg, waiting for its answer.
struct Relayed {
    call: u64,
    /// The leg the request came from (its answer goes back there).
    from: Leg,
    tx: TxId,
    worker: u16,
    /// The original request, to build the relayed answer.
    req: Vec<u8>,
}

/// The calls in progress.
pub struct Calls {
    calls: HashMap<u64, Call>,
    by_call_id: HashMap<String, (u64, Leg)>,
    by_branch: HashMap<String, u64>,
    relayed: HashMap<String, Relayed>,
    local_addr: String,
    max_calls: usize,
    n_workers: usize,
    seq: u64,
}

/// Where to send requests for a registered contact, and which worker owns
/// that flow: over TCP the connection the UE registered on (TS 24.229
/// 5.2.6.3.5 keeps it), else a new one; over UDP the Contact's address when
/// it is an IP literal (RFC 3263 4 without DNS), else the REGISTER's source.
pub(super) fn route_to(contact_uri: &str, flow: &Flow, n_workers: usize) -> (u16, Peer) {
    if flow.tcp {
        return match flow.conn {
            Some(c) => (flow.worker, Peer { transport: Transport::Tcp(ConnId(c)), addr: flow.peer }),
            None => (flow.worker, Peer { transport: Transport::TcpTo, addr: flow.peer }),
        };
    }
    let addr = crate::sip::Uri::parse(contact_uri.as_bytes())
        .ok()
        .and_then(|u| {
            let host = std::str::from_utf8(u.host).ok()?.trim_start_matches('[').trim_end_matches(']');
            let ip: std::net::IpAddr = host.parse().ok()?;
            Some(std::net::SocketAddr::new(ip, u.port.unwrap_or(5060)))
        })
        .unwrap_or(flow.peer);
    // The kernel steers the callee's answers to worker steer(addr); its
    // client transaction must live there. A protected flow (IPsec: a run-time
    // socket) is served by the worker holding the UE's SAs.
    let worker = match SocketId(flow.sock).is_runtime() {
        true => flow.worker,
        false => crate::engine::steer(addr, n_workers.max(1)) as u16,
    };
    (worker, Peer { transport: Transport::Udp(SocketId(flow.sock)), addr })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tag_of(header_value: &str) -> Option<&str> {
    header_value.split(';').skip(1).find_map(|p| p.trim().strip_prefix("tag=")).map(str::trim)
}

impl Calls {
    /// An empty table of at most `max_calls` calls; `local_addr` is our `host:port`.
    pub fn new(local_addr: String, max_calls: usize, n_workers: usize) -> Self {
        Calls { calls: HashMap::new(), by_call_id: HashMap::new(), by_branch: HashMap::new(), relayed: HashMap::new(), local_addr, max_calls, n_workers, seq: 0 }
    }

    /// Calls in progress.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// True when no call is in progress.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// True when `msg` (a request) belongs to a call we know.
    pub fn owns(&self, msg: &Message<'_>) -> bool {
        msg.call_id().is_ok_and(|c| self.by_call_id.contains_key(std::str::from_utf8(c).unwrap_or("")))
    }

    /// A new INVITE (no To tag) from a caller: route it to the callee.
    #[allow(clippy::too_many_arguments)]
    pub fn on_invite(
        &mut self,
        now: Instant,
        worker: u16,
        tx: TxId,
        peer: Peer,
        msg: &Message<'_>,
        hss: &Hss,
        bindings: &Bindings,
        ports: &mut MediaPorts,
    ) -> Vec<Out> {
        let reject = |code: u16, reason: &str, why: &str| vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, code, reason, &Extra::warning(why)) })];
        let (Ok(ruri), Ok(from), Ok(to), Ok(call_id)) = (msg.request_uri(), msg.from(), msg.to(), msg.call_id()) else {
            return reject(400, "Bad Request", "malformed INVITE");
        };
        let caller = normalize_impu(&text(from.uri.raw));
        let callee = normalize_impu(&text(ruri.raw));
        // TS 24.229 5.2.6.3.1: requests from unknown identities are refused.
        if hss.impi_of_impu(&caller).is_none() {
            return reject(403, "Forbidden", &format!("unknown caller {caller}"));
        }
        if hss.impi_of_impu(&callee).is_none() {
            return reject(404, "Not Found", &format!("no subscriber {callee}"));
        }
        let Some(contact) = bindings.lookup(&callee).flat_map(|r| r.contacts.iter()).max_by_key(|c| c.q) else {
            return reject(480, "Temporarily Unavailable", &format!("{callee} is not registered"));
        };
        if self.calls.len() >= self.max_calls {
            let extra = Extra { headers: vec![("Retry-After", "5".into())], body: None };
            return vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 503, "Service Unavailable", &extra) })];
        }
        let id = self.next();
        let a_contact = msg
            .contacts()
            .find_map(|c| match c {
                Ok(crate::sip::Contact::Addr(na)) => Some(text(na.uri.raw)),
                _ => None,
            })
            .unwrap_or_else(|| text(from.uri.raw));
        let a = Dialog {
            call_id: text(call_id),
            local: format!("{};tag=rca{id:x}", text(msg.header(HeaderName::To).unwrap_or(b""))),
            remote: text(msg.header(HeaderName::From).unwrap_or(b"")),
            target: a_contact,
            routes: Vec::new(),
            cseq: 0,
            worker,
            peer,
        };
        let _ = to;
        let (b_worker, b_peer) = route_to(&contact.uri, &contact.flow, self.n_workers);
        let b = Dialog {
            call_id: format!("rc{id:x}-{:x}@{}", self.next(), self.local_addr),
            local: format!("<{caller}>;tag=rcb{id:x}"),
            remote: format!("<{callee}>"),
            target: contact.uri.clone(),
            routes: contact.path.clone(),
            cseq: 1,
            worker: b_worker,
            peer: b_peer,
        };
        let branch = format!("z9hG4bKrc{id:x}i{:x}", self.next());
        let ctype = msg.header(HeaderName::ContentType).map(text);
        let is_sdp = ctype.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("application/sdp"));
        let (anchors, body) = match (is_sdp, is_sdp.then(|| anchor::anchor_offer(ports, msg.body())).flatten()) {
            (true, Some((anchors, offer))) => (anchors, offer),
            _ => (Vec::new(), msg.body().to_vec()),
        };
        let invite = self.request(&b, "INVITE", 1, &branch, ctype.as_deref(), &body, Some(&caller));
        self.by_branch.insert(branch.clone(), id);
        self.by_call_id.insert(a.call_id.clone(), (id, Leg::A));
        self.by_call_id.insert(b.call_id.clone(), (id, Leg::B));
        let out = vec![(b.worker, ToWorker::SendRequest { peer: b.peer, msg: invite })];
        let call = Call { state: CallState::Init, a, b, a_invite: msg.buffer().to_vec(), a_tx: Some(tx), b_invite_branch: branch, started: now, anchors };
        self.calls.insert(id, call);
        out
    }

    /// Builds a request in dialog `d` (see [`build_request`]).
    #[allow(clippy::too_many_arguments)]
    fn request(&self, d: &Dialog, method: &str, cseq: u32, branch: &str, ctype: Option<&str>, body: &[u8], asserted: Option<&str>) -> Vec<u8> {
        build_request(&self.local_addr, d, method, cseq, branch, ctype, body, asserted)
    }

    /// A response to one of our requests (INVITE, BYE or CANCEL on leg B, a
    /// relayed in-dialog request on either leg).
    pub fn on_response(&mut self, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let Some(branch) = msg.via_top().ok().and_then(|v| v.branch()).map(text) else { return vec![] };
        if self.relayed.contains_key(&branch) {
            return self.on_relayed_response(&branch, msg, ports.ip);
        }
        let Some(&id) = self.by_branch.get(&branch) else { return vec![] };
        let (Some(code), Ok(cseq)) = (msg.status(), msg.cseq()) else { return vec![] };
        if !matches!(cseq.method, Method::Invite) {
            // A CANCEL shares its INVITE's branch (RFC 3261 9.1): keep the
            // mapping for the INVITE's 487; a BYE's answer ends the call.
            if code >= 200 && matches!(cseq.method, Method::Bye) {
                self.by_branch.remove(&branch);
                self.gc(id);
            }
            return vec![];
        }
        let Some(call) = self.calls.get_mut(&id) else { return vec![] };
        let mut out = Vec::new();
        if let Some(tag) = msg.header(HeaderName::To).map(text).as_deref().and_then(tag_of) {
            if !call.b.remote.contains(";tag=") {
                call.b.remote = format!("{};tag={tag}", call.b.remote);
            }
        }
        if let Some(Ok(crate::sip::Contact::Addr(na))) = msg.contacts().next() {
            call.b.target = text(na.uri.raw);
        }
        if code == 100 {
            return out;
        }
        let a_invite = call.a_invite.clone();
        let Ok(req) = Message::parse(&a_invite) else { return out };
        let body = msg.body();
        let ctype = msg.header(HeaderName::ContentType).map(text);
        let reason = text(msg.reason().unwrap_or(b"")).to_owned();
        let mut extra = Extra::default();
        extra.headers.push(("Contact", format!("<sip:ringcore@{}>", self.local_addr)));
        let mut media_cmds = Vec::new();
        if let (Some(ct), false) = (&ctype, body.is_empty()) {
            // The callee's SDP answer goes to the caller pointing at our ports.
            let anchored = if call.anchors.is_empty() { None } else { anchor::anchor_answer(ports.ip, &mut call.anchors, body) };
            let body = match anchored {
                Some((answer, cmds)) => {
                    media_cmds = cmds;
                    answer
                }
                None => body.to_vec(),
            };
            extra.body = Some((ct.clone(), body));
        }
        let local_tag = tag_of(&call.a.local).unwrap_or("").to_owned();
        let resp = super::reply::reply_to_tagged(&req, code, &reason, &extra, &local_tag);
        out.extend(media_cmds);
        if let Some(tx) = call.a_tx {
            out.push((call.a.worker, ToWorker::Respond { tx, msg: resp }));
        }
        match code {
            101..=199 => call.state = CallState::Ringing,
            200..=299 => {
                call.state = CallState::Started;
                call.a_tx = None;
                // RFC 3261 13.2.2.4: the UAC acknowledges the 2xx itself.
                let ack_branch = format!("z9hG4bKrc{id:x}a{:x}", self.seq + 1);
                self.seq += 1;
                let call = &self.calls[&id];
                let ack = self.request(&call.b, "ACK", 1, &ack_branch, None, b"", None);
                out.push((call.b.worker, ToWorker::SendStateless { peer: call.b.peer, msg: ack }));
            }
            _ => {
                call.state = CallState::Stopped;
                call.a_tx = None;
                out.extend(anchor::release(ports, &call.anchors));
                call.anchors.clear();
                self.by_branch.remove(&branch);
                self.remove(id);
            }
        }
        out
    }

    /// A 2xx retransmission on leg B without a transaction: ACK it again.
    pub fn on_stray_2xx(&mut self, msg: &Message<'_>) -> Vec<Out> {
        let Some(branch) = msg.via_top().ok().and_then(|v| v.branch()).map(text) else { return vec![] };
        let Some(call) = self.by_branch.get(&branch).and_then(|id| self.calls.get(id)) else { return vec![] };
        let ack = self.request(&call.b, "ACK", 1, &format!("{branch}a"), None, b"", None);
        vec![(call.b.worker, ToWorker::SendStateless { peer: call.b.peer, msg: ack })]
    }

    /// A request inside a known dialog: ACK, BYE; others are answered 501 for now.
    pub fn on_in_dialog(&mut self, worker: u16, tx: Option<TxId>, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let Some(&(id, leg)) = msg.call_id().ok().and_then(|c| self.by_call_id.get(std::str::from_utf8(c).unwrap_or(""))) else {
            return vec![];
        };
        let Some(tx) = tx else { return vec![] }; // ACK for our 2xx (RFC 3261 13.3.1.4): nothing more to do
        match msg.method() {
            Some(Method::Bye) => {
                let mut out = vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 200, "OK", &Extra::default()) })];
                if let Some(call) = self.calls.get_mut(&id) {
                    out.extend(anchor::release(ports, &call.anchors));
                    call.anchors.clear();
                }
                out.extend(self.hang_up(id, leg));
                out
            }
            Some(Method::Prack) => {
                // ringcore never asks the callee for reliable provisional
                // responses (RFC 3262), so there is nothing to acknowledge.
                let warn = Extra::warning("no reliable provisional response to acknowledge");
                vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 481, "Call/Transaction Does Not Exist", &warn) })]
            }
            _ => self.relay(id, leg, worker, tx, msg, ports.ip),
        }
    }

    /// RFC 3261 12.2.1.1: an in-dialog request (re-INVITE for hold, UPDATE,
    /// INFO, MESSAGE, ...) becomes the same request in the other leg's dialog;
    /// its answer comes back through [`Calls::on_relayed_response`].
    fn relay(&mut self, id: u64, from: Leg, worker: u16, tx: TxId, msg: &Message<'_>, ip: std::net::IpAddr) -> Vec<Out> {
        let branch = format!("z9hG4bKrc{id:x}r{:x}", self.next());
        let Some(call) = self.calls.get_mut(&id) else { return vec![] };
        let other = if from == Leg::A { &mut call.b } else { &mut call.a };
        other.cseq += 1;
        let d = other.clone();
        let method = text(msg.method().map(|m| m.as_bytes()).unwrap_or(b"INFO"));
        let ctype = msg.header(HeaderName::ContentType).map(text);
        let body = sdp_for(ip, &call.anchors, from == Leg::A, ctype.as_deref(), msg.body());
        let req = self.request(&d, &method, d.cseq, &branch, ctype.as_deref(), &body, None);
        self.relayed.insert(branch, Relayed { call: id, from, tx, worker, req: msg.buffer().to_vec() });
        vec![(d.worker, ToWorker::SendRequest { peer: d.peer, msg: req })]
    }

    /// The answer to a relayed request goes back to where the request came
    /// from; a 2xx to a re-INVITE is acknowledged on our side (13.2.2.4).
    fn on_relayed_response(&mut self, branch: &str, msg: &Message<'_>, ip: std::net::IpAddr) -> Vec<Out> {
        let Some(code) = msg.status() else { return vec![] };
        if code == 100 {
            return vec![];
        }
        let Some(r) = self.relayed.get(branch) else { return vec![] };
        let (call_id, from, tx, worker) = (r.call, r.from, r.tx, r.worker);
        let Ok(req) = Message::parse(&r.req) else { return vec![] };
        let mut extra = Extra::default();
        if matches!(req.method(), Some(Method::Invite) | Some(Method::Update)) {
            extra.headers.push(("Contact", format!("<sip:ringcore@{}>", self.local_addr)));
        }
        if let (Some(ct), false) = (msg.header(HeaderName::ContentType), msg.body().is_empty()) {
            let ct = text(ct);
            let anchors = self.calls.get(&call_id).map(|c| c.anchors.as_slice()).unwrap_or(&[]);
            // The answer travels back towards the leg the request came from.
            let body = sdp_for(ip, anchors, from == Leg::B, Some(&ct), msg.body());
            extra.body = Some((ct, body));
        }
        let reason = text(msg.reason().unwrap_or(b""));
        let mut out = vec![(worker, ToWorker::Respond { tx, msg: reply_to(&req, code, &reason, &extra) })];
        if code >= 200 {
            let is_invite = matches!(req.method(), Some(Method::Invite));
            self.relayed.remove(branch);
            if is_invite && (200..300).contains(&code) {
                if let Some(call) = self.calls.get(&call_id) {
                    let other = if from == Leg::A { &call.b } else { &call.a };
                    let cseq = msg.cseq().map(|c| c.seq).unwrap_or(other.cseq);
                    let ack = self.request(other, "ACK", cseq, &format!("{branch}a"), None, b"", None);
                    out.push((other.worker, ToWorker::SendStateless { peer: other.peer, msg: ack }));
                }
            }
        }
        out
    }

    /// `from` hung up: send BYE on the other leg and forget the call.
    fn hang_up(&mut self, id: u64, from: Leg) -> Vec<Out> {
        let branch = format!("z9hG4bKrc{id:x}b{:x}", self.next());
        let Some(call) = self.calls.get_mut(&id) else { return vec![] };
        call.state = CallState::Stopped;
        let other = if from == Leg::A { &mut call.b } else { &mut call.a };
        other.cseq += 1;
        let d = other.clone();
        let bye = self.request(&d, "BYE", d.cseq, &branch, None, b"", None);
        self.by_branch.insert(branch, id);
        self.remove_dialogs(id);
        vec![(d.worker, ToWorker::SendRequest { peer: d.peer, msg: bye })]
    }

    /// The caller cancelled: RFC 3261 9.1 CANCEL on leg B with the INVITE's
    /// Via branch, Request-URI, Call-ID, From, To and CSeq number.
    pub fn on_cancelled(&mut self, target: TxId) -> Vec<Out> {
        let Some((_, call)) = self.calls.iter().find(|(_, c)| c.a_tx == Some(target)) else { return vec![] };
        if call.state == CallState::Started {
            return vec![];
        }
        let mut b = call.b.clone();
        b.remote = b.remote.split(";tag=").next().unwrap_or("").to_owned();
        let cancel = self.request(&b, "CANCEL", 1, &call.b_invite_branch, None, b"", None);
        vec![(b.worker, ToWorker::SendRequest { peer: b.peer, msg: cancel })]
    }

    fn remove_dialogs(&mut self, id: u64) {
        if let Some(c) = self.calls.get(&id) {
            self.by_call_id.remove(&c.a.call_id);
            self.by_call_id.remove(&c.b.call_id);
        }
    }

    fn remove(&mut self, id: u64) {
        self.remove_dialogs(id);
        if let Some(c) = self.calls.remove(&id) {
            self.by_branch.remove(&c.b_invite_branch);
        }
    }

    /// Forgets a stopped call once nothing refers to it any more.
    fn gc(&mut self, id: u64) {
        let stopped = self.calls.get(&id).is_some_and(|c| c.state == CallState::Stopped);
        if stopped && !self.by_branch.values().any(|&v| v == id) {
            self.remove(id);
        }
    }

    /// How long the oldest call has existed (for stats).
    pub fn oldest(&self, now: Instant) -> Option<std::time::Duration> {
        self.calls.values().map(|c| now.saturating_duration_since(c.started)).max()
    }
}

/// The body to forward: SDP rewritten to our anchored ports (towards leg B
/// when `towards_b`), anything else unchanged.
fn sdp_for(ip: std::net::IpAddr, anchors: &[Anchor], towards_b: bool, ctype: Option<&str>, body: &[u8]) -> Vec<u8> {
    let is_sdp = ctype.is_some_and(|c| c.eq_ignore_ascii_case("application/sdp"));
    if !is_sdp || anchors.is_empty() || body.is_empty() {
        return body.to_vec();
    }
    anchor::rewrite_for(ip, anchors, towards_b, body).unwrap_or_else(|| body.to_vec())
}

/// Builds a request in dialog `d` (RFC 3261 12.2.1.1): Request-URI = remote
/// target, Route set, From/To/Call-ID of the dialog, our Via; a Contact on
/// INVITEs (8.1.1.8), P-Asserted-Identity when `asserted` is given. Shared by
/// the call legs and the MT calls.
#[allow(clippy::too_many_arguments)]
pub(super) fn build_request(local_addr: &str, d: &Dialog, method: &str, cseq: u32, branch: &str, ctype: Option<&str>, body: &[u8], asserted: Option<&str>) -> Vec<u8> {
    let transport = if d.peer.is_reliable() { "TCP" } else { "UDP" };
    let mut m = format!(
        "{method} {target} SIP/2.0\r\nVia: SIP/2.0/{transport} {local};branch={branch}\r\nMax-Forwards: 70\r\n",
        target = d.target,
        local = local_addr
    );
    for r in &d.routes {
        m.push_str(&format!("Route: {r}\r\n"));
    }
    m.push_str(&format!("From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n", d.local, d.remote, d.call_id));
    if method == "INVITE" {
        m.push_str(&format!("Contact: <sip:ringcore@{}>\r\n", local_addr));
    }
    if let Some(id) = asserted {
        // TS 24.229 5.4.3.3: the served user's asserted identity.
        m.push_str(&format!("P-Asserted-Identity: <{id}>\r\n"));
    }
    if let Some(ct) = ctype.filter(|_| !body.is_empty()) {
        m.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    m.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut v = m.into_bytes();
    v.extend_from_slice(body);
    v
}

/// Read-only views for the remote API (dialog_get, dialog events).
impl Calls {
    /// Every call in progress as an API dialog (type "server").
    pub(super) fn dialog_infos(&self) -> Vec<super::dialog_info::DialogInfo> {
        use super::dialog_info::{without_tag, DialogInfo};
        self.calls
            .values()
            .map(|c| DialogInfo {
                session_id: c.a.call_id.clone(),
                state: match c.state {
                    CallState::Init => "init",
                    CallState::Ringing => "ringing",
                    CallState::Started => "start",
                    CallState::Stopped => "stop",
                },
                kind: "server",
                from: without_tag(&c.a.remote),
                to: without_tag(&c.a.local),
                created: Some(c.started),
            })
            .collect()
    }
}
