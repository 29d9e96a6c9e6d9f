//! The media plane of the workers, sans-IO: checked views over RTP and RTCP packets
//! (RFC 3550), RTP port allocation split between workers ([`PortAllocator`]) and the
//! [`MediaTable`] of media sessions (echo, relay, blocked) with counters, reception
//! statistics (RFC 3550 A.1, A.3, A.8) and an optional media delay.
//!
//! Per-session counters are published on a shared [`MediaBoard`] for `dialog_get`.
//!
//! Nothing here allocates per packet: the table, its port index and the delay pool are
//! sized at start-up.

mod board;
mod delay;
mod port;
mod rtcp;
mod rtp;
mod stats;
mod table;

#[doc(hidden)]
pub mod fuzzing;

#[cfg(test)]
mod tests;

pub use board::{BoardEntry, MediaBoard};
pub use delay::DELAY_MTU;
pub use port::{PortAllocator, PortRange};
pub use rtcp::{ReportBlock, RtcpCompound, RtcpError, RtcpPacket, RtcpType};
pub use rtp::{is_rtcp, RtpError, RtpHeader, RtpPacket};
pub use stats::{MediaCounters, ReceptionStats};
pub use table::{
    Action, Due, DropReason, MediaMode, MediaSnapshot, MediaSpec, MediaTable, TableConfig, TableError,
};
