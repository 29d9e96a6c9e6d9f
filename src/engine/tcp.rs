//! TCP connections of one worker, shared by both backends: a bounded table of connections,
//! each with a bounded receive buffer (the handler frames) and a bounded queue of
//! half-written sends. Backends only report readiness; all reads and writes are
//! non-blocking system calls made here.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Instant;

use super::counters::{bump, dec, WorkerCounters};
use super::handler::{ConnId, Handler, StreamVerdict};
use super::outbox::{BufId, BufPool, Outbox};
use super::sys;
use super::worker::{Io, Token};

/// Limits of the connection table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TcpLimits {
    pub max_conns: usize,
    pub max_msg: usize,
    pub send_queue: usize,
    pub keepalive: u32,
    pub keepcount: u32,
}

struct Conn {
    fd: OwnedFd,
    id: ConnId,
    peer: SocketAddr,
    rbuf: Box<[u8]>,
    rlen: usize,
    wq: VecDeque<(BufId, usize)>,
    connecting: bool,
    write_armed: bool,
}

/// Why a connection is being closed.
enum Gone {
    Eof,
    Error,
    Overflow,
    Verdict,
}

/// The connection table of one worker.
pub(crate) struct Tcp {
    worker: usize,
    limits: TcpLimits,
    slots: Vec<Option<Conn>>,
    gens: Vec<u32>,
    free: Vec<u32>,
    by_peer: HashMap<SocketAddr, u32>,
    counters: Arc<WorkerCounters>,
}

impl Tcp {
    pub(crate) fn new(worker: usize, limits: TcpLimits, counters: Arc<WorkerCounters>) -> Tcp {
        let n = limits.max_conns;
        Tcp {
            worker,
            limits,
            slots: (0..n).map(|_| None).collect(),
            gens: vec![0; n],
            free: (0..n as u32).rev().collect(),
            by_peer: HashMap::with_capacity(n),
            counters,
        }
    }

    fn token(&self, slot: u32) -> Token {
        Token::Conn { slot, generation: self.gens.get(slot as usize).copied().unwrap_or(0) }
    }

    fn get(&mut self, slot: u32, generation: u32) -> Option<&mut Conn> {
        if self.gens.get(slot as usize) != Some(&generation) {
            return None;
        }
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// The fd of a live connection (to re-arm a terminated multishot poll).
    pub(crate) fn fd_of(&mut self, slot: u32, generation: u32) -> Option<RawFd> {
        self.get(slot, generation).map(|c| c.fd.as_raw_fd())
    }

    fn insert(&mut self, fd: OwnedFd, peer: SocketAddr, connecting: bool, io: &mut impl Io) -> Option<u32> {
        let Some(slot) = self.free.pop() else {
            bump(&self.counters.tcp_refused, 1);
            return None;
        };
        let _ = sys::set_keepalive(&fd, self.limits.keepalive, self.limits.keepcount);
        let generation = self.gens.get(slot as usize).copied().unwrap_or(0);
        if io.register_conn(fd.as_raw_fd(), self.token(slot)).is_err() {
            self.free.push(slot);
            bump(&self.counters.send_errors, 1);
            return None;
        }
        let conn = Conn {
            fd,
            id: ConnId::new(self.worker, slot, generation),
            peer,
            rbuf: vec![0u8; self.limits.max_msg].into_boxed_slice(),
            rlen: 0,
            wq: VecDeque::with_capacity(self.limits.send_queue),
            connecting,
            write_armed: false,
        };
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = Some(conn);
        }
        self.by_peer.insert(peer, slot);
        bump(&self.counters.tcp_open, 1);
        bump(&self.counters.tcp_opened_total, 1);
        Some(slot)
    }

    /// Accepts every pending connection on `listener`; beyond the bound they are closed.
    pub(crate) fn accept_from(&mut self, listener: RawFd, io: &mut impl Io) {
        loop {
            match sys::accept(listener) {
                Ok((fd, peer)) => {
                    // A refused connection is dropped (closed) here.
                    let _ = self.insert(fd, peer, false, io);
                }
                Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => continue,
                Err(_) => return,
            }
        }
    }

