//! Network-initiated (MT) calls (seed 000 `mt_call`): ringcore calls a
//! registered UE with its own SDP offer (RFC 3264 5: AMR-WB, AMR,
//! telephone-event, and G.711 for test tools; or the media of an SDP file:
//! audio and video each on its own port pair, further streams offered
//! disabled at port 0, RFC 3264 5.1), loops each stream the UE accepts back
//! to it on a data-plane worker, and hangs up after the requested duration —
//! or when the UE does. The monitor's `mt_call` and the remote API's
//! `mt_call` call [`MtCalls::start`].
//!
//! The callee's settings apply (seed 000): 100rel offered and reliable 18x
//! PRACKed (RFC 3262 4), preconditions offered unless `off`, a session timer
//! requested (RFC 4028 7.1) and refreshed by ringcore when it is the
//! refresher, the call ended with BYE when the UE's refreshes stop.

use super::anchor::MediaPorts;
use super::call_policy::CallPolicy;
use super::media_loops::{self, Stream};
use super::calls::{build_request_ext, Dialog, Headers};
use super::session_timer::{self, Due, SessionTimer};
use crate::config::typed::{Precondition, RefreshMethod, Refresher};
use super::reply::{reply_to, Extra};
use crate::endpoint::ToWorker;
use crate::ims::bindings::Bindings;
use crate::ims::hss::normalize_impu;
use crate::ims::terminating;
use crate::sdp::{self, CodecCap, LocalCaps, LocalSession, MediaKind, SessionDescription};
use crate::sip::transaction::TxId;
use crate::sip::{HeaderName, Message, Method};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[path = "mt_call_modifier.rs"]
mod modifier;
#[path = "mt_call_dialog.rs"]
mod dialog;
pub use dialog::Reoffer;
#[cfg(test)]
#[path = "mt_call_tests.rs"]
mod tests;

/// A command for a worker.
pub type Out = (u16, ToWorker);

struct MtCall {
    /// The dialog with the UE (ringcore is the UAC).
    dialog: Dialog,
    media_worker: u16,
    /// The looped-back streams (at most one audio and one video), each on its own
    /// port pair of `media_worker`; a stream the UE declines is freed.
    media: Vec<Stream>,
    answered: bool,
    hang_up_at: Option<Instant>,
    duration: Option<Duration>,
    /// Our SDP offer (sent again, newer, in a refreshing re-INVITE).
    offer: SessionDescription,
    /// Highest RSeq PRACKed (RFC 3262 4: retransmissions are not PRACKed again).
    last_rseq: Option<u32>,
    /// Session timer once answered; refresh method of the callee's settings.
    timer: Option<SessionTimer>,
    method: RefreshMethod,
    started: Instant,
    /// A 422 was answered with a new INVITE already (RFC 4028 7.3).
    retried_422: bool,
    /// The caller (normalised; ringcore's identity unless forced) and the
    /// IMEI the callee registered with: callflow_modifier owner and counterpart.
    caller: String,
    callee_imei: Option<String>,
    /// The offer came from an SDP file: the UE's later offers are answered
    /// with that file's media too (else the built-in capabilities).
    answer_caps: Option<Box<LocalCaps>>,
    /// Our INVITE as a CANCEL repeats it (RFC 3261 9.1): branch, CSeq number, Request-URI.
    invite: (String, u32, String),
    /// `dialog_set stop` cancelled the INVITE: a 2xx crossing the CANCEL is hung up
    /// with a BYE carrying these headers (its Reason, RFC 3326).
    cancelled: Option<Headers>,
    /// A provisional response came: a CANCEL may be sent (RFC 3261 9.1).
    early: bool,
}

