//! Tests of the dialog event log on a virtual clock.

use super::*;
use crate::control::dialogs::DialogRow;

const SDP_SENDRECV: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 AMR-WB/16000\r\nm=video 4002 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n";
const SDP_SENDONLY: &str = "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=sendonly\r\n\
m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 AMR-WB/16000\r\nm=video 0 RTP/AVP 97\r\n";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_call_records_messages_and_state_changes_with_times_since_creation() {
    let t0 = Instant::now();
    let mut log = DialogLog::new(8);
    log.handle_message(t0, "c1", Duration::ZERO, EventKind::Recv, Label::Request("INVITE"), "init");
    log.handle_message(t0 + ms(100), "c1", ms(100), EventKind::Send, Label::Response(180, "INVITE"), "ringing");
    log.handle_message(t0 + ms(900), "c1", ms(900), EventKind::Send, Label::Response(200, "INVITE"), "start");
    log.handle_message(t0 + ms(950), "c1", ms(950), EventKind::Recv, Label::Request("ACK"), "start");
    let (events, dropped) = log.events("c1");
    let got: Vec<(u128, &str, &str, Option<String>)> = events.map(|e| (e.at.as_millis(), e.kind.name(), e.state, e.message.text())).collect();
    assert_eq!(
        got,
        vec![
            (0, "recv", "init", Some("INVITE".into())),
            (0, "state", "init", None),
            (100, "send", "ringing", Some("180 INVITE".into())),
            (100, "state", "ringing", None),
            (900, "send", "start", Some("200 INVITE".into())),
            (900, "state", "start", None),
            (950, "recv", "start", Some("ACK".into())),
        ]
    );
    assert_eq!(dropped, 0);
}

#[test]
fn the_event_list_keeps_the_newest_events_and_counts_the_dropped_ones() {
    let t0 = Instant::now();
    let mut log = DialogLog::new(8);
    for i in 0..40u64 {
        log.handle_message(t0 + ms(i), "c1", ms(i), EventKind::Recv, Label::Request("INFO"), "start");
    }
    let (events, dropped) = log.events("c1");
    let ats: Vec<u128> = events.map(|e| e.at.as_millis()).collect();
    assert_eq!(ats.len(), MAX_EVENTS);
    // 40 messages + 1 state event = 41 events: the 9 oldest are gone.
    assert_eq!(dropped, 9);
    assert_eq!(ats.last(), Some(&39));
    assert_eq!(ats.first(), Some(&8));
}

#[test]
fn sendonly_from_the_ue_shows_hold_and_sendrecv_returns_to_start() {
    let t0 = Instant::now();
    let mut log = DialogLog::new(8);
    log.handle_ue_sdp(t0, "c1", Duration::ZERO, SDP_SENDRECV.as_bytes());
    log.handle_message(t0, "c1", Duration::ZERO, EventKind::Recv, Label::Response(200, "INVITE"), "start");
    assert_eq!(log.sections("c1").iter().map(|s| (s.kind, s.dir, s.removed)).collect::<Vec<_>>(), vec![
        ("audio", Direction::SendRecv, false),
        ("video", Direction::SendRecv, false),
    ]);
    // RFC 3264 8.4: the UE re-offers a=sendonly (session level): held; its video is removed.
    log.handle_ue_sdp(t0 + ms(10), "c1", ms(10), SDP_SENDONLY.as_bytes());
    log.handle_message(t0 + ms(10), "c1", ms(10), EventKind::Recv, Label::Request("INVITE"), "start");
    assert_eq!(log.state("c1", "start"), "hold");
    assert_eq!(log.sections("c1").get(1).map(|s| s.removed), Some(true));
    log.handle_ue_sdp(t0 + ms(20), "c1", ms(20), SDP_SENDRECV.as_bytes());
    assert_eq!(log.state("c1", "start"), "start");
    let (events, _) = log.events("c1");
    let states: Vec<&str> = events.filter(|e| e.kind == EventKind::State).map(|e| e.state).collect();
    assert_eq!(states, vec!["start", "hold", "start"]);
    // Not hold before the call is answered.
    assert_eq!(log.state("c1", "ringing"), "ringing");
}