    /// Reads everything available and hands it to the handler.
    pub(crate) fn on_readable<H: Handler>(&mut self, slot: u32, generation: u32, now: Instant, h: &mut H, out: &mut Outbox, io: &mut impl Io) {
        let counters = self.counters.clone();
        let Some(conn) = self.get(slot, generation) else { return };
        if conn.connecting {
            return;
        }
        if let Err(why) = conn.read_and_deliver(now, h, out, &counters) {
            self.close_slot(slot, why, now, h, out.pool(), io);
        }
    }

    /// Completes a connect and writes queued bytes.
    pub(crate) fn on_writable<H: Handler>(&mut self, slot: u32, generation: u32, now: Instant, h: &mut H, pool: &mut BufPool, io: &mut impl Io) {
        let token = self.token(slot);
        let counters = self.counters.clone();
        let Some(conn) = self.get(slot, generation) else { return };
        conn.write_armed = false;
        if conn.connecting {
            match sys::get_int(conn.fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_ERROR) {
                Ok(0) => conn.connecting = false,
                _ => {
                    bump(&counters.send_errors, 1);
                    return self.close_slot(slot, Gone::Error, now, h, pool, io);
                }
            }
        }
        if conn.flush(pool, &counters, token, io).is_err() {
            bump(&counters.send_errors, 1);
            self.close_slot(slot, Gone::Error, now, h, pool, io);
        }
    }

    /// `Op::SendTcp`: queue `buf` on `conn` and write what the socket takes.
    pub(crate) fn send<H: Handler>(&mut self, conn: ConnId, buf: BufId, now: Instant, h: &mut H, pool: &mut BufPool, io: &mut impl Io) {
        if conn.worker() != self.worker || self.get(conn.slot(), conn.generation()).is_none() {
            pool.release(buf);
            bump(&self.counters.send_errors, 1);
            return;
        }
        self.enqueue(conn.slot(), buf, now, h, pool, io);
    }

    /// `Op::ConnectAndSendTcp`: reuse the connection to `dst` or open one.
    pub(crate) fn connect_and_send<H: Handler>(&mut self, dst: SocketAddr, buf: BufId, now: Instant, h: &mut H, pool: &mut BufPool, io: &mut impl Io) {
        if let Some(&slot) = self.by_peer.get(&dst) {
            return self.enqueue(slot, buf, now, h, pool, io);
        }
        let opened = sys::socket(&dst, libc::SOCK_STREAM).and_then(|fd| {
            let done = sys::connect(fd.as_raw_fd(), &dst)?;
            Ok((fd, done))
        });
        let slot = match opened {
            Ok((fd, done)) => self.insert(fd, dst, !done, io),
            Err(_) => None,
        };
        match slot {
            Some(slot) => self.enqueue(slot, buf, now, h, pool, io),
            None => {
                pool.release(buf);
                bump(&self.counters.send_errors, 1);
            }
        }
    }

