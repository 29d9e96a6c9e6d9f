//! The backend-independent part of a worker: the handler, its outbox, sockets, connection
//! table and command queue, the execution of outbox operations, and the main loop. A
//! backend ([`Driver`]) only waits for readiness/completions and moves datagrams.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::counters::{bump, WorkerCounters};
use super::gso::GsoBatch;
use super::handler::{Handler, SocketId};
use super::outbox::{BufId, BufPool, Op, Outbox};
use super::queue::{Receiver, Waker};
use super::sockets::MEDIA_BIT;
use super::tcp::Tcp;

/// What a readiness or completion refers to, packed in the 64-bit user data / token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    Wake,
    Udp(u32),
    Listen(u32),
    Conn { slot: u32, generation: u32 },
    ConnWrite { slot: u32, generation: u32 },
    UdpSend(u32),
    UdpTrain(u32),
    Ignore,
}

impl Token {
    pub(crate) fn encode(self) -> u64 {
        let (kind, g, i): (u64, u32, u32) = match self {
            Token::Wake => (1, 0, 0),
            Token::Udp(i) => (2, 0, i),
            Token::Listen(i) => (3, 0, i),
            Token::Conn { slot, generation } => (4, generation, slot),
            Token::ConnWrite { slot, generation } => (5, generation, slot),
            Token::UdpSend(i) => (6, 0, i),
            Token::Ignore => (7, 0, 0),
            Token::UdpTrain(i) => (8, 0, i),
        };
        (kind << 56) | ((g as u64 & 0xffff) << 32) | i as u64
    }

    pub(crate) fn decode(v: u64) -> Token {
        let (g, i) = (((v >> 32) & 0xffff) as u32, v as u32);
        match v >> 56 {
            1 => Token::Wake,
            2 => Token::Udp(i),
            3 => Token::Listen(i),
            4 => Token::Conn { slot: i, generation: g },
            5 => Token::ConnWrite { slot: i, generation: g },
            6 => Token::UdpSend(i),
            8 => Token::UdpTrain(i),
            _ => Token::Ignore,
        }
    }
}

/// The backend's side of operation execution.
pub(crate) trait Io {
    /// Starts watching a connection for readability (and writability where edge-triggered).
    fn register_conn(&mut self, fd: RawFd, token: Token) -> io::Result<()>;
    /// Asks for one writability notification.
    fn want_write(&mut self, fd: RawFd, token: Token);
    /// Stops watching a connection (called before its fd is closed).
    fn deregister_conn(&mut self, fd: RawFd, token: Token);
    /// Sends (or queues for a batched send) one datagram; the backend releases `buf`.
    fn send_udp(&mut self, fd: RawFd, dst: SocketAddr, buf: BufId, pool: &mut BufPool);
    /// Pushes out any batched datagrams.
    fn flush_udp(&mut self, pool: &mut BufPool);
    /// Sends a train of two or more datagrams to one destination as one `UDP_SEGMENT`
    /// send ([`GsoBatch`]), in order after the datagrams queued before; the backend takes
    /// the batch's buffers and releases them.
    fn send_udp_train(&mut self, batch: &mut GsoBatch, pool: &mut BufPool);
    /// Starts receiving on a run-time UDP socket (`token` is its `Token::Udp`).
    fn register_udp(&mut self, fd: RawFd, token: Token) -> io::Result<()>;
    /// Stops receiving on a run-time UDP socket (called before its fd is closed).
    fn deregister_udp(&mut self, fd: RawFd);
}

/// A backend: arms the worker's sources, then waits and dispatches.
pub(crate) trait Driver: Io + Sized {
    /// Registers sockets, listeners and the command waker.
    fn arm<H: Handler>(&mut self, core: &Core<H>) -> io::Result<()>;
    /// Waits up to `timeout` (`None`: until something happens) and dispatches.
    fn wait<H: Handler>(&mut self, core: &mut Core<H>, timeout: Option<Duration>) -> io::Result<()>;
}

/// Operations executed between two outbox drains while commands are processed.
const COMMAND_CHUNK: usize = 32;
/// Timeouts handled in one turn before I/O gets a chance.
const TIMEOUT_BURST: usize = 64;

