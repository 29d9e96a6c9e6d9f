//! [`DialogLog`]: what `dialog_get` reports of a dialog besides its state (seed 000
//! 6.6): the `event_list` (a `state` event on every state change, `send` and `recv`
//! events for the SIP messages of the dialog, each with its time since the dialog's
//! creation and the dialog state at that time), the media sections of the UE's latest
//! SDP (type and direction, for `medias`), the `hold` state derived from that SDP
//! (RFC 3264 8.4), and the last SDP ringcore sent on each leg (the "current SDP" that
//! `dialog_set reinvite`, `hold` and `downgrade` re-offer, RFC 3264 8). A dialog that
//! ended stays listed in state `stop` for [`STOP_LINGER`] (seed 000 dialog_get: "Dialog
//! will persist 30s after being stopped") with its last row and media counters.
//!
//! Sans-IO: the control thread tells it what happened (`handle_*` with `now`) and asks
//! (`events`, `sections`, ...). Bounds: [`MAX_EVENTS`] per dialog (the oldest dropped
//! and counted), at most `max_dialogs` dialogs in progress and [`MAX_STOPPED`] stopped
//! ones (the oldest stopped one leaves first), at most [`MAX_LEGS`] legs per dialog.
//!
//! Cost per message: the message is scanned once ([`scan`]), the dialog found by one
//! lookup in a slab indexed by Call-ID (entries are reused with their buffers, the index
//! never rehashes in steady state), so recording allocates nothing once the number of
//! dialogs stops growing. The sweep for dialogs that ended without a message visits
//! the dialogs in progress only, at most every [`SWEEP_INTERVAL`].

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::dialogs::DialogRow;
use crate::media::BoardEntry;
use crate::sdp::Direction;

#[path = "dialog_log_entry.rs"]
mod entry;
#[path = "dialog_log_scan.rs"]
mod scan;
#[path = "dialog_log_slab.rs"]
mod slab;

pub use scan::{facts, has_tag, scan, scan_lines, Facts, Scanned};
use scan::SdpSections;
use entry::Entry;
use slab::Slab;

/// How long a stopped dialog stays listed (seed 000 dialog_get).
pub const STOP_LINGER: Duration = Duration::from_secs(30);
/// Events kept per dialog; older ones are dropped (and counted).
pub const MAX_EVENTS: usize = 32;
/// Legs (Call-IDs) per dialog whose last SDP is kept: the caller's and the callee's.
pub const MAX_LEGS: usize = 2;
/// Most stopped dialogs listed at once (about 3 KiB each with their event list and
/// the buffers kept for reuse): at more than about 270
/// calls per second some leave before their 30 s.
pub const MAX_STOPPED: usize = 8192;
/// Media sections remembered per dialog.
const MAX_SECTIONS: usize = 8;
/// Most dialogs in progress tracked, whatever `max_dialogs` says (the configuration
/// allows 10 million): slots are numbered with `u32`.
pub const MAX_DIALOGS: usize = 1 << 24;
/// Shortest time between two sweeps by [`DialogLog::sweep_if_due`]: a dialog that
/// ended without a message is shown `stop` at most this late, and a sweep (which
/// visits every dialog in progress) costs at most 4 times a second.
pub const SWEEP_INTERVAL: Duration = Duration::from_millis(250);

/// seed 000 dialog_get.dialogs.event_list.type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A state change.
    State,
    /// ringcore sent a message of the dialog.
    Send,
    /// ringcore received a message of the dialog.
    Recv,
}

impl EventKind {
    /// The seed 000 name.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::State => "state",
            EventKind::Send => "send",
            EventKind::Recv => "recv",
        }
    }
}

/// Which SIP message a send/recv event is about (a ringcore extension of the event
/// object: `message`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// No message (state events).
    None,
    /// A request by method.
    Request(&'static str),
    /// A response: status code and the CSeq method.
    Response(u16, &'static str),
}

impl Label {
    /// `INVITE`, `200 INVITE`, or None.
    pub fn text(self) -> Option<String> {
        match self {
            Label::None => None,
            Label::Request(m) => Some(m.to_owned()),
            Label::Response(code, m) => Some(format!("{code} {m}")),
        }
    }
}

/// One entry of the event list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Time since the dialog was created.
    pub at: Duration,
    /// Event type.
    pub kind: EventKind,
    /// Dialog state when the event occurred.
    pub state: &'static str,
    /// The message of a send/recv event.
    pub message: Label,
}

/// One media section of the UE's latest SDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// `audio`, `video`, ...
    pub kind: &'static str,
    /// Direction (RFC 3264 6.1; sendrecv when absent).
    pub dir: Direction,
    /// Port 0: the section is rejected or removed (RFC 3264 8.2).
    pub removed: bool,
}

