//! Network-initiated calls: the monitor's `mt_call IMPU DURATION` makes
//! ringcore call a registered UE with its own SDP offer; the UE's RTP is
//! echoed by a worker, and ringcore hangs up with BYE after the duration.
//! With an audio and video `mt_call_sdp_file`, each stream is offered and
//! looped back on its own port pair, and dialog_get lists both.

mod common;
use common::{api, backend, free_port, recv_sip as recv, respond, scratch_dir, Proc};
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

/// The port of the `m=<kind>` line of SDP `body`.
fn m_port(body: &str, kind: &str) -> u16 {
    body.lines().find_map(|x| x.strip_prefix(&format!("m={kind} "))).and_then(|r| r.split(' ').next()).and_then(|p| p.parse().ok()).expect("m= line")
}

/// Sends `n` RTP packets (payload type `pt`, SSRC `ssrc`) from `s` to `dst`; the
/// sequence numbers of those that come back (RFC 3550 5.1 header fields checked).
fn echo_count(s: &UdpSocket, dst: SocketAddr, pt: u8, ssrc: u32, n: u16) -> Vec<u16> {
    for seq in 0..n {
        let mut pkt = vec![0x80, pt];
        pkt.extend_from_slice(&seq.to_be_bytes());
        pkt.extend_from_slice(&[0, 0, 0, 0]);
        pkt.extend_from_slice(&ssrc.to_be_bytes());
        pkt.extend(std::iter::repeat(0x5a).take(if pt == 96 { 1000 } else { 160 }));
        s.send_to(&pkt, dst).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut back = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok((len, _)) = s.recv_from(&mut buf) {
        assert!(len >= 12 && buf[1] & 0x7f == pt && buf[8..12] == ssrc.to_be_bytes(), "a packet of another stream came back: {:?}", &buf[..len.min(12)]);
        back.push(u16::from_be_bytes([buf[2], buf[3]]));
    }
    back
}

/// An `mt_call_sdp_file` with audio and H.264 video: ringcore offers both, each on
/// its own port pair; the UE's RTP on each comes back to the socket of that stream,
/// all of it, and dialog_get lists both streams; after the duration's BYE neither
/// port echoes.
#[test]
fn mt_video_call_loops_audio_and_video_back_on_their_own_ports() {
    let dir = scratch_dir("mtcall-video");
    let av = dir.join("av.sdp");
    std::fs::write(
        &av,
        "v=0\r\no=lab 1 1 IN IP4 192.0.2.1\r\ns=av\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42C00C;packetization-mode=1\r\n",
    )
    .unwrap();
    let api_port = free_port();
    let cfg = format!(
        "mt_call_sdp_file: \"{}\",\n com_addr: \"127.0.0.1:{api_port}\",\n\
         ue_db: [ {{ imsi: \"001010000000952\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }} ],\n",
        av.display()
    );
    let core = common::Core::start("mtcall-video-core", &cfg);
    let addr = format!("127.0.0.1:{api_port}");
    let ue = common::register_open_ue(core.sip, "ue", DOMAIN);
    let l = ue.local_addr().unwrap();
    let r = api(&addr, serde_json::json!({"message": "mt_call", "impu": format!("sip:ue@{DOMAIN}"), "duration": 3}));
    let id = r["session_id"].as_str().unwrap_or_else(|| panic!("{r}")).to_owned();

    let (invite, from) = recv(&ue);
    assert!(invite.starts_with("INVITE "), "{invite}");
    let body = &invite[invite.find("\r\n\r\n").unwrap() + 4..];
    let ip = body.lines().find_map(|x| x.strip_prefix("c=IN IP4 ")).unwrap().trim();
    let (a_port, v_port) = (m_port(body, "audio"), m_port(body, "video"));
    assert!(a_port != 0 && v_port != 0 && a_port != v_port, "two port pairs: {body}");
    assert!(body.contains("a=rtpmap:96 H264/90000") && !body.contains("192.0.2.1"), "the file's media, our address: {body}");
    let audio = UdpSocket::bind("127.0.0.1:0").unwrap();
    let video = UdpSocket::bind("127.0.0.1:0").unwrap();
    let answer = format!(
        "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         m=video {} RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
        audio.local_addr().unwrap().port(),
        video.local_addr().unwrap().port()
    );
    let ok = respond(&invite, "200 OK", Some("ue1"), &format!("Contact: <sip:ue@{l}>\r\n"), &answer);
    ue.send_to(ok.as_bytes(), from).unwrap();
    let (ack, _) = recv(&ue);
    assert!(ack.starts_with("ACK "), "{ack}");
    let a_dst: SocketAddr = format!("{ip}:{a_port}").parse().unwrap();
    let v_dst: SocketAddr = format!("{ip}:{v_port}").parse().unwrap();
    assert_eq!(echo_count(&video, v_dst, 96, 0x7669_6431, 30), (0..30).collect::<Vec<u16>>(), "every video packet back on the video socket");
    assert_eq!(echo_count(&audio, a_dst, 0, 0x6175_6431, 20), (0..20).collect::<Vec<u16>>(), "every audio packet back on the audio socket");
    // dialog_get lists both streams, each with its local port and its own packet counts.
    let d = api(&addr, serde_json::json!({"message": "dialog_get", "session_id": id}));
    let medias = d["dialogs"][0]["medias"].as_array().unwrap_or_else(|| panic!("{d}")).clone();
    let row = |m: &serde_json::Value| (m["type"].as_str().unwrap_or("").to_owned(), m["rtp_local_addr"].as_str().unwrap_or("").to_owned(), m["rtp_recv_count"].as_u64());
    let rows: Vec<_> = medias.iter().map(row).collect();
    assert_eq!(rows, vec![("audio".to_owned(), a_dst.to_string(), Some(20)), ("video".to_owned(), v_dst.to_string(), Some(30))], "{d}");

    let (bye, from) = recv(&ue);
    assert!(bye.starts_with("BYE "), "ringcore hangs up after the duration: {bye}");
    ue.send_to(respond(&bye, "200 OK", None, "", "").as_bytes(), from).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(echo_count(&video, v_dst, 96, 0x7669_6431, 3).is_empty(), "the video loop is removed");
    assert!(echo_count(&audio, a_dst, 0, 0x6175_6431, 3).is_empty(), "the audio loop is removed");
}