/// Everything a worker owns except the backend.
pub(crate) struct Core<H: Handler> {
    pub(crate) handler: H,
    pub(crate) out: Outbox,
    pub(crate) tcp: Tcp,
    pub(crate) udp: Vec<OwnedFd>,
    pub(crate) listeners: Vec<OwnedFd>,
    pub(crate) cmds: Receiver<H::Command>,
    pub(crate) waker: Arc<Waker>,
    pub(crate) counters: Arc<WorkerCounters>,
    pub(crate) stop: Arc<AtomicBool>,
    /// Datagrams being gathered into a GSO train (`None`: the kernel has no UDP GSO).
    pub(crate) gso: Option<GsoBatch>,
    /// `EngineConfig::coalesce`.
    pub(crate) coalesce: Option<Duration>,
    /// The control thread's waker: the handler's events are queued without waking it
    /// (`EventSender::send`); the turn's end does, once, if the turn queued any.
    pub(crate) control: Arc<Waker>,
    /// `counters.events` when the control thread was last woken for them.
    pub(crate) events_woken: u64,
}

impl<H: Handler> Core<H> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// One wake-up of the control thread for all the events this turn queued
    /// (handler.rs `EventSender::send`), and none for a turn that queued nothing: a turn
    /// that only carried out the control thread's commands would otherwise wake it from
    /// the sleep it just started, to find its queues empty (one of the two context
    /// switches of every round trip at low rates).
    fn wake_control(&mut self) {
        let events = self.counters.events.load(Ordering::Relaxed);
        if events != self.events_woken {
            self.events_woken = events;
            self.control.wake();
        }
    }

    fn run_commands(&mut self, now: Instant, io: &mut impl Io) {
        for i in 0..self.cmds.capacity() {
            let Some(cmd) = self.cmds.try_recv() else { break };
            self.handler.on_command(now, cmd, &mut self.out);
            if i % COMMAND_CHUNK == COMMAND_CHUNK - 1 {
                self.exec_ops(now, io);
            }
        }
    }

    /// Runs due timeouts; returns the next deadline.
    fn run_timers(&mut self, now: Instant) -> Option<Instant> {
        for _ in 0..TIMEOUT_BURST {
            match self.handler.poll_timeout() {
                Some(t) if t <= now => self.handler.handle_timeout(now, &mut self.out),
                other => return other,
            }
        }
        self.handler.poll_timeout()
    }

    /// The fd of a UDP socket datagrams are received from: a listener, or a live
    /// run-time socket (`None` for closed or stale ids).
    pub(crate) fn recv_fd(&self, sock: u32) -> Option<RawFd> {
        let id = u16::try_from(sock).ok()?;
        if id & MEDIA_BIT != 0 {
            return self.out.media_ref().live_fd(SocketId(id));
        }
        self.udp.get(usize::from(id)).map(|s| s.as_raw_fd())
    }

    fn train_ok(&self, sock: SocketId) -> bool {
        sock.0 & MEDIA_BIT != 0 && self.out.media_ref().is_udp(sock)
    }

    fn send_fd(&self, sock: SocketId) -> Option<RawFd> {
        if sock.0 & MEDIA_BIT != 0 {
            return self.out.media_ref().send_fd(sock);
        }
        self.udp.get(usize::from(sock.0)).map(|s| s.as_raw_fd())
    }

    /// Delivers one datagram received on the socket of `sock` (dropped when the socket was
    /// closed in the meantime: a late completion or a batch already read).
    pub(crate) fn datagram(&mut self, now: Instant, sock: u32, src: SocketAddr, data: &[u8]) {
        if self.recv_fd(sock).is_none() {
            return;
        }
        bump(&self.counters.rx_packets, 1);
        bump(&self.counters.rx_bytes, data.len() as u64);
        self.handler.on_datagram(now, SocketId(sock as u16), src, data, &mut self.out);
    }

    /// Accepts pending connections on listener `idx`.
    pub(crate) fn accept(&mut self, idx: u32, io: &mut impl Io) {
        if let Some(l) = self.listeners.get(idx as usize) {
            self.tcp.accept_from(l.as_raw_fd(), io);
        }
    }

    /// A connection became readable.
    pub(crate) fn conn_readable(&mut self, slot: u32, generation: u32, now: Instant, io: &mut impl Io) {
        self.tcp.on_readable(slot, generation, now, &mut self.handler, &mut self.out, io);
    }

    /// A connection became writable.
    pub(crate) fn conn_writable(&mut self, slot: u32, generation: u32, now: Instant, io: &mut impl Io) {
        self.tcp.on_writable(slot, generation, now, &mut self.handler, self.out.pool(), io);
    }

    /// Carries out every queued outbox operation. Consecutive datagrams for one destination
    /// with one length leave as a GSO train; any other operation first flushes the train,
    /// so the order of operations is kept.
    pub(crate) fn exec_ops(&mut self, now: Instant, io: &mut impl Io) {
        if self.out.is_empty() {
            return;
        }
        let mut ops = self.out.take_ops();
        for op in ops.drain(..) {
            if let Op::SendUdp { local, dst, buf } = op {
                match self.send_fd(local) {
                    // Only media (run-time UDP) sockets send trains: raw (ESP) sockets take
                    // whole packets, and SIP keeps one datagram per message so that packet
                    // captures (which see a train before it is split) show every message.
                    Some(fd) if !self.train_ok(local) => {
                        self.flush_train(io);
                        io.send_udp(fd, dst, buf, self.out.pool());
                    }
                    Some(fd) => self.send_udp(fd, dst, buf, io),
                    None => {
                        self.out.pool().release(buf);
                        bump(&self.counters.send_errors, 1);
                    }
                }
                continue;
            }
            self.flush_train(io);
            let pool = self.out.pool();
            match op {
                Op::SendUdp { .. } => {} // handled above
                Op::SendTcp { conn, buf } => self.tcp.send(conn, buf, now, &mut self.handler, pool, io),
                Op::ConnectAndSendTcp { dst, buf } => {
                    self.tcp.connect_and_send(dst, buf, now, &mut self.handler, pool, io)
                }
                Op::CloseTcp { conn } => self.tcp.close(conn, now, &mut self.handler, pool, io),
                Op::ArmUdp { sock } => self.arm_udp(sock, io),
                Op::CloseUdp { sock } => {
                    // Datagrams batched for this socket leave before it is closed.
                    io.flush_udp(self.out.pool());
                    if let Some(fd) = self.out.media().finish_close(sock) {
                        io.deregister_udp(fd.as_raw_fd());
                    }
                }
            }
        }
        self.flush_train(io);
        io.flush_udp(self.out.pool());
        self.out.restore_ops(ops);
    }

    fn send_udp(&mut self, fd: RawFd, dst: SocketAddr, buf: BufId, io: &mut impl Io) {
        let Some(batch) = self.gso.as_mut() else {
            io.send_udp(fd, dst, buf, self.out.pool());
            return;
        };
        if let Err(buf) = batch.try_push(fd, dst, buf) {
            self.flush_train(io);
            if let Some(Err(buf)) = self.gso.as_mut().map(|b| b.try_push(fd, dst, buf)) {
                // Unreachable (an empty batch accepts any datagram); send it alone.
                io.send_udp(fd, dst, buf, self.out.pool());
            }
        }
    }

    /// Sends the gathered train: alone when it holds one datagram, else as one GSO send.
    fn flush_train(&mut self, io: &mut impl Io) {
        let Some(batch) = self.gso.as_mut() else { return };
        match batch.bufs.len() {
            0 => {}
            1 => {
                if let (Some((fd, dst, _)), Some(buf)) = (batch.key(), batch.bufs.pop()) {
                    io.send_udp(fd, dst, buf, self.out.pool());
                }
                batch.reset();
            }
            _ => io.send_udp_train(batch, self.out.pool()),
        }
    }

    fn arm_udp(&mut self, sock: SocketId, io: &mut impl Io) {
        let Some(fd) = self.out.media().arm(sock) else { return };
        if io.register_udp(fd, Token::Udp(u32::from(sock.0))).is_err() {
            // Not receiving: the handler sees no datagram and closes it in due course.
            bump(&self.counters.send_errors, 1);
        }
    }
}

