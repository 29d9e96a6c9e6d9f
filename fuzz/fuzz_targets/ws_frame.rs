//! Fuzz the WebSocket frame codec (RFC 6455 5.2): a frame that parses must
//! re-emit to the same bytes; any byte stream fed to an open connection must
//! not panic and must respect the message bound.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use ringcore::api::ws::{Connection, Event, Frame, WsConfig};

const HANDSHAKE: &[u8] = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: o\r\nSec-WebSocket-Version: 13\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = Frame::new_checked(data) {
        // emit masks the plain payload again with the frame's key.
        let mut plain = Vec::new();
        f.unmask_into(&mut plain);
        let mut out = Vec::new();
        f.repr().emit(&plain, &mut out);
        assert_eq!(&out[..], &data[..f.total_len()]);
    }
    let t0 = Instant::now();
    let mut c = Connection::new(t0, WsConfig { max_message: 4096, ..WsConfig::default() });
    c.handle_bytes(t0, HANDSHAKE);
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    c.handle_bytes(t0, &data[..cut]);
    c.handle_bytes(t0, &data[cut..]);
    while let Some(ev) = c.poll_event() {
        if let Event::Message(m) = ev {
            assert!(m.len() <= 4096);
        }
    }
    c.handle_timeout(t0 + Duration::from_secs(3600));
});
