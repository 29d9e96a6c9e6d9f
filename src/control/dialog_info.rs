//! A read-only view of one dialog for the remote API's dialog_get and
//! dialog events (seed 000 6.6 dialog_get.dialogs), filled by the call,
//! echo and MT call tables.

use std::time::Instant;

/// One dialog as the API reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogInfo {
    /// dialog_get.dialogs.session_id (the Call-ID of the core's leg).
    pub session_id: String,
    /// dialog_get.dialogs.state: init, ringing, start, hold or stop.
    pub state: &'static str,
    /// dialog_get.dialogs.type: server, echo or mt call.
    pub kind: &'static str,
    /// Caller (From URI or name-addr, without tag).
    pub from: String,
    /// Callee (To URI or name-addr, without tag).
    pub to: String,
    /// When the dialog was created, if known.
    pub created: Option<Instant>,
}

/// A From/To header value without its tag parameter.
pub fn without_tag(v: &str) -> String {
    match v.find(";tag=") {
        Some(i) => v.get(..i).unwrap_or(v).to_owned(),
        None => v.to_owned(),
    }
}