/// The built-in capabilities of MT calls (RFC 3264 5): the VoLTE codecs, plus
/// G.711 µ-law for test tools.
fn builtin_caps() -> LocalCaps {
    let mut caps = LocalCaps::volte_default();
    if let Some(audio) = caps.media.iter_mut().find(|m| m.kind == MediaKind::Audio) {
        audio.codecs.push(CodecCap::new(0, "PCMU", 8000));
    }
    caps
}

/// What the monitor's or the remote API's `mt_call` asks besides the callee IMPU
/// (seed 000 `mt_call`).
#[derive(Clone, Copy, Debug, Default)]
pub struct MtCallArgs<'a> {
    /// Call duration, after which ringcore hangs up.
    pub duration: Option<Duration>,
    /// The request's SDP file (`sip_file`), overriding `mt_call_sdp_file`.
    pub sdp_file: Option<&'a str>,
    /// The forced caller IMPU.
    pub caller: Option<&'a str>,
    /// Reach emergency registered UEs only (`sos`).
    pub sos: bool,
    /// The registered contact URI the call goes to (`contact`), as stored.
    pub contact: Option<&'a str>,
}

/// What an `mt_call` request asks besides the callee, as [`MtCalls::start`] takes it.
#[derive(Clone, Copy, Debug, Default)]
pub struct MtRequest<'a> {
    /// Call duration, after which ringcore hangs up.
    pub duration: Option<Duration>,
    /// SDP offered (the request's `sip_file`), overriding `mt_call_sdp_file`.
    pub template: Option<&'a SessionDescription>,
    /// Forced caller IMPU (normalised), and whether it is a subscriber
    /// (then asserted in P-Asserted-Identity).
    pub caller: Option<(&'a str, bool)>,
    /// The callee IMPU's `ue_db.impu.imei` ([`terminating`]).
    pub imei: Option<&'a str>,
    /// seed 000 `mt_call.sos`: reach emergency registered UEs only.
    pub sos: bool,
    /// seed 000 `mt_call.contact`: this registered contact URI (as stored) and no other.
    pub contact: Option<&'a str>,
}

/// The MT calls in progress.
pub struct MtCalls {
    calls: HashMap<String, MtCall>,
    by_branch: HashMap<String, String>,
    local_addr: String,
    caller: String,
    n_workers: usize,
    seq: u64,
    max_calls: usize,
    policy: CallPolicy,
    /// seed 000 `mt_call_sdp_file` (global and per callee).
    sdp: super::call_files::MtSdp,
}

impl MtCalls {
    /// MT calls presented as coming from `caller` (a SIP URI of the core).
    pub fn new(local_addr: String, caller: String, n_workers: usize, max_calls: usize) -> Self {
        MtCalls { calls: HashMap::new(), by_branch: HashMap::new(), local_addr, caller, n_workers, seq: 0, max_calls, policy: CallPolicy::default(), sdp: Default::default() }
    }

    /// Replaces the global and per-IMPU call settings.
    pub fn set_policy(&mut self, policy: CallPolicy) {
        self.policy = policy;
    }

    /// seed 000 `mt_call_sdp_file`: the offers of MT calls.
    pub fn set_sdp(&mut self, sdp: super::call_files::MtSdp) {
        self.sdp = sdp;
    }

    /// True when the Call-ID is one of ours.
    pub fn owns(&self, msg: &Message<'_>) -> bool {
        msg.call_id().is_ok_and(|c| self.calls.contains_key(std::str::from_utf8(c).unwrap_or("")))
    }

