//! `callflow_modifier` on MT calls (seed 000 5.2.1: on MT dialogs the
//! caller's modifiers apply — ringcore's own identity has none, a forced
//! `mt_call` caller may — matched against the callee and the IMEI it
//! registered with). The UE's answers to our INVITE (`INVITE.TRYING`,
//! `INVITE.RINGING`, `INVITE.SESSION_PROGRESS`, `INVITE.OK`, direction rx)
//! and its re-INVITEs (`REINVITE`). ringcore is the UAC of these dialogs, so
//! a modifier's `code` has nobody to answer on the INVITE's responses: there
//! `stop` ends the call (CANCEL while provisional, RFC 3261 9.1; ACK then
//! BYE after a 2xx, 13.2.2.4 and 15.1.1). A re-INVITE is answered with the
//! modifier's `code` (headers, `content` body), then BYE when `stop`.

use super::super::callflow::{self, Dir};
use super::super::reply::{reply_to, Extra};
use super::{build_request_ext, MediaPorts, MtCalls, Out};
use crate::config::typed::ModifierMethod;
use crate::endpoint::ToWorker;
use crate::sip::transaction::TxId;
use crate::sip::Message;

impl MtCalls {
    fn fire(&mut self, id: &str, step: ModifierMethod, msg: &Message<'_>) -> Option<callflow::Effect> {
        if self.policy.modifiers.is_empty() {
            return None;
        }
        let c = self.calls.get(id)?;
        let callee = super::super::dialogs::identity(&c.dialog.remote);
        let callee = crate::ims::hss::normalize_impu(&callee);
        self.policy.modifiers.fire(&c.caller, step, Some(Dir::Rx), &callee, c.callee_imei.as_deref(), msg)
    }

    /// The caller's modifier for the UE's response `code` to our INVITE
    /// (`branch`, CSeq `seq`); `Some`: the call is stopped with these.
    pub(super) fn modified_response(&mut self, id: &str, code: u16, branch: &str, seq: u32, msg: &Message<'_>, ports: &mut MediaPorts) -> Option<Vec<Out>> {
        let step = match code {
            100 => ModifierMethod::InviteTrying,
            180 => ModifierMethod::InviteRinging,
            183 => ModifierMethod::InviteSessionProgress,
            200..=699 => ModifierMethod::InviteOk,
            _ => return None,
        };
        let eff = self.fire(id, step, msg)?;
        if !eff.stop || code >= 300 {
            return None;
        }
        let c = self.calls.get(id)?;
        let mut out = Vec::new();
        if code < 200 {
            // RFC 3261 9.1: CANCEL with the INVITE's branch, Request-URI, Call-ID, From, To and CSeq number.
            let mut d = c.dialog.clone();
            d.remote = d.remote.split(";tag=").next().unwrap_or("").to_owned();
            let cancel = build_request_ext(&self.local_addr, &d, "CANCEL", 1, branch, None, b"", None, &[]);
            out.push((d.worker, ToWorker::SendRequest { peer: d.peer, msg: cancel }));
            // The UE's 487 then frees the call (on_response, code >= 300).
            return Some(out);
        }
        let ack = build_request_ext(&self.local_addr, &c.dialog, "ACK", seq, &format!("{branch}a"), None, b"", None, &[]);
        out.push((c.dialog.worker, ToWorker::SendStateless { peer: c.dialog.peer, msg: ack }));
        out.extend(self.send_in_dialog(id, "BYE", false, &[]));
        out.extend(self.release(id, ports));
        Some(out)
    }

    /// The caller's `REINVITE` modifier for the UE's re-INVITE: what to
    /// send, and whether the re-INVITE is still answered normally after it.
    pub(super) fn modified_reinvite(&mut self, id: &str, worker: u16, tx: TxId, msg: &Message<'_>, ports: &mut MediaPorts) -> (Vec<Out>, bool) {
        let Some(eff) = self.fire(id, ModifierMethod::Reinvite, msg) else { return (Vec::new(), true) };
        if !eff.stop && eff.code.is_none() {
            return (Vec::new(), true);
        }
        let mut out = Vec::new();
        if let Some(code) = eff.code {
            let resp = callflow::render(reply_to(msg, code, callflow::reason(code), &Extra::default()), &eff);
            out.push((worker, ToWorker::Respond { tx, msg: resp }));
        }
        if eff.transparent && eff.code.map_or(true, |c| c < 200) {
            return (out, true);
        }
        if eff.stop {
            if eff.code.is_none() {
                out.push((worker, ToWorker::Respond { tx, msg: reply_to(msg, 480, "Temporarily Unavailable", &Extra::warning("stopped by callflow_modifier")) }));
            }
            out.extend(self.send_in_dialog(id, "BYE", false, &[]));
            out.extend(self.release(id, ports));
        }
        (out, false)
    }
}
