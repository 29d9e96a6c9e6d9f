//! Serial search on leg B (RFC 3261 16.6 step 1: targets are tried in q order, those of
//! equal q in parallel): when every UE of the callee's best q refused or failed, our
//! INVITE goes to the UEs of the next q, and so on; the caller hears one final error only
//! when none is left, the best of all of them (16.7 step 6: a 6xx, else the lowest class,
//! the first received in it).
//!
//! Each new group gets a new INVITE on a new leg B Call-ID (CSeq 1, no tag yet): the
//! failed INVITE's dialog never came to be, and the caller's side does not change (one
//! early dialog with our tag). A 6xx ends the search (16.7 step 5: decline everywhere);
//! so does the caller's CANCEL, `dialog_timeout` or a modifier's stop (`cancel_leg_b`
//! drops the groups left), and an answer of course.

use super::*;
use fork::{beats, Target};

/// Groups of lower q tried after the first, at most (each of at most `MAX_FORKS` UEs).
pub(super) const MAX_LATER_GROUPS: usize = 4;

/// What a call keeps to try the callee's UEs of lower q.
#[derive(Debug)]
pub(super) struct Serial {
    /// The groups not tried yet, highest q first.
    later: Vec<Vec<Target>>,
    /// Our INVITE's Content-Type, body (the anchored offer) and header lines.
    ctype: Option<String>,
    body: Vec<u8>,
    headers: Headers,
    /// The best final error of the groups tried so far: status and the response.
    best: Option<(u16, Vec<u8>)>,
}

impl Serial {
    /// The search state for `later` (None when there is no group left to try).
    pub(super) fn new(later: Vec<Vec<Target>>, ctype: Option<&str>, body: &[u8], headers: &Headers) -> Option<Box<Serial>> {
        if later.is_empty() {
            return None;
        }
        Some(Box::new(Serial { later, ctype: ctype.map(str::to_owned), body: body.to_vec(), headers: headers.clone(), best: None }))
    }

    /// No group is tried any more (the INVITE on leg B was cancelled).
    pub(super) fn stop(&mut self) {
        self.later.clear();
    }
}

/// What to do with the final error that ended the INVITE(s) to one group.
pub(super) enum AfterFailure {
    /// INVITEs went to the next group: send these and relay nothing.
    Next(Vec<Out>),
    /// Relay the error to the caller; `Some`: an earlier group's better one instead.
    Relay(Option<Vec<u8>>),
}

impl Calls {
    /// Every INVITE of call `id` to the current group ended, the best with error `code`
    /// (response `raw`): the next group is tried, or the best error of all is relayed.
    pub(super) fn after_failure(&mut self, now: Instant, id: u64, code: u16, raw: &[u8]) -> AfterFailure {
        let Some(call) = self.calls.get_mut(&id) else { return AfterFailure::Relay(None) };
        let ringing = matches!(call.state, CallState::Init | CallState::Ringing);
        let Some(serial) = call.serial.as_mut() else { return AfterFailure::Relay(None) };
        let earlier_wins = !beats(code, serial.best.as_ref().map(|(best, _)| *best));
        if code >= 600 || serial.later.is_empty() || !ringing {
            return AfterFailure::Relay(serial.best.take().filter(|_| earlier_wins).map(|(_, r)| r));
        }
        if !earlier_wins {
            serial.best = Some((code, raw.to_vec()));
        }
        let group = serial.later.remove(0);
        AfterFailure::Next(self.try_group(now, id, &group))
    }

    /// Our INVITE to each UE of `group` (the first in `Call::b`, the others as forks).
    fn try_group(&mut self, now: Instant, id: u64, group: &[Target]) -> Vec<Out> {
        let Some(first) = group.first() else { return Vec::new() };
        let (worker, peer) = route_to(&first.uri, &first.flow, self.n_workers);
        let (call_id, branch) = (self.b_call_id(id), branch_for(id, "i", self.next()));
        let Some(call) = self.calls.get_mut(&id) else { return Vec::new() };
        // Taken out while `invite` borrows the calls, put back below.
        let Some(serial) = call.serial.take() else { return Vec::new() };
        let remote = call.b.remote.split(";tag=").next().unwrap_or("").to_owned();
        let b = Dialog { call_id, local: call.b.local.clone(), remote, target: first.uri.clone(), routes: first.path.clone(), cseq: 1, worker, peer };
        let old = std::mem::replace(&mut call.b, b.clone());
        call.b_tagged = false;
        call.b_invite_branch = branch.clone();
        call.b_invite_target = b.target.clone();
        let (local_addr, caller) = (self.local_addr.clone(), call.caller.clone());
        let build = |d: &Dialog, branch: &str| build_request_ext(&local_addr, d, "INVITE", 1, branch, serial.ctype.as_deref(), &serial.body, Some(&caller), &serial.headers);
        let (forks, out) = self.invite(now, id, &b, &branch, group.get(1..).unwrap_or_default(), build);
        if let Some(call) = self.calls.get_mut(&id) {
            call.forks = forks;
            call.serial = Some(serial);
        }
        self.by_call_id.remove(&old.call_id);
        self.by_call_id.insert(b.call_id, (id, Leg::B));
        out
    }
}
