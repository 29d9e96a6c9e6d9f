//! Calls ringcore answers itself (the echo service), driven by a scripted
//! UE over UDP: reliable provisional responses (RFC 3262) retransmitted
//! until PRACK, QoS preconditions (RFC 3312: reliable 183 with curr/des,
//! UPDATE, then alerting; the capture decodes cleanly in tshark), and
//! session timers (RFC 4028) where ringcore is the refresher and sends the
//! UPDATE itself.

mod common;
use common::{header_line, recv_sip, Capture, Core};
use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

fn body() -> String {
    format!(
        "timer_t1: 0.5,\n echo: [{{ impu: \"sip:echo\", answer_delay: 1 }}, \"sip:echo2\"],\n\
         ue_db: [ {{ imsi: \"001010000000801\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }} ],\n"
    )
}

/// A scripted UE calling `to`.
struct Ue {
    sock: UdpSocket,
    core: std::net::SocketAddr,
    to: String,
    call_id: String,
    cseq: u32,
    to_tag: String,
}

const OFFER: &str = "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

fn precond_offer(local: &str, version: u32) -> String {
    format!(
        "v=0\r\no=ue 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         a=curr:qos local {local}\r\na=curr:qos remote none\r\na=des:qos mandatory local sendrecv\r\na=des:qos optional remote sendrecv\r\n"
    )
}

impl Ue {
    fn new(core: &Core, to: &str, call_id: &str) -> Ue {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Ue { sock, core: core.sip, to: to.into(), call_id: call_id.into(), cseq: 0, to_tag: String::new() }
    }

    /// Sends a request (INVITE without To tag until one is known).
    fn send(&mut self, method: &str, extra: &str, sdp: &str) {
        if method != "ACK" {
            self.cseq += 1;
        }
        let l = self.sock.local_addr().unwrap();
        let ctype = if sdp.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
        let msg = format!(
            "{method} sip:{to}@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bK{method}{c}\r\nMax-Forwards: 70\r\n\
             From: <sip:ue@{DOMAIN}>;tag=u1\r\nTo: <sip:{to}@{DOMAIN}>{tag}\r\nCall-ID: {id}\r\nCSeq: {c} {method}\r\n\
             Contact: <sip:ue@{l}>\r\n{extra}{ctype}Content-Length: {len}\r\n\r\n{sdp}",
            to = self.to,
            c = self.cseq,
            tag = self.to_tag,
            id = self.call_id,
            len = sdp.len()
        );
        self.sock.send_to(msg.as_bytes(), self.core).unwrap();
    }

    /// The next message that is not a 100 Trying; learns the To tag.
    fn recv(&mut self) -> String {
        loop {
            let (m, _) = recv_sip(&self.sock);
            if m.starts_with("SIP/2.0 100") {
                continue;
            }
            if self.to_tag.is_empty() && m.starts_with("SIP/2.0") {
                if let Some(t) = header_line(&m, "To:").split(";tag=").nth(1) {
                    self.to_tag = format!(";tag={}", t.trim());
                }
            }
            return m;
        }
    }

    /// The next message starting with `start` (others of `skip` are ignored).
    fn expect(&mut self, start: &str, skip: &[&str]) -> String {
        loop {
            let m = self.recv();
            if m.starts_with(start) {
                return m;
            }
            assert!(skip.iter().any(|s| m.starts_with(s)), "expected {start}, got {m}");
        }
    }

    /// ACKs the 200 of the INVITE (CSeq 1), hangs up and waits for the BYE's 200.
    fn ack_and_bye(&mut self) {
        let c = self.cseq;
        self.cseq = 1;
        self.send("ACK", "", "");
        self.cseq = c;
        self.send("BYE", "", "");
        loop {
            let r = self.expect("SIP/2.0 200", &["SIP/2.0 18"]);
            if header_line(&r, "CSeq:").contains("BYE") {
                return;
            }
        }
    }
}

fn rseq(m: &str) -> u32 {
    header_line(m, "RSeq:").trim_start_matches("RSeq:").trim().parse().expect("RSeq number")
}

