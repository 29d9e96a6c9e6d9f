//! The echo service (seed 000 `echo`): a call to an echo IMPU is answered by
//! ringcore itself with an SDP answer (RFC 3264, keeping the AMR mode-set
//! rule of RFC 4867 8.3.1) whose media port is served by a data-plane worker
//! that returns every RTP and RTCP packet to its sender (RFC 4961 symmetric
//! RTP, latching the first source). The media never reaches the control
//! thread; BYE frees the port. An INVITE without an offer gets ours, voice
//! only, in the 200 (RFC 3264 4), and the answer in the UE's ACK drops the
//! loops of the streams it declines.
//!
//! The call flow follows the settings: with QoS preconditions (RFC 3312)
//! unmet in the offer, the answer goes in a reliable 183 and alerting waits
//! for the UE's UPDATE; a 180 is sent when `answer_delay` or `ring_only`
//! asks for it; 18x go reliably (RFC 3262, retransmitted until PRACK) when
//! the UE supports 100rel; session timers (RFC 4028) are negotiated, ringcore
//! refreshes when it is the refresher and hangs up when the UE does not.

use super::anchor::MediaPorts;
use super::media_loops::{self, install};
use super::call_policy::CallPolicy;
use super::calls::{build_request_ext, Dialog, Headers};
use super::prack::{self, RelTimer, Reliable};
use super::retransmit::{AckDue, AwaitingAck};
use super::precondition::{self, Qos};
use super::reply::{reply_to, reply_to_tagged, Extra};
use super::session_timer::{self, Check, Due, SessionTimer};
use crate::config::typed::{RefreshMethod, Refresher};
use crate::endpoint::{Peer, ToWorker};
use crate::ims::hss::normalize_impu;
use crate::sdp::{self, CodecCap, LocalCaps, LocalSession, MediaKind, SessionDescription};
use crate::sip::transaction::TxId;
use crate::sip::{HeaderName, Message};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::time::Instant;

#[path = "echo_dialog.rs"]
mod dialog;
#[path = "echo_modifier.rs"]
mod modifier;
#[cfg(test)]
#[path = "echo_tests.rs"]
mod tests;

/// A command for a worker.
pub type Out = (u16, ToWorker);

/// Where an echo call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Reliable 183 with the answer sent; waiting for the UE's resources (RFC 3312).
    Preconditions,
    /// Preconditions met (or none): the 180 goes once no reliable 18x is unacknowledged.
    Alerting,
    /// 180 sent; the 200 goes at `answer_at` (never with ring_only).
    Ringing,
    /// 200 sent.
    Answered,
}

struct EchoCall {
    worker: u16,
    /// The echo IMPU called (normalised): its `sdp_file` and modifiers.
    callee: String,
    /// The IMEI the caller registered with (callflow_modifier `imei`).
    caller_imei: Option<String>,
    /// A callflow_modifier ended the call: released at the next timeout.
    ended: bool,
    /// Echoed media: at most one audio and one video section, each on its own port pair.
    media: Vec<(MediaKind, u16)>,
    /// The dialog with the UE (ringcore's refreshes and BYE).
    dialog: Dialog,
    /// The INVITE, to build its responses (kept with its parse index: read back without
    /// a parse), and its transaction until answered.
    invite: crate::sip::StoredMessage,
    tx: Option<TxId>,
    tx_worker: u16,
    tag: String,
    /// Our current SDP (answer), and its o= version.
    sdp: SessionDescription,
    stage: Stage,
    /// The unacknowledged reliable 18x (RFC 3262 3: one at a time).
    reliable: Option<Reliable>,
    /// The 200, retransmitted until its ACK (RFC 3261 13.3.1.4).
    unacked: Option<AwaitingAck>,
    next_rseq: u32,
    /// 18x go reliably.
    rel100: bool,
    /// The echo IMPU's ring_only and answer_delay.
    ring_only: bool,
    delay: Option<std::time::Duration>,
    answer_at: Option<Instant>,
    started: Instant,
    qos: Qos,
    /// Session timer once answered, with the interval negotiated.
    timer: Option<SessionTimer>,
    se: Option<(u32, Refresher)>,
    method: RefreshMethod,
    ue_timer: bool,
    /// The INVITE had no offer: `sdp` is ours, answered in the UE's ACK (RFC 3264 4).
    late_offer: bool,
}

