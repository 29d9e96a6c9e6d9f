//! Engine tests. Each engine test runs on every backend available here: io_uring and epoll,
//! or only epoll when `RINGCORE_FORCE_EPOLL=1`. All sockets are on loopback; every wait is
//! bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use super::echo::{EchoCommand, EchoEvent, EchoHandler, Framing};
use super::queue::{channel, Waker};
use super::steer::{bind_group, Proto};
use super::worker::Token;
use super::*;

const WAIT: Duration = Duration::from_secs(5);

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|_| panic!("bad test address {s}"))
}

fn backends() -> Vec<Backend> {
    if std::env::var(FORCE_EPOLL_ENV).is_ok_and(|v| v == "1") {
        return vec![Backend::Epoll];
    }
    let mut v = vec![Backend::Epoll];
    if uring::probe() {
        v.push(Backend::Uring);
    }
    v
}

fn small_cfg(backend: Backend, workers: usize) -> EngineConfig {
    EngineConfig {
        backend,
        workers: Some(workers),
        queue_capacity: 64,
        ring_entries: 64,
        rx_buffers: 64,
        max_datagram: 2048,
        batch: 8,
        out_slots: 128,
        out_slot_size: 2048,
        max_tcp_conns: 8,
        max_msg_size: 1024,
        tcp_send_queue: 8,
        tcp_keepalive: 30,
        tcp_keepcount: 3,
        ..EngineConfig::default()
    }
}

type Echo = Engine<EchoCommand, EchoEvent>;

fn start(cfg: EngineConfig, listeners: Listeners, framing: Framing) -> Echo {
    match Engine::start(cfg, &listeners, move |ctx| EchoHandler::new(ctx, framing)) {
        Ok(e) => e,
        Err(e) => panic!("engine start: {e}"),
    }
}

fn total(e: &Echo, f: fn(&CounterSnapshot) -> u64) -> u64 {
    (0..e.n_workers()).filter_map(|i| e.counters(i)).map(|c| f(&c.snapshot())).sum()
}

fn udp_client(local: &str) -> UdpSocket {
    let s = UdpSocket::bind(addr(local)).unwrap_or_else(|e| panic!("bind client: {e}"));
    let _ = s.set_read_timeout(Some(WAIT));
    s
}

fn tcp_client(to: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&to, WAIT).unwrap_or_else(|e| panic!("connect {to}: {e}"));
    let _ = s.set_read_timeout(Some(WAIT));
    let _ = s.set_nodelay(true);
    s
}

