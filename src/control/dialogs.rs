//! The dialogs as the monitor shows them (seed 000 dialog model: types
//! server, echo, mt; states init, ringing, start, stop) and the actions of
//! `dialog_set` the monitor offers (stop, hold, answer).

use std::io::{self, Write};
use std::time::Duration;

/// One dialog in the listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogRow {
    /// Its Call-ID (the caller's for relayed calls): the `dialog_set` id.
    pub id: String,
    /// `server` (relayed call), `echo` or `mt`.
    pub kind: &'static str,
    /// `init`, `ringing`, `start` or `stop`.
    pub state: &'static str,
    /// Caller identity (From).
    pub from: String,
    /// Callee identity (To).
    pub to: String,
    /// Time since the INVITE.
    pub age: Duration,
    /// Negotiated session interval (RFC 4028), if any.
    pub session_expires: Option<u32>,
    /// QoS state per media (RFC 3312), empty when not tracked.
    pub qos: Vec<&'static str>,
}

/// A `dialog_set` action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// End the dialog (BYE, or a final answer / CANCEL when not answered).
    Stop,
    /// Put the UE on hold: re-INVITE with `a=sendonly` (RFC 3264 8.4).
    Hold,
    /// Answer a ringing echo call now (seed 000 remote_control, ring_only).
    Answer,
}

impl Action {
    /// Parses `stop` or `hold`.
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "stop" => Some(Action::Stop),
            "hold" => Some(Action::Hold),
            "answer" => Some(Action::Answer),
            _ => None,
        }
    }
}

/// The bare identity of a From/To header value (`"A" <sip:a@x>;tag=1` → `sip:a@x`).
pub fn identity(header: &str) -> String {
    let h = header.split(";tag=").next().unwrap_or("");
    match (h.find('<'), h.find('>')) {
        (Some(a), Some(b)) if a < b => h[a + 1..b].to_owned(),
        _ => h.trim().to_owned(),
    }
}

/// Sets the direction attribute of every media section of `sd` (hold: sendonly).
pub fn set_direction(sd: &mut crate::sdp::SessionDescription, dir: crate::sdp::Direction) {
    for m in &mut sd.media {
        m.attributes.retain(|a| !matches!(a, crate::sdp::Attribute::Direction(_)));
        m.attributes.push(crate::sdp::Attribute::Direction(dir));
    }
}

/// Writes the monitor table.
pub fn write_table(rows: &[DialogRow], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{:<40} {:<6} {:<7} {:>6} {:>5} {:<12} FROM -> TO", "ID", "TYPE", "STATE", "AGE", "SE", "QOS")?;
    for r in rows {
        let se = r.session_expires.map_or("-".to_owned(), |s| s.to_string());
        let qos = if r.qos.is_empty() { "-".to_owned() } else { r.qos.join(",") };
        writeln!(out, "{:<40} {:<6} {:<7} {:>6} {:>5} {:<12} {} -> {}", r.id, r.kind, r.state, r.age.as_secs(), se, qos, r.from, r.to)?;
    }
    writeln!(out, "{} dialog(s)", rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_strips_name_brackets_and_tag() {
        assert_eq!(identity("\"Al\" <sip:a@x>;tag=9"), "sip:a@x");
        assert_eq!(identity("<tel:+331>"), "tel:+331");
        assert_eq!(identity("sip:b@x;tag=1"), "sip:b@x");
    }

    #[test]
    fn table_lists_rows_and_counts() {
        let row = DialogRow {
            id: "c1".into(),
            kind: "echo",
            state: "start",
            from: "sip:a@x".into(),
            to: "sip:echo@x".into(),
            age: Duration::from_secs(3),
            session_expires: Some(90),
            qos: vec!["erab_set"],
        };
        let mut out = Vec::new();
        write_table(&[row], &mut out).expect("writes to a Vec");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains("c1") && text.contains("erab_set") && text.contains("sip:a@x -> sip:echo@x"), "{text}");
        assert!(text.ends_with("1 dialog(s)\n"), "{text}");
        assert_eq!(Action::parse("hold"), Some(Action::Hold));
        assert_eq!(Action::parse("answer"), Some(Action::Answer));
        assert_eq!(Action::parse("downgrade"), None);
    }
}
