//! Calls through ringcore as a B2BUA with SIPp on both ends: a registered
//! SIPp UAS, a SIPp UAC calling it (INVITE, 180, 200, ACK, BYE), plus the
//! error mapping for unknown and unregistered callees.

mod common;
use common::{free_port, sipp, spawn_sipp, test_file, Core};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::Duration;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

fn users() -> String {
    let u = |name: &str, imsi: &str| {
        format!("{{ imsi: \"{imsi}\", impi: \"{name}@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:{name}\"] }},\n")
    };
    format!("ue_db: [\n{}{}{}]\n", u("uac", "001010000000701"), u("uas", "001010000000702"), u("away", "001010000000703"))
}

/// Runs `calls` calls of the UAC scenario against a registered SIPp UAS
/// running the UAS scenario, through ringcore.
fn call_through(name: &str, uac_sf: &str, uas_sf: &str, calls: &str) {
    call_through_captured(name, uac_sf, uas_sf, calls, None);
}

/// As [`call_through`], capturing ringcore's SIP port into `pcap` when given.
fn call_through_captured(name: &str, uac_sf: &str, uas_sf: &str, calls: &str, pcap: Option<&std::path::Path>) {
    call_through_timed(name, uac_sf, uas_sf, calls, pcap, 60);
}

/// As [`call_through_captured`], letting the scenarios run up to `secs` seconds.
fn call_through_timed(name: &str, uac_sf: &str, uas_sf: &str, calls: &str, pcap: Option<&std::path::Path>, secs: u32) {
    let core = Core::start(name, &users());
    let mut cap = pcap.map(|p| {
        let c = Command::new("tshark")
            .args(["-i", "lo", "-f", &format!("udp port {}", core.sip.port()), "-w", p.to_str().unwrap(), "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tshark (apt-get install tshark)");
        std::thread::sleep(Duration::from_secs(2));
        c
    });
    let uas_port = free_port();
    let uas_sf = test_file(uas_sf);
    let mut uas = spawn_sipp(secs + 30, &["-sf", uas_sf.to_str().unwrap(), "-i", "127.0.0.1", "-p", &uas_port.to_string(), "-t", "u1", "-m", calls, "-nostdin", "-trace_err"], &core.dir);
    let target = core.sip.to_string();
    let reg = test_file("sipp/reg_uas.xml");
    let (ok, out) = sipp(&["-sf", reg.to_str().unwrap(), "-key", "uas_port", &uas_port.to_string(), "-m", "1", "-i", "127.0.0.1", "-nostdin", &target], &core.dir);
    assert!(ok, "UAS registration failed:\n{out}");
    let uac = test_file(uac_sf);
    let (ok, out) = sipp(&["-sf", uac.to_str().unwrap(), "-m", calls, "-r", "10", "-i", "127.0.0.1", "-timeout", &secs.to_string(), "-recv_timeout", "90000", "-nostdin", "-trace_err", &target], &core.dir);
    assert!(ok, "calls through ringcore failed:\n{out}");
    let status = uas.wait().expect("uas exit");
    assert!(status.success(), "the SIPp UAS did not complete {calls} calls");
    if let Some(c) = cap.as_mut() {
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill").args(["-INT", &c.id().to_string()]).status();
        let _ = c.wait();
    }
}

#[test]
fn sipp_uac_calls_a_registered_sipp_uas_through_the_b2bua() {
    call_through("calls", "sipp/call_uac.xml", "sipp/call_uas.xml", "20");
}

/// tshark (an independent SIP/SDP dissector) decodes every message of a
/// capture of calls through ringcore, including the anchored SDP, without
/// a malformed-packet warning.
#[test]
fn tshark_decodes_every_message_of_a_call_capture() {
    let dir = common::scratch_dir("calls-pcap");
    let pcap = dir.join("calls.pcap");
    call_through_captured("calls-cap", "sipp/hold_uac.xml", "sipp/hold_uas.xml", "3", Some(&pcap));
    let out = Command::new("tshark").args(["-r", pcap.to_str().unwrap(), "-Y", "sip", "-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "_ws.malformed"]).output().expect("tshark -r");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.iter().filter(|l| l.starts_with("INVITE")).count() >= 12, "INVITEs decoded (3 calls, 2 legs, initial + re-INVITE): {text}");
    assert!(lines.iter().any(|l| l.starts_with("BYE")), "{text}");
    assert_decodes_cleanly(&pcap);
}

/// tshark flags no packet of `pcap` as malformed or in error, and finds SDP.
fn assert_decodes_cleanly(pcap: &std::path::Path) {
    let malformed = Command::new("tshark").args(["-r", pcap.to_str().unwrap(), "-Y", "_ws.malformed || _ws.expert.severity >= \"error\""]).output().expect("tshark -r");
    let bad = String::from_utf8_lossy(&malformed.stdout);
    assert!(bad.trim().is_empty(), "tshark flags packets: {bad}");
    let sdp = Command::new("tshark").args(["-r", pcap.to_str().unwrap(), "-Y", "sdp.media.port", "-T", "fields", "-e", "sdp.media.port"]).output().expect("tshark -r");
    assert!(!String::from_utf8_lossy(&sdp.stdout).trim().is_empty(), "SDP bodies decoded");
}

#[test]
fn hold_re_invite_is_relayed_to_the_other_leg() {
    call_through("hold", "sipp/hold_uac.xml", "sipp/hold_uas.xml", "10");
}

#[test]
fn video_added_by_a_re_invite_reaches_the_callee_and_comes_back_on_relay_ports() {
    // RFC 3264 8.1 through the anchored B2BUA: SIPp's UAS checks the relayed offer's video
    // port is live, SIPp's UAC that the answer's is live and not the audio's.
    call_through("upgrade", "sipp/upgrade_uac.xml", "sipp/upgrade_uas.xml", "5");
}

#[test]
fn a_late_offer_in_the_callees_200_is_answered_in_the_callers_ack_through_the_relays() {
    // RFC 3264 4: SIPp's UAC sends an INVITE without SDP and checks the 200's offer points
    // at ringcore's relay; SIPp's UAS checks that ringcore's ACK carries the answer, on a
    // relay port too.
    call_through("late_offer", "sipp/late_offer_uac.xml", "sipp/late_offer_uas.xml", "5");
}

fn invite(to: &str, sock: &UdpSocket, core: &Core) -> String {
    let l = sock.local_addr().unwrap();
    let msg = format!(
        "INVITE sip:{to}@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKc{to}\r\nMax-Forwards: 70\r\nFrom: <sip:uac@{DOMAIN}>;tag=1\r\n\
         To: <sip:{to}@{DOMAIN}>\r\nCall-ID: c-{to}\r\nCSeq: 1 INVITE\r\nContact: <sip:uac@{l}>\r\nContent-Length: 0\r\n\r\n"
    );
    sock.send_to(msg.as_bytes(), core.sip).unwrap();
    let mut buf = vec![0u8; 8192];
    loop {
        let (n, _) = sock.recv_from(&mut buf).expect("a final response");
        let m = String::from_utf8_lossy(&buf[..n]).into_owned();
        if !m.starts_with("SIP/2.0 100") {
            return m;
        }
    }
}

#[test]
fn unknown_callee_gets_404_and_unregistered_callee_480() {
    let core = Core::start("calls-err", &users());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let r = invite("nobody", &sock, &core);
    assert!(r.starts_with("SIP/2.0 404"), "{r}");
    let r = invite("away", &sock, &core);
    assert!(r.starts_with("SIP/2.0 480"), "{r}");
}

#[test]
fn cancel_after_ringing_is_relayed_and_ends_in_487() {
    call_through("cancel", "sipp/cancel_uac.xml", "sipp/cancel_uas.xml", "10");
}

/// RFC 3262 end to end: the callee's reliable 180 (retransmitted by SIPp
/// until the PRACK) reaches the caller with Require: 100rel and its RSeq;
/// the caller's PRACK reaches the callee with RAck naming ringcore's INVITE
/// CSeq (the scenarios check both); an UPDATE with SDP in the early dialog
/// (RFC 3311) is relayed and answered. The capture decodes cleanly.
#[test]
fn prack_is_relayed_end_to_end_with_rack_mapped() {
    let dir = common::scratch_dir("calls-prack");
    let pcap = dir.join("prack.pcap");
    call_through_captured("calls-prack", "sipp/prack_uac.xml", "sipp/prack_uas.xml", "3", Some(&pcap));
    let out = Command::new("tshark").args(["-r", pcap.to_str().unwrap(), "-Y", "sip.Method == \"PRACK\"", "-T", "fields", "-e", "sip.RAck"]).output().expect("tshark -r");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.contains("4711 7 INVITE")), "caller's PRACK: {text}");
    assert!(text.lines().any(|l| l.contains("4711 1 INVITE")), "relayed PRACK: {text}");
    let out = Command::new("tshark").args(["-r", pcap.to_str().unwrap(), "-Y", "sip.Method == \"UPDATE\" && sdp", "-T", "fields", "-e", "sip.Call-ID"]).output().expect("tshark -r");
    let updates = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!(updates >= 6, "early-dialog UPDATEs with SDP on both legs of 3 calls: {updates}");
    assert_decodes_cleanly(&pcap);
}

/// RFC 4028: the caller refreshes with UPDATE (35 s) and re-INVITE (70 s);
/// the session outlives the 60 s at which an unrefreshed 90 s session ends.
#[test]
fn session_timer_refreshes_keep_the_call_up() {
    let dir = common::scratch_dir("calls-se");
    let pcap = dir.join("se.pcap");
    call_through_timed("calls-se", "sipp/se_uac.xml", "sipp/se_uas.xml", "1", Some(&pcap), 110);
    assert_decodes_cleanly(&pcap);
}

/// RFC 4028 10: no refresh arrives, so ringcore sends BYE to both legs
/// about 60 s after the answer (90 s less a third), not before.
#[test]
fn session_without_refresh_is_ended_with_bye_on_both_legs() {
    let t0 = std::time::Instant::now();
    call_through_timed("calls-se-exp", "sipp/se_expire_uac.xml", "sipp/se_expire_uas.xml", "1", None, 100);
    let took = t0.elapsed();
    assert!(took >= Duration::from_secs(58), "BYE came too early: {took:?}");
}

/// RFC 4028 8.1: a Session-Expires below Min-SE (90 s) is refused with 422
/// naming our Min-SE.
#[test]
fn too_small_session_expires_gets_422_with_min_se() {
    let core = Core::start("calls-422", &users());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let l = sock.local_addr().unwrap();
    let msg = format!(
        "INVITE sip:uas@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKse1\r\nMax-Forwards: 70\r\nFrom: <sip:uac@{DOMAIN}>;tag=1\r\n\
         To: <sip:uas@{DOMAIN}>\r\nCall-ID: c-se\r\nCSeq: 1 INVITE\r\nContact: <sip:uac@{l}>\r\nSupported: timer\r\nSession-Expires: 30\r\nContent-Length: 0\r\n\r\n"
    );
    sock.send_to(msg.as_bytes(), core.sip).unwrap();
    let r = loop {
        let (m, _) = common::recv_sip(&sock);
        if !m.starts_with("SIP/2.0 100") {
            break m;
        }
    };
    assert!(r.starts_with("SIP/2.0 422"), "{r}");
    assert_eq!(common::header_line(&r, "Min-SE:").trim(), "Min-SE: 90", "{r}");
}

/// Registers `sock` as `user` (authent_type none).
fn register(user: &str, sock: &UdpSocket, core: &Core) {
    let l = sock.local_addr().unwrap();
    let reg = format!(
        "REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKr{user}\r\nMax-Forwards: 70\r\nFrom: <sip:{user}@{DOMAIN}>;tag=r\r\n\
         To: <sip:{user}@{DOMAIN}>\r\nCall-ID: r-{user}\r\nCSeq: 1 REGISTER\r\nContact: <sip:{user}@{l}>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
    );
    sock.send_to(reg.as_bytes(), core.sip).unwrap();
    let (r, _) = common::recv_sip(sock);
    assert!(r.starts_with("SIP/2.0 200"), "{r}");
}

/// An INVITE from uac to uas with `body` as SDP; returns the first non-100 answer.
fn invite_with(call: &str, sdp: &str, sock: &UdpSocket, core: &Core) -> Option<String> {
    let l = sock.local_addr().unwrap();
    let msg = format!(
        "INVITE sip:uas@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bK{call}\r\nMax-Forwards: 70\r\nFrom: <sip:uac@{DOMAIN}>;tag=1\r\n\
         To: <sip:uas@{DOMAIN}>\r\nCall-ID: {call}\r\nCSeq: 1 INVITE\r\nContact: <sip:uac@{l}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    sock.send_to(msg.as_bytes(), core.sip).unwrap();
    let mut buf = vec![0u8; 8192];
    while let Ok((n, _)) = sock.recv_from(&mut buf) {
        let m = String::from_utf8_lossy(&buf[..n]).into_owned();
        if !m.starts_with("SIP/2.0 100") {
            return Some(m);
        }
    }
    None
}

const SDP: &str = "v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// Bad input: INVITEs beyond the dialog table get 503 with Retry-After;
/// calls left unanswered for dialog_timeout get 408 (the callee a CANCEL);
/// malformed SDP gets 488 with a Warning naming the problem.
#[test]
fn flood_gets_503_unanswered_calls_time_out_and_bad_sdp_gets_488() {
    let core = Core::start("calls-bounds", &format!("limits: {{ max_dialogs: 2 }},\ndialog_timeout: 2,\n{}", users()));
    let callee = UdpSocket::bind("127.0.0.1:0").unwrap();
    callee.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    register("uas", &callee, &core);
    let caller = UdpSocket::bind("127.0.0.1:0").unwrap();
    caller.set_read_timeout(Some(Duration::from_millis(700))).unwrap();
    let bad = "v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nm=audio notaport RTP/AVP 0\r\n";
    let r = invite_with("c-bad", bad, &caller, &core).expect("an answer to bad SDP");
    assert!(r.starts_with("SIP/2.0 488") && r.contains("Warning: 399 ringcore \"malformed SDP"), "{r}");
    assert!(invite_with("c-1", SDP, &caller, &core).is_none(), "ringing, no final answer yet");
    assert!(invite_with("c-2", SDP, &caller, &core).is_none(), "ringing, no final answer yet");
    let r = invite_with("c-3", SDP, &caller, &core).expect("an answer beyond the table");
    assert!(r.starts_with("SIP/2.0 503"), "{r}");
    assert!(common::header_line(&r, "Retry-After:").contains('5'), "{r}");
    caller.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut timed_out = 0;
    while timed_out < 2 {
        let (m, _) = common::recv_sip(&caller);
        if m.starts_with("SIP/2.0 408") {
            timed_out += 1;
        }
    }
    let mut cancels = 0;
    while cancels < 2 {
        let (m, _) = common::recv_sip(&callee);
        cancels += m.starts_with("CANCEL ") as u32;
    }
}

/// seed 000 custom_headers and user_agent: the rule headers go on the
/// requests and responses they select, the forced user agent names us.
#[test]
fn custom_headers_and_user_agent_are_applied() {
    let cfg = format!(
        "user_agent: \"Lab-IMS-7\",\ncustom_headers: [ {{ name: \"X-Lab\", value: \"resp\", codes: 0, methods: \"*\" }},\n\
         {{ name: \"X-Req\", value: \"inv\", methods: \"INVITE\" }} ],\n{}",
        users()
    );
    let core = Core::start("calls-custom", &cfg);
    let callee = UdpSocket::bind("127.0.0.1:0").unwrap();
    callee.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    register("uas", &callee, &core);
    let caller = UdpSocket::bind("127.0.0.1:0").unwrap();
    caller.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let r = invite("nobody", &caller, &core);
    assert!(r.starts_with("SIP/2.0 404"), "{r}");
    assert_eq!(common::header_line(&r, "X-Lab:"), "X-Lab: resp", "{r}");
    assert_eq!(common::header_line(&r, "Server:"), "Server: Lab-IMS-7", "{r}");
    assert!(!r.contains("X-Req"), "request rule on a response: {r}");
    caller.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let _ = invite_with("c-custom", SDP, &caller, &core);
    let (inv, _) = common::recv_sip(&callee);
    assert!(inv.starts_with("INVITE "), "{inv}");
    assert_eq!(common::header_line(&inv, "X-Req:"), "X-Req: inv", "{inv}");
    assert_eq!(common::header_line(&inv, "User-Agent:"), "User-Agent: Lab-IMS-7", "{inv}");
    assert!(!inv.contains("X-Lab"), "response rule on a request: {inv}");
}

/// With 100rel and precondition disabled (seed 000 `100rel: false`,
/// `precondition: "off"`), an INVITE requiring either gets 420 Bad
/// Extension naming it in Unsupported (RFC 3261 8.2.2.3).
#[test]
fn disabled_extensions_required_by_the_caller_get_420() {
    let core = Core::start("calls-420", &format!("\"100rel\": false,\nprecondition: \"off\",\n{}", users()));
    let callee = UdpSocket::bind("127.0.0.1:0").unwrap();
    callee.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    register("uas", &callee, &core);
    let caller = UdpSocket::bind("127.0.0.1:0").unwrap();
    caller.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let l = caller.local_addr().unwrap();
    for (i, ext) in ["100rel", "precondition"].iter().enumerate() {
        let msg = format!(
            "INVITE sip:uas@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKx{i}\r\nMax-Forwards: 70\r\nFrom: <sip:uac@{DOMAIN}>;tag=1\r\n\
             To: <sip:uas@{DOMAIN}>\r\nCall-ID: c-420-{i}\r\nCSeq: 1 INVITE\r\nContact: <sip:uac@{l}>\r\nRequire: {ext}\r\nContent-Length: 0\r\n\r\n"
        );
        caller.send_to(msg.as_bytes(), core.sip).unwrap();
        let r = loop {
            let (m, _) = common::recv_sip(&caller);
            if !m.starts_with("SIP/2.0 100") {
                break m;
            }
        };
        assert!(r.starts_with("SIP/2.0 420"), "{r}");
        assert_eq!(common::header_line(&r, "Unsupported:"), format!("Unsupported: {ext}"), "{r}");
    }
}
