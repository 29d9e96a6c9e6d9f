//! MT calls driven on a virtual clock: ringcore's INVITE to a registered UE,
//! the UE's answers as SIP text, and `dialog_set` on the call: stop with a
//! Reason (RFC 3326), hold as a toggle (RFC 3264 8.4), downgrade (8.2), and
//! reinvite with a new SDP (seed 000 dialog_set.sdp_file); audio and video
//! MT calls, each stream looped back on its own port pair.

use super::*;
use crate::control::dialogs::{Action, Reason};
use crate::control::test_out::removes;
use crate::ims::bindings::{Contact, ContactUpdate, RecordKey};
use crate::sip::transaction::{Config as TxConfig, Inbound, TransactionLayer};
use crate::sip::TxView;

const D: &str = "ims";
const UE_SDP: &str = "v=0\r\no=b 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

struct World {
    mt: MtCalls,
    bindings: Bindings,
    ports: MediaPorts,
    txl: TransactionLayer<u8>,
    t0: Instant,
}

fn world() -> World {
    let t0 = Instant::now();
    let mut bindings = Bindings::new(4);
    let peer: SocketAddr = "10.0.0.2:5060".parse().expect("literal address");
    let contact = Contact::udp_for_test(&format!("sip:b@{peer}"), t0 + Duration::from_secs(3600), peer, "reg-b");
    let key = RecordKey { impi: format!("b@{D}"), imei: String::new(), emergency: false };
    bindings.update(t0, &key, &[format!("sip:b@{D}")], vec![ContactUpdate { contact, remove: false }]).expect("binding stored");
    World {
        mt: MtCalls::new("10.0.0.9:5060".into(), format!("sip:ringcore@{D}"), 1, 8),
        bindings,
        ports: MediaPorts::new(20000, 20099, 1, "10.0.0.9".parse().expect("literal address")),
        txl: TransactionLayer::new(TxConfig::with_capacity(16)),
        t0,
    }
}

fn texts(out: &[Out]) -> Vec<String> {
    out.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::Respond { msg, .. } | ToWorker::SendRequest { msg, .. } | ToWorker::SendStateless { msg, .. } => Some(String::from_utf8_lossy(msg).into_owned()),
            _ => None,
        })
        .collect()
}

fn header<'a>(m: &'a str, name: &str) -> &'a str {
    m.lines().find(|l| l.starts_with(name)).unwrap_or("")
}

fn body(m: &str) -> &str {
    m.split("\r\n\r\n").nth(1).unwrap_or("")
}

impl World {
    /// Starts an MT call to b; returns its id and INVITE.
    fn call(&mut self) -> (String, String) {
        let (id, out) = self.mt.start(self.t0, &format!("sip:b@{D}"), MtRequest::default(), &self.bindings, &mut self.ports).expect("b is registered");
        (id, texts(&out).remove(0))
    }

    /// The UE's response to our request `req`.
    fn respond(&mut self, req: &str, status: &str, body: &str) -> Vec<String> {
        texts(&self.respond_out(req, status, body))
    }

    /// The UE's response to our request `req`: the commands it yields.
    fn respond_out(&mut self, req: &str, status: &str, body: &str) -> Vec<Out> {
        let ctype = if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
        let raw = format!(
            "SIP/2.0 {status}\r\n{}\r\n{}\r\n{};tag=ub\r\n{}\r\n{}\r\nContact: <sip:b@10.0.0.2:5060>\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
            header(req, "Via:"),
            header(req, "From:"),
            header(req, "To:").split(";tag=").next().unwrap_or(""),
            header(req, "Call-ID:"),
            header(req, "CSeq:"),
            body.len()
        );
        let msg = Message::parse(raw.as_bytes()).expect("test response parses");
        self.mt.on_response(self.t0, &msg, &mut self.ports).unwrap_or_default()
    }

