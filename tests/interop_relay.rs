//! Media anchoring: a call between two UEs gets ringcore's address and ports
//! in both SDPs, and RTP flows through the worker's relay in both directions.

mod common;
use common::{recv_sip as recv, respond, Core};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";

fn body() -> String {
    let u = |n: &str, imsi: &str| format!("{{ imsi: \"{imsi}\", impi: \"{n}@{DOMAIN}\", authent_type: \"none\", impu: [\"sip:{n}\"] }},");
    format!("ue_db: [ {} {} ],\n", u("alice", "001010000000901"), u("bob", "001010000000902"))
}

fn sock() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn sdp_addr(m: &str) -> SocketAddr {
    let body = &m[m.find("\r\n\r\n").unwrap() + 4..];
    let ip = body.lines().find_map(|l| l.strip_prefix("c=IN IP4 ")).unwrap().trim();
    let port = body.lines().find_map(|l| l.strip_prefix("m=audio ")).and_then(|r| r.split(' ').next()).unwrap();
    format!("{ip}:{port}").parse().unwrap()
}

fn sdp(port: u16) -> String {
    format!("v=0\r\no=ue 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
}

fn rtp(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 1, 2, 3, 4]);
    p.extend(std::iter::repeat(0x55).take(160));
    p
}

#[test]
fn call_media_is_anchored_and_relayed_both_ways() {
    let core = Core::start("relay", &body());
    let (a_sip, b_sip, a_rtp, b_rtp) = (sock(), sock(), sock(), sock());
    let (la, lb) = (a_sip.local_addr().unwrap(), b_sip.local_addr().unwrap());
    let reg = format!(
        "REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {lb};branch=z9hG4bKrb\r\nMax-Forwards: 70\r\nFrom: <sip:bob@{DOMAIN}>;tag=b\r\n\
         To: <sip:bob@{DOMAIN}>\r\nCall-ID: rb\r\nCSeq: 1 REGISTER\r\nContact: <sip:bob@{lb}>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
    );
    b_sip.send_to(reg.as_bytes(), core.sip).unwrap();
    assert!(recv(&b_sip).0.starts_with("SIP/2.0 200"));

    let offer = sdp(a_rtp.local_addr().unwrap().port());
    let invite = format!(
        "INVITE sip:bob@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {la};branch=z9hG4bKa1\r\nMax-Forwards: 70\r\nFrom: <sip:alice@{DOMAIN}>;tag=a\r\n\
         To: <sip:bob@{DOMAIN}>\r\nCall-ID: relay-1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@{la}>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{offer}",
        offer.len()
    );
    a_sip.send_to(invite.as_bytes(), core.sip).unwrap();
    let (b_inv, from) = recv(&b_sip);
    assert!(b_inv.starts_with(&format!("INVITE sip:bob@{lb} SIP/2.0")), "{b_inv}");
    let pb = sdp_addr(&b_inv);
    assert_ne!(pb.port(), a_rtp.local_addr().unwrap().port(), "the callee sees ringcore's port, not the caller's");
    let answer = sdp(b_rtp.local_addr().unwrap().port());
    let ok = respond(&b_inv, "200 OK", Some("bb"), &format!("Contact: <sip:bob@{lb}>\r\n"), &answer);
    b_sip.send_to(ok.as_bytes(), from).unwrap();
    let mut a_ok = recv(&a_sip).0;
    while a_ok.starts_with("SIP/2.0 1") {
        a_ok = recv(&a_sip).0;
    }
    assert!(a_ok.starts_with("SIP/2.0 200"), "{a_ok}");
    let pa = sdp_addr(&a_ok);
    assert_ne!(pa.port(), b_rtp.local_addr().unwrap().port(), "the caller sees ringcore's port, not the callee's");
    let b_ack = recv(&b_sip).0;
    assert!(b_ack.starts_with("ACK "), "ringcore acknowledges the callee's 2xx: {b_ack}");

    let mut buf = [0u8; 2048];
    let (mut ab, mut ba) = (0, 0);
    for seq in 0..20u16 {
        a_rtp.send_to(&rtp(seq), pa).unwrap();
        if let Ok((n, src)) = b_rtp.recv_from(&mut buf) {
            assert_eq!(src, pb, "relayed from ringcore's port facing the callee");
            assert_eq!(&buf[..n], &rtp(seq)[..]);
            ab += 1;
        }
        b_rtp.send_to(&rtp(1000 + seq), pb).unwrap();
        if let Ok((n, src)) = a_rtp.recv_from(&mut buf) {
            assert_eq!(src, pa, "relayed from ringcore's port facing the caller");
            assert_eq!(&buf[..n], &rtp(1000 + seq)[..]);
            ba += 1;
        }
    }
    assert_eq!((ab, ba), (20, 20), "every packet relayed in both directions");
}
