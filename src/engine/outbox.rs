//! The outbox: I/O operations a handler emits, described once and carried out by either
//! backend, with payloads in a preallocated pool of fixed-size slots (no allocation per
//! packet).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::counters::{bump, dec, WorkerCounters};
use super::handler::{ConnId, SocketId};
use super::sockets::MediaSockets;

/// A payload held in a pool slot. Not `Clone`: exactly one owner releases it.
#[derive(Debug, PartialEq, Eq)]
pub struct BufId {
    slot: u32,
    len: u32,
}

impl BufId {
    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True for an empty payload.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn slot(&self) -> usize {
        self.slot as usize
    }
}

/// One I/O operation.
#[derive(Debug, PartialEq, Eq)]
pub enum Op {
    /// Send a datagram from the configured UDP address `local` to `dst`.
    SendUdp {
        /// Local socket (its reuseport member on this worker is used).
        local: SocketId,
        /// Destination.
        dst: SocketAddr,
        /// Payload.
        buf: BufId,
    },
    /// Send bytes on an existing connection owned by this worker.
    SendTcp {
        /// Connection.
        conn: ConnId,
        /// Payload.
        buf: BufId,
    },
    /// Send bytes to `dst`, reusing this worker's connection to it or opening one.
    ConnectAndSendTcp {
        /// Destination.
        dst: SocketAddr,
        /// Payload.
        buf: BufId,
    },
    /// Close a connection owned by this worker.
    CloseTcp {
        /// Connection.
        conn: ConnId,
    },
    /// Start receiving on a run-time UDP socket opened by [`Outbox::open_udp`].
    ArmUdp {
        /// The new socket.
        sock: SocketId,
    },
    /// Stop receiving on a run-time UDP socket and close it ([`Outbox::close_udp`]).
    CloseUdp {
        /// The socket.
        sock: SocketId,
    },
}

/// The pool or the op list is full; the operation was dropped and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxFull;

/// Fixed-size slots in one allocation, with a free list of preallocated capacity.
pub(crate) struct BufPool {
    mem: Box<[u8]>,
    slot_size: usize,
    free: Vec<u32>,
}

impl BufPool {
    fn new(slots: usize, slot_size: usize) -> BufPool {
        let slots = slots.clamp(1, u32::MAX as usize);
        BufPool {
            mem: vec![0u8; slots * slot_size].into_boxed_slice(),
            slot_size,
            free: (0..slots as u32).rev().collect(),
        }
    }

    pub(crate) fn bytes(&self, buf: &BufId) -> &[u8] {
        let start = buf.slot() * self.slot_size;
        self.mem.get(start..start + buf.len()).unwrap_or(&[])
    }

    pub(crate) fn release(&mut self, buf: BufId) {
        // The free list was built with capacity for every slot: this push never allocates.
        self.free.push(buf.slot);
    }

    /// Copies `f`'s output into a fresh slot; `f` returns the length written.
    fn fill(&mut self, f: impl FnOnce(&mut [u8]) -> usize) -> Option<BufId> {
        let slot = self.free.pop()?;
        let start = slot as usize * self.slot_size;
        let dst = self.mem.get_mut(start..start + self.slot_size)?;
        let len = f(dst).min(self.slot_size);
        Some(BufId { slot, len: len as u32 })
    }
}

/// Where a handler puts its operations. Owned by the worker; drained after each callback.
pub struct Outbox {
    pool: BufPool,
    ops: Vec<Op>,
    /// Bound on queued I/O ops; the capacity above it is kept for `ArmUdp`/`CloseUdp`
    /// (at most one of each per run-time socket), so those are never refused.
    data_ops: usize,
    media: MediaSockets,
    counters: Arc<WorkerCounters>,
}

impl Outbox {
    /// An outbox without run-time sockets (`open_udp` is refused), for tests.
    #[cfg(test)]
    pub(crate) fn new(slots: usize, slot_size: usize, counters: Arc<WorkerCounters>) -> Outbox {
        Outbox::with_sockets(slots, slot_size, 0, counters)
    }

