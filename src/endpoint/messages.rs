//! What crosses the queues between a worker's endpoint and the control thread.

use crate::engine::{ConnId, SocketId};
use crate::media::MediaSpec;
use crate::sip::transaction::TxId;
use crate::sip::MessageIndex;
use std::net::SocketAddr;

/// How a peer is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP through this worker's socket `SocketId`.
    Udp(SocketId),
    /// An established TCP connection.
    Tcp(ConnId),
    /// TCP to the peer address, over the worker's connection to it or a new one
    /// (requests we originate above tcp_threshold, RFC 3261 18.1.1).
    TcpTo,
}

/// A SIP peer: the transport and the remote address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    /// How it is reached.
    pub transport: Transport,
    /// Its address.
    pub addr: SocketAddr,
}

impl Peer {
    /// True for stream transports (RFC 3261 17: no retransmission timers).
    pub fn is_reliable(&self) -> bool {
        !matches!(self.transport, Transport::Udp(_))
    }
}

/// Worker → control thread.
#[derive(Debug)]
pub enum ToControl {
    /// A request that needs a decision; `tx` is its server transaction
    /// (None for an ACK to a 2xx, which has none).
    Request {
        /// The worker that owns the transaction.
        worker: u16,
        /// The server transaction.
        tx: Option<TxId>,
        /// Where it came from.
        peer: Peer,
        /// The request bytes.
        msg: Vec<u8>,
        /// What the worker's parse of `msg` found: the control thread rebuilds the
        /// message from it instead of parsing again (None: parse).
        index: Option<MessageIndex>,
    },
    /// A response to a client transaction (or a 408 the layer made on Timer
    /// B/F), or a 2xx retransmission without one (`tx` None).
    Response {
        /// The worker that owns the transaction.
        worker: u16,
        /// The client transaction.
        tx: Option<TxId>,
        /// The response bytes.
        msg: Vec<u8>,
        /// What the worker's parse of `msg` found (None: parse).
        index: Option<MessageIndex>,
    },
    /// An INVITE server transaction's Timer H fired: the ACK never came.
    ServerTimeout {
        /// The worker.
        worker: u16,
        /// The transaction.
        tx: TxId,
    },
    /// A transaction's message could not be sent.
    TransportError {
        /// The worker.
        worker: u16,
        /// The transaction.
        tx: TxId,
    },
    /// A CANCEL matched INVITE server transaction `target` (200 already sent).
    Cancelled {
        /// The worker.
        worker: u16,
        /// The cancelled INVITE's transaction.
        target: TxId,
    },
}

/// Control thread → worker.
#[derive(Debug)]
pub enum ToWorker {
    /// Send a response through server transaction `tx`.
    Respond {
        /// The transaction.
        tx: TxId,
        /// The response bytes.
        msg: Vec<u8>,
    },
    /// Start a client transaction for this request.
    SendRequest {
        /// Where to.
        peer: Peer,
        /// The request bytes.
        msg: Vec<u8>,
    },
    /// Send bytes outside any transaction (ACK for 2xx, 2xx retransmissions).
    SendStateless {
        /// Where to.
        peer: Peer,
        /// The bytes.
        msg: Vec<u8>,
    },
    /// Open the RTP/RTCP sockets of `port` (and port + 1) and serve them as `spec` says.
    MediaInstall {
        /// The RTP port (even; owned by this worker).
        port: u16,
        /// Echo, relay or blocked, with the remote addresses.
        spec: MediaSpec,
    },
    /// Change the session of `port` (re-INVITE), keeping its counters.
    MediaUpdate {
        /// The RTP port.
        port: u16,
        /// The new description.
        spec: MediaSpec,
    },
    /// Turn RTP and RTCP forwarding of `port` on or off (dialog_set media).
    MediaSwitch {
        /// The RTP port.
        port: u16,
        /// Forward RTP.
        rtp: bool,
        /// Forward RTCP.
        rtcp: bool,
    },
    /// Close the sockets of `port`.
    MediaRemove {
        /// The RTP port.
        port: u16,
    },
    /// Install an IPsec SA set (sec-agree, TS 33.203 7.1) in this worker.
    IpsecInstall(Box<super::esp::SaInstall>),
    /// Remove every SA of an IPsec SA set.
    IpsecRemove {
        /// The set's id ([`super::esp::SaInstall::binding`]).
        binding: u64,
    },
}