#[test]
fn sent_sdp_is_kept_per_leg_and_the_number_of_dialogs_is_bounded() {
    let t0 = Instant::now();
    let mut log = DialogLog::new(2);
    log.handle_sent_sdp(t0, "d", Duration::ZERO, "a-leg", b"one");
    log.handle_sent_sdp(t0, "d", Duration::ZERO, "b-leg", b"two");
    log.handle_sent_sdp(t0, "d", Duration::ZERO, "third", b"three");
    log.handle_sent_sdp(t0, "d", Duration::ZERO, "a-leg", b"four");
    assert_eq!(log.sent_sdp("d", "a-leg"), Some(&b"four"[..]));
    assert_eq!(log.sent_sdp("d", "b-leg"), Some(&b"two"[..]));
    assert_eq!(log.sent_sdp("d", "third"), None);
    log.handle_message(t0, "e", Duration::ZERO, EventKind::Recv, Label::Request("INVITE"), "init");
    log.handle_message(t0, "f", Duration::ZERO, EventKind::Recv, Label::Request("INVITE"), "init");
    assert_eq!((log.len(), log.untracked), (2, 1));
    // "d" and "e" ended; neither had a row, so neither is listed as stopped.
    log.sweep(t0, |_| false);
    assert!(log.is_empty());
}

fn row(id: &str) -> DialogRow {
    DialogRow {
        id: id.into(),
        kind: "server",
        state: "start",
        from: "sip:a@x".into(),
        to: "sip:b@x".into(),
        age: Duration::ZERO,
        session_expires: None,
        qos: Vec::new(),
        media: Vec::new(),
    }
}

#[test]
fn a_stopped_dialog_stays_listed_30_s_with_its_final_counters_then_leaves() {
    let t0 = Instant::now();
    let mut log = DialogLog::new(1);
    assert!(log.handle_message(t0, "c1", Duration::ZERO, EventKind::Recv, Label::Request("INVITE"), "init"), "a row is wanted");
    log.handle_row("c1", row("c1"));
    assert!(!log.handle_message(t0 + ms(5), "c1", ms(5), EventKind::Recv, Label::Request("INFO"), "init"), "no change, row known");
    let counters = BoardEntry { rtp_recv: 50, rtp_send: 49, ..BoardEntry::default() };
    log.handle_stop(t0 + ms(2000), "c1", vec![counters]);
    assert!(log.is_stopped("c1") && log.row("c1").is_none());
    assert_eq!(log.final_media("c1"), Some(&[counters][..]));
    let listed: Vec<(String, &str, Duration)> = log.stopped_rows(t0 + ms(3000)).map(|r| (r.id, r.state, r.age)).collect();
    assert_eq!(listed, vec![("c1".to_owned(), "stop", ms(3000))]);
    let (events, _) = log.events("c1");
    assert_eq!(events.last().map(|e| (e.kind, e.state, e.at)), Some((EventKind::State, "stop", ms(2000))));
    // Stopped dialogs do not count against the dialogs in progress; messages after the stop are not recorded.
    assert!(!log.handle_message(t0 + ms(2100), "c1", ms(2100), EventKind::Recv, Label::Request("BYE"), "stop"));
    log.handle_message(t0, "c2", Duration::ZERO, EventKind::Recv, Label::Request("INVITE"), "init");
    assert_eq!((log.len(), log.untracked), (2, 0));
    // seed 000: 30 s after the stop it is gone.
    assert_eq!(log.stopped_rows(t0 + ms(2000) + STOP_LINGER).count(), 0);
    log.sweep(t0 + ms(2000) + STOP_LINGER, |id| id == "c2");
    assert_eq!(log.len(), 1);
    assert!(!log.is_stopped("c1"));
}

#[test]
fn the_oldest_stopped_dialog_leaves_when_too_many_stopped() {
    let t0 = Instant::now();
    let mut log = DialogLog::new(1);
    for id in ["a", "b"] {
        log.handle_message(t0, id, Duration::ZERO, EventKind::Recv, Label::Request("INVITE"), "init");
        log.handle_row(id, row(id));
        log.handle_stop(t0, id, Vec::new());
    }
    let ids: Vec<String> = log.stopped_rows(t0).map(|r| r.id).collect();
    assert_eq!(ids, vec!["b".to_owned()]);
}