    /// The UE's request `method` (CSeq `cseq`, SDP `body`) in the dialog of our INVITE `invite`.
    fn ue_request(&mut self, invite: &str, method: &str, cseq: u32, body: &str) -> Vec<Out> {
        let ctype = if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
        let raw = format!(
            "{method} sip:ringcore@10.0.0.9:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKue{method}{cseq}\r\nMax-Forwards: 70\r\n\
             From: <sip:b@{D}>;tag=ub\r\nTo: {}\r\n{}\r\nCSeq: {cseq} {method}\r\nContact: <sip:b@10.0.0.2:5060>\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
            header(invite, "From:").trim_start_matches("From: "),
            header(invite, "Call-ID:"),
            body.len()
        );
        let msg = Message::parse(raw.as_bytes()).expect("test request parses");
        let view = TxView::new(&msg).expect("test request has transaction headers");
        let tx = match self.txl.handle_request(self.t0, &view, 1, false) {
            Ok(Inbound::New(id)) => id,
            other => panic!("expected a new transaction, got {other:?}"),
        };
        self.mt.on_in_dialog(self.t0, 0, Some(tx), &msg, &mut self.ports)
    }

    /// An MT call offering SDP file `file`: its id and INVITE.
    fn call_with(&mut self, file: &SessionDescription) -> (String, String) {
        let req = MtRequest { template: Some(file), ..MtRequest::default() };
        let (id, out) = self.mt.start(self.t0, &format!("sip:b@{D}"), req, &self.bindings, &mut self.ports).expect("b is registered");
        (id, texts(&out).remove(0))
    }

    /// How many media ports are free.
    fn free_ports(&self) -> usize {
        self.ports.available_on(0)
    }

    /// An answered call: its id.
    fn answered(&mut self) -> String {
        let (id, invite) = self.call();
        let acks = self.respond(&invite, "200 OK", UE_SDP);
        assert!(acks.iter().any(|m| m.starts_with("ACK ")), "{acks:?}");
        id
    }

    fn set(&mut self, id: &str, action: Action) -> Result<Vec<String>, String> {
        self.mt.dialog_set(id, &action, &mut self.ports).expect("an MT call").map(|o| texts(&o))
    }

    fn reoffer(&mut self, id: &str, change: Reoffer<'_>) -> Result<String, String> {
        let ip = self.ports.ip;
        self.mt.reoffer(id, change, ip).expect("an MT call").map(|o| texts(&o).remove(0))
    }
}

#[test]
fn stop_sends_bye_with_the_reason_once_answered() {
    let mut w = world();
    let id = w.answered();
    let out = w.set(&id, Action::Stop(Reason::new(None, Some(486), Some("busy here")).expect("valid"))).expect("stopped");
    assert!(out[0].starts_with("BYE sip:b@10.0.0.2:5060 "), "{out:?}");
    assert_eq!(header(&out[0], "Reason:"), "Reason: SIP;cause=486;text=\"busy here\"");
    assert!(w.mt.is_empty(), "the call is released");
}

#[test]
fn stop_before_the_answer_cancels_the_invite_with_the_reason() {
    let mut w = world();
    let (id, invite) = w.call();
    w.respond(&invite, "180 Ringing", "");
    let out = w.set(&id, Action::Stop(Reason::new(Some("Q.850"), Some(16), None).expect("valid"))).expect("stopped");
    // RFC 3261 9.1: the INVITE's branch, Request-URI and CSeq number, method CANCEL.
    assert!(out[0].starts_with("CANCEL sip:b@10.0.0.2:5060 SIP/2.0"), "{out:?}");
    assert_eq!(header(&out[0], "Via:"), header(&invite, "Via:"));
    assert_eq!(header(&out[0], "CSeq:"), "CSeq: 1 CANCEL");
    assert!(!header(&out[0], "To:").contains("tag="), "{}", out[0]);
    assert_eq!(header(&out[0], "Reason:"), "Reason: Q.850;cause=16");
    assert!(w.set(&id, Action::Stop(None)).expect("still there").is_empty(), "cancelled once");
    // The CANCEL's 200 keeps the call, the INVITE's 487 ends it.
    w.respond(&out[0], "200 OK", "");
    assert_eq!(w.mt.len(), 1);
    w.respond(&invite, "487 Request Terminated", "");
    assert!(w.mt.is_empty());

    // RFC 3261 9.1: no CANCEL before a provisional response; it goes with the first one.
    let mut w = world();
    let (id, invite) = w.call();
    assert!(w.set(&id, Action::Stop(Reason::new(None, Some(480), None).expect("valid"))).expect("stopping").is_empty());
    let out = w.respond(&invite, "100 Trying", "");
    assert!(out.len() == 1 && out[0].starts_with("CANCEL ") && header(&out[0], "Reason:") == "Reason: SIP;cause=480", "{out:?}");
    assert!(w.respond(&invite, "180 Ringing", "").is_empty(), "cancelled once");
    // A 2xx crossing the CANCEL is acknowledged, then hung up with the same Reason.
    let out = w.respond(&invite, "200 OK", UE_SDP);
    assert!(out[0].starts_with("ACK ") && out[1].starts_with("BYE "), "{out:?}");
    assert_eq!(header(&out[1], "Reason:"), "Reason: SIP;cause=480");
    assert!(w.mt.is_empty());
}

