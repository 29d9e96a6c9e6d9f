//! dialog_set on an MT call through `ringcore api` (the command-line remote API
//! client), a scripted UE answering: `hold` twice re-INVITEs a=sendonly then
//! a=sendrecv (RFC 3264 8.4) and dialog_get shows hold then start; `reinvite` with
//! `sdp_file` offers that file's media on ringcore's port (seed 000 dialog_set.sdp_file);
//! `downgrade` offers the audio at port 0 (RFC 3264 8.2); `stop` with code, reason and
//! reason_protocol sends a BYE with `Reason: SIP;cause=480;text="..."` (RFC 3326),
//! and before the answer a CANCEL with `Reason: Q.850;cause=19`.
//! tshark decodes the capture (Reason cause and text, SDP ports) when installed.

mod common;
use common::{api, free_port, header_line, recv_sip as recv, register_open_ue, respond, tshark_check, Capture, Core};
use serde_json::{json, Value};
use std::net::UdpSocket;
use std::process::Command;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";
const ANSWER: &str = "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n";

fn tshark_present() -> bool {
    Command::new("tshark").arg("-v").output().is_ok_and(|o| o.status.success())
}

fn body(m: &str) -> &str {
    m.split("\r\n\r\n").nth(1).unwrap_or("")
}

/// The port of the first m= line of `kind` in message `m`.
fn port(m: &str, kind: &str) -> String {
    body(m).lines().find_map(|l| l.strip_prefix(&format!("m={kind} "))).and_then(|r| r.split(' ').next()).unwrap_or("").to_owned()
}

/// The UE answers ringcore's re-INVITE with `answer` and gets the ACK; the re-INVITE.
fn answer_reinvite(ue: &UdpSocket, answer: &str) -> String {
    let (inv, from) = recv(ue);
    assert!(inv.starts_with("INVITE "), "{inv}");
    ue.send_to(respond(&inv, "200 OK", None, "", answer).as_bytes(), from).unwrap();
    let (ack, _) = recv(ue);
    assert!(ack.starts_with("ACK ") && header_line(&ack, "CSeq:") == header_line(&inv, "CSeq:").replace("INVITE", "ACK"), "{ack}");
    inv
}