#[test]
fn scan_finds_label_call_id_and_sdp_body_of_outgoing_messages() {
    let req = b"INVITE sip:ue@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\ni: abc@h\r\nCSeq: 2 INVITE\r\nc: application/sdp\r\nContent-Length: 3\r\n\r\nv=0";
    let (label, cid, body) = scan(req).expect("a request");
    assert_eq!((label, cid, body), (Label::Request("INVITE"), "abc@h", Some(&b"v=0"[..])));
    let resp = b"SIP/2.0 200 OK\r\nCall-ID: xyz\r\nCSeq: 7 prack\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(scan(resp), Some((Label::Response(200, "PRACK"), "xyz", None)));
    assert_eq!(scan(b"SIP/2.0 2"), None, "truncated status line");
    assert_eq!(scan(b"FOO sip:x SIP/2.0\r\nCSeq: 1 FOO\r\n\r\n"), None, "no Call-ID");
    assert_eq!(scan::method_name(b"frob"), "OTHER");
}

/// Messages of a call as ringcore receives them, with the facts the log records.
const RECEIVED: [&[u8]; 5] = [
    b"INVITE sip:ue@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\nTo: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\ni: abc@h\r\nCSeq: 2 INVITE\r\nc: application/sdp\r\nContent-Length: 3\r\n\r\nv=0",
    b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\nTo: <sip:b@h>;tag=2\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: abc@h\r\nCSeq:  2   invite\r\nContent-Length: 0\r\n\r\n",
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\nTo: <sip:b@h>;tag=2\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: abc@h\r\nCSeq: 2 INVITE\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nv=0",
    b"BYE sip:ue@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK2\r\nTo: <sip:b@h>;tag=2\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: abc@h\r\nCall-ID: last@h\r\nCSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n",
    b"FROB sip:ue@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK3\r\nTo: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: f@h\r\nCSeq: 4 FROB\r\nContent-Type: APPLICATION/SDP\r\nContent-Length: 0\r\n\r\n",
];

#[test]
fn facts_of_a_parsed_message_are_those_scan_finds_in_its_bytes() {
    let want = [
        (Label::Request("INVITE"), "abc@h", Some(&b"v=0"[..])),
        (Label::Response(180, "INVITE"), "abc@h", None),
        (Label::Response(200, "INVITE"), "abc@h", None),
        (Label::Request("BYE"), "last@h", None),
        (Label::Request("OTHER"), "f@h", None),
    ];
    for (raw, want) in RECEIVED.iter().zip(want) {
        let msg = crate::sip::Message::parse(raw).expect("a valid message");
        assert_eq!(facts(&msg), Some(want), "{}", String::from_utf8_lossy(raw));
        assert_eq!(scan(raw), Some(want), "{}", String::from_utf8_lossy(raw));
    }
    // The body is the one Content-Length frames (RFC 3261 18.3), trailing bytes left out.
    let long = b"SIP/2.0 200 OK\r\nCall-ID: k\r\nCSeq: 1 INVITE\r\nc: application/sdp\r\nl: 3\r\n\r\nv=0junk";
    let msg = crate::sip::Message::parse(long).expect("a valid message");
    assert_eq!(facts(&msg), Some((Label::Response(200, "INVITE"), "k", Some(&b"v=0"[..]))));
    let no_id = crate::sip::Message::parse(b"OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n").expect("parses");
    assert_eq!(facts(&no_id), None, "no Call-ID");
}

#[test]
fn to_tags_are_found_in_a_to_value() {
    assert!(has_tag(b"<sip:b@h>;tag=2"));
    assert!(has_tag(b"<sip:b@h> ;TAG=x"));
    assert!(!has_tag(b"<sip:b@h>"));
    assert!(!has_tag(b";tag"));
    assert!(!has_tag(b""));
}

