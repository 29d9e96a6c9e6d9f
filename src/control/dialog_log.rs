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

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::dialogs::DialogRow;
use crate::media::BoardEntry;
use crate::sdp::{Direction, SessionDescription};

/// How long a stopped dialog stays listed (seed 000 dialog_get).
pub const STOP_LINGER: Duration = Duration::from_secs(30);
/// Events kept per dialog; older ones are dropped (and counted).
pub const MAX_EVENTS: usize = 32;
/// Legs (Call-IDs) per dialog whose last SDP is kept: the caller's and the callee's.
pub const MAX_LEGS: usize = 2;
/// Most stopped dialogs listed at once (about 1 KiB each): at more than about 270
/// calls per second some leave before their 30 s.
pub const MAX_STOPPED: usize = 8192;
/// Media sections remembered per dialog.
const MAX_SECTIONS: usize = 8;

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

/// The method names events carry (anything else is `OTHER`), so that an event
/// holds a `&'static str` and recording allocates nothing.
const METHODS: [&str; 14] =
    ["INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE", "INFO", "MESSAGE", "OPTIONS", "REFER", "NOTIFY", "SUBSCRIBE", "REGISTER", "PUBLISH"];

/// The static name of method `m` (`OTHER` when not a known one).
pub fn method_name(m: &[u8]) -> &'static str {
    METHODS.iter().find(|n| n.as_bytes().eq_ignore_ascii_case(m)).copied().unwrap_or("OTHER")
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

#[derive(Debug)]
struct Entry {
    created: Instant,
    events: VecDeque<Event>,
    dropped: u64,
    /// The dialog's own state at the last message, and the state last shown.
    base: &'static str,
    shown: &'static str,
    sections: Vec<Section>,
    hold: bool,
    /// (Call-ID of the leg, last SDP ringcore sent on it).
    sent_sdp: Vec<(String, Vec<u8>)>,
    /// The dialog's row as last seen alive (kept for the `stop` listing).
    row: Option<DialogRow>,
    /// When it stopped, and its media counters then.
    stopped: Option<(Instant, Vec<BoardEntry>)>,
}

impl Entry {
    fn new(created: Instant) -> Entry {
        Entry {
            created,
            events: VecDeque::new(),
            dropped: 0,
            base: "",
            shown: "",
            sections: Vec::new(),
            hold: false,
            sent_sdp: Vec::new(),
            row: None,
            stopped: None,
        }
    }

    fn push(&mut self, now: Instant, kind: EventKind, state: &'static str, message: Label) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
            self.dropped += 1;
        }
        let at = now.saturating_duration_since(self.created);
        self.events.push_back(Event { at, kind, state, message });
    }

    /// The state shown: `hold` replaces `start` while the UE's media is held.
    fn show(&self, base: &'static str) -> &'static str {
        if base == "start" && self.hold {
            "hold"
        } else {
            base
        }
    }

    /// A `state` event when the shown state changed; true then.
    fn note_state(&mut self, now: Instant) -> bool {
        let shown = self.show(self.base);
        if shown.is_empty() || shown == self.shown {
            return false;
        }
        self.shown = shown;
        self.push(now, EventKind::State, shown, Label::None);
        true
    }

    /// Still listed at `now`: in progress, or stopped less than [`STOP_LINGER`] ago.
    fn listed(&self, now: Instant) -> bool {
        self.stopped.as_ref().map_or(true, |(at, _)| now.saturating_duration_since(*at) < STOP_LINGER)
    }
}

/// Event lists and SDP memory of the dialogs in progress.
#[derive(Debug)]
pub struct DialogLog {
    entries: HashMap<String, Entry>,
    max_dialogs: usize,
    /// Stopped dialogs, oldest first.
    stopped: VecDeque<String>,
    /// Dialogs not tracked because `max_dialogs` were.
    pub untracked: u64,
}

impl DialogLog {
    /// Tracks at most `max_dialogs` dialogs at once.
    pub fn new(max_dialogs: usize) -> DialogLog {
        DialogLog { entries: HashMap::new(), max_dialogs: max_dialogs.max(1), stopped: VecDeque::new(), untracked: 0 }
    }

