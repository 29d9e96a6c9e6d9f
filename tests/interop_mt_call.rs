//! Network-initiated calls: the monitor's `mt_call IMPU DURATION` makes
//! ringcore call a registered UE with its own SDP offer; the UE's RTP is
//! echoed by a worker, and ringcore hangs up with BYE after the duration.

mod common;
use common::{backend, free_port, recv_sip as recv, respond, scratch_dir, Proc};
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";


#[test]
fn monitor_mt_call_rings_the_ue_echoes_its_media_and_hangs_up() {
    let dir = scratch_dir("mtcall");
    let port = free_port();
    let sip_addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let cfg = dir.join("ims.cfg");
    std::fs::write(
        &cfg,
        format!(
            "{{ sip_addr: {{ addr: \"{sip_addr}\", port_min: 42000, port_max: 42999 }}, domain: \"{DOMAIN}\", log_filename: \"{}\",\n\
             engine: {{ backend: \"{}\", workers: 1 }},\n\
             ue_db: [ {{ imsi: \"001010000000951\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }} ] }}\n",
            dir.join("ims.log").display(),
            backend()
        ),
    )
    .unwrap();
    let mut core = Proc(
        Command::new(env!("CARGO_BIN_EXE_ringcore"))
            .arg(&cfg)
            .arg("--monitor")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ringcore"),
    );
    let ue = common::register_open_ue(sip_addr, "ue", DOMAIN);
    let l = ue.local_addr().unwrap();
    writeln!(core.0.stdin.as_mut().unwrap(), "mt_call sip:ue@{DOMAIN} 1").unwrap();

    let (invite, from) = recv(&ue);
    assert!(invite.starts_with(&format!("INVITE sip:ue@{l} SIP/2.0")), "{invite}");
    let body = &invite[invite.find("\r\n\r\n").unwrap() + 4..];
    let ip = body.lines().find_map(|x| x.strip_prefix("c=IN IP4 ")).unwrap().trim();
    let mport: u16 = body.lines().find_map(|x| x.strip_prefix("m=audio ")).and_then(|r| r.split(' ').next()).and_then(|p| p.parse().ok()).unwrap();
    assert!(body.contains("AMR-WB/16000"), "the offer has the VoLTE codecs: {body}");
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    media.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let answer = format!(
        "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        media.local_addr().unwrap().port()
    );
    let ok = respond(&invite, "200 OK", Some("ue1"), &format!("Contact: <sip:ue@{l}>\r\n"), &answer);
    ue.send_to(ok.as_bytes(), from).unwrap();
    let (ack, _) = recv(&ue);
    assert!(ack.starts_with("ACK "), "{ack}");
    let dst: SocketAddr = format!("{ip}:{mport}").parse().unwrap();
    let mut echoed = 0;
    let mut buf = [0u8; 2048];
    for seq in 0..10u8 {
        let pkt = [0x80, 0, 0, seq, 0, 0, 0, 0, 9, 9, 9, 9, seq, seq, seq];
        media.send_to(&pkt, dst).unwrap();
        if let Ok((n, _)) = media.recv_from(&mut buf) {
            assert_eq!(&buf[..n], &pkt);
            echoed += 1;
        }
    }
    assert_eq!(echoed, 10, "the UE's RTP is echoed");
    let (bye, from) = recv(&ue);
    assert!(bye.starts_with(&format!("BYE sip:ue@{l} SIP/2.0")), "ringcore hangs up after the duration: {bye}");
    let ok = respond(&bye, "200 OK", None, "", "");
    ue.send_to(ok.as_bytes(), from).unwrap();
}