#[test]
fn cut_and_damaged_messages_neither_panic_nor_disagree_between_scan_and_facts() {
    for raw in RECEIVED {
        for end in 0..=raw.len() {
            let mut bytes = raw.get(..end).expect("end is within the message").to_vec();
            check_agree(&bytes);
            // Damage one byte: a NUL, a LF, a CR, a colon, a non-UTF-8 byte.
            for (i, b) in [0u8, b'\n', b'\r', b':', 0xff].into_iter().enumerate() {
                let at = (end * 7 + i * 13) % bytes.len().max(1);
                if let Some(slot) = bytes.get_mut(at) {
                    *slot = b;
                    check_agree(&bytes);
                }
            }
        }
    }
}

/// What [`scan`] finds, by the rule written plainly: lines split at LF (one CR before
/// it dropped), the header ending at the first empty line after the start line, the
/// last Call-ID / CSeq / Content-Type line counting.
fn reference_scan(msg: &[u8]) -> Option<(Label, String, Option<Vec<u8>>)> {
    let mut lines = msg.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = if msg.is_empty() { return None } else { lines.next()? };
    let (mut call_id, mut cseq, mut sdp, mut body) = (None, None, false, None);
    let mut at = msg.iter().position(|&b| b == b'\n').map_or(msg.len(), |n| n + 1);
    for line in lines {
        let raw_len = msg.get(at..).map_or(0, |r| r.iter().position(|&b| b == b'\n').map_or(r.len(), |n| n + 1));
        at += raw_len;
        if line.is_empty() {
            body = msg.get(at..).map(<[u8]>::to_vec);
            break;
        }
        match scan::header(line) {
            Some((scan::Field::CallId, v)) => call_id = std::str::from_utf8(v).ok().map(str::to_owned),
            Some((scan::Field::CSeq, v)) => cseq = v.split(|&b| b == b' ').filter(|t| !t.is_empty()).nth(1).map(scan::method_name),
            Some((scan::Field::ContentType, v)) => sdp = v.len() >= 15 && v[..15].eq_ignore_ascii_case(b"application/sdp"),
            None => {}
        }
    }
    let label = match first.strip_prefix(b"SIP/2.0 ") {
        Some(rest) => Label::Response(std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?, cseq.unwrap_or("OTHER")),
        None => Label::Request(scan::method_name(first.split(|&b| b == b' ').next()?)),
    };
    Some((label, call_id?, body.filter(|b| sdp && !b.is_empty())))
}

/// `scan` and `facts` agree on `raw` whenever it parses as exactly one message (no
/// leading CRLF, no trailing bytes, no folded header line), and neither panics.
fn check_agree(raw: &[u8]) {
    let scanned = scan(raw);
    let owned = scanned.map(|(l, c, b)| (l, c.to_owned(), b.map(<[u8]>::to_vec)));
    assert_eq!(owned, reference_scan(raw), "{}", String::from_utf8_lossy(raw));
    let Ok(msg) = crate::sip::Message::parse(raw) else { return };
    let folded = raw.windows(2).any(|w| matches!(w, [b'\n', b' ' | b'\t']));
    if msg.len() == raw.len() && !raw.starts_with(b"\r") && !raw.starts_with(b"\n") && !folded {
        assert_eq!(facts(&msg), scanned, "{}", String::from_utf8_lossy(raw));
    }
}

#[test]
fn sdp_sections_read_lf_only_bodies_and_bodies_ending_in_empty_lines() {
    let crlf = SDP_SENDONLY;
    let lf = crlf.replace("\r\n", "\n");
    let trailing = format!("{crlf}\r\n\n");
    let want = SdpSections::scan(crlf.as_bytes()).map(|s| s.as_slice().to_vec());
    assert_eq!(want.as_ref().map(Vec::len), Some(2));
    for body in [lf.as_str(), trailing.as_str()] {
        assert_eq!(SdpSections::scan(body.as_bytes()).map(|s| s.as_slice().to_vec()), want, "{body:?}");
    }
    assert_eq!(SdpSections::scan(format!("{crlf}\r\n\r\na=x\r\n").as_bytes()), None, "an empty line inside");
    assert_eq!(SdpSections::scan(b"v=0\r\nm\r\n"), None, "a line without its '='");
}

