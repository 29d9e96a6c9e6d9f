//! Counters shared between the threads that update them (workers, control)
//! and the threads that read them (control: remote API, monitor, metrics).
//!
//! Every counter is a relaxed atomic owned by one writer thread, so updates
//! cost one uncontended add and readers see a value that is at most a few
//! nanoseconds stale; no lock is ever taken on the packet path.

pub mod ascii;
pub mod latency;
pub mod sip_methods;

use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing event count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// The current value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// SIP message counters of one worker's endpoint.
#[derive(Debug, Default)]
pub struct SipCounters {
    /// Requests received (including retransmissions).
    pub rx_requests: Counter,
    /// Responses received.
    pub rx_responses: Counter,
    /// Responses sent (including retransmissions).
    pub tx_responses: Counter,
    /// Requests sent (including retransmissions).
    pub tx_requests: Counter,
    /// OPTIONS answered in the worker without involving the control thread.
    pub options_answered: Counter,
    /// Messages that failed to parse or validate.
    pub malformed: Counter,
    /// Malformed requests answered with 400.
    pub bad_request_sent: Counter,
    /// Malformed messages dropped without an answer (no usable Via, or a response).
    pub malformed_dropped: Counter,
    /// Retransmitted requests absorbed by a server transaction.
    pub retransmissions_absorbed: Counter,
    /// Requests refused with 503 because the event queue to the control thread was full.
    pub control_queue_full: Counter,
    /// Requests refused with 503 because the transaction table was full.
    pub transaction_table_full: Counter,
    /// Client transactions that timed out (Timer B or F).
    pub transaction_timeouts: Counter,
    /// TCP connections closed because of a framing error.
    pub stream_framing_errors: Counter,
    /// RTP/RTCP handled by the same worker's media plane.
    pub media: MediaTotals,
}

/// RTP and RTCP packet totals of one worker's media plane (the per-session counters of
/// `dialog_get` live in the media table; these are their sums, for metrics).
#[derive(Debug, Default)]
pub struct MediaTotals {
    /// Packets received on media ports (RTP and RTCP).
    pub received: Counter,
    /// Packets sent: echoed, relayed to the other leg, or released from the delay line.
    pub sent: Counter,
    /// Dropped: not from the latched source (RTP from unexpected sources).
    pub dropped_unexpected_source: Counter,
    /// Dropped: not valid RTP or RTCP.
    pub dropped_malformed: Counter,
    /// Dropped: blocked, no destination yet, delay line full, or no session on the port.
    pub dropped_other: Counter,
}
