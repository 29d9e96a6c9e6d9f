//! The call configuration of seed 000 on the wire, with a running ringcore
//! and scripted UEs over UDP (and SIPp for the echo answer): the echo service answers with its `sdp_file`
//! media (and echoes RTP on that answer), an echo IMPU's `callflow_modifier`
//! on `INVITE.RINGING` turns its 180 into a 183 with the modifier's header
//! and `content` body, MT calls offer `mt_call_sdp_file` (and the monitor's
//! `mt_call ... sip_file`; its `caller` is asserted and that caller's
//! INVITE.RINGING modifier cancels the call), and `p_called_party_id` (global
//! and per IMPU) puts P-Called-Party-ID (RFC 3455 4.2) in the INVITE to the
//! callee, the MT call's INVITE and the MESSAGE to a UE.

mod common;
use common::{header_line, recv_sip, register_open_ue, respond, scratch_dir, sipp, test_file, tshark_check, Capture, Core};
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;

use std::time::{Duration, Instant};

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

/// The echo's SDP file: PCMA only, 30 ms packets.
const ECHO_SDP: &str = "v=0\no=lab 1 1 IN IP4 127.0.0.1\ns=lab-echo\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 8\na=rtpmap:8 PCMA/8000\na=ptime:30\n";
/// The MT call SDP file.
const MT_SDP: &str = "v=0\no=lab 1 1 IN IP4 127.0.0.1\ns=lab-mt\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 8 101\na=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\na=ptime:30\n";
/// The file of the monitor's `mt_call ... sip_file`.
const REQUEST_SDP: &str = "v=0\no=lab 1 1 IN IP4 127.0.0.1\ns=lab-request\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";
const OFFER: &str = "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
    m=audio 40000 RTP/AVP 104 0 8\r\na=rtpmap:104 AMR-WB/16000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n";

/// A directory with the files the configurations name (absolute paths:
/// the core's own directory is wiped when it starts).
fn files(name: &str) -> PathBuf {
    let dir = scratch_dir(&format!("{name}-files"));
    for (f, text) in [("echo.sdp", ECHO_SDP), ("mt.sdp", MT_SDP), ("request.sdp", REQUEST_SDP), ("note.txt", "hello from the modifier")] {
        std::fs::write(dir.join(f), text).expect("write a named file");
    }
    dir
}

fn body(m: &str) -> &str {
    m.split("\r\n\r\n").nth(1).unwrap_or("")
}

/// An INVITE from `from` (a registered or configured IMPU user) to `to`.
fn invite(ue: &UdpSocket, core: SocketAddr, from: &str, to: &str, call_id: &str) {
    let l = ue.local_addr().unwrap();
    let msg = format!(
        "INVITE sip:{to}@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bK{call_id}\r\nMax-Forwards: 70\r\n\
         From: <sip:{from}@{DOMAIN}>;tag=u1\r\nTo: <sip:{to}@{DOMAIN}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:{from}@{l}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{OFFER}",
        OFFER.len()
    );
    ue.send_to(msg.as_bytes(), core).unwrap();
}

/// The next message that is not a 100 Trying.
fn next(ue: &UdpSocket) -> String {
    loop {
        let (m, _) = recv_sip(ue);
        if !m.starts_with("SIP/2.0 100") {
            return m;
        }
    }
}

/// ACKs the 200 `ok` and hangs up; waits for the BYE's 200.
fn ack_and_bye(ue: &UdpSocket, core: SocketAddr, ok: &str, from: &str, to: &str, call_id: &str) {
    let l = ue.local_addr().unwrap();
    let to_hdr = header_line(ok, "To:");
    for (method, cseq) in [("ACK", 1), ("BYE", 2)] {
        let msg = format!(
            "{method} sip:{to}@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bK{call_id}{method}\r\nMax-Forwards: 70\r\n\
             From: <sip:{from}@{DOMAIN}>;tag=u1\r\n{to_hdr}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
        );
        ue.send_to(msg.as_bytes(), core).unwrap();
    }
    let r = next(ue);
    assert!(r.starts_with("SIP/2.0 200") && header_line(&r, "CSeq:").contains("BYE"), "{r}");
}