    /// Dialogs tracked.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no dialog is tracked.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&mut self, now: Instant, id: &str, age: Duration) -> Option<&mut Entry> {
        if !self.entries.contains_key(id) {
            if self.entries.len().saturating_sub(self.stopped.len()) >= self.max_dialogs {
                self.untracked += 1;
                return None;
            }
            let created = now.checked_sub(age).unwrap_or(now);
            self.entries.insert(id.to_owned(), Entry::new(created));
        }
        self.entries.get_mut(id)
    }

    /// A message of dialog `id` (whose age is `age` and whose state after handling the
    /// message is `state`) was sent or received: the message event, then a `state`
    /// event when the state changed. True when the dialog's row should be refreshed
    /// ([`Self::handle_row`]): its state changed or no row is known.
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
        if let Some(e) = self.entries.get_mut(id).filter(|e| e.stopped.is_none()) {
            e.row = Some(row);
        }
    }

    /// Dialog `id` ended at `now` with these final media counters: it is listed in state
    /// `stop` for [`STOP_LINGER`] (a dialog whose row was never known is dropped).
    pub fn handle_stop(&mut self, now: Instant, id: &str, media: Vec<BoardEntry>) {
        let Some(e) = self.entries.get_mut(id) else { return };
        if e.stopped.is_some() {
            return;
        }
        if e.row.is_none() {
            self.entries.remove(id);
            return;
        }
        e.base = "stop";
        e.hold = false;
        e.note_state(now);
        e.sent_sdp = Vec::new();
        e.stopped = Some((now, media));
        self.stopped.push_back(id.to_owned());
        if self.stopped.len() > self.max_dialogs.min(MAX_STOPPED) {
            if let Some(old) = self.stopped.pop_front() {
                self.entries.remove(&old);
            }
        }
    }

    /// The UE of dialog `id` sent `body` (an SDP offer or answer): its media sections
    /// replace the known ones and the hold state follows them (RFC 3264 8.4: every
    /// active section sendonly, recvonly or inactive means held). Not SDP: ignored.
    pub fn handle_ue_sdp(&mut self, now: Instant, id: &str, age: Duration, body: &[u8]) {
        let Ok(sd) = SessionDescription::parse(body) else { return };
        let Some(e) = self.entry(now, id, age) else { return };
        let session_dir = sd.direction().unwrap_or(Direction::SendRecv);
        e.sections = sd
            .media
            .iter()
            .take(MAX_SECTIONS)
            .map(|m| Section { kind: m.kind.as_str(), dir: m.direction().unwrap_or(session_dir), removed: m.port == 0 })
            .collect();
        let mut active = e.sections.iter().filter(|s| !s.removed).peekable();
        e.hold = active.peek().is_some() && active.all(|s| s.dir != Direction::SendRecv);
        if e.stopped.is_none() {
            e.note_state(now);
        }
    }

    /// ringcore sent `body` (SDP) on the leg `call_id` of dialog `id`.
    pub fn handle_sent_sdp(&mut self, now: Instant, id: &str, age: Duration, call_id: &str, body: &[u8]) {
        let Some(e) = self.entry(now, id, age) else { return };
        let full = e.sent_sdp.len() >= MAX_LEGS;
        match e.sent_sdp.iter_mut().find(|(c, _)| c == call_id) {
            Some((_, b)) => *b = body.to_vec(),
            None if !full => e.sent_sdp.push((call_id.to_owned(), body.to_vec())),
            None => {}
        }
    }

    /// The row of dialog `id` as last seen alive.
    pub fn row(&self, id: &str) -> Option<&DialogRow> {
        self.entries.get(id).filter(|e| e.stopped.is_none())?.row.as_ref()
    }

    /// True when dialog `id` is known and stopped.
    pub fn is_stopped(&self, id: &str) -> bool {
        self.entries.get(id).is_some_and(|e| e.stopped.is_some())
    }

    /// Dialogs in progress for which `live` is false are stopped (without media
    /// counters), and stopped dialogs past [`STOP_LINGER`] are dropped.
    pub fn sweep(&mut self, now: Instant, live: impl Fn(&str) -> bool) {
        let ended: Vec<String> = self.entries.iter().filter(|(id, e)| e.stopped.is_none() && !live(id)).map(|(id, _)| id.clone()).collect();
        for id in ended {
            self.handle_stop(now, &id, Vec::new());
        }
        while let Some(id) = self.stopped.front() {
            if self.entries.get(id).is_some_and(|e| e.listed(now)) {
                break;
            }
            if let Some(id) = self.stopped.pop_front() {
                self.entries.remove(&id);
            }
        }
    }

    /// The stopped dialogs still listed at `now`: their last row in state `stop`, aged
    /// from their creation.
    pub fn stopped_rows(&self, now: Instant) -> impl Iterator<Item = DialogRow> + '_ {
        self.stopped.iter().filter_map(move |id| {
            let e = self.entries.get(id).filter(|e| e.listed(now))?;
            let mut row = e.row.clone()?;
            row.state = "stop";
            row.age = now.saturating_duration_since(e.created);
            Some(row)
        })
    }

    /// The media counters of stopped dialog `id` when it stopped.
    pub fn final_media(&self, id: &str) -> Option<&[BoardEntry]> {
        self.entries.get(id)?.stopped.as_ref().map(|(_, m)| m.as_slice())
    }

    /// The event list of dialog `id` and how many older events were dropped.
    pub fn events(&self, id: &str) -> (impl Iterator<Item = &Event>, u64) {
        let e = self.entries.get(id);
        (e.into_iter().flat_map(|e| e.events.iter()), e.map_or(0, |e| e.dropped))
    }

    /// The UE's media sections of dialog `id`, in SDP order.
    pub fn sections(&self, id: &str) -> &[Section] {
        self.entries.get(id).map_or(&[], |e| e.sections.as_slice())
    }

    /// The state `dialog_get` shows for dialog `id` whose own state is `base`.
    pub fn state(&self, id: &str, base: &'static str) -> &'static str {
        self.entries.get(id).map_or(base, |e| e.show(base))
    }

    /// The last SDP ringcore sent on leg `call_id` of dialog `id`.
    pub fn sent_sdp(&self, id: &str, call_id: &str) -> Option<&[u8]> {
        let e = self.entries.get(id)?;
        e.sent_sdp.iter().find(|(c, _)| c == call_id).map(|(_, b)| b.as_slice())
    }
}

