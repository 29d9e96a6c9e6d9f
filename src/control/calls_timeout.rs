//! Relayed calls over time and from the monitor: the deadlines of
//! `dialog_timeout` (unanswered calls) and of session timers (RFC 4028 10,
//! BYE on both legs), and the monitor's listing and `dialog_set ID stop`.

use super::super::dialogs::{self, DialogRow, Reason};
use super::{anchor, session_timer, AckDue, Call, CallState, Calls, Extra, Leg, MediaPorts, Out, ToWorker};
use crate::stats::latency::Latencies;
use std::cmp::Reverse;
use std::time::{Duration, Instant};

/// The monitor's and dialog_get's row of call `c`.
pub(super) fn row(c: &Call, now: Instant) -> DialogRow {
    let mut row = DialogRow {
        id: String::new(),
        kind: "server",
        state: "",
        from: String::new(),
        to: String::new(),
        age: Duration::ZERO,
        session_expires: None,
        qos: Vec::new(),
        media: Vec::new(),
    };
    fill_row(c, now, &mut row);
    row
}

/// Brings `row` up to date with call `c` in place: its strings and lists keep their
/// buffers, so refreshing a row already filled from `c` allocates nothing.
pub(super) fn fill_row(c: &Call, now: Instant, row: &mut DialogRow) {
    dialogs::assign(&mut row.id, &c.a.call_id);
    row.kind = "server";
    row.state = state_name(c.state);
    dialogs::assign(&mut row.from, dialogs::identity_of(&c.a.remote));
    dialogs::assign(&mut row.to, dialogs::identity_of(&c.b.remote));
    row.age = now.saturating_duration_since(c.started);
    row.session_expires = c.timer.map(|t| t.interval());
    row.qos.clear();
    row.qos.extend(c.qos.media.iter().map(|q| q.name()));
    row.media.clear();
    row.media.extend(super::reoffer::media_refs(&c.anchors));
}

/// The seed 000 name of a call state.
pub(super) fn state_name(s: CallState) -> &'static str {
    match s {
        CallState::Init => "init",
        CallState::Ringing => "ringing",
        CallState::Started => "start",
        CallState::Stopped => "stop",
    }
}