    /// Calls the registered contact of `impu` (normalised, as [`normalize_impu`] gives it:
    /// the caller normalises and canonicalises it); the call ends after `req.duration`
    /// (None: when the UE hangs up).
    /// The offer is `req.template` (the request's SDP file), else the callee's or
    /// the global `mt_call_sdp_file`, else built from our capabilities.
    pub fn start(&mut self, now: Instant, impu: &str, req: MtRequest<'_>, bindings: &Bindings, ports: &mut MediaPorts) -> Result<(String, Vec<Out>), String> {
        let (duration, template) = (req.duration, req.template);
        if self.calls.len() >= self.max_calls {
            return Err("too many MT calls in progress".into());
        }
        let pick = if req.sos { terminating::emergency_contact } else { terminating::contact };
        let found = match req.contact {
            Some(uri) => bindings.lookup(impu).flat_map(|r| r.contacts.iter()).find(|c| c.uri == uri),
            None => pick(bindings, impu, req.imei),
        };
        let contact = found.ok_or_else(|| match (req.contact, req.sos, req.imei) {
            (Some(uri), _, _) => format!("{uri} is not a registered contact of {impu}"),
            (None, true, _) => format!("{impu} has no emergency registration"),
            (None, false, Some(imei)) => format!("{impu} is not registered from the UE of IMEI {imei}"),
            (None, false, None) => format!("{impu} is not registered"),
        })?;
        let w = ports.pick_worker();
        // seed 000: for MT calls the callee's settings apply.
        let pol = *self.policy.for_impu(impu);
        let mut caps = builtin_caps();
        caps.preconditions.offer = pol.precondition != Precondition::Off;
        self.seq += 1;
        let local = LocalSession { addr: ports.ip, session_id: self.seq, session_version: 1 };
        let template = template.or_else(|| self.sdp.for_impu(impu));
        let answer_caps = template.map(|t| Box::new(media_loops::echoed_caps(t)));
        let mut media: Vec<Stream> = Vec::with_capacity(2);
        let mut alloc = |k| media_loops::pick_port(&mut media, k, &[], || ports.alloc_on(w));
        let built = match template {
            // The file's media as is, with our o=, c= and a port pair per looped stream.
            Some(t) => sdp::offer_from_template(t, &caps, &local, &mut alloc),
            None => sdp::build_offer(&caps, &local, &mut alloc),
        };
        let offer = match built {
            Ok(o) if !media.is_empty() => o,
            failed => {
                media.iter().for_each(|&(_, p)| ports.free(p));
                return Err(match failed {
                    Err(sdp::AnswerError::PortsExhausted(_)) => "no free media port".into(),
                    Err(e) => format!("cannot build the offer: {e:?}"),
                    Ok(_) => "the offer has no audio or video to loop back".into(),
                });
            }
        };
        let (worker, peer) = super::calls::route_to(&contact.uri, &contact.flow, self.n_workers);
        let call = MtCall {
            dialog: Dialog {
                call_id: format!("rcmt{:x}.{}@{}", self.seq, super::ids::instance(), self.local_addr),
                local: format!("<{}>;tag=rcm{:x}.{}", req.caller.map_or(self.caller.as_str(), |(c, _)| c), self.seq, super::ids::instance()),
                remote: format!("<{impu}>"),
                target: contact.uri.clone(),
                // RFC 3327 5.3: requests to the UE follow its registered Path.
                routes: contact.path.clone(),
                cseq: 1,
                worker,
                peer,
            },
            media_worker: w as u16,
            media,
            answered: false,
            hang_up_at: None,
            duration,
            offer,
            last_rseq: None,
            timer: None,
            method: pol.session.method,
            started: now,
            retried_422: false,
            caller: normalize_impu(req.caller.map_or(self.caller.as_str(), |(c, _)| c)),
            callee_imei: contact.imei.clone(),
            answer_caps,
            invite: (format!("{}{:x}.{}", super::ids::BRANCH_MT, self.seq, super::ids::instance()), 1, contact.uri.clone()),
            cancelled: None,
            early: false,
        };
        let branch = call.invite.0.clone();
        let mut headers = pol.uac_options();
        if let Some((caller, true)) = req.caller {
            // seed 000 mt_call caller: a subscriber's identity is asserted (TS 24.229 5.4.3.3).
            headers.push(("P-Asserted-Identity", format!("<{caller}>")));
        }
        // seed 000 p_called_party_id: the called IMPU (TS 24.229 5.4.3.2, RFC 3455 4.2).
        if let Some(v) = self.policy.called_party.header(impu, impu) {
            headers.push(("P-Called-Party-ID", v));
        }
        let invite = self.request(&call, "INVITE", &branch, true, &headers);
        let id = call.dialog.call_id.clone();
        self.by_branch.insert(branch, id.clone());
        self.calls.insert(id.clone(), call);
        Ok((id, vec![(worker, ToWorker::SendRequest { peer, msg: invite })]))
    }

