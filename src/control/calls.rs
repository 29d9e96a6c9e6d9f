//! Calls between registered UEs through ringcore acting as a B2BUA (the
//! lteims dialog model: a server dialog towards the caller, leg A, and an
//! MT dialog towards the callee, leg B).
//!
//! The INVITE is routed to the callee's registered contact (over the flow
//! it registered on, Path honoured as Route); provisional and final
//! responses are mapped back (RFC 3261 13.2.2, 13.3.1), the ACK for a 2xx
//! is sent by the B2BUA on leg B (13.2.2.4), BYE from either side (15.1),
//! CANCEL (9.1/9.2), in-dialog requests (re-INVITE, UPDATE in early and
//! confirmed dialogs, PRACK with its RAck mapped, INFO, ...) are relayed to
//! the other leg, media is anchored (see `anchor`); an offer in a 2xx is
//! answered in our ACK once the requester's ACK brings the answer
//! (`calls_late_offer`, RFC 3264 4). Reliable provisional
//! responses travel end to end with their RSeq (RFC 3262). Session timers
//! (RFC 4028): 422 below Min-SE, Session-Expires/Min-SE asked on leg B, the
//! negotiated interval watched, BYE to both legs when no refresh came.
//! Bounds: 404/480/403 mapping, 503 with Retry-After when the table is
//! full, 488 for malformed SDP, 408 after `dialog_timeout` unanswered.

use super::anchor::{self, Anchor, MediaPorts};
use super::call_policy::CallPolicy;
use super::ids::{self, Part};
use super::prack;
use super::retransmit::{AckDue, AwaitingAck};
use super::precondition::Qos;
use crate::config::typed::Precondition;
use super::reply::{reply_to, Extra};
use super::session_timer::{self, Check, SessionTimer};
use crate::config::typed::Refresher;
use crate::stats::latency::{Latencies, LatencyKind};
use crate::endpoint::{Peer, ToWorker, Transport};
use crate::engine::{ConnId, SocketId};
use crate::ims::bindings::{Bindings, Flow};
use crate::ims::hss::{normalize_impu, Hss};
use crate::ims::terminating;
use crate::sip::transaction::TxId;
use crate::sip::{HeaderName, Message, Method};
use std::cmp::Reverse;
use super::fast_hash::FastMap;
use std::collections::BinaryHeap;
use std::time::Instant;

