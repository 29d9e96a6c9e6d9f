//! Echo calls driven on a virtual clock with a configuration: the answer of
//! an echo IMPU with an `sdp_file`, and its `callflow_modifier` rules on the
//! 180 and the 200 it sends.

use super::*;
use crate::control::test_out::stateless;
use crate::sip::transaction::{Config as TxConfig, Inbound, TransactionLayer};
use crate::sip::TxView;
use std::time::Duration;

const D: &str = "ims";
const OFFER: &str = "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
    m=audio 4000 RTP/AVP 104 0 8\r\na=rtpmap:104 AMR-WB/16000\r\na=fmtp:104 mode-set=2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n";

struct World {
    echo: Echo,
    ports: MediaPorts,
    txl: TransactionLayer<u8>,
    t0: Instant,
}

/// An echo service for `sip:echo@ims` configured with `props` (written in
/// the echo IMPU object); files are looked up in the temp directory.
fn world(props: &str, files: &[(&str, &str)]) -> World {
    let dir = std::env::temp_dir().join(format!("ringcore-echo-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write test file");
    }
    let text = format!("{{ domain: \"{D}\", echo: [ {{ impu: \"sip:echo\" {props} }} ] }}");
    let cfg = crate::config::load_str("t.cfg", &text, &dir).expect("test config loads").config;
    let mut echo = Echo::new(vec![format!("sip:echo@{D}")], "10.0.0.9:5060", 8);
    echo.set_policy(CallPolicy::from_config(&cfg));
    echo.set_templates(super::super::call_files::echo_templates(&cfg));
    World {
        echo,
        ports: MediaPorts::new(20000, 20099, 1, "10.0.0.9".parse().expect("literal address")),
        txl: TransactionLayer::new(TxConfig::with_capacity(16)),
        t0: Instant::now(),
    }
}

fn peer() -> Peer {
    Peer { transport: crate::endpoint::Transport::Udp(crate::engine::SocketId(0)), addr: "10.0.0.1:5060".parse().expect("literal address") }
}

fn texts(out: &[Out]) -> Vec<String> {
    out.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::Respond { msg, .. } | ToWorker::SendRequest { msg, .. } => Some(String::from_utf8_lossy(msg).into_owned()),
            _ => None,
        })
        .collect()
}

impl World {
    /// The UE's INVITE; returns what the echo sends at once.
    fn invite(&mut self, n: u32) -> Vec<String> {
        texts(&self.invite_with(n, OFFER))
    }

