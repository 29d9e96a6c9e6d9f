//! Parallel forking on leg B, as RFC 3261 16.6 has a proxy do it and a B2BUA may: when
//! the callee has several registered UEs of the best q (phones sharing an IMPU, a
//! multi_sim subscriber without an IMEI filter, the stale binding of a UE that came back
//! on a new address), our INVITE goes to each of them at once ([`MAX_FORKS`] at most).
//!
//! The caller sees one dialog. The call's leg B dialog (`Call::b`) is the fork that
//! answered last: a provisional response of another fork makes that fork current, and
//! its 18x is relayed. The first 2xx wins and the forks still pending get a CANCEL
//! (16.7 step 10); a 2xx of another fork after that is acknowledged and hung up at once
//! (13.2.2.4). A final error waits for the other forks; once none is pending, the best
//! of them is relayed (16.7 step 6: a 6xx, else the lowest class, the first received in
//! it); a 6xx cancels the others at once (16.7 step 5).
//!
//! The relays follow the early SDP of whichever fork sent one last; when the winner's 2xx
//! carries no SDP, they go back to the addresses of the winner's own early answer.
//!
//! The caller's PRACK goes to the fork whose reliable provisional response carried the
//! RSeq it acknowledges (RFC 3262 7.2). Its UPDATE before the answer goes to every fork
//! with an early dialog (RFC 3311 5.1: e.g. preconditions met, which each ringing UE
//! waits for before alerting, RFC 3312): the current fork's answer is relayed, the
//! others' are absorbed (their SDP kept as the fork's early answer). Other early-dialog
//! requests go to the current fork.
//!
//! Targets of a lower q are tried once every fork failed (16.6 serial search,
//! `calls_serial.rs`).
//!
//! Silent forks: once a fork failed and every fork still pending has sent nothing at all,
//! not even a 100, for [`SILENT_T1S`] times T1 since our INVITEs left, those forks are
//! taken for stale bindings (a UE that came back on a new address without
//! deregistering the old one) and given up: the best error of the forks that answered
//! is relayed, or the next q tried, instead of holding the caller until
//! `dialog_timeout`. A UE answers an INVITE within 200 ms (RFC 3261 17.2.1: 100 Trying
//! otherwise) and our first retransmission leaves at T1 (17.1.1.2), so a live UE that
//! lost our first INVITE has answered by then. A given-up fork gets no CANCEL (9.1: not
//! before a provisional response) and does not compete for the best answer (16.8 would
//! count it as a 408 at Timer C): the caller hears what a UE said.
//!
//! Left out: two forks' reliable provisional responses share the caller's dialog, so
//! should their RSeqs coincide (each starts at random, RFC 3262 7.1) a PRACK goes to
//! the first of them.

use super::*;
use crate::ims::bindings::{Contact, Flow};
use std::time::Duration;

/// At most this many INVITEs for one call (the contacts beyond are not called).
pub(super) const MAX_FORKS: usize = 8;

/// Silent forks are given up this many T1 after our INVITEs left (module doc).
pub(super) const SILENT_T1S: u32 = 2;

/// A registered contact our INVITE can go to: its URI, the Path of its registration and
/// the flow it registered on.
#[derive(Clone, Debug)]
pub(super) struct Target {
    pub(super) uri: String,
    pub(super) path: Vec<String>,
    pub(super) flow: Flow,
}

impl From<&Contact> for Target {
    fn from(c: &Contact) -> Target {
        Target { uri: c.uri.clone(), path: c.path.clone(), flow: c.flow }
    }
}