#[test]
fn header_lines_are_read_by_name_then_whitespace_then_colon_within_name_span() {
    use scan::Field;
    // The rule: the name is what precedes the first colon of the line's first 32 bytes,
    // trimmed; the value what follows it, trimmed.
    fn reference(line: &[u8]) -> Option<(Field, &[u8])> {
        let trim = |b: &[u8]| -> Vec<u8> { String::from_utf8_lossy(b).trim_matches(|c: char| c.is_ascii_whitespace()).as_bytes().to_vec() };
        if !matches!(line.first(), Some(b'c' | b'C' | b'i' | b'I')) {
            return None;
        }
        let colon = line.iter().take(32).position(|&b| b == b':')?;
        let name = trim(line.get(..colon)?).to_ascii_lowercase();
        let field = match name.as_slice() {
            b"call-id" | b"i" => Field::CallId,
            b"cseq" => Field::CSeq,
            b"content-type" | b"c" => Field::ContentType,
            _ => return None,
        };
        let value = line.get(colon + 1..)?;
        let start = value.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(value.len());
        let end = value.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |i| i + 1);
        Some((field, value.get(start..end)?))
    }
    let names = ["Call-ID", "call-id", "I", "i", "CSeq", "cseq", "Content-Type", "c", "C", "Contact", "Content-Length", "Call-Info", "cs", "x", ""];
    let mut checked = 0;
    for name in names {
        for space in 0..34 {
            for tail in [": v ", ":", " : x", "", ";:y", "\t:\tapplication/sdp\t"] {
                let pad = if space % 3 == 0 { "\t" } else { " " }.repeat(space);
                let line = format!("{name}{pad}{tail}");
                assert_eq!(scan::header(line.as_bytes()), reference(line.as_bytes()), "{line:?}");
                checked += usize::from(reference(line.as_bytes()).is_some());
            }
        }
    }
    assert!(checked > 100, "the reference accepts lines too: {checked}");
}

#[test]
fn scan_reads_compact_and_spaced_headers_and_messages_without_a_blank_line() {
    let resp = b"SIP/2.0 183 Session Progress\r\ni  : z1\r\nC : Application/SDP\r\ncseq:  3   INVITE\r\nl: 3\r\n\r\nv=0";
    assert_eq!(scan(resp), Some((Label::Response(183, "INVITE"), "z1", Some(&b"v=0"[..]))));
    // No blank line: all header, no body, even with an SDP Content-Type.
    let cut = b"INVITE sip:x SIP/2.0\r\nCall-ID: q\r\nContent-Type: application/sdp\r\nv=0";
    assert_eq!(scan(cut), Some((Label::Request("INVITE"), "q", None)));
    let bare = b"BYE sip:x SIP/2.0\nCall-ID: lf-only\n\n";
    assert_eq!(scan(bare), Some((Label::Request("BYE"), "lf-only", None)));
    // Headers that only start like the ones looked for, and a Call-ID in the body.
    let other = b"ACK sip:x SIP/2.0\r\nContact: <sip:a>\r\nCall-Info: <x>\r\nContent-Length: 12\r\ni: real\r\n\r\nCall-ID: no\r\n";
    assert_eq!(scan(other), Some((Label::Request("ACK"), "real", None)));
    assert_eq!(scan(b""), None);
    assert_eq!(scan(b"\r\n\r\n"), None, "no method, no Call-ID");
}

#[test]
fn sdp_sections_match_the_full_parser() {
    for body in [SDP_SENDRECV, SDP_SENDONLY] {
        let full = crate::sdp::SessionDescription::parse(body.as_bytes()).expect("valid SDP");
        let session = full.direction().unwrap_or(Direction::SendRecv);
        let want: Vec<Section> =
            full.media.iter().map(|m| Section { kind: m.kind.as_str(), dir: m.direction().unwrap_or(session), removed: m.port == 0 }).collect();
        assert_eq!(SdpSections::scan(body.as_bytes()).map(|s| s.as_slice().to_vec()), Some(want), "{body}");
    }
}

