//! In-dialog requests relayed between the legs of a call (RFC 3261 12.2.1.1: re-INVITE,
//! UPDATE, PRACK, INFO, MESSAGE, ...) and their answers: the SDP kept pointing at the
//! call's relays, streams an offer adds given relays of their own and given back when
//! the offer fails or the answer disables them (RFC 3264 8), the 2xx to a re-INVITE
//! acknowledged on our side and retransmitted to its sender until its ACK (which carries
//! the answer when the 2xx carried the offer, see `calls_late_offer`).

use super::*;

impl Calls {
    /// RFC 3261 12.2.1.1: an in-dialog request (re-INVITE for hold, UPDATE,
    /// INFO, MESSAGE, ...) becomes the same request in the other leg's dialog;
    /// its answer comes back through [`Calls::on_relayed_response`].
    pub(super) fn relay(&mut self, id: u64, from: Leg, worker: u16, tx: TxId, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let branch = branch_for(id, "r", self.next());
        let Some(call) = self.calls.get_mut(&id) else { return vec![] };
        let method = lossy(msg.method().map(|m| m.as_bytes()).unwrap_or(b"INFO"));
        let ctype = msg.header(HeaderName::ContentType).map(lossy);
        // RFC 3264 8: a re-INVITE or UPDATE offer may add or re-enable streams; an
        // anchored call relays them too.
        let offer = matches!(msg.method(), Some(Method::Invite | Method::Update)) && has_sdp(msg);
        let (mut out, added) = match offer && !call.anchors.is_empty() {
            true => anchor::extend_for_reoffer(ports, &mut call.anchors, from == Leg::A, msg.body()),
            false => (Vec::new(), anchor::Added::default()),
        };
        if let (Leg::A, Some(Method::Prack), Ok(Some(rack))) = (from, msg.method(), msg.rack()) {
            call.prack_to_fork(rack.rseq);
        }
        let d = if from == Leg::A { &mut call.b } else { &mut call.a };
        d.cseq += 1;
        let d = &*d;
        let body = sdp_for(ports.ip, &call.anchors, from == Leg::A, ctype.as_deref(), msg.body());
        let mut headers = Headers::new();
        // The peer's User-Agent stays unless force_user_agent replaces it (custom_headers).
        let names = [HeaderName::Supported, HeaderName::Require, HeaderName::SessionExpires, HeaderName::MinSe, HeaderName::UserAgent];
        copy_headers(msg, &names, &mut headers);
        if matches!(msg.method(), Some(Method::Prack)) && from == Leg::A {
            // RFC 3262 7.2: RAck names the CSeq of our INVITE on leg B (1).
            if let Some(rack) = prack::mapped_rack(msg, 1) {
                headers.push(("RAck", rack));
            }
        }
        let req = build_request_ext(&self.local_addr, d, &method, d.cseq, &branch, ctype.as_deref(), &body, None, &headers);
        out.push((d.worker, ToWorker::SendRequest { peer: d.peer, msg: req }));
        self.relayed.insert(branch, Relayed { call: id, from, tx, worker, req: msg.buffer().to_vec(), added });
        if from == Leg::A && matches!(msg.method(), Some(Method::Update)) {
            // The caller's early UPDATE (RFC 3311 5.1, e.g. its preconditions met, RFC
            // 3312) reaches every ringing UE of a forked call, not only the current one.
            let local_addr = self.local_addr.clone();
            out.extend(self.update_other_forks(id, |d, branch| build_request_ext(&local_addr, d, &method, d.cseq, branch, ctype.as_deref(), &body, None, &headers)));
        }
        out
    }