/// The parts of an outgoing message an event needs, found without a full parse: the
/// label, the Call-ID and whether the body is SDP. None when not a SIP message.
pub fn scan(msg: &[u8]) -> Option<(Label, &str, Option<&[u8]>)> {
    let (head, body) = split_head(msg);
    let mut lines = head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next()?;
    let (mut call_id, mut cseq_method, mut sdp) = (None, None, false);
    for l in lines {
        let Some(colon) = l.iter().position(|&b| b == b':') else { continue };
        let (name, value) = (trim(&l[..colon]), trim(&l[colon + 1..]));
        if name.eq_ignore_ascii_case(b"call-id") || name.eq_ignore_ascii_case(b"i") {
            call_id = std::str::from_utf8(value).ok();
        } else if name.eq_ignore_ascii_case(b"cseq") {
            cseq_method = value.split(|&b| b == b' ').filter(|t| !t.is_empty()).nth(1).map(method_name);
        } else if name.eq_ignore_ascii_case(b"content-type") || name.eq_ignore_ascii_case(b"c") {
            sdp = value.len() >= 15 && value[..15].eq_ignore_ascii_case(b"application/sdp");
        }
    }
    let label = match first.strip_prefix(b"SIP/2.0 ") {
        Some(rest) => {
            let code = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
            Label::Response(code, cseq_method.unwrap_or("OTHER"))
        }
        None => Label::Request(method_name(first.split(|&b| b == b' ').next()?)),
    };
    Some((label, call_id?, (sdp && !body.is_empty()).then_some(body)))
}

fn split_head(msg: &[u8]) -> (&[u8], &[u8]) {
    match msg.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&msg[..i], &msg[i + 4..]),
        None => (msg, &[]),
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |i| i + 1);
    b.get(s..e).unwrap_or(&[])
}

#[cfg(test)]
#[path = "dialog_log_tests.rs"]
mod tests;