/// Event lists and SDP memory of the dialogs in progress and of those stopped recently.
#[derive(Debug)]
pub struct DialogLog {
    /// Every dialog, by its id; at most `max_dialogs` + `max_stopped()`.
    entries: Slab<Entry>,
    max_dialogs: usize,
    /// The slots of the dialogs in progress (what a sweep visits), in no order.
    live: Vec<u32>,
    /// The slots of the stopped dialogs, oldest first.
    stopped: VecDeque<u32>,
    /// When [`Self::sweep_if_due`] sweeps next.
    next_sweep: Option<Instant>,
    /// Dialogs not tracked because `max_dialogs` were.
    pub untracked: u64,
}

impl DialogLog {
    /// Tracks at most `max_dialogs` dialogs in progress at once.
    pub fn new(max_dialogs: usize) -> DialogLog {
        let max_dialogs = max_dialogs.clamp(1, MAX_DIALOGS);
        let max_stopped = max_dialogs.min(MAX_STOPPED);
        DialogLog {
            entries: Slab::new(max_dialogs + max_stopped),
            max_dialogs,
            live: Vec::new(),
            stopped: VecDeque::new(),
            next_sweep: None,
            untracked: 0,
        }
    }

    /// Stopped dialogs listed at most (no more than in progress, nor [`MAX_STOPPED`]).
    fn max_stopped(&self) -> usize {
        self.max_dialogs.min(MAX_STOPPED)
    }

    /// Dialogs tracked.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no dialog is tracked.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(self.entries.find(id)?)
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut Entry> {
        let slot = self.entries.find(id)?;
        self.entries.get_mut(slot)
    }

    /// The entry of dialog `id`, created (in progress, aged `age`) when new and fewer
    /// than `max_dialogs` are in progress.
    fn entry(&mut self, now: Instant, id: &str, age: Duration) -> Option<&mut Entry> {
        let slot = match self.entries.find(id) {
            Some(slot) => slot,
            None if self.live.len() >= self.max_dialogs => {
                self.untracked += 1;
                return None;
            }
            None => {
                let created = now.checked_sub(age).unwrap_or(now);
                let slot = self.entries.insert(id, || Entry::new(created))?;
                let live_at = self.live.len();
                self.entries.get_mut(slot)?.reset(created, live_at);
                self.live.push(slot);
                slot
            }
        };
        self.entries.get_mut(slot)
    }

    /// Takes the dialog at `slot` off the list of dialogs in progress.
    fn unlist_live(&mut self, slot: u32) {
        let Some(at) = self.entries.get(slot).map(|e| e.live_at) else { return };
        if self.live.get(at) != Some(&slot) {
            return;
        }
        self.live.swap_remove(at);
        if let Some(&moved) = self.live.get(at) {
            if let Some(e) = self.entries.get_mut(moved) {
                e.live_at = at;
            }
        }
    }

    /// A message of dialog `id` (whose age is `age` and whose state after handling the
    /// message is `state`) was sent or received: the message event, then a `state`
    /// event when the state changed. True when the dialog's row should be refreshed
    /// ([`Self::handle_row`], or in place through [`Self::fill_row`]): its state changed
    /// or no row is known.
    pub fn handle_message(&mut self, now: Instant, id: &str, age: Duration, kind: EventKind, message: Label, state: &'static str) -> bool {
        let Some(e) = self.entry(now, id, age) else { return false };
        if e.stopped.is_some() {
            return false;
        }
        e.base = state;
        e.push(now, kind, e.show(state), message);
        e.note_state(now) || e.row.is_none()
    }

    /// The current row of dialog `id`, kept to list it once stopped.
    pub fn handle_row(&mut self, id: &str, row: DialogRow) {
        if let Some(e) = self.get_mut(id).filter(|e| e.stopped.is_none()) {
            e.row = Some(row);
        }
    }

    /// Dialog `id` ended at `now` with these final media counters: it is listed in state
    /// `stop` for [`STOP_LINGER`] (a dialog whose row was never known is dropped).
    pub fn handle_stop(&mut self, now: Instant, id: &str, media: Vec<BoardEntry>) {
        if let Some(slot) = self.entries.find(id) {
            self.stop(now, slot, media);
        }
    }

    fn stop(&mut self, now: Instant, slot: u32, media: Vec<BoardEntry>) {
        let Some(e) = self.entries.get_mut(slot).filter(|e| e.stopped.is_none()) else { return };
        let known = e.row.is_some();
        if known {
            e.base = "stop";
            e.hold = false;
            e.note_state(now);
            e.legs_used = 0;
            e.stopped = Some((now, media));
        }
        self.unlist_live(slot);
        if !known {
            self.entries.remove(slot);
            return;
        }
        self.stopped.push_back(slot);
        if self.stopped.len() > self.max_stopped() {
            if let Some(old) = self.stopped.pop_front() {
                self.entries.remove(old);
            }
        }
    }

