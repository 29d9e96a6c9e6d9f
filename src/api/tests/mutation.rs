//! Seeded mutation tests: random edits of valid inputs must never panic the
//! frame decoder, the connection or the JSON dispatcher.

use std::time::{Duration, Instant};

use super::FakeCtx;
use crate::api::session::{Api, ApiConfig};
use crate::api::ws::{Connection, Frame, FrameRepr, Opcode, WsConfig};

use crate::testkit::XorShift;

/// Random edits of a valid input.
trait Mutate {
    fn mutate(&mut self, input: &[u8]) -> Vec<u8>;
}

impl Mutate for XorShift {
    fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut v = input.to_vec();
        for _ in 0..=self.below(4) {
            let at = self.below(v.len() + 1);
            match self.below(4) {
                0 if at < v.len() => v[at] ^= 1 << self.below(8),
                1 if at < v.len() => v[at] = self.next() as u8,
                2 => v.insert(at, self.next() as u8),
                _ if at < v.len() => {
                    v.remove(at);
                }
                _ => v.push(self.next() as u8),
            }
        }
        v
    }
}

fn frames() -> Vec<u8> {
    let mut out = Vec::new();
    let mask = Some([1, 2, 3, 4]);
    for (fin, op, p) in [(false, Opcode::Text, &b"{\"mess"[..]), (true, Opcode::Ping, b"x"), (true, Opcode::Continuation, b"age\":\"help\"}"), (true, Opcode::Close, &[3, 232, b'o', b'k'])] {
        FrameRepr { fin, opcode: op, mask, payload_len: p.len() as u64 }.emit(p, &mut out);
    }
    out
}

#[test]
fn frame_decoder_and_connection_survive_mutations() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let base = frames();
    let hs = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: o\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let t0 = Instant::now();
    for i in 0..3000 {
        let m = rng.mutate(&base);
        let _ = Frame::new_checked(&m);
        let _ = FrameRepr::parse_header(&m);
        let mut c = Connection::new(t0, WsConfig { max_message: 64, ..WsConfig::default() });
        let input = if i % 10 == 0 { rng.mutate(hs) } else { [&hs[..], &m].concat() };
        let cut = rng.below(input.len());
        c.handle_bytes(t0, &input[..cut]);
        c.handle_bytes(t0, &input[cut..]);
        while c.poll_event().is_some() {}
        c.handle_timeout(t0 + Duration::from_secs(60));
        let _ = c.send_text("x");
    }
}

#[test]
fn dispatcher_survives_mutations() {
    let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
    let seeds = [
        r#"[{"message": "log_get", "min": 2, "layers": {"sip": "debug"}}, {"message": "config_set", "logs": {"layers": {"all": {"level": "info"}}}}]"#,
        r#"{"message": "sms", "impi": "u1", "binary_hex": "0a0b", "tp_udl": 2, "message_id": [1]}"#,
        r#"{"message": "dialog_set", "session_id": "s", "action": "answer", "code": 200}"#,
        r#"{"message": "register", "register": ["sms", "users_update"], "unregister": "dialog"}"#,
        r#"{"message": "impu_add", "impi": "echo", "impu": {"impu": "tel:+1"}}"#,
    ];
    let mut api = Api::new(ApiConfig::default(), [3; 32]);
    let (mut s, _) = api.open_session();
    let mut ctx = FakeCtx::default();
    let t0 = Instant::now();
    for i in 0..4000 {
        let m = rng.mutate(seeds[i % seeds.len()].as_bytes());
        let text = String::from_utf8_lossy(&m);
        let _ = api.handle_text(&mut s, t0, &mut ctx, &text);
        let _ = api.handle_timeout(&mut s, t0 + Duration::from_secs(3600), &mut ctx);
    }
}