/// Echo IMPUs and the echo calls in progress.
pub struct Echo {
    impus: HashSet<String>,
    calls: HashMap<String, EchoCall>,
    contact: String,
    max_calls: usize,
    caps: LocalCaps,
    /// seed 000 `sdp_file`: the answer capabilities of echo IMPUs that have one.
    templates: HashMap<String, LocalCaps>,
    version: u64,
    local_addr: String,
    policy: CallPolicy,
    /// Deadlines (lazily invalidated) by Call-ID.
    deadlines: BinaryHeap<Reverse<(Instant, String)>>,
    /// Branches of our in-dialog requests → Call-ID.
    by_branch: HashMap<String, String>,
}

impl Echo {
    /// The echo service for `impus`; `local_addr` is our SIP `host:port`.
    pub fn new(impus: Vec<String>, local_addr: &str, max_calls: usize) -> Self {
        // Video calls are echoed too (H.264, TS 26.114 5.2.2).
        let mut caps = LocalCaps::volte_default().with_h264_video();
        // Test tools and fixed-line phones offer G.711: echo it as well.
        if let Some(audio) = caps.media.iter_mut().find(|m| m.kind == MediaKind::Audio) {
            audio.codecs.push(CodecCap::new(0, "PCMU", 8000));
            audio.codecs.push(CodecCap::new(8, "PCMA", 8000));
        }
        Echo {
            impus: impus.into_iter().map(|i| normalize_impu(&i)).collect(),
            calls: HashMap::new(),
            contact: format!("<sip:echo@{local_addr}>"),
            max_calls,
            caps,
            templates: HashMap::new(),
            version: 0,
            local_addr: local_addr.to_owned(),
            policy: CallPolicy::default(),
            deadlines: BinaryHeap::new(),
            by_branch: HashMap::new(),
        }
    }

    /// Replaces the global and per-IMPU call settings.
    pub fn set_policy(&mut self, policy: CallPolicy) {
        self.policy = policy;
    }

    /// seed 000 `sdp_file`: echo IMPUs (normalised) answer with these
    /// capabilities instead of the built-in ones.
    pub fn set_templates(&mut self, templates: HashMap<String, LocalCaps>) {
        self.templates = templates;
    }

    /// True when `impu` (normalised) is an echo identity.
    pub fn is_echo(&self, impu: &str) -> bool {
        self.impus.contains(impu)
    }

    /// True when the request belongs to an echo call.
    pub fn owns(&self, msg: &Message<'_>) -> bool {
        msg.call_id().is_ok_and(|c| self.calls.contains_key(std::str::from_utf8(c).unwrap_or("")))
    }