    /// The UE's INVITE with `body` (empty: no offer); every command the echo yields.
    fn invite_with(&mut self, n: u32, body: &str) -> Vec<Out> {
        let ctype = if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
        let raw = format!(
            "INVITE sip:echo@{D} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKe{n}\r\nMax-Forwards: 70\r\n\
             From: <sip:a@{D}>;tag=fa\r\nTo: <sip:echo@{D}>\r\nCall-ID: echo-{n}\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:a@10.0.0.1:5060>\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let msg = Message::parse(raw.as_bytes()).expect("test INVITE parses");
        let view = TxView::new(&msg).expect("transaction headers");
        let Ok(Inbound::New(tx)) = self.txl.handle_request(self.t0, &view, 1, false) else { panic!("new transaction") };
        self.echo.on_invite(self.t0, 0, tx, peer(), &msg, None, &mut self.ports)
    }

    fn timeout(&mut self, after: Duration) -> Vec<String> {
        texts(&self.echo.handle_timeout(self.t0 + after, &mut self.ports))
    }

    /// The UE's ACK with CSeq number `cseq` in the dialog of call `echo-{n}`.
    fn ack(&mut self, at: Instant, n: u32, cseq: u32) -> Vec<Out> {
        self.ack_with(at, n, cseq, "")
    }

    /// [`World::ack`] with `body` (the answer to an offer in our 2xx).
    fn ack_with(&mut self, at: Instant, n: u32, cseq: u32, body: &str) -> Vec<Out> {
        let ctype = if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
        let raw = format!(
            "ACK sip:echo@{D} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKack{n}.{cseq}\r\nMax-Forwards: 70\r\n\
             From: <sip:a@{D}>;tag=fa\r\nTo: <sip:echo@{D}>;tag=x\r\nCall-ID: echo-{n}\r\nCSeq: {cseq} ACK\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let msg = Message::parse(raw.as_bytes()).expect("test ACK parses");
        self.echo.on_in_dialog(at, 0, None, &msg, &mut self.ports)
    }

    /// The UE's re-INVITE (CSeq 2) putting call `echo-{n}` on hold (RFC 3264 8.4); returns
    /// what the echo sends at once.
    fn hold(&mut self, at: Instant, n: u32) -> Vec<Out> {
        let offer = format!("{OFFER}a=sendonly\r\n").replace("o=a 1 1 ", "o=a 1 2 ");
        let raw = format!(
            "INVITE sip:echo@{D} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKre{n}\r\nMax-Forwards: 70\r\n\
             From: <sip:a@{D}>;tag=fa\r\nTo: <sip:echo@{D}>;tag=x\r\nCall-ID: echo-{n}\r\nCSeq: 2 INVITE\r\n\
             Contact: <sip:a@10.0.0.1:5060>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{offer}",
            offer.len()
        );
        let msg = Message::parse(raw.as_bytes()).expect("test re-INVITE parses");
        let view = TxView::new(&msg).expect("transaction headers");
        let Ok(Inbound::New(tx)) = self.txl.handle_request(at, &view, 1, false) else { panic!("new transaction") };
        self.echo.on_in_dialog(at, 0, Some(tx), &msg, &mut self.ports)
    }
}


fn status(m: &str) -> &str {
    m.get(8..11).unwrap_or("")
}

#[test]
fn an_sdp_file_decides_the_answered_media() {
    let file = "v=0\no=lab 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\nm=audio 4000 RTP/AVP 8\na=rtpmap:8 PCMA/8000\na=ptime:30\n";
    let mut w = world(", sdp_file: \"pcma.sdp\"", &[("pcma.sdp", file)]);
    let out = w.invite(1);
    let ok = out.iter().find(|m| status(m) == "200").expect("answered at once");
    let body = ok.split("\r\n\r\n").nth(1).unwrap_or("");
    assert!(body.contains("m=audio 200") && body.contains(" RTP/AVP 8\r\n"), "PCMA only, on our echo port: {body}");
    assert!(body.contains("a=ptime:30") && body.contains("c=IN IP4 10.0.0.9"), "{body}");

    // Without the file, the built-in capabilities answer AMR-WB with the offered mode-set.
    let mut w = world("", &[]);
    let out = w.invite(1);
    let ok = out.iter().find(|m| status(m) == "200").expect("answered");
    assert!(ok.contains("a=rtpmap:104 AMR-WB/16000") && ok.contains("mode-set=2"), "{ok}");
}

#[test]
fn a_ringing_modifier_replaces_the_180_and_keeps_the_call() {
    let rule = ", answer_delay: 1, callflow_modifier: { method: \"INVITE.RINGING\", code: 183, stop: false, content: \"note.txt\", \
                content_type: \"text/plain\", custom_headers: [ { name: \"X-Lab\", value: \"ringing\" } ] }";
    let mut w = world(rule, &[("note.txt", "hello")]);
    let out = w.invite(1);
    assert_eq!(out.len(), 1, "{out:?}");
    let m = &out[0];
    assert_eq!(status(m), "183");
    assert!(m.contains("X-Lab: ringing\r\n") && m.contains("Content-Type: text/plain\r\n") && m.ends_with("\r\n\r\nhello"), "{m}");
    let later = w.timeout(Duration::from_secs(1));
    assert!(later.iter().any(|m| status(m) == "200"), "the call goes on: {later:?}");
}

#[test]
fn a_transparent_ringing_modifier_decorates_the_180() {
    let rule = ", answer_delay: 1, callflow_modifier: { method: \"INVITE.RINGING\", transparent: true, custom_headers: [ { name: \"X-Lab\", value: \"1\" } ] }";
    let mut w = world(rule, &[]);
    let out = w.invite(1);
    assert_eq!(out.len(), 1);
    assert!(status(&out[0]) == "180" && out[0].contains("X-Lab: 1\r\n"), "{}", out[0]);
}

#[test]
fn an_ok_modifier_with_a_final_code_ends_the_call() {
    let mut w = world(", callflow_modifier: { method: \"INVITE.OK\", code: 486, ttl: 1 }", &[]);
    let out = w.invite(1);
    assert_eq!(out.iter().map(|m| status(m)).collect::<Vec<_>>(), vec!["486"], "{out:?}");
    assert_eq!(w.echo.len(), 1);
    w.timeout(Duration::ZERO);
    assert_eq!(w.echo.len(), 0, "released with its media port");
        // ttl 1: the next call is answered normally.
    let again = w.invite(2);
    assert!(again.iter().any(|m| status(m) == "200"), "{again:?}");
}

#[test]
fn a_trying_modifier_answers_the_invite_at_once() {
    let mut w = world(", answer_delay: 2, callflow_modifier: { method: \"INVITE.TRYING\", code: 503, custom_headers: [ { name: \"Retry-After\", value: \"9\" } ] }", &[]);
    let out = w.invite(1);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(status(&out[0]) == "503" && out[0].contains("Retry-After: 9\r\n"), "{}", out[0]);
    w.timeout(Duration::ZERO);
    assert!(w.echo.is_empty());
}

#[test]
fn dialog_set_stop_sends_the_reason_with_the_bye_or_the_final_answer() {
    use super::super::dialogs::{Action, Reason};
    let header = |m: &str| m.lines().find(|l| l.starts_with("Reason:")).unwrap_or("").to_owned();
    // Answered: BYE with `Reason: SIP;cause=...` (RFC 3326 2).
    let mut w = world("", &[]);
    assert!(w.invite(1).iter().any(|m| status(m) == "200"));
    let reason = Reason::new(None, Some(503), Some("maintenance")).expect("valid");
    let out = w.echo.dialog_set(w.t0, "echo-1", &Action::Stop(reason), &mut w.ports).expect("an echo call").expect("stopped");
    let out = texts(&out);
    let bye = out.iter().find(|m| m.starts_with("BYE ")).expect("BYE");
    assert_eq!(header(bye), "Reason: SIP;cause=503;text=\"maintenance\"");
    assert!(w.echo.dialog_set(w.t0, "echo-1", &Action::Stop(None), &mut w.ports).is_none(), "the call is gone");

    // Ringing (answer_delay): the INVITE's 480 carries it.
    let mut w = world(", answer_delay: 5", &[]);
    w.invite(2);
    let reason = Reason::new(Some("Q.850"), Some(21), None).expect("valid");
    let out = texts(&w.echo.dialog_set(w.t0, "echo-2", &Action::Stop(reason), &mut w.ports).expect("an echo call").expect("stopped"));
    let rejected = out.iter().find(|m| status(m) == "480").expect("480");
    assert_eq!(header(rejected), "Reason: Q.850;cause=21");
}

#[test]
fn rfc3261_13_3_1_4_the_200_is_retransmitted_until_the_ack_then_none_ends_the_call() {
    // The configuration's defaults: timer_t1 2 s, timer_t2 16 s.
    let mut w = world("", &[]);
    let ok = w.invite(1).into_iter().find(|m| status(m) == "200").expect("answered at once");
    let t0 = w.t0;
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let t1 = w.echo.poll_timeout().expect("the 200 awaits its ACK");
    assert_eq!(stateless(&w.echo.handle_timeout(t1, &mut w.ports)), std::slice::from_ref(&ok));
    assert!(w.ack(at(600), 1, 1).is_empty());
    let later: Vec<Out> = (1..=140).flat_map(|s| w.echo.handle_timeout(at(s * 1000), &mut w.ports)).collect();
    assert!(stateless(&later).is_empty(), "the ACK stopped them");

    // No ACK at all: at 2, 6, 14, 30 s, then every 16 s until 126 s; a BYE at 64*T1.
    let mut w = world("", &[]);
    w.invite(2);
    let out: Vec<Out> = (1..=260).flat_map(|s| w.echo.handle_timeout(w.t0 + Duration::from_millis(s * 500), &mut w.ports)).collect();
    assert_eq!(stateless(&out).len(), 10);
    let bye = texts(&out).into_iter().find(|m| m.starts_with("BYE ")).expect("BYE after 64*T1");
    assert!(bye.contains("Reason: SIP;cause=408;text=\"no ACK for the 2xx\""), "{bye}");
}

#[test]
fn a_video_call_is_echoed_on_a_second_port_pair_until_a_re_invite_disables_it() {
    let mut w = world("", &[]);
    let offer = "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
        m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
        m=video 4002 RTP/AVP 112\r\na=rtpmap:112 H264/90000\r\na=fmtp:112 profile-level-id=42e00c;packetization-mode=1\r\n\
        m=video 4004 RTP/AVP 112\r\na=rtpmap:112 H264/90000\r\n";
    let raw = format!(
        "INVITE sip:echo@{D} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKv1\r\nMax-Forwards: 70\r\n\
         From: <sip:a@{D}>;tag=fa\r\nTo: <sip:echo@{D}>\r\nCall-ID: video-1\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:a@10.0.0.1:5060>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{offer}",
        offer.len()
    );
    let msg = Message::parse(raw.as_bytes()).expect("test INVITE parses");
    let view = TxView::new(&msg).expect("transaction headers");
    let Ok(Inbound::New(tx)) = w.txl.handle_request(w.t0, &view, 1, false) else { panic!("new transaction") };
    let out = w.echo.on_invite(w.t0, 0, tx, peer(), &msg, None, &mut w.ports);
    let installed: Vec<u16> = out.iter().filter_map(|(_, c)| match c {
        ToWorker::MediaInstall { port, .. } => Some(*port),
        _ => None,
    }).collect();
    assert_eq!(installed.len(), 2, "audio and the first video section: {installed:?} {:?}", texts(&out));
    let ok = texts(&out).into_iter().find(|m| status(m) == "200").expect("answered");
    let sdp = SessionDescription::parse(ok.split("\r\n\r\n").nth(1).unwrap_or("").as_bytes()).expect("the answer parses");
    let ports: Vec<u16> = sdp.media.iter().map(|m| m.port).collect();
    // RFC 3264 6: one answer section per offered one; the second video is refused.
    assert_eq!(ports, [installed[0], installed[1], 0], "{ok}");
    assert_eq!(sdp.media[1].kind, MediaKind::Video);
    assert!(ok.contains("H264/90000"), "{ok}");
    let row = w.echo.dialog_rows(w.t0).into_iter().find(|r| r.id == "video-1").expect("listed");
    assert_eq!(row.media.iter().map(|m| (m.port, m.section)).collect::<Vec<_>>(), [(installed[0], 0), (installed[1], 1)]);
    // Back to voice (RFC 3264 8.2: the video sections at port 0): the video echo goes.
    let voice = offer.replace("m=video 4002 ", "m=video 0 ").replace("m=video 4004 ", "m=video 0 ");
    let re = raw.replace("branch=z9hG4bKv1", "branch=z9hG4bKv3").replace("<sip:echo@ims>\r\nCall-ID", "<sip:echo@ims>;tag=x\r\nCall-ID");
    let re = re.replace("CSeq: 1 INVITE", "CSeq: 3 INVITE").replace(offer, &voice).replace(&format!("Content-Length: {}", offer.len()), &format!("Content-Length: {}", voice.len()));
    let msg = Message::parse(re.as_bytes()).expect("test re-INVITE parses");
    let view = TxView::new(&msg).expect("transaction headers");
    let Ok(Inbound::New(tx)) = w.txl.handle_request(w.t0, &view, 1, false) else { panic!("new transaction") };
    let out = w.echo.on_in_dialog(w.t0, 0, Some(tx), &msg, &mut w.ports);
    let removed: Vec<u16> = out.iter().filter_map(|(_, c)| match c {
        ToWorker::MediaRemove { port } => Some(*port),
        _ => None,
    }).collect();
    assert_eq!(removed, [installed[1]], "{:?}", texts(&out));
    let ok = texts(&out).into_iter().find(|m| status(m) == "200").expect("answered");
    let sdp = SessionDescription::parse(ok.split("\r\n\r\n").nth(1).unwrap_or("").as_bytes()).expect("the answer parses");
    assert_eq!(sdp.media.iter().map(|m| m.port).collect::<Vec<_>>(), [installed[0], 0, 0], "{ok}");
    // The BYE frees the audio.
    let bye = format!(
        "BYE sip:echo@{D} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKv2\r\nMax-Forwards: 70\r\n\
         From: <sip:a@{D}>;tag=fa\r\nTo: <sip:echo@{D}>;tag=x\r\nCall-ID: video-1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    );
    let msg = Message::parse(bye.as_bytes()).expect("test BYE parses");
    let view = TxView::new(&msg).expect("transaction headers");
    let Ok(Inbound::New(tx)) = w.txl.handle_request(w.t0, &view, 1, false) else { panic!("new transaction") };
    let out = w.echo.on_in_dialog(w.t0, 0, Some(tx), &msg, &mut w.ports);
    let removed = out.iter().filter(|(_, c)| matches!(c, ToWorker::MediaRemove { .. })).count();
    assert_eq!(removed, 1);
}

#[test]
fn rfc3261_13_3_1_4_the_200_to_a_re_invite_is_retransmitted_until_its_own_ack() {
    // The configuration's defaults: timer_t1 2 s, timer_t2 16 s.
    let mut w = world("", &[]);
    w.invite(1);
    let t0 = w.t0;
    let at = |s: u64| t0 + Duration::from_secs(s);
    assert!(w.ack(at(1), 1, 1).is_empty());
    let ok = texts(&w.hold(at(10), 1)).into_iter().find(|m| status(m) == "200").expect("the re-INVITE answered");
    assert!(ok.contains("CSeq: 2 INVITE") && ok.contains("a=recvonly"), "{ok}");
    assert!(w.echo.handle_timeout(at(11), &mut w.ports).is_empty(), "not before T1");
    assert_eq!(stateless(&w.echo.handle_timeout(at(12), &mut w.ports)), std::slice::from_ref(&ok));
    // A late copy of the first ACK (CSeq 1) acknowledges the first 200 only.
    w.ack(at(13), 1, 1);
    assert_eq!(stateless(&w.echo.handle_timeout(at(16), &mut w.ports)), std::slice::from_ref(&ok), "doubled: 4 s later");
    w.ack(at(17), 1, 2);
    let later: Vec<Out> = (18..=200).flat_map(|s| w.echo.handle_timeout(at(s), &mut w.ports)).collect();
    assert!(stateless(&later).is_empty() && texts(&later).is_empty(), "the ACK stopped them: {:?}", texts(&later));
    assert_eq!(w.echo.len(), 1, "the call goes on");

    // No ACK for the re-INVITE's 200: 64*T1 later the call ends with a BYE and its Reason.
    let mut w = world("", &[]);
    w.invite(2);
    w.ack(w.t0, 2, 1);
    w.hold(w.t0, 2);
    let out: Vec<Out> = (1..=130).flat_map(|s| w.echo.handle_timeout(w.t0 + Duration::from_secs(s), &mut w.ports)).collect();
    // 2, 6, 14, 30, then every 16 s until 126 s.
    assert_eq!(stateless(&out).len(), 10);
    let bye = texts(&out).into_iter().find(|m| m.starts_with("BYE ")).expect("BYE at 64*T1");
    assert!(bye.contains("Reason: SIP;cause=408;text=\"no ACK for the 2xx\""), "{bye}");
    assert!(w.echo.is_empty());
}

#[test]
fn dialog_set_answer_sends_200_or_the_forced_code() {
    use super::super::dialogs::Action;
    // seed 000 remote_control: the call rings until dialog_set answer.
    let mut w = world(", remote_control: true", &[]);
    assert!(w.invite(1).iter().all(|m| status(m) != "200"), "ringing, not answered");
    let out = texts(&w.echo.dialog_set(w.t0, "echo-1", &Action::Answer(None), &mut w.ports).expect("an echo call").expect("answered"));
    assert_eq!(out.iter().map(|m| status(m)).collect::<Vec<_>>(), ["200"]);
    let again = w.echo.dialog_set(w.t0, "echo-1", &Action::Answer(None), &mut w.ports).expect("an echo call");
    assert!(again.is_err(), "answered already");

    // seed 000 dialog_set.code: a forced 486 refuses the call and frees its ports.
    let mut w = world(", remote_control: true", &[]);
    w.invite(2);
    let out = texts(&w.echo.dialog_set(w.t0, "echo-2", &Action::Answer(Some(486)), &mut w.ports).expect("an echo call").expect("refused"));
    assert_eq!(out.iter().map(|m| status(m)).collect::<Vec<_>>(), ["486"]);
    assert!(out[0].starts_with("SIP/2.0 486 Busy Here\r\n"), "{}", out[0]);
    assert!(w.echo.dialog_set(w.t0, "echo-2", &Action::Stop(None), &mut w.ports).is_none(), "the call is gone");

    // A forced 2xx answers with that code.
    let mut w = world(", remote_control: true", &[]);
    w.invite(3);
    let out = texts(&w.echo.dialog_set(w.t0, "echo-3", &Action::Answer(Some(202)), &mut w.ports).expect("an echo call").expect("answered"));
    assert_eq!(out.iter().map(|m| status(m)).collect::<Vec<_>>(), ["202"]);
}

/// The ports of the MediaInstall and MediaRemove commands in `out`.
fn loop_ports(out: &[Out]) -> (Vec<u16>, Vec<u16>) {
    let pick = |f: fn(&ToWorker) -> Option<u16>| out.iter().filter_map(|(_, c)| f(c)).collect::<Vec<u16>>();
    (
        pick(|c| if let ToWorker::MediaInstall { port, .. } = c { Some(*port) } else { None }),
        pick(|c| if let ToWorker::MediaRemove { port } = c { Some(*port) } else { None }),
    )
}

#[test]
fn an_invite_without_an_offer_gets_ours_in_the_200_and_the_acks_answer_settles_the_loops() {
    // RFC 3264 4: the echo offers its voice in the 200 (the sdp_file's PCMA here) with a
    // loop on it; the UE's answer in the ACK declines it (port 0), so the loop and its
    // port pair go.
    let file = "v=0\no=lab 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\nm=audio 4000 RTP/AVP 8\na=rtpmap:8 PCMA/8000\n";
    let mut w = world(", sdp_file: \"pcma.sdp\"", &[("pcma.sdp", file)]);
    let out = w.invite_with(1, "");
    let ok = texts(&out).into_iter().find(|m| status(m) == "200").expect("answered at once");
    assert!(ok.contains("Content-Type: application/sdp\r\n") && ok.contains("c=IN IP4 10.0.0.9\r\n"), "{ok}");
    let audio = ok.lines().find_map(|l| l.strip_prefix("m=audio ")).and_then(|r| r.split(' ').next()).and_then(|p| p.parse::<u16>().ok());
    let audio = audio.expect("audio offered");
    assert!(audio != 0 && ok.contains("a=rtpmap:8 PCMA/8000\r\n"), "the file's codec: {ok}");
    assert!(!ok.contains("a=curr:") && !ok.contains("a=des:"), "no preconditions in a 2xx offer: {ok}");
    assert_eq!(loop_ports(&out).0, [audio], "a loop on the offered stream");
    let before = w.ports.available_on(0);
    let answer = "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 8\r\n";
    let out = w.ack_with(w.t0 + Duration::from_millis(100), 1, 1, answer);
    assert_eq!(loop_ports(&out), (vec![], vec![audio]), "{:?}", texts(&out));
    assert_eq!(w.ports.available_on(0), before + 1, "its pair is free again");
    // Without an sdp_file the echo offers its built-in voice (no video: the UE adds it).
    let mut w = world("", &[]);
    let out = w.invite_with(2, "");
    let ok = texts(&out).into_iter().find(|m| status(m) == "200").expect("answered at once");
    assert!(ok.contains("m=audio ") && ok.contains("AMR-WB/16000") && !ok.contains("m=video "), "{ok}");
    // An ACK with the answer accepting it keeps the loop.
    assert!(loop_ports(&w.ack_with(w.t0, 2, 1, OFFER)).1.is_empty());
}

#[test]
fn a_ue_requiring_100rel_without_an_offer_gets_ours_in_the_reliable_180_and_answers_in_prack() {
    // RFC 3262 5: the first reliable 18x to an INVITE without an offer carries ours; the
    // UE's PRACK answers it (declining the voice here), and the 200 follows the PRACK.
    let mut w = world("", &[]);
    let raw = format!(
        "INVITE sip:echo@{D} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKe9\r\nMax-Forwards: 70\r\n\
         From: <sip:a@{D}>;tag=fa\r\nTo: <sip:echo@{D}>\r\nCall-ID: echo-9\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:a@10.0.0.1:5060>\r\nRequire: 100rel\r\nContent-Length: 0\r\n\r\n"
    );
    let msg = Message::parse(raw.as_bytes()).expect("test INVITE parses");
    let view = TxView::new(&msg).expect("transaction headers");
    let Ok(Inbound::New(tx)) = w.txl.handle_request(w.t0, &view, 1, false) else { panic!("new transaction") };
    let out = w.echo.on_invite(w.t0, 0, tx, peer(), &msg, None, &mut w.ports);
    let sent = texts(&out);
    assert_eq!(sent.iter().map(|m| status(m)).collect::<Vec<_>>(), ["180"], "no 200 before the PRACK: {sent:?}");
    let ringing = &sent[0];
    assert!(ringing.contains("Require: 100rel\r\n") && ringing.contains("m=audio "), "{ringing}");
    let audio = loop_ports(&out).0;
    assert_eq!(audio.len(), 1);
    let rseq = ringing.lines().find_map(|l| l.strip_prefix("RSeq: ")).expect("an RSeq");
    let answer = "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 104\r\n";
    let raw = format!(
        "PRACK sip:echo@{D} SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKp9\r\nMax-Forwards: 70\r\n\
         From: <sip:a@{D}>;tag=fa\r\nTo: <sip:echo@{D}>;tag=x\r\nCall-ID: echo-9\r\nCSeq: 2 PRACK\r\nRAck: {rseq} 1 INVITE\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{answer}",
        answer.len()
    );
    let msg = Message::parse(raw.as_bytes()).expect("test PRACK parses");
    let view = TxView::new(&msg).expect("transaction headers");
    let Ok(Inbound::New(tx)) = w.txl.handle_request(w.t0, &view, 1, false) else { panic!("new transaction") };
    let out = w.echo.on_in_dialog(w.t0, 0, Some(tx), &msg, &mut w.ports);
    assert_eq!(loop_ports(&out).1, audio, "the declined stream's loop goes: {:?}", texts(&out));
    let statuses: Vec<String> = texts(&out).iter().map(|m| status(m).to_owned()).collect();
    assert!(statuses.contains(&"200".to_owned()), "{statuses:?}");
}