    /// The answer to a relayed request goes back to where the request came
    /// from; a 2xx to a re-INVITE is acknowledged on our side (13.2.2.4).
    pub(super) fn on_relayed_response(&mut self, now: Instant, branch: &str, msg: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let Some(code) = msg.status() else { return vec![] };
        if code == 100 {
            return vec![];
        }
        let Some(r) = self.relayed.get(branch) else { return vec![] };
        let (call_id, from, tx, worker, added) = (r.call, r.from, r.tx, r.worker, r.added);
        let raw = r.req.clone();
        let Ok(req) = Message::parse(&raw) else { return vec![] };
        let mut extra = Extra::default();
        let refresh = matches!(req.method(), Some(Method::Invite) | Some(Method::Update));
        if refresh {
            extra.headers.push(("Contact", self.contact.clone()));
        }
        let names = [HeaderName::Require, HeaderName::SessionExpires, HeaderName::MinSe, HeaderName::RSeq, HeaderName::Unsupported];
        copy_headers(msg, &names, &mut extra.headers);
        if refresh && (200..300).contains(&code) {
            // RFC 4028 10: a 2xx to a re-INVITE or UPDATE refreshes the session.
            let interval = session_timer::of_message(msg).map(|(i, _)| i);
            if let Some(t) = self.calls.get_mut(&call_id).and_then(|c| c.timer.as_mut()) {
                t.refreshed(now, interval, None);
            }
            self.schedule(call_id);
        }
        let mut learnt = Vec::new();
        // RFC 3264 4: a re-INVITE without a body gets the other leg's offer here.
        let late_offer = late_offer::offer_in_2xx(&req, msg);
        if let (Some(ct), false) = (msg.header(HeaderName::ContentType), msg.body().is_empty()) {
            let ct = text(ct);
            let anchors = match self.calls.get_mut(&call_id) {
                Some(c) => {
                    // Streams added by the offer learn the answerer's address here; those
                    // a final answer disables give their relays back.
                    if is_sdp(Some(&ct)) {
                        let final_ok = (200..300).contains(&code);
                        if late_offer && !c.anchors.is_empty() {
                            // The offer may add streams: they get relays as a re-offer's do.
                            learnt = anchor::extend_for_reoffer(ports, &mut c.anchors, from == Leg::B, msg.body()).0;
                        }
                        learnt.extend(anchor::learn_answer(ports, &mut c.anchors, from == Leg::B, final_ok, msg.body()));
                    }
                    c.anchors.as_slice()
                }
                None => &[],
            };
            // The answer travels back towards the leg the request came from.
            let body = sdp_for(ports.ip, anchors, from == Leg::B, Some(&ct), msg.body());
            extra.body = Some((ct, body));
        }
        let reason = text(msg.reason().unwrap_or(b""));
        let resp = reply_to(&req, code, &reason, &extra);
        let is_invite = matches!(req.method(), Some(Method::Invite));
        if let (true, Ok(cseq), Some(call)) = (is_invite && (200..300).contains(&code), req.cseq(), self.calls.get_mut(&call_id)) {
            // RFC 3261 13.3.1.4: the 2xx to a re-INVITE too is retransmitted until its ACK.
            call.unacked = Some((from, AwaitingAck::new(now, self.policy.t1, self.policy.t2, cseq.seq, resp.clone())));
            self.schedule(call_id);
        }
        let mut out = learnt;
        out.push((worker, ToWorker::Respond { tx, msg: resp }));
        if code >= 200 {
            self.relayed.remove(branch);
            if let (true, Some(c)) = (code >= 300 && !added.is_empty(), self.calls.get_mut(&call_id)) {
                // RFC 3261 14.1: a failed re-offer leaves the session as it was.
                out.extend(anchor::unrelay(ports, &mut c.anchors, added));
            }
            if is_invite && (200..300).contains(&code) {
                if let Some(call) = self.calls.get(&call_id) {
                    let (to, other) = if from == Leg::A { (Leg::B, &call.b) } else { (Leg::A, &call.a) };
                    let cseq = msg.cseq().map(|c| c.seq).unwrap_or(other.cseq);
                    let branch = format!("{branch}a");
                    if late_offer {
                        // Our ACK carries the answer that the requester's ACK brings.
                        if let Some(call) = self.calls.get_mut(&call_id) {
                            call.held_ack = Some(HeldAck { to, cseq, branch });
                        }
                    } else {
                        let ack = self.request(other, "ACK", cseq, &branch, None, b"", None);
                        out.push((other.worker, ToWorker::SendStateless { peer: other.peer, msg: ack }));
                    }
                }
            }
        }
        out
    }
}