    /// Answers an INVITE to an echo IMPU (see the module doc for the flow),
    /// or refuses it: 503 when full, 420/422 for 100rel/session timer
    /// mismatches, 488 with a Warning when the offer is malformed or has
    /// nothing we can echo.
    /// `caller_imei`: the IMEI the caller registered with, when a modifier asks.
    #[allow(clippy::too_many_arguments)]
    pub fn on_invite(&mut self, now: Instant, worker: u16, tx: TxId, peer: Peer, msg: &Message<'_>, caller_imei: Option<String>, ports: &mut MediaPorts) -> Vec<Out> {
        let respond = |m: Vec<u8>| vec![(worker, ToWorker::Respond { tx, msg: m })];
        if self.calls.len() >= self.max_calls {
            // RFC 3261 21.5.4: overload; Retry-After tells when to come back.
            let mut extra = Extra::warning("echo call table full");
            extra.headers.push(("Retry-After", "5".into()));
            return respond(reply_to(msg, 503, "Service Unavailable", &extra));
        }
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let caller = msg.from().map(|f| normalize_impu(&text(f.uri.raw))).unwrap_or_default();
        let callee = msg.request_uri().map(|u| normalize_impu(&text(u.raw))).unwrap_or_default();
        // seed 000: for echo calls the caller's session_expires and 100rel apply.
        let pol = *self.policy.for_impu(&caller);
        let own = *self.policy.for_impu(&callee);
        if !pol.rel100 && prack::peer_requires_100rel(msg) {
            let extra = Extra { headers: vec![("Unsupported", "100rel".into())], body: None };
            return respond(reply_to(msg, 420, "Bad Extension", &extra));
        }
        let se = match session_timer::check_request(&pol.session, msg) {
            Check::TooSmall(min) => {
                // RFC 4028 9: 422 with our Min-SE.
                let extra = Extra { headers: vec![("Min-SE", min.to_string())], body: None };
                return respond(reply_to(msg, 422, "Session Interval Too Small", &extra));
            }
            Check::Use { interval, refresher, .. } => Some((interval, refresher)),
            Check::Off => None,
        };
        // RFC 3264 4, RFC 3261 13.2.1: an INVITE without a body asks us for the offer;
        // the UE answers in its ACK (or PRACK), and the loops latch onto its packets.
        let late_offer = msg.body().is_empty();
        let offer = match late_offer {
            true => None,
            false => match SessionDescription::parse(msg.body()) {
                Ok(o) => Some(o),
                // RFC 3261 21.4.26: 488 with a Warning saying what is wrong.
                Err(e) => return respond(reply_to(msg, 488, "Not Acceptable Here", &Extra::warning(&e.to_string()))),
            },
        };
        let mut qos = offer.as_ref().map_or(Qos { media: Vec::new() }, |o| Qos::from_offer(own.precondition, o));
        qos.reserve_local();
        // RFC 3312 5.1: our curr local status is what the bearers say.
        self.caps.preconditions.local_reserved = qos.local_reserved();
        let w = ports.pick_worker();
        let ours = match &offer {
            None => self.offer(ports, w, &callee),
            Some(o) => self.answer(o, ports, w, &[], &callee),
        };
        let (answer, media) = match ours {
            Ok(a) => a,
            Err(why) => return respond(reply_to(msg, 488, "Not Acceptable Here", &Extra::warning(&why))),
        };
        let ue_timer = session_timer::supports(msg, b"timer");
        // RFC 4028 9: the UAS honours the refresher the UAC named, else
        // picks one (the configured one); a UAC without timer support cannot
        // refresh, so then we do. `force` applies to the requests we send.
        let asked = session_timer::of_message(msg).and_then(|(_, r)| r);
        let se = se.map(|(i, _)| (i, if ue_timer { asked.unwrap_or(pol.session.refresher) } else { Refresher::Uas }));
        let call_id = text(msg.call_id().unwrap_or(b""));
        let tag = format!("rce{:x}.{}", self.version, super::ids::instance());
        let target = msg.contacts().find_map(|c| match c {
            Ok(crate::sip::Contact::Addr(na)) => Some(text(na.uri.raw)),
            _ => None,
        });
        let dialog = Dialog {
            call_id: call_id.clone(),
            local: format!("{};tag={tag}", text(msg.header(HeaderName::To).unwrap_or(b""))),
            remote: text(msg.header(HeaderName::From).unwrap_or(b"")),
            target: target.unwrap_or_else(|| caller.clone()),
            routes: msg.record_routes().filter_map(|r| r.ok()).map(|r| format!("<{}>", text(r.uri.raw))).collect(),
            cseq: 0,
            worker,
            peer,
        };
        let met = offer.as_ref().map_or(true, precondition::offerer_met);
        // RFC 3262 5: without an offer in the INVITE, a reliable 18x would have to carry
        // ours; it goes in the 200 instead, with 18x unreliable unless the UE requires them.
        let rel100 = pol.rel100 && if late_offer { prack::peer_requires_100rel(msg) } else { prack::peer_supports_100rel(msg) };
        let stage = if qos.in_use() && !met && rel100 { Stage::Preconditions } else { Stage::Alerting };
        let first_port = media.first().map_or(0, |m| u64::from(m.1));
        let mut out = install(w as u16, &media);
        let call = EchoCall {
            worker: w as u16,
            callee,
            caller_imei,
            ended: false,
            media,
            dialog,
            invite: crate::sip::StoredMessage::new(msg),
            tx: Some(tx),
            tx_worker: worker,
            tag,
            sdp: answer,
            stage,
            reliable: None,
            unacked: None,
            next_rseq: prack::first_rseq(self.version ^ first_port),
            rel100,
            // remote_control: like ring_only until `dialog_set ID answer`.
            ring_only: own.ring_only || own.remote_control,
            delay: own.answer_delay,
            answer_at: None,
            started: now,
            qos,
            timer: None,
            se,
            method: pol.session.method,
            ue_timer,
            late_offer,
        };
        self.calls.insert(call_id.clone(), call);
        // seed 000 callflow_modifier INVITE.TRYING (the 100 already left from the worker).
        let trying = self.modified_response(now, &call_id, 100, Vec::new());
        let sent = [trying.generated, trying.normal].into_iter().flatten().filter(|m| !m.is_empty());
        out.extend(sent.map(|msg| (worker, ToWorker::Respond { tx, msg })));
        if trying.ends {
            return out;
        }
        if stage == Stage::Preconditions {
            // RFC 3312 5.1 / TS 24.229 5.4.7: the answer goes in a reliable 183.
            out.extend(self.provisional(now, &call_id, 183, "Session Progress", true));
        }
        out.extend(self.progress(now, &call_id));
        self.schedule(&call_id);
        out
    }