#[test]
fn sdp_sections_take_the_media_level_direction_and_refuse_what_is_not_sdp() {
    let sdp = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\na=recvonly\r\n\
m=audio 0/2 RTP/AVP 0\r\nm=video 5000 RTP/AVP 96\r\na=inactive\r\na=sendonly\r\n";
    let got = SdpSections::scan(sdp.as_bytes()).expect("SDP");
    assert_eq!(got.as_slice().iter().map(|s| (s.kind, s.dir, s.removed)).collect::<Vec<_>>(), vec![
        ("audio", Direction::RecvOnly, true),
        ("video", Direction::Inactive, false),
    ]);
    assert_eq!(SdpSections::scan(b"o=- 1 1 IN IP4 h\r\nv=0\r\n"), None, "v= not first");
    assert_eq!(SdpSections::scan(b"v=0\r\nm=foo 1 RTP/AVP 0\r\n"), None, "unknown media");
    assert_eq!(SdpSections::scan(b"v=0\r\nm=audio x RTP/AVP 0\r\n"), None, "bad port");
    assert_eq!(SdpSections::scan(b"v=0\r\nbad line\r\n"), None, "bad syntax");
    let many: String = std::iter::once("v=0\r\n".to_owned()).chain((0..12).map(|i| format!("m=audio {i} RTP/AVP 0\r\n"))).collect();
    assert_eq!(SdpSections::scan(many.as_bytes()).map(|s| s.as_slice().len()), Some(MAX_SECTIONS));
    let too_many: String =
        std::iter::once("v=0\r\n".to_owned()).chain((0..=crate::sdp::MAX_MEDIA).map(|i| format!("m=audio {i} RTP/AVP 0\r\n"))).collect();
    assert_eq!(SdpSections::scan(too_many.as_bytes()), None, "more media than the parser accepts");
}

/// Starts dialog `id` with a row (so that stopping lists it).
fn start(log: &mut DialogLog, now: Instant, id: &str) {
    log.handle_message(now, id, Duration::ZERO, EventKind::Recv, Label::Request("INVITE"), "init");
    log.handle_row(id, row(id));
}

#[test]
fn a_reused_entry_starts_empty() {
    let t0 = Instant::now();
    let mut log = DialogLog::new(1);
    start(&mut log, t0, "old");
    for i in 0..40u64 {
        log.handle_message(t0, "old", Duration::ZERO, EventKind::Recv, Label::Request("INFO"), "start");
        log.handle_ue_sdp(t0 + ms(i), "old", ms(i), SDP_SENDONLY.as_bytes());
    }
    log.handle_sent_sdp(t0, "old", Duration::ZERO, "old", b"sdp");
    log.handle_stop(t0, "old", vec![BoardEntry::default()]);
    assert_eq!(log.sent_sdp("old", "old"), None, "a stopped dialog keeps no SDP to re-offer");
    log.sweep(t0 + STOP_LINGER, |_| true);
    assert!(log.is_empty());
    let t1 = t0 + STOP_LINGER + ms(5);
    log.handle_message(t1, "new", ms(5), EventKind::Recv, Label::Request("INVITE"), "init");
    let (events, dropped) = log.events("new");
    assert_eq!((events.count(), dropped), (2, 0));
    assert!(log.sections("new").is_empty() && log.row("new").is_none() && !log.is_stopped("new"));
    assert_eq!((log.state("new", "start"), log.sent_sdp("new", "old"), log.final_media("new")), ("start", None, None));
    assert_eq!(log.events("old").1, 0, "the old dialog is gone");
}

#[test]
fn sweeps_are_paced_by_time_and_visit_only_dialogs_in_progress() {
    let t0 = Instant::now();
    let mut log = DialogLog::new(8);
    for id in ["a", "b", "c", "d"] {
        start(&mut log, t0, id);
    }
    log.handle_stop(t0, "a", Vec::new());
    let seen = std::cell::RefCell::new(Vec::new());
    let ended = |id: &str| {
        seen.borrow_mut().push(id.to_owned());
        id != "b" && id != "d"
    };
    log.sweep_if_due(t0, ended);
    let mut visited = seen.take();
    visited.sort();
    assert_eq!(visited, vec!["b", "c", "d"], "the stopped dialog is not asked about");
    assert!(log.is_stopped("b") && log.is_stopped("d") && !log.is_stopped("c"));
    start(&mut log, t0, "e");
    log.sweep_if_due(t0 + SWEEP_INTERVAL - ms(1), |_| false);
    assert!(!log.is_stopped("e"), "too early for another sweep");
    log.sweep_if_due(t0 + SWEEP_INTERVAL, |id| id == "c");
    assert!(log.is_stopped("e") && !log.is_stopped("c"));
    let mut stopped: Vec<String> = log.stopped_rows(t0 + SWEEP_INTERVAL).map(|r| r.id).collect();
    // Oldest first; the order within one sweep is unspecified.
    if let Some(s) = stopped.get_mut(1..3) {
        s.sort();
    }
    assert_eq!(stopped, vec!["a", "b", "d", "e"]);
}

