//! Video calls to the echo service with real RTP: a registered SIPp UE calls
//! the echo IMPU offering PCMU audio and H.264 video (TS 26.114 5.2.2), each
//! from its own RTP socket of the test. The 200 answers both streams on two
//! port pairs; RTP sent to each port comes back, exactly as many packets, to
//! the socket of that stream only (RFC 4961 symmetric RTP), and dialog_get
//! lists both streams with their counts; after the BYE neither port echoes
//! any more.

mod common;
use common::{api, free_port, sipp, spawn_sipp, test_file, Core};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

/// RTP packets per stream: video (PT 96, H.264) and audio (PT 0, PCMU).
const VIDEO_PACKETS: u16 = 40;
const AUDIO_PACKETS: u16 = 25;
const VIDEO_SSRC: u32 = 0x7669_6430;
const AUDIO_SSRC: u32 = 0x6175_6430;

/// An RTP packet (RFC 3550 5.1): version 2, payload type `pt`, `len` payload bytes.
fn rtp(pt: u8, seq: u16, ssrc: u32, len: usize) -> Vec<u8> {
    let mut p = vec![0x80, pt];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 3000).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend(std::iter::repeat((seq & 0xff) as u8).take(len));
    p
}

/// The (payload type, SSRC, sequence number) of every packet `s` receives until it
/// has been quiet for `quiet`.
fn drain(s: &UdpSocket, quiet: Duration) -> Vec<(u8, u32, u16)> {
    s.set_read_timeout(Some(quiet)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok((n, _)) = s.recv_from(&mut buf) {
        if n >= 12 {
            let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
            got.push((buf[1] & 0x7f, ssrc, u16::from_be_bytes([buf[2], buf[3]])));
        }
    }
    got
}

/// The `ports audio=A video=V call=ID` line the SIPp scenario logs once answered.
fn logged_ports(log: &std::path::Path, sipp: &mut std::process::Child) -> (u16, u16, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("ports audio=")) {
            let field = |k: &str| line.split(k).nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or("").to_owned();
            return (field("audio=").parse().expect("audio port"), field("video=").parse().expect("video port"), field("call="));
        }
        assert!(sipp.try_wait().expect("sipp status").is_none(), "SIPp ended before the answer (see {})", log.display());
        assert!(Instant::now() < deadline, "no answer logged in {}", log.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The INFO that lets the SIPp UE go on to its BYE (SIPp matches it by Call-ID).
fn release_sipp(sipp_port: u16, call_id: &str) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let l = s.local_addr().unwrap();
    let info = format!(
        "INFO sip:vue@127.0.0.1:{sipp_port} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKvinfo\r\nMax-Forwards: 70\r\n\
         From: <sip:test@{DOMAIN}>;tag=t1\r\nTo: <sip:vue@{DOMAIN}>;tag=t2\r\nCall-ID: {call_id}\r\nCSeq: 1 INFO\r\nContent-Length: 0\r\n\r\n"
    );
    s.send_to(info.as_bytes(), ("127.0.0.1", sipp_port)).unwrap();
}

#[test]
fn sipp_video_call_to_the_echo_loops_audio_and_video_back_on_their_own_ports() {
    let api_port = free_port();
    let users = format!(
        "echo: [\"sip:echo\"],\n com_addr: \"127.0.0.1:{api_port}\",\n\
         ue_db: [ {{ imsi: \"001010000000961\", impi: \"vue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:vue\"] }} ],\n"
    );
    let core = Core::start("video-echo", &users);
    let api_addr = format!("127.0.0.1:{api_port}");
    let target = core.sip.to_string();
    let audio = UdpSocket::bind("127.0.0.1:0").unwrap();
    let video = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (aport, vport) = (audio.local_addr().unwrap().port().to_string(), video.local_addr().unwrap().port().to_string());
    let sipp_port = free_port().to_string();

    // The UE registers, then calls from the same SIP port.
    let reg = test_file("sipp/reg_ue.xml");
    let args = ["-sf", reg.to_str().unwrap(), "-key", "user", "vue", "-key", "contact_port", &sipp_port, "-m", "1", "-i", "127.0.0.1", "-nostdin", "-trace_err", &target];
    let (ok, out) = sipp(&args, &core.dir);
    assert!(ok, "registration failed:\n{out}");
    let log = core.dir.join("video_echo.log");
    let sf = test_file("sipp/video_echo_uac.xml");
    let keys = ["-sf", sf.to_str().unwrap(), "-key", "user", "vue", "-key", "callee", "echo", "-key", "aport", &aport, "-key", "vport", &vport];
    let rest = ["-m", "1", "-i", "127.0.0.1", "-p", &sipp_port, "-nostdin", "-trace_err", "-trace_logs", "-log_file", log.to_str().unwrap(), &target];
    let mut uac = spawn_sipp(60, &[&keys[..], &rest[..]].concat(), &core.dir);
    let (a_echo, v_echo, call_id) = logged_ports(&log, &mut uac);
    assert_ne!(a_echo, v_echo, "each stream has its own port pair");
    let a_dst = SocketAddr::from(([127, 0, 0, 1], a_echo));
    let v_dst = SocketAddr::from(([127, 0, 0, 1], v_echo));

    // Interleaved video (1,000-byte H.264 payloads) and audio (160-byte PCMU frames).
    for seq in 0..VIDEO_PACKETS {
        video.send_to(&rtp(96, seq, VIDEO_SSRC, 1000), v_dst).unwrap();
        if seq < AUDIO_PACKETS {
            audio.send_to(&rtp(0, seq, AUDIO_SSRC, 160), a_dst).unwrap();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let v_back = drain(&video, Duration::from_millis(800));
    let a_back = drain(&audio, Duration::from_millis(300));
    let want = |pt: u8, ssrc: u32, n: u16| (0..n).map(|s| (pt, ssrc, s)).collect::<Vec<_>>();
    assert_eq!(v_back, want(96, VIDEO_SSRC, VIDEO_PACKETS), "every video packet back, on the video socket only");
    assert_eq!(a_back, want(0, AUDIO_SSRC, AUDIO_PACKETS), "every audio packet back, on the audio socket only");
    // dialog_get (session id: the Call-ID) lists both streams with their own counts.
    let d = api(&api_addr, serde_json::json!({"message": "dialog_get", "session_id": call_id}));
    let medias = d["dialogs"][0]["medias"].as_array().unwrap_or_else(|| panic!("{d}")).clone();
    let row = |m: &serde_json::Value| (m["type"].as_str().unwrap_or("").to_owned(), m["rtp_local_addr"].as_str().unwrap_or("").to_owned(), m["rtp_recv_count"].as_u64(), m["rtp_send_count"].as_u64());
    let (na, nv) = (Some(u64::from(AUDIO_PACKETS)), Some(u64::from(VIDEO_PACKETS)));
    assert_eq!(medias.iter().map(row).collect::<Vec<_>>(), vec![("audio".into(), a_dst.to_string(), na, na), ("video".into(), v_dst.to_string(), nv, nv)], "{d}");

    release_sipp(sipp_port.parse().unwrap(), &call_id);
    let status = uac.wait().expect("sipp exit");
    let errors = std::fs::read_dir(&core.dir).unwrap().filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().ends_with("_errors.log"));
    let errors: Vec<String> = errors.map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect();
    assert!(status.success(), "the SIPp call (INFO, BYE) failed: {errors:?}");

    // BYE freed both ports: nothing is echoed any more.
    for seq in 0..5 {
        video.send_to(&rtp(96, 100 + seq, VIDEO_SSRC, 1000), v_dst).unwrap();
        audio.send_to(&rtp(0, 100 + seq, AUDIO_SSRC, 160), a_dst).unwrap();
    }
    assert!(drain(&video, Duration::from_millis(600)).is_empty(), "the video loop is gone after BYE");
    assert!(drain(&audio, Duration::from_millis(200)).is_empty(), "the audio loop is gone after BYE");
    // dialog_get shows the stopped dialog with its counters at the stop.
    let d = api(&api_addr, serde_json::json!({"message": "dialog_get", "session_id": call_id}));
    assert_eq!(d["dialogs"][0]["state"], "stop", "{d}");
    let medias = d["dialogs"][0]["medias"].as_array().unwrap_or_else(|| panic!("{d}")).clone();
    assert_eq!(medias.iter().map(row).collect::<Vec<_>>(), vec![("audio".into(), a_dst.to_string(), na, na), ("video".into(), v_dst.to_string(), nv, nv)], "{d}");
}