#[test]
fn hold_toggles_sendonly_and_sendrecv() {
    let mut w = world();
    let (id, invite) = w.call();
    assert!(w.set(&id, Action::Hold).is_err(), "not answered yet");
    w.respond(&invite, "200 OK", UE_SDP);
    let held = w.set(&id, Action::Hold).expect("held").remove(0);
    assert!(held.starts_with("INVITE ") && body(&held).contains("a=sendonly") && !body(&held).contains("a=sendrecv"), "{held}");
    assert!(w.respond(&held, "200 OK", &UE_SDP.replace("PCMU/8000\r\n", "PCMU/8000\r\na=recvonly\r\n"))[0].starts_with("ACK "));
    let resumed = w.set(&id, Action::Hold).expect("resumed").remove(0);
    assert!(body(&resumed).contains("a=sendrecv") && !body(&resumed).contains("a=sendonly"), "{resumed}");
    // RFC 3264 8: each new offer increments the o= version, same session id.
    let version = |m: &str| header(body(m), "o=").split(' ').nth(2).unwrap_or("").parse::<u64>().unwrap_or(0);
    let session = |m: &str| header(body(m), "o=").split(' ').nth(1).unwrap_or("").to_owned();
    assert!(version(&resumed) == version(&held) + 1 && version(&held) > version(&invite), "{held}\n{resumed}");
    assert_eq!(session(&resumed), session(&invite));
}

#[test]
fn downgrade_offers_the_removed_media_at_port_0() {
    let mut w = world();
    let id = w.answered();
    assert_eq!(w.reoffer(&id, Reoffer::Remove(MediaKind::Video)), Err("no active video media".into()));
    let re = w.reoffer(&id, Reoffer::Remove(MediaKind::Audio)).expect("downgraded");
    assert!(re.starts_with("INVITE ") && body(&re).contains("m=audio 0 "), "{re}");
    assert!(w.reoffer(&id, Reoffer::Remove(MediaKind::Audio)).is_err(), "nothing left to remove");
}

