//! Responses to the calls' requests: those to our INVITE on leg B mapped back to the
//! caller (RFC 3261 13.2.2, 16.7: 100 stays hop by hop, 18x and 2xx relayed with the
//! callee's SDP anchored, 3xx-6xx ending the call), our ACK for its 2xx (13.2.2.4) and
//! the set-up latencies; the answers to relayed in-dialog requests go on to
//! `calls_relay`.

use super::*;
use fork::ForkStep;

/// A response to our INVITE on leg B: the call, the branch it answers, its status and text.
struct Answer<'a, 'm> {
    id: u64,
    branch: &'a str,
    code: u16,
    msg: &'a Message<'m>,
}

impl Calls {
    /// A response to one of our requests (INVITE, BYE or CANCEL on leg B, a
    /// relayed in-dialog request on either leg). `branch` is the top Via's branch of
    /// `msg` ([`top_branch`]: the control loop reads it once to pick the service).
    /// Set-up latencies as the core sees them go into `lat`.
    pub fn on_response(&mut self, now: Instant, branch: &[u8], msg: &Message<'_>, ports: &mut MediaPorts, lat: &mut Latencies) -> Vec<Out> {
        let branch = lossy(branch);
        let branch: &str = &branch;
        if let Some(out) = self.on_reoffer_response(now, branch, msg, ports) {
            return out;
        }
        // Only leg B's INVITE branch is mapped: a BYE's answer finds nothing (the call was
        // forgotten when the BYE left), and a CANCEL shares its INVITE's branch (RFC 3261
        // 9.1), so the mapping stays for the INVITE's 487. A relayed request's branch
        // (`r`, see `branch_for`) is never an INVITE's (`i`).
        let Some(id) = self.invite_call(branch) else {
            if self.relayed.contains_key(branch) {
                return self.on_relayed_response(now, branch, msg, ports);
            }
            self.on_fork_update_answer(branch, msg);
            return vec![];
        };
        let (Some(code), Ok(cseq)) = (msg.status(), msg.cseq()) else { return vec![] };
        if !matches!(cseq.method, Method::Invite) {
            return vec![];
        }
        if self.calls.get(&id).is_some_and(|c| c.forks.is_forked()) {
            return match self.on_fork_response(id, branch, code, msg, ports) {
                ForkStep::Done(out) => out,
                ForkStep::Relay(first) if code >= 300 => self.final_error(now, Answer { id, branch, code, msg }, ports, lat, first),
                ForkStep::Relay(first) => self.relay_invite_response(now, Answer { id, branch, code, msg }, ports, lat, first),
                ForkStep::RelayBest { branch, raw } => self.relay_stored_error(now, id, &branch, &raw, ports, lat),
            };
        }
        if code >= 300 {
            return self.final_error(now, Answer { id, branch, code, msg }, ports, lat, Vec::new());
        }
        self.relay_invite_response(now, Answer { id, branch, code, msg }, ports, lat, Vec::new())
    }

    /// Call `id`'s silent forks are given up (`calls_fork.rs`): the best error of the
    /// others is relayed, or the next q tried.
    pub(super) fn give_up_silent_forks(&mut self, now: Instant, id: u64, ports: &mut MediaPorts, lat: &mut Latencies) -> Vec<Out> {
        match self.silent_forks_given_up(id) {
            ForkStep::RelayBest { branch, raw } => self.relay_stored_error(now, id, &branch, &raw, ports, lat),
            ForkStep::Done(out) | ForkStep::Relay(out) => out,
        }
    }

    /// A fork's final error kept as the best (`raw`, fork `branch`), relayed as
    /// [`Self::final_error`] does.
    fn relay_stored_error(&mut self, now: Instant, id: u64, branch: &str, raw: &[u8], ports: &mut MediaPorts, lat: &mut Latencies) -> Vec<Out> {
        match Message::parse(raw) {
            Ok(best) => self.final_error(now, Answer { id, branch, code: best.status().unwrap_or(500), msg: &best }, ports, lat, Vec::new()),
            Err(_) => Vec::new(),
        }
    }

