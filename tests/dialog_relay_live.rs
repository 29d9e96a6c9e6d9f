//! dialog_get and dialog_set on a relayed call between two scripted UEs (audio and
//! video anchored), through `ringcore api` (the command-line remote API client):
//! medias count the relayed RTP, the event list tells the call, `media` off blocks
//! the relay both ways, `hold` re-INVITEs both UEs with a=sendonly and the dialog
//! shows `hold` once the caller answers recvonly (a second `hold` resumes), `downgrade` offers the video at
//! port 0 (RFC 3264 8.2) and `reinvite` re-offers the current SDP; every 2xx is
//! acknowledged by ringcore; `stop` with code/reason/reason_protocol puts a Reason
//! header (RFC 3326) on the BYE of each leg.

mod common;
use common::{api, free_port, header_line, recv_sip as recv, register_open_ue, respond, Core};
use serde_json::Value;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

fn sock() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    s
}

/// An offer or answer with audio on `port` and video on `port + 2`; `dir` added at session level.
fn sdp(port: u16, version: u32, dir: &str) -> String {
    format!(
        "v=0\r\no=ue 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n{dir}m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         m=video {} RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n",
        port + 2
    )
}

/// The address of the audio section of the SDP in `m`.
fn audio_addr(m: &str) -> SocketAddr {
    let body = &m[m.find("\r\n\r\n").unwrap() + 4..];
    let port = body.lines().find_map(|l| l.strip_prefix("m=audio ")).and_then(|r| r.split(' ').next()).unwrap();
    format!("127.0.0.1:{port}").parse().unwrap()
}

fn rtp(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 1, 2, 3, 4]);
    p.extend(std::iter::repeat(0x55).take(160));
    p
}


fn dialog(addr: &str, id: &str) -> Value {
    let r = api(addr, serde_json::json!({"message": "dialog_get", "session_id": id}));
    r["dialogs"][0].clone()
}

/// Sends `n` RTP packets from `from` to `to` and counts those `at` receives.
fn relayed(from: &UdpSocket, to: SocketAddr, at: &UdpSocket, n: u16) -> usize {
    let mut buf = [0u8; 2048];
    (0..n).filter(|&seq| from.send_to(&rtp(seq), to).is_ok() && at.recv_from(&mut buf).is_ok()).count()
}

/// The UE answers a re-INVITE 200 with `answer` and gets ringcore's ACK.
fn answer_reinvite(ue: &UdpSocket, answer: &str) -> String {
    let (inv, from) = recv(ue);
    assert!(inv.starts_with("INVITE "), "{inv}");
    let ok = respond(&inv, "200 OK", None, "", answer);
    ue.send_to(ok.as_bytes(), from).unwrap();
    let (ack, _) = recv(ue);
    assert!(ack.starts_with("ACK ") && header_line(&ack, "CSeq:") == header_line(&inv, "CSeq:").replace("INVITE", "ACK"), "{ack}");
    inv
}

