//! Tests of the WebSocket layer: RFC 6455 vectors, handshake rules, framing
//! errors and their close codes, the close handshake, pings and the send bound.

use std::time::{Duration, Instant};

use super::*;

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn request(origin: bool) -> String {
    let origin = if origin { "Origin: http://example.com\r\n" } else { "" };
    format!(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
         Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n{origin}Sec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// A masked client frame.
fn client_frame(fin: bool, opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    FrameRepr { fin, opcode, mask: Some(MASK), payload_len: payload.len() as u64 }.emit(payload, &mut out);
    out
}

fn drain_tx(c: &mut Connection) -> Vec<u8> {
    let out = c.poll_transmit().map(<[u8]>::to_vec).unwrap_or_default();
    c.consume_transmit(out.len());
    out
}

/// Server frames in `bytes` as (opcode, payload).
fn server_frames(mut bytes: &[u8]) -> Vec<(Opcode, Vec<u8>)> {
    let mut v = Vec::new();
    while !bytes.is_empty() {
        let f = Frame::new_checked(bytes).expect("server frame");
        assert!(f.repr().mask.is_none(), "RFC 6455 5.1: server frames are unmasked");
        v.push((f.repr().opcode, f.raw_payload().to_vec()));
        bytes = &bytes[f.total_len()..];
    }
    v
}

fn open(now: Instant, cfg: WsConfig) -> Connection {
    let mut c = Connection::new(now, cfg);
    c.handle_bytes(now, request(true).as_bytes());
    let head = String::from_utf8(drain_tx(&mut c)).expect("ascii");
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), "{head}");
    assert!(c.is_open());
    c
}

fn expect_close(c: &mut Connection, code: CloseCode) {
    let frames = server_frames(&drain_tx(c));
    let last = frames.last().expect("a close frame");
    assert_eq!(last.0, Opcode::Close);
    assert_eq!(CloseBody::parse(&last.1).expect("valid body").code, Some(code));
    assert!(c.is_closed());
    assert_eq!(c.close_reason(), Some(CloseReason::Code(code)));
    assert_eq!(std::iter::from_fn(|| c.poll_event()).last(), Some(Event::Closed));
}