    /// The SDP answer to `offer` on media worker `w`, with `callee`'s `sdp_file`
    /// capabilities when it has one. The first audio and the first video section are
    /// echoed, each on the port of that kind in `reuse` or a new one; the others are
    /// refused (port 0, RFC 3264 6). Returns the answer and the echoed (kind, port)s.
    fn answer(&mut self, offer: &SessionDescription, ports: &mut MediaPorts, w: usize, reuse: &[(MediaKind, u16)], callee: &str) -> Result<(SessionDescription, Vec<(MediaKind, u16)>), String> {
        let mut given: Vec<(MediaKind, u16)> = Vec::with_capacity(2);
        let media_ip = ports.ip;
        let mut alloc = |kind: MediaKind| media_loops::pick_port(&mut given, kind, reuse, || ports.alloc_on(w));
        self.version += 1;
        let local = LocalSession { addr: media_ip, session_id: self.version, session_version: 1 };
        let reserved = self.caps.preconditions.local_reserved;
        let caps = match self.templates.get_mut(callee) {
            Some(t) => {
                t.preconditions.local_reserved = reserved;
                &*t
            }
            None => &self.caps,
        };
        let answer = sdp::answer(offer, caps, &local, &mut alloc);
        // Ports of this answer that a failure gives back (not the ones reused).
        let fresh = |given: &[(MediaKind, u16)]| given.iter().filter(|g| !reuse.contains(g)).map(|(_, p)| *p).collect::<Vec<u16>>();
        match answer {
            Ok(a) if !given.is_empty() => Ok((a, given)),
            Ok(_) => Err("no audio or video to echo".into()),
            Err(e) => {
                for p in fresh(&given) {
                    ports.free(p);
                }
                Err(e.to_string())
            }
        }
    }

    /// Our offer for an INVITE that had none (RFC 3264 5), on media worker `w`: the audio
    /// of `callee`'s `sdp_file` or of the echo's capabilities, without preconditions (met
    /// before a 2xx offer could carry them). Returns the offer and its (kind, port)s.
    fn offer(&mut self, ports: &mut MediaPorts, w: usize, callee: &str) -> Result<(SessionDescription, Vec<(MediaKind, u16)>), String> {
        let mut given: Vec<(MediaKind, u16)> = Vec::with_capacity(2);
        self.version += 1;
        let local = LocalSession { addr: ports.ip, session_id: self.version, session_version: 1 };
        let mut caps = self.templates.get(callee).unwrap_or(&self.caps).clone();
        caps.preconditions.offer = false;
        // Voice, as MT calls offer without a file; the UE may add video later (8.1).
        caps.media.retain(|m| m.kind == MediaKind::Audio);
        let mut alloc = |kind: MediaKind| media_loops::pick_port(&mut given, kind, &[], || ports.alloc_on(w));
        let offer = sdp::build_offer(&caps, &local, &mut alloc);
        match offer {
            Ok(o) if !given.is_empty() => Ok((o, given)),
            _ => {
                for (_, p) in given {
                    ports.free(p);
                }
                Err("no audio or video to offer".into())
            }
        }
    }

