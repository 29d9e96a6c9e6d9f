//! The SIP transaction layer (RFC 3261 section 17, with the RFC 6026 Accepted state), sans-IO.
//!
//! One [`TransactionLayer`] per worker holds every client and server transaction of the
//! flows steered to it, in a table of fixed capacity preallocated at start-up, with message
//! buffers from a preallocated pool and timers in a bounded heap: after start-up nothing on
//! the request / response / retransmission path allocates.
//!
//! Under load most of the table is held by transactions that only wait out an absorbing
//! timer (a non-INVITE server over UDP lingers 64*T1 = 32 s in Completed, Timer J, to absorb
//! request retransmissions). When a new transaction finds no free slot or buffer, the
//! lingering transaction whose Timer D, I, J, K, L or M fires first is reclaimed (counted by
//! [`TransactionLayer::reclaimed`]); a retransmission arriving after that is seen as a new
//! request (the TU must tolerate the replay) or a stray. Only when nothing lingers does the
//! layer give [`Error::Full`], on which the caller answers 503 statelessly.
//!
//! Memory per transaction of capacity, preallocated at start-up: about 0.5 KiB of slot (the
//! key, the peer, the spans of a stored request, timers), 0.2 KiB of index, timer heap,
//! queues and links, one small buffer (2 KiB with [`Config::with_capacity`], chosen with
//! [`Config::with_buffers`]) and 1/64 of a 64 KiB large buffer (1 KiB): about 3.7 KiB, i.e.
//! about 235 MiB per worker at 65,536 transactions (4 KiB small buffers: about 365 MiB).
//! A message larger than the small size takes a large buffer, of which there are few.
//!
//! It is driven quinn-proto style: the caller feeds parsed messages (through the
//! [`TxMessage`] view the SIP parser implements) with `handle_request` / `handle_response`,
//! passes the TU's messages with `send_request` / `respond`, calls `handle_timeout` when the
//! deadline from `poll_timeout` passes, and after each call drains `poll_transmit` (bytes to
//! send) and `poll_event` (timeouts, transport errors, terminations for the TU).
//!
//! Responses a server transaction sends go to the peer its request came from (with rport,
//! RFC 3581, that is the Via destination); the caller's `Peer` type carries the address,
//! transport and connection.

mod api;
mod build;
mod index;
mod key;
mod layer;
mod machine;
mod message;
mod pool;
mod timer;

#[cfg(test)]
mod testmsg;
#[cfg(test)]
mod tests;
#[cfg(all(test, debug_assertions))]
mod tests_alloc;
#[cfg(test)]
mod tests_reclaim;

pub use api::{Config, Event, Inbound, Transmit, TxId};
pub use build::MAX_LINES;
pub use key::{KEY_INLINE, MAGIC_COOKIE};
pub use layer::TransactionLayer;
pub use message::{TxHeader, TxMessage};
pub use pool::PoolConfig;
pub use timer::{Timer, TimerConfig};

/// Transaction state (RFC 3261 figures 5-8, RFC 6026 Accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// INVITE client: request sent, no response yet.
    Calling,
    /// Non-INVITE client: request sent, no response yet; non-INVITE server: no response sent.
    Trying,
    /// A provisional response was received (client) or sent (server).
    Proceeding,
    /// A final response (non-2xx for INVITE) was received or sent.
    Completed,
    /// INVITE server: the ACK for its non-2xx final response arrived.
    Confirmed,
    /// RFC 6026: INVITE with a 2xx final response.
    Accepted,
    /// Ended; the slot is reclaimed once its last transmit or event is polled.
    Terminated,
}

/// Why an operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The transaction table or the buffer pool is exhausted and no lingering transaction
    /// could be reclaimed (answer 503, RFC 3261 21.5.4).
    Full,
    /// The message is larger than the largest pool buffer.
    TooLarge,
    /// The id names no live transaction.
    UnknownTransaction,
    /// The response is not allowed in the transaction's state (e.g. a second final response).
    InvalidState,
    /// The message lacks what the layer needs: a Via branch, the From/To/Call-ID/CSeq lines,
    /// slices borrowed from `raw`, at most [`MAX_LINES`] Via and Route lines, a status in
    /// 100..=699; or an ACK passed to `send_request` (ACK for 2xx is sent by the TU directly).
    Malformed,
    /// A client transaction with the same branch and method already exists.
    Duplicate,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for Error {}
