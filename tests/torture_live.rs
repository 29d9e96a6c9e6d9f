//! Bad input against a running ringcore: every RFC 4475 torture message (valid
//! and invalid), seeded random datagrams and broken TCP streams. Afterwards
//! the core must still be running and answering OPTIONS, and malformed
//! requests that carry enough to answer must have received a 400.

mod common;
use common::{options_ping, test_file, Core};
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

fn torture_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["valid", "invalid"] {
        let path = test_file(&format!("data/rfc4475/{dir}"));
        let Ok(entries) = std::fs::read_dir(&path) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) == Some("sip") {
                out.push((format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn torture_messages_leave_the_core_answering() {
    let mut core = Core::start("torture", "");
    let files = torture_files();
    assert!(files.len() >= 40, "RFC 4475 corpus missing: {} files", files.len());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    for (name, bytes) in &files {
        // Datagrams over 64 KiB cannot be sent over UDP; those go over TCP below.
        if bytes.len() < 65_000 {
            sock.send_to(bytes, core.sip).unwrap_or_else(|e| panic!("send {name}: {e}"));
        }
        let mut tcp = TcpStream::connect(core.sip).unwrap();
        tcp.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let _ = tcp.write_all(bytes);
        let mut buf = [0u8; 2048];
        let _ = tcp.read(&mut buf);
        assert!(core.alive(), "ringcore died on {name}");
    }
    assert!(options_ping(core.sip, Duration::from_secs(2)).is_some(), "no OPTIONS answer after torture corpus");
}

#[test]
fn malformed_request_with_usable_headers_gets_400_with_warning() {
    let core = Core::start("bad400", "");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let local = sock.local_addr().unwrap();
    // CSeq method does not match the request method (RFC 3261 8.1.1.5).
    let msg = format!(
        "OPTIONS sip:{0} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKbad1\r\nMax-Forwards: 70\r\n\
         From: <sip:x@{local}>;tag=1\r\nTo: <sip:{0}>\r\nCall-ID: bad-cseq\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        core.sip
    );
    sock.send_to(msg.as_bytes(), core.sip).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).expect("a 400 for a malformed request");
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("SIP/2.0 400 "), "{text}");
    assert!(text.contains("Call-ID: bad-cseq"), "{text}");
    assert!(text.to_ascii_lowercase().contains("\r\nwarning: 399 "), "{text}");
}

#[test]
fn random_datagrams_and_streams_never_kill_the_core() {
    let mut core = Core::start("garbage", "");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let seed = b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 5\r\n\r\nhello";
    for i in 0..3000 {
        let mut pkt = seed.to_vec();
        for _ in 0..(next() % 8) {
            let at = (next() as usize) % pkt.len();
            match next() % 3 {
                0 => pkt[at] = next() as u8,
                1 => {
                    pkt.remove(at);
                }
                _ => pkt.insert(at, next() as u8),
            }
        }
        if i % 10 == 0 {
            pkt = (0..(next() % 1500)).map(|_| next() as u8).collect();
        }
        let _ = sock.send_to(&pkt, core.sip);
    }
    // A stream with an absurd Content-Length, one with a header section that never ends.
    for stream in [
        b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n".to_vec(),
        std::iter::repeat(b"X-Header: aaaaaaaaaaaaaaaa\r\n".to_vec()).take(10_000).flatten().collect(),
    ] {
        if let Ok(mut tcp) = TcpStream::connect(core.sip) {
            let _ = tcp.write_all(&stream);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(core.alive());
    assert!(options_ping(core.sip, Duration::from_secs(2)).is_some());
}
