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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DialogRef<'a> {
    /// The dialog id (borrowed: looking a Call-ID up allocates nothing).
    pub id: &'a str,
    /// `init`, `ringing`, `start` or `stop`.
    pub state: &'static str,
    /// Time since the INVITE.
    pub age: Duration,
    /// The Call-ID is the UE's leg.
    pub ue_leg: bool,
}

/// A `dialog_set` request (seed 000 6.6): the actions each dialog type implements
/// ([`Action`]) and those the core handles for every type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// stop, hold, answer.
    Basic(Action),
    /// Re-INVITE with the current SDP (RFC 3264 8), or on an MT call with the SDP of
    /// this file (seed 000 dialog_set.sdp_file, read when the request is applied).
    Reinvite(Option<String>),
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
    /// Parses the monitor's `ACTION [ARG...]`: `stop [cause=N] [protocol=P] [text=WORDS...]`,
    /// `hold`, `answer [CODE]`, `reinvite [SDP_FILE]`, `downgrade [audio|video]` (default video),
    /// `media [rtp=on|off] [rtcp=on|off]` (seed 000: a switch not given is off).
    pub fn parse(args: &[&str]) -> Result<Command, String> {
        let (Some(&action), rest) = (args.first(), args.get(1..).unwrap_or(&[])) else { return Err("missing action".into()) };
        let flag = |v: &str| match v {
            "1" | "on" | "true" => Ok(true),
            "0" | "off" | "false" => Ok(false),
            _ => Err(format!("bad switch value {v}")),
        };
        match action {
            "reinvite" => Ok(Command::Reinvite(rest.first().map(|f| (*f).to_owned()))),
            "stop" => Reason::parse_args(rest).map(|r| Command::Basic(Action::Stop(r))),
            "answer" => match rest.first() {
                None => Ok(Command::Basic(Action::Answer(None))),
                Some(c) => c.parse().map_err(|_| format!("bad answer code {c}")).and_then(answer_code).map(|c| Command::Basic(Action::Answer(Some(c)))),
            },
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// End the dialog (BYE, or a final answer / CANCEL when not answered), with
    /// a Reason header when given (RFC 3326).
    Stop(Option<Reason>),
    /// Put the UE on hold: re-INVITE with `a=sendonly` (RFC 3264 8.4).
    Hold,
    /// Answer a ringing echo call now (seed 000 remote_control, ring_only), with 200 or
    /// the forced final code (seed 000 dialog_set.code: "if action is answer, forces SIP
    /// code"; a 3xx-6xx refuses the call).
    Answer(Option<u16>),
}

/// The forced code of an `answer`: a final response, 200..=699 (RFC 3261 7.2; a
/// provisional one would leave the INVITE unanswered).
pub fn answer_code(code: u16) -> Result<u16, String> {
    if (200..=699).contains(&code) {
        Ok(code)
    } else {
        Err(format!("answer code {code} is not a final response (200-699)"))
    }
}

impl Action {
    /// Parses `stop` or `hold`.
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "stop" => Some(Action::Stop(None)),
            "hold" => Some(Action::Hold),
            "answer" => Some(Action::Answer(None)),
            _ => None,
        }
    }
}

/// Longest Reason text accepted (bounds the header; seed 000 gives no limit).
const MAX_REASON_TEXT: usize = 256;

/// The Reason header of a `dialog_set stop` (RFC 3326 2: `Reason: SIP;cause=480
///;text="..."`), carried by the BYE, the CANCEL or the final response that ends the dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// Protocol token (seed 000 dialog_set.reason_protocol: `SIP` by default, `Q.850`, ...).
    pub protocol: String,
    /// Protocol cause (dialog_set.code): a SIP status code, a Q.850 cause value.
    pub cause: Option<u16>,
    /// Reason text (dialog_set.reason).
    pub text: Option<String>,
}