impl Calls {
    /// The next call deadline (session timer expiry, `dialog_timeout` of an
    /// unanswered call).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.peek().map(|Reverse((t, _))| *t)
    }

    /// Ends the calls whose session expired without a refresh (RFC 4028 10:
    /// BYE on both legs) and those left unanswered for `dialog_timeout`
    /// (408 to the caller, CANCEL to the callee); gives up silent forks
    /// (`calls_fork.rs`). `lat` as for [`Calls::on_response`].
    pub fn handle_timeout(&mut self, now: Instant, ports: &mut MediaPorts, lat: &mut Latencies) -> Vec<Out> {
        let mut out = Vec::new();
        while let Some(&Reverse((t, id))) = self.deadlines.peek() {
            if t > now {
                break;
            }
            self.deadlines.pop();
            // Drop duplicates of this entry (they sort next to it).
            while self.deadlines.peek().is_some_and(|&Reverse(e)| e == (t, id)) {
                self.deadlines.pop();
            }
            let (dialog_timeout, t1) = (self.policy.dialog_timeout, self.policy.t1);
            let Some(call) = self.calls.get_mut(&id) else { continue };
            match call.deadline(dialog_timeout, t1) {
                None => continue,
                Some(actual) if actual > now => {
                    self.deadlines.push(Reverse((actual, id)));
                    continue;
                }
                Some(_) => {}
            }
            if call.unacked.as_ref().is_some_and(|(_, u)| u.poll_timeout() <= now) {
                out.extend(self.awaiting_ack(now, id, ports));
                continue;
            }
            let silent = call.forks.silent_deadline(t1).is_some_and(|t| t <= now);
            match call.state {
                CallState::Init | CallState::Ringing if silent => out.extend(self.give_up_silent_forks(now, id, ports, lat)),
                CallState::Init | CallState::Ringing => out.extend(self.give_up(id, None)),
                CallState::Started => match call.timer.as_mut().and_then(|t| t.handle_timeout(now)) {
                    Some(session_timer::Due::Expire) => out.extend(self.end_both(id, &[], ports)),
                    // Relayed calls never refresh themselves (the UEs do).
                    _ => self.schedule(id),
                },
                CallState::Stopped => {}
            }
        }
        out
    }

    /// seed 000 dialog_timeout (or `dialog_set stop` with `reason`): an unanswered
    /// call is given up: 408 to the caller (RFC 3261 21.4.9), CANCEL to the callee
    /// (9.1), both with the Reason header of the stop (RFC 3326).
    fn give_up(&mut self, id: u64, reason: Option<&Reason>) -> Vec<Out> {
        if self.calls.contains_key(&id) {
            self.count_outcome(408);
        }
        let Some(call) = self.calls.get_mut(&id) else { return vec![] };
        call.state = CallState::Stopped;
        let mut out = Vec::new();
        let why = if reason.is_some() { "stopped by the operator" } else { "dialog_timeout" };
        let mut extra = Extra::warning(why);
        extra.headers.extend(Reason::headers(reason));
        if let (Some(tx), Some(req)) = (call.a_tx.take(), call.a_invite.message()) {
            let local_tag = call.a_tag().to_owned();
            let resp = super::super::reply::reply_to_tagged(&req, 408, "Request Timeout", &extra, &local_tag);
            out.push((call.a.worker, ToWorker::Respond { tx, msg: resp }));
        }
        out.extend(self.cancel_leg_b(id, &Reason::headers(reason)));
        out
    }

    /// RFC 4028 10: no refresh before the session expired (or `dialog_set stop`):
    /// BYE on both legs, with `extra` header lines (a Reason, RFC 3326).
    /// RFC 3261 13.3.1.4: the 2xx relayed to the sender of the (re-)INVITE is due again,
    /// or was retransmitted for 64*T1 without an ACK (the dialog is confirmed, the session
    /// ended with a BYE on both legs).
    fn awaiting_ack(&mut self, now: Instant, id: u64, ports: &mut MediaPorts) -> Vec<Out> {
        let Some(call) = self.calls.get_mut(&id) else { return Vec::new() };
        let Some((leg, u)) = call.unacked.as_mut() else { return Vec::new() };
        let to = if *leg == Leg::A { &call.a } else { &call.b };
        match u.handle_timeout(now) {
            Some(AckDue::Resend(msg)) => {
                let resend = (to.worker, ToWorker::SendStateless { peer: to.peer, msg: msg.to_vec() });
                self.schedule(id);
                vec![resend]
            }
            Some(AckDue::GiveUp(reason)) => {
                call.unacked = None;
                self.end_both(id, &[reason], ports)
            }
            None => {
                self.schedule(id);
                Vec::new()
            }
        }
    }

    fn end_both(&mut self, id: u64, extra: &[(&'static str, String)], ports: &mut MediaPorts) -> Vec<Out> {
        let mut out = Vec::new();
        if let Some(call) = self.calls.get_mut(&id) {
            out.extend(anchor::release(ports, &call.anchors));
            call.anchors.clear();
        }
        out.extend(self.hang_up(id, Leg::A, extra));
        out.extend(self.hang_up(id, Leg::B, extra));
        self.remove(id);
        out
    }

    /// The calls as the monitor lists them.
    pub fn dialog_rows(&self, now: Instant) -> Vec<DialogRow> {
        self.calls.values().map(|c| row(c, now)).collect()
    }

    /// `dialog_set ID stop` on a relayed call (ID: the caller's Call-ID):
    /// BYE on both legs once answered, else 408 to the caller and CANCEL
    /// to the callee. None when ID is not a relayed call.
    pub fn stop(&mut self, call_id: &str, reason: Option<&Reason>, ports: &mut MediaPorts) -> Option<Vec<Out>> {
        let &(id, _) = self.by_call_id.get(call_id)?;
        match self.calls.get(&id)?.state {
            CallState::Started => Some(self.end_both(id, &Reason::headers(reason), ports)),
            CallState::Init | CallState::Ringing => Some(self.give_up(id, reason)),
            CallState::Stopped => Some(Vec::new()),
        }
    }
}