#[test]
fn mt_call_hold_toggle_sdp_file_reinvite_downgrade_and_stop_with_reason() {
    let api_port = free_port();
    let body_cfg = format!(
        "ue_db: [ {{ imsi: \"001010000000971\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }} ],\ncom_addr: \"127.0.0.1:{api_port}\",\n"
    );
    let core = Core::start("dialog-mt", &body_cfg);
    let addr = format!("127.0.0.1:{api_port}");
    let pcap = core.dir.join("mt.pcap");
    let mut cap = tshark_present().then(|| Capture::start(&pcap, core.sip.port()));
    let ue = register_open_ue(core.sip, "ue", DOMAIN);
    let l = ue.local_addr().unwrap();

    let r = api(&addr, json!({"message": "mt_call", "impu": format!("sip:ue@{DOMAIN}")}));
    let id = r["session_id"].as_str().unwrap_or_else(|| panic!("{r}")).to_owned();
    let (invite, from) = recv(&ue);
    assert!(invite.starts_with("INVITE "), "{invite}");
    let ours = port(&invite, "audio");
    let ok = respond(&invite, "200 OK", Some("ue1"), &format!("Contact: <sip:ue@{l}>\r\n"), ANSWER);
    ue.send_to(ok.as_bytes(), from).unwrap();
    assert!(recv(&ue).0.starts_with("ACK "));
    let state = || api(&addr, json!({"message": "dialog_get", "session_id": id}))["dialogs"][0]["state"].as_str().unwrap_or("").to_owned();
    assert_eq!(state(), "start");

    // hold, then hold again: sendonly then sendrecv; the dialog shows hold then start.
    let set = |extra: Value| {
        let mut req = json!({"message": "dialog_set", "session_id": id});
        if let (Value::Object(r), Value::Object(e)) = (&mut req, extra) {
            r.extend(e);
        }
        api(&addr, req)
    };
    assert!(set(json!({"action": "hold"})).get("error").is_none());
    let held = answer_reinvite(&ue, &ANSWER.replace("PCMA/8000\r\n", "PCMA/8000\r\na=recvonly\r\n"));
    assert!(body(&held).contains("a=sendonly") && !body(&held).contains("a=sendrecv"), "{held}");
    assert_eq!(state(), "hold");
    set(json!({"action": "hold"}));
    let resumed = answer_reinvite(&ue, ANSWER);
    assert!(body(&resumed).contains("a=sendrecv") && !body(&resumed).contains("a=sendonly"), "{resumed}");
    assert_eq!(state(), "start");
    let d = api(&addr, json!({"message": "dialog_get", "session_id": id}));
    let states: Vec<&str> = d["dialogs"][0]["event_list"].as_array().unwrap().iter().filter(|e| e["type"] == "state").filter_map(|e| e["state"].as_str()).collect();
    assert!(states.windows(2).any(|w| w == ["hold", "start"]), "event_list states {states:?}");

    // reinvite with sdp_file: the file's PCMA at 40 ms on ringcore's own port and address.
    let file = core.dir.join("pcma.sdp");
    std::fs::write(&file, "v=0\no=lab 7 7 IN IP4 192.0.2.7\ns=file\nc=IN IP4 192.0.2.7\nt=0 0\nm=audio 5000 RTP/AVP 8\na=rtpmap:8 PCMA/8000\na=ptime:40\n").unwrap();
    let bad = set(json!({"action": "reinvite", "sdp_file": core.dir.join("missing.sdp").display().to_string()}));
    assert!(bad["error"].as_str().is_some_and(|e| e.contains("cannot read")), "{bad}");
    let bad = set(json!({"action": "hold", "sdp_file": file.display().to_string()}));
    assert!(bad["error"].as_str().is_some_and(|e| e.contains("sdp_file")), "{bad}");
    assert!(set(json!({"action": "reinvite", "sdp_file": file.display().to_string()})).get("error").is_none());
    let re = answer_reinvite(&ue, &ANSWER.replace(" 0 8\r\n", " 8\r\n"));
    let sdp = body(&re);
    assert!(sdp.contains(&format!("m=audio {ours} RTP/AVP 8\r\n")) && sdp.contains("a=ptime:40") && !sdp.contains("AMR"), "{re}");
    assert!(sdp.contains("c=IN IP4 127.0.0.1") && !sdp.contains("192.0.2.7"), "ringcore's o=/c=: {re}");

    // downgrade: no video on this call; the audio goes to port 0.
    let bad = set(json!({"action": "downgrade", "media": "video"}));
    assert!(bad["error"].as_str().is_some_and(|e| e.contains("no active video")), "{bad}");
    set(json!({"action": "downgrade", "media": "audio"}));
    let down = answer_reinvite(&ue, &ANSWER.replace("m=audio 40000", "m=audio 0"));
    assert_eq!(port(&down, "audio"), "0", "{down}");

    // stop with code, reason and protocol: the BYE carries the Reason (RFC 3326).
    let bad = set(json!({"action": "stop", "code": 42}));
    assert!(bad["error"].as_str().is_some_and(|e| e.contains("cause")), "{bad}");
    assert!(set(json!({"action": "stop", "code": 480, "reason": "operator stop", "reason_protocol": "SIP"})).get("error").is_none());
    let (bye, from) = recv(&ue);
    assert!(bye.starts_with("BYE "), "{bye}");
    assert_eq!(header_line(&bye, "Reason:").trim(), "Reason: SIP;cause=480;text=\"operator stop\"", "{bye}");
    ue.send_to(respond(&bye, "200 OK", None, "", "").as_bytes(), from).unwrap();
    assert_eq!(state(), "stop");

    // stop before the answer: CANCEL with the Reason (RFC 3261 9.1, after the 180), then 487.
    let r = api(&addr, json!({"message": "mt_call", "impu": format!("sip:ue@{DOMAIN}")}));
    let id2 = r["session_id"].as_str().unwrap_or_else(|| panic!("{r}")).to_owned();
    let (invite, from) = recv(&ue);
    ue.send_to(respond(&invite, "180 Ringing", Some("ue2"), &format!("Contact: <sip:ue@{l}>\r\n"), "").as_bytes(), from).unwrap();
    let stop = json!({"message": "dialog_set", "session_id": id2, "action": "stop", "code": 19, "reason_protocol": "Q.850"});
    assert!(api(&addr, stop).get("error").is_none());
    let (cancel, from) = recv(&ue);
    assert!(cancel.starts_with("CANCEL ") && header_line(&cancel, "Via:") == header_line(&invite, "Via:"), "{cancel}");
    assert_eq!(header_line(&cancel, "Reason:").trim(), "Reason: Q.850;cause=19", "{cancel}");
    ue.send_to(respond(&cancel, "200 OK", None, "", "").as_bytes(), from).unwrap();
    ue.send_to(respond(&invite, "487 Request Terminated", Some("ue2"), "", "").as_bytes(), from).unwrap();
    assert!(recv(&ue).0.starts_with("ACK "), "the 487 is acknowledged");
    let d = api(&addr, json!({"message": "dialog_get", "session_id": id2}));
    assert_eq!(d["dialogs"][0]["state"].as_str(), Some("stop"), "{d}");

    if let Some(c) = cap.as_mut() {
        c.stop();
        let fields = ["sip.Method", "sip.reason_cause_sip", "sip.reason_text", "sdp.media.port"];
        let (bad, decoded) = tshark_check(&pcap, &fields);
        assert!(bad.is_empty(), "tshark flags: {bad}");
        assert!(decoded.lines().any(|l| l.starts_with("BYE\t") && l.contains("\t480\t") && l.contains("\toperator stop")), "{decoded}");
        assert!(decoded.lines().any(|l| l.starts_with("INVITE\t") && l.ends_with("\t0")), "port 0 offer decoded: {decoded}");
        let (_, q850) = tshark_check(&pcap, &["sip.Method", "sip.reason_protocols", "sip.reason_cause_q850"]);
        assert!(q850.lines().any(|l| l.starts_with("CANCEL\tQ.850") && l.contains("\t19")), "{q850}");
    }
}
