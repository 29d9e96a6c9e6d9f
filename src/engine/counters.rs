//! Per-worker counters: written by one worker, read by any thread (relaxed atomics).

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one worker. Each field is written only by its worker thread.
#[derive(Debug, Default)]
pub struct WorkerCounters {
    /// Datagrams and stream reads delivered to the handler.
    pub rx_packets: AtomicU64,
    /// Bytes delivered to the handler.
    pub rx_bytes: AtomicU64,
    /// Datagrams sent and stream buffers fully written.
    pub tx_packets: AtomicU64,
    /// Bytes sent.
    pub tx_bytes: AtomicU64,
    /// Receive stalls because the provided-buffer ring was exhausted.
    pub rx_drops: AtomicU64,
    /// Events queued for the control thread.
    pub events: AtomicU64,
    /// Event-queue pushes that found the queue full.
    pub queue_full: AtomicU64,
    /// Outbox operations refused because the buffer pool or op list was full.
    pub outbox_full: AtomicU64,
    /// TCP connections currently open.
    pub tcp_open: AtomicU64,
    /// TCP connections accepted or established since start.
    pub tcp_opened_total: AtomicU64,
    /// TCP connections refused because the per-worker bound was reached.
    pub tcp_refused: AtomicU64,
    /// TCP connections closed for a message above the maximum size or a full send queue.
    pub tcp_overflow: AtomicU64,
    /// Send failures (socket errors, unknown connection).
    pub send_errors: AtomicU64,
    /// GSO trains sent (each carries two or more of the datagrams in `tx_packets`).
    pub gso_trains: AtomicU64,
    /// Run-time (media) UDP sockets currently open.
    pub udp_open: AtomicU64,
    /// Run-time UDP sockets refused (bound reached or bind failed).
    pub udp_refused: AtomicU64,
}

/// A plain copy of [`WorkerCounters`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// See [`WorkerCounters::rx_packets`].
    pub rx_packets: u64,
    /// See [`WorkerCounters::rx_bytes`].
    pub rx_bytes: u64,
    /// See [`WorkerCounters::tx_packets`].
    pub tx_packets: u64,
    /// See [`WorkerCounters::tx_bytes`].
    pub tx_bytes: u64,
    /// See [`WorkerCounters::rx_drops`].
    pub rx_drops: u64,
    /// See [`WorkerCounters::events`].
    pub events: u64,
    /// See [`WorkerCounters::queue_full`].
    pub queue_full: u64,
    /// See [`WorkerCounters::outbox_full`].
    pub outbox_full: u64,
    /// See [`WorkerCounters::tcp_open`].
    pub tcp_open: u64,
    /// See [`WorkerCounters::tcp_opened_total`].
    pub tcp_opened_total: u64,
    /// See [`WorkerCounters::tcp_refused`].
    pub tcp_refused: u64,
    /// See [`WorkerCounters::tcp_overflow`].
    pub tcp_overflow: u64,
    /// See [`WorkerCounters::send_errors`].
    pub send_errors: u64,
    /// See [`WorkerCounters::gso_trains`].
    pub gso_trains: u64,
    /// See [`WorkerCounters::udp_open`].
    pub udp_open: u64,
    /// See [`WorkerCounters::udp_refused`].
    pub udp_refused: u64,
}

impl WorkerCounters {
    /// Reads every counter (relaxed; fields may be from slightly different instants).
    pub fn snapshot(&self) -> CounterSnapshot {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterSnapshot {
            rx_packets: r(&self.rx_packets),
            rx_bytes: r(&self.rx_bytes),
            tx_packets: r(&self.tx_packets),
            tx_bytes: r(&self.tx_bytes),
            rx_drops: r(&self.rx_drops),
            events: r(&self.events),
            queue_full: r(&self.queue_full),
            outbox_full: r(&self.outbox_full),
            tcp_open: r(&self.tcp_open),
            tcp_opened_total: r(&self.tcp_opened_total),
            tcp_refused: r(&self.tcp_refused),
            tcp_overflow: r(&self.tcp_overflow),
            send_errors: r(&self.send_errors),
            gso_trains: r(&self.gso_trains),
            udp_open: r(&self.udp_open),
            udp_refused: r(&self.udp_refused),
        }
    }
}

/// Adds `v` to a counter owned by the calling worker.
pub(crate) fn bump(c: &AtomicU64, v: u64) {
    c.fetch_add(v, Ordering::Relaxed);
}

/// Subtracts 1 from a gauge owned by the calling worker.
pub(crate) fn dec(c: &AtomicU64) {
    c.fetch_sub(1, Ordering::Relaxed);
}