    /// An outbox of `slots` payload slots that can open up to `max_media` run-time sockets.
    pub(crate) fn with_sockets(slots: usize, slot_size: usize, max_media: usize, counters: Arc<WorkerCounters>) -> Outbox {
        let media = MediaSockets::new(max_media);
        let data_ops = slots * 2;
        let ops = Vec::with_capacity(data_ops + 2 * media.capacity());
        Outbox { pool: BufPool::new(slots, slot_size), ops, data_ops, media, counters }
    }

    /// Opens a plain UDP socket bound to `addr` (port 0: any) for this worker alone. The
    /// id is valid at once (sends may be queued); datagrams are delivered to
    /// `on_datagram` from the end of this callback. Refused beyond
    /// `EngineConfig::max_media_sockets` (`ErrorKind::OutOfMemory`) or when bind fails.
    pub fn open_udp(&mut self, addr: SocketAddr) -> io::Result<SocketId> {
        self.open_runtime(|m| m.open(addr))
    }

    /// Opens this worker's raw ESP socket of `local`'s family bound to `local` (CAP_NET_RAW),
    /// filtered to the SPIs whose `worker_bits` low bits are `worker`. Delivered datagrams
    /// come from `(source, 0)`: whole IPv4 packets, or over IPv6 the ESP packet alone; sends
    /// to `(address, 0)` carry an ESP packet. Counted and closed like [`Self::open_udp`] sockets.
    pub fn open_raw_esp(&mut self, local: IpAddr, worker: u32, worker_bits: u8) -> io::Result<SocketId> {
        self.open_runtime(|m| m.open_raw_esp(local, worker, worker_bits))
    }

    fn open_runtime(&mut self, open: impl FnOnce(&mut MediaSockets) -> io::Result<SocketId>) -> io::Result<SocketId> {
        if self.ops.len() == self.ops.capacity() {
            // Only while the worker executes ops (no callback runs then): nothing to arm with.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let sock = open(&mut self.media).inspect_err(|_| bump(&self.counters.udp_refused, 1))?;
        // The reserved capacity holds one ArmUdp per open socket: this push never fails.
        self.ops.push(Op::ArmUdp { sock });
        bump(&self.counters.udp_open, 1);
        Ok(sock)
    }

    /// Closes a socket opened by [`Self::open_udp`]: datagrams are no longer delivered,
    /// sends queued before still leave. False (and nothing done) for a stale id.
    pub fn close_udp(&mut self, sock: SocketId) -> bool {
        if !self.media.start_close(sock) {
            return false;
        }
        // As above: at most one CloseUdp per open socket fits in the reserved capacity.
        self.ops.push(Op::CloseUdp { sock });
        dec(&self.counters.udp_open);
        true
    }

    /// Run-time sockets that can still be opened (`max_media_sockets` minus the open and
    /// the closing ones; a closing socket's slot comes back after this callback).
    pub fn udp_free(&self) -> usize {
        self.media.free_slots()
    }

    /// The bound address of an open run-time socket (`None` for listeners, closed or
    /// stale ids).
    pub fn udp_local_addr(&self, sock: SocketId) -> Option<SocketAddr> {
        self.media.local_addr(sock)
    }

    /// Size of one payload slot (the largest payload an op can carry).
    pub fn slot_size(&self) -> usize {
        self.pool.slot_size
    }

    /// Queues a datagram carrying a copy of `data` (truncated to the slot size).
    pub fn send_udp(&mut self, local: SocketId, dst: SocketAddr, data: &[u8]) -> Result<(), OutboxFull> {
        self.build_udp(local, dst, |b| copy_into(b, data))
    }

    /// Queues a datagram encoded in place by `encode` (returns the length written).
    pub fn build_udp(
        &mut self,
        local: SocketId,
        dst: SocketAddr,
        encode: impl FnOnce(&mut [u8]) -> usize,
    ) -> Result<(), OutboxFull> {
        let buf = self.alloc(encode)?;
        self.push(Op::SendUdp { local, dst, buf })
    }

    /// Queues bytes for an existing connection.
    pub fn send_tcp(&mut self, conn: ConnId, data: &[u8]) -> Result<(), OutboxFull> {
        let buf = self.alloc(|b| copy_into(b, data))?;
        self.push(Op::SendTcp { conn, buf })
    }

    /// Queues bytes for an existing connection, encoded in place by `encode`.
    pub fn build_tcp(&mut self, conn: ConnId, encode: impl FnOnce(&mut [u8]) -> usize) -> Result<(), OutboxFull> {
        let buf = self.alloc(encode)?;
        self.push(Op::SendTcp { conn, buf })
    }

    /// Queues bytes for `dst` over this worker's connection to it (opened if needed).
    pub fn connect_and_send_tcp(&mut self, dst: SocketAddr, data: &[u8]) -> Result<(), OutboxFull> {
        let buf = self.alloc(|b| copy_into(b, data))?;
        self.push(Op::ConnectAndSendTcp { dst, buf })
    }

    /// Queues the closing of a connection.
    pub fn close_tcp(&mut self, conn: ConnId) -> Result<(), OutboxFull> {
        self.push(Op::CloseTcp { conn })
    }

    /// Number of queued operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when no operation is queued.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    fn alloc(&mut self, f: impl FnOnce(&mut [u8]) -> usize) -> Result<BufId, OutboxFull> {
        self.pool.fill(f).ok_or_else(|| {
            bump(&self.counters.outbox_full, 1);
            OutboxFull
        })
    }

