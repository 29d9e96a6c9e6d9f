//! The protocol-agnostic handler interface a worker drives, and the identifiers it sees.
//!
//! One handler instance lives in each worker thread; it is built there by the factory given
//! to `Engine::start`, so it may own non-`Send` state. The engine never interprets bytes.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::counters::WorkerCounters;
use super::outbox::Outbox;
use super::queue::Sender;

/// A UDP socket of a worker. Below 0x8000: a configured address, the index into
/// `Listeners::udp` (the same on every worker, stable for the engine's life). With bit 15
/// set: a run-time socket of this worker only (`Outbox::open_udp`), whose id carries a
/// generation so an id kept after `close_udp` matches nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(pub u16);

impl SocketId {
    /// True for a run-time socket opened by `Outbox::open_udp`.
    pub fn is_runtime(self) -> bool {
        self.0 & super::sockets::MEDIA_BIT != 0
    }
}

/// A TCP connection: owning worker, table slot and generation, packed in 64 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl ConnId {
    pub(crate) fn new(worker: usize, slot: u32, generation: u32) -> ConnId {
        ConnId(((worker as u64 & 0xffff) << 48) | ((generation as u64 & 0xffff) << 32) | slot as u64)
    }

    /// The worker that owns this connection (send `SendTcp` only from it).
    pub fn worker(self) -> usize {
        (self.0 >> 48) as usize
    }

    pub(crate) fn slot(self) -> u32 {
        self.0 as u32
    }

    pub(crate) fn generation(self) -> u32 {
        ((self.0 >> 32) & 0xffff) as u32
    }
}

/// What the handler did with the buffered stream bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamVerdict {
    /// This many leading bytes were consumed (0: wait for more bytes).
    Consumed(usize),
    /// Close the connection.
    Close,
}

/// Sends events from a worker to the control thread. A full queue hands the event back and
/// bumps the worker's `queue_full` counter.
pub struct EventSender<E> {
    tx: Sender<E>,
    counters: Arc<WorkerCounters>,
}

impl<E> EventSender<E> {
    pub(crate) fn new(tx: Sender<E>, counters: Arc<WorkerCounters>) -> EventSender<E> {
        EventSender { tx, counters }
    }

    /// Enqueues an event for the control thread. The worker wakes the control thread
    /// once at the end of its turn (worker.rs), not once per event: a turn handles a
    /// batch of datagrams, and a control thread woken by the first event would often
    /// handle it and sleep again before the next one comes.
    pub fn send(&self, ev: E) -> Result<(), E> {
        match self.tx.send_batched(ev) {
            Ok(()) => {
                // The turn's end wakes the control thread only when this moved (worker.rs).
                self.counters.events.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(ev) => {
                self.counters.queue_full.fetch_add(1, Ordering::Relaxed);
                Err(ev)
            }
        }
    }
}

/// What a handler learns about its worker when it is built.
pub struct WorkerCtx<E> {
    /// Index of this worker, `0..n_workers`.
    pub worker: usize,
    /// Number of workers (the modulus of `steer`).
    pub n_workers: usize,
    /// Bound UDP addresses, indexed by `SocketId`.
    pub udp: Vec<SocketAddr>,
    /// Bound TCP listener addresses.
    pub tcp: Vec<SocketAddr>,
    /// Sender of events to the control thread.
    pub events: EventSender<E>,
    /// This worker's counters.
    pub counters: Arc<WorkerCounters>,
}

/// The per-worker protocol logic. All callbacks run on the worker thread; operations are
/// emitted into the [`Outbox`] and carried out by the backend after the callback returns.
pub trait Handler {
    /// Messages from the control thread.
    type Command: Send + 'static;
    /// Messages to the control thread.
    type Event: Send + 'static;

    /// A datagram arrived on `sock` from `src`.
    fn on_datagram(&mut self, now: Instant, sock: SocketId, src: SocketAddr, data: &[u8], out: &mut Outbox);

    /// Bytes are buffered on `conn` (everything not yet consumed, oldest first).
    fn on_stream(
        &mut self,
        now: Instant,
        conn: ConnId,
        peer: SocketAddr,
        data: &[u8],
        out: &mut Outbox,
    ) -> StreamVerdict;

    /// `conn` is gone (peer closed, error, overflow, or a `CloseTcp`).
    fn on_conn_closed(&mut self, _now: Instant, _conn: ConnId) {}

    /// A command from the control thread.
    fn on_command(&mut self, now: Instant, cmd: Self::Command, out: &mut Outbox);

    /// The next instant `handle_timeout` must run, if any.
    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }

    /// Called once `now >= poll_timeout()`.
    fn handle_timeout(&mut self, _now: Instant, _out: &mut Outbox) {}
}
