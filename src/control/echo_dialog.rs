//! Echo calls after the INVITE: the UE's in-dialog requests (PRACK,
//! UPDATE, re-INVITE, BYE), the answers to ringcore's own refreshes, CANCEL,
//! and the monitor's view and actions (`dialog`, `dialog_set`).

use super::super::dialogs::{self, Action, DialogRow, Reason};
use super::super::reply::{reply_to, Extra};
use super::{build_request_ext, precondition, session_timer, AwaitingAck, Echo, EchoCall, Headers, MediaPorts, Out, Stage};
use crate::config::typed::Refresher;
use crate::endpoint::ToWorker;
use crate::sdp::{self, SessionDescription};
use crate::sip::transaction::TxId;
use crate::sip::{Message, Method};
use std::time::Instant;

/// The seed 000 dialog state of an echo call at `stage`.
fn state_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Preconditions | Stage::Alerting => "init",
        Stage::Ringing => "ringing",
        Stage::Answered => "start",
    }
}

/// The monitor's and dialog_get's row of echo call `c` (Call-ID `id`).
fn row(id: &str, c: &EchoCall, now: Instant) -> DialogRow {
    DialogRow {
        id: id.to_owned(),
        kind: "echo",
        state: state_name(c.stage),
        from: dialogs::identity(&c.dialog.remote),
        to: dialogs::identity(&c.dialog.local),
        age: now.saturating_duration_since(c.started),
        session_expires: c.timer.map(|t| t.interval()),
        qos: c.qos.media.iter().map(|q| q.name()).collect(),
        media: super::super::media_loops::refs(c.worker, &c.media, &c.sdp),
    }
}

impl Echo {
    /// A response to one of our refreshes: a 2xx restarts the session timer
    /// (and a 2xx to a re-INVITE is acknowledged, RFC 3261 13.2.2.4); 408 or
    /// 481 mean the dialog is gone (RFC 4028 10).
    pub fn on_response(&mut self, now: Instant, msg: &Message<'_>, ports: &mut MediaPorts) -> Option<Vec<Out>> {
        let branch = msg.via_top().ok()?.branch().map(|b| String::from_utf8_lossy(b).into_owned())?;
        let id = self.by_branch.get(&branch)?.clone();
        let code = msg.status()?;
        if code < 200 {
            return Some(vec![]);
        }
        self.by_branch.remove(&branch);
        let mut out = Vec::new();
        let is_invite = msg.cseq().is_ok_and(|c| matches!(c.method, Method::Invite));
        if (200..300).contains(&code) {
            let interval = session_timer::of_message(msg).map(|(i, _)| i);
            if let Some(c) = self.calls.get_mut(&id) {
                if let Some(t) = c.timer.as_mut() {
                    t.refreshed(now, interval, None);
                }
                if is_invite {
                    let ack = build_request_ext(&self.local_addr, &c.dialog, "ACK", c.dialog.cseq, &format!("{branch}a"), None, b"", None, &[]);
                    out.push((c.dialog.worker, ToWorker::SendStateless { peer: c.dialog.peer, msg: ack }));
                }
            }
            self.schedule(&id);
        } else if code == 408 || code == 481 {
            out.extend(self.release(&id, ports));
        }
        Some(out)
    }

    /// The UE cancelled an unanswered echo call: 487 (RFC 3261 9.2).
    /// `target` is a transaction of `worker` (ids are per worker).
    pub fn on_cancelled(&mut self, worker: u16, target: TxId, ports: &mut MediaPorts) -> Vec<Out> {
        let found = self.calls.iter().find(|(_, c)| c.tx == Some(target) && c.tx_worker == worker);
        let Some(id) = found.map(|(k, _)| k.clone()) else { return vec![] };
        let Some(c) = self.calls.get(&id) else { return vec![] };
        let msg = self.response(c, 487, "Request Terminated", Headers::new(), false);
        let mut out = vec![(c.tx_worker, ToWorker::Respond { tx: target, msg })];
        out.extend(self.release(&id, ports));
        out
    }