    /// A response to the INVITE of `id` with our Contact and tag.
    fn response(&self, c: &EchoCall, code: u16, reason: &str, mut headers: Headers, sdp: bool) -> Vec<u8> {
        let Some(req) = c.invite.message() else { return Vec::new() };
        headers.insert(0, ("Contact", self.contact.clone()));
        let body = sdp.then(|| ("application/sdp".to_owned(), c.sdp.to_string().into_bytes()));
        reply_to_tagged(&req, code, reason, &Extra { headers, body }, &c.tag)
    }

    /// Sends an 18x, reliably when the UE supports 100rel (RFC 3262 3:
    /// Require: 100rel and an RSeq, retransmitted until PRACK).
    fn provisional(&mut self, now: Instant, id: &str, code: u16, reason: &str, sdp: bool) -> Vec<Out> {
        let t1 = self.policy.t1;
        let Some(c) = self.calls.get(id) else { return vec![] };
        let Some(tx) = c.tx else { return vec![] };
        let mut headers = Headers::new();
        let rseq = c.next_rseq;
        if c.rel100 {
            headers.push(("Require", "100rel".into()));
            headers.push(("RSeq", rseq.to_string()));
        }
        let msg = self.response(c, code, reason, headers, sdp);
        let (rel100, worker) = (c.rel100, c.tx_worker);
        let cseq = invite_cseq(c);
        // seed 000 callflow_modifier INVITE.RINGING / INVITE.SESSION_PROGRESS.
        let outcome = self.modified_response(now, id, code, msg);
        if let (Some(c), Some(msg)) = (self.calls.get_mut(id), outcome.normal.as_ref()) {
            if rel100 && !outcome.ends {
                c.reliable = Some(Reliable::new(now, t1, rseq, cseq, msg.clone()));
                c.next_rseq = rseq.wrapping_add(1);
            }
        }
        [outcome.generated, outcome.normal].into_iter().flatten().map(|msg| (worker, ToWorker::Respond { tx, msg })).collect()
    }

    /// Moves the call on as far as it can go now: alerting once the
    /// preconditions are met and no reliable 18x is unacknowledged, then the
    /// 200 at `answer_at`.
    fn progress(&mut self, now: Instant, id: &str) -> Vec<Out> {
        let Some(c) = self.calls.get_mut(id) else { return vec![] };
        let (ring_only, delay) = (c.ring_only, c.delay);
        let mut out = Vec::new();
        if c.stage == Stage::Alerting && c.reliable.is_none() {
            c.stage = Stage::Ringing;
            c.answer_at = if ring_only { None } else { Some(now + delay.unwrap_or_default()) };
            if ring_only || delay.is_some() || c.rel100 {
                // RFC 3262 5: the first reliable 18x to an INVITE without an offer has ours.
                let sdp = c.late_offer && c.rel100;
                out.extend(self.provisional(now, id, 180, "Ringing", sdp));
            }
        }
        let Some(c) = self.calls.get_mut(id) else { return out };
        // RFC 3262 3: a 2xx may follow an unacknowledged reliable 18x without SDP only (the
        // 180 carries our offer when the INVITE had none, RFC 3262 5).
        let sdp_unacked = c.reliable.is_some() && (c.stage != Stage::Ringing || c.late_offer);
        if c.stage == Stage::Ringing && c.answer_at.is_some_and(|t| t <= now) && !sdp_unacked {
            out.extend(self.answer_now(now, id));
        }
        out
    }

    /// Sends the 200 to the INVITE, starting the session timer.
    pub(super) fn answer_now(&mut self, now: Instant, id: &str) -> Vec<Out> {
        self.answer_now_with(now, id, 200)
    }