    /// The UE of dialog `id` sent `body` (an SDP offer or answer): its media sections
    /// replace the known ones and the hold state follows them (RFC 3264 8.4: every
    /// active section sendonly, recvonly or inactive means held). Not SDP: ignored.
    pub fn handle_ue_sdp(&mut self, now: Instant, id: &str, age: Duration, body: &[u8]) {
        let Some(sd) = SdpSections::scan(body) else { return };
        let Some(e) = self.entry(now, id, age) else { return };
        e.sections.clear();
        e.sections.extend_from_slice(sd.as_slice());
        let mut active = e.sections.iter().filter(|s| !s.removed).peekable();
        e.hold = active.peek().is_some() && active.all(|s| s.dir != Direction::SendRecv);
        if e.stopped.is_none() {
            e.note_state(now);
        }
    }

    /// ringcore sent `body` (SDP) on the leg `call_id` of dialog `id`: kept for the
    /// first [`MAX_LEGS`] legs, in the leg's buffer (its size bounded by the largest
    /// message ringcore sends).
    pub fn handle_sent_sdp(&mut self, now: Instant, id: &str, age: Duration, call_id: &str, body: &[u8]) {
        if let Some(e) = self.entry(now, id, age) {
            e.set_sent_sdp(call_id, body);
        }
    }

    /// Refreshes in place the row of dialog `id` (in progress): `fill` writes it (into
    /// the known row, else into the buffers of the row the entry held for an earlier
    /// dialog, so that nothing is allocated) and says whether it knew the dialog. True
    /// when the row was filled; else the caller builds one ([`Self::handle_row`]).
    pub fn fill_row(&mut self, id: &str, fill: impl FnOnce(&mut DialogRow) -> bool) -> bool {
        self.get_mut(id).filter(|e| e.stopped.is_none()).is_some_and(|e| e.fill_row(fill))
    }

    /// The row of dialog `id` as last seen alive.
    pub fn row(&self, id: &str) -> Option<&DialogRow> {
        self.get(id).filter(|e| e.stopped.is_none())?.row.as_ref()
    }

    /// True when dialog `id` is known and stopped.
    pub fn is_stopped(&self, id: &str) -> bool {
        self.get(id).is_some_and(|e| e.stopped.is_some())
    }

    /// At most once per [`SWEEP_INTERVAL`] of `now`: [`Self::sweep`].
    pub fn sweep_if_due(&mut self, now: Instant, live: impl Fn(&str) -> bool) {
        if self.next_sweep.is_some_and(|at| now < at) {
            return;
        }
        self.next_sweep = Some(now + SWEEP_INTERVAL);
        self.sweep(now, live);
    }

    /// Dialogs in progress for which `live` is false are stopped (without media
    /// counters), and stopped dialogs past [`STOP_LINGER`] are dropped. Visits the
    /// dialogs in progress only: the stopped ones leave from the front of their queue.
    pub fn sweep(&mut self, now: Instant, live: impl Fn(&str) -> bool) {
        // Backwards: stopping the dialog at `i` moves the last one (already seen) there.
        for i in (0..self.live.len()).rev() {
            let Some(&slot) = self.live.get(i) else { continue };
            if !live(self.entries.key(slot)) {
                self.stop(now, slot, Vec::new());
            }
        }
        while let Some(&slot) = self.stopped.front() {
            if self.entries.get(slot).is_some_and(|e| e.listed(now)) {
                break;
            }
            self.stopped.pop_front();
            self.entries.remove(slot);
        }
    }

    /// The stopped dialogs still listed at `now`: their last row in state `stop`, aged
    /// from their creation.
    pub fn stopped_rows(&self, now: Instant) -> impl Iterator<Item = DialogRow> + '_ {
        self.stopped.iter().filter_map(move |&slot| {
            let e = self.entries.get(slot).filter(|e| e.listed(now))?;
            let mut row = e.row.clone()?;
            row.state = "stop";
            row.age = now.saturating_duration_since(e.created);
            Some(row)
        })
    }

    /// The media counters of stopped dialog `id` when it stopped.
    pub fn final_media(&self, id: &str) -> Option<&[BoardEntry]> {
        self.get(id)?.stopped.as_ref().map(|(_, m)| m.as_slice())
    }

    /// The event list of dialog `id` and how many older events were dropped.
    pub fn events(&self, id: &str) -> (impl Iterator<Item = &Event>, u64) {
        let e = self.get(id);
        (e.into_iter().flat_map(|e| e.events.iter()), e.map_or(0, |e| e.dropped))
    }

    /// The UE's media sections of dialog `id`, in SDP order.
    pub fn sections(&self, id: &str) -> &[Section] {
        self.get(id).map_or(&[], |e| e.sections.as_slice())
    }

    /// The state `dialog_get` shows for dialog `id` whose own state is `base`.
    pub fn state(&self, id: &str, base: &'static str) -> &'static str {
        self.get(id).map_or(base, |e| e.show(base))
    }

    /// The last SDP ringcore sent on leg `call_id` of dialog `id`.
    pub fn sent_sdp(&self, id: &str, call_id: &str) -> Option<&[u8]> {
        self.get(id)?.sent_sdp(call_id)
    }
}

#[cfg(test)]
#[path = "dialog_log_tests.rs"]
mod tests;