    /// In-dialog requests of an echo call: BYE ends it (and frees the media
    /// port); PRACK acknowledges a reliable 18x; UPDATE and re-INVITE are
    /// answered with our media (and refresh the session, RFC 4028 10), an
    /// UPDATE meeting the preconditions lets the call alert.
    pub fn on_in_dialog(&mut self, now: Instant, worker: u16, tx: Option<TxId>, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let call_id = String::from_utf8_lossy(msg.call_id().unwrap_or(b"")).into_owned();
        let Some(tx) = tx else {
            // The ACK of our 200 (RFC 3261 13.3.1.4): its retransmissions stop.
            let acked = |c: &&mut EchoCall| msg.method() == Some(Method::Ack) && c.unacked.as_ref().is_some_and(|u| u.acked_by(msg));
            if let Some(c) = self.calls.get_mut(&call_id).filter(acked) {
                c.unacked = None;
                if std::mem::take(&mut c.late_offer) {
                    return late_answer(c, msg, ports);
                }
            }
            return vec![];
        };
        let respond = |m: Vec<u8>| vec![(worker, ToWorker::Respond { tx, msg: m })];
        match msg.method() {
            Some(Method::Bye) => {
                let mut out = respond(reply_to(msg, 200, "OK", &Extra::default()));
                out.extend(self.release(&call_id, ports));
                out
            }
            Some(Method::Prack) => {
                // A PRACK crossing our 200 still acknowledges an 18x we sent.
                let late = |c: &EchoCall| c.stage == Stage::Answered && msg.rack().ok().flatten().is_some_and(|r| r.rseq < c.next_rseq);
                let acked = self.calls.get(&call_id).is_some_and(|c| c.reliable.as_ref().is_some_and(|r| r.acked_by(msg)) || late(c));
                if !acked {
                    // RFC 3262 3: a PRACK matching no unacknowledged reliable 18x.
                    return respond(reply_to(msg, 481, "Call/Transaction Does Not Exist", &Extra::warning("no such reliable provisional response")));
                }
                let mut out = Vec::new();
                if let Some(c) = self.calls.get_mut(&call_id) {
                    c.reliable = None;
                    // RFC 3262 5: the answer to the offer our reliable 18x carried.
                    if c.late_offer && !msg.body().is_empty() {
                        c.late_offer = false;
                        out = late_answer(c, msg, ports);
                    }
                }
                out.extend(respond(reply_to(msg, 200, "OK", &Extra::default())));
                out.extend(self.call_timeout(now, &call_id, ports));
                out
            }
            // seed 000 callflow_modifier REINVITE: the UE's INVITE in the established dialog.
            Some(Method::Invite) if self.calls.get(&call_id).is_some_and(|c| c.stage == Stage::Answered) => {
                let (mut out, normal) = self.modified_reinvite(now, &call_id, worker, tx, msg);
                if normal {
                    out.extend(self.on_offer(now, worker, tx, msg, ports));
                }
                out
            }
            Some(Method::Update) | Some(Method::Invite) => self.on_offer(now, worker, tx, msg, ports),
            _ => respond(reply_to(msg, 501, "Not Implemented", &Extra::warning("request not handled on an echo call"))),
        }
    }

