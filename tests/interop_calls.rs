//! Calls through ringcore as a B2BUA with SIPp on both ends: a registered
//! SIPp UAS, a SIPp UAC calling it (INVITE, 180, 200, ACK, BYE), plus the
//! error mapping for unknown and unregistered callees.

mod common;
use common::{free_port, sipp, test_file, Core};
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
    let mut uas = Command::new("timeout")
        .args(["90", "sipp", "-sf", uas_sf.to_str().unwrap(), "-i", "127.0.0.1", "-p", &uas_port.to_string(), "-t", "u1", "-m", calls, "-nostdin", "-trace_err"])
        .current_dir(&core.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp uas");
    let target = core.sip.to_string();
    let reg = test_file("sipp/reg_uas.xml");
    let (ok, out) = sipp(&["-sf", reg.to_str().unwrap(), "-key", "uas_port", &uas_port.to_string(), "-m", "1", "-i", "127.0.0.1", "-nostdin", &target], &core.dir);
    assert!(ok, "UAS registration failed:\n{out}");
    let uac = test_file(uac_sf);
    let (ok, out) = sipp(&["-sf", uac.to_str().unwrap(), "-m", calls, "-r", "10", "-i", "127.0.0.1", "-timeout", "60", "-recv_timeout", "10000", "-nostdin", "-trace_err", &target], &core.dir);
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