#[cfg(test)]
#[path = "calls_tests.rs"]
mod tests;
#[path = "calls_timeout.rs"]
mod timeout;
#[path = "calls_modifier.rs"]
mod modifier;
#[path = "calls_trunk.rs"]
mod trunk;
#[path = "calls_reoffer.rs"]
mod reoffer;
#[path = "calls_relay.rs"]
mod relay;
#[path = "calls_build.rs"]
mod build;
#[path = "calls_late_offer.rs"]
mod late_offer;
#[path = "calls_fork.rs"]
mod fork;
#[path = "calls_answer.rs"]
mod answer;
#[path = "calls_serial.rs"]
mod serial;
use late_offer::HeldAck;
pub(super) use build::{build_request, build_request_ext, decimal, itoa_buf, Headers};
use build::{b_leg_options, caller_imei, copy_headers, has_sdp, is_sdp, sdp_for, tokens_except};

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
    /// Where our tag starts in `a.local` (minted at its end by [`Calls::on_invite`]).
    a_tag_at: usize,
    b: Dialog,
    /// The callee's tag was added to `b.remote`.
    b_tagged: bool,
    /// The caller's INVITE (to build responses) and its server transaction. Shared: each
    /// relayed response re-reads it while the call is borrowed, without a copy or a parse.
    a_invite: std::sync::Arc<crate::sip::StoredMessage>,
    a_tx: Option<TxId>,
    /// Branch, Via and CSeq of our INVITE on leg B (for CANCEL, RFC 3261 9.1); the
    /// current fork's when forked.
    b_invite_branch: String,
    /// That INVITE's Request-URI: a CANCEL repeats it (RFC 3261 9.1), while a target
    /// refresh by an 18x (12.1.2) changes `b.target`.
    b_invite_target: String,
    /// The INVITEs to each of the callee's UEs when there are several ([`fork`]).
    forks: fork::Forks,
    /// The callee's UEs of lower q, tried if those called fail ([`serial`]).
    serial: Option<Box<serial::Serial>>,
    started: Instant,
    /// Anchored media sections (empty: SDP passed through).
    anchors: Vec<Anchor>,
    /// The caller supports session timers (RFC 4028 `timer`).
    a_timer: bool,
    /// Session-Expires requested on leg B (interval, refresher).
    se: Option<(u32, Option<Refresher>)>,
    /// Session timer watchdog once answered (RFC 4028 10).
    timer: Option<SessionTimer>,
    /// A 180 was relayed (latency recorded).
    rang: bool,
    /// QoS state per offered media (RFC 3312).
    qos: Qos,
    /// Normalised caller and callee IMPUs (callflow_modifier owner and counterpart).
    caller: String,
    callee: String,
    /// The IMEI the caller registered with, when a modifier matches on `imei`.
    caller_imei: Option<String>,
    /// The 2xx relayed to the leg that sent the (re-)INVITE, retransmitted until its ACK
    /// (RFC 3261 13.3.1.4).
    unacked: Option<(Leg, AwaitingAck)>,
    /// Our ACK for a 2xx that carried an offer, waiting for the answer ([`HeldAck`]).
    held_ack: Option<HeldAck>,
    /// The ACK sent on leg B when it carried an answer (repeated for a retransmitted
    /// 2xx); None: the ACK is built again.
    b_ack: Option<Vec<u8>>,
}

impl Call {
    /// Our tag on leg A (RFC 3261 12.1.1, the To tag of our responses).
    fn a_tag(&self) -> &str {
        self.a.local.get(self.a_tag_at..).unwrap_or("")
    }

    /// The next instant this call needs attention: the session timer once
    /// answered, `dialog_timeout` after the INVITE while unanswered, or sooner the
    /// instant its silent forks are given up (`calls_fork.rs`, T1 the SIP timer).
    fn deadline(&self, dialog_timeout: std::time::Duration, t1: std::time::Duration) -> Option<Instant> {
        match self.state {
            CallState::Init | CallState::Ringing => {
                let timeout = self.started + dialog_timeout;
                Some(self.forks.silent_deadline(t1).map_or(timeout, |t| t.min(timeout)))
            }
            CallState::Started => {
                let ack = self.unacked.as_ref().map(|(_, u)| u.poll_timeout());
                [self.timer.map(|t| t.poll_timeout()), ack].into_iter().flatten().min()
            }
            CallState::Stopped => None,
        }
    }
}

/// A new INVITE as the control thread received it: when, from which worker, its server
/// transaction, the peer it came from and the parsed message.
#[derive(Clone, Copy)]
pub struct Incoming<'a, 'm> {
    /// Arrival time.
    pub now: Instant,
    /// The worker that received it (and answers it).
    pub worker: u16,
    /// Its server transaction.
    pub tx: TxId,
    /// The sender.
    pub peer: Peer,
    /// The request.
    pub msg: &'a Message<'m>,
}

/// Where an initial INVITE goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Normalised IMPU of the callee (or the user to reach over the trunk).
    pub callee: String,
    /// The caller needs not be a known subscriber (trunk, emergency call).
    pub trusted: bool,
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
    /// Sections its offer gave relays: given back if it fails.
    added: anchor::Added,
}

/// The calls in progress.
pub struct Calls {
    // The control thread's keyed hash (seeded per map): fewer instructions per lookup
    // than SipHash, several lookups per message.
    calls: FastMap<u64, Call>,
    by_call_id: FastMap<String, (u64, Leg)>,
    relayed: FastMap<String, Relayed>,
    local_addr: String,
    /// `<sip:ringcore@local_addr>`, the Contact of our responses (built once).
    contact: String,
    max_calls: usize,
    n_workers: usize,
    seq: u64,
    policy: CallPolicy,
    /// Call deadlines, lazily invalidated (a popped entry is checked
    /// against the call's current [`Call::deadline`]).
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Final responses sent to callers' initial INVITEs, by status (the calls' outcomes;
    /// at most 600 keys).
    pub outcomes: std::collections::BTreeMap<u16, u64>,
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
    lossy(b).into_owned()
}

