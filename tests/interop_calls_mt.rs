//! Calls driven from the monitor: MT calls with the call extensions (the MT
//! INVITE offers 100rel, preconditions and timers and asks for a session
//! timer, RFC 4028 7.1; the UE's reliable 180 is PRACKed once, RFC 3262 4,
//! RAck naming RSeq and the INVITE's CSeq), and the `dialog` / `dialog_set`
//! commands on an echo call (listing, hold by re-INVITE a=sendonly, stop).

mod common;
use common::{backend, free_port, header_line, recv_sip as recv, respond, scratch_dir, Proc};
use std::io::Write;
use std::sync::mpsc::Receiver;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";


/// Starts ringcore with its monitor on stdin (its output lines on the
/// receiver) and `extra` configuration, and registers a UE (no authentication).
fn start_and_register(name: &str, extra: &str) -> (Proc, UdpSocket, SocketAddr, Receiver<String>) {
    let dir = scratch_dir(name);
    let sip_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let cfg = dir.join("ims.cfg");
    std::fs::write(
        &cfg,
        format!(
            "{{ sip_addr: {{ addr: \"{sip_addr}\", port_min: 43000, port_max: 43999 }}, domain: \"{DOMAIN}\", log_filename: \"{}\",\n\
             engine: {{ backend: \"{}\", workers: 1 }},\n\
             {extra}\n ue_db: [ {{ imsi: \"001010000000961\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }} ] }}\n",
            dir.join("ims.log").display(),
            backend()
        ),
    )
    .unwrap();
    let mut core = common::spawn_monitor(&cfg);
    let lines = common::stdout_lines(&mut core);
    let ue = common::register_open_ue(sip_addr, "ue", DOMAIN);
    (core, ue, sip_addr, lines)
}

#[test]
fn mt_invite_offers_extensions_and_prack_acknowledges_a_reliable_180_once() {
    let (mut core, ue, _, _) = start_and_register("mt-prack", "");
    let l = ue.local_addr().unwrap();
    writeln!(core.0.stdin.as_mut().unwrap(), "mt_call sip:ue@{DOMAIN} 1").unwrap();
    let (invite, from) = recv(&ue);
    assert!(invite.starts_with("INVITE "), "{invite}");
    let supported = header_line(&invite, "Supported:");
    for tag in ["100rel", "timer", "precondition"] {
        assert!(supported.contains(tag), "{tag} offered: {supported}");
    }
    assert!(header_line(&invite, "Session-Expires:").contains("1800;refresher=uac"), "{invite}");
    assert!(header_line(&invite, "Min-SE:").contains("90"), "{invite}");
    assert!(invite.contains("a=des:qos"), "preconditions in the offer: {invite}");

    let contact = format!("Contact: <sip:ue@{l}>\r\n");
    let r180 = respond(&invite, "180 Ringing", Some("ue1"), &format!("{contact}Require: 100rel\r\nRSeq: 9\r\n"), "");
    ue.send_to(r180.as_bytes(), from).unwrap();
    let (prack, pfrom) = recv(&ue);
    assert!(prack.starts_with(&format!("PRACK sip:ue@{l} SIP/2.0")), "{prack}");
    assert_eq!(header_line(&prack, "RAck:").trim(), "RAck: 9 1 INVITE", "{prack}");
    assert!(header_line(&prack, "To:").contains("tag=ue1"), "in the early dialog: {prack}");
    ue.send_to(respond(&prack, "200 OK", None, "", "").as_bytes(), pfrom).unwrap();
    // A retransmitted 180 (same RSeq) is not PRACKed again.
    ue.send_to(r180.as_bytes(), from).unwrap();
    ue.set_read_timeout(Some(Duration::from_millis(800))).unwrap();
    let mut buf = [0u8; 8192];
    if let Ok((n, _)) = ue.recv_from(&mut buf) {
        let m = String::from_utf8_lossy(&buf[..n]);
        assert!(!m.starts_with("PRACK") || m.contains(header_line(&prack, "Via:")), "a second PRACK: {m}");
    }
    ue.set_read_timeout(Some(Duration::from_secs(5))).unwrap();

    let answer = "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let ok = respond(&invite, "200 OK", Some("ue1"), &format!("{contact}Require: timer\r\nSession-Expires: 1800;refresher=uac\r\n"), answer);
    ue.send_to(ok.as_bytes(), from).unwrap();
    let (ack, _) = loop {
        let m = recv(&ue);
        if !m.0.starts_with("PRACK") {
            break m;
        }
    };
    assert!(ack.starts_with("ACK ") && header_line(&ack, "CSeq:").contains("1 ACK"), "{ack}");
    let (bye, from) = recv(&ue);
    assert!(bye.starts_with("BYE "), "ringcore hangs up after the duration: {bye}");
    ue.send_to(respond(&bye, "200 OK", None, "", "").as_bytes(), from).unwrap();
}

