//! The control thread's `callflow_modifier` step for requests that start
//! something (seed 000 5.2.1), before any routing: initial INVITEs and
//! MESSAGEs and SUBSCRIBEs (the addressee's modifiers, matched against the
//! sender: MO dialogs use the callee's), REGISTER and `REGISTER.SOS` (the
//! registering IMPU's). A match answers with the modifier's `code` (its
//! headers and `content` body), or drops the request.

use super::super::callflow::{self, Dir};
use super::super::reply::{reply_to, Extra};
use super::Control;
use crate::config::typed::ModifierMethod;
use crate::endpoint::Peer;
use crate::ims::hss::normalize_impu;
use crate::sip::transaction::TxId;
use crate::sip::{Message, Method};

impl Control {
    /// Applies the callee's INVITE modifier to `msg`; true when the normal
    /// routing must not run (answered with the modifier's code, or dropped).
    pub(super) fn on_modified_invite(&mut self, worker: u16, tx: TxId, peer: Peer, msg: &Message<'_>) -> bool {
        self.on_modified_request(worker, tx, peer, msg)
    }

    /// Applies the `REGISTER` or (emergency registration) `REGISTER.SOS`
    /// modifier of the registering IMPU (To); true when answered with the
    /// modifier's code (or dropped) instead of being registered.
    pub(super) fn on_modified_register(&mut self, worker: u16, tx: TxId, peer: Peer, msg: &Message<'_>) -> bool {
        self.on_modified_request(worker, tx, peer, msg)
    }

    /// The modifier step of an out-of-dialog INVITE, MESSAGE, SUBSCRIBE or
    /// REGISTER (see the module doc); true when the normal handling must not run.
    pub(super) fn on_modified_request(&mut self, worker: u16, tx: TxId, peer: Peer, msg: &Message<'_>) -> bool {
        if self.calls.modifiers_mut().is_empty() {
            return false;
        }
        let text = |b: &[u8]| normalize_impu(&String::from_utf8_lossy(b));
        let step = match msg.method() {
            Some(Method::Invite) => ModifierMethod::Invite,
            Some(Method::Message) => ModifierMethod::Message,
            Some(Method::Subscribe) => ModifierMethod::Subscribe,
            Some(Method::Register) if is_emergency_register(msg) => ModifierMethod::RegisterSos,
            Some(Method::Register) => ModifierMethod::Register,
            _ => return false,
        };
        let (owner, counterpart) = if matches!(msg.method(), Some(Method::Register)) {
            let Ok(to) = msg.to() else { return false };
            (text(to.uri.raw), String::new())
        } else {
            let (Ok(ruri), Ok(from)) = (msg.request_uri(), msg.from()) else { return false };
            (text(ruri.raw), text(from.uri.raw))
        };
        let imei = self.counterpart_imei(&counterpart);
        let Some(eff) = self.calls.modifiers_mut().fire(&owner, step, Some(Dir::Rx), &counterpart, imei.as_deref(), msg) else { return false };
        if let Some(code) = eff.code {
            let resp = callflow::render(reply_to(msg, code, callflow::reason(code), &Extra::default()), &eff);
            self.respond(worker, tx, peer, resp);
            // A provisional answer lets a transparent modifier's flow go on.
            return !(eff.transparent && code < 200);
        }
        // No code: the request is dropped unless the normal flow goes on.
        eff.stop
    }

    /// The IMEI the sender (From) of `msg` registered with, when a modifier asks.
    pub(super) fn caller_imei(&mut self, msg: &Message<'_>) -> Option<String> {
        let from = msg.from().ok()?;
        self.counterpart_imei(&normalize_impu(&String::from_utf8_lossy(from.uri.raw)))
    }

    /// seed 000 `callflow_modifier.imei`: the IMEI `impu` registered with
    /// (`+sip.instance`, RFC 7254), looked up only when a rule asks for it.
    pub(super) fn counterpart_imei(&mut self, impu: &str) -> Option<String> {
        if impu.is_empty() || !self.calls.modifiers_mut().uses_imei() {
            return None;
        }
        self.registrar.bindings.lookup(impu).flat_map(|r| r.contacts.iter()).find_map(|c| c.imei.clone())
    }
}

/// TS 24.229 5.1.6.2: the sos URI parameter of the Contact marks an emergency registration.
fn is_emergency_register(msg: &Message<'_>) -> bool {
    msg.contacts().any(|c| match c {
        Ok(crate::sip::Contact::Addr(na)) => na.param(b"sos").is_some() || crate::sip::scan::find_param(na.uri.params, b"sos").is_some(),
        _ => false,
    })
}