/// seed 000 `sdp_file` on an echo IMPU: the 200 answers the offer with the
/// file's codec (PCMA, the offer's payload type) and ptime on the echo port,
/// where RTP comes back; seed 000 `callflow_modifier` with `method:
/// INVITE.RINGING`, `code`, `stop: false`, `custom_headers` and `content`:
/// the echo's 180 becomes a 183 carrying the header and the file as body.
#[test]
fn echo_answers_with_its_sdp_file_and_a_ringing_modifier_changes_its_180() {
    let dir = files("cfg-echo");
    let cfg = format!(
        "echo: [ {{ impu: \"sip:echo\", sdp_file: \"{echo}\" }},\n\
           {{ impu: \"sip:echo2\", answer_delay: 1, callflow_modifier: {{ method: \"INVITE.RINGING\", code: 183, stop: false,\n\
              custom_headers: [ {{ name: \"X-Lab\", value: \"ringing\" }} ], content: \"{note}\", content_type: \"text/plain\" }} }} ],\n\
         ue_db: [ {{ imsi: \"001010000000871\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }} ],",
        echo = dir.join("echo.sdp").display(),
        note = dir.join("note.txt").display()
    );
    let core = Core::start("cfg-echo", &cfg);
    let pcap = scratch_dir("cfg-echo-cap").join("echo.pcap");
    let mut cap = Capture::start(&pcap, core.sip.port());
    let ue = UdpSocket::bind("127.0.0.1:0").unwrap();
    ue.set_read_timeout(Some(Duration::from_secs(5))).unwrap();

    invite(&ue, core.sip, "ue", "echo", "cfg-echo-1");
    let ok = next(&ue);
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    let sdp = body(&ok);
    let m = sdp.lines().find(|l| l.starts_with("m=audio ")).expect("an audio answer");
    assert!(m.ends_with(" RTP/AVP 8"), "only the file's PCMA is answered: {sdp}");
    assert!(sdp.contains("a=rtpmap:8 PCMA/8000") && sdp.contains("a=ptime:30"), "{sdp}");
    // The media of that answer is echoed.
    let port: u16 = m.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("answer port");
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    media.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let rtp = [0x80u8, 8, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7, 0xd5, 0xd5, 0xd5, 0xd5];
    media.send_to(&rtp, ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = media.recv_from(&mut buf).expect("the RTP packet comes back");
    assert_eq!(&buf[..n], &rtp[..]);
    ack_and_bye(&ue, core.sip, &ok, "ue", "echo", "cfg-echo-1");

    invite(&ue, core.sip, "ue", "echo2", "cfg-echo-2");
    let r = next(&ue);
    assert!(r.starts_with("SIP/2.0 183 "), "the modifier's code instead of 180: {r}");
    assert_eq!(header_line(&r, "X-Lab:"), "X-Lab: ringing");
    assert_eq!(header_line(&r, "Content-Type:"), "Content-Type: text/plain");
    assert_eq!(body(&r), "hello from the modifier");
    let ok = next(&ue);
    assert!(ok.starts_with("SIP/2.0 200") && body(&ok).contains("m=audio "), "stop: false, the call goes on: {ok}");
    ack_and_bye(&ue, core.sip, &ok, "ue", "echo2", "cfg-echo-2");
    cap.stop();
    // tshark decodes every message, the file SDP and the modifier's text body included.
    let (bad, decoded) = tshark_check(&pcap, &["sip.Status-Code", "sip.Method", "sdp.media"]);
    assert!(bad.is_empty(), "tshark flags packets: {bad}");
    for what in ["INVITE", "183", "200", "BYE", "audio"] {
        assert!(decoded.contains(what), "{what} decoded: {decoded}");
    }
}

/// The same echo sdp_file answer seen by SIPp: its scenario checks the
/// 200's SDP with regular expressions (the call fails otherwise), 3 calls.
#[test]
fn sipp_calls_the_echo_and_gets_the_sdp_file_answer() {
    sipp_calls_the_file_echo("cfg-sipp", "sipp/echo_sdp_file_uac.xml");
}

/// An INVITE without an offer to the same echo: SIPp checks the 200 offers the file's
/// PCMA on a live port and answers in its ACK (RFC 3264 4), 3 calls.
#[test]
fn sipp_calls_the_echo_without_an_offer_and_answers_its_offer_in_the_ack() {
    sipp_calls_the_file_echo("cfg-sipp-late", "sipp/echo_late_offer_uac.xml");
}

/// Three calls of SIPp `scenario` to an echo IMPU answering with `echo.sdp`.
fn sipp_calls_the_file_echo(name: &str, scenario: &str) {
    let dir = files(name);
    let cfg = format!(
        "echo: [ {{ impu: \"sip:echo\", sdp_file: \"{}\" }} ],\n\
         ue_db: [ {{ imsi: \"001010000000881\", impi: \"uac@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:uac\"] }} ],",
        dir.join("echo.sdp").display()
    );
    let core = Core::start(name, &cfg);
    let sf = test_file(scenario);
    let target = core.sip.to_string();
    let args = ["-sf", sf.to_str().unwrap_or(""), "-key", "caller", "uac", "-key", "callee", "echo", "-m", "3", "-r", "10", "-i", "127.0.0.1"];
    let (ok, out) = sipp(&[&args[..], &["-timeout", "20", "-recv_timeout", "5000", "-nostdin", "-trace_err", &target]].concat(), &core.dir);
    assert!(ok, "SIPp calls ({scenario}) to the echo failed:\n{out}");
}

/// seed 000 `p_called_party_id` (global) and `ue_db.impu.p_called_party_id`
/// (forced value): TS 24.229 5.4.3.2, the INVITE to the callee names the
/// called identity; without either, no header.
#[test]
fn p_called_party_id_is_added_to_the_invite_to_the_callee() {
    let user = |n: u32, name: &str, extra: &str| {
        format!("{{ imsi: \"00101000000088{n}\", impi: \"{name}@{DOMAIN}\", authent_type: \"none\", impu: [ {{ impu: \"sip:{name}\" {extra} }} ] }}")
    };
    for (global, callee, expected) in [
        (true, "b", Some(format!("P-Called-Party-ID: <sip:b@{DOMAIN}>"))),
        (false, "c", Some(format!("P-Called-Party-ID: <sip:forced@{DOMAIN}>"))),
        (false, "b", None),
    ] {
        let cfg = format!(
            "p_called_party_id: {global},\n ue_db: [ {}, {}, {} ],",
            user(1, "a", ""),
            user(2, "b", ""),
            user(3, "c", ", p_called_party_id: \"sip:forced\"")
        );
        let core = Core::start("cfg-pcpi", &cfg);
        let pcap = scratch_dir("cfg-pcpi-cap").join("pcpi.pcap");
        // One capture shows tshark decoding the header (RFC 3455 4.2).
        let mut cap = global.then(|| Capture::start(&pcap, core.sip.port()));
        let callee_ue = register_open_ue(core.sip, callee, DOMAIN);
        let caller = UdpSocket::bind("127.0.0.1:0").unwrap();
        caller.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        invite(&caller, core.sip, "a", callee, "cfg-pcpi");
        let (inv, from) = recv_sip(&callee_ue);
        assert!(inv.starts_with("INVITE "), "{inv}");
        let line = inv.split("\r\n").find(|l| l.starts_with("P-Called-Party-ID:"));
        assert_eq!(line, expected.as_deref(), "global {global}, callee {callee}: {inv}");
        callee_ue.send_to(respond(&inv, "486 Busy Here", Some("b1"), "", "").as_bytes(), from).unwrap();
        let r = next(&caller);
        assert!(r.starts_with("SIP/2.0 486"), "{r}");
        if let Some(cap) = cap.as_mut() {
            cap.stop();
            let (bad, decoded) = tshark_check(&pcap, &["sip.Method", "sip.P-Called-Party-ID"]);
            assert!(bad.is_empty(), "tshark flags packets: {bad}");
            assert!(decoded.contains(&format!("INVITE\t<sip:b@{DOMAIN}>")), "P-Called-Party-ID decoded: {decoded}");
        }
    }
}


/// seed 000 `mt_call_sdp_file`: the MT INVITE offers the file's media (our
/// address and echo port); the monitor's `mt_call callee -d 1 sip_file`
/// offers that file instead.
#[test]
fn mt_calls_offer_the_mt_call_sdp_file_or_the_requests_file() {
    let files = files("cfg-mt");
    let dir = scratch_dir("cfg-mt");
    let sip: SocketAddr = format!("127.0.0.1:{}", common::free_port()).parse().unwrap();
    let cfg = dir.join("ims.cfg");
    std::fs::write(
        &cfg,
        format!(
            "{{ sip_addr: {{ addr: \"{sip}\", port_min: 44000, port_max: 44999 }}, domain: \"{DOMAIN}\", log_filename: \"{}\",\n\
             engine: {{ backend: \"{}\", workers: 1 }}, mt_call_sdp_file: \"{}\", p_called_party_id: true,\n\
             ue_db: [ {{ imsi: \"001010000000891\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }},\n\
               {{ imsi: \"001010000000892\", impi: \"boss@{DOMAIN}\", authent_type: \"none\",\n\
                  impu: [ {{ impu: \"sip:boss\", callflow_modifier: {{ method: \"INVITE.RINGING\" }} }} ] }} ] }}\n",
            dir.join("ims.log").display(),
            common::backend(),
            files.join("mt.sdp").display()
        ),
    )
    .unwrap();
    let mut core = common::spawn_monitor(&cfg);
    let lines = common::stdout_lines(&mut core);
    let ue = register_open_ue(sip, "ue", DOMAIN);
    let stdin = core.0.stdin.as_mut().expect("piped stdin");

    writeln!(stdin, "mt_call sip:ue@{DOMAIN}").unwrap();
    let (inv, from) = recv_sip(&ue);
    assert!(inv.starts_with("INVITE "), "{inv}");
    let sdp = body(&inv);
    assert!(sdp.contains("s=lab-mt") && sdp.contains("a=rtpmap:8 PCMA/8000") && sdp.contains("a=ptime:30"), "the file's media: {sdp}");
    let m = sdp.lines().find(|l| l.starts_with("m=audio ")).expect("audio");
    assert!(m.starts_with("m=audio 44") && m.ends_with("RTP/AVP 8 101"), "our echo port, the file's formats: {m}");
    assert!(!sdp.contains("o=lab "), "our own o= line: {sdp}");
    assert_eq!(header_line(&inv, "P-Called-Party-ID:"), format!("P-Called-Party-ID: <sip:ue@{DOMAIN}>"));
    // Answered; the UE's re-offer is answered with the file's media too.
    let l = ue.local_addr().unwrap();
    let answer = "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n";
    ue.send_to(respond(&inv, "200 OK", Some("u1"), &format!("Contact: <sip:ue@{l}>\r\n"), answer).as_bytes(), from).unwrap();
    let (ack, _) = recv_sip(&ue);
    assert!(ack.starts_with("ACK "), "{ack}");
    let ours = header_line(&inv, "From:").trim_start_matches("From:").trim();
    let target = header_line(&inv, "Contact:").trim_start_matches("Contact:").trim().trim_matches(['<', '>']).to_owned();
    let call_id = header_line(&inv, "Call-ID:").to_owned();
    let reinvite = format!(
        "INVITE {target} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKre1\r\nMax-Forwards: 70\r\nFrom: <sip:ue@{DOMAIN}>;tag=u1\r\n\
         To: {ours}\r\n{call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:ue@{l}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{OFFER}",
        OFFER.len()
    );
    ue.send_to(reinvite.as_bytes(), from).unwrap();
    let ok = next(&ue);
    assert!(ok.starts_with("SIP/2.0 200") && header_line(&ok, "CSeq:").contains("INVITE"), "{ok}");
    let m = body(&ok).lines().find(|l| l.starts_with("m=audio ")).unwrap_or("").to_owned();
    assert!(m.ends_with(" RTP/AVP 8"), "the file's PCMA, not the offered AMR-WB: {ok}");
    let bye = format!(
        "BYE {target} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKbye1\r\nMax-Forwards: 70\r\nFrom: <sip:ue@{DOMAIN}>;tag=u1\r\n\
         To: {ours}\r\n{call_id}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    );
    ue.send_to(bye.as_bytes(), from).unwrap();
    assert!(next(&ue).starts_with("SIP/2.0 200"));

    let request = files.join("request.sdp");
    writeln!(stdin, "mt_call sip:ue@{DOMAIN} -d 1 {}", request.display()).unwrap();
    let inv = loop {
        let (m, _) = recv_sip(&ue);
        if m.starts_with("INVITE ") {
            break m;
        }
    };
    let sdp = body(&inv);
    assert!(sdp.contains("s=lab-request") && sdp.contains("RTP/AVP 0\r\n"), "the request's file overrides: {sdp}");
    let (_, from) = (inv.clone(), from);
    ue.send_to(respond(&inv, "486 Busy Here", Some("u2"), "", "").as_bytes(), from).unwrap();

    // seed 000 mt_call caller: a subscriber is asserted, and on this MT dialog
    // its callflow_modifier applies: INVITE.RINGING with stop (default) cancels.
    writeln!(stdin, "mt_call sip:ue@{DOMAIN} {} boss", request.display()).unwrap();
    let inv = loop {
        let (m, _) = recv_sip(&ue);
        if m.starts_with("INVITE ") {
            break m;
        }
    };
    assert!(header_line(&inv, "From:").contains(&format!("<sip:boss@{DOMAIN}>")), "{inv}");
    assert_eq!(header_line(&inv, "P-Asserted-Identity:"), format!("P-Asserted-Identity: <sip:boss@{DOMAIN}>"));
    let contact = format!("Contact: <sip:ue@{}>\r\n", ue.local_addr().unwrap());
    ue.send_to(respond(&inv, "180 Ringing", Some("u3"), &contact, "").as_bytes(), from).unwrap();
    let (cancel, cfrom) = recv_sip(&ue);
    assert!(cancel.starts_with("CANCEL ") && header_line(&cancel, "CSeq:").contains("1 CANCEL"), "the modifier stops the call: {cancel}");
    assert_eq!(header_line(&cancel, "Via:"), header_line(&inv, "Via:"), "RFC 3261 9.1: the INVITE's branch");
    ue.send_to(respond(&cancel, "200 OK", Some("u3"), "", "").as_bytes(), cfrom).unwrap();
    ue.send_to(respond(&inv, "487 Request Terminated", Some("u3"), "", "").as_bytes(), from).unwrap();

    // p_called_party_id on the MESSAGEs to the UE too (a plain SIP client gets the text).
    writeln!(stdin, "sms ue@{DOMAIN} hello").unwrap();
    let msg = loop {
        let (m, _) = recv_sip(&ue);
        if m.starts_with("MESSAGE ") {
            break m;
        }
    };
    assert_eq!(header_line(&msg, "P-Called-Party-ID:"), format!("P-Called-Party-ID: <sip:ue@{DOMAIN}>"), "{msg}");
    ue.send_to(respond(&msg, "200 OK", Some("m1"), "", "").as_bytes(), from).unwrap();

    writeln!(stdin, "mt_call sip:ue@{DOMAIN} /nonexistent/x.sdp").unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let line = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("a monitor answer");
        if line.contains("mt_call:") {
            assert!(line.contains("cannot read '/nonexistent/x.sdp'"), "{line}");
            break;
        }
    }
}
