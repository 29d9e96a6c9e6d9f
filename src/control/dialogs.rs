//! The dialogs as the monitor shows them (seed 000 dialog model: types
//! server, echo, mt; states init, ringing, start, hold, stop) and the actions of
//! `dialog_set` (seed 000 6.6: stop, answer, reinvite, hold, downgrade, media).

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
    /// The media sessions facing the dialog's UE (dialog_get medias).
    pub media: Vec<MediaRef>,
}

/// One media session of a dialog: the worker and local RTP port serving it, and the
/// index of its section in the UE's SDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaRef {
    /// Worker hosting the port.
    pub worker: u16,
    /// Local RTP port (RTCP on port + 1).
    pub port: u16,
    /// Index of the media section in the SDP.
    pub section: usize,
    /// The other leg's port of a relay (switched together by `dialog_set media`).
    pub peer: Option<u16>,
}

/// Where a Call-ID belongs: the dialog (its `dialog_set` id), its state and age, and
/// whether the Call-ID is the leg towards the dialog's UE (the caller's leg of a
/// relayed call; the only leg of echo and MT calls).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogRef {
    /// The dialog id.
    pub id: String,
    /// `init`, `ringing`, `start` or `stop`.
    pub state: &'static str,
    /// Time since the INVITE.
    pub age: Duration,
    /// The Call-ID is the UE's leg.
    pub ue_leg: bool,
}

/// A `dialog_set` request (seed 000 6.6): the actions each dialog type implements
/// ([`Action`]) and those the core handles for every type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// stop, hold, answer.
    Basic(Action),
    /// Re-INVITE with the current SDP (RFC 3264 8).
    Reinvite,
    /// Re-INVITE with the sections of `video` (or audio when false) at port 0 (RFC 3264 8.2).
    Downgrade {
        /// Remove the video sections (else the audio ones).
        video: bool,
    },
    /// Switch RTP and RTCP forwarding of every media of the dialog.
    Media {
        /// Forward RTP.
        rtp: bool,
        /// Forward RTCP.
        rtcp: bool,
    },
}

impl Command {
    /// Parses the monitor's `ACTION [ARG...]`: `stop`, `hold`, `answer`, `reinvite`,
    /// `downgrade [audio|video]` (default video), `media [rtp=on|off] [rtcp=on|off]`
    /// (seed 000: a switch not given is off).
    pub fn parse(args: &[&str]) -> Result<Command, String> {
        let (Some(&action), rest) = (args.first(), args.get(1..).unwrap_or(&[])) else { return Err("missing action".into()) };
        let flag = |v: &str| match v {
            "1" | "on" | "true" => Ok(true),
            "0" | "off" | "false" => Ok(false),
            _ => Err(format!("bad switch value {v}")),
        };
        match action {
            "reinvite" => Ok(Command::Reinvite),
            "downgrade" => match rest.first().copied().unwrap_or("video") {
                "video" => Ok(Command::Downgrade { video: true }),
                "audio" => Ok(Command::Downgrade { video: false }),
                m => Err(format!("unknown media {m} (audio, video)")),
            },
            "media" => {
                let (mut rtp, mut rtcp) = (false, false);
                for a in rest {
                    match a.split_once('=') {
                        Some(("rtp", v)) => rtp = flag(v)?,
                        Some(("rtcp", v)) => rtcp = flag(v)?,
                        _ => return Err(format!("bad argument {a} (rtp=on|off rtcp=on|off)")),
                    }
                }
                Ok(Command::Media { rtp, rtcp })
            }
            a => Action::parse(a).map(Command::Basic).ok_or_else(|| format!("unknown action {a} (stop, hold, answer, reinvite, downgrade, media)")),
        }
    }
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
            media: Vec::new(),
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

    #[test]
    fn commands_parse_with_seed_000_defaults() {
        assert_eq!(Command::parse(&["stop"]), Ok(Command::Basic(Action::Stop)));
        assert_eq!(Command::parse(&["reinvite"]), Ok(Command::Reinvite));
        assert_eq!(Command::parse(&["downgrade"]), Ok(Command::Downgrade { video: true }));
        assert_eq!(Command::parse(&["downgrade", "audio"]), Ok(Command::Downgrade { video: false }));
        // seed 000 dialog_set.rtp / rtcp: default false.
        assert_eq!(Command::parse(&["media"]), Ok(Command::Media { rtp: false, rtcp: false }));
        assert_eq!(Command::parse(&["media", "rtp=on", "rtcp=0"]), Ok(Command::Media { rtp: true, rtcp: false }));
        assert!(Command::parse(&["media", "rtp=maybe"]).is_err());
        assert!(Command::parse(&["media", "srtp=on"]).is_err());
        assert!(Command::parse(&["downgrade", "text"]).is_err());
        assert!(Command::parse(&["frobnicate"]).is_err());
        assert!(Command::parse(&[]).is_err());
    }
}