/// Sleeps until the end of the batching interval that started at this round, or the
/// handler's next deadline if sooner (`EngineConfig::coalesce`).
fn coalesce_sleep(interval_end: Instant, deadline: Option<Instant>) {
    let until = deadline.map_or(interval_end, |d| d.min(interval_end));
    let rest = until.saturating_duration_since(Instant::now());
    if !rest.is_zero() {
        std::thread::sleep(rest);
    }
}

/// The worker main loop: commands, timeouts, operations, then sleep until I/O, a command
/// or the handler's next deadline. Returns when the engine's stop flag is raised.
pub(crate) fn run<H: Handler, D: Driver>(core: &mut Core<H>, d: &mut D) -> io::Result<()> {
    d.arm(core)?;
    while !core.stopped() {
        let now = Instant::now();
        core.run_commands(now, d);
        let deadline = core.run_timers(now);
        core.exec_ops(now, d);
        core.wake_control();
        core.waker.prepare_sleep();
        let busy = !core.cmds.is_empty() || core.stopped();
        if let (Some(interval), false) = (core.coalesce, busy) {
            coalesce_sleep(now + interval, deadline);
        }
        let timeout = if busy { Some(Duration::ZERO) } else { deadline.map(|t| t.saturating_duration_since(Instant::now())) };
        let waited = d.wait(core, timeout);
        core.waker.finish_sleep();
        waited?;
    }
    let now = Instant::now();
    core.exec_ops(now, d);
    core.tcp.close_all(now, &mut core.handler, core.out.pool(), d);
    Ok(())
}
