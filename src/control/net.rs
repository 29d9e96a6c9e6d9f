//! Socket I/O of the control thread: one mio `Poll` watches the eventfd of
//! the worker event queues, the remote API listener and its connections
//! (seed 000 6, sans-IO in `crate::api`), and the Prometheus listener and its
//! connections (`metrics_http`). Sockets are non-blocking; reads per wake-up
//! and every output queue are bounded, so a slow or dead client never blocks
//! the control loop.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::api_setup::ApiListen;
use super::api_tls::TlsSession;
use super::metrics_http::HttpConn;
use crate::api::{ApiContext, ApiServer, ConnId};

/// The worker event queue's eventfd.
const QUEUE: Token = Token(0);
/// The remote API listener.
const API_LISTENER: Token = Token(1);
/// The metrics listener.
const METRICS_LISTENER: Token = Token(2);
/// Remote API connections: `API_BASE + slot`.
const API_BASE: usize = 1 << 16;
/// Metrics connections: `METRICS_BASE + slot`.
const METRICS_BASE: usize = 1 << 20;
/// Most simultaneous metrics connections.
const MAX_METRICS_CONNS: usize = 16;
/// Bytes read from one socket per wake-up before other work gets a turn.
const READ_BUDGET: usize = 256 * 1024;
/// Read buffer on the stack.
const READ_CHUNK: usize = 16 * 1024;
/// Readiness events taken per poll.
const EVENTS: usize = 256;
/// Closed API connections kept reading (and discarding) until the client closes too.
const MAX_LINGERING: usize = 16;
/// How long a closed API connection lingers at most.
const LINGER: Duration = Duration::from_secs(2);

/// What the control thread hands to the network layer while it runs requests.
pub trait NetContext: ApiContext {
    /// The Prometheus text exposition of the current counters.
    fn metrics_text(&mut self) -> String;
}

struct ApiPeer {
    stream: TcpStream,
    id: ConnId,
    /// The TLS record layer when com_ssl_certificate is set.
    tls: Option<Box<TlsSession>>,
}

/// The remote API listener, its sans-IO server and the sockets of its connections.
pub struct ApiNet {
    listener: TcpListener,
    server: ApiServer,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    peers: Vec<Option<ApiPeer>>,
}

struct MetricsNet {
    listener: TcpListener,
    conns: Vec<Option<(TcpStream, HttpConn)>>,
}

/// The control thread's poll loop state.
pub struct NetIo {
    poll: Poll,
    events: Events,
    api: Option<ApiNet>,
    metrics: Option<MetricsNet>,
    /// Sockets whose read budget ran out: read them again without waiting.
    again: Vec<Token>,
    ready: Vec<Token>,
    api_accept: bool,
    metrics_accept: bool,
    /// RFC 6455 7.1.1: after our Close the TCP connection stays open, its input discarded,
    /// until the client closes it; closing with unread input would make the kernel answer
    /// with a reset that can destroy the Close frame before the client reads it.
    lingering: Vec<(TcpStream, Instant)>,
}

fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr} ({what}): {e}"))
}

impl NetIo {
    /// Watches `queue_fd` (the worker events' eventfd), and the API and metrics listeners when given.
    pub fn new(queue_fd: RawFd, api: Option<ApiListen>, metrics: Option<SocketAddr>) -> Result<NetIo, String> {
        let poll = Poll::new().map_err(|e| format!("cannot create the control poll: {e}"))?;
        let reg = poll.registry();
        reg.register(&mut SourceFd(&queue_fd), QUEUE, Interest::READABLE).map_err(|e| format!("cannot watch the event queue: {e}"))?;
        let api = match api {
            Some(ApiListen { addr, server, tls }) => {
                let mut listener = bind(addr, "com_addr")?;
                reg.register(&mut listener, API_LISTENER, Interest::READABLE).map_err(|e| e.to_string())?;
                Some(ApiNet { listener, server, tls, peers: Vec::new() })
            }
            None => None,
        };
        let metrics = match metrics.map(|a| bind(a, "metrics_addr")) {
            Some(Ok(mut listener)) => {
                reg.register(&mut listener, METRICS_LISTENER, Interest::READABLE).map_err(|e| e.to_string())?;
                Some(MetricsNet { listener, conns: (0..MAX_METRICS_CONNS).map(|_| None).collect() })
            }
            // metrics_addr has a default: a busy port must not stop the core.
            Some(Err(e)) => {
                eprintln!("ringcore: metrics disabled: {e}");
                None
            }
            None => None,
        };
        Ok(NetIo { poll, events: Events::with_capacity(EVENTS), api, metrics, again: Vec::new(), ready: Vec::new(), api_accept: false, metrics_accept: false, lingering: Vec::new() })
    }

