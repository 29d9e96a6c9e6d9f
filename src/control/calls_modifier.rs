//! `callflow_modifier` on relayed calls (seed 000 5.2.1; MO dialogs use
//! the callee's modifiers, matched against the caller): the callee's
//! answers to the INVITE (`INVITE.TRYING`, `INVITE.RINGING`,
//! `INVITE.SESSION_PROGRESS`, `INVITE.OK`) and re-INVITEs (`REINVITE`).
//! A match sends the caller a response with the modifier's `code`; with
//! `stop` the call ends (CANCEL, or ACK and BYE, towards the callee);
//! without it the generated response replaces the relayed one; with
//! `transparent` it is sent besides the normal flow. The generated response
//! carries the modifier's headers and `content` body; a modifier without
//! `code` that lets the flow go on puts its headers on the relayed response.
//! With forks or a serial search (`calls_fork.rs`, `calls_serial.rs`) a modifier acts on
//! what would reach the caller: each relayed 18x and the one final answer (the first 2xx,
//! or the best error of all), not the errors of forks or groups passed over.

use super::super::callflow::{reason, render, Effect};
use super::super::reply::reply_to_tagged;
use super::{anchor, CallState, Calls, Extra, Leg, MediaPorts, Message, Out, ToWorker};
use crate::config::typed::ModifierMethod;
use crate::sip::transaction::TxId;

/// What the normal handling of a modified message still does.
pub(super) enum Next {
    /// Nothing: the modifier handled the message.
    Done(Vec<Out>),
    /// Continue, after sending these; `relay` false when the generated
    /// response replaced the relayed one; `decorate`: a modifier without
    /// code whose headers go on the relayed response.
    Continue { out: Vec<Out>, relay: bool, decorate: Option<Effect> },
}

impl Calls {
    /// The callee's modifier for the response `code` to our INVITE on leg B.
    pub(super) fn modify_response(&mut self, id: u64, code: u16, branch: &str, msg: &Message<'_>, ports: &mut MediaPorts) -> Next {
        let step = match code {
            100 => ModifierMethod::InviteTrying,
            180 => ModifierMethod::InviteRinging,
            183 => ModifierMethod::InviteSessionProgress,
            200..=699 => ModifierMethod::InviteOk,
            _ => return Next::Continue { out: vec![], relay: true, decorate: None },
        };
        let Some(eff) = self.fire(id, step, msg) else { return Next::Continue { out: vec![], relay: true, decorate: None } };
        let out = self.generated(id, &eff);
        let decorate = eff.code.is_none().then(|| eff.clone());
        if eff.transparent {
            return Next::Continue { out, relay: true, decorate };
        }
        if !eff.stop {
            return Next::Continue { out, relay: eff.code.is_none(), decorate };
        }
        Next::Done(self.stop_call(id, code, branch, ports, out))
    }

    /// The callee's `REINVITE` modifier for a re-INVITE from `from`
    /// (answered on `worker`'s transaction `tx`); `None`: relay it.
    pub(super) fn modify_reinvite(&mut self, id: u64, from: Leg, worker: u16, tx: TxId, msg: &Message<'_>, ports: &mut MediaPorts) -> Option<Vec<Out>> {
        let eff = self.fire(id, ModifierMethod::Reinvite, msg)?;
        let mut out = Vec::new();
        if let Some(code) = eff.code {
            let resp = render(super::super::reply::reply_to(msg, code, reason(code), &Extra::default()), &eff);
            out.push((worker, ToWorker::Respond { tx, msg: resp }));
        }
        if eff.transparent && eff.code.is_some_and(|c| c < 200) {
            return None;
        }
        if eff.stop {
            // The dialog is stopped: BYE to both legs.
            if let Some(call) = self.calls.get_mut(&id) {
                out.extend(anchor::release(ports, &call.anchors));
                call.anchors.clear();
            }
            let _ = from;
            out.extend(self.hang_up(id, Leg::A, &[]));
            out.extend(self.hang_up(id, Leg::B, &[]));
        }
        Some(out)
    }

    fn fire(&mut self, id: u64, step: ModifierMethod, msg: &Message<'_>) -> Option<Effect> {
        if self.policy.modifiers.is_empty() {
            return None;
        }
        let call = self.calls.get(&id)?;
        self.policy.modifiers.fire(&call.callee, step, None, &call.caller, call.caller_imei.as_deref(), msg)
    }

    /// The response the modifier generates towards the caller.
    fn generated(&mut self, id: u64, eff: &Effect) -> Vec<Out> {
        let Some(call) = self.calls.get_mut(&id) else { return vec![] };
        let (Some(code), Some(tx), Some(req)) = (eff.code, call.a_tx, call.a_invite.message()) else { return vec![] };
        let tag = call.a_tag().to_owned();
        let mut extra = Extra::default();
        extra.headers.push(("Contact", self.contact.clone()));
        let resp = render(reply_to_tagged(&req, code, reason(code), &extra, &tag), eff);
        if code >= 200 {
            call.a_tx = None;
        }
        vec![(call.a.worker, ToWorker::Respond { tx, msg: resp })]
    }

    /// seed 000 `stop`: the call ends where the callee's answer `code` left
    /// it: CANCEL while provisional (RFC 3261 9.1), ACK then BYE after a
    /// 2xx (13.2.2.4, 15.1), nothing more after a failure.
    fn stop_call(&mut self, id: u64, code: u16, branch: &str, ports: &mut MediaPorts, mut out: Vec<Out>) -> Vec<Out> {
        let Some(call) = self.calls.get_mut(&id) else { return out };
        call.a_tx = None;
        call.state = CallState::Stopped;
        out.extend(anchor::release(ports, &call.anchors));
        call.anchors.clear();
        let b = call.b.clone();
        match code {
            100..=199 => out.extend(self.cancel_leg_b(id, &[])),
            200..=299 => {
                let ack = self.request(&b, "ACK", 1, &format!("{branch}a"), None, b"", None);
                out.push((b.worker, ToWorker::SendStateless { peer: b.peer, msg: ack }));
                out.extend(self.hang_up(id, Leg::A, &[]));
            }
            _ => {
                self.remove(id);
            }
        }
        out
    }
}
