//! Relayed calls and `dialog_get` / `dialog_set`: which dialog a Call-ID belongs to,
//! the media each dialog's caller is served by, and the re-INVITEs ringcore itself
//! sends on a leg (`reinvite`, `hold`, `downgrade`): RFC 3261 14.1 with the offer
//! the control thread built from the SDP last sent on that leg (RFC 3264 8), the 2xx
//! acknowledged by ringcore (13.2.2.4) and the session timer refreshed (RFC 4028 10).

use super::super::dialogs::{DialogRef, DialogRow, MediaRef};
use super::{anchor, has_sdp, session_timer, Anchor, CallState, Calls, Leg, MediaPorts, Message, Out, ToWorker};
use crate::sip::Method;
use std::time::Instant;

/// The relays facing the caller, one per anchored media section.
pub(super) fn media_refs(anchors: &[Anchor]) -> impl Iterator<Item = MediaRef> + '_ {
    let relayed = anchors.iter().enumerate().filter(|(_, a)| a.relayed());
    relayed.map(|(section, a)| MediaRef { worker: a.worker, port: a.port_a, section, peer: Some(a.port_b) })
}

/// Branch prefix of every request of the B2BUA; ringcore's own re-INVITEs add
/// `<call id in hex>o<sequence in hex>` ('o' is no hex digit, so the id parses back).
const BRANCH_PREFIX: &str = super::ids::BRANCH_CALL;

impl Calls {
    /// The relayed call one of whose legs has Call-ID `call_id`.
    pub fn dialog_of(&self, now: Instant, call_id: &str) -> Option<DialogRef<'_>> {
        let &(id, leg) = self.by_call_id.get(call_id)?;
        let c = self.calls.get(&id)?;
        let state = super::timeout::state_name(c.state);
        Some(DialogRef { id: &c.a.call_id, state, age: now.saturating_duration_since(c.started), ue_leg: leg == Leg::A })
    }

    /// The row of the relayed call one of whose legs has Call-ID `call_id`.
    pub fn dialog_row(&self, now: Instant, call_id: &str) -> Option<DialogRow> {
        let &(id, _) = self.by_call_id.get(call_id)?;
        Some(super::timeout::row(self.calls.get(&id)?, now))
    }

    /// Refreshes in place `row`, the row of the relayed call one of whose legs has
    /// Call-ID `call_id` (nothing allocated once it was filled). False when `call_id`
    /// is not a relayed call.
    pub fn refresh_row(&self, now: Instant, call_id: &str, row: &mut DialogRow) -> bool {
        let Some(c) = self.by_call_id.get(call_id).and_then(|(id, _)| self.calls.get(id)) else { return false };
        super::timeout::fill_row(c, now, row);
        true
    }


    /// The Call-IDs of the caller's and the callee's legs of call `call_id`.
    pub fn legs(&self, call_id: &str) -> Option<(String, String)> {
        let &(id, _) = self.by_call_id.get(call_id)?;
        let c = self.calls.get(&id)?;
        Some((c.a.call_id.clone(), c.b.call_id.clone()))
    }

    /// Sends a re-INVITE carrying `body` (SDP) on each leg of `offers` (by the leg's
    /// Call-ID) of the answered call `call_id`. None when `call_id` is not a relayed call.
    pub fn reoffer(&mut self, call_id: &str, offers: Vec<(String, Vec<u8>)>) -> Option<Result<Vec<Out>, String>> {
        let &(id, _) = self.by_call_id.get(call_id)?;
        if self.calls.get(&id).map(|c| c.state) != Some(CallState::Started) {
            return Some(Err("the call is not answered".into()));
        }
        let mut out = Vec::new();
        for (leg_id, body) in offers {
            let branch = super::branch_for(id, "o", self.next());
            let Some(c) = self.calls.get_mut(&id) else { break };
            let d = if c.a.call_id == leg_id { &mut c.a } else if c.b.call_id == leg_id { &mut c.b } else { continue };
            d.cseq += 1;
            let d = d.clone();
            let req = self.request(&d, "INVITE", d.cseq, &branch, Some("application/sdp"), &body, None);
            out.push((d.worker, ToWorker::SendRequest { peer: d.peer, msg: req }));
        }
        Some(Ok(out))
    }

    /// A response to one of ringcore's own re-INVITEs (by its branch): the 2xx is
    /// acknowledged on its leg and refreshes the session, and the relays of the sections
    /// its answer disables (a `downgrade`, RFC 3264 8.2) are removed. None for other
    /// branches.
    pub(super) fn on_reoffer_response(&mut self, now: Instant, branch: &str, msg: &Message<'_>, ports: &mut MediaPorts) -> Option<Vec<Out>> {
        let (id_hex, _) = branch.strip_prefix(BRANCH_PREFIX)?.split_once('o')?;
        let id = u64::from_str_radix(id_hex, 16).ok()?;
        let code = msg.status()?;
        let cseq = msg.cseq().ok()?;
        if !(200..300).contains(&code) || !matches!(cseq.method, Method::Invite) {
            // Provisional: wait; non-2xx finals are acknowledged by the transaction (RFC 3261 17.1.1.3).
            return Some(Vec::new());
        }
        let call_id = std::str::from_utf8(msg.call_id().ok()?).ok()?;
        let c = self.calls.get_mut(&id)?;
        let from_a = c.a.call_id == call_id;
        let d = if from_a { c.a.clone() } else { c.b.clone() };
        let mut out = match has_sdp(msg) && !c.anchors.is_empty() {
            true => anchor::learn_answer(ports, &mut c.anchors, from_a, true, msg.body()),
            false => Vec::new(),
        };
        if let Some(t) = c.timer.as_mut() {
            t.refreshed(now, session_timer::of_message(msg).map(|(i, _)| i), None);
        }
        self.schedule(id);
        let ack = self.request(&d, "ACK", cseq.seq, &format!("{branch}a"), None, b"", None);
        out.push((d.worker, ToWorker::SendStateless { peer: d.peer, msg: ack }));
        Some(out)
    }
}
