//! The server end to end over WebSocket bytes: startup message, requests,
//! event fan-out to registered connections, slot bounds and slow clients.

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::FakeCtx;
use crate::api::request::ApiEvent;
use crate::api::server::{ApiServer, Full, ServerConfig};
use crate::api::ws::{Frame, FrameRepr, Opcode, WsConfig};
use crate::api::ConnId;

const HANDSHAKE: &str = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://x\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn text_frame(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    FrameRepr { fin: true, opcode: Opcode::Text, mask: Some([9, 8, 7, 6]), payload_len: s.len() as u64 }.emit(s.as_bytes(), &mut out);
    out
}

/// Drains the output of `id` and decodes its text frames as JSON.
fn read(srv: &mut ApiServer, id: ConnId) -> Vec<Value> {
    let out = srv.poll_transmit(id).map(<[u8]>::to_vec).unwrap_or_default();
    srv.consume_transmit(id, out.len());
    let mut rest = match out.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) if out.starts_with(b"HTTP/1.1 101") => &out[p + 4..],
        _ => &out[..],
    };
    let mut msgs = Vec::new();
    while let Ok(f) = Frame::new_checked(rest) {
        if f.repr().opcode == Opcode::Text {
            msgs.push(serde_json::from_slice(f.raw_payload()).expect("json"));
        }
        rest = &rest[f.total_len()..];
    }
    msgs
}

fn connect(srv: &mut ApiServer, ctx: &mut FakeCtx, now: Instant) -> ConnId {
    let id = srv.accept(now).expect("slot");
    srv.handle_bytes(id, now, ctx, HANDSHAKE.as_bytes());
    let hello = read(srv, id);
    assert_eq!(hello[0]["message"], "ready");
    id
}

#[test]
fn requests_and_event_fan_out() {
    let now = Instant::now();
    let mut ctx = FakeCtx::default();
    let mut srv = ApiServer::new(ServerConfig { max_connections: 2, ..ServerConfig::default() }, [5; 32]);
    let a = connect(&mut srv, &mut ctx, now);
    let b = connect(&mut srv, &mut ctx, now);
    assert_eq!(srv.accept(now), Err(Full));

    srv.handle_bytes(a, now, &mut ctx, &text_frame(r#"{"message": "register", "register": "sms", "message_id": 1}"#));
    assert_eq!(read(&mut srv, a), vec![json!({"message": "register", "message_id": 1})]);
    assert!(srv.has_subscribers(ApiEvent::Sms));
    assert!(!srv.has_subscribers(ApiEvent::Dialog));

    let payload: Map<String, Value> = json!({"sender": "+1", "destination": "+2", "text": "hi", "dcs": 0, "date": 1})
        .as_object()
        .cloned()
        .unwrap_or_default();
    srv.broadcast_event(ApiEvent::Sms, &payload);
    let got = read(&mut srv, a);
    assert_eq!(got, vec![json!({"message": "sms", "sender": "+1", "destination": "+2", "text": "hi", "dcs": 0, "date": 1})]);
    assert!(read(&mut srv, b).is_empty());

    // A freed slot gets a new generation: the old id is dead.
    srv.remove(b);
    assert!(srv.is_closed(b));
    let c = connect(&mut srv, &mut ctx, now);
    assert_ne!(b, c);
    srv.handle_bytes(b, now, &mut ctx, &text_frame(r#"{"message": "stats"}"#));
    assert!(read(&mut srv, c).is_empty());
}

#[test]
fn slow_subscriber_is_dropped_not_buffered() {
    let now = Instant::now();
    let mut ctx = FakeCtx::default();
    let ws = WsConfig { max_send_queue: 4096, ..WsConfig::default() };
    let mut srv = ApiServer::new(ServerConfig { ws, ..ServerConfig::default() }, [5; 32]);
    let id = srv.accept(now).expect("slot");
    srv.handle_bytes(id, now, &mut ctx, HANDSHAKE.as_bytes());
    srv.handle_bytes(id, now, &mut ctx, &text_frame(r#"{"message": "register", "register": "users_update"}"#));
    let payload: Map<String, Value> = json!({"users_update": [{"impi": "x".repeat(200)}]}).as_object().cloned().unwrap_or_default();
    for _ in 0..100 {
        srv.broadcast_event(ApiEvent::UsersUpdate, &payload);
    }
    assert!(srv.is_closed(id));
    assert_eq!(srv.poll_transmit(id), None);
    assert!(!srv.has_subscribers(ApiEvent::UsersUpdate));
}

#[test]
fn failed_authentications_close_the_connection() {
    let now = Instant::now();
    let mut ctx = FakeCtx::default();
    let mut cfg = ServerConfig::default();
    cfg.api.auth = Some(crate::api::AuthConfig { password: "pw".into(), unsecure: false });
    cfg.api.max_auth_failures = 2;
    let mut srv = ApiServer::new(cfg, [5; 32]);
    let id = srv.accept(now).expect("slot");
    srv.handle_bytes(id, now, &mut ctx, HANDSHAKE.as_bytes());
    assert_eq!(read(&mut srv, id)[0]["message"], "authenticate");
    let bad = text_frame(r#"[{"message": "authenticate", "res": "00"}, {"message": "authenticate", "res": "00"}]"#);
    srv.handle_bytes(id, now, &mut ctx, &bad);
    let mut rest = srv.poll_transmit(id).map(<[u8]>::to_vec).unwrap_or_default();
    let mut last = None;
    while let Ok(f) = Frame::new_checked(&rest) {
        last = Some((f.repr().opcode, f.raw_payload().to_vec()));
        rest = rest[f.total_len()..].to_vec();
    }
    // RFC 6455 7.4.1: 1008 policy violation, after the two error responses.
    assert_eq!(last, Some((Opcode::Close, [&1008u16.to_be_bytes()[..], b"Authentication failed"].concat())));
    srv.handle_bytes(id, now, &mut ctx, &text_frame(r#"{"message": "stats"}"#));
    assert!(ctx.calls.is_empty());
}
