//! The echo service end to end: a UE calls the echo IMPU, gets an SDP answer,
//! sends RTP and RTCP to the answered port and receives every packet back
//! from the data-plane worker; BYE ends the call and the echo stops.

mod common;
use common::Core;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

fn body() -> String {
    format!(
        "echo: [\"sip:echo\", \"tel:666\"],\n ue_db: [ {{ imsi: \"001010000000801\", impi: \"ue@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:ue\"] }} ],\n"
    )
}

fn recv_text(sock: &UdpSocket) -> String {
    let mut buf = vec![0u8; 8192];
    let (n, _) = sock.recv_from(&mut buf).expect("answer");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn rtp(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(seq as u32 * 160).to_be_bytes());
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.extend(std::iter::repeat(0xd5).take(160));
    p
}

#[test]
fn echo_impu_answers_and_the_worker_echoes_rtp_and_rtcp() {
    let core = Core::start("echo", &body());
    let sip = UdpSocket::bind("127.0.0.1:0").unwrap();
    sip.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    media.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let rtcp = UdpSocket::bind(("127.0.0.1", media.local_addr().unwrap().port() + 1)).ok();
    let l = sip.local_addr().unwrap();
    let mport = media.local_addr().unwrap().port();
    let sdp = format!(
        "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {mport} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n"
    );
    let invite = format!(
        "INVITE sip:echo@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKe1\r\nMax-Forwards: 70\r\nFrom: <sip:ue@{DOMAIN}>;tag=u1\r\n\
         To: <sip:echo@{DOMAIN}>\r\nCall-ID: echo-1\r\nCSeq: 1 INVITE\r\nContact: <sip:ue@{l}>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    sip.send_to(invite.as_bytes(), core.sip).unwrap();
    let mut ok = recv_text(&sip);
    while ok.starts_with("SIP/2.0 1") {
        ok = recv_text(&sip);
    }
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    let body = &ok[ok.find("\r\n\r\n").unwrap() + 4..];
    assert!(body.contains("a=rtpmap:0 PCMU/8000"), "PCMU answered: {body}");
    let port: u16 = body.lines().find_map(|l| l.strip_prefix("m=audio ")).and_then(|r| r.split(' ').next()).and_then(|p| p.parse().ok()).expect("m=audio port");
    let ip = body.lines().find_map(|l| l.strip_prefix("c=IN IP4 ")).map(str::trim).expect("c= line");
    let to_tag = ok.lines().find(|l| l.starts_with("To:")).unwrap().to_owned();
    let ack = format!(
        "ACK sip:echo@{l} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKe2\r\nMax-Forwards: 70\r\nFrom: <sip:ue@{DOMAIN}>;tag=u1\r\n\
         {to_tag}\r\nCall-ID: echo-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    );
    sip.send_to(ack.as_bytes(), core.sip).unwrap();

    let dst: SocketAddr = format!("{ip}:{port}").parse().unwrap();
    let mut back = 0;
    let mut buf = [0u8; 2048];
    for seq in 0..50u16 {
        media.send_to(&rtp(seq), dst).unwrap();
        if let Ok((n, from)) = media.recv_from(&mut buf) {
            assert_eq!(from, dst, "echo comes from the answered port");
            assert_eq!(&buf[..n], &rtp(seq)[..], "the packet comes back unchanged");
            back += 1;
        }
    }
    assert_eq!(back, 50, "every RTP packet is echoed");
    if let Some(rtcp) = &rtcp {
        rtcp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let rr = [0x80u8, 201, 0, 1, 0x12, 0x34, 0x56, 0x78];
        rtcp.send_to(&rr, SocketAddr::new(dst.ip(), port + 1)).unwrap();
        let (n, _) = rtcp.recv_from(&mut buf).expect("RTCP echoed");
        assert_eq!(&buf[..n], &rr);
    }
    let bye = format!(
        "BYE sip:echo@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKe3\r\nMax-Forwards: 70\r\nFrom: <sip:ue@{DOMAIN}>;tag=u1\r\n\
         {to_tag}\r\nCall-ID: echo-1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    );
    sip.send_to(bye.as_bytes(), core.sip).unwrap();
    let r = recv_text(&sip);
    assert!(r.starts_with("SIP/2.0 200"), "{r}");
    std::thread::sleep(Duration::from_millis(300));
    media.send_to(&rtp(99), dst).unwrap();
    media.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    assert!(media.recv_from(&mut buf).is_err(), "no echo after BYE");
}

#[test]
fn malformed_sdp_gets_488_with_a_warning() {
    let core = Core::start("echo488", &body());
    let sip = UdpSocket::bind("127.0.0.1:0").unwrap();
    sip.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let l = sip.local_addr().unwrap();
    let sdp = "v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nm=audio notaport RTP/AVP 0\r\n";
    let invite = format!(
        "INVITE sip:echo@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {l};branch=z9hG4bKm1\r\nMax-Forwards: 70\r\nFrom: <sip:ue@{DOMAIN}>;tag=u1\r\n\
         To: <sip:echo@{DOMAIN}>\r\nCall-ID: echo-bad\r\nCSeq: 1 INVITE\r\nContact: <sip:ue@{l}>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    sip.send_to(invite.as_bytes(), core.sip).unwrap();
    let mut r = recv_text(&sip);
    while r.starts_with("SIP/2.0 1") {
        r = recv_text(&sip);
    }
    assert!(r.starts_with("SIP/2.0 488"), "{r}");
    assert!(r.contains("Warning: 399 ringcore \"SDP line 4"), "the Warning names the SDP line: {r}");
}