    /// A request in the call's dialog, with our offer as body when `sdp`.
    fn request(&self, c: &MtCall, method: &str, branch: &str, sdp: bool, headers: &[(&'static str, String)]) -> Vec<u8> {
        let d = &c.dialog;
        let body = if sdp { c.offer.to_string().into_bytes() } else { Vec::new() };
        build_request_ext(&self.local_addr, d, method, d.cseq, branch, sdp.then_some("application/sdp"), &body, None, headers)
    }

    /// Sends a new in-dialog request (next CSeq); its answer comes back through `on_response`.
    fn send_in_dialog(&mut self, id: &str, method: &str, sdp: bool, headers: &[(&'static str, String)]) -> Vec<Out> {
        self.seq += 1;
        let branch = format!("{}{:x}{}.{}", super::ids::BRANCH_MT, self.seq, method.chars().next().unwrap_or('r').to_ascii_lowercase(), super::ids::instance());
        let Some(c) = self.calls.get_mut(id) else { return vec![] };
        c.dialog.cseq += 1;
        if sdp {
            c.offer.origin.session_version += 1;
        }
        if method == "INVITE" && !c.answered {
            // A new initial INVITE (RFC 4028 7.3 retry): the one a CANCEL targets.
            c.invite = (branch.clone(), c.dialog.cseq, c.dialog.target.clone());
        }
        let Some(c) = self.calls.get(id) else { return vec![] };
        let req = self.request(c, method, &branch, sdp, headers);
        let out = vec![(c.dialog.worker, ToWorker::SendRequest { peer: c.dialog.peer, msg: req })];
        self.by_branch.insert(branch, id.to_owned());
        out
    }

    /// RFC 3262 4: a reliable 18x (Require: 100rel, RSeq) is acknowledged
    /// with a PRACK naming its RSeq and our INVITE's CSeq (1), once per RSeq.
    fn prack(&mut self, id: &str, msg: &Message<'_>) -> Vec<Out> {
        if !msg.has_token(HeaderName::Require, b"100rel") {
            return vec![];
        }
        let Some(rseq) = msg.rseq().ok().flatten() else { return vec![] };
        let Some(c) = self.calls.get_mut(id) else { return vec![] };
        if c.last_rseq.is_some_and(|last| rseq <= last) {
            return vec![];
        }
        c.last_rseq = Some(rseq);
        self.send_in_dialog(id, "PRACK", false, &[("RAck", format!("{rseq} 1 INVITE"))])
    }

    /// A response to one of our requests: the UE's answer starts the echo.
    pub fn on_response(&mut self, now: Instant, msg: &Message<'_>, ports: &mut MediaPorts) -> Option<Vec<Out>> {
        let branch = msg.via_top().ok()?.branch().map(|b| String::from_utf8_lossy(b).into_owned())?;
        let id = self.by_branch.get(&branch)?.clone();
        let code = msg.status()?;
        let cseq = msg.cseq().ok()?;
        if !matches!(cseq.method, Method::Invite) {
            // A CANCEL shares its INVITE's branch (RFC 3261 9.1): kept for the INVITE's 487.
            if code >= 200 && !matches!(cseq.method, Method::Cancel) {
                self.by_branch.remove(&branch);
            }
            if matches!(cseq.method, Method::Update) {
                return Some(self.on_refreshed(now, &id, code, msg, ports));
            }
            return Some(vec![]);
        }
        let seq = cseq.seq;
        let call = self.calls.get_mut(&id)?;
        if let Some(tag) = msg.to().ok().and_then(|t| t.tag()) {
            if !call.dialog.remote.contains(";tag=") {
                call.dialog.remote = format!("{};tag={}", call.dialog.remote, String::from_utf8_lossy(tag));
            }
        }
        if let Some(Ok(crate::sip::Contact::Addr(na))) = msg.contacts().next() {
            call.dialog.target = String::from_utf8_lossy(na.uri.raw).into_owned();
        }
        // seed 000 callflow_modifier on the UE's answer to the INVITE (the caller's; `stop` ends the call).
        if !call.answered {
            if let Some(out) = self.modified_response(&id, code, &branch, seq, msg, ports) {
                return Some(out);
            }
        }
        let call = self.calls.get_mut(&id)?;
        if code < 200 {
            let mut out = self.on_provisional(&id);
            out.extend(self.prack(&id, msg));
            return Some(out);
        }
        if code >= 300 && call.answered {
            // A refreshing re-INVITE failed.
            self.by_branch.remove(&branch);
            return Some(self.on_refreshed(now, &id, code, msg, ports));
        }
        if code == 422 && !call.retried_422 {
            // RFC 4028 7.3: retry once with the UAS's Min-SE as interval.
            self.by_branch.remove(&branch);
            return Some(self.retry_422(&id, msg.min_se().ok().flatten()?));
        }
        if code >= 300 {
            // No loop was installed before the answer: the ports only go back.
            call.media.iter().for_each(|&(_, p)| ports.free(p));
            self.by_branch.remove(&branch);
            self.calls.remove(&id);
            return Some(vec![]);
        }
        let mut out = Vec::new();
        if call.answered {
            out.extend(self.on_refreshed(now, &id, code, msg, ports));
        } else if let Some(call) = self.calls.get_mut(&id) {
            call.answered = true;
            call.hang_up_at = call.duration.map(|d| now + d);
            // RFC 4028 7.2: the 2xx says the interval and who refreshes.
            if let Some((interval, refresher)) = session_timer::of_message(msg) {
                call.timer = Some(SessionTimer::new(now, interval, refresher != Some(Refresher::Uas)));
            }
            let answer = SessionDescription::parse(msg.body()).ok();
            out.extend(install_answered(call, answer.as_ref(), ports));
        }
        // RFC 3261 13.2.2.4: the UAC acknowledges every 2xx (with its INVITE's CSeq).
        let call = self.calls.get(&id)?;
        let ack = build_request_ext(&self.local_addr, &call.dialog, "ACK", seq, &format!("{branch}a"), None, b"", None, &[]);
        out.push((call.dialog.worker, ToWorker::SendStateless { peer: call.dialog.peer, msg: ack }));
        if let Some(headers) = call.cancelled.clone() {
            // RFC 3261 15: a 2xx that crossed our CANCEL, acknowledged then hung up.
            out.extend(self.send_in_dialog(&id, "BYE", false, &headers));
            out.extend(self.release(&id, ports));
        }
        Some(out)
    }

    /// RFC 4028 7.3: a new INVITE (next CSeq, no To tag: the 422 made no
    /// dialog) asking for `min_se` as interval and Min-SE.
    fn retry_422(&mut self, id: &str, min_se: u32) -> Vec<Out> {
        let Some(c) = self.calls.get_mut(id) else { return vec![] };
        c.retried_422 = true;
        c.dialog.remote = c.dialog.remote.split(";tag=").next().unwrap_or("").to_owned();
        let pol = *self.policy.for_impu(&super::dialogs::identity(&c.dialog.remote));
        let mut headers = pol.uac_options();
        let refresher = pol.session.force.then_some(pol.session.refresher);
        for (name, value) in headers.iter_mut() {
            match *name {
                "Session-Expires" => *value = session_timer::header_value(min_se.max(pol.session.duration), refresher),
                "Min-SE" => *value = min_se.to_string(),
                _ => {}
            }
        }
        self.send_in_dialog(id, "INVITE", true, &headers)
    }

    /// The answer to one of our refreshes or re-offers: a 2xx restarts the session
    /// timer (RFC 4028 7.4) and ends the streams the offer removed; 408 or 481 mean
    /// the dialog is gone (RFC 4028 10).
    fn on_refreshed(&mut self, now: Instant, id: &str, code: u16, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        if (200..300).contains(&code) {
            let se = session_timer::of_message(msg);
            let Some(c) = self.calls.get_mut(id) else { return vec![] };
            if let Some(t) = c.timer.as_mut() {
                t.refreshed(now, se.map(|(i, _)| i), se.and_then(|(_, r)| r).map(|r| r == Refresher::Uac));
            }
            // RFC 3264 8.2: a stream our accepted offer has at port 0 (downgrade, or an
            // sdp_file without it) is over: its loop goes and its ports are freed.
            let offer = &c.offer;
            let (gone, kept): (Vec<Stream>, Vec<Stream>) = c.media.iter().partition(|&&(k, p)| !offer.media.iter().any(|m| m.kind == k && m.port == p));
            c.media = kept;
            return media_loops::free(c.media_worker, &gone, ports);
        }
        if code == 408 || code == 481 {
            return self.release(id, ports);
        }
        vec![]
    }

    /// Frees the media of a call and forgets it.
    fn release(&mut self, id: &str, ports: &mut MediaPorts) -> Vec<Out> {
        let Some(c) = self.calls.remove(id) else { return vec![] };
        media_loops::free(c.media_worker, &c.media, ports)
    }

    /// A request inside an MT call: the UE hangs up (BYE), refreshes the
    /// session or re-offers (UPDATE, re-INVITE: answered with our echo port).
    pub fn on_in_dialog(&mut self, now: Instant, worker: u16, tx: Option<TxId>, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let Some(tx) = tx else { return vec![] };
        let id = String::from_utf8_lossy(msg.call_id().unwrap_or(b"")).into_owned();
        match msg.method() {
            Some(Method::Bye) => {
                let mut out = vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 200, "OK", &Extra::default()) })];
                out.extend(self.release(&id, ports));
                out
            }
            Some(Method::Update) | Some(Method::Invite) => {
                // seed 000 callflow_modifier REINVITE (the caller's).
                let (mut out, normal) = match msg.method() {
                    Some(Method::Invite) => self.modified_reinvite(&id, worker, tx, msg, ports),
                    _ => (Vec::new(), true),
                };
                if normal {
                    let (resp, loops) = self.answer_refresh(now, &id, msg, ports);
                    out.extend(loops);
                    out.push((worker, ToWorker::Respond { tx, msg: resp }));
                }
                out
            }
            _ => {
                let w = Extra::warning("request not handled inside an MT call");
                vec![(worker, ToWorker::Respond { tx, msg: reply_to(msg, 501, "Not Implemented", &w) })]
            }
        }
    }