/// RFC 3262 3: the reliable 180 is retransmitted (same RSeq) until the
/// PRACK; answer_delay holds the 200 back.
#[test]
fn echo_sends_reliable_180_retransmitted_until_prack() {
    let core = Core::start("echo-prack", &body());
    let mut ue = Ue::new(&core, "echo", "e-prack");
    let t0 = Instant::now();
    ue.send("INVITE", "Supported: 100rel\r\n", OFFER);
    let r180 = ue.expect("SIP/2.0 180", &[]);
    assert!(header_line(&r180, "Require:").contains("100rel"), "{r180}");
    let n = rseq(&r180);
    let again = ue.expect("SIP/2.0 180", &[]);
    assert_eq!(rseq(&again), n, "a retransmission keeps its RSeq");
    assert!(t0.elapsed() >= Duration::from_millis(400), "retransmitted after T1");
    ue.send("PRACK", &format!("RAck: {n} 1 INVITE\r\n"), "");
    let ok = ue.expect("SIP/2.0 200", &["SIP/2.0 180"]);
    assert!(ok.contains("PRACK"), "{ok}");
    let ok = ue.expect("SIP/2.0 200", &["SIP/2.0 180"]);
    assert!(header_line(&ok, "CSeq:").contains("INVITE"), "{ok}");
    assert!(t0.elapsed() >= Duration::from_millis(900), "answer_delay 1 s");
    // No 180 retransmission after the PRACK.
    ue.sock.set_read_timeout(Some(Duration::from_millis(1200))).unwrap();
    let mut buf = [0u8; 4096];
    if let Ok((len, _)) = ue.sock.recv_from(&mut buf) {
        let m = String::from_utf8_lossy(&buf[..len]);
        assert!(!m.starts_with("SIP/2.0 180"), "180 retransmitted after PRACK: {m}");
    }
    ue.sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    ue.ack_and_bye();
}

/// A PRACK naming an unknown RSeq gets 481 (RFC 3262 3).
#[test]
fn prack_with_wrong_rseq_gets_481() {
    let core = Core::start("echo-prack481", &body());
    let mut ue = Ue::new(&core, "echo", "e-481");
    ue.send("INVITE", "Supported: 100rel\r\n", OFFER);
    let r180 = ue.expect("SIP/2.0 180", &[]);
    let n = rseq(&r180);
    ue.send("PRACK", &format!("RAck: {} 1 INVITE\r\n", n.wrapping_add(5)), "");
    let r = ue.expect("SIP/2.0 481", &["SIP/2.0 180"]);
    assert!(r.contains("PRACK"), "{r}");
}