#[test]
fn bounds_hold_while_dialogs_come_and_go() {
    let t0 = Instant::now();
    let mut log = DialogLog::new(3);
    for round in 0..50u64 {
        let now = t0 + ms(round * 100);
        for i in 0..4 {
            start(&mut log, now, &format!("{round}-{i}"));
        }
        log.sweep(now, |id| id.ends_with("-0"));
        // One in progress from this round, the newest 3 stopped (max_dialogs).
        assert_eq!(log.len(), if round == 0 { 3 } else { 4 }, "round {round}");
        assert!(log.live.len() <= 3 && log.stopped.len() <= 3);
        log.handle_stop(now, &format!("{round}-0"), Vec::new());
    }
    assert_eq!(log.untracked, 50, "the 4th dialog of each round");
    // The order within one sweep is unspecified; the explicit stop came last.
    let mut rows: Vec<String> = log.stopped_rows(t0 + ms(4900)).map(|r| r.id).collect();
    assert_eq!(rows.pop().as_deref(), Some("49-0"));
    rows.sort();
    assert_eq!(rows, vec!["49-1", "49-2"]);
}

#[test]
fn the_kept_row_is_updated_in_place_until_the_dialog_stops() {
    let (mut log, t0) = (DialogLog::new(8), Instant::now());
    assert!(log.handle_message(t0, "c1", Duration::ZERO, EventKind::Recv, Label::Request("INVITE"), "init"));
    assert!(!log.fill_row("c1", |_| panic!("no row to fill")), "no row known yet");
    log.handle_row("c1", row("c1"));
    assert!(!log.fill_row("c1", |_| false), "the filler did not know the dialog");
    assert!(log.fill_row("c1", |r| {
        r.state = "start";
        r.age = ms(40);
        true
    }));
    assert_eq!(log.row("c1").map(|r| (r.state, r.age)), Some(("start", ms(40))));
    log.handle_stop(t0 + ms(50), "c1", Vec::new());
    assert!(!log.fill_row("c1", |_| panic!("stopped")), "a stopped dialog's row is final");
    let listed: Vec<(String, &str)> = log.stopped_rows(t0 + ms(60)).map(|r| (r.id, r.state)).collect();
    assert_eq!(listed, vec![("c1".to_owned(), "stop")]);
}

#[test]
fn a_reused_entry_fills_the_row_of_its_previous_dialog_in_place() {
    // One dialog in progress at most, one stopped: the third dialog reuses the first's entry.
    let (mut log, t0) = (DialogLog::new(1), Instant::now());
    for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
        let t = t0 + ms(10 * i as u64);
        assert!(log.handle_message(t, id, Duration::ZERO, EventKind::Recv, Label::Request("INVITE"), "init"));
        let reused = log.fill_row(id, |r| {
            assert_eq!(r.id, "a", "the spare row is the first dialog's");
            r.id = id.to_owned();
            r.state = "init";
            true
        });
        assert_eq!(reused, i == 2, "dialog {id}: only a reused entry has a spare row");
        if !reused {
            log.handle_row(id, row(id));
        }
        assert_eq!(log.row(id).map(|r| r.id.as_str()), Some(id));
        log.handle_stop(t + ms(1), id, Vec::new());
    }
    let listed: Vec<String> = log.stopped_rows(t0 + ms(30)).map(|r| r.id).collect();
    assert_eq!(listed, vec!["c".to_owned()]);
}
