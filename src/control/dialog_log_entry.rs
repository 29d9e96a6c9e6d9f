//! [`Entry`]: what the dialog log keeps of one dialog (its events, the UE's media
//! sections and hold state, the SDP last sent per leg, its last row and, once stopped,
//! its final media counters). Entries are reused: [`Entry::reset`] keeps the capacity
//! of every buffer.

use std::collections::VecDeque;
use std::time::Instant;

use super::{Event, EventKind, Label, Section, MAX_EVENTS, MAX_LEGS, MAX_SECTIONS, STOP_LINGER};
use crate::control::dialogs::DialogRow;
use crate::media::BoardEntry;

/// The last SDP ringcore sent on one leg.
#[derive(Debug, Default)]
pub(super) struct SentLeg {
    call_id: String,
    sdp: Vec<u8>,
}

/// What the log keeps of one dialog.
#[derive(Debug)]
pub(super) struct Entry {
    /// When the dialog was created (event times count from it).
    pub(super) created: Instant,
    /// The newest [`MAX_EVENTS`] events, oldest first.
    pub(super) events: VecDeque<Event>,
    /// Events dropped to keep the bound.
    pub(super) dropped: u64,
    /// The dialog's own state at the last message.
    pub(super) base: &'static str,
    /// The state last shown (in the last `state` event).
    pub(super) shown: &'static str,
    /// The UE's latest media sections (at most `MAX_SECTIONS`).
    pub(super) sections: Vec<Section>,
    /// The UE's latest SDP holds the media (RFC 3264 8.4).
    pub(super) hold: bool,
    /// The legs whose last sent SDP is known: the first `legs_used` of `legs`.
    pub(super) legs: [SentLeg; MAX_LEGS],
    /// How many of `legs` are in use.
    pub(super) legs_used: usize,
    /// The dialog's row as last seen alive (kept for the `stop` listing).
    pub(super) row: Option<DialogRow>,
    /// The row of the entry's previous dialog, its buffers kept to be filled again.
    pub(super) spare_row: Option<DialogRow>,
    /// When it stopped, and its media counters then.
    pub(super) stopped: Option<(Instant, Vec<BoardEntry>)>,
    /// Its position in `DialogLog::live` while in progress.
    pub(super) live_at: usize,
}

impl Entry {
    /// A new entry, its buffers allocated for their bounds.
    pub(super) fn new(created: Instant) -> Entry {
        Entry {
            created,
            events: VecDeque::with_capacity(MAX_EVENTS),
            dropped: 0,
            base: "",
            shown: "",
            sections: Vec::with_capacity(MAX_SECTIONS),
            hold: false,
            legs: Default::default(),
            legs_used: 0,
            row: None,
            spare_row: None,
            stopped: None,
            live_at: 0,
        }
    }

    /// Makes a reused entry new again, keeping the capacity of its buffers.
    pub(super) fn reset(&mut self, created: Instant, live_at: usize) {
        self.created = created;
        self.events.clear();
        self.dropped = 0;
        self.base = "";
        self.shown = "";
        self.sections.clear();
        self.hold = false;
        self.legs_used = 0;
        if let Some(row) = self.row.take() {
            self.spare_row = Some(row);
        }
        self.stopped = None;
        self.live_at = live_at;
    }

    /// Appends an event, dropping (and counting) the oldest when [`MAX_EVENTS`] are kept.
    pub(super) fn push(&mut self, now: Instant, kind: EventKind, state: &'static str, message: Label) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
            self.dropped += 1;
        }
        let at = now.saturating_duration_since(self.created);
        self.events.push_back(Event { at, kind, state, message });
    }

    /// The state shown: `hold` replaces `start` while the UE's media is held.
    pub(super) fn show(&self, base: &'static str) -> &'static str {
        if base == "start" && self.hold {
            "hold"
        } else {
            base
        }
    }

    /// A `state` event when the shown state changed; true then.
    pub(super) fn note_state(&mut self, now: Instant) -> bool {
        let shown = self.show(self.base);
        if shown.is_empty() || shown == self.shown {
            return false;
        }
        self.shown = shown;
        self.push(now, EventKind::State, shown, Label::None);
        true
    }

    /// Fills the row in place with `fill` (the known row, else the spare one); true when
    /// `fill` knew the dialog, which makes a spare row the known one.
    pub(super) fn fill_row(&mut self, fill: impl FnOnce(&mut DialogRow) -> bool) -> bool {
        if let Some(row) = self.row.as_mut() {
            return fill(row);
        }
        let Some(mut row) = self.spare_row.take() else { return false };
        let filled = fill(&mut row);
        if filled {
            self.row = Some(row);
        } else {
            self.spare_row = Some(row);
        }
        filled
    }

    /// Still listed at `now`: in progress, or stopped less than [`STOP_LINGER`] ago.
    pub(super) fn listed(&self, now: Instant) -> bool {
        self.stopped.as_ref().map_or(true, |(at, _)| now.saturating_duration_since(*at) < STOP_LINGER)
    }

    /// Keeps `body`, sent on leg `call_id`, in that leg's buffer (one of the first
    /// [`MAX_LEGS`] legs; later ones are ignored).
    pub(super) fn set_sent_sdp(&mut self, call_id: &str, body: &[u8]) {
        let used = self.legs_used;
        let at = match self.legs.iter().take(used).position(|l| l.call_id == call_id) {
            Some(at) => at,
            None if used < MAX_LEGS => {
                self.legs_used += 1;
                used
            }
            None => return,
        };
        let Some(leg) = self.legs.get_mut(at) else { return };
        if at == used {
            leg.call_id.clear();
            leg.call_id.push_str(call_id);
        }
        leg.sdp.clear();
        leg.sdp.extend_from_slice(body);
    }

    /// The SDP last sent on leg `call_id`.
    pub(super) fn sent_sdp(&self, call_id: &str) -> Option<&[u8]> {
        self.legs.get(..self.legs_used)?.iter().find(|l| l.call_id == call_id).map(|l| l.sdp.as_slice())
    }
}