    fn push(&mut self, op: Op) -> Result<(), OutboxFull> {
        if self.ops.len() >= self.data_ops || self.ops.len() == self.ops.capacity() {
            bump(&self.counters.outbox_full, 1);
            if let Some(buf) = op_buf(op) {
                self.pool.release(buf);
            }
            return Err(OutboxFull);
        }
        self.ops.push(op);
        Ok(())
    }

    /// Takes the queued ops out (the caller hands the vector back with `restore_ops`, so
    /// its capacity is reused and nothing is allocated).
    pub(crate) fn take_ops(&mut self) -> Vec<Op> {
        std::mem::take(&mut self.ops)
    }

    /// Returns the (drained) op vector taken by `take_ops`, keeping any ops queued since.
    pub(crate) fn restore_ops(&mut self, mut ops: Vec<Op>) {
        ops.clear();
        if self.ops.is_empty() {
            self.ops = ops;
        }
    }

    pub(crate) fn pool(&mut self) -> &mut BufPool {
        &mut self.pool
    }

    pub(crate) fn media(&mut self) -> &mut MediaSockets {
        &mut self.media
    }

    pub(crate) fn media_ref(&self) -> &MediaSockets {
        &self.media
    }
}

fn copy_into(dst: &mut [u8], src: &[u8]) -> usize {
    let n = src.len().min(dst.len());
    if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
        d.copy_from_slice(s);
    }
    n
}

fn op_buf(op: Op) -> Option<BufId> {
    match op {
        Op::SendUdp { buf, .. } | Op::SendTcp { buf, .. } | Op::ConnectAndSendTcp { buf, .. } => Some(buf),
        Op::CloseTcp { .. } | Op::ArmUdp { .. } | Op::CloseUdp { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_exhaustion_is_reported_and_slots_come_back() {
        let counters = Arc::new(WorkerCounters::default());
        let mut out = Outbox::new(2, 8, counters.clone());
        let dst: SocketAddr = "127.0.0.1:9".parse().unwrap_or_else(|_| unreachable!());
        assert_eq!(out.send_udp(SocketId(0), dst, b"0123456789"), Ok(()));
        assert_eq!(out.send_udp(SocketId(0), dst, b"b"), Ok(()));
        assert_eq!(out.send_udp(SocketId(0), dst, b"c"), Err(OutboxFull));
        assert_eq!(counters.snapshot().outbox_full, 1);
        let mut ops = out.take_ops();
        for op in ops.drain(..) {
            if let Op::SendUdp { buf, .. } = op {
                assert!(buf.len() <= 8, "payload truncated to the slot size");
                out.pool().release(buf);
            }
        }
        out.restore_ops(ops);
        assert_eq!(out.send_udp(SocketId(0), dst, b"d"), Ok(()));
    }
}