    /// Sends the 2xx `code` to the INVITE (200 but for a forced `dialog_set` answer
    /// code), starting the session timer.
    pub(super) fn answer_now_with(&mut self, now: Instant, id: &str, code: u16) -> Vec<Out> {
        let Some(c) = self.calls.get(id) else { return vec![] };
        let Some(tx) = c.tx else { return vec![] };
        let mut headers = Headers::new();
        if let Some((interval, refresher)) = c.se {
            headers.push(("Session-Expires", session_timer::header_value(interval, Some(refresher))));
            if c.ue_timer {
                headers.push(("Require", "timer".into()));
            }
        }
        let msg = self.response(c, code, super::callflow::reason(code), headers, true);
        let (worker, cseq) = (c.tx_worker, invite_cseq(c));
        // seed 000 callflow_modifier INVITE.OK.
        let outcome = self.modified_response(now, id, code, msg);
        let (t1, t2) = (self.policy.t1, self.policy.t2);
        if let Some(c) = self.calls.get_mut(id).filter(|_| !outcome.ends) {
            c.stage = Stage::Answered;
            c.tx = None;
            c.reliable = None;
            c.unacked = outcome.normal.as_ref().map(|m| AwaitingAck::new(now, t1, t2, cseq, m.clone()));
            c.timer = c.se.map(|(i, r)| SessionTimer::new(now, i, r == Refresher::Uas));
        }
        [outcome.generated, outcome.normal].into_iter().flatten().map(|msg| (worker, ToWorker::Respond { tx, msg })).collect()
    }

    pub(super) fn schedule(&mut self, id: &str) {
        let dialog_timeout = self.policy.dialog_timeout;
        let Some(c) = self.calls.get(id) else { return };
        let t = [
            c.reliable.as_ref().map(Reliable::poll_timeout),
            c.unacked.as_ref().map(AwaitingAck::poll_timeout),
            c.answer_at.filter(|_| c.stage == Stage::Ringing),
            (c.stage != Stage::Answered).then_some(c.started + dialog_timeout),
            c.timer.map(|t| t.poll_timeout()),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(t) = t {
            self.deadlines.push(Reverse((t, id.to_owned())));
        }
    }

    /// When [`Echo::handle_timeout`] has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.peek().map(|Reverse((t, _))| *t)
    }

    /// Retransmits reliable 18x, sends delayed answers, refreshes or ends
    /// sessions (RFC 4028 10) and gives up unanswered calls after `dialog_timeout`.
    pub fn handle_timeout(&mut self, now: Instant, ports: &mut MediaPorts) -> Vec<Out> {
        let mut out = Vec::new();
        while let Some(Reverse((t, _))) = self.deadlines.peek() {
            if *t > now {
                break;
            }
            let Some(Reverse((t, id))) = self.deadlines.pop() else { break };
            // Drop duplicates of this entry (they sort next to it).
            while self.deadlines.peek().is_some_and(|Reverse((t2, id2))| *t2 == t && *id2 == id) {
                self.deadlines.pop();
            }
            out.extend(self.call_timeout(now, &id, ports));
        }
        out
    }

    fn call_timeout(&mut self, now: Instant, id: &str, ports: &mut MediaPorts) -> Vec<Out> {
        let dialog_timeout = self.policy.dialog_timeout;
        let Some(c) = self.calls.get(id) else { return vec![] };
        if c.ended {
            // A callflow_modifier answered or stopped the call.
            return self.release(id, ports);
        }
        if c.stage != Stage::Answered && now >= c.started + dialog_timeout {
            // seed 000 dialog_timeout: the unanswered call is given up.
            return self.reject(id, 480, "Temporarily Unavailable", Extra::warning("dialog_timeout").headers, ports);
        }
        let mut out = Vec::new();
        let rel = self.calls.get_mut(id).and_then(|c| c.reliable.as_mut()).and_then(|r| r.handle_timeout(now));
        match rel {
            Some(RelTimer::Retransmit) => {
                if let Some((Some(tx), Some(r), w)) = self.calls.get(id).map(|c| (c.tx, c.reliable.as_ref(), c.tx_worker)) {
                    out.push((w, ToWorker::Respond { tx, msg: r.msg.clone() }));
                }
            }
            // RFC 3262 3: no PRACK for 64*T1: reject the INVITE with a 5xx.
            Some(RelTimer::GiveUp) => return self.reject(id, 504, "Server Time-out", Extra::warning("no PRACK").headers, ports),
            None => {}
        }
        // RFC 3261 13.3.1.4: the 200 again until the ACK; none for 64*T1 ends the session.
        if let Some(c) = self.calls.get_mut(id) {
            match c.unacked.as_mut().and_then(|u| u.handle_timeout(now)) {
                Some(AckDue::Resend(msg)) => out.push((c.tx_worker, ToWorker::SendStateless { peer: c.dialog.peer, msg: msg.to_vec() })),
                Some(AckDue::GiveUp(reason)) => {
                    out.extend(self.send_in_dialog(id, "BYE", vec![reason], false));
                    out.extend(self.release(id, ports));
                    return out;
                }
                None => {}
            }
        }
        let due = self.calls.get_mut(id).and_then(|c| c.timer.as_mut()).and_then(|t| t.handle_timeout(now));
        match due {
            Some(Due::Refresh) => out.extend(self.refresh(id)),
            Some(Due::Expire) => {
                // RFC 4028 10: no refresh came: end the session.
                out.extend(self.send_in_dialog(id, "BYE", Headers::new(), false));
                out.extend(self.release(id, ports));
                return out;
            }
            None => {}
        }
        out.extend(self.progress(now, id));
        self.schedule(id);
        out
    }