#[test]
fn accept_key_rfc6455_sample() {
    // RFC 6455 1.3 sample nonce and answer.
    assert_eq!(accept_key(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

#[test]
fn handshake_needs_origin() {
    let now = Instant::now();
    let mut c = Connection::new(now, WsConfig::default());
    c.handle_bytes(now, request(false).as_bytes());
    let out = String::from_utf8(drain_tx(&mut c)).expect("ascii");
    assert!(out.starts_with("HTTP/1.1 403 "), "{out}");
    assert_eq!(c.close_reason(), Some(CloseReason::Handshake(HandshakeError::MissingOrigin)));
    assert_eq!(c.poll_event(), Some(Event::Closed));
}

#[test]
fn handshake_rules() {
    let ok = request(true);
    let cases = [
        (ok.replace("GET", "POST"), HandshakeError::NotGet),
        (ok.replace("HTTP/1.1", "HTTP/1.0"), HandshakeError::Malformed),
        (ok.replace("Host: server.example.com\r\n", ""), HandshakeError::MissingHost),
        (ok.replace("Upgrade: websocket", "Upgrade: h2c"), HandshakeError::NotUpgrade),
        (ok.replace("keep-alive, Upgrade", "close"), HandshakeError::NotUpgrade),
        (ok.replace(KEY, "c2hvcnQ="), HandshakeError::BadKey),
        (ok.replace("Version: 13", "Version: 8"), HandshakeError::UnsupportedVersion),
        (ok.replace("Origin: http", "Origin : http"), HandshakeError::Malformed),
    ];
    for (req, want) in &cases {
        assert_eq!(UpgradeRequest::parse(req.as_bytes()).err(), Some(*want), "{req}");
    }
    let lower = ok.replace("Origin: http://example.com", "oRiGiN:x");
    let r = UpgradeRequest::parse(lower.as_bytes()).expect("ok");
    assert_eq!((r.path, r.origin, r.host), ("/chat", "x", "server.example.com"));
    let mut out = Vec::new();
    handshake::emit_reject(HandshakeError::UnsupportedVersion, &mut out);
    assert!(String::from_utf8(out).expect("ascii").contains("Sec-WebSocket-Version: 13\r\n"));
}

#[test]
fn handshake_split_and_bounded() {
    let now = Instant::now();
    let mut c = Connection::new(now, WsConfig::default());
    let req = request(true);
    let mut bytes = req.into_bytes();
    bytes.extend(client_frame(true, Opcode::Text, b"hi"));
    for b in &bytes {
        c.handle_bytes(now, std::slice::from_ref(b));
    }
    assert!(c.is_open());
    assert_eq!(c.poll_event(), Some(Event::Message("hi".into())));

    let mut c = Connection::new(now, WsConfig { max_handshake: 64, ..WsConfig::default() });
    c.handle_bytes(now, &[b'A'; 65]);
    assert_eq!(c.close_reason(), Some(CloseReason::Handshake(HandshakeError::TooLarge)));
    assert!(String::from_utf8(drain_tx(&mut c)).expect("ascii").starts_with("HTTP/1.1 431 "));
}

#[test]
fn frame_round_trip_all_length_forms() {
    for len in [0usize, 1, 125, 126, 127, 0xFFFF, 0x10000, 70_000] {
        let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        for mask in [None, Some(MASK)] {
            let repr = FrameRepr { fin: len % 2 == 0, opcode: Opcode::Binary, mask, payload_len: len as u64 };
            let mut buf = Vec::new();
            repr.emit(&payload, &mut buf);
            assert_eq!(buf.len(), repr.header_len() + len);
            let f = Frame::new_checked(&buf).expect("valid");
            assert_eq!(*f.repr(), repr);
            assert_eq!(f.raw_payload() == payload.as_slice(), mask.is_none() || len == 0);
            let mut plain = Vec::new();
            f.unmask_into(&mut plain);
            assert_eq!(plain, payload);
            assert_eq!(Frame::new_checked(&buf[..buf.len() - 1]).err(), Some(FrameError::Truncated));
        }
    }
}

#[test]
fn rfc6455_5_7_examples() {
    // RFC 6455 5.7: unmasked and masked "Hello", 256-byte and 64 KiB binary headers.
    let f = Frame::new_checked(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]).expect("valid");
    assert_eq!(f.raw_payload(), b"Hello");
    let masked = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    let mut out = Vec::new();
    Frame::new_checked(&masked).expect("valid").unmask_into(&mut out);
    assert_eq!(out, b"Hello");
    assert_eq!(client_frame(true, Opcode::Text, b"Hello"), masked);
    let (r, n) = FrameRepr::parse_header(&[0x82, 0x7E, 0x01, 0x00]).expect("valid");
    assert_eq!((r.payload_len, n), (256, 4));
    let (r, n) = FrameRepr::parse_header(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]).expect("valid");
    assert_eq!((r.payload_len, n), (65536, 10));
}

#[test]
fn header_errors() {
    let bad: [(&[u8], FrameError); 6] = [
        (&[0xC1, 0x00], FrameError::ReservedBits),
        (&[0x83, 0x00], FrameError::UnknownOpcode(3)),
        (&[0x09, 0x00], FrameError::FragmentedControl),
        (&[0x89, 0x7E, 0x00, 0x7E], FrameError::ControlTooLong),
        (&[0x82, 0x7E, 0x00, 0x05], FrameError::NonMinimalLength),
        (&[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0], FrameError::LengthTooLarge),
    ];
    for (bytes, err) in bad {
        assert_eq!(FrameRepr::parse_header(bytes).err(), Some(err), "{bytes:?}");
    }
}

#[test]
fn fragmented_message_with_interleaved_ping() {
    let now = Instant::now();
    let mut c = open(now, WsConfig::default());
    let mut bytes = client_frame(false, Opcode::Text, "{\"mess".as_bytes());
    bytes.extend(client_frame(true, Opcode::Ping, b"p1"));
    bytes.extend(client_frame(false, Opcode::Continuation, "age\":\"h".as_bytes()));
    bytes.extend(client_frame(true, Opcode::Continuation, "\u{e9}lp\"}".as_bytes()));
    c.handle_bytes(now, &bytes[..3]);
    c.handle_bytes(now, &bytes[3..]);
    assert_eq!(c.poll_event(), Some(Event::Message("{\"message\":\"h\u{e9}lp\"}".into())));
    assert_eq!(c.poll_event(), None);
    assert_eq!(server_frames(&drain_tx(&mut c)), vec![(Opcode::Pong, b"p1".to_vec())]);
}

#[test]
fn oversize_message_closes_1009() {
    let now = Instant::now();
    let mut c = open(now, WsConfig { max_message: 100, ..WsConfig::default() });
    c.handle_bytes(now, &client_frame(false, Opcode::Text, &[b'a'; 60]));
    assert!(c.is_open());
    c.handle_bytes(now, &client_frame(true, Opcode::Continuation, &[b'a'; 41]));
    expect_close(&mut c, CloseCode::MESSAGE_TOO_BIG);
}

#[test]
fn bad_utf8_closes_1007() {
    let now = Instant::now();
    let mut c = open(now, WsConfig::default());
    c.handle_bytes(now, &client_frame(true, Opcode::Text, &[0x7b, 0xC3, 0x28, 0x7d]));
    expect_close(&mut c, CloseCode::INVALID_PAYLOAD);
}

#[test]
fn unmasked_client_frame_closes_1002() {
    let now = Instant::now();
    let mut c = open(now, WsConfig::default());
    c.handle_bytes(now, &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    expect_close(&mut c, CloseCode::PROTOCOL_ERROR);
}

#[test]
fn protocol_errors_close_1002() {
    let now = Instant::now();
    let cases = [
        client_frame(true, Opcode::Continuation, b"x"),
        [client_frame(false, Opcode::Text, b"x"), client_frame(true, Opcode::Text, b"y")].concat(),
        client_frame(true, Opcode::Close, &[0x03]),
        client_frame(true, Opcode::Close, &1005u16.to_be_bytes()),
        vec![0xC1, 0x80, 0, 0, 0, 0],
    ];
    for bytes in cases {
        let mut c = open(now, WsConfig::default());
        c.handle_bytes(now, &bytes);
        expect_close(&mut c, CloseCode::PROTOCOL_ERROR);
    }
    let mut c = open(now, WsConfig::default());
    c.handle_bytes(now, &client_frame(true, Opcode::Binary, b"{}"));
    expect_close(&mut c, CloseCode::UNSUPPORTED_DATA);
}

#[test]
fn client_close_is_echoed() {
    let now = Instant::now();
    let mut c = open(now, WsConfig::default());
    let body = [&1000u16.to_be_bytes()[..], b"bye"].concat();
    c.handle_bytes(now, &client_frame(true, Opcode::Close, &body));
    expect_close(&mut c, CloseCode::NORMAL);
    c.handle_bytes(now, &client_frame(true, Opcode::Text, b"late"));
    assert_eq!(c.poll_event(), None);
}

#[test]
fn server_close_waits_for_peer_then_times_out() {
    let t0 = Instant::now();
    let mut c = open(t0, WsConfig::default());
    c.close(t0, CloseCode::GOING_AWAY, "shutdown");
    let frames = server_frames(&drain_tx(&mut c));
    assert_eq!(CloseBody::parse(&frames[0].1), Ok(CloseBody { code: Some(CloseCode::GOING_AWAY), reason: "shutdown" }));
    assert_eq!(c.send_text("x"), Err(SendError::NotOpen));
    c.handle_bytes(t0, &client_frame(true, Opcode::Text, b"ignored"));
    assert_eq!(c.poll_event(), None);
    c.handle_bytes(t0, &client_frame(true, Opcode::Close, &1001u16.to_be_bytes()));
    assert!(c.is_closed());
    assert_eq!(c.poll_event(), Some(Event::Closed));

    let mut c = open(t0, WsConfig::default());
    c.close(t0, CloseCode::NORMAL, "");
    let due = c.poll_timeout().expect("close timer");
    assert_eq!(due, t0 + Duration::from_secs(5));
    c.handle_timeout(due - Duration::from_millis(1));
    assert!(!c.is_closed());
    c.handle_timeout(due);
    assert_eq!(c.close_reason(), Some(CloseReason::Timeout));
}

#[test]
fn idle_ping_then_pong_timeout() {
    let t0 = Instant::now();
    let mut c = open(t0, WsConfig::default());
    let t1 = c.poll_timeout().expect("idle timer");
    assert_eq!(t1, t0 + Duration::from_secs(30));
    c.handle_timeout(t1);
    assert_eq!(server_frames(&drain_tx(&mut c)), vec![(Opcode::Ping, vec![])]);
    // Any traffic (here the pong) re-arms the idle timer.
    let t2 = t1 + Duration::from_secs(3);
    c.handle_bytes(t2, &client_frame(true, Opcode::Pong, b""));
    assert_eq!(c.poll_timeout(), Some(t2 + Duration::from_secs(30)));
    let t3 = t2 + Duration::from_secs(30);
    c.handle_timeout(t3);
    assert_eq!(c.poll_timeout(), Some(t3 + Duration::from_secs(10)));
    c.handle_timeout(t3 + Duration::from_secs(10));
    assert_eq!(c.close_reason(), Some(CloseReason::Timeout));
}

#[test]
fn handshake_timeout() {
    let t0 = Instant::now();
    let mut c = Connection::new(t0, WsConfig::default());
    c.handle_bytes(t0, b"GET / HTTP/1.1\r\n");
    c.handle_timeout(t0 + Duration::from_secs(10));
    assert_eq!(c.close_reason(), Some(CloseReason::Timeout));
}

#[test]
fn slow_client_send_queue_bound() {
    let now = Instant::now();
    let mut c = open(now, WsConfig { max_send_queue: 1000, ..WsConfig::default() });
    let text = "x".repeat(200);
    for _ in 0..4 {
        assert_eq!(c.send_text(&text), Ok(()));
    }
    // Partial writes shrink the queue.
    c.consume_transmit(300);
    assert_eq!(c.send_queue_len(), 4 * 204 - 300);
    assert_eq!(c.send_text(&text), Ok(()));
    assert_eq!(c.send_text(&text), Ok(()));
    assert_eq!(c.send_queue_len(), 924);
    assert_eq!(c.send_text(&text), Err(SendError::Backpressure));
    assert!(c.is_closed());
    assert_eq!(c.close_reason(), Some(CloseReason::Backpressure));
    assert_eq!(c.poll_transmit(), None, "output is discarded on abort");
    assert_eq!(c.poll_event(), Some(Event::Closed));
    // A ping flood without reading is bounded the same way.
    let mut c = open(now, WsConfig { max_send_queue: 100, ..WsConfig::default() });
    let ping = client_frame(true, Opcode::Ping, &[0u8; 50]);
    c.handle_bytes(now, &[ping.clone(), ping].concat());
    assert_eq!(c.close_reason(), Some(CloseReason::Backpressure));
}