    fn enqueue<H: Handler>(&mut self, slot: u32, buf: BufId, now: Instant, h: &mut H, pool: &mut BufPool, io: &mut impl Io) {
        let token = self.token(slot);
        let (counters, bound) = (self.counters.clone(), self.limits.send_queue);
        let Some(conn) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) else {
            pool.release(buf);
            return;
        };
        if conn.wq.len() >= bound {
            // The peer does not read: drop the connection rather than grow.
            pool.release(buf);
            bump(&counters.tcp_overflow, 1);
            return self.close_slot(slot, Gone::Overflow, now, h, pool, io);
        }
        conn.wq.push_back((buf, 0));
        let result = if conn.connecting { conn.arm_write(token, io) } else { conn.flush(pool, &counters, token, io) };
        if result.is_err() {
            bump(&counters.send_errors, 1);
            self.close_slot(slot, Gone::Error, now, h, pool, io);
        }
    }

    /// `Op::CloseTcp`.
    pub(crate) fn close<H: Handler>(&mut self, conn: ConnId, now: Instant, h: &mut H, pool: &mut BufPool, io: &mut impl Io) {
        if conn.worker() == self.worker && self.get(conn.slot(), conn.generation()).is_some() {
            self.close_slot(conn.slot(), Gone::Verdict, now, h, pool, io);
        }
    }

    /// Closes every connection (worker shutdown).
    pub(crate) fn close_all<H: Handler>(&mut self, now: Instant, h: &mut H, pool: &mut BufPool, io: &mut impl Io) {
        for slot in 0..self.slots.len() as u32 {
            if self.slots.get(slot as usize).is_some_and(Option::is_some) {
                self.close_slot(slot, Gone::Verdict, now, h, pool, io);
            }
        }
    }

    fn close_slot<H: Handler>(&mut self, slot: u32, _why: Gone, now: Instant, h: &mut H, pool: &mut BufPool, io: &mut impl Io) {
        let token = self.token(slot);
        let Some(mut conn) = self.slots.get_mut(slot as usize).and_then(Option::take) else { return };
        io.deregister_conn(conn.fd.as_raw_fd(), token);
        for (buf, _) in conn.wq.drain(..) {
            pool.release(buf);
        }
        if self.by_peer.get(&conn.peer) == Some(&slot) {
            self.by_peer.remove(&conn.peer);
        }
        if let Some(g) = self.gens.get_mut(slot as usize) {
            *g = (*g + 1) & 0xffff;
        }
        self.free.push(slot);
        dec(&self.counters.tcp_open);
        drop(conn.fd);
        h.on_conn_closed(now, conn.id);
    }
}

impl Conn {
    /// Drains the socket into the receive buffer, offering the bytes to the handler after
    /// each read. Edge-triggered readiness requires reading until EAGAIN.
    fn read_and_deliver<H: Handler>(&mut self, now: Instant, h: &mut H, out: &mut Outbox, counters: &WorkerCounters) -> Result<(), Gone> {
        loop {
            let Some(spare) = self.rbuf.get_mut(self.rlen..).filter(|s| !s.is_empty()) else {
                // A message larger than the configured maximum.
                bump(&counters.tcp_overflow, 1);
                return Err(Gone::Overflow);
            };
            match sys::recv(self.fd.as_raw_fd(), spare) {
                Ok(0) => return Err(Gone::Eof),
                Ok(n) => {
                    self.rlen += n;
                    bump(&counters.rx_bytes, n as u64);
                    self.deliver(now, h, out, counters)?;
                }
                Err(e) if sys::would_block(&e) => return Ok(()),
                Err(_) => return Err(Gone::Error),
            }
        }
    }

    fn deliver<H: Handler>(&mut self, now: Instant, h: &mut H, out: &mut Outbox, counters: &WorkerCounters) -> Result<(), Gone> {
        let mut start = 0;
        while let Some(data) = self.rbuf.get(start..self.rlen).filter(|d| !d.is_empty()) {
            match h.on_stream(now, self.id, self.peer, data, out) {
                StreamVerdict::Consumed(0) => break,
                StreamVerdict::Consumed(k) => {
                    start += k.min(data.len());
                    bump(&counters.rx_packets, 1);
                }
                StreamVerdict::Close => return Err(Gone::Verdict),
            }
        }
        self.rbuf.copy_within(start..self.rlen, 0);
        self.rlen -= start;
        Ok(())
    }