    /// The best final error `a` of our INVITE(s) to the callee's UEs of one q: the UEs of
    /// the next q are tried (calls_serial.rs), or the best error of all is relayed.
    fn final_error(&mut self, now: Instant, a: Answer<'_, '_>, ports: &mut MediaPorts, lat: &mut Latencies, mut out: Vec<Out>) -> Vec<Out> {
        match self.after_failure(now, a.id, a.code, a.msg.buffer()) {
            serial::AfterFailure::Next(next) => {
                out.extend(next);
                out
            }
            serial::AfterFailure::Relay(None) => self.relay_invite_response(now, a, ports, lat, out),
            serial::AfterFailure::Relay(Some(raw)) => match Message::parse(&raw) {
                Ok(best) => self.relay_invite_response(now, Answer { code: best.status().unwrap_or(a.code), msg: &best, ..a }, ports, lat, out),
                Err(_) => out,
            },
        }
    }

    /// Response `a.code` of the callee to our INVITE on leg B (the current fork's when
    /// forked), relayed to the caller after `out`.
    fn relay_invite_response(&mut self, now: Instant, a: Answer<'_, '_>, ports: &mut MediaPorts, lat: &mut Latencies, mut out: Vec<Out>) -> Vec<Out> {
        let Answer { id, branch, code, msg } = a;
        let Some(call) = self.calls.get_mut(&id) else { return out };
        // The remote tag, learnt from the first response that has one: the To value
        // borrowed when it is UTF-8, the tag appended in place.
        if !call.b_tagged {
            if let Some(tag) = msg.header(HeaderName::To).map(lossy).as_deref().and_then(tag_of) {
                call.b.remote.push_str(";tag=");
                call.b.remote.push_str(tag);
                call.b_tagged = true;
            }
        }
        // RFC 3261 12.1.2: the remote target, rewritten when it changed (a Contact that is
        // exactly `<target>` names the same URI: no parse).
        if !is_bracketed(msg.header(HeaderName::Contact), &call.b.target) {
            if let Some(Ok(crate::sip::Contact::Addr(na))) = msg.contacts().next() {
                if call.b.target.as_bytes() != na.uri.raw {
                    call.b.target = text(na.uri.raw);
                }
            }
        }
        // seed 000 callflow_modifier on the callee's answer.
        let (relay, decorate) = match self.modify_response(id, code, branch, msg, ports) {
            modifier::Next::Done(done) => {
                out.extend(done);
                return out;
            }
            modifier::Next::Continue { out: generated, relay, decorate } => {
                out.extend(generated);
                (relay, decorate)
            }
        };
        let Some(call) = self.calls.get_mut(&id) else { return out };
        if code == 100 {
            return out;
        }
        let a_invite = std::sync::Arc::clone(&call.a_invite);
        let Some(req) = a_invite.message() else { return out };
        // Room for the relays, the response and the ACK; for Contact, Session-Expires, Require.
        out.reserve(4);
        let body = msg.body();
        let ctype = msg.header(HeaderName::ContentType).map(lossy);
        let reason = lossy(msg.reason().unwrap_or(b""));
        let mut extra = Extra { headers: Vec::with_capacity(3), body: None };
        extra.headers.push(("Contact", self.contact.clone()));
        if (200..300).contains(&code) {
            // RFC 4028 8.2: the session timer of the answer, or the one we asked
            // for when the callee does not do timers (then the caller refreshes).
            let se = session_timer::of_message(msg).map(|(i, r)| (i, r.or(Some(Refresher::Uac))));
            let se = se.or(call.se.filter(|_| call.a_timer).map(|(i, _)| (i, Some(Refresher::Uac))));
            if let Some((interval, refresher)) = se {
                call.timer = Some(SessionTimer::new(now, interval, false));
                extra.headers.push(("Session-Expires", session_timer::header_value(interval, refresher)));
            }
            let add = se.filter(|_| call.a_timer).map(|_| "timer");
            let require = tokens_except(msg, HeaderName::Require, &[b"timer", b"100rel"], add);
            if !require.is_empty() {
                extra.headers.push(("Require", require));
            }
        } else {
            // RFC 3262 relayed as is (same RSeq); 420/422 keep their reasons.
            copy_headers(msg, &[HeaderName::Require, HeaderName::RSeq, HeaderName::MinSe, HeaderName::Unsupported], &mut extra.headers);
        }
        let mut media_cmds = Vec::new();
        let late_offer = late_offer::offer_in_2xx(&req, msg);
        if let (Some(ct), false) = (&ctype, body.is_empty()) {
            // The callee's SDP answer (or late offer) goes to the caller pointing at our ports.
            let anchored = match (late_offer, call.anchors.is_empty()) {
                (true, true) => late_offer::anchor_late_offer(ports, &mut call.anchors, body).map(|offer| (offer, Vec::new())),
                (false, false) => anchor::anchor_answer(ports, &mut call.anchors, body),
                _ => None,
            };
            let body = match anchored {
                Some((answer, cmds)) => {
                    media_cmds = cmds;
                    answer
                }
                None => body.to_vec(),
            };
            extra.body = Some((ct.clone().into_owned(), body));
        }
        let local_tag = call.a_tag();
        let resp = crate::control::reply::reply_to_tagged(&req, code, &reason, &extra, local_tag);
        let resp = match &decorate {
            Some(eff) => crate::control::callflow::with_headers(resp, &eff.headers),
            None => resp,
        };
        out.extend(media_cmds);
        if let Some(tx) = call.a_tx.filter(|_| relay) {
            if (200..300).contains(&code) {
                let cseq = req.cseq().map_or(1, |c| c.seq);
                call.unacked = Some((Leg::A, AwaitingAck::new(now, self.policy.t1, self.policy.t2, cseq, resp.clone())));
            }
            out.push((call.a.worker, ToWorker::Respond { tx, msg: resp }));
        }
        match code {
            101..=199 => {
                if code == 180 && !call.rang {
                    call.rang = true;
                    lat.record(LatencyKind::InviteToRinging, now.saturating_duration_since(call.started));
                }
                call.state = CallState::Ringing;
            }
            200..=299 => {
                let first = call.state != CallState::Started;
                if first {
                    lat.record(LatencyKind::InviteToAnswer, now.saturating_duration_since(call.started));
                }
                call.state = CallState::Started;
                call.a_tx = None;
                // RFC 3261 13.2.2.4: the UAC acknowledges the 2xx itself; an ACK to a
                // late offer waits for the caller's answer.
                let ack_branch = branch_for(id, "a", self.next());
                if late_offer {
                    if let Some(call) = self.calls.get_mut(&id) {
                        call.held_ack = Some(HeldAck { to: Leg::B, cseq: 1, branch: ack_branch });
                    }
                } else {
                    let call = &self.calls[&id];
                    let ack = self.request(&call.b, "ACK", 1, &ack_branch, None, b"", None);
                    out.push((call.b.worker, ToWorker::SendStateless { peer: call.b.peer, msg: ack }));
                }
                self.schedule(id);
                if first {
                    self.count_outcome(code);
                }
            }
            300..=699 => {
                self.count_outcome(code);
                let Some(call) = self.calls.get_mut(&id) else { return out };
                call.state = CallState::Stopped;
                call.a_tx = None;
                out.extend(anchor::release(ports, &call.anchors));
                call.anchors.clear();
                // Forgets the INVITE's branch too (it is `branch`).
                self.remove(id);
            }
            _ => {} // 100 Trying is hop by hop (RFC 3261 16.7): nothing to relay
        }
        out
    }

    /// A 2xx retransmission on leg B without a transaction: ACK it again (the ACK
    /// with the answer to a late offer, or none while the caller's answer is awaited).
    pub fn on_stray_2xx(&mut self, msg: &Message<'_>) -> Vec<Out> {
        let Some(branch) = top_branch(msg).map(lossy) else { return vec![] };
        let Some(call) = self.invite_call(&branch).and_then(|id| self.calls.get(&id)) else { return vec![] };
        if call.b_invite_branch != branch {
            return vec![]; // a fork that lost: acknowledged once, then hung up (calls_fork.rs)
        }
        if call.held_ack.as_ref().is_some_and(|h| h.to == Leg::B) {
            return vec![];
        }
        let ack = match &call.b_ack {
            Some(ack) => ack.clone(),
            None => self.request(&call.b, "ACK", 1, &format!("{branch}a"), None, b"", None),
        };
        vec![(call.b.worker, ToWorker::SendStateless { peer: call.b.peer, msg: ack })]
    }
}