    /// Answers the pending INVITE with `code` (when still pending) and frees the call.
    fn reject(&mut self, id: &str, code: u16, reason: &str, headers: Headers, ports: &mut MediaPorts) -> Vec<Out> {
        let mut out = Vec::new();
        if let Some(c) = self.calls.get(id) {
            if let Some(tx) = c.tx {
                let msg = self.response(c, code, reason, headers, false);
                out.push((c.tx_worker, ToWorker::Respond { tx, msg }));
            }
        }
        out.extend(self.release(id, ports));
        out
    }

    /// RFC 4028 7.4 / 10: ringcore refreshes with UPDATE or re-INVITE (per
    /// `method`), naming itself (the UAC of the refresh) as refresher.
    fn refresh(&mut self, id: &str) -> Vec<Out> {
        let Some(c) = self.calls.get(id) else { return vec![] };
        let Some((interval, _)) = c.se else { return vec![] };
        let headers = session_timer::refresh_headers(interval);
        match c.method {
            RefreshMethod::Update => self.send_in_dialog(id, "UPDATE", headers, false),
            RefreshMethod::Invite => self.send_in_dialog(id, "INVITE", headers, true),
        }
    }

    /// Sends a request in the call's dialog (our SDP, with a new o= version, when `sdp`).
    fn send_in_dialog(&mut self, id: &str, method: &str, headers: Headers, sdp: bool) -> Vec<Out> {
        self.version += 1;
        let branch = format!("{}{:x}.{}", super::ids::BRANCH_ECHO, self.version, super::ids::instance());
        let Some(c) = self.calls.get_mut(id) else { return vec![] };
        c.dialog.cseq += 1;
        if sdp {
            c.sdp.origin.session_version += 1;
        }
        let body = if sdp { c.sdp.to_string().into_bytes() } else { Vec::new() };
        let ctype = sdp.then_some("application/sdp");
        let req = build_request_ext(&self.local_addr, &c.dialog, method, c.dialog.cseq, &branch, ctype, &body, None, &headers);
        let (w, peer) = (c.dialog.worker, c.dialog.peer);
        if method != "BYE" {
            self.by_branch.insert(branch, id.to_owned());
        }
        vec![(w, ToWorker::SendRequest { peer, msg: req })]
    }

    /// Frees the media of a call and forgets it.
    fn release(&mut self, id: &str, ports: &mut MediaPorts) -> Vec<Out> {
        let Some(c) = self.calls.remove(id) else { return vec![] };
        self.by_branch.retain(|_, v| v != id);
        media_loops::free(c.worker, &c.media, ports)
    }

    /// Echo calls in progress.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// True when no echo call is in progress.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

/// Read-only views and echo list changes for the remote API.
impl Echo {
    /// impu_add with impi "echo" (seed 000 6.6): adds an echo identity.
    pub(super) fn add_impu(&mut self, impu: &str) -> bool {
        self.impus.insert(normalize_impu(impu))
    }

    /// impu_del with impi "echo": removes an echo identity.
    pub(super) fn remove_impu(&mut self, impu: &str) -> bool {
        self.impus.remove(&normalize_impu(impu))
    }
}

/// The CSeq number of the INVITE of call `c` (1 if unreadable: the transaction layer
/// checked it when the INVITE came in).
fn invite_cseq(c: &EchoCall) -> u32 {
    c.invite.message().and_then(|m| m.cseq().ok()).map_or(1, |s| s.seq)
}