    /// UPDATE or re-INVITE: a new offer is answered with the same ports (RFC
    /// 3264 8), a stream it adds gets an echo and one it disables loses its own; the
    /// request refreshes the session timer (RFC 4028 10).
    fn on_offer(&mut self, now: Instant, worker: u16, tx: TxId, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let call_id = String::from_utf8_lossy(msg.call_id().unwrap_or(b"")).into_owned();
        let respond = |m: Vec<u8>| vec![(worker, ToWorker::Respond { tx, msg: m })];
        let Some(c) = self.calls.get(&call_id) else { return vec![] };
        let (w, media, callee) = (c.worker as usize, c.media.clone(), c.callee.clone());
        self.caps.preconditions.local_reserved = c.qos.local_reserved();
        let mut met = false;
        let mut installs = Vec::new();
        if !msg.body().is_empty() {
            let offer = match SessionDescription::parse(msg.body()) {
                Ok(o) => o,
                Err(e) => return respond(reply_to(msg, 488, "Not Acceptable Here", &Extra::warning(&e.to_string()))),
            };
            let (mut answer, now_media) = match self.answer(&offer, ports, w, &media, &callee) {
                Ok(a) => a,
                Err(why) => return respond(reply_to(msg, 488, "Not Acceptable Here", &Extra::warning(&why))),
            };
            // A section of a kind not echoed yet (video added, RFC 3264 8.1) gets its echo;
            // an echoed stream the offer disables (port 0, 8.2) loses it and frees its pair.
            if let Some(c) = self.calls.get_mut(&call_id) {
                installs = super::super::media_loops::reconcile(w as u16, &mut c.media, &now_media, ports);
            }
            met = precondition::offerer_met(&offer);
            if let Some(c) = self.calls.get_mut(&call_id) {
                answer.origin.session_id = c.sdp.origin.session_id.clone();
                answer.origin.session_version = c.sdp.origin.session_version + 1;
                c.sdp = answer;
            }
        }
        let Some(c) = self.calls.get_mut(&call_id) else { return vec![] };
        let mut headers = vec![("Contact", self.contact.clone())];
        if let (Some(t), Some((interval, _))) = (c.timer.as_mut(), c.se) {
            // RFC 4028 10: the refresher named by the refresh request holds
            // (seen from its sender, the UE: uac is the UE).
            let theirs = session_timer::of_message(msg);
            let ue_refreshes = theirs.and_then(|(_, r)| r).map_or(!t.we_refresh(), |r| r == Refresher::Uac);
            let interval = theirs.map_or(interval, |(i, _)| i);
            t.refreshed(now, Some(interval), Some(!ue_refreshes));
            let r = if ue_refreshes { Refresher::Uac } else { Refresher::Uas };
            c.se = Some((interval, if ue_refreshes { Refresher::Uac } else { Refresher::Uas }));
            headers.push(("Session-Expires", session_timer::header_value(interval, Some(r))));
            headers.push(("Require", "timer".into()));
        }
        if c.stage == Stage::Preconditions && met {
            c.stage = Stage::Alerting;
        }
        let is_invite = matches!(msg.method(), Some(Method::Invite));
        let has_offer = !msg.body().is_empty() || is_invite;
        let body = has_offer.then(|| ("application/sdp".to_owned(), c.sdp.to_string().into_bytes()));
        let ok = reply_to(msg, 200, "OK", &Extra { headers, body });
        if let (true, Ok(cseq)) = (is_invite && c.stage == Stage::Answered, msg.cseq()) {
            // RFC 3261 13.3.1.4: the 2xx to a re-INVITE too is retransmitted until its ACK.
            c.unacked = Some(AwaitingAck::new(now, self.policy.t1, self.policy.t2, cseq.seq, ok.clone()));
        }
        let mut out = installs;
        out.extend(respond(ok));
        out.extend(self.call_timeout(now, &call_id, ports));
        out
    }

    /// The echo calls as the monitor lists them.
    pub fn dialog_rows(&self, now: Instant) -> Vec<DialogRow> {
        self.calls.iter().map(|(id, c)| row(id, c, now)).collect()
    }

    /// The row of echo call `call_id`.
    pub fn dialog_row(&self, now: Instant, call_id: &str) -> Option<DialogRow> {
        self.calls.get(call_id).map(|c| row(call_id, c, now))
    }