    /// UPDATE or re-INVITE from the UE: the offer (if any) is answered on
    /// our ports (RFC 3264 8), a stream the UE adds (video to a voice call) on a new
    /// loop whose install command comes with the response, and the loop of a stream it
    /// disables is removed; the request refreshes the session (RFC 4028 10).
    fn answer_refresh(&mut self, now: Instant, id: &str, msg: &Message<'_>, ports: &mut MediaPorts) -> (Vec<u8>, Vec<Out>) {
        let Some(c) = self.calls.get_mut(id) else { return (reply_to(msg, 481, "Call/Transaction Does Not Exist", &Extra::default()), vec![]) };
        let mut loops = Vec::new();
        let mut headers: Headers = vec![("Contact", format!("<sip:ringcore@{}>", self.local_addr))];
        let mut body = None;
        if !msg.body().is_empty() {
            let offer = match SessionDescription::parse(msg.body()) {
                Ok(o) => o,
                Err(e) => return (reply_to(msg, 488, "Not Acceptable Here", &Extra::warning(&e.to_string())), loops),
            };
            // Without an SDP file the call offers voice; a UE adding video to it gets
            // the echo service's H.264 video looped back.
            let caps = match c.answer_caps.as_deref() {
                Some(file) => file.clone(),
                None => builtin_caps().with_h264_video(),
            };
            let local = LocalSession { addr: ports.ip, session_id: 1, session_version: c.offer.origin.session_version + 1 };
            // RFC 3264 8: each looped stream keeps its port, the first audio and video
            // section new to the call gets one (0 when none is free); others are declined.
            let (mut given, w) = (Vec::with_capacity(2), c.media_worker);
            let media = &c.media;
            let answer = sdp::answer(&offer, &caps, &local, &mut |k| {
                Some(media_loops::pick_port(&mut given, k, media, || ports.alloc_on(usize::from(w))).unwrap_or(0))
            });
            match answer {
                Ok(mut a) => {
                    a.origin.session_id = c.offer.origin.session_id.clone();
                    c.offer.origin.session_version += 1;
                    body = Some(("application/sdp".to_owned(), a.to_string().into_bytes()));
                    loops = media_loops::reconcile(w, &mut c.media, &given, ports);
                    if !loops.is_empty() {
                        // RFC 3264 8: our next offer starts from this description.
                        c.offer = a;
                    }
                }
                Err(e) => {
                    // The ports this answer took for new streams go back.
                    given.iter().filter(|g| !c.media.contains(g)).for_each(|&(_, p)| ports.free(p));
                    return (reply_to(msg, 488, "Not Acceptable Here", &Extra::warning(&e.to_string())), loops);
                }
            }
        } else if matches!(msg.method(), Some(Method::Invite)) {
            // RFC 3264 5: an offerless re-INVITE gets our offer in the 2xx.
            c.offer.origin.session_version += 1;
            body = Some(("application/sdp".to_owned(), c.offer.to_string().into_bytes()));
        }
        if let (Some(t), Some((interval, r))) = (c.timer.as_mut(), session_timer::of_message(msg)) {
            // The refresher named in the refresh request (uac: the UE) holds.
            let ue_refreshes = r.map_or(!t.we_refresh(), |r| r == Refresher::Uac);
            t.refreshed(now, Some(interval), Some(!ue_refreshes));
            let named = if ue_refreshes { Refresher::Uac } else { Refresher::Uas };
            headers.push(("Session-Expires", session_timer::header_value(interval, Some(named))));
            headers.push(("Require", "timer".into()));
        } else if let Some(t) = c.timer.as_mut() {
            t.refreshed(now, None, None);
        }
        (reply_to(msg, 200, "OK", &Extra { headers, body }), loops)
    }