#[test]
fn reinvite_with_an_sdp_file_offers_its_media_on_our_port() {
    let mut w = world();
    let (id, invite) = w.call();
    let file = SessionDescription::parse(b"v=0\r\no=lab 7 7 IN IP4 1.2.3.4\r\ns=file\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ptime:40\r\n").expect("valid SDP");
    assert!(w.reoffer(&id, Reoffer::File(&file)).is_err(), "not answered yet");
    w.respond(&invite, "200 OK", UE_SDP);
    let port = header(body(&invite), "m=audio").split(' ').nth(1).unwrap_or("").to_owned();
    let re = w.reoffer(&id, Reoffer::File(&file)).expect("re-offered");
    let sdp = body(&re);
    assert!(sdp.contains(&format!("m=audio {port} RTP/AVP 8\r\n")) && sdp.contains("a=rtpmap:8 PCMA/8000") && sdp.contains("a=ptime:40"), "{sdp}");
    assert!(sdp.contains("c=IN IP4 10.0.0.9") && !sdp.contains("1.2.3.4") && !sdp.contains("AMR"), "our o=/c=, the file's codecs only: {sdp}");
    assert_eq!(header(sdp, "o=").split(' ').nth(1), header(body(&invite), "o=").split(' ').nth(1), "same session id");
    // A file without audio cannot be served by the echo.
    let video = SessionDescription::parse(b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n").expect("valid");
    assert!(w.reoffer(&id, Reoffer::File(&video)).is_err());
    // A plain reinvite now repeats the file's offer.
    let again = w.reoffer(&id, Reoffer::Same).expect("re-offered");
    assert!(body(&again).contains("PCMA/8000") && !body(&again).contains("AMR"), "{again}");
    assert!(w.mt.reoffer("nope", Reoffer::Same, w.ports.ip).is_none());
}

/// An SDP file with audio and video (and `extra` sections after them).
fn av_file(extra: &str) -> SessionDescription {
    let text = format!(
        "v=0\r\no=lab 1 1 IN IP4 1.2.3.4\r\ns=av\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42C00C;packetization-mode=1\r\n{extra}"
    );
    SessionDescription::parse(text.as_bytes()).expect("valid SDP")
}

/// The UE's answer accepting audio on 6000 and video on `video` (0: declined), then `extra`.
fn av_answer(video: u16, extra: &str) -> String {
    format!(
        "v=0\r\no=b 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         m=video {video} RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n{extra}"
    )
}

/// The (port, remote, clock rate) of each loop installed by `out`.
fn installs(out: &[Out]) -> Vec<(u16, Option<SocketAddr>, u32)> {
    out.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::MediaInstall { port, spec } => Some((*port, spec.remote_rtp, spec.clock_rate)),
            _ => None,
        })
        .collect()
}

/// The port of the `m=<kind>` line of SDP `sdp`.
fn m_port(sdp: &str, kind: &str) -> u16 {
    header(sdp, &format!("m={kind} ")).split(' ').nth(1).and_then(|p| p.parse().ok()).expect("an m= line of that kind")
}

#[test]
fn video_mt_call_loops_each_stream_on_its_own_port_pair_and_bye_frees_both() {
    let mut w = world();
    let all = w.free_ports();
    let (id, invite) = w.call_with(&av_file(""));
    let (audio, video) = (m_port(body(&invite), "audio"), m_port(body(&invite), "video"));
    assert!(audio != 0 && video != 0 && audio != video && audio % 2 == 0 && video % 2 == 0, "{invite}");
    assert!(body(&invite).contains("a=rtpmap:96 H264/90000") && body(&invite).contains("c=IN IP4 10.0.0.9"), "{invite}");
    assert_eq!(w.free_ports(), all - 2, "a port pair per stream");
    let out = w.respond_out(&invite, "200 OK", &av_answer(6002, ""));
    // RFC 3264 6: answer section i answers offer section i: each loop towards its stream.
    let ue = |p: u16| Some(SocketAddr::new("10.0.0.2".parse().expect("literal"), p));
    assert_eq!(installs(&out), vec![(audio, ue(6000), 16000), (video, ue(6002), 90000)]);
    let row = w.mt.dialog_row(w.t0, &id).expect("in progress");
    let media: Vec<(u16, usize)> = row.media.iter().map(|m| (m.port, m.section)).collect();
    assert_eq!(media, vec![(audio, 0), (video, 1)], "dialog_get lists both streams");
    // The UE's re-INVITE is answered with the same two ports (RFC 3264 8); a
    // further stream it offers is declined (RFC 3264 6: port 0).
    let out = w.ue_request(&invite, "INVITE", 2, &av_answer(6002, "m=video 6004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"));
    let ok = texts(&out).remove(0);
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    let ms: Vec<&str> = body(&ok).lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(ms.len(), 3, "{ok}");
    assert!(ms[0].starts_with(&format!("m=audio {audio} ")) && ms[1].starts_with(&format!("m=video {video} ")) && ms[2].starts_with("m=video 0 "), "{ok}");
    let out = w.ue_request(&invite, "BYE", 3, "");
    assert!(texts(&out)[0].starts_with("SIP/2.0 200"));
    assert_eq!(removes(&out), vec![audio.min(video), audio.max(video)], "both loops removed");
    assert!(w.mt.is_empty());
    assert_eq!(w.free_ports(), all, "both port pairs freed");
}