#[test]
fn relayed_call_medias_events_media_switch_hold_downgrade_and_reinvite() {
    let api_port = free_port();
    let u = |n: &str, imsi: &str| format!("{{ imsi: \"{imsi}\", impi: \"{n}@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:{n}\"] }},");
    let body = format!("ue_db: [ {} {} ],\ncom_addr: \"127.0.0.1:{api_port}\",\n", u("alice", "001010000000911"), u("bob", "001010000000912"));
    let core = Core::start("dialog-relay", &body);
    let addr = format!("127.0.0.1:{api_port}");
    let b_sip = register_open_ue(core.sip, "bob", DOMAIN);
    let (a_sip, a_rtp, b_rtp) = (sock(), sock(), sock());
    a_sip.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (la, lb) = (a_sip.local_addr().unwrap(), b_sip.local_addr().unwrap());
    let (pa_ue, pb_ue) = (a_rtp.local_addr().unwrap().port(), b_rtp.local_addr().unwrap().port());

    let offer = sdp(pa_ue, 1, "");
    let invite = format!(
        "INVITE sip:bob@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {la};branch=z9hG4bKdr1\r\nMax-Forwards: 70\r\nFrom: <sip:alice@{DOMAIN}>;tag=a\r\n\
         To: <sip:bob@{DOMAIN}>\r\nCall-ID: dlg-relay-1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@{la}>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{offer}",
        offer.len()
    );
    a_sip.send_to(invite.as_bytes(), core.sip).unwrap();
    let (b_inv, from) = recv(&b_sip);
    let pb = audio_addr(&b_inv);
    let ok = respond(&b_inv, "200 OK", Some("bb"), &format!("Contact: <sip:bob@{lb}>\r\n"), &sdp(pb_ue, 1, ""));
    b_sip.send_to(ok.as_bytes(), from).unwrap();
    let mut a_ok = recv(&a_sip).0;
    while a_ok.starts_with("SIP/2.0 1") {
        a_ok = recv(&a_sip).0;
    }
    let pa = audio_addr(&a_ok);
    assert!(recv(&b_sip).0.starts_with("ACK "));
    let ack = format!(
        "ACK sip:ringcore@{} SIP/2.0\r\nVia: SIP/2.0/UDP {la};branch=z9hG4bKdr1a\r\nMax-Forwards: 70\r\nFrom: <sip:alice@{DOMAIN}>;tag=a\r\n\
         {}\r\nCall-ID: dlg-relay-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
        core.sip,
        header_line(&a_ok, "To:")
    );
    a_sip.send_to(ack.as_bytes(), core.sip).unwrap();

    // medias: the caller's side of the relay counts what it received and sent.
    assert_eq!(relayed(&a_rtp, pa, &b_rtp, 10), 10);
    assert_eq!(relayed(&b_rtp, pb, &a_rtp, 10), 10);
    let d = dialog(&addr, "dlg-relay-1");
    assert_eq!((d["type"].as_str(), d["state"].as_str()), (Some("server"), Some("start")), "{d}");
    let m = &d["medias"];
    assert_eq!((m[0]["type"].as_str(), m[1]["type"].as_str()), (Some("audio"), Some("video")), "{d}");
    assert_eq!((m[0]["rtp_recv_count"].as_u64(), m[0]["rtp_send_count"].as_u64()), (Some(10), Some(10)), "{d}");
    assert_eq!(m[0]["rtp_addr"].as_str(), Some(a_rtp.local_addr().unwrap().to_string().as_str()), "latched caller address: {d}");
    let events: Vec<(String, String)> =
        d["event_list"].as_array().unwrap().iter().map(|e| (e["type"].as_str().unwrap().into(), e["message"].as_str().unwrap_or("").into())).collect();
    for e in [("recv", "INVITE"), ("send", "INVITE"), ("recv", "200 INVITE"), ("send", "200 INVITE"), ("send", "ACK"), ("recv", "ACK")] {
        assert!(events.contains(&(e.0.into(), e.1.into())), "{e:?} missing from {events:?}");
    }
    // users_get: each party's dialog names the other's IMPI.
    let users = api(&addr, serde_json::json!({"message": "users_get"}));
    let dialogs_of = |impi: &str| users["users"].as_array().unwrap().iter().find(|u| u["impi"] == impi).map(|u| u["dialogs"].clone());
    assert_eq!(dialogs_of(&format!("alice@{DOMAIN}")).and_then(|d| d[0]["remote"].as_str().map(str::to_owned)), Some(format!("bob@{DOMAIN}")), "{users}");
    assert_eq!(dialogs_of(&format!("bob@{DOMAIN}")).and_then(|d| d[0]["remote"].as_str().map(str::to_owned)), Some(format!("alice@{DOMAIN}")), "{users}");

    // media off: nothing relayed either way; on again: relayed.
    let off = api(&addr, serde_json::json!({"message": "dialog_set", "session_id": "dlg-relay-1", "action": "media"}));
    assert!(off.get("error").is_none(), "{off}");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(relayed(&a_rtp, pa, &b_rtp, 3) + relayed(&b_rtp, pb, &a_rtp, 3), 0, "media off blocks the relay");
    api(&addr, serde_json::json!({"message": "dialog_set", "session_id": "dlg-relay-1", "action": "media", "rtp": true, "rtcp": true}));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(relayed(&a_rtp, pa, &b_rtp, 3), 3, "media on relays again");

    // hold: both UEs get a=sendonly; the caller's recvonly answer shows hold.
    api(&addr, serde_json::json!({"message": "dialog_set", "session_id": "dlg-relay-1", "action": "hold"}));
    let a_hold = answer_reinvite(&a_sip, &sdp(pa_ue, 2, "a=recvonly\r\n"));
    let b_hold = answer_reinvite(&b_sip, &sdp(pb_ue, 2, "a=recvonly\r\n"));
    assert!(a_hold.contains("a=sendonly") && b_hold.contains("a=sendonly"), "{a_hold}\n{b_hold}");
    assert_eq!(audio_addr(&a_hold), pa, "the hold keeps ringcore's port facing the caller");
    assert_eq!(dialog(&addr, "dlg-relay-1")["state"].as_str(), Some("hold"));
    // hold again: unhold (seed 000 "hold or unhold"), a=sendrecv to both.
    api(&addr, serde_json::json!({"message": "dialog_set", "session_id": "dlg-relay-1", "action": "hold"}));
    let a_unhold = answer_reinvite(&a_sip, &sdp(pa_ue, 3, ""));
    let b_unhold = answer_reinvite(&b_sip, &sdp(pb_ue, 3, ""));
    assert!(a_unhold.contains("a=sendrecv") && b_unhold.contains("a=sendrecv"), "{a_unhold}\n{b_unhold}");
    assert_eq!(dialog(&addr, "dlg-relay-1")["state"].as_str(), Some("start"));

    // downgrade: the video section at port 0 towards both UEs (RFC 3264 8.2).
    api(&addr, serde_json::json!({"message": "dialog_set", "session_id": "dlg-relay-1", "action": "downgrade", "media": "video"}));
    let a_down = answer_reinvite(&a_sip, &sdp(pa_ue, 4, ""));
    let b_down = answer_reinvite(&b_sip, &sdp(pb_ue, 4, ""));
    assert!(a_down.contains("m=video 0 ") && b_down.contains("m=video 0 ") && a_down.contains("a=sendrecv"), "{a_down}\n{b_down}");

    // reinvite: the caller gets the current SDP again, with a new version (RFC 3264 8).
    api(&addr, serde_json::json!({"message": "dialog_set", "session_id": "dlg-relay-1", "action": "reinvite"}));
    let a_re = answer_reinvite(&a_sip, &sdp(pa_ue, 5, ""));
    assert!(a_re.contains("m=video 0 ") && audio_addr(&a_re) == pa, "{a_re}");
    let version = |m: &str| m.lines().find_map(|l| l.strip_prefix("o=")).map(|o| o.split(' ').nth(2).unwrap_or("").to_owned());
    assert_ne!(version(&a_re), version(&a_down), "a new offer increments the version");
    let d = dialog(&addr, "dlg-relay-1");
    assert_eq!(d["medias"][1]["dir"].as_str(), Some("sendrecv"), "{d}");
    let unknown = api(&addr, serde_json::json!({"message": "dialog_set", "session_id": "nope", "action": "reinvite"}));
    assert!(unknown["error"].as_str().is_some_and(|e| e.contains("Unknown dialog")), "{unknown}");

    // stop: BYE on both legs; the dialog stays listed in state stop with its final counters.
    let before = dialog(&addr, "dlg-relay-1")["medias"][0].clone();
    let stop = serde_json::json!({"message": "dialog_set", "session_id": "dlg-relay-1", "action": "stop", "code": 16, "reason": "normal clearing", "reason_protocol": "Q.850"});
    api(&addr, stop);
    for ue in [&a_sip, &b_sip] {
        let (bye, from) = recv(ue);
        assert!(bye.starts_with("BYE "), "{bye}");
        // RFC 3326: the stop's code, reason and reason_protocol on both legs.
        assert_eq!(header_line(&bye, "Reason:").trim(), "Reason: Q.850;cause=16;text=\"normal clearing\"", "{bye}");
        ue.send_to(respond(&bye, "200 OK", None, "", "").as_bytes(), from).unwrap();
    }
    let d = dialog(&addr, "dlg-relay-1");
    assert_eq!(d["state"].as_str(), Some("stop"), "{d}");
    assert_eq!(d["medias"][0]["rtp_recv_count"], before["rtp_recv_count"], "{d}");
    assert_eq!(d["event_list"].as_array().and_then(|l| l.last()).map(|e| e["state"].clone()), Some("stop".into()), "{d}");
}
