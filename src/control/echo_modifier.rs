//! `callflow_modifier` on echo calls (seed 000 5.2.1; the echo IMPU is the
//! callee of an MO dialog, so its modifiers apply, matched against the
//! caller): the responses the echo sends (`INVITE.TRYING` when it takes
//! the INVITE — the 100 itself leaves from the worker —, `INVITE.RINGING` on its 180,
//! `INVITE.SESSION_PROGRESS` on its 183, `INVITE.OK` on its 200, direction
//! tx) and the UE's re-INVITEs (`REINVITE`, direction rx).

use super::super::callflow::{self, Dir, Outcome};
use super::super::reply::{reply_to, Extra};
use super::{Echo, Headers, Out};
use crate::config::typed::ModifierMethod;
use crate::endpoint::ToWorker;
use crate::ims::hss::normalize_impu;
use crate::sip::transaction::TxId;
use crate::sip::Message;
use std::cmp::Reverse;
use std::time::Instant;

impl Echo {
    /// The messages to send instead of the echo's own response `normal`
    /// (status `code`) on call `id`; a call the modifier ends is released
    /// at the next timeout (the media port with it).
    pub(super) fn modified_response(&mut self, now: Instant, id: &str, code: u16, normal: Vec<u8>) -> Outcome {
        let unchanged = |normal| Outcome { generated: None, normal: Some(normal), ends: false };
        let step = match code {
            100 => ModifierMethod::InviteTrying,
            180 => ModifierMethod::InviteRinging,
            183 => ModifierMethod::InviteSessionProgress,
            200..=699 => ModifierMethod::InviteOk,
            _ => return unchanged(normal),
        };
        if self.policy.modifiers.is_empty() {
            return unchanged(normal);
        }
        let Some(c) = self.calls.get(id) else { return unchanged(normal) };
        let Some(invite) = c.invite.message() else { return unchanged(normal) };
        let caller = normalize_impu(&String::from_utf8_lossy(invite.from().map(|f| f.uri.raw).unwrap_or(b"")));
        let Some(eff) = self.policy.modifiers.fire(&c.callee, step, Some(Dir::Tx), &caller, c.caller_imei.as_deref(), &invite) else {
            return unchanged(normal);
        };
        let make = |code: u16| self.response(c, code, callflow::reason(code), Headers::new(), false);
        let outcome = callflow::local_response(&eff, normal, &make);
        if outcome.ends {
            if let Some(c) = self.calls.get_mut(id) {
                c.tx = None;
                c.reliable = None;
                c.ended = true;
            }
            self.deadlines.push(Reverse((now, id.to_owned())));
        }
        outcome
    }

    /// The echo IMPU's `REINVITE` modifier for the UE's re-INVITE on call
    /// `id`: what to send (the modifier's response; with `stop`, the BYE
    /// that ends the call), and whether the echo still answers it after.
    pub(super) fn modified_reinvite(&mut self, now: Instant, id: &str, worker: u16, tx: TxId, msg: &Message<'_>) -> (Vec<Out>, bool) {
        let normal = (Vec::new(), true);
        if self.policy.modifiers.is_empty() {
            return normal;
        }
        let Some(c) = self.calls.get(id) else { return normal };
        let caller = normalize_impu(&String::from_utf8_lossy(msg.from().map(|f| f.uri.raw).unwrap_or(b"")));
        let Some(eff) = self.policy.modifiers.fire(&c.callee, ModifierMethod::Reinvite, Some(Dir::Rx), &caller, c.caller_imei.as_deref(), msg) else {
            return normal;
        };
        let mut out = Vec::new();
        if let Some(code) = eff.code {
            let resp = callflow::render(reply_to(msg, code, callflow::reason(code), &Extra::default()), &eff);
            out.push((worker, ToWorker::Respond { tx, msg: resp }));
        }
        if !eff.stop && eff.code.is_none() {
            return normal;
        }
        if eff.transparent && eff.code.map_or(true, |c| c < 200) {
            // The echo still answers the re-INVITE.
            return (out, true);
        }
        if eff.stop {
            if eff.code.is_none() {
                out.push((worker, ToWorker::Respond { tx, msg: reply_to(msg, 480, "Temporarily Unavailable", &Extra::warning("stopped by callflow_modifier")) }));
            }
            // seed 000 stop: the dialog ends (RFC 3261 15.1.1: BYE).
            out.extend(self.send_in_dialog(id, "BYE", Headers::new(), false));
            if let Some(c) = self.calls.get_mut(id) {
                c.ended = true;
            }
            self.deadlines.push(Reverse((now, id.to_owned())));
        }
        (out, false)
    }
}