#[test]
fn a_third_stream_is_offered_disabled_and_a_declined_video_is_freed() {
    let mut w = world();
    let all = w.free_ports();
    // A second video stream and a text stream: RFC 3264 5.1, offered at port 0.
    let file = av_file("m=video 4004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=text 4006 RTP/AVP 98\r\na=rtpmap:98 t140/1000\r\n");
    let (id, invite) = w.call_with(&file);
    let sdp = body(&invite);
    let lines: Vec<&str> = sdp.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(lines.len(), 4, "{sdp}");
    assert!(lines[2].starts_with("m=video 0 ") && lines[3].starts_with("m=text 0 "), "{sdp}");
    assert_eq!(w.free_ports(), all - 2);
    let audio = m_port(sdp, "audio");
    // The UE declines the video (port 0): only the audio is looped, the video port goes back.
    let answer = av_answer(0, "m=video 0 RTP/AVP 96\r\nm=text 0 RTP/AVP 98\r\n");
    let out = w.respond_out(&invite, "200 OK", &answer);
    assert_eq!(installs(&out).iter().map(|i| i.0).collect::<Vec<_>>(), vec![audio]);
    assert_eq!(w.free_ports(), all - 1, "the declined video's port is freed");
    assert_eq!(w.mt.dialog_row(w.t0, &id).expect("in progress").media.len(), 1);
    // RFC 3264 8.2: the declined stream stays at port 0 in our next offer.
    let again = w.reoffer(&id, Reoffer::Same).expect("re-offered");
    assert!(body(&again).contains("m=video 0 ") && m_port(body(&again), "audio") == audio, "{again}");
    let out = w.mt.dialog_set(&id, &Action::Stop(None), &mut w.ports).expect("an MT call").expect("stopped");
    assert_eq!(removes(&out), vec![audio]);
    assert_eq!(w.free_ports(), all);
}

#[test]
fn a_refused_or_stopped_video_call_frees_both_port_pairs() {
    let mut w = world();
    let all = w.free_ports();
    let (_, invite) = w.call_with(&av_file(""));
    assert_eq!(w.free_ports(), all - 2);
    let out = w.respond_out(&invite, "486 Busy Here", "");
    assert!(installs(&out).is_empty() && w.mt.is_empty());
    assert_eq!(w.free_ports(), all, "a refused call gives both ports back");

    let (id, invite) = w.call_with(&av_file(""));
    let (audio, video) = (m_port(body(&invite), "audio"), m_port(body(&invite), "video"));
    w.respond(&invite, "200 OK", &av_answer(6002, ""));
    let out = w.mt.dialog_set(&id, &Action::Stop(None), &mut w.ports).expect("an MT call").expect("stopped");
    assert!(texts(&out)[0].starts_with("BYE "));
    assert_eq!(removes(&out), vec![audio.min(video), audio.max(video)]);
    assert_eq!(w.free_ports(), all);
}