/// One INVITE of a forked call.
#[derive(Debug)]
pub(super) struct Fork {
    /// Leg B's dialog with this UE; the current fork's state lives in `Call::b`.
    b: Dialog,
    /// The UE's tag was added to `b.remote`.
    tagged: bool,
    /// The Via branch of our INVITE to it.
    branch: String,
    /// That INVITE's Request-URI (for its CANCEL).
    target: String,
    /// A CANCEL went out for it.
    cancelled: bool,
    /// The RSeqs of its reliable provisional responses relayed to the caller (first,
    /// last; RFC 3262 7.1: one more each time), to which the caller's PRACKs are sent.
    rseqs: Option<(u32, u32)>,
    /// Its final status, once it sent one (408 when given up as silent).
    done: Option<u16>,
    /// It sent a response, any (a 100 too): it is not a stale binding.
    heard: bool,
    /// The SDP of its last provisional response that carried one, or of its 2xx to the
    /// caller's early UPDATE: its early answer.
    sdp: Option<Vec<u8>>,
    /// The branch of the caller's early UPDATE sent to it while it was not current.
    update_branch: Option<String>,
}

impl Fork {
    /// A fork just sent: our INVITE on dialog `b` (to `b.target`) with branch `branch`.
    fn new(b: Dialog, branch: String) -> Fork {
        Fork { target: b.target.clone(), b, tagged: false, branch, cancelled: false, rseqs: None, done: None, heard: false, sdp: None, update_branch: None }
    }
}

/// The forks of a call; empty when its INVITE went to one UE.
#[derive(Debug, Default)]
pub(super) struct Forks {
    list: Vec<Fork>,
    /// The fork whose dialog is `Call::b`.
    current: usize,
    /// The best final error so far (16.7 step 6): status, branch and the response bytes.
    best: Option<(u16, String, Vec<u8>)>,
    /// When our INVITEs to these forks left.
    sent: Option<Instant>,
}

/// What to do with a response of a forked INVITE.
pub(super) enum ForkStep {
    /// Relay it as for an unforked call (its fork is now current); `out` goes first.
    Relay(Vec<Out>),
    /// Relay this stored final error instead (the last fork ended and it was the best).
    RelayBest { branch: String, raw: Vec<u8> },
    /// Nothing to relay; send `out`.
    Done(Vec<Out>),
}

impl Forks {
    /// True when the INVITE was forked.
    pub(super) fn is_forked(&self) -> bool {
        !self.list.is_empty()
    }

    /// True when `branch` is one of the forks' INVITE branches.
    pub(super) fn has_branch(&self, branch: &str) -> bool {
        self.list.iter().any(|f| f.branch == branch)
    }

    /// When the forks still pending are given up as silent (module doc; `t1`: SIP
    /// Timer T1): None unless a fork failed and each one pending has sent nothing.
    pub(super) fn silent_deadline(&self, t1: Duration) -> Option<Instant> {
        let mut pending = self.list.iter().filter(|f| f.done.is_none()).peekable();
        pending.peek()?;
        if self.best.is_none() || pending.any(|f| f.heard) {
            return None;
        }
        self.sent.map(|sent| sent + t1 * SILENT_T1S)
    }
}

/// RFC 3261 16.7 step 6: final error `code` is a better answer than `best`, the best kept
/// so far (none: any is): a 6xx before any other, else the lower class; among equals the
/// first received stays.
pub(super) fn beats(code: u16, best: Option<u16>) -> bool {
    let rank = |c: u16| if c >= 600 { 0 } else { c / 100 };
    best.map_or(true, |b| rank(code) < rank(b))
}

impl Call {
    /// Makes fork `idx` the current one: `b` and its tag move in, the previous current
    /// fork's state is kept in its entry.
    fn switch_fork(&mut self, idx: usize) {
        let f = &mut self.forks;
        if idx == f.current || idx >= f.list.len() {
            return;
        }
        if let Some(prev) = f.list.get_mut(f.current) {
            prev.b = self.b.clone();
            prev.tagged = self.b_tagged;
        }
        let next = &f.list[idx]; // idx < len, checked above
        self.b = next.b.clone();
        self.b_tagged = next.tagged;
        self.b_invite_branch = next.branch.clone();
        self.b_invite_target = next.target.clone();
        f.current = idx;
    }
}

