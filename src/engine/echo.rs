//! `EchoHandler`: echoes datagrams and stream bytes. Used by the engine tests and by the
//! perf comparison; it also answers pings and runs timers so the command and event queues
//! and the worker's timeout handling can be exercised.

use std::net::SocketAddr;
use std::time::Instant;

use super::handler::{ConnId, Handler, SocketId, StreamVerdict, WorkerCtx};
use super::outbox::Outbox;

/// How stream bytes are echoed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Echo whatever arrives.
    Raw,
    /// Echo complete `\n`-terminated lines, one reply per line, prefixed with `ok:`.
    Lines,
}

/// Commands understood by [`EchoHandler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EchoCommand {
    /// Answer with `EchoEvent::Pong`.
    Ping(u64),
    /// Emit `EchoEvent::Timer` once `at` has passed.
    WakeAt(Instant, u64),
    /// Send `data` to `dst` over TCP (reusing this worker's connection to it).
    SendTcpTo(SocketAddr, Vec<u8>),
    /// Open a run-time UDP socket bound to the address; answered by `UdpOpened`.
    OpenUdp(SocketAddr),
    /// Close a run-time UDP socket; answered by `UdpClosed`.
    CloseUdp(SocketId),
}

/// Events emitted by [`EchoHandler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EchoEvent {
    /// Reply to `EchoCommand::Ping`.
    Pong {
        /// Answering worker.
        worker: usize,
        /// The ping's token.
        token: u64,
    },
    /// A timer set by `EchoCommand::WakeAt` fired.
    Timer {
        /// Its token.
        token: u64,
        /// When the handler ran it.
        fired: Instant,
    },
    /// A connection went away.
    Closed(ConnId),
    /// Outcome of `EchoCommand::OpenUdp`: the id and bound address, or the error kind.
    UdpOpened(Result<(SocketId, SocketAddr), std::io::ErrorKind>),
    /// Outcome of `EchoCommand::CloseUdp`: false for a stale id.
    UdpClosed(bool),
}

/// Timers pending at once (further `WakeAt` commands are ignored).
const MAX_TIMERS: usize = 16;
/// Prefix of each line echoed in `Framing::Lines` mode.
const LINE_PREFIX: &[u8] = b"ok:";

/// Echo handler for one worker.
pub struct EchoHandler {
    ctx: WorkerCtx<EchoEvent>,
    framing: Framing,
    timers: Vec<(Instant, u64)>,
}

impl EchoHandler {
    /// Builds the handler of the worker described by `ctx`.
    pub fn new(ctx: WorkerCtx<EchoEvent>, framing: Framing) -> EchoHandler {
        EchoHandler { ctx, framing, timers: Vec::with_capacity(MAX_TIMERS) }
    }

    fn echo_line(&mut self, conn: ConnId, data: &[u8], out: &mut Outbox) -> StreamVerdict {
        let Some(end) = data.iter().position(|&b| b == b'\n') else {
            return StreamVerdict::Consumed(0);
        };
        let line = data.get(..=end).unwrap_or(data);
        let reply_len = LINE_PREFIX.len() + line.len();
        let _ = out.build_tcp(conn, |buf| match buf.get_mut(..reply_len) {
            Some(dst) => {
                let (p, l) = dst.split_at_mut(LINE_PREFIX.len());
                p.copy_from_slice(LINE_PREFIX);
                l.copy_from_slice(line);
                reply_len
            }
            None => 0,
        });
        StreamVerdict::Consumed(end + 1)
    }
}

impl Handler for EchoHandler {
    type Command = EchoCommand;
    type Event = EchoEvent;

    fn on_datagram(&mut self, _now: Instant, sock: SocketId, src: SocketAddr, data: &[u8], out: &mut Outbox) {
        let _ = out.send_udp(sock, src, data);
    }

    fn on_stream(&mut self, _now: Instant, conn: ConnId, _peer: SocketAddr, data: &[u8], out: &mut Outbox) -> StreamVerdict {
        match self.framing {
            Framing::Raw => {
                let n = data.len().min(out.slot_size());
                let _ = out.send_tcp(conn, data.get(..n).unwrap_or(data));
                StreamVerdict::Consumed(n)
            }
            Framing::Lines => self.echo_line(conn, data, out),
        }
    }

    fn on_conn_closed(&mut self, _now: Instant, conn: ConnId) {
        let _ = self.ctx.events.send(EchoEvent::Closed(conn));
    }

    fn on_command(&mut self, _now: Instant, cmd: EchoCommand, out: &mut Outbox) {
        match cmd {
            EchoCommand::Ping(token) => {
                let _ = self.ctx.events.send(EchoEvent::Pong { worker: self.ctx.worker, token });
            }
            EchoCommand::WakeAt(at, token) if self.timers.len() < MAX_TIMERS => self.timers.push((at, token)),
            EchoCommand::WakeAt(..) => {}
            EchoCommand::SendTcpTo(dst, data) => {
                let _ = out.connect_and_send_tcp(dst, &data);
            }
            EchoCommand::OpenUdp(addr) => {
                let r = out.open_udp(addr).map_err(|e| e.kind());
                let r = r.map(|id| (id, out.udp_local_addr(id).unwrap_or(addr)));
                let _ = self.ctx.events.send(EchoEvent::UdpOpened(r));
            }
            EchoCommand::CloseUdp(sock) => {
                let _ = self.ctx.events.send(EchoEvent::UdpClosed(out.close_udp(sock)));
            }
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.timers.iter().map(|t| t.0).min()
    }

    fn handle_timeout(&mut self, now: Instant, _out: &mut Outbox) {
        let events = &self.ctx.events;
        self.timers.retain(|&(at, token)| {
            if at <= now {
                let _ = events.send(EchoEvent::Timer { token, fired: now });
                false
            } else {
                true
            }
        });
    }
}
