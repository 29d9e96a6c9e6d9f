//! ue_db_filename: registrations and SQNs survive a crash (SIGKILL after the
//! periodic save) and a restart, with the remaining expiry recomputed.

mod common;
use common::Core;
use std::net::UdpSocket;
use std::time::Duration;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

fn body(state: &str) -> String {
    format!(
        "ue_db_filename: \"{state}\",\n ue_db: [ {{ imsi: \"001010000000009\", impi: \"open@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:open\", \"tel:+3312\"] }} ],\n"
    )
}

fn exchange(sock: &UdpSocket, to: std::net::SocketAddr, msg: &str) -> String {
    sock.send_to(msg.as_bytes(), to).unwrap();
    let mut buf = vec![0u8; 65536];
    let (n, _) = sock.recv_from(&mut buf).expect("answer");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn registrations_survive_a_crash_and_restart() {
    let state = std::env::temp_dir().join(format!("ringcore-state-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&state);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let l = sock.local_addr().unwrap();
    let contact = format!("sip:open@{l}");
    {
        let core = Core::start("persist-a", &body(&state.display().to_string()));
        let reg = format!(
            "REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKp1\r\nMax-Forwards: 70\r\nFrom: <sip:open@{DOMAIN}>;tag=1\r\n\
             To: <sip:open@{DOMAIN}>\r\nCall-ID: p1\r\nCSeq: 1 REGISTER\r\nContact: <{contact}>;+g.3gpp.smsip\r\nExpires: 300\r\nContent-Length: 0\r\n\r\n"
        );
        let r = exchange(&sock, core.sip, &reg);
        assert!(r.starts_with("SIP/2.0 200"), "{r}");
        // Past the periodic save, then a crash (Core's drop sends SIGKILL).
        std::thread::sleep(Duration::from_millis(2500));
        assert!(state.exists(), "the state file was not written");
    }
    let core = Core::start("persist-b", &body(&state.display().to_string()));
    let sub = format!(
        "SUBSCRIBE sip:open@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKs1\r\nMax-Forwards: 70\r\nFrom: <sip:open@{DOMAIN}>;tag=2\r\n\
         To: <sip:open@{DOMAIN}>\r\nCall-ID: s1\r\nCSeq: 1 SUBSCRIBE\r\nContact: <sip:w@{l}>\r\nEvent: reg\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n"
    );
    sock.send_to(sub.as_bytes(), core.sip).unwrap();
    let mut buf = vec![0u8; 65536];
    let mut notify = None;
    for _ in 0..4 {
        let (n, _) = sock.recv_from(&mut buf).expect("200 and NOTIFY");
        let m = String::from_utf8_lossy(&buf[..n]).into_owned();
        if m.starts_with("NOTIFY") {
            notify = Some(m);
            break;
        }
    }
    let notify = notify.expect("a NOTIFY");
    assert!(notify.contains(&format!("<uri>{contact}</uri>")), "{notify}");
    let expires: u32 = notify.split("expires=\"").nth(1).and_then(|s| s.split('"').next()).and_then(|s| s.parse().ok()).unwrap();
    assert!((280..=300).contains(&expires), "remaining expiry recomputed, got {expires}");
    let _ = std::fs::remove_file(&state);
}