    /// The address the API listens on.
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api.as_ref().and_then(|a| a.listener.local_addr().ok())
    }

    /// True when the API is served over TLS.
    pub fn api_tls(&self) -> bool {
        self.api.as_ref().is_some_and(|a| a.tls.is_some())
    }

    /// The address the metrics endpoint listens on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|m| m.listener.local_addr().ok())
    }

    /// The remote API server (event fan-out).
    pub fn api_server(&mut self) -> Option<&mut ApiServer> {
        self.api.as_mut().map(|a| &mut a.server)
    }

    /// Earliest API timer (pings, log_get timeouts).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.api.as_ref().and_then(|a| a.server.poll_timeout())
    }

    /// Waits up to `timeout` for readiness (no wait when `block` is false or
    /// some socket still has unread input) and records the ready sockets.
    pub fn wait(&mut self, block: bool, timeout: Duration) {
        let t = if block && self.again.is_empty() { timeout } else { Duration::ZERO };
        if let Err(e) = self.poll.poll(&mut self.events, Some(t)) {
            if e.kind() != io::ErrorKind::Interrupted {
                // Nothing sensible to do but retry on the next turn; avoid a hot loop.
                std::thread::sleep(Duration::from_millis(1));
            }
            return;
        }
        self.ready.clear();
        self.ready.append(&mut self.again);
        for ev in self.events.iter() {
            match ev.token() {
                QUEUE => {}
                API_LISTENER => self.api_accept = true,
                METRICS_LISTENER => self.metrics_accept = true,
                t => self.ready.push(t),
            }
        }
    }

    /// Accepts, reads and runs what the last `wait` found ready, runs the API
    /// timers, then writes every pending output.
    pub fn process(&mut self, now: Instant, ctx: &mut dyn NetContext) {
        if std::mem::take(&mut self.api_accept) {
            self.accept_api(now);
        }
        if std::mem::take(&mut self.metrics_accept) {
            self.accept_metrics(now);
        }
        let ready = std::mem::take(&mut self.ready);
        for t in &ready {
            if t.0 >= METRICS_BASE {
                self.read_metrics(t.0 - METRICS_BASE, now, ctx);
            } else if t.0 >= API_BASE {
                self.read_api(t.0 - API_BASE, now, ctx);
            }
        }
        self.ready = ready;
        self.ready.clear();
        if let Some(a) = &mut self.api {
            if a.server.poll_timeout().is_some_and(|t| t <= now) {
                a.server.handle_timeout(now, ctx);
            }
        }
        self.flush(now);
    }

    /// New logs may be stored: re-examine pending log_get requests.
    pub fn logs_changed(&mut self, now: Instant, ctx: &mut dyn ApiContext) {
        if let Some(a) = &mut self.api {
            a.server.logs_changed(now, ctx);
        }
    }

    /// Starts closing every API connection and writes what can be written.
    pub fn shutdown(&mut self, now: Instant) {
        if let Some(a) = &mut self.api {
            a.server.shutdown(now);
        }
        self.flush(now);
    }

    fn accept_api(&mut self, now: Instant) {
        let Some(a) = &mut self.api else { return };
        loop {
            let (mut stream, _) = match a.listener.accept() {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => return,
            };
            let tls = match &a.tls {
                Some(cfg) => match TlsSession::new(cfg) {
                    Ok(t) => Some(Box::new(t)),
                    Err(_) => continue,
                },
                None => None,
            };
            // All slots in use: the socket is dropped (closed) at once.
            let Ok(id) = a.server.accept(now) else { continue };
            let slot = match a.peers.iter().position(Option::is_none) {
                Some(i) => i,
                None => {
                    a.peers.push(None);
                    a.peers.len() - 1
                }
            };
            let _ = stream.set_nodelay(true);
            if a.listener_registry_register(&self.poll, &mut stream, Token(API_BASE + slot)).is_err() {
                a.server.remove(id);
                continue;
            }
            if let Some(p) = a.peers.get_mut(slot) {
                *p = Some(ApiPeer { stream, id, tls });
            }
            // A client may have written its handshake already (edge-triggered readiness).
            self.again.push(Token(API_BASE + slot));
        }
    }

    fn accept_metrics(&mut self, now: Instant) {
        let Some(m) = &mut self.metrics else { return };
        loop {
            let (mut stream, _) = match m.listener.accept() {
                Ok(s) => s,
                Err(_) => return,
            };
            let Some(slot) = m.conns.iter().position(Option::is_none) else { continue };
            let token = Token(METRICS_BASE + slot);
            if self.poll.registry().register(&mut stream, token, Interest::READABLE | Interest::WRITABLE).is_err() {
                continue;
            }
            if let Some(c) = m.conns.get_mut(slot) {
                *c = Some((stream, HttpConn::new(now)));
            }
            self.again.push(token);
        }
    }

    fn read_api(&mut self, slot: usize, now: Instant, ctx: &mut dyn ApiContext) {
        let Some(a) = &mut self.api else { return };
        let Some(Some(peer)) = a.peers.get_mut(slot) else { return };
        let mut buf = [0u8; READ_CHUNK];
        let mut budget = READ_BUDGET;
        loop {
            match peer.stream.read(&mut buf) {
                Ok(0) => return self.drop_api(slot),
                Ok(n) => {
                    let data = buf.get(..n).unwrap_or_default();
                    let (server, id) = (&mut a.server, peer.id);
                    match &mut peer.tls {
                        None => server.handle_bytes(id, now, ctx, data),
                        Some(tls) => {
                            if tls.handle_tls(data, &mut |plain| server.handle_bytes(id, now, ctx, plain)).is_err() {
                                // A TLS alert or close_notify: send what rustls queued (the alert), then drop.
                                let _ = tls.write_tls(&mut peer.stream);
                                return self.drop_api(slot);
                            }
                        }
                    }
                    budget = budget.saturating_sub(n);
                    if budget == 0 {
                        self.again.push(Token(API_BASE + slot));
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return self.drop_api(slot),
            }
        }
    }

    fn read_metrics(&mut self, slot: usize, now: Instant, ctx: &mut dyn NetContext) {
        let Some(m) = &mut self.metrics else { return };
        let Some(Some((stream, conn))) = m.conns.get_mut(slot) else { return };
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => {
                    conn.peer_closed();
                    break;
                }
                Ok(n) => conn.handle_bytes(buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    conn.peer_closed();
                    break;
                }
            }
            if conn.has_request() {
                break;
            }
        }
        if conn.wants_body() {
            let body = ctx.metrics_text();
            conn.respond_metrics(&body);
        }
        let _ = now;
    }

    fn drop_api(&mut self, slot: usize) {
        let Some(a) = &mut self.api else { return };
        if let Some(p) = a.peers.get_mut(slot).and_then(Option::take) {
            let mut stream = p.stream;
            // Closing with unread input makes the kernel reset the connection and
            // discard what is still unsent (our Close frame): drain, bounded, first.
            let mut buf = [0u8; READ_CHUNK];
            let mut budget = READ_BUDGET;
            while budget > 0 {
                match stream.read(&mut buf) {
                    Ok(n) if n > 0 => budget = budget.saturating_sub(n),
                    _ => break,
                }
            }
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let _ = self.poll.registry().deregister(&mut stream);
            a.server.remove(p.id);
            if self.lingering.len() < MAX_LINGERING {
                self.lingering.push((stream, Instant::now() + LINGER));
            }
        }
    }

    /// Reads and discards the input of lingering connections; drops them at EOF, on an
    /// error or at their deadline (serviced every loop turn, at least every MAX_SLEEP).
    fn linger(&mut self, now: Instant) {
        // Runs every control turn: without lingering sockets, skip zeroing the 16 KiB
        // buffer (it cost more than the rest of the turn's network service together).
        if self.lingering.is_empty() {
            return;
        }
        let mut buf = [0u8; READ_CHUNK];
        self.lingering.retain_mut(|(stream, deadline)| {
            if now >= *deadline {
                return false;
            }
            let mut budget = READ_BUDGET;
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => return false,
                    Ok(n) => budget = budget.saturating_sub(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return false,
                }
                if budget == 0 {
                    return true;
                }
            }
        });
    }

    /// Writes pending output of every connection; closes the finished ones.
    fn flush(&mut self, now: Instant) {
        self.linger(now);
        let mut dead = Vec::new();
        if let Some(a) = &mut self.api {
            for (slot, p) in a.peers.iter_mut().enumerate() {
                let Some(peer) = p else { continue };
                if write_api(&mut a.server, peer).is_err() || (a.server.is_closed(peer.id) && a.server.poll_transmit(peer.id).is_none()) {
                    dead.push(slot);
                }
            }
        }
        for slot in dead {
            self.drop_api(slot);
        }
        let Some(m) = &mut self.metrics else { return };
        for c in m.conns.iter_mut() {
            let Some((stream, conn)) = c else { continue };
            let done = loop {
                let out = conn.pending();
                if out.is_empty() {
                    break conn.is_done(now);
                }
                match stream.write(out) {
                    Ok(n) => conn.consume(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break conn.is_expired(now),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break true,
                }
            };
            if done {
                if let Some((mut s, _)) = c.take() {
                    let _ = self.poll.registry().deregister(&mut s);
                }
            }
        }
    }
}