/// RFC 3312: unmet mandatory preconditions: the answer comes in a reliable
/// 183 with curr/des lines (our side reserved at once), the UE's UPDATE
/// reporting its resources gets an answer with them mirrored, then the call
/// alerts and is answered.
#[test]
fn echo_with_preconditions_answers_in_183_then_alerts_after_update() {
    let core = Core::start("echo-precond", &body());
    let pcap = common::scratch_dir("echo-precond-cap").join("precond.pcap");
    let mut cap = Capture::start(&pcap, core.sip.port());
    let mut ue = Ue::new(&core, "echo2", "e-pre");
    ue.send("INVITE", "Supported: 100rel, precondition\r\nRequire: precondition\r\n", &precond_offer("none", 1));
    let r183 = ue.expect("SIP/2.0 183", &[]);
    assert!(header_line(&r183, "Require:").contains("100rel"), "{r183}");
    assert!(r183.contains("a=curr:qos local sendrecv"), "our resources count as reserved: {r183}");
    assert!(r183.contains("a=curr:qos remote none"), "{r183}");
    assert!(r183.contains("a=des:qos mandatory remote sendrecv"), "{r183}");
    assert!(r183.contains("a=conf:qos remote sendrecv"), "asks for confirmation: {r183}");
    ue.send("PRACK", &format!("RAck: {} 1 INVITE\r\n", rseq(&r183)), "");
    assert!(ue.expect("SIP/2.0 200", &["SIP/2.0 183"]).contains("PRACK"));
    ue.send("UPDATE", "", &precond_offer("sendrecv", 2));
    let up = ue.expect("SIP/2.0 200", &["SIP/2.0 183"]);
    assert!(header_line(&up, "CSeq:").contains("UPDATE"), "{up}");
    assert!(up.contains("a=curr:qos remote sendrecv"), "the UE's segment mirrored: {up}");
    let r180 = ue.expect("SIP/2.0 180", &["SIP/2.0 183"]);
    ue.send("PRACK", &format!("RAck: {} 1 INVITE\r\n", rseq(&r180)), "");
    let mut answered = false;
    for _ in 0..4 {
        let m = ue.expect("SIP/2.0 200", &["SIP/2.0 18"]);
        answered |= header_line(&m, "CSeq:").contains("INVITE");
        if answered {
            break;
        }
    }
    assert!(answered, "the INVITE is answered once alerting is acknowledged");
    ue.ack_and_bye();
    cap.stop();
    // tshark decodes every message, the precondition attributes included.
    let out = Command::new("tshark").args(["-r", pcap.to_str().unwrap(), "-Y", "sip", "-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code"]).output().expect("tshark -r");
    let text = String::from_utf8_lossy(&out.stdout);
    for what in ["INVITE", "183", "PRACK", "UPDATE", "180", "BYE"] {
        assert!(text.contains(what), "{what} decoded: {text}");
    }
    let bad = Command::new("tshark").args(["-r", pcap.to_str().unwrap(), "-Y", "_ws.malformed || _ws.expert.severity >= \"error\""]).output().expect("tshark -r");
    assert!(String::from_utf8_lossy(&bad.stdout).trim().is_empty(), "tshark flags packets: {}", String::from_utf8_lossy(&bad.stdout));
}

/// RFC 4028: the UE asks ringcore to refresh (refresher=uas, 90 s): the
/// 200 says so, and ringcore sends the refreshing UPDATE at half the
/// interval, naming itself (the refresh's UAC) as refresher.
#[test]
fn echo_refreshes_the_session_when_it_is_the_refresher() {
    let core = Core::start("echo-se", &body());
    let mut ue = Ue::new(&core, "echo2", "e-se");
    ue.send("INVITE", "Supported: timer\r\nSession-Expires: 90;refresher=uas\r\n", OFFER);
    let ok = ue.expect("SIP/2.0 200", &["SIP/2.0 18"]);
    assert!(header_line(&ok, "Session-Expires:").contains("90;refresher=uas"), "{ok}");
    assert!(header_line(&ok, "Require:").contains("timer"), "{ok}");
    let c = ue.cseq;
    ue.cseq = 1;
    ue.send("ACK", "", "");
    ue.cseq = c;
    let t0 = Instant::now();
    ue.sock.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let upd = ue.expect("UPDATE", &["SIP/2.0 200"]);
    let took = t0.elapsed();
    assert!(took >= Duration::from_secs(40) && took <= Duration::from_secs(50), "refresh at half of 90 s, took {took:?}");
    assert!(header_line(&upd, "Session-Expires:").contains("90;refresher=uac"), "{upd}");
    let resp = common::respond(&upd, "200 OK", None, "Session-Expires: 90;refresher=uac\r\nRequire: timer\r\n", "");
    ue.sock.send_to(resp.as_bytes(), core.sip).unwrap();
    ue.sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    ue.send("BYE", "", "");
    let r = ue.expect("SIP/2.0 200", &[]);
    assert!(r.contains("BYE"), "{r}");
}

/// RFC 4028 9: a Session-Expires below Min-SE gets 422 on echo calls too.
#[test]
fn echo_rejects_too_small_session_expires_with_422() {
    let core = Core::start("echo-422", &body());
    let mut ue = Ue::new(&core, "echo2", "e-422");
    ue.send("INVITE", "Session-Expires: 60\r\n", OFFER);
    let r = ue.expect("SIP/2.0 422", &[]);
    assert_eq!(header_line(&r, "Min-SE:").trim(), "Min-SE: 90", "{r}");
}