/// `b` as text, borrowed when it is UTF-8 (as it nearly always is): for values only read.
/// The plain check first: it costs less than `from_utf8_lossy`'s chunk walk.
fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// Our Via branch for request `kind` (`i` INVITE, `r` relayed, `b` BYE, `a` ACK, `o`
/// re-offer) of call `id`, `seq` the call table's counter: RFC 3261 8.1.1.7, the magic
/// cookie, then `rc<id hex><kind><seq hex>.<instance>` (see [`ids::BRANCH_SMS`]).
fn branch_for(id: u64, kind: &str, seq: u64) -> String {
    ids::mint(&[Part::Str(ids::BRANCH_CALL), Part::Hex(id), Part::Str(kind), Part::Hex(seq), Part::Str("."), Part::Str(ids::instance())])
}

/// The call number written in `branch` by [`branch_for`] for a request of `kind` (a letter
/// that is no hex digit: `i`, `r`, `o`); None for any other branch.
fn call_of_branch(branch: &str, kind: u8) -> Option<u64> {
    let rest = branch.strip_prefix(ids::BRANCH_CALL)?;
    let mut id: u64 = 0;
    for (i, b) in rest.bytes().enumerate() {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            // The kind letter ends the number.
            k if k == kind && i > 0 => return Some(id),
            _ => return None,
        };
        id = id.checked_mul(16)?.checked_add(u64::from(digit))?;
    }
    None
}

/// The `branch` parameter of the top Via of `msg` (RFC 3261 8.1.1.7), read as the
/// worker's transaction views read it ([`crate::sip::via_branch`]).
pub(super) fn top_branch<'a>(msg: &Message<'a>) -> Option<&'a [u8]> {
    msg.header_values(HeaderName::Via).next().and_then(crate::sip::via_branch)
}

/// `value` is exactly `<uri>`.
fn is_bracketed(value: Option<&[u8]>, uri: &str) -> bool {
    value.and_then(|v| v.strip_prefix(b"<")).and_then(|v| v.strip_suffix(b">")).is_some_and(|v| v == uri.as_bytes())
}

fn tag_of(header_value: &str) -> Option<&str> {
    header_value.split(';').skip(1).find_map(|p| p.trim().strip_prefix("tag=")).map(str::trim)
}

impl Calls {
    /// An empty table of at most `max_calls` calls; `local_addr` is our `host:port`.
    pub fn new(local_addr: String, max_calls: usize, n_workers: usize) -> Self {
        Calls {
            calls: FastMap::default(),
            by_call_id: FastMap::default(),
            relayed: FastMap::default(),
            contact: ids::mint(&[Part::Str("<sip:ringcore@"), Part::Str(&local_addr), Part::Str(">")]),
            local_addr,
            max_calls,
            n_workers,
            seq: 0,
            policy: CallPolicy::default(),
            deadlines: BinaryHeap::new(),
            outcomes: std::collections::BTreeMap::new(),
        }
    }

    /// Counts a call's outcome: the final status sent to the caller's INVITE.
    pub(super) fn count_outcome(&mut self, code: u16) {
        if (200..700).contains(&code) {
            *self.outcomes.entry(code).or_insert(0) += 1;
        }
    }

    /// Replaces the global and per-IMPU call settings.
    pub fn set_policy(&mut self, policy: CallPolicy) {
        self.policy = policy;
    }