impl Reason {
    /// The Reason of seed 000 dialog_set `code`, `reason`, `reason_protocol`: None when
    /// none is given; checked so that the header stays well formed (RFC 3326 2:
    /// protocol a token, cause a SIP status code (RFC 3261 7.2) or a Q.850 cause
    /// value (1 to 127), text a quoted-string of printable characters).
    pub fn new(protocol: Option<&str>, cause: Option<u16>, text: Option<&str>) -> Result<Option<Reason>, String> {
        if protocol.is_none() && cause.is_none() && text.is_none() {
            return Ok(None);
        }
        let protocol = protocol.unwrap_or("SIP");
        // RFC 3261 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~").
        let token = |c: char| c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c);
        if protocol.is_empty() || protocol.len() > 32 || !protocol.chars().all(token) {
            return Err(format!("bad reason_protocol {protocol:?} (a token such as SIP or Q.850)"));
        }
        match (protocol, cause) {
            ("SIP", Some(c)) if !(100..=699).contains(&c) => return Err(format!("bad SIP cause {c} (100 to 699)")),
            ("Q.850", Some(c)) if !(1..=127).contains(&c) => return Err(format!("bad Q.850 cause {c} (1 to 127)")),
            _ => {}
        }
        if let Some(t) = text {
            if t.len() > MAX_REASON_TEXT || t.chars().any(|c| c.is_control()) {
                return Err(format!("bad reason text (at most {MAX_REASON_TEXT} bytes, no control characters)"));
            }
        }
        Ok(Some(Reason { protocol: protocol.to_owned(), cause, text: text.map(str::to_owned) }))
    }

    /// The monitor's `stop` arguments: `cause=N`, `protocol=P`, then `text=` and the
    /// rest of the line.
    fn parse_args(args: &[&str]) -> Result<Option<Reason>, String> {
        let (mut protocol, mut cause, mut text) = (None, None, None);
        for (i, a) in args.iter().enumerate() {
            match a.split_once('=') {
                Some(("cause", v)) => cause = Some(v.parse::<u16>().map_err(|_| format!("bad cause {v}"))?),
                Some(("protocol", v)) => protocol = Some(v),
                Some(("text", v)) => {
                    let mut words = vec![v];
                    words.extend(args.get(i + 1..).unwrap_or(&[]));
                    text = Some(words.join(" "));
                    break;
                }
                _ => return Err(format!("bad argument {a} (cause=N protocol=P text=...)")),
            }
        }
        Reason::new(protocol, cause, text.as_deref())
    }

    /// The header line (name, value): RFC 3326 2 `protocol *(SEMI reason-params)`, the
    /// text a quoted-string with `"` and `\` escaped (RFC 3261 25.1 quoted-pair).
    pub fn header(&self) -> (&'static str, String) {
        let mut v = self.protocol.clone();
        if let Some(c) = self.cause {
            v.push_str(&format!(";cause={c}"));
        }
        if let Some(t) = &self.text {
            v.push_str(";text=\"");
            for c in t.chars() {
                if c == '"' || c == '\\' {
                    v.push('\\');
                }
                v.push(c);
            }
            v.push('"');
        }
        ("Reason", v)
    }

    /// The header lines of an optional Reason (none, or one).
    pub fn headers(reason: Option<&Reason>) -> Vec<(&'static str, String)> {
        reason.map(Reason::header).into_iter().collect()
    }
}

/// The bare identity of a From/To header value (`"A" <sip:a@x>;tag=1` → `sip:a@x`).
pub fn identity(header: &str) -> String {
    identity_of(header).to_owned()
}

/// [`identity`], borrowed from `header`.
pub fn identity_of(header: &str) -> &str {
    // Up to the first `;tag=` (each `;` tried; a row refresh calls this on every state
    // change, so no substring searcher is set up per call).
    let b = header.as_bytes();
    let end = memchr::memchr_iter(b';', b).find(|&i| b.get(i..).is_some_and(|t| t.starts_with(b";tag="))).unwrap_or(b.len());
    let h = header.get(..end).unwrap_or("");
    match (memchr::memchr(b'<', h.as_bytes()), memchr::memchr(b'>', h.as_bytes())) {
        (Some(a), Some(b)) if a < b => h.get(a + 1..b).unwrap_or(""),
        _ => h.trim(),
    }
}

/// Sets `s` to `value`, keeping its buffer (nothing is allocated when it already
/// holds `value` or has the room).
pub fn assign(s: &mut String, value: &str) {
    if s != value {
        s.clear();
        s.push_str(value);
    }
}