impl Call {
    /// RFC 3262 7.2: the caller's PRACK with RAck `rseq` goes to the fork whose reliable
    /// provisional response carried that RSeq (made current); none matching: the current.
    pub(super) fn prack_to_fork(&mut self, rseq: u32) {
        let found = self.forks.list.iter().position(|f| f.rseqs.is_some_and(|(first, last)| (first..=last).contains(&rseq)));
        if let Some(i) = found {
            self.switch_fork(i);
        }
    }
}

impl Calls {
    /// The caller's UPDATE before the answer, for each fork other than the current one
    /// that has an early dialog and is still pending, built by `build` in that fork's
    /// dialog (its CSeq advanced) with a branch of its own; their answers are not relayed
    /// ([`Calls::on_fork_update_answer`]; the current fork's is, `calls_relay.rs`).
    pub(super) fn update_other_forks(&mut self, id: u64, build: impl Fn(&Dialog, &str) -> Vec<u8>) -> Vec<Out> {
        let eligible = |i: usize, f: &Fork, current: usize| i != current && f.tagged && f.done.is_none() && !f.cancelled;
        let Some(call) = self.calls.get(&id).filter(|c| matches!(c.state, CallState::Init | CallState::Ringing)) else { return Vec::new() };
        let current = call.forks.current;
        let n = call.forks.list.iter().enumerate().filter(|(i, f)| eligible(*i, f, current)).count();
        let branches: Vec<String> = (0..n).map(|_| branch_for(id, "r", self.next())).collect();
        let Some(call) = self.calls.get_mut(&id) else { return Vec::new() };
        let forks = call.forks.list.iter_mut().enumerate().filter(|(i, f)| eligible(*i, f, current));
        let mut out = Vec::with_capacity(n);
        for ((_, f), branch) in forks.zip(branches) {
            f.b.cseq += 1;
            out.push((f.b.worker, ToWorker::SendRequest { peer: f.b.peer, msg: build(&f.b, &branch) }));
            f.update_branch = Some(branch);
        }
        out
    }

    /// The answer to the caller's early UPDATE from a fork that was not current (the
    /// current one's is relayed): not relayed; the SDP of a 2xx becomes the fork's early
    /// answer, which its SDP-less 2xx to the INVITE keeps. Other responses are dropped.
    pub(super) fn on_fork_update_answer(&mut self, branch: &str, msg: &Message<'_>) {
        let Some(call) = call_of_branch(branch, b'r').and_then(|id| self.calls.get_mut(&id)) else { return };
        let Some(f) = call.forks.list.iter_mut().find(|f| f.update_branch.as_deref() == Some(branch)) else { return };
        if msg.status().is_some_and(|c| (200..300).contains(&c)) && has_sdp(msg) {
            f.sdp = Some(msg.body().to_vec());
        }
    }

    /// Our INVITE (made by `build`) on leg B dialog `b` with branch `branch`, to the first
    /// target, and when `others` is not empty a copy of it (own branch, Request-URI, Path
    /// and flow) to each other one, the same INVITE text otherwise. Returns the forks
    /// (none for one target) and the INVITEs, the first target's first.
    pub(super) fn invite(&mut self, now: Instant, id: u64, b: &Dialog, branch: &str, others: &[Target], build: impl Fn(&Dialog, &str) -> Vec<u8>) -> (Forks, Vec<Out>) {
        let mut out = Vec::with_capacity(1 + others.len().min(MAX_FORKS - 1));
        out.push((b.worker, ToWorker::SendRequest { peer: b.peer, msg: build(b, branch) }));
        if others.is_empty() {
            return (Forks::default(), out);
        }
        let first = Fork::new(b.clone(), branch.to_owned());
        let mut forks = Forks { list: vec![first], current: 0, best: None, sent: Some(now) };
        for c in others.iter().take(MAX_FORKS - 1) {
            let (worker, peer) = route_to(&c.uri, &c.flow, self.n_workers);
            let d = Dialog { target: c.uri.clone(), routes: c.path.clone(), worker, peer, ..b.clone() };
            let branch = branch_for(id, "i", self.next());
            out.push((worker, ToWorker::SendRequest { peer, msg: build(&d, &branch) }));
            forks.list.push(Fork::new(d, branch));
        }
        (forks, out)
    }