/// Monitor lines until one contains `what` (panics after 5 s).
fn wait_line(lines: &Receiver<String>, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).unwrap_or_else(|_| panic!("no monitor line with {what}"));
        if line.contains(what) {
            return line;
        }
    }
}

#[test]
fn monitor_lists_an_echo_dialog_holds_and_stops_it() {
    let (mut core, ue, sip, lines) = start_and_register("mon-dialog", "echo: [\"sip:echo\"],");
    let l = ue.local_addr().unwrap();
    let sdp = "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let invite = format!(
        "INVITE sip:echo@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKd1\r\nMax-Forwards: 70\r\nFrom: <sip:ue@{DOMAIN}>;tag=u1\r\n\
         To: <sip:echo@{DOMAIN}>\r\nCall-ID: mon-1\r\nCSeq: 1 INVITE\r\nContact: <sip:ue@{l}>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    ue.send_to(invite.as_bytes(), sip).unwrap();
    let ok = loop {
        let (m, _) = recv(&ue);
        if m.starts_with("SIP/2.0 200") {
            break m;
        }
    };
    let to = header_line(&ok, "To:").to_owned();
    let ack = format!(
        "ACK sip:echo@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKd2\r\nMax-Forwards: 70\r\nFrom: <sip:ue@{DOMAIN}>;tag=u1\r\n\
         {to}\r\nCall-ID: mon-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    );
    ue.send_to(ack.as_bytes(), sip).unwrap();
    let stdin = core.0.stdin.as_mut().unwrap();
    writeln!(stdin, "dialog").unwrap();
    let row = wait_line(&lines, "mon-1");
    assert!(row.contains("echo") && row.contains("start"), "{row}");
    assert!(row.contains(&format!("sip:ue@{DOMAIN} -> sip:echo@{DOMAIN}")), "{row}");
    wait_line(&lines, "1 dialog(s)");

    writeln!(stdin, "dialog_set mon-1 hold").unwrap();
    let (reinvite, from) = recv(&ue);
    assert!(reinvite.starts_with("INVITE "), "{reinvite}");
    assert!(reinvite.contains("a=sendonly"), "hold: {reinvite}");
    let answer = sdp.replace("a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:0 PCMU/8000\r\na=recvonly\r\n");
    ue.send_to(respond(&reinvite, "200 OK", None, &format!("Contact: <sip:ue@{l}>\r\n"), &answer).as_bytes(), from).unwrap();
    let (ack, _) = recv(&ue);
    assert!(ack.starts_with("ACK ") && header_line(&ack, "CSeq:").contains("ACK"), "{ack}");
    assert_eq!(header_line(&ack, "CSeq:").split_whitespace().nth(1), header_line(&reinvite, "CSeq:").split_whitespace().nth(1), "ACK CSeq");
    // The UE's recvonly answer: the dialog shows hold; the other dialog_set actions.
    writeln!(stdin, "dialog").unwrap();
    assert!(wait_line(&lines, "mon-1").contains("hold"));
    writeln!(stdin, "dialog_set mon-1 media rtp=off rtcp=on").unwrap();
    wait_line(&lines, "dialog mon-1: media rtp=off rtcp=on");
    writeln!(stdin, "dialog_set mon-1 media rtp=maybe").unwrap();
    wait_line(&lines, "dialog_set: bad switch value maybe");
    writeln!(stdin, "dialog_set mon-1 reinvite").unwrap();
    let (reinvite, from) = recv(&ue);
    assert!(reinvite.starts_with("INVITE ") && reinvite.contains("m=audio "), "{reinvite}");
    ue.send_to(respond(&reinvite, "200 OK", None, &format!("Contact: <sip:ue@{l}>\r\n"), sdp).as_bytes(), from).unwrap();
    assert!(recv(&ue).0.starts_with("ACK "));

    writeln!(stdin, "dialog_set mon-1 stop cause=503 text=back soon").unwrap();
    let (bye, from) = recv(&ue);
    assert!(bye.starts_with("BYE "), "{bye}");
    assert_eq!(header_line(&bye, "Reason:").trim(), "Reason: SIP;cause=503;text=\"back soon\"", "RFC 3326: {bye}");
    ue.send_to(respond(&bye, "200 OK", None, "", "").as_bytes(), from).unwrap();
    // seed 000: a stopped dialog stays listed (30 s), in state stop.
    writeln!(core.0.stdin.as_mut().unwrap(), "dialog").unwrap();
    assert!(wait_line(&lines, "echo   stop").starts_with("mon-1 "));
    wait_line(&lines, "1 dialog(s)");
    writeln!(core.0.stdin.as_mut().unwrap(), "dialog_set nope stop").unwrap();
    wait_line(&lines, "dialog_set: no dialog nope");
}

/// RFC 4028 7.3: the UE answers 422 with a larger Min-SE; ringcore retries
/// once with a new INVITE (next CSeq) asking for that interval.
#[test]
fn mt_call_retries_after_422_with_the_ues_min_se() {
    let (mut core, ue, _, _) = start_and_register("mt-422", "");
    let l = ue.local_addr().unwrap();
    writeln!(core.0.stdin.as_mut().unwrap(), "mt_call sip:ue@{DOMAIN} 1").unwrap();
    let (invite, from) = recv(&ue);
    assert!(header_line(&invite, "CSeq:").contains("1 INVITE"), "{invite}");
    let r422 = respond(&invite, "422 Session Interval Too Small", Some("ue1"), "Min-SE: 3600\r\n", "");
    ue.send_to(r422.as_bytes(), from).unwrap();
    let (retry, from) = loop {
        let m = recv(&ue);
        if m.0.starts_with("INVITE ") {
            break m;
        }
        assert!(m.0.starts_with("ACK "), "only the 422's ACK comes first: {}", m.0);
    };
    assert!(header_line(&retry, "CSeq:").contains("2 INVITE"), "{retry}");
    assert!(header_line(&retry, "Session-Expires:").contains("3600"), "{retry}");
    assert_eq!(header_line(&retry, "Min-SE:").trim(), "Min-SE: 3600", "{retry}");
    assert!(!header_line(&retry, "To:").contains("tag="), "no dialog from a 422: {retry}");
    assert_eq!(header_line(&retry, "Call-ID:"), header_line(&invite, "Call-ID:"));
    let answer = "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let ok = respond(&retry, "200 OK", Some("ue2"), &format!("Contact: <sip:ue@{l}>\r\nSession-Expires: 3600;refresher=uac\r\nRequire: timer\r\n"), answer);
    ue.send_to(ok.as_bytes(), from).unwrap();
    let (ack, _) = recv(&ue);
    assert!(ack.starts_with("ACK ") && header_line(&ack, "CSeq:").contains("2 ACK"), "{ack}");
    let (bye, from) = recv(&ue);
    assert!(bye.starts_with("BYE "), "{bye}");
    ue.send_to(respond(&bye, "200 OK", None, "", "").as_bytes(), from).unwrap();
}

/// seed 000 remote_control: the echo call rings until `dialog_set ID answer`.
#[test]
fn remote_control_echo_rings_until_dialog_set_answer() {
    let (mut core, ue, sip, lines) = start_and_register("mon-answer", "echo: [{ impu: \"sip:echo_rc\", remote_control: true }],");
    let l = ue.local_addr().unwrap();
    let sdp = "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let invite = format!(
        "INVITE sip:echo_rc@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKa1\r\nMax-Forwards: 70\r\nFrom: <sip:ue@{DOMAIN}>;tag=u1\r\n\
         To: <sip:echo_rc@{DOMAIN}>\r\nCall-ID: mon-rc\r\nCSeq: 1 INVITE\r\nContact: <sip:ue@{l}>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    ue.send_to(invite.as_bytes(), sip).unwrap();
    let ringing = loop {
        let (m, _) = recv(&ue);
        if !m.starts_with("SIP/2.0 100") {
            break m;
        }
    };
    assert!(ringing.starts_with("SIP/2.0 180"), "{ringing}");
    ue.set_read_timeout(Some(Duration::from_millis(1500))).unwrap();
    let mut buf = [0u8; 4096];
    assert!(ue.recv_from(&mut buf).is_err(), "no answer before dialog_set answer");
    ue.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let stdin = core.0.stdin.as_mut().unwrap();
    writeln!(stdin, "dialog").unwrap();
    assert!(wait_line(&lines, "mon-rc").contains("ringing"));
    writeln!(stdin, "dialog_set mon-rc answer").unwrap();
    let (ok, _) = recv(&ue);
    assert!(ok.starts_with("SIP/2.0 200") && ok.contains("m=audio"), "{ok}");
    writeln!(stdin, "dialog_set mon-rc answer").unwrap();
    wait_line(&lines, "dialog_set: the call is answered already");
    // seed 000 dialog_set.code: a forced final code refuses the ringing call.
    let second = invite.replace("Call-ID: mon-rc\r\n", "Call-ID: mon-rc2\r\n").replace("branch=z9hG4bKa1", "branch=z9hG4bKa2").replace("tag=u1", "tag=u2");
    ue.send_to(second.as_bytes(), sip).unwrap();
    let ringing = loop {
        let (m, _) = recv(&ue);
        if !m.starts_with("SIP/2.0 100") {
            break m;
        }
    };
    assert!(ringing.starts_with("SIP/2.0 180") && ringing.contains("mon-rc2"), "{ringing}");
    writeln!(stdin, "dialog_set mon-rc2 answer 486").unwrap();
    let (busy, _) = recv(&ue);
    assert!(busy.starts_with("SIP/2.0 486 Busy Here\r\n") && busy.contains("mon-rc2"), "{busy}");
}
