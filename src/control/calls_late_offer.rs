//! Offers in a 2xx ("late offer"): an INVITE or re-INVITE that reaches ringcore without
//! a body gets its offer in the answerer's 2xx, and the answer comes in the ACK of the
//! leg that sent the request (RFC 3261 13.2.1, RFC 3264 4). The B2BUA acknowledges
//! each 2xx on its own side (13.2.2.4), so that ACK must wait for the answer and carry
//! it ([`HeldAck`]); the offer's media is anchored the other way round (the answerer's
//! addresses first, the requester's from its ACK).

use super::*;

/// Our ACK for a 2xx that carried an offer, held until the requester's ACK brings the
/// answer. At most one per call: a new (re-)INVITE waits for the ACK of the last one
/// (RFC 3261 14.1 allows no overlapping INVITE transactions in a dialog).
#[derive(Clone, Debug)]
pub(super) struct HeldAck {
    /// The leg whose 2xx carried the offer (the ACK goes there).
    pub to: Leg,
    /// The CSeq number of the INVITE on that leg.
    pub cseq: u32,
    /// The ACK's Via branch.
    pub branch: String,
}

/// True when `req` (a relayed INVITE) carried no offer and `resp`, its 2xx, carries SDP:
/// the offer (RFC 3264 4).
pub(super) fn offer_in_2xx(req: &Message<'_>, resp: &Message<'_>) -> bool {
    resp.status().is_some_and(|c| (200..300).contains(&c)) && !has_sdp(req) && has_sdp(resp)
}

/// The callee's offer in the 2xx to an INVITE without one, anchored (ports allocated,
/// the callee's addresses learnt, relays installed once the caller's ACK answers): the
/// offer for the caller. None (passed through unanchored) for SDP the parser refuses
/// (a response cannot be refused) or when no port is free.
pub(super) fn anchor_late_offer(ports: &mut MediaPorts, anchors: &mut Vec<Anchor>, body: &[u8]) -> Option<Vec<u8>> {
    let (new, offer, _) = anchor::anchor_offer_from(ports, false, body).ok()?;
    *anchors = new;
    Some(offer)
}

impl Calls {
    /// `leg` acknowledged a 2xx that carried the other leg's offer: our held ACK goes to
    /// that leg with the answer from `ack`, its SDP pointing at our ports, and the
    /// relays learn the answerer's addresses (those it rejects are removed). An ACK
    /// without an answer is passed on as it came (the answerer's protocol error).
    pub(super) fn release_held_ack(&mut self, id: u64, leg: Leg, ack: &Message<'_>, ports: &mut MediaPorts) -> Vec<Out> {
        let Some(call) = self.calls.get_mut(&id) else { return Vec::new() };
        let Some(held) = call.held_ack.take_if(|h| h.to != leg) else { return Vec::new() };
        let ctype = ack.header(HeaderName::ContentType).map(lossy);
        let mut out = Vec::new();
        let mut body = ack.body().to_vec();
        if has_sdp(ack) && !call.anchors.is_empty() {
            if let Some((answer, cmds)) = anchor::anchor_answer_from(ports, &mut call.anchors, leg == Leg::A, &body) {
                body = answer;
                out = cmds;
            }
        }
        let Some(call) = self.calls.get(&id) else { return out };
        let d = if held.to == Leg::A { &call.a } else { &call.b };
        let msg = self.request(d, "ACK", held.cseq, &held.branch, ctype.as_deref().filter(|_| !body.is_empty()), &body, None);
        out.push((d.worker, ToWorker::SendStateless { peer: d.peer, msg: msg.clone() }));
        if let (Leg::B, Some(call)) = (held.to, self.calls.get_mut(&id)) {
            // A retransmitted 2xx on leg B is acknowledged with this same ACK.
            call.b_ack = Some(msg);
        }
        out
    }
}
