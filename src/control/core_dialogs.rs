//! The control thread's dialog listing and `dialog_set` actions (monitor
//! `dialog`, `dialog_set`; remote API `dialog_get`, `dialog_set`, `users_get`
//! dialogs): relayed calls, echo calls and MT calls together, with their media
//! as the workers publish it ([`crate::media::MediaBoard`]) and their event lists
//! ([`super::super::dialog_log::DialogLog`]).

use super::super::dialogs::{self, Action, Command, DialogRow};
use super::super::mt_call::Reoffer;
use super::Control;
use crate::endpoint::ToWorker;
use crate::sdp::{self, MediaKind, SessionDescription};
use serde_json::{json, Value};
use std::time::Instant;

/// users_get.users.dialogs items by normalised IMPU.
pub type UserDialogs = std::collections::HashMap<String, Vec<Value>>;

/// A new offer from the SDP last sent on a leg, changed by `change`, with the
/// session version incremented (RFC 3264 8).
fn reoffer_body(sent: Option<&[u8]>, change: impl FnOnce(&mut SessionDescription) -> Result<(), String>) -> Result<Vec<u8>, String> {
    let sent = sent.ok_or("no SDP was sent on this dialog")?;
    let mut sd = SessionDescription::parse(sent).map_err(|e| format!("the current SDP does not parse: {e}"))?;
    change(&mut sd)?;
    sd.origin.session_version += 1;
    Ok(sd.to_string().into_bytes())
}

impl Control {
    /// Every dialog in progress, oldest first (a started dialog whose UE holds its
    /// media shows `hold`).
    pub fn dialogs(&self) -> Vec<DialogRow> {
        let now = Instant::now();
        let mut rows = self.calls.dialog_rows(now);
        rows.extend(self.echo.dialog_rows(now));
        rows.extend(self.mt.dialog_rows(now));
        for r in &mut rows {
            r.state = self.dialog_log.state(&r.id, r.state);
        }
        // seed 000 dialog_get: a stopped dialog persists 30 s.
        rows.extend(self.dialog_log.stopped_rows(now));
        rows.sort_by_key(|r| std::cmp::Reverse(r.age));
        rows
    }

    /// Applies `cmd` to dialog `id` (a Call-ID from [`Control::dialogs`]).
    pub fn dialog_set(&mut self, id: &str, cmd: Command) -> Result<(), String> {
        let now = Instant::now();
        if self.dialog_log.is_stopped(id) {
            return Err(format!("dialog {id} is stopped"));
        }
        let ip = self.media_ports.ip;
        let out = match cmd {
            Command::Basic(Action::Hold) if self.calls.legs(id).is_some() => {
                // seed 000 "hold or unhold": a held call is resumed (RFC 3264 8.4).
                let dir = if self.dialog_log.state(id, "start") == "hold" { sdp::Direction::SendRecv } else { sdp::Direction::SendOnly };
                self.relayed_reoffer(id, true, |sd| {
                    dialogs::set_direction(sd, dir);
                    Ok(())
                })?
            }
            Command::Basic(action) => self.dialog_action(now, id, &action)?,
            Command::Reinvite(None) => match self.echo.reoffer(id, None).or_else(|| self.mt.reoffer(id, Reoffer::Same, ip)) {
                Some(r) => r?,
                None => self.relayed_reoffer(id, false, |_| Ok(()))?,
            },
            Command::Reinvite(Some(file)) => {
                // seed 000 dialog_set.sdp_file: "applicable on MT call dialogs only", read now.
                if self.mt.dialog_of(now, id).is_none() {
                    return Err(format!("sdp_file applies to MT call dialogs only, not to {id}"));
                }
                let sd = super::super::call_files::read_request_sdp(&file)?;
                self.mt.reoffer(id, Reoffer::File(&sd), ip).ok_or_else(|| format!("no dialog {id}"))??
            }
            Command::Downgrade { video } => {
                let kind = if video { MediaKind::Video } else { MediaKind::Audio };
                match self.echo.reoffer(id, Some(kind)).or_else(|| self.mt.reoffer(id, Reoffer::Remove(kind), ip)) {
                    Some(r) => r?,
                    None if self.calls.legs(id).is_some() => self.relayed_reoffer(id, true, |sd| dialogs::remove_media(sd, kind))?,
                    None => return Err(format!("downgrade is not available on {id}")),
                }
            }
            Command::Media { rtp, rtcp } => self.media_switch(id, rtp, rtcp)?,
        };
        self.send_all(now, out);
        Ok(())
    }

    /// stop, hold, answer as each dialog type implements them.
    fn dialog_action(&mut self, now: Instant, id: &str, action: &Action) -> Result<Vec<(u16, ToWorker)>, String> {
        let ports = &mut self.media_ports;
        Ok(match self.echo.dialog_set(now, id, action, ports).or_else(|| self.mt.dialog_set(id, action, ports)) {
            Some(r) => r?,
            None => match action {
                Action::Stop(reason) => self.calls.stop(id, reason.as_ref(), ports).ok_or_else(|| format!("no dialog {id}"))?,
                Action::Hold | Action::Answer(_) => return Err(format!("{action:?} is available on echo (and MT) dialogs, not on {id}")),
            },
        })
    }

