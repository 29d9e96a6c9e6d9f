//! The control thread's `callflow_modifier` step for initial INVITEs
//! (method `INVITE`, seed 000 5.2.1), before any routing: the callee's
//! modifiers (MO dialogs use the callee's) may answer the INVITE with their
//! `code` or drop it; and `REGISTER.SOS` for emergency registrations of the
//! IMPU.

use super::super::callflow::{self, Dir};
use super::super::reply::{reply_to, Extra};
use super::Control;
use crate::config::typed::ModifierMethod;
use crate::endpoint::Peer;
use crate::ims::hss::normalize_impu;
use crate::sip::transaction::TxId;
use crate::sip::Message;

impl Control {
    /// Applies the callee's INVITE modifier to `msg`; true when the normal
    /// routing must not run (answered with the modifier's code, or dropped).
    pub(super) fn on_modified_invite(&mut self, worker: u16, tx: TxId, peer: Peer, msg: &Message<'_>) -> bool {
        if self.calls.modifiers_mut().is_empty() {
            return false;
        }
        let text = |b: &[u8]| normalize_impu(&String::from_utf8_lossy(b));
        let (Ok(ruri), Ok(from)) = (msg.request_uri(), msg.from()) else { return false };
        let (callee, caller) = (text(ruri.raw), text(from.uri.raw));
        let Some(eff) = self.calls.modifiers_mut().fire(&callee, ModifierMethod::Invite, Some(Dir::Rx), &caller, msg) else { return false };
        if let Some(code) = eff.code {
            let resp = callflow::with_headers(reply_to(msg, code, callflow::reason(code), &Extra::default()), &eff.headers);
            self.respond(worker, tx, peer, resp);
            // A provisional answer lets a transparent modifier's flow go on.
            return !(eff.transparent && code < 200);
        }
        // No code: the INVITE is dropped unless the normal flow goes on.
        eff.stop
    }

    /// Applies the `REGISTER.SOS` modifier of the registering IMPU (To) to
    /// an emergency REGISTER; true when answered with the modifier's code
    /// (or dropped) instead of being registered.
    pub(super) fn on_modified_register(&mut self, worker: u16, tx: TxId, peer: Peer, msg: &Message<'_>) -> bool {
        if self.calls.modifiers_mut().is_empty() {
            return false;
        }
        // TS 24.229 5.1.6.2: the sos URI parameter marks an emergency registration.
        let sos = msg.contacts().any(|c| match c {
            Ok(crate::sip::Contact::Addr(na)) => na.param(b"sos").is_some() || crate::sip::scan::find_param(na.uri.params, b"sos").is_some(),
            _ => false,
        });
        let Ok(to) = msg.to() else { return false };
        let impu = normalize_impu(&String::from_utf8_lossy(to.uri.raw));
        if !sos {
            return false;
        }
        let Some(eff) = self.calls.modifiers_mut().fire(&impu, ModifierMethod::RegisterSos, Some(Dir::Rx), "", msg) else { return false };
        if let Some(code) = eff.code {
            let resp = callflow::with_headers(reply_to(msg, code, callflow::reason(code), &Extra::default()), &eff.headers);
            self.respond(worker, tx, peer, resp);
            return true;
        }
        eff.stop && !eff.transparent
    }
}