    /// RFC 3261 9.1: CANCEL for our INVITE on leg B (with `extra` header lines): to each
    /// fork still pending when the INVITE was forked, else to the one callee.
    pub(super) fn cancel_leg_b(&mut self, id: u64, extra: &[(&'static str, String)]) -> Vec<Out> {
        let Some(call) = self.calls.get_mut(&id) else { return Vec::new() };
        if let Some(s) = call.serial.as_mut() {
            s.stop();
        }
        let mut targets = Vec::new();
        if call.forks.is_forked() {
            let current = call.forks.current;
            for (i, f) in call.forks.list.iter_mut().enumerate().filter(|(_, f)| f.done.is_none() && !f.cancelled) {
                f.cancelled = true;
                targets.push((if i == current { call.b.clone() } else { f.b.clone() }, f.branch.clone(), f.target.clone()));
            }
        } else {
            targets.push((call.b.clone(), call.b_invite_branch.clone(), call.b_invite_target.clone()));
        }
        let mut out = Vec::with_capacity(targets.len());
        for (mut b, branch, target) in targets {
            // RFC 3261 9.1: the CANCEL's Request-URI and To are the INVITE's (no tag).
            b.remote = b.remote.split(";tag=").next().unwrap_or("").to_owned();
            b.target = target;
            let cancel = build_request_ext(&self.local_addr, &b, "CANCEL", 1, &branch, None, b"", None, extra);
            out.push((b.worker, ToWorker::SendRequest { peer: b.peer, msg: cancel }));
        }
        out
    }

    /// Response `code` to the forked INVITE of call `id` with branch `branch`: what
    /// [`Calls::on_response`] does with it (module doc).
    pub(super) fn on_fork_response(&mut self, id: u64, branch: &str, code: u16, msg: &Message<'_>, ports: &mut MediaPorts) -> ForkStep {
        let Some(call) = self.calls.get_mut(&id) else { return ForkStep::Done(Vec::new()) };
        let Some(idx) = call.forks.list.iter().position(|f| f.branch == branch) else { return ForkStep::Done(Vec::new()) };
        // A final response repeated, or one after the call ended for this fork.
        if call.forks.list[idx].done.is_some() {
            return ForkStep::Done(Vec::new());
        }
        call.forks.list[idx].heard = true;
        let answered = matches!(call.state, CallState::Started | CallState::Stopped);
        match code {
            100 => ForkStep::Done(Vec::new()),
            101..=199 if answered || call.forks.list[idx].cancelled => ForkStep::Done(Vec::new()),
            101..=199 => {
                let f = &mut call.forks.list[idx]; // idx found above
                if let Ok(Some(n)) = msg.rseq() {
                    f.rseqs = Some(f.rseqs.map_or((n, n), |(first, last)| (first.min(n), last.max(n))));
                }
                if has_sdp(msg) {
                    f.sdp = Some(msg.body().to_vec());
                }
                call.switch_fork(idx);
                ForkStep::Relay(Vec::new())
            }
            200..=299 if answered => {
                call.forks.list[idx].done = Some(code);
                ForkStep::Done(self.hang_up_fork(id, idx, msg))
            }
            200..=299 => {
                call.forks.list[idx].done = Some(code);
                call.switch_fork(idx);
                // The relays follow the last early SDP of any fork; a 2xx without SDP
                // keeps the early answer of its own fork (RFC 3264, RFC 3261 13.2.1), so
                // the relays go back to that UE's addresses (and latch anew).
                let sdp = call.forks.list[idx].sdp.take().filter(|_| msg.body().is_empty());
                let mut out = sdp.and_then(|sdp| anchor::anchor_answer(ports, &mut call.anchors, &sdp)).map(|(_, cmds)| cmds).unwrap_or_default();
                out.extend(self.cancel_leg_b(id, &[]));
                ForkStep::Relay(out)
            }
            // 16.7 step 5: a 6xx is the best answer, relayed once the others ended
            // (cancelled now; a 2xx may still come first and win).
            600..=699 => match self.fork_failed(id, idx, code, msg) {
                ForkStep::Done(mut out) => {
                    out.extend(self.cancel_leg_b(id, &[]));
                    ForkStep::Done(out)
                }
                step => step,
            },
            _ => self.fork_failed(id, idx, code, msg),
        }
    }

    /// Fork `idx` of call `id` ended with error `code` (3xx-6xx): kept if the best so
    /// far; the best is relayed once no fork is pending.
    fn fork_failed(&mut self, id: u64, idx: usize, code: u16, msg: &Message<'_>) -> ForkStep {
        let Some(call) = self.calls.get_mut(&id) else { return ForkStep::Done(Vec::new()) };
        let forks = &mut call.forks;
        let Some(fork) = forks.list.get_mut(idx) else { return ForkStep::Done(Vec::new()) };
        fork.done = Some(code);
        if beats(code, forks.best.as_ref().map(|(best, _, _)| *best)) {
            forks.best = Some((code, fork.branch.clone(), msg.buffer().to_vec()));
        }
        if forks.silent_deadline(self.policy.t1).is_some() {
            self.schedule(id);
        }
        self.relay_best(id, Some(idx))
    }

    /// The best error of call `id`'s forks once none is pending (16.7 step 6); `idx`: the
    /// fork whose response is at hand (relayed as it is when it is the best).
    fn relay_best(&mut self, id: u64, idx: Option<usize>) -> ForkStep {
        let Some(call) = self.calls.get_mut(&id) else { return ForkStep::Done(Vec::new()) };
        let forks = &mut call.forks;
        if forks.list.iter().any(|f| f.done.is_none()) || call.state == CallState::Started {
            return ForkStep::Done(Vec::new());
        }
        let Some((_, branch, raw)) = forks.best.take() else { return ForkStep::Done(Vec::new()) };
        match forks.list.iter().position(|f| f.branch == branch) {
            Some(i) if Some(i) == idx => {
                call.switch_fork(i);
                ForkStep::Relay(Vec::new())
            }
            Some(i) => {
                call.switch_fork(i);
                ForkStep::RelayBest { branch, raw }
            }
            None => ForkStep::Done(Vec::new()),
        }
    }

    /// Call `id`'s silent forks are given up (module doc): what is left to relay.
    pub(super) fn silent_forks_given_up(&mut self, id: u64) -> ForkStep {
        let Some(call) = self.calls.get_mut(&id) else { return ForkStep::Done(Vec::new()) };
        for f in call.forks.list.iter_mut().filter(|f| f.done.is_none() && !f.heard) {
            f.done = Some(408);
        }
        self.relay_best(id, None)
    }

    /// RFC 3261 13.2.2.4: a 2xx of fork `idx` after another fork won: ACK it, then BYE
    /// (on its own dialog: its To tag and Contact).
    fn hang_up_fork(&mut self, id: u64, idx: usize, msg: &Message<'_>) -> Vec<Out> {
        let (ack_branch, bye_branch) = (branch_for(id, "a", self.next()), branch_for(id, "b", self.next()));
        let Some(f) = self.calls.get(&id).and_then(|c| c.forks.list.get(idx)) else { return Vec::new() };
        let mut d = f.b.clone();
        if let Some(to) = msg.header(HeaderName::To) {
            d.remote = lossy(to).into_owned();
        }
        if let Some(Ok(crate::sip::Contact::Addr(na))) = msg.contacts().next() {
            d.target = text(na.uri.raw);
        }
        let ack = self.request(&d, "ACK", 1, &ack_branch, None, b"", None);
        let bye = self.request(&d, "BYE", 2, &bye_branch, None, b"", None);
        vec![(d.worker, ToWorker::SendStateless { peer: d.peer, msg: ack }), (d.worker, ToWorker::SendRequest { peer: d.peer, msg: bye })]
    }
}