impl ApiNet {
    fn listener_registry_register(&self, poll: &Poll, stream: &mut TcpStream, token: Token) -> io::Result<()> {
        poll.registry().register(stream, token, Interest::READABLE | Interest::WRITABLE)
    }
}

/// Writes what the server has for `peer` until the socket would block.
fn write_api(server: &mut ApiServer, peer: &mut ApiPeer) -> io::Result<()> {
    if let Some(tls) = &mut peer.tls {
        // Plaintext goes through rustls (bounded by its buffer limit), records to the socket.
        while let Some(out) = server.poll_transmit(peer.id).filter(|o| !o.is_empty()) {
            let n = tls.write_plain(out)?;
            if n == 0 {
                break;
            }
            server.consume_transmit(peer.id, n);
        }
        return tls.write_tls(&mut peer.stream);
    }
    loop {
        let Some(out) = server.poll_transmit(peer.id) else { return Ok(()) };
        if out.is_empty() {
            return Ok(());
        }
        match peer.stream.write(out) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => server.consume_transmit(peer.id, n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{NullContext, ServerConfig};
    use crate::engine::Waker;
    use std::io::{Read, Write};

    /// The API's NullContext plus a fixed metrics text.
    struct Ctx(NullContext);

    macro_rules! forward {
        ($($f:ident($($a:ident: $t:ty),*) -> $r:ty;)*) => {
            impl ApiContext for Ctx {
                $(fn $f(&mut self, $($a: $t),*) -> $r { self.0.$f($($a),*) })*
            }
        };
    }
    use crate::api::request::*;
    use crate::api::{LogAvailability, LogBatch, Reply};
    forward! {
        config_get() -> Reply; config_set(r: &ConfigSet) -> Reply; log_set(r: &LogSet) -> Reply; log_reset() -> Reply;
        log_available(r: &LogGet, c: u64) -> LogAvailability; log_take(r: &LogGet, c: u64) -> LogBatch; stats(r: &Stats) -> Reply;
        quit() -> Reply; ipsec() -> Reply; users_get(r: &UsersGet) -> Reply; users_add(r: &UsersAdd) -> Reply; user_set(r: &UserSet) -> Reply;
        impu_set(r: &ImpuSet) -> Reply; impu_add(r: &ImpuChange) -> Reply; impu_del(r: &ImpuChange) -> Reply; sms(r: &Sms) -> Reply;
        sms_flush(r: &SmsFlush) -> Reply; mt_call(r: &MtCall) -> Reply; dialog_get(r: &DialogGet) -> Reply; dialog_set(r: &DialogSet) -> Reply;
        unregister(r: &Unregister) -> Reply;
    }

    impl NetContext for Ctx {
        fn metrics_text(&mut self) -> String {
            "up 1\n".into()
        }
    }

    fn net(waker: &Waker, max_send_queue: usize) -> NetIo {
        let mut cfg = ServerConfig::default();
        cfg.ws.max_send_queue = max_send_queue;
        let api = ApiListen { addr: "127.0.0.1:0".parse().unwrap(), server: ApiServer::new(cfg, [7; 32]), tls: None };
        NetIo::new(waker.fd(), Some(api), Some("127.0.0.1:0".parse().unwrap())).unwrap()
    }

    fn masked_text(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let repr = crate::api::ws::FrameRepr { fin: true, opcode: crate::api::ws::Opcode::Text, mask: Some([1, 2, 3, 4]), payload_len: s.len() as u64 };
        repr.emit(s.as_bytes(), &mut out);
        out
    }

    fn turn(n: &mut NetIo, ctx: &mut Ctx) {
        n.wait(true, Duration::from_millis(20));
        n.process(Instant::now(), ctx);
    }

    #[test]
    fn queue_wakeup_api_handshake_and_metrics_scrape() {
        let waker = std::sync::Arc::new(Waker::new().unwrap());
        let mut n = net(&waker, 1 << 20);
        let mut ctx = Ctx(NullContext);
        // The event queue's eventfd ends a wait early.
        waker.prepare_sleep();
        let w = waker.clone();
        let t = std::thread::spawn(move || w.wake());
        let start = Instant::now();
        n.wait(true, Duration::from_secs(5));
        t.join().unwrap();
        waker.finish_sleep();
        assert!(start.elapsed() < Duration::from_secs(2), "the eventfd did not wake the poll");
        // A WebSocket client gets its startup message.
        let mut c = std::net::TcpStream::connect(n.api_addr().unwrap()).unwrap();
        c.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://x\r\n\r\n").unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        for _ in 0..100 {
            turn(&mut n, &mut ctx);
            if let Ok(k) = c.read(&mut buf) {
                got.extend_from_slice(&buf[..k]);
            }
            if got.windows(7).any(|w| w == b"\"ready\"") {
                break;
            }
        }
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 101") && text.contains("\"ready\""), "{text}");
        // The metrics endpoint answers on the same loop.
        let mut m = std::net::TcpStream::connect(n.metrics_addr().unwrap()).unwrap();
        m.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        m.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
        let mut got = Vec::new();
        for _ in 0..100 {
            turn(&mut n, &mut ctx);
            match m.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => got.extend_from_slice(&buf[..k]),
                Err(_) => {}
            }
        }
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 200 OK") && text.ends_with("up 1\n"), "{text}");
    }

    #[test]
    fn a_client_that_never_reads_is_dropped_without_blocking_the_loop() {
        let waker = Waker::new().unwrap();
        let mut n = net(&waker, 64 * 1024);
        let mut ctx = Ctx(NullContext);
        let mut c = std::net::TcpStream::connect(n.api_addr().unwrap()).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://x\r\n\r\n").unwrap();
        c.set_nonblocking(true).unwrap();
        // Many help requests, never reading the answers: the kernel buffers fill,
        // then the bounded send queue, then the server drops the client.
        let req = masked_text(&format!("[{}]", vec![r#"{"message": "help"}"#; 200].join(",")));
        let start = Instant::now();
        let mut dropped = false;
        for _ in 0..2000 {
            let _ = c.write_all(&req);
            let t = Instant::now();
            turn(&mut n, &mut ctx);
            assert!(t.elapsed() < Duration::from_millis(500), "one loop turn blocked");
            if n.api.as_ref().is_some_and(|a| a.peers.iter().all(Option::is_none)) {
                dropped = true;
                break;
            }
        }
        assert!(dropped, "the client was never dropped ({:?})", start.elapsed());
    }
}