    /// Writes queued buffers until done or EAGAIN (then asks for writability).
    fn flush(&mut self, pool: &mut BufPool, counters: &WorkerCounters, token: Token, io: &mut impl Io) -> io::Result<()> {
        while let Some((buf, off)) = self.wq.front_mut() {
            let bytes = pool.bytes(buf).get(*off..).unwrap_or(&[]);
            if bytes.is_empty() {
                if let Some((buf, _)) = self.wq.pop_front() {
                    pool.release(buf);
                }
                bump(&counters.tx_packets, 1);
                continue;
            }
            match sys::send(self.fd.as_raw_fd(), bytes) {
                Ok(n) => {
                    *off += n;
                    bump(&counters.tx_bytes, n as u64);
                }
                Err(e) if sys::would_block(&e) => return self.arm_write(token, io),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn arm_write(&mut self, token: Token, io: &mut impl Io) -> io::Result<()> {
        if !self.write_armed {
            self.write_armed = true;
            io.want_write(self.fd.as_raw_fd(), token);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::handler::SocketId;
    use crate::engine::outbox::Op;
    use std::os::fd::FromRawFd;

    struct Nop;
    impl Handler for Nop {
        type Command = ();
        type Event = ();
        fn on_datagram(&mut self, _: Instant, _: SocketId, _: SocketAddr, _: &[u8], _: &mut Outbox) {}
        fn on_stream(&mut self, _: Instant, _: ConnId, _: SocketAddr, d: &[u8], _: &mut Outbox) -> StreamVerdict {
            StreamVerdict::Consumed(d.len())
        }
        fn on_command(&mut self, _: Instant, _: (), _: &mut Outbox) {}
    }

    #[derive(Default)]
    struct Recorder {
        want_write: usize,
    }
    impl Io for Recorder {
        fn register_conn(&mut self, _: RawFd, _: Token) -> io::Result<()> {
            Ok(())
        }
        fn want_write(&mut self, _: RawFd, _: Token) {
            self.want_write += 1;
        }
        fn deregister_conn(&mut self, _: RawFd, _: Token) {}
        fn send_udp(&mut self, _: RawFd, _: SocketAddr, buf: BufId, pool: &mut BufPool) {
            pool.release(buf);
        }
        fn flush_udp(&mut self, _: &mut BufPool) {}
        fn send_udp_train(&mut self, batch: &mut crate::engine::gso::GsoBatch, pool: &mut BufPool) {
            for buf in batch.bufs.drain(..) {
                pool.release(buf);
            }
            batch.reset();
        }
        fn register_udp(&mut self, _: RawFd, _: Token) -> io::Result<()> {
            Ok(())
        }
        fn deregister_udp(&mut self, _: RawFd) {}
    }

    fn pair() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // Safety: `fds` has room for the two descriptors socketpair writes.
        let r = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0, fds.as_mut_ptr()) };
        assert_eq!(r, 0);
        // Safety: both fds are fresh and owned by nobody else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    #[test]
    fn half_written_sends_are_queued_and_completed() {
        let counters = Arc::new(WorkerCounters::default());
        let limits = TcpLimits { max_conns: 1, max_msg: 64, send_queue: 8, keepalive: 0, keepcount: 0 };
        let mut tcp = Tcp::new(0, limits, counters.clone());
        let mut out = Outbox::new(8, 16 * 1024, counters.clone());
        let (mut io, mut h, now) = (Recorder::default(), Nop, Instant::now());
        let (a, b) = pair();
        let _ = sys::set_int(a.as_raw_fd(), libc::SOL_SOCKET, libc::SO_SNDBUF, 4096);
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap_or_else(|_| unreachable!());
        let slot = tcp.insert(a, peer, false, &mut io).unwrap_or_else(|| panic!("table has room"));
        let conn = ConnId::new(0, slot, 0);
        // 6 x 16 KiB, far above the socket buffer: the first write is partial.
        let expected: Vec<u8> = (0..6 * 16 * 1024).map(|i| (i % 251) as u8).collect();
        for chunk in expected.chunks(16 * 1024) {
            assert!(out.send_tcp(conn, chunk).is_ok());
        }
        let mut ops = out.take_ops();
        for op in ops.drain(..) {
            if let Op::SendTcp { conn, buf } = op {
                tcp.send(conn, buf, now, &mut h, out.pool(), &mut io);
            }
        }
        out.restore_ops(ops);
        assert_eq!(io.want_write, 1, "blocked once, writability requested once");
        let mut got = Vec::new();
        let mut buf = vec![0u8; 8192];
        for _ in 0..10_000 {
            match sys::recv(b.as_raw_fd(), &mut buf) {
                Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                _ => tcp.on_writable(slot, 0, now, &mut h, out.pool(), &mut io),
            }
            if got.len() == expected.len() {
                break;
            }
        }
        assert!(got == expected, "all bytes arrive, in order");
        assert!(io.want_write > 1, "the queue drained over several writable events");
        assert_eq!(counters.snapshot().tx_packets, 6);
        // Every pool slot came back.
        for _ in 0..8 {
            assert!(out.send_tcp(conn, b"x").is_ok());
        }
    }
}