    fn schedule(&mut self, id: u64) {
        if let Some(t) = self.calls.get(&id).and_then(|c| c.deadline(self.policy.dialog_timeout, self.policy.t1)) {
            self.deadlines.push(Reverse((t, id)));
        }
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

    /// A new INVITE (no To tag) from a caller: route it to the callee named
    /// by its Request-URI; requests from the trunk's address need no known caller.
    #[allow(clippy::too_many_arguments)]
    pub fn on_invite(&mut self, inv: Incoming<'_, '_>, hss: &Hss, bindings: &Bindings, ports: &mut MediaPorts) -> Vec<Out> {
        // The raw Request-URI (`Uri::raw`): `route_invite` parses it, refusing a bad one.
        let callee = inv.msg.request_uri_raw().map(|u| normalize_impu(&lossy(u))).unwrap_or_default();
        // seed 000 trunk: "SIP trunk must accept non authenticated requests", and so do we from it.
        let trusted = self.policy.trunk.as_ref().is_some_and(|t| t.addr.ip() == inv.peer.addr.ip());
        self.on_invite_routed(inv, hss, bindings, ports, Route { callee, trusted })
    }

    /// The current call settings.
    pub fn policy(&self) -> &CallPolicy {
        &self.policy
    }

    /// The callflow modifiers (their ttl counts change as they fire).
    pub fn modifiers_mut(&mut self) -> &mut super::callflow::Modifiers {
        &mut self.policy.modifiers
    }

    /// A new INVITE routed to `route.callee` (the emergency target, or the
    /// Request-URI's user): a registered IMPU, else the trunk. A refusal (403, 404,
    /// 480, 503...) counts as the call's outcome.
    pub fn on_invite_routed(&mut self, inv: Incoming<'_, '_>, hss: &Hss, bindings: &Bindings, ports: &mut MediaPorts, route: Route) -> Vec<Out> {
        let tx = inv.tx;
        let out = self.route_invite(inv, hss, bindings, ports, route);
        for (_, cmd) in &out {
            if let ToWorker::Respond { tx: t, msg } = cmd {
                if *t == tx {
                    let code = msg.get(8..11).and_then(|c| std::str::from_utf8(c).ok()).and_then(|c| c.parse().ok());
                    self.count_outcome(code.unwrap_or(0));
                }
            }
        }
        out
    }

    fn route_invite(&mut self, inv: Incoming<'_, '_>, hss: &Hss, bindings: &Bindings, ports: &mut MediaPorts, route: Route) -> Vec<Out> {
        let Incoming { now, worker, tx, peer, msg } = inv;
        let reject = |code: u16, reason: &str, why: &str| vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, code, reason, &Extra::warning(why)) })];
        // The To is only needed present: the worker's `Message::validate` refused a
        // malformed one (400) before the request reached this thread.
        let (Ok(ruri), Ok(from), Some(_), Ok(call_id)) = (msg.request_uri(), msg.from(), msg.header(HeaderName::To), msg.call_id()) else {
            return reject(400, "Bad Request", "malformed INVITE");
        };
        // E.164: another form of a configured number is the configured identity (impu.rs).
        let caller = hss.canonical(normalize_impu(&lossy(from.uri.raw)));
        let callee = hss.canonical(route.callee);
        // TS 24.229 5.2.6.3.1: requests from unknown identities are refused
        // (not those of the trunk, nor allowed emergency calls).
        if !route.trusted && hss.impi_of_impu(&caller).is_none() {
            return reject(403, "Forbidden", &format!("unknown caller {caller}"));
        }
        // seed 000 session_expires/100rel: "if IMS is the server (MO call), the caller configuration is used".
        let pol = *self.policy.for_impu(&caller);
        if !pol.rel100 && prack::peer_requires_100rel(msg) {
            // RFC 3261 8.2.2.3: an extension we do not do is refused with 420.
            let extra = Extra { headers: vec![("Unsupported", "100rel".into())], body: None };
            return vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 420, "Bad Extension", &extra) })];
        }
        if pol.precondition == Precondition::Off && msg.has_token(HeaderName::Require, b"precondition") {
            // seed 000 precondition off: no precondition handling (RFC 3312 11: 420).
            let extra = Extra { headers: vec![("Unsupported", "precondition".into())], body: None };
            return vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 420, "Bad Extension", &extra) })];
        }
        let se_check = session_timer::check_request(&pol.session, msg);
        if let Check::TooSmall(min) = se_check {
            // RFC 4028 8.1: 422 Session Interval Too Small, with our Min-SE.
            let extra = Extra { headers: vec![("Min-SE", min.to_string())], body: None };
            return vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 422, "Session Interval Too Small", &extra) })];
        }
        // The callee's UEs when it is a subscriber: the first is called, and the others too
        // when there are several (calls_fork.rs).
        let mut groups = Vec::new();
        let (target, target_routes, (b_worker, b_peer), to_trunk) = if hss.impi_of_impu(&callee).is_none() {
            // seed 000 trunk: calls to unknown users are forwarded to the trunk
            // (not back to it: a loop would answer 404 there).
            match self.policy.trunk.as_ref().filter(|t| t.addr.ip() != peer.addr.ip()) {
                Some(t) => (trunk::request_uri(t, &callee), Vec::new(), trunk::route(t, peer, self.n_workers), true),
                None => return reject(404, "Not Found", &format!("no subscriber {callee}")),
            }
        } else {
            let imei = hss.imei_filter(&callee);
            groups = terminating::groups(bindings, &callee, imei);
            let Some(contact) = groups.first().and_then(|g| g.first()) else {
                let ue = imei.map(|i| format!(" from the UE of IMEI {i}")).unwrap_or_default();
                return reject(480, "Temporarily Unavailable", &format!("{callee} is not registered{ue}"));
            };
            (contact.uri.clone(), contact.path.clone(), route_to(&contact.uri, &contact.flow, self.n_workers), false)
        };
        // Towards the trunk the To names the callee in the trunk's domain.
        let b_to = if to_trunk { target.clone() } else { callee.clone() };
        if self.calls.len() >= self.max_calls {
            // RFC 3261 21.5.4: overload; Retry-After tells when to come back.
            let extra = Extra { headers: vec![("Retry-After", "5".into())], body: None };
            return vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 503, "Service Unavailable", &extra) })];
        }
        let ctype = msg.header(HeaderName::ContentType).map(lossy);
        let anchored = match has_sdp(msg) {
            true => match anchor::anchor_offer(ports, msg.body()) {
                // RFC 3261 21.4.26: 488 with a Warning saying what is wrong.
                Err(anchor::AnchorError::Sdp(e)) => return reject(488, "Not Acceptable Here", &format!("malformed SDP: {e}")),
                Err(anchor::AnchorError::NoPorts) => None,
                Ok(a) => Some(a),
            },
            false => None,
        };
        let id = self.next();
        let a_contact = msg
            .contacts()
            .find_map(|c| match c {
                Ok(crate::sip::Contact::Addr(na)) => Some(text(na.uri.raw)),
                _ => None,
            })
            .unwrap_or_else(|| text(from.uri.raw));
        let to_value = lossy(msg.header(HeaderName::To).unwrap_or(b""));
        let a_tag_at = to_value.len() + ";tag=".len();
        let a = Dialog {
            call_id: text(call_id),
            local: ids::mint(&[Part::Str(&to_value), Part::Str(";tag=rca"), Part::Hex(id), Part::Str("."), Part::Str(ids::instance())]),
            remote: text(msg.header(HeaderName::From).unwrap_or(b"")),
            target: a_contact,
            routes: Vec::new(),
            cseq: 0,
            worker,
            peer,
        };
        let inst = ids::instance();
        let b = Dialog {
            call_id: self.b_call_id(id),
            local: ids::mint(&[Part::Str("<"), Part::Str(&caller), Part::Str(">;tag=rcb"), Part::Hex(id), Part::Str("."), Part::Str(inst)]),
            remote: ids::mint(&[Part::Str("<"), Part::Str(&b_to), Part::Str(">")]),
            target,
            routes: target_routes,
            cseq: 1,
            worker: b_worker,
            peer: b_peer,
        };
        let branch = branch_for(id, "i", self.next());
        // RFC 3312: the QoS state of each offered media; without an Rx peer
        // our local resources count as reserved at once.
        let mut qos = Qos { media: Vec::new() };
        if let Some((_, _, sd)) = &anchored {
            qos = Qos::from_sections(pol.precondition, sd);
            qos.reserve_local();
        }
        let (anchors, body) = anchored.map(|(a, b, _)| (a, b)).unwrap_or_else(|| (Vec::new(), msg.body().to_vec()));
        let se = match se_check {
            Check::Use { interval, refresher, min_se } => Some((interval, refresher, min_se)),
            _ => None,
        };
        let mut headers = b_leg_options(msg, pol.rel100, pol.precondition != Precondition::Off, se);
        // TS 24.229 5.4.3.2 / RFC 3455 4.2: the called identity, when configured.
        if let Some(v) = self.policy.called_party.header(&callee, &text(ruri.raw)).filter(|_| !to_trunk) {
            headers.push(("P-Called-Party-ID", v));
        }
        let local_addr = self.local_addr.clone();
        let build = |d: &Dialog, branch: &str| build_request_ext(&local_addr, d, "INVITE", 1, branch, ctype.as_deref(), &body, Some(&caller), &headers);
        // RFC 3261 16.6: the best q's UEs now (forked), those of lower q if they all fail.
        let targets = |g: &Vec<&crate::ims::bindings::Contact>, skip: usize| -> Vec<fork::Target> { g.iter().skip(skip).take(fork::MAX_FORKS - skip).map(|c| fork::Target::from(*c)).collect() };
        let others = groups.first().map(|g| targets(g, 1)).unwrap_or_default();
        let later: Vec<_> = groups.iter().skip(1).take(serial::MAX_LATER_GROUPS).map(|g| targets(g, 0)).collect();
        let serial = serial::Serial::new(later, ctype.as_deref(), &body, &headers);
        let (forks, out) = self.invite(now, id, &b, &branch, &others, build);
        self.by_call_id.insert(a.call_id.clone(), (id, Leg::A));
        self.by_call_id.insert(b.call_id.clone(), (id, Leg::B));
        let b_invite_target = b.target.clone();
        let call = Call {
            state: CallState::Init,
            a,
            a_tag_at,
            b,
            b_tagged: false,
            a_invite: std::sync::Arc::new(crate::sip::StoredMessage::new(msg)),
            a_tx: Some(tx),
            b_invite_branch: branch,
            b_invite_target,
            forks,
            serial,
            started: now,
            anchors,
            a_timer: session_timer::supports(msg, b"timer"),
            se: se.map(|(i, r, _)| (i, r)),
            timer: None,
            rang: false,
            qos,
            caller_imei: self.policy.modifiers.uses_imei().then(|| caller_imei(bindings, &caller)).flatten(),
            unacked: None,
            held_ack: None,
            b_ack: None,
            caller,
            callee,
        };
        self.calls.insert(id, call);
        self.schedule(id);
        out
    }

    /// A new Call-ID for leg B of call `id`.
    fn b_call_id(&mut self, id: u64) -> String {
        let seq = self.next();
        ids::mint(&[Part::Str("rc"), Part::Hex(id), Part::Str("-"), Part::Hex(seq), Part::Str("."), Part::Str(ids::instance()), Part::Str("@"), Part::Str(&self.local_addr)])
    }

    /// Builds a request in dialog `d` (see [`build_request`]).
    #[allow(clippy::too_many_arguments)]
    fn request(&self, d: &Dialog, method: &str, cseq: u32, branch: &str, ctype: Option<&str>, body: &[u8], asserted: Option<&str>) -> Vec<u8> {
        build_request(&self.local_addr, d, method, cseq, branch, ctype, body, asserted)
    }

    /// A request inside a known dialog: ACK, BYE; others are answered 501 for now.
    pub fn on_in_dialog(&mut self, worker: u16, tx: Option<TxId>, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let Some(&(id, leg)) = msg.call_id().ok().and_then(|c| self.by_call_id.get(std::str::from_utf8(c).unwrap_or(""))) else {
            return vec![];
        };
        let Some(tx) = tx else {
            // The ACK for the 2xx relayed to this leg (RFC 3261 13.3.1.4): retransmissions stop.
            let acked = |c: &&mut Call| c.unacked.as_ref().is_some_and(|(l, u)| *l == leg && u.acked_by(msg));
            if msg.method() == Some(Method::Ack) {
                if let Some(call) = self.calls.get_mut(&id).filter(acked) {
                    call.unacked = None;
                    return self.release_held_ack(id, leg, msg, ports);
                }
            }
            return vec![];
        };
        match msg.method() {
            Some(Method::Bye) => {
                let mut out = vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 200, "OK", &Extra::default()) })];
                if let Some(call) = self.calls.get_mut(&id) {
                    out.extend(anchor::release(ports, &call.anchors));
                    call.anchors.clear();
                }
                out.extend(self.hang_up(id, leg, &[]));
                self.remove(id);
                out
            }
            // RFC 3262: reliable 18x are relayed with their RSeq, so the PRACK
            // goes end to end too (its RAck naming leg B's INVITE); PRACK,
            // UPDATE (RFC 3311, early or confirmed), re-INVITE and the rest
            // take the same relay.
            Some(Method::Invite) => match self.modify_reinvite(id, leg, worker, tx, msg, ports) {
                Some(out) => out,
                None => self.relay(id, leg, worker, tx, msg, ports),
            },
            _ => self.relay(id, leg, worker, tx, msg, ports),
        }
    }

    /// `from` hung up: send BYE on the other leg. The caller forgets the call
    /// afterwards ([`Calls::remove`]); the BYE's answer needs no state (its
    /// branch is unknown here, so it is absorbed), and a BYE never answered
    /// leaves nothing behind.
    fn hang_up(&mut self, id: u64, from: Leg, extra: &[(&'static str, String)]) -> Vec<Out> {
        let branch = branch_for(id, "b", self.next());
        let Some(call) = self.calls.get_mut(&id) else { return vec![] };
        call.state = CallState::Stopped;
        let d = if from == Leg::A { &mut call.b } else { &mut call.a };
        d.cseq += 1;
        let bye = build_request_ext(&self.local_addr, d, "BYE", d.cseq, &branch, None, b"", None, extra);
        vec![(d.worker, ToWorker::SendRequest { peer: d.peer, msg: bye })]
    }

    /// The caller cancelled: RFC 3261 9.1 CANCEL on leg B with the INVITE's
    /// Via branch, Request-URI, Call-ID, From, To and CSeq number.
    /// `target` is a transaction of `worker` (ids are per worker).
    pub fn on_cancelled(&mut self, worker: u16, target: TxId) -> Vec<Out> {
        let Some((&id, call)) = self.calls.iter().find(|(_, c)| c.a_tx == Some(target) && c.a.worker == worker) else { return vec![] };
        if call.state == CallState::Started {
            return vec![];
        }
        self.cancel_leg_b(id, &[])
    }

    /// The call whose INVITE on leg B has branch `branch`: its number is written in the
    /// branch (see [`branch_for`]), so no map is kept; None for any other branch.
    fn invite_call(&self, branch: &str) -> Option<u64> {
        let id = call_of_branch(branch, b'i')?;
        self.calls.get(&id).filter(|c| c.b_invite_branch == branch || c.forks.has_branch(branch)).map(|_| id)
    }

    /// Forgets call `id`: its entry and the keys naming it.
    pub(super) fn remove(&mut self, id: u64) {
        if let Some(c) = self.calls.remove(&id) {
            self.by_call_id.remove(&c.a.call_id);
            self.by_call_id.remove(&c.b.call_id);
        }
    }

    /// How long the oldest call has existed (for stats).
    pub fn oldest(&self, now: Instant) -> Option<std::time::Duration> {
        self.calls.values().map(|c| now.saturating_duration_since(c.started)).max()
    }
}