    /// The echo call whose Call-ID is `call_id` (dialog_get event lists).
    pub fn dialog_of(&self, now: Instant, call_id: &str) -> Option<dialogs::DialogRef<'_>> {
        let (id, c) = self.calls.get_key_value(call_id)?;
        Some(dialogs::DialogRef { id, state: state_name(c.stage), age: now.saturating_duration_since(c.started), ue_leg: true })
    }

    /// `dialog_set ID reinvite` (our current SDP again, RFC 3264 8) or `downgrade`
    /// (the sections of the removed media at port 0, RFC 3264 8.2) on an answered echo
    /// call; its 2xx is acknowledged by [`Echo::on_response`]. None when ID is not an
    /// echo call.
    pub fn reoffer(&mut self, id: &str, remove: Option<sdp::MediaKind>) -> Option<Result<Vec<Out>, String>> {
        let c = self.calls.get_mut(id)?;
        if c.stage != Stage::Answered {
            return Some(Err("the call is not answered".into()));
        }
        if let Some(kind) = remove {
            if let Err(e) = dialogs::remove_media(&mut c.sdp, kind) {
                return Some(Err(e));
            }
        }
        Some(Ok(self.send_in_dialog(id, "INVITE", Headers::new(), true)))
    }

    /// `dialog_set ID stop|hold|answer` on an echo call: stop ends it (BYE
    /// once answered, else 480); hold re-INVITEs the UE with our media
    /// `a=sendonly` (RFC 3264 8.4), or `a=sendrecv` when it is held already; answer sends the 200 of a ringing call
    /// (ring_only, remote_control), or the forced code (a 3xx-6xx refuses the call). None when ID is not an echo call.
    pub fn dialog_set(&mut self, now: Instant, id: &str, action: &Action, ports: &mut MediaPorts) -> Option<Result<Vec<Out>, String>> {
        let c = self.calls.get_mut(id)?;
        let answered = c.stage == Stage::Answered;
        let ringing = c.stage == Stage::Ringing;
        Some(match (action, answered) {
            (Action::Stop(reason), true) => {
                // RFC 3326 2: the operator's Reason goes with the BYE.
                let mut out = self.send_in_dialog(id, "BYE", Reason::headers(reason.as_ref()), false);
                out.extend(self.release(id, ports));
                Ok(out)
            }
            (Action::Stop(reason), false) => {
                let mut headers = Extra::warning("stopped by the operator").headers;
                headers.extend(Reason::headers(reason.as_ref()));
                Ok(self.reject(id, 480, "Temporarily Unavailable", headers, ports))
            }
            (Action::Hold, true) => {
                // seed 000 "hold or unhold": a held call (our media sendonly) is resumed.
                let held = c.sdp.media.first().and_then(|m| m.direction()) == Some(sdp::Direction::SendOnly);
                let dir = if held { sdp::Direction::SendRecv } else { sdp::Direction::SendOnly };
                dialogs::set_direction(&mut c.sdp, dir);
                Ok(self.send_in_dialog(id, "INVITE", Headers::new(), true))
            }
            (Action::Hold, false) => Err("the call is not answered".into()),
            // seed 000 dialog_set.code: a forced 3xx-6xx refuses the call.
            (&Action::Answer(Some(code)), false) if ringing && code >= 300 => {
                Ok(self.reject(id, code, super::super::callflow::reason(code), Extra::warning("answered by the operator").headers, ports))
            }
            (&Action::Answer(code), false) if ringing => {
                let out = self.answer_now_with(now, id, code.unwrap_or(200));
                self.schedule(id);
                Ok(out)
            }
            (Action::Answer(_), false) => Err("the call is not ringing yet".into()),
            (Action::Answer(_), true) => Err("the call is answered already".into()),
        })
    }
}

/// The UE's answer to our late offer, in its ACK or, after a reliable 18x, its PRACK
/// (RFC 3264 4, 6; RFC 3262 5): the streams it rejects (port 0) lose their loops and port
/// pairs. A request without a readable answer leaves the loops as offered (they latch
/// onto whatever the UE sends).
fn late_answer(c: &mut EchoCall, req: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
    let Ok(answer) = SessionDescription::parse(req.body()) else { return Vec::new() };
    let offered = c.sdp.media.iter().map(|m| m.port);
    let rejected: Vec<u16> = offered.zip(&answer.media).filter(|(ours, theirs)| *ours != 0 && theirs.port == 0).map(|(ours, _)| ours).collect();
    let kept: Vec<super::super::media_loops::Stream> = c.media.iter().filter(|(_, p)| !rejected.contains(p)).copied().collect();
    super::super::media_loops::reconcile(c.worker, &mut c.media, &kept, ports)
}