    /// A re-INVITE from ringcore on the caller's leg of relayed call `id` (and on the
    /// callee's too when `both`), each with the SDP last sent on that leg changed by `change`.
    fn relayed_reoffer(&mut self, id: &str, both: bool, change: impl Fn(&mut SessionDescription) -> Result<(), String>) -> Result<Vec<(u16, ToWorker)>, String> {
        let (a, b) = self.calls.legs(id).ok_or_else(|| format!("no dialog {id}"))?;
        let mut offers = vec![(a.clone(), reoffer_body(self.dialog_log.sent_sdp(id, &a), &change)?)];
        if both {
            offers.push((b.clone(), reoffer_body(self.dialog_log.sent_sdp(id, &b), &change)?));
        }
        self.calls.reoffer(id, offers).ok_or_else(|| format!("no dialog {id}"))?
    }

    /// seed 000 dialog_set media: RTP and RTCP forwarding of every media of dialog
    /// `id` switched in the workers (both ports of a relay).
    fn media_switch(&mut self, id: &str, rtp: bool, rtcp: bool) -> Result<Vec<(u16, ToWorker)>, String> {
        let row = self.dialogs().into_iter().find(|r| r.id == id).ok_or_else(|| format!("no dialog {id}"))?;
        if row.media.is_empty() {
            return Err(format!("dialog {id} has no media"));
        }
        let mut out = Vec::new();
        for m in &row.media {
            for port in std::iter::once(m.port).chain(m.peer) {
                out.push((m.worker, ToWorker::MediaSwitch { port, rtp, rtcp }));
            }
        }
        Ok(out)
    }

    /// seed 000 dialog_get.dialogs.medias of `row`: type, qos, dir, rtp/rtcp
    /// destination and packet counts as the worker last published them (plus the
    /// local RTP and RTCP addresses).
    pub(in crate::control) fn medias_json(&self, row: &DialogRow) -> Vec<Value> {
        let sections = self.dialog_log.sections(&row.id);
        let ip = self.media_ports.ip;
        // A stopped dialog's ports may serve another call by now: its counters at the stop.
        let stopped = self.dialog_log.final_media(&row.id);
        row.media
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let s = sections.get(m.section);
                let e = match stopped {
                    Some(f) => f.get(i).copied().unwrap_or_default(),
                    None => self.media_board.read(m.port).unwrap_or_default(),
                };
                let addr = |a: Option<std::net::SocketAddr>| a.map_or(String::new(), |a| a.to_string());
                json!({
                    "type": s.map_or("audio", |s| s.kind),
                    "qos": row.qos.get(m.section).copied().unwrap_or("disabled"),
                    "dir": s.map_or("sendrecv", |s| s.dir.as_str()),
                    "rtp_addr": addr(e.rtp_addr),
                    "rtp_recv_count": e.rtp_recv,
                    "rtp_send_count": e.rtp_send,
                    "rtcp_addr": addr(e.rtcp_addr),
                    "rtcp_recv_count": e.rtcp_recv,
                    "rtcp_send_count": e.rtcp_send,
                    "rtp_local_addr": std::net::SocketAddr::new(ip, m.port).to_string(),
                    "rtcp_local_addr": std::net::SocketAddr::new(ip, m.port.wrapping_add(1)).to_string(),
                })
            })
            .collect()
    }

    /// seed 000 dialog_get.dialogs.event_list of dialog `id` (type, timestamp in
    /// seconds since the dialog's creation, state; plus the message of send/recv events).
    pub(in crate::control) fn events_json(&self, id: &str) -> (Vec<Value>, u64) {
        let (events, dropped) = self.dialog_log.events(id);
        let list = events
            .map(|e| {
                let mut v = json!({"type": e.kind.name(), "timestamp": e.at.as_secs_f64(), "state": e.state});
                if let (Some(m), Value::Object(o)) = (e.message.text(), &mut v) {
                    o.insert("message".into(), m.into());
                }
                v
            })
            .collect();
        (list, dropped)
    }

    /// seed 000 users_get.users.dialogs of every party of a current dialog, by
    /// normalised IMPU: one object per dialog with the IMPI of the remote user (its
    /// IMPU when it is no subscriber), built once per request so that users_get stays
    /// linear in users plus dialogs.
    pub(in crate::control) fn user_dialog_index(&self) -> UserDialogs {
        let norm = crate::ims::hss::normalize_impu;
        let hss = &self.registrar.hss;
        let mut index = UserDialogs::new();
        for d in self.dialogs().into_iter().filter(|d| d.state != "stop") {
            for (me, other) in [(&d.from, &d.to), (&d.to, &d.from)] {
                let remote = norm(other);
                let impi = hss.impi_of_impu(&remote).map_or(remote.clone(), str::to_owned);
                index.entry(norm(me)).or_default().push(json!({"remote": impi, "session_id": d.id, "state": d.state}));
            }
        }
        index
    }
}
