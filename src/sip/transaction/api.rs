//! The public value types of the transaction layer API: configuration, transaction ids,
//! what an incoming message became, transmits and events.

use super::pool::PoolConfig;
use super::timer::{Timer, TimerConfig};

/// Construction parameters of a [`TransactionLayer`](super::TransactionLayer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Maximum number of transactions (client and server together).
    pub capacity: usize,
    /// T1, T2, T4.
    pub timers: TimerConfig,
    /// Message buffers.
    pub pool: PoolConfig,
}

impl Config {
    /// `capacity` transactions, one [`SMALL_BUFFER`](PoolConfig::SMALL_BUFFER) (2 KiB)
    /// buffer each plus capacity/64 (at least 1) 64 KiB buffers for larger messages; RFC
    /// default timers. See the module docs for the memory this takes.
    pub fn with_capacity(capacity: usize) -> Config {
        Config::with_buffers(capacity, PoolConfig::SMALL_BUFFER)
    }

    /// As [`with_capacity`](Self::with_capacity), with small buffers of `small_size` bytes
    /// (e.g. 4096 where INVITEs with large SDP bodies are common).
    pub fn with_buffers(capacity: usize, small_size: usize) -> Config {
        Config {
            capacity,
            timers: TimerConfig::default(),
            pool: PoolConfig::for_transactions(capacity, small_size),
        }
    }
}

impl Default for Config {
    /// 65,536 transactions.
    fn default() -> Self {
        Config::with_capacity(65_536)
    }
}

/// Identifies a transaction; stale ids (of ended transactions) are recognised as such.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TxId {
    pub(super) slot: u32,
    pub(super) gen: u32,
}

/// What became of an incoming message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// A request created this new server transaction; pass it to the TU.
    New(TxId),
    /// A CANCEL created its own server transaction `id` (RFC 3261 9.2, 17.2.3); `target` is
    /// the INVITE server transaction it cancels, if one matches.
    Cancel {
        /// The CANCEL's transaction (respond 200 to it).
        id: TxId,
        /// The INVITE transaction to cancel.
        target: Option<TxId>,
    },
    /// Belongs to transaction `id` and goes to the TU: a response to a client transaction
    /// (including 2xx retransmissions in Accepted), or an ACK for a 2xx (RFC 6026).
    PassUp(TxId),
    /// Absorbed by its transaction (a retransmission, or the ACK of a non-2xx).
    Absorbed,
    /// Matches no transaction: an ACK (for a 2xx, end-to-end) or a stray response
    /// (RFC 3261 17.1.3, 18.1.2); the core decides.
    Stray,
}

/// Bytes to send.
#[derive(Debug)]
pub struct Transmit<'a, P> {
    /// The transaction sending (report send failures with `handle_transport_error`).
    pub id: TxId,
    /// Destination.
    pub peer: P,
    /// The message.
    pub bytes: &'a [u8],
}

/// Something the TU must learn.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Timer B or F (client: `response` is a 408 built from the request, to be treated as
    /// received, RFC 3261 8.1.3.1) or Timer H (server: no ACK came; `response` is `None`).
    /// The transaction has ended.
    Timeout {
        /// The transaction.
        id: TxId,
        /// The timer that fired.
        timer: Timer,
        /// The 408 Request Timeout, for client transactions.
        response: Option<&'a [u8]>,
    },
    /// The caller reported a transport failure (RFC 3261 17.1.4, 17.2.4); the transaction ended.
    TransportError(TxId),
    /// The transaction ended normally.
    Terminated(TxId),
}
