//! Tests of the dialog event log on a virtual clock.

use super::*;

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
    log.retain(|id| id == "e");
    assert_eq!(log.len(), 1);
    log.forget("e");
    assert!(log.is_empty());
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
    assert_eq!(method_name(b"frob"), "OTHER");
}
