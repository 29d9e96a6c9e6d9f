//! The control thread's routing of initial INVITEs that touch emergency
//! service (TS 24.229 5.2.10): emergency calls to the `emergency_target` or
//! the echo service, and the 403 for other calls over an emergency-only
//! registration. Everything else takes the normal call routing.

use super::super::calls::{Incoming, Route};
use super::super::emergency::Decision;
use super::super::reply::{reply_to, Extra};
use super::Control;
use crate::endpoint::Peer;
use crate::ims::hss::normalize_impu;
use crate::sip::transaction::TxId;
use crate::sip::Message;
use std::time::Instant;

impl Control {
    /// Handles `msg` (an initial INVITE) when emergency rules apply; false
    /// when it takes the normal routing.
    pub(super) fn on_emergency_invite(&mut self, now: Instant, worker: u16, tx: TxId, peer: Peer, msg: &Message<'_>) -> bool {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let (Ok(ruri), Ok(from)) = (msg.request_uri(), msg.from()) else { return false };
        let (ruri, caller) = (text(ruri.raw), normalize_impu(&text(from.uri.raw)));
        let decision = self.calls.policy().emergency.decide(&ruri, &caller, peer.addr, &self.registrar.bindings);
        let out = match decision {
            Decision::Normal => return false,
            // TS 24.229 5.2.10.3: not an emergency request over an emergency registration.
            Decision::Forbidden => {
                let resp = reply_to(msg, 403, "Forbidden", &Extra::warning("only emergency calls over an emergency registration"));
                self.respond(worker, tx, peer, resp);
                return true;
            }
            Decision::NotAllowed => {
                let resp = reply_to(msg, 403, "Forbidden", &Extra::warning("emergency call from an unregistered, non-anonymous UE"));
                self.respond(worker, tx, peer, resp);
                return true;
            }
            Decision::Echo => {
                let imei = self.caller_imei(msg);
                self.echo.on_invite(now, worker, tx, peer, msg, imei, &mut self.media_ports)
            }
            Decision::Target(callee) => {
                let route = Route { callee, trusted: true };
                self.calls.on_invite_routed(Incoming { now, worker, tx, peer, msg }, &self.registrar.hss, &self.registrar.bindings, &mut self.media_ports, route)
            }
        };
        self.send_all(now, out);
        true
    }
}