    /// The next hang-up, refresh or session expiry time.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.calls.values().filter_map(|c| [c.hang_up_at, c.timer.map(|t| t.poll_timeout())].into_iter().flatten().min()).min()
    }

    /// Hangs up the calls whose duration is over (BYE, RFC 3261 15.1.1) or
    /// whose session expired without refresh (RFC 4028 10); refreshes the
    /// sessions ringcore refreshes (UPDATE or re-INVITE per `method`).
    pub fn handle_timeout(&mut self, now: Instant, ports: &mut MediaPorts) -> Vec<Out> {
        let mut due: Vec<(String, Option<Due>)> = Vec::new();
        for (k, c) in self.calls.iter_mut() {
            if c.hang_up_at.is_some_and(|t| t <= now) {
                due.push((k.clone(), Some(Due::Expire)));
            } else if let Some(d) = c.timer.as_mut().and_then(|t| t.handle_timeout(now)) {
                due.push((k.clone(), Some(d)));
            }
        }
        let mut out = Vec::new();
        for (id, what) in due {
            let Some(c) = self.calls.get(&id) else { continue };
            let interval = c.timer.map_or(0, |t| t.interval());
            match (what, c.method) {
                (Some(Due::Refresh), RefreshMethod::Update) => out.extend(self.send_in_dialog(&id, "UPDATE", false, &session_timer::refresh_headers(interval))),
                (Some(Due::Refresh), RefreshMethod::Invite) => out.extend(self.send_in_dialog(&id, "INVITE", true, &session_timer::refresh_headers(interval))),
                _ => {
                    out.extend(self.send_in_dialog(&id, "BYE", false, &[]));
                    out.extend(self.release(&id, ports));
                }
            }
        }
        out
    }

    /// The MT calls as the monitor lists them.
    pub fn dialog_rows(&self, now: Instant) -> Vec<super::dialogs::DialogRow> {
        self.calls.iter().map(|(id, c)| row(id, c, now)).collect()
    }

    /// The row of MT call `id`, if it is in progress.
    pub fn dialog_row(&self, now: Instant, id: &str) -> Option<super::dialogs::DialogRow> {
        self.calls.get(id).map(|c| row(id, c, now))
    }

    /// The MT call whose Call-ID is `call_id` (dialog_get event lists).
    pub fn dialog_of(&self, now: Instant, call_id: &str) -> Option<super::dialogs::DialogRef<'_>> {
        let (id, c) = self.calls.get_key_value(call_id)?;
        Some(super::dialogs::DialogRef { id, state: state_name(c), age: now.saturating_duration_since(c.started), ue_leg: true })
    }

    /// MT calls in progress.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// True when no MT call is in progress.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

