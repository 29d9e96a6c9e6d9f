//! Feeding the dialogs' event lists ([`DialogLog`]) from the SIP messages the control
//! thread receives and sends: each message is matched to its dialog by Call-ID (either
//! leg of a relayed call), recorded with the dialog state after it was handled, the
//! UE's SDP noted (media sections, hold) and the SDP ringcore sends kept per leg.

use super::super::calls::Calls;
use super::super::dialog_log::{facts, has_tag, scan, EventKind, Facts, Label};
use super::super::dialogs::{DialogRef, DialogRow};
use super::super::echo::Echo;
use super::super::mt_call::MtCalls;
use super::Control;
use crate::sip::{HeaderName, Message};
use std::time::{Duration, Instant};

/// True when the To header of `raw` carries a tag (an in-dialog request, RFC 3261 12.2).
fn has_to_tag(raw: &[u8]) -> bool {
    let head = raw.split(|&b| b == b'\n').take_while(|l| l.len() > 2);
    for l in head {
        let name_end = l.iter().position(|&b| b == b':').unwrap_or(0);
        let name = l.get(..name_end).unwrap_or(&[]);
        if name.eq_ignore_ascii_case(b"to") || name.eq_ignore_ascii_case(b"t") {
            return has_tag(l);
        }
    }
    false
}

/// The dialog Call-ID `call_id` belongs to (MT, echo or relayed call), borrowed from
/// the call tables: nothing is allocated per message.
fn dialog_ref<'a>(mt: &'a MtCalls, echo: &'a Echo, calls: &'a Calls, now: Instant, call_id: &'a str) -> Option<DialogRef<'a>> {
    mt.dialog_of(now, call_id).or_else(|| echo.dialog_of(now, call_id)).or_else(|| calls.dialog_of(now, call_id))
}

impl Control {
    /// Records message `raw`, received and not yet handled, on its dialog's event list:
    /// its facts are read from `parsed` (the message as the control thread parsed it)
    /// when it parsed, else scanned from the bytes.
    pub(super) fn log_dialog_received(&mut self, now: Instant, raw: &[u8], parsed: Option<&Message<'_>>) {
        let Some(facts) = parsed.map_or_else(|| scan(raw), facts) else { return };
        self.log_dialog_message(now, EventKind::Recv, facts, || match parsed {
            Some(m) => m.header(HeaderName::To).is_some_and(has_tag),
            None => has_to_tag(raw),
        });
    }

    /// Records message `(label, call_id, sdp)`, received or sent (`kind`), on its
    /// dialog's event list; `to_tag` tells whether its To carries a tag.
    pub(super) fn log_dialog_message(&mut self, now: Instant, kind: EventKind, (label, call_id, sdp): Facts<'_>, to_tag: impl FnOnce() -> bool) {
        if matches!(label, Label::Request("REGISTER" | "SUBSCRIBE" | "PUBLISH" | "OPTIONS")) {
            return;
        }
        self.log_sweep(now);
        let d = match dialog_ref(&self.mt, &self.echo, &self.calls, now, call_id) {
            Some(d) => d,
            // Received messages are recorded before they are handled: an initial INVITE
            // opens its dialog in state init (a dialog never created is swept later).
            None if kind == EventKind::Recv && label == Label::Request("INVITE") && !to_tag() => {
                DialogRef { id: call_id, state: "init", age: Duration::ZERO, ue_leg: true }
            }
            None => {
                // The dialog ended with this message (BYE, final error): the worker still
                // holds its media counters (the removal is queued after the message).
                self.dialog_stopped(now, call_id);
                return;
            }
        };
        if self.dialog_log.handle_message(now, d.id, d.age, kind, label, d.state) {
            // A relayed call's known row is refreshed in place; other rows are rebuilt.
            let calls = &self.calls;
            let refreshed = self.dialog_log.fill_row(d.id, |row| calls.refresh_row(now, d.id, row));
            if !refreshed {
                if let Some(row) = self.dialog_row(now, d.id) {
                    self.dialog_log.handle_row(d.id, row);
                }
            }
        }
        let log = &mut self.dialog_log;
        match (kind, sdp) {
            (EventKind::Recv, Some(body)) if d.ue_leg => log.handle_ue_sdp(now, d.id, d.age, body),
            (EventKind::Send, Some(body)) => log.handle_sent_sdp(now, d.id, d.age, call_id, body),
            _ => {}
        }
    }

    /// The current row of dialog `id`.
    fn dialog_row(&self, now: Instant, id: &str) -> Option<DialogRow> {
        self.calls
            .dialog_row(now, id)
            .or_else(|| self.echo.dialog_row(now, id))
            .or_else(|| self.mt.dialog_row(now, id))
    }

    /// Dialog `id` (if tracked) ended: listed as stopped with its final media counters.
    fn dialog_stopped(&mut self, now: Instant, id: &str) {
        let Some(row) = self.dialog_log.row(id) else { return };
        let media = row.media.iter().map(|m| self.media_board.read(m.port).unwrap_or_default()).collect();
        self.dialog_log.handle_stop(now, id, media);
    }

    /// A response to ringcore's request on Call-ID `call_id` was handled: when it ended
    /// the dialog (a UE's final error to an MT INVITE, its 487 after a CANCEL), the
    /// dialog is listed as stopped now rather than at the next sweep.
    pub(super) fn log_dialog_ended(&mut self, now: Instant, call_id: &str) {
        if dialog_ref(&self.mt, &self.echo, &self.calls, now, call_id).is_none() {
            self.dialog_stopped(now, call_id);
        }
    }

    /// Stops the dialogs that ended without a message and drops the stopped ones listed
    /// long enough, at most every [`super::super::dialog_log::SWEEP_INTERVAL`].
    fn log_sweep(&mut self, now: Instant) {
        let (mt, echo, calls) = (&self.mt, &self.echo, &self.calls);
        self.dialog_log.sweep_if_due(now, |id| dialog_ref(mt, echo, calls, now, id).is_some());
    }
}