/// Reads until `want` bytes arrived (or EOF / timeout).
fn read_exact_bytes(s: &mut TcpStream, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    let deadline = Instant::now() + WAIT;
    while got.len() < want && Instant::now() < deadline {
        match s.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

/// Polls `cond` until it holds or `WAIT` passes.
fn eventually(cond: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

#[test]
fn udp_echo_v4_and_v6() {
    for backend in backends() {
        let listeners = Listeners { udp: vec![addr("127.0.0.1:0"), addr("[::1]:0")], tcp: vec![] };
        let mut e = start(small_cfg(backend, 2), listeners, Framing::Raw);
        let servers = e.udp_addrs().to_vec();
        for (server, local) in servers.iter().zip(["127.0.0.1:0", "[::1]:0"]) {
            for i in 0..8 {
                let c = udp_client(local);
                let msg = format!("hello {i} via {server}");
                let _ = c.send_to(msg.as_bytes(), server);
                let mut buf = [0u8; 256];
                let (n, from) = c.recv_from(&mut buf).unwrap_or_else(|err| panic!("{backend:?}: no echo: {err}"));
                assert_eq!(&buf[..n], msg.as_bytes(), "{backend:?}");
                assert_eq!(from, *server, "{backend:?}: reply from the reuseport address");
            }
        }
        assert!(total(&e, |c| c.rx_packets) >= 16, "{backend:?}");
        // io_uring counts a send when its completion is reaped, possibly after the reply.
        assert!(eventually(|| total(&e, |c| c.tx_packets) >= 16), "{backend:?}");
        assert!(e.shutdown().is_ok());
    }
}

#[test]
fn tcp_line_framing_split_and_coalesced() {
    for backend in backends() {
        let listeners = Listeners { udp: vec![], tcp: vec![addr("127.0.0.1:0"), addr("[::1]:0")] };
        let mut e = start(small_cfg(backend, 2), listeners, Framing::Lines);
        for server in e.tcp_addrs().to_vec() {
            let mut c = tcp_client(server);
            // One message split over three writes.
            for part in [&b"IN"[..], b"VITE sip:a", b"@b\n"] {
                let _ = c.write_all(part);
                std::thread::sleep(Duration::from_millis(30));
            }
            // Two messages in one write.
            let _ = c.write_all(b"one\ntwo\n");
            let want = b"ok:INVITE sip:a@b\nok:one\nok:two\n";
            assert_eq!(read_exact_bytes(&mut c, want.len()), want.to_vec(), "{backend:?} {server}");
        }
        assert!(e.shutdown().is_ok());
    }
}

/// Binds a group of `n`, sends from many source ports, and checks that every datagram
/// lands on socket `steer(src, n)`.
fn check_udp_steering(bind: &str, client: &str, n: usize) {
    let (socks, local) = bind_group(addr(bind), Proto::Udp, n).unwrap_or_else(|e| panic!("bind group: {e}"));
    let servers: Vec<UdpSocket> = socks.into_iter().map(UdpSocket::from).collect();
    let mut sent = Vec::new();
    for _ in 0..64 {
        let c = udp_client(client);
        let _ = c.send_to(b"x", local);
        sent.push(c.local_addr().unwrap_or_else(|e| panic!("{e}")));
    }
    let mut received = 0;
    for (i, s) in servers.iter().enumerate() {
        let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
        let mut buf = [0u8; 16];
        while let Ok((_, src)) = s.recv_from(&mut buf) {
            assert_eq!(steer(src, n), i, "datagram from {src} landed on socket {i}");
            received += 1;
        }
    }
    assert_eq!(received, sent.len(), "every datagram received exactly once");
}

#[test]
fn udp_steering_matches_kernel() {
    check_udp_steering("127.0.0.1:0", "127.0.0.1:0", 4);
    check_udp_steering("[::1]:0", "[::1]:0", 3);
}

#[test]
fn tcp_steering_matches_kernel() {
    for (bind, n) in [("127.0.0.1:0", 3), ("[::1]:0", 4)] {
        let (socks, local) = bind_group(addr(bind), Proto::Tcp { backlog: 128 }, n).unwrap_or_else(|e| panic!("{e}"));
        let listeners: Vec<TcpListener> = socks.into_iter().map(|fd: OwnedFd| TcpListener::from(fd)).collect();
        let clients: Vec<TcpStream> = (0..32).map(|_| tcp_client(local)).collect();
        let mut accepted = 0;
        let deadline = Instant::now() + WAIT;
        while accepted < clients.len() && Instant::now() < deadline {
            for (i, l) in listeners.iter().enumerate() {
                while let Ok((_, peer)) = l.accept() {
                    assert_eq!(steer(peer, n), i, "SYN from {peer} accepted on listener {i}");
                    accepted += 1;
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(accepted, clients.len());
    }
}

#[test]
fn steer_is_port_xor_low_address_bits() {
    assert_eq!(steer(addr("127.0.0.1:5060"), 4), (5060 ^ 1) % 4);
    assert_eq!(steer(addr("10.1.2.3:1000"), 7), (1000 ^ 0x0203) % 7);
    assert_eq!(steer(addr("[2001:db8::1:abcd]:5060"), 3), (5060 ^ 0xabcd) % 3);
    assert_eq!(steer(addr("127.0.0.1:5060"), 0), 0, "no workers never divides by zero");
}

#[test]
fn command_round_trip_wakes_sleeping_worker() {
    for backend in backends() {
        let mut e = start(small_cfg(backend, 2), Listeners::default(), Framing::Raw);
        // The workers have nothing to do and no timeout: they are asleep.
        std::thread::sleep(Duration::from_millis(200));
        for w in 0..2 {
            let sent = e.commands(w).map(|c| c.send(EchoCommand::Ping(40 + w as u64)));
            assert!(matches!(sent, Some(Ok(()))));
            let got = e.events().recv_timeout(WAIT);
            assert_eq!(got, Some((w, EchoEvent::Pong { worker: w, token: 40 + w as u64 })), "{backend:?}");
        }
        assert!(e.shutdown().is_ok());
    }
}

#[test]
fn full_queue_returns_the_item() {
    let waker = std::sync::Arc::new(Waker::new().unwrap_or_else(|e| panic!("{e}")));
    let (tx, rx) = channel::<u32>(2, waker);
    assert_eq!(tx.send(1), Ok(()));
    assert_eq!(tx.send(2), Ok(()));
    assert_eq!(tx.send(3), Err(3));
    assert_eq!(tx.full_count(), 1);
    assert_eq!(rx.try_recv(), Some(1));
    assert_eq!(tx.send(4), Ok(()));
    assert_eq!((rx.try_recv(), rx.try_recv(), rx.try_recv()), (Some(2), Some(4), None));
}

/// True when the eventfd is readable now.
fn readable(w: &Waker) -> bool {
    let mut pfd = libc::pollfd { fd: w.fd(), events: libc::POLLIN, revents: 0 };
    // Safety: one valid pollfd on the stack, count 1, no wait.
    unsafe { libc::poll(&mut pfd, 1, 0) == 1 }
}

#[test]
fn waker_writes_only_for_a_sleeper_and_is_drained_after() {
    let waker = std::sync::Arc::new(Waker::new().unwrap_or_else(|e| panic!("{e}")));
    let (tx, rx) = channel::<u32>(8, waker.clone());
    assert_eq!(tx.send(1), Ok(()));
    assert!(!readable(&waker), "consumer awake: no eventfd write");
    waker.prepare_sleep();
    assert_eq!(tx.send(2), Ok(()));
    assert!(readable(&waker), "consumer asleep: woken");
    assert_eq!(tx.send(3), Ok(()));
    // Edge-triggered consumers leave the counter as it is (no read per wake-up).
    waker.finish_sleep();
    assert!(readable(&waker), "not read by an edge-triggered consumer");
    // A level-triggered consumer resets it after the wake.
    waker.prepare_sleep();
    waker.finish_sleep_level();
    assert!(!readable(&waker), "drained after the wake");
    // A turn that nobody woke leaves nothing behind either.
    waker.prepare_sleep();
    waker.finish_sleep_level();
    assert!(!readable(&waker));
    assert_eq!((rx.try_recv(), rx.try_recv(), rx.try_recv(), rx.try_recv()), (Some(1), Some(2), Some(3), None));
}

#[test]
fn handler_timeout_wakes_sleeping_worker() {
    for backend in backends() {
        let mut e = start(small_cfg(backend, 1), Listeners::default(), Framing::Raw);
        let at = Instant::now() + Duration::from_millis(300);
        assert!(matches!(e.commands(0).map(|c| c.send(EchoCommand::WakeAt(at, 9))), Some(Ok(()))));
        match e.events().recv_timeout(WAIT) {
            Some((0, EchoEvent::Timer { token: 9, fired })) => {
                assert!(fired >= at, "{backend:?}: fired early");
                assert!(fired < at + Duration::from_secs(3), "{backend:?}: fired late");
            }
            other => panic!("{backend:?}: expected the timer, got {other:?}"),
        }
        assert!(e.shutdown().is_ok());
    }
}

#[test]
fn connection_bound_is_enforced() {
    for backend in backends() {
        let cfg = EngineConfig { max_tcp_conns: 2, ..small_cfg(backend, 1) };
        let mut e = start(cfg, Listeners { udp: vec![], tcp: vec![addr("127.0.0.1:0")] }, Framing::Lines);
        let server = e.tcp_addrs()[0];
        let mut kept = Vec::new();
        for _ in 0..2 {
            let mut c = tcp_client(server);
            let _ = c.write_all(b"hi\n");
            assert_eq!(read_exact_bytes(&mut c, 6), b"ok:hi\n".to_vec(), "{backend:?}");
            kept.push(c);
        }
        let mut third = tcp_client(server);
        let _ = third.write_all(b"hi\n");
        assert!(read_exact_bytes(&mut third, 6).is_empty(), "{backend:?}: third connection must be closed");
        assert_eq!(total(&e, |c| c.tcp_refused), 1, "{backend:?}");
        assert_eq!(total(&e, |c| c.tcp_open), 2, "{backend:?}");
        drop(kept);
        // Closing frees the slots: a new connection is served again.
        assert!(eventually(|| total(&e, |c| c.tcp_open) == 0), "{backend:?}");
        let mut again = tcp_client(server);
        let _ = again.write_all(b"yo\n");
        assert_eq!(read_exact_bytes(&mut again, 6), b"ok:yo\n".to_vec(), "{backend:?}");
        assert!(e.shutdown().is_ok());
    }
}

#[test]
fn outgoing_connection_is_reused_and_answers_on_it() {
    for backend in backends() {
        let mut e = start(small_cfg(backend, 1), Listeners::default(), Framing::Lines);
        let peer = TcpListener::bind(addr("127.0.0.1:0")).unwrap_or_else(|err| panic!("{err}"));
        let dst = peer.local_addr().unwrap_or_else(|err| panic!("{err}"));
        for msg in [&b"one\n"[..], b"two\n"] {
            assert!(matches!(e.commands(0).map(|c| c.send(EchoCommand::SendTcpTo(dst, msg.to_vec()))), Some(Ok(()))));
        }
        let (mut conn, _) = peer.accept().unwrap_or_else(|err| panic!("{err}"));
        let _ = conn.set_read_timeout(Some(WAIT));
        assert_eq!(read_exact_bytes(&mut conn, 8), b"one\ntwo\n".to_vec(), "{backend:?}");
        // Bytes from the peer reach the handler, whose reply goes back on the same connection.
        let _ = conn.write_all(b"back\n");
        assert_eq!(read_exact_bytes(&mut conn, 8), b"ok:back\n".to_vec(), "{backend:?}");
        peer.set_nonblocking(true).unwrap_or_else(|err| panic!("{err}"));
        assert!(peer.accept().is_err(), "{backend:?}: a single connection was used");
        assert_eq!(total(&e, |c| c.tcp_opened_total), 1);
        assert!(e.shutdown().is_ok());
    }
}

#[test]
fn shutdown_joins_within_a_second() {
    for backend in backends() {
        let listeners = Listeners { udp: vec![addr("127.0.0.1:0")], tcp: vec![addr("127.0.0.1:0")] };
        let mut e = start(small_cfg(backend, 2), listeners, Framing::Raw);
        let _open = tcp_client(e.tcp_addrs()[0]);
        std::thread::sleep(Duration::from_millis(100));
        let t0 = Instant::now();
        assert!(e.shutdown().is_ok());
        assert!(t0.elapsed() < Duration::from_secs(1), "{backend:?}: shutdown took {:?}", t0.elapsed());
        assert!(e.shutdown().is_ok(), "idempotent");
    }
}

#[test]
fn tokens_and_addresses_round_trip() {
    for t in [
        Token::Wake,
        Token::Udp(7),
        Token::Listen(3),
        Token::Conn { slot: 1 << 20, generation: 0xfffe },
        Token::ConnWrite { slot: 5, generation: 1 },
        Token::UdpSend(99),
    ] {
        assert_eq!(Token::decode(t.encode()), t);
    }
    for a in ["127.0.0.1:5060", "[::1]:5061", "[fe80::1%2]:1"] {
        let a = addr(a);
        let (ss, len) = sys::to_raw(&a);
        assert_eq!(sys::from_storage(&ss, len), Some(a));
    }
    assert_eq!(sys::from_bytes(&[0, 0, 1]), None, "short input is rejected");
}

/// Sends `cmd` to worker 0 and returns its answer.
fn ask(e: &mut Echo, cmd: EchoCommand) -> EchoEvent {
    assert!(matches!(e.commands(0).map(|c| c.send(cmd)), Some(Ok(()))));
    match e.events().recv_timeout(WAIT) {
        Some((0, ev)) => ev,
        other => panic!("no answer from worker 0: {other:?}"),
    }
}

fn open_udp(e: &mut Echo, at: &str) -> Result<(SocketId, SocketAddr), std::io::ErrorKind> {
    match ask(e, EchoCommand::OpenUdp(addr(at))) {
        EchoEvent::UdpOpened(r) => r,
        other => panic!("expected UdpOpened, got {other:?}"),
    }
}

fn echoed(c: &UdpSocket, to: SocketAddr, msg: &[u8]) -> Option<SocketAddr> {
    let _ = c.send_to(msg, to);
    let mut buf = [0u8; 256];
    let (n, from) = c.recv_from(&mut buf).ok()?;
    (buf.get(..n) == Some(msg)).then_some(from)
}

#[test]
fn runtime_udp_sockets_open_echo_close_and_bound() {
    for backend in backends() {
        let cfg = EngineConfig { max_media_sockets: 2, ..small_cfg(backend, 1) };
        let mut e = start(cfg, Listeners { udp: vec![addr("127.0.0.1:0")], tcp: vec![] }, Framing::Raw);
        let sip = e.udp_addrs()[0];
        let (a, a_addr) = open_udp(&mut e, "127.0.0.1:0").unwrap_or_else(|k| panic!("{backend:?}: open: {k:?}"));
        assert!(a.is_runtime() && a_addr.port() != 0, "{backend:?}");
        let c = udp_client("127.0.0.1:0");
        for i in 0..20 {
            let msg = format!("rtp {i}");
            assert_eq!(echoed(&c, a_addr, msg.as_bytes()), Some(a_addr), "{backend:?}: echo from the new port");
        }
        let (b, b_addr) = open_udp(&mut e, "[::1]:0").unwrap_or_else(|k| panic!("{backend:?}: open v6: {k:?}"));
        assert_eq!(open_udp(&mut e, "127.0.0.1:0"), Err(std::io::ErrorKind::OutOfMemory), "{backend:?}: bound of 2");
        assert_eq!(total(&e, |c| c.udp_refused), 1);
        assert_eq!(total(&e, |c| c.udp_open), 2);
        // Closing stops the echo; the id is then stale and closing it again does nothing.
        assert_eq!(ask(&mut e, EchoCommand::CloseUdp(a)), EchoEvent::UdpClosed(true));
        let _ = c.set_read_timeout(Some(Duration::from_millis(300)));
        assert_eq!(echoed(&c, a_addr, b"late"), None, "{backend:?}: closed socket must not echo");
        assert_eq!(ask(&mut e, EchoCommand::CloseUdp(a)), EchoEvent::UdpClosed(false));
        // The freed slot is reused under a new id; the listener keeps working.
        let (a2, a2_addr) = open_udp(&mut e, "127.0.0.1:0").unwrap_or_else(|k| panic!("{backend:?}: reopen: {k:?}"));
        assert_ne!(a2, a, "{backend:?}: new generation");
        let _ = c.set_read_timeout(Some(WAIT));
        assert_eq!(echoed(&c, a2_addr, b"again"), Some(a2_addr), "{backend:?}");
        assert_eq!(echoed(&c, sip, b"sip"), Some(sip), "{backend:?}: listener id unchanged");
        let c6 = udp_client("[::1]:0");
        assert!(b.is_runtime());
        assert_eq!(echoed(&c6, b_addr, b"v6"), Some(b_addr), "{backend:?}");
        assert_eq!(total(&e, |c| c.udp_open), 2);
        assert!(e.shutdown().is_ok());
    }
}

/// A burst of datagrams from one client to a run-time (media) socket: the echo's replies
/// leave as GSO trains (same length; a shorter one closes a train) and every datagram
/// arrives intact. Replies on the configured (SIP) sockets never form trains.
#[test]
fn udp_bursts_leave_as_gso_trains_intact() {
    for backend in backends() {
        let listeners = Listeners { udp: vec![addr("127.0.0.1:0")], tcp: vec![] };
        // A batching interval, so the burst is read in few turns whatever the scheduling
        // (a worker woken for each datagram as it comes has nothing to gather).
        let cfg = EngineConfig { coalesce: Some(Duration::from_millis(20)), ..small_cfg(backend, 1) };
        let mut e = start(cfg, listeners, Framing::Raw);
        let sip = e.udp_addrs()[0];
        let c = udp_client("127.0.0.1:0");
        for i in 0..20u8 {
            let _ = c.send_to(&[i; 100], sip);
        }
        let mut buf = [0u8; 256];
        for _ in 0..20 {
            assert!(c.recv_from(&mut buf).is_ok(), "{backend:?}: SIP socket echo");
        }
        assert_eq!(total(&e, |c| c.gso_trains), 0, "{backend:?}: no train on a configured socket");
        let (_, server) = open_udp(&mut e, "127.0.0.1:0").unwrap_or_else(|k| panic!("{backend:?}: open_udp: {k:?}"));
        let msg = |i: usize| -> Vec<u8> {
            // Mostly 172-byte packets, every 7th shorter, every 11th longer.
            let len = if i % 7 == 6 { 60 } else if i % 11 == 10 { 400 } else { 172 };
            (0..len).map(|k| (i + k) as u8).collect()
        };
        let n = 60;
        let mut want: Vec<Vec<u8>> = (0..n).map(msg).collect();
        for m in &want {
            let _ = c.send_to(m, server);
        }
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        while got.len() < n {
            match c.recv_from(&mut buf) {
                Ok((k, _)) => got.push(buf[..k].to_vec()),
                Err(err) => panic!("{backend:?}: {} of {n} echoed: {err}", got.len()),
            }
        }
        want.sort();
        got.sort();
        assert_eq!(got, want, "{backend:?}: every datagram comes back unchanged");
        assert!(eventually(|| total(&e, |c| c.tx_packets) >= n as u64 + 20), "{backend:?}");
        if super::gso::probe() {
            assert!(total(&e, |c| c.gso_trains) > 0, "{backend:?}: a burst forms at least one train");
        }
        assert!(e.shutdown().is_ok());
    }
}

/// `coalesce`: after a round the worker sleeps out the interval before it reads its
/// sockets again, so a datagram arriving just after a round waits for the next one.
#[test]
fn coalesce_interval_defers_the_next_read() {
    let interval = Duration::from_millis(200);
    for backend in backends() {
        let listeners = Listeners { udp: vec![addr("127.0.0.1:0")], tcp: vec![] };
        let cfg = EngineConfig { coalesce: Some(interval), ..small_cfg(backend, 1) };
        let mut e = start(cfg, listeners, Framing::Raw);
        let server = e.udp_addrs()[0];
        let c = udp_client("127.0.0.1:0");
        let mut buf = [0u8; 64];
        let _ = c.send_to(b"first", server);
        let first = c.recv_from(&mut buf).map(|_| Instant::now());
        assert!(first.is_ok(), "{backend:?}: the first datagram is echoed");
        let _ = c.send_to(b"second", server);
        let (n, _) = c.recv_from(&mut buf).unwrap_or_else(|err| panic!("{backend:?}: no second echo: {err}"));
        assert_eq!(&buf[..n], b"second");
        let gap = first.map(|t| t.elapsed()).unwrap_or_default();
        // The round that echoed "first" began before it was echoed, so the next read is at
        // most one interval later and at least the interval minus that round's length.
        assert!(gap >= interval / 2, "{backend:?}: second echo after only {gap:?}");
        assert!(e.shutdown().is_ok());
    }
}

/// A burst that arrives while the worker is busy (here: sleeping out a batching interval)
/// waits in the socket's receive buffer, and every datagram of it is delivered, on run-time
/// and configured sockets alike. The kernel's default buffer (`rmem_default`, 208 KiB)
/// holds only about 90 datagrams of 1000 bytes: `ringload --ipsec` lost the rest of the
/// burst of protected REGISTERs that followed a stall of the core (kernel `RcvbufErrors`,
/// invisible to the engine's counters), and those UEs waited 500 ms for Timer E.
#[test]
fn udp_burst_during_a_busy_round_is_not_dropped() {
    const BURST: usize = 400;
    for backend in backends() {
        let listeners = Listeners { udp: vec![addr("127.0.0.1:0")], tcp: vec![] };
        let cfg = EngineConfig { coalesce: Some(Duration::from_millis(300)), ..small_cfg(backend, 1) };
        let mut e = start(cfg, listeners, Framing::Raw);
        let sip = e.udp_addrs()[0];
        let (_, media) = open_udp(&mut e, "127.0.0.1:0").unwrap_or_else(|k| panic!("{backend:?}: open_udp: {k:?}"));
        for server in [media, sip] {
            let c = udp_client("127.0.0.1:0");
            // Once the marker is echoed the worker sleeps out its interval: nobody reads.
            assert!(echoed(&c, server, b"mark").is_some(), "{backend:?}: {server} echoes");
            let before = total(&e, |c| c.rx_packets);
            for i in 0..BURST {
                let _ = c.send_to(&[i as u8; 1000], server);
            }
            let want = before + BURST as u64;
            let all = eventually(|| total(&e, |c| c.rx_packets) >= want);
            let got = total(&e, |c| c.rx_packets) - before;
            assert!(all, "{backend:?}: {server} received {got} of a burst of {BURST}");
        }
        assert!(e.shutdown().is_ok());
    }
}

/// The process asks the kernel for no transparent huge pages (sys.rs), and the kernel
/// reports it in /proc/self/status (`THP_enabled`, Linux 5.0+).
#[test]
fn transparent_huge_pages_can_be_turned_off_for_the_process() {
    assert!(super::disable_transparent_huge_pages(), "prctl(PR_SET_THP_DISABLE) refused");
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let line = status.lines().find(|l| l.starts_with("THP_enabled:"));
    if let Some(line) = line {
        assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
    }
}