/// Sets the direction attribute of every media section of `sd` (hold: sendonly).
pub fn set_direction(sd: &mut crate::sdp::SessionDescription, dir: crate::sdp::Direction) {
    for m in &mut sd.media {
        m.attributes.retain(|a| !matches!(a, crate::sdp::Attribute::Direction(_)));
        m.attributes.push(crate::sdp::Attribute::Direction(dir));
    }
}

/// RFC 3264 8.2: a stream is removed by offering its section with port 0 (every
/// active section of `kind`); an error when none is active.
pub fn remove_media(sd: &mut crate::sdp::SessionDescription, kind: crate::sdp::MediaKind) -> Result<(), String> {
    let mut hit = false;
    for m in sd.media.iter_mut().filter(|m| m.kind == kind && m.port != 0) {
        m.port = 0;
        hit = true;
    }
    hit.then_some(()).ok_or_else(|| format!("no active {} media", kind.as_str()))
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
    fn reason_header_follows_rfc_3326() {
        assert_eq!(Reason::new(None, None, None), Ok(None));
        let r = Reason::new(None, Some(480), Some("gone \"away\"")).expect("valid").expect("given");
        // RFC 3326 2 grammar, compact form: `SIP;cause=200;text="Call completed elsewhere"`.
        assert_eq!(r.header(), ("Reason", "SIP;cause=480;text=\"gone \\\"away\\\"\"".to_owned()));
        let q = Reason::new(Some("Q.850"), Some(16), None).expect("valid").expect("given");
        assert_eq!(q.header().1, "Q.850;cause=16");
        assert_eq!(Reason::new(None, None, Some("bye")).expect("valid").expect("given").header().1, "SIP;text=\"bye\"");
        assert!(Reason::new(None, Some(99), None).is_err());
        assert!(Reason::new(Some("Q.850"), Some(200), None).is_err());
        assert!(Reason::new(Some("SIP\r\nX: y"), Some(200), None).is_err());
        assert!(Reason::new(None, Some(200), Some("a\r\nX: y")).is_err());
        assert!(Reason::new(None, None, Some(&"x".repeat(MAX_REASON_TEXT + 1))).is_err());
        assert_eq!(Reason::headers(None), vec![]);
    }

    #[test]
    fn identity_strips_name_brackets_and_tag() {
        assert_eq!(identity("\"Al\" <sip:a@x>;tag=9"), "sip:a@x");
        assert_eq!(identity("<tel:+331>"), "tel:+331");
        assert_eq!(identity("sip:b@x;tag=1"), "sip:b@x");
        // The former str-pattern version, the oracle.
        fn reference(header: &str) -> &str {
            let h = header.split(";tag=").next().unwrap_or("");
            match (h.find('<'), h.find('>')) {
                (Some(a), Some(b)) if a < b => h.get(a + 1..b).unwrap_or(""),
                _ => h.trim(),
            }
        }
        for h in ["", ";", ";tag=", " a ;tag", "<sip:a;x=1>;tag=2", "x;ta;tag=<a>", "\"é\" <sip:é@x>;TAG=1;tag=2", "> <", "<sip:a@x", ";;tag=;tag="] {
            assert_eq!(identity_of(h), reference(h), "{h:?}");
        }
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
        assert_eq!(Action::parse("answer"), Some(Action::Answer(None)));
        assert_eq!(Command::parse(&["answer", "486"]), Ok(Command::Basic(Action::Answer(Some(486)))));
        assert!(Command::parse(&["answer", "180"]).is_err());
        assert!(Command::parse(&["answer", "x"]).is_err());
        assert_eq!(Action::parse("downgrade"), None);
    }

    #[test]
    fn commands_parse_with_seed_000_defaults() {
        assert_eq!(Command::parse(&["stop"]), Ok(Command::Basic(Action::Stop(None))));
        assert_eq!(Command::parse(&["reinvite"]), Ok(Command::Reinvite(None)));
        assert_eq!(Command::parse(&["reinvite", "b.sdp"]), Ok(Command::Reinvite(Some("b.sdp".into()))));
        let r = Reason { protocol: "Q.850".into(), cause: Some(16), text: Some("normal clearing".into()) };
        assert_eq!(Command::parse(&["stop", "protocol=Q.850", "cause=16", "text=normal", "clearing"]), Ok(Command::Basic(Action::Stop(Some(r)))));
        assert!(Command::parse(&["stop", "cause=x"]).is_err());
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