#[test]
fn a_video_file_reoffer_keeps_each_streams_port() {
    let mut w = world();
    let (id, invite) = w.call_with(&av_file(""));
    w.respond(&invite, "200 OK", &av_answer(6002, ""));
    let (audio, video) = (m_port(body(&invite), "audio"), m_port(body(&invite), "video"));
    // A file listing video first: each stream keeps its port, whatever the order.
    let file = SessionDescription::parse(b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 4002 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n").expect("valid");
    let re = w.reoffer(&id, Reoffer::File(&file)).expect("re-offered");
    assert_eq!((m_port(body(&re), "audio"), m_port(body(&re), "video")), (audio, video), "{re}");
    // The UE's later offers are answered with the file's media: video included.
    let out = w.ue_request(&invite, "INVITE", 2, &av_answer(6002, "").replace("RTP/AVP 0\r\na=rtpmap:0 PCMU/8000", "RTP/AVP 8\r\na=rtpmap:8 PCMA/8000"));
    let ok = texts(&out).remove(0);
    assert_eq!((m_port(body(&ok), "audio"), m_port(body(&ok), "video")), (audio, video), "{ok}");
}

#[test]
fn a_downgraded_video_stream_is_freed_once_the_ue_accepts() {
    let mut w = world();
    let all = w.free_ports();
    let (id, invite) = w.call_with(&av_file(""));
    w.respond(&invite, "200 OK", &av_answer(6002, ""));
    let (audio, video) = (m_port(body(&invite), "audio"), m_port(body(&invite), "video"));
    let re = w.reoffer(&id, Reoffer::Remove(MediaKind::Video)).expect("downgraded");
    assert!(body(&re).contains("m=video 0 ") && m_port(body(&re), "audio") == audio, "{re}");
    assert_eq!(w.free_ports(), all - 2, "kept until the UE answers");
    let out = w.respond_out(&re, "200 OK", &av_answer(0, ""));
    assert!(texts(&out)[0].starts_with("ACK "), "{:?}", texts(&out));
    assert_eq!(removes(&out), vec![video], "RFC 3264 8.2: the video loop goes");
    assert_eq!(w.free_ports(), all - 1);
    let row = w.mt.dialog_row(w.t0, &id).expect("in progress");
    assert_eq!(row.media.iter().map(|m| m.port).collect::<Vec<_>>(), vec![audio]);
    let out = w.mt.dialog_set(&id, &Action::Stop(None), &mut w.ports).expect("an MT call").expect("stopped");
    assert_eq!(removes(&out), vec![audio]);
    assert_eq!(w.free_ports(), all);
}

#[test]
fn video_the_ue_adds_to_a_voice_call_gets_its_own_loop_until_it_drops_it() {
    let mut w = world();
    let all = w.free_ports();
    let (id, invite) = w.call();
    w.respond(&invite, "200 OK", UE_SDP);
    let audio = m_port(body(&invite), "audio");
    assert_eq!(w.free_ports(), all - 1, "one port pair for the voice call");
    // The UE upgrades to video (RFC 3264 8: a new m= line at the end of its offer).
    let out = w.ue_request(&invite, "INVITE", 2, &av_answer(6002, ""));
    let ok = texts(&out).remove(0);
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    let video = m_port(body(&ok), "video");
    assert!(video != 0 && video != audio && m_port(body(&ok), "audio") == audio, "{ok}");
    assert_eq!(installs(&out), vec![(video, None, 90000)], "the video loop latches on the UE's first packet");
    assert_eq!(w.free_ports(), all - 2);
    let row = w.mt.dialog_row(w.t0, &id).expect("in progress");
    let media: Vec<(u16, usize)> = row.media.iter().map(|m| (m.port, m.section)).collect();
    assert_eq!(media, vec![(audio, 0), (video, 1)], "dialog_get lists the added stream");
    // A refresh with the same offer keeps both ports and installs nothing new.
    let out = w.ue_request(&invite, "UPDATE", 3, &av_answer(6002, ""));
    assert!(installs(&out).is_empty() && removes(&out).is_empty());
    let ok = texts(&out).remove(0);
    assert_eq!((m_port(body(&ok), "audio"), m_port(body(&ok), "video")), (audio, video), "{ok}");
    // The UE goes back to voice (video at port 0): the video loop goes, its pair is freed.
    let out = w.ue_request(&invite, "INVITE", 4, &av_answer(0, ""));
    assert_eq!(removes(&out), vec![video]);
    let ok = texts(&out).remove(0);
    assert_eq!((m_port(body(&ok), "audio"), m_port(body(&ok), "video")), (audio, 0), "{ok}");
    assert_eq!(w.free_ports(), all - 1);
    let row = w.mt.dialog_row(w.t0, &id).expect("in progress");
    assert_eq!(row.media.iter().map(|m| m.port).collect::<Vec<_>>(), [audio]);
    let out = w.ue_request(&invite, "BYE", 5, "");
    assert_eq!(removes(&out), vec![audio], "the audio loop removed");
    assert_eq!(w.free_ports(), all, "every port pair freed");
}

/// Registers b's UE `imei` ("": not multi_sim) from `peer`, for emergency or not.
fn register(w: &mut World, imei: &str, emergency: bool, peer: SocketAddr) {
    let contact = Contact::udp_for_test(&format!("sip:b@{peer}"), w.t0 + Duration::from_secs(3600), peer, &format!("reg-{peer}"));
    let key = RecordKey { impi: format!("b@{D}"), imei: imei.into(), emergency };
    w.bindings.update(w.t0, &key, &[format!("sip:b@{D}")], vec![ContactUpdate { contact, remove: false }]).expect("binding stored");
}

/// Where an MT call to b with `imei` and `sos` sends its INVITE, or why it cannot start.
fn mt_target(w: &mut World, imei: Option<&str>, sos: bool) -> Result<SocketAddr, String> {
    mt_sent(w, MtRequest { imei, sos, ..MtRequest::default() })
}

/// Where MT call `req` to b sends its INVITE, or why it cannot start.
fn mt_sent(w: &mut World, req: MtRequest<'_>) -> Result<SocketAddr, String> {
    let (_, out) = w.mt.start(w.t0, &format!("sip:b@{D}"), req, &w.bindings, &mut w.ports)?;
    out.iter()
        .find_map(|(_, c)| match c {
            ToWorker::SendRequest { peer, .. } => Some(peer.addr),
            _ => None,
        })
        .ok_or_else(|| "no INVITE".into())
}

#[test]
fn sos_reaches_the_emergency_registration_only() {
    let mut w = world();
    assert_eq!(mt_target(&mut w, None, true), Err(format!("sip:b@{D} has no emergency registration")));
    let sos: SocketAddr = "10.0.0.3:5062".parse().expect("literal address");
    register(&mut w, "", true, sos);
    assert_eq!(mt_target(&mut w, None, true), Ok(sos), "seed 000 mt_call.sos");
    assert_eq!(mt_target(&mut w, None, false), Ok("10.0.0.2:5060".parse().expect("literal address")), "a normal call: the normal registration");
}

#[test]
fn the_impu_imei_picks_the_ue_of_a_multi_sim_callee() {
    let mut w = World { bindings: Bindings::new(4), ..world() };
    let (ue1, ue2): (SocketAddr, SocketAddr) = ("10.0.0.21:5060".parse().expect("literal"), "10.0.0.22:5060".parse().expect("literal"));
    register(&mut w, "35209900176148", false, ue1);
    register(&mut w, "35209900176149", false, ue2);
    assert_eq!(mt_target(&mut w, Some("352099001761480"), false), Ok(ue1));
    assert_eq!(mt_target(&mut w, Some("35209900176149"), false), Ok(ue2));
    let err = mt_target(&mut w, Some("35209900176140"), false);
    assert_eq!(err, Err(format!("sip:b@{D} is not registered from the UE of IMEI 35209900176140")));
}

#[test]
fn a_named_contact_is_called_and_no_other() {
    let mut w = world();
    let second: SocketAddr = "10.0.0.4:5070".parse().expect("literal address");
    register(&mut w, "", false, second);
    let uri = format!("sip:b@{second}");
    assert_eq!(mt_sent(&mut w, MtRequest { contact: Some(&uri), ..MtRequest::default() }), Ok(second), "seed 000 mt_call.contact");
    let first = mt_sent(&mut w, MtRequest { contact: Some("sip:b@10.0.0.2:5060"), ..MtRequest::default() });
    assert_eq!(first, Ok("10.0.0.2:5060".parse().expect("literal address")));
    let gone = mt_sent(&mut w, MtRequest { contact: Some("sip:b@10.0.0.5:5060"), ..MtRequest::default() });
    assert_eq!(gone, Err(format!("sip:b@10.0.0.5:5060 is not a registered contact of sip:b@{D}")));
}