/// seed 000 dialog state of an MT call: init until answered, then start.
fn state_name(c: &MtCall) -> &'static str {
    if c.answered {
        "start"
    } else {
        "init"
    }
}

/// The monitor's and dialog_get's row of MT call `id`.
fn row(id: &str, c: &MtCall, now: Instant) -> super::dialogs::DialogRow {
    super::dialogs::DialogRow {
        id: id.to_owned(),
        kind: "mt call",
        state: state_name(c),
        from: super::dialogs::identity(&c.dialog.local),
        to: super::dialogs::identity(&c.dialog.remote),
        age: now.saturating_duration_since(c.started),
        session_expires: c.timer.map(|t| t.interval()),
        qos: Vec::new(),
        media: media_loops::refs(c.media_worker, &c.media, &c.offer),
    }
}

/// The UE's answer `answer` to our offer (RFC 3264 6: its sections in our
/// offer's order): each stream it accepts is looped back towards the address
/// it gives; a stream it declines (port 0) is freed and offered at port 0 from
/// then on (RFC 3264 8.2). Without a readable answer every loop latches.
fn install_answered(c: &mut MtCall, answer: Option<&SessionDescription>, ports: &mut MediaPorts) -> Vec<Out> {
    let mut out = Vec::with_capacity(c.media.len());
    let w = c.media_worker;
    let offer = &mut c.offer;
    c.media.retain(|&(kind, port)| {
        let i = offer.media.iter().position(|m| m.kind == kind && m.port == port);
        let section = answer.zip(i).and_then(|(a, i)| Some((a, a.media.get(i)?)));
        match section {
            Some((_, m)) if m.port == 0 => {
                if let Some(ours) = i.and_then(|i| offer.media.get_mut(i)) {
                    ours.port = 0;
                }
                ports.free(port);
                false
            }
            _ => {
                let remote = section.and_then(|(a, m)| Some(SocketAddr::new(m.connection.as_ref().or(a.connection.as_ref())?.addr, m.port)));
                out.push(media_loops::install_to(w, (kind, port), remote));
                true
            }
        }
    });
    out
}
