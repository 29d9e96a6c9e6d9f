//! `dialog_set` on MT calls (seed 000 6.6): `stop` (BYE once answered, CANCEL
//! before, RFC 3261 15.1.1 / 9.1, with the operator's Reason header, RFC 3326),
//! `hold` as a toggle (our media `a=sendonly`, then `a=sendrecv` again, RFC 3264
//! 8.4), and the re-INVITEs of `reinvite` (our offer again, or the SDP of the
//! request's `sdp_file`: "forces a new SDP to be sent") and `downgrade` (the
//! removed media's sections at port 0, RFC 3264 8.2). The UE's answers come back
//! through [`MtCalls::on_response`] (2xx acknowledged, RFC 3261 13.2.2.4).

use super::super::dialogs::{self, Action, Reason};
use super::super::media_loops::{self, Stream};
use super::{build_request_ext, Headers, MediaPorts, MtCalls, Out};
use crate::endpoint::ToWorker;
use crate::sdp::{self, LocalSession, MediaKind, SessionDescription};

/// The new offer of a `dialog_set` re-INVITE on an MT call (RFC 3264 8).
#[derive(Clone, Copy, Debug)]
pub enum Reoffer<'a> {
    /// `reinvite`: our current offer, version incremented.
    Same,
    /// `reinvite` with `sdp_file`: this SDP's media, with our `o=`, `c=` and the call's
    /// port of each looped stream (a kind the call does not loop goes at port 0).
    File(&'a SessionDescription),
    /// `downgrade`: the active sections of this kind at port 0 (RFC 3264 8.2).
    Remove(MediaKind),
}

/// The offer of SDP file `file` on an MT call looping `media` back on `ip`, keeping the
/// session's `o=` id and version (the caller increments the version when sending):
/// built as the initial offers from `mt_call_sdp_file` are, each looped stream on the
/// port it has (RFC 3264 8: a stream keeps its port), other sections disabled (port 0).
fn offer_from_file(file: &SessionDescription, current: &SessionDescription, ip: std::net::IpAddr, media: &[Stream]) -> Result<SessionDescription, String> {
    let caps = super::builtin_caps();
    let local = LocalSession { addr: ip, session_id: 0, session_version: current.origin.session_version };
    let mut given = Vec::with_capacity(2);
    let mut alloc = |k| Some(media_loops::pick_port(&mut given, k, media, || None).unwrap_or(0));
    let mut sd = sdp::offer_from_template(file, &caps, &local, &mut alloc).map_err(|e| format!("cannot build the offer from sdp_file: {e:?}"))?;
    if given.is_empty() {
        return Err("the sdp_file has no stream the call loops back".into());
    }
    // RFC 3264 8: the o= line stays that of the session, only its version moves.
    sd.origin.session_id = current.origin.session_id.clone();
    Ok(sd)
}

impl MtCalls {
    /// `dialog_set ID reinvite|downgrade` on an answered MT call: a re-INVITE with the
    /// offer `change` makes (media of `ip`). None when ID is not an MT call.
    pub fn reoffer(&mut self, id: &str, change: Reoffer<'_>, ip: std::net::IpAddr) -> Option<Result<Vec<Out>, String>> {
        let c = self.calls.get_mut(id)?;
        if !c.answered {
            return Some(Err("the call is not answered".into()));
        }
        match change {
            Reoffer::Same => {}
            Reoffer::File(file) => match offer_from_file(file, &c.offer, ip, &c.media) {
                Ok(sd) => {
                    // The UE's later offers are answered with this file's media too.
                    c.answer_caps = Some(Box::new(media_loops::echoed_caps(file)));
                    c.offer = sd;
                }
                Err(e) => return Some(Err(e)),
            },
            Reoffer::Remove(kind) => {
                if let Err(e) = dialogs::remove_media(&mut c.offer, kind) {
                    return Some(Err(e));
                }
            }
        }
        Some(Ok(self.send_in_dialog(id, "INVITE", true, &[])))
    }

    /// `dialog_set ID stop|hold` on an MT call: stop sends BYE once answered, else
    /// CANCEL (the UE's 487 then ends the call), each with the Reason given; hold
    /// re-INVITEs the UE with our media `a=sendonly` (RFC 3264 8.4), or `a=sendrecv`
    /// when held already (seed 000 "hold or unhold"). None when ID is not an MT call.
    pub fn dialog_set(&mut self, id: &str, action: &Action, ports: &mut MediaPorts) -> Option<Result<Vec<Out>, String>> {
        let c = self.calls.get_mut(id)?;
        Some(match (action, c.answered) {
            (Action::Answer(_), _) => Err("MT calls are answered by the UE".into()),
            (Action::Stop(reason), true) => {
                let mut out = self.send_in_dialog(id, "BYE", false, &Reason::headers(reason.as_ref()));
                out.extend(self.release(id, ports));
                Ok(out)
            }
            (Action::Stop(reason), false) => Ok(self.cancel(id, Reason::headers(reason.as_ref()))),
            (Action::Hold, true) => {
                let active = c.offer.media.iter().find(|m| m.port != 0);
                let held = active.and_then(|m| m.direction()) == Some(sdp::Direction::SendOnly);
                let dir = if held { sdp::Direction::SendRecv } else { sdp::Direction::SendOnly };
                dialogs::set_direction(&mut c.offer, dir);
                Ok(self.send_in_dialog(id, "INVITE", true, &[]))
            }
            (Action::Hold, false) => Err("the call is not answered".into()),
        })
    }

    /// `dialog_set stop` before the answer: the INVITE is cancelled with `headers`,
    /// at once when a provisional response came, else at the first one (RFC 3261 9.1);
    /// a 2xx crossing it is hung up.
    fn cancel(&mut self, id: &str, headers: Headers) -> Vec<Out> {
        let Some(c) = self.calls.get_mut(id) else { return vec![] };
        if c.cancelled.is_some() {
            return vec![];
        }
        c.cancelled = Some(headers);
        if c.early {
            self.cancel_request(id)
        } else {
            vec![]
        }
    }

    /// A provisional response to our INVITE: a CANCEL waiting for one goes now.
    pub(super) fn on_provisional(&mut self, id: &str) -> Vec<Out> {
        let Some(c) = self.calls.get_mut(id) else { return vec![] };
        let first = !c.early;
        c.early = true;
        if first && c.cancelled.is_some() {
            self.cancel_request(id)
        } else {
            vec![]
        }
    }

    /// RFC 3261 9.1: CANCEL of our INVITE (its branch, Request-URI, Call-ID, From,
    /// To without tag, CSeq number, Route), with the stop's headers.
    fn cancel_request(&self, id: &str) -> Vec<Out> {
        let Some(c) = self.calls.get(id) else { return vec![] };
        let mut d = c.dialog.clone();
        d.remote = d.remote.split(";tag=").next().unwrap_or("").to_owned();
        let (branch, cseq, target) = &c.invite;
        d.target = target.clone();
        let headers = c.cancelled.as_deref().unwrap_or(&[]);
        let cancel = build_request_ext(&self.local_addr, &d, "CANCEL", *cseq, branch, None, b"", None, headers);
        vec![(d.worker, ToWorker::SendRequest { peer: d.peer, msg: cancel })]
    }
}
