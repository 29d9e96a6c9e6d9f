//! Userspace IPsec for the P-CSCF/UE security associations of TS 33.203: ESP in transport
//! mode (RFC 4303) with HMAC-MD5-96 / HMAC-SHA-1-96 (RFC 2403 / RFC 2404) and NULL,
//! 3DES-CBC or AES-CBC (RFC 2410 / RFC 2451 / RFC 3602), the anti-replay window, the
//! per-worker SA table, outer IPv4/IPv6 and UDP-encapsulation helpers (RFC 3948), inner
//! transport UDP with its pseudo-header checksum, and sec-agree (RFC 3329, TS 33.203 7).
//!
//! Everything here is sans-IO: no socket, clock or thread; IVs come from the caller; no
//! allocation on the per-packet path (`Sa::decap`, `Sa::encap`, table look-ups).

pub mod checksum;
mod crypto;
pub mod esp;
pub mod inner;
pub mod iv;
pub mod ip;
pub mod natt;
pub mod replay;
pub mod sa;
pub mod sec_agree;
pub mod table;
pub mod udp;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

pub use esp::EspPacket;
pub use replay::ReplayWindow;
pub use sa::{Direction, Inner, IvSource, Sa, SaParams};
pub use sec_agree::{
    negotiate, verify_security_verify, Aalg, Agreement, EspMode, IpsecMechanism, LocalSecParams, Mechanism,
    RawMechanism, SaSpec, SecAgreeError, SecAgreePolicy,
};
pub use table::{
    worker_of_spi, EspCounters, OutboundKey, SaTable, SaTableConfig, SelectorProto, SpiAllocator,
    TableError,
};

use core::fmt;

/// Why an ESP packet was not decapsulated or encapsulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EspError {
    /// No inbound SA has this SPI (RFC 4303 3.4.2: discard, auditable event).
    UnknownSpi,
    /// Shorter than header + IV + one block + ICV of the SA's transform.
    Truncated,
    /// The ciphertext is not a whole number of cipher blocks (RFC 4303 2.4).
    BadLength,
    /// The ICV did not verify (RFC 4303 3.4.4).
    BadIcv,
    /// Sequence number duplicate or left of the window (RFC 4303 3.4.3).
    Replay,
    /// Pad Length too large or padding bytes not 1, 2, 3, ... (RFC 4303 2.4).
    BadPadding,
    /// decap on an outbound SA or encap on an inbound one.
    WrongDirection,
    /// The 32-bit sequence number would cycle (RFC 4303 3.3.3): a new SA is needed.
    SeqOverflow,
    /// The output buffer cannot hold the packet.
    BufferTooSmall,
    /// A key has the wrong length for its algorithm, or NULL/NULL was asked (RFC 4303 3.2).
    BadKey,
    /// Anti-replay window size not a multiple of 64 in 64..=1024.
    BadWindow,
}

impl fmt::Display for EspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            EspError::UnknownSpi => "unknown SPI",
            EspError::Truncated => "truncated ESP packet",
            EspError::BadLength => "ciphertext not a multiple of the block size",
            EspError::BadIcv => "ICV verification failed",
            EspError::Replay => "replayed or too old sequence number",
            EspError::BadPadding => "bad ESP padding",
            EspError::WrongDirection => "SA used in the wrong direction",
            EspError::SeqOverflow => "sequence number exhausted",
            EspError::BufferTooSmall => "output buffer too small",
            EspError::BadKey => "bad key or algorithm combination",
            EspError::BadWindow => "bad anti-replay window size",
        };
        f.write_str(s)
    }
}

impl std::error::Error for EspError {}

/// Why an IP or UDP header helper failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Shorter than its header or than its own length field says.
    Truncated,
    /// IP version field is not 4 (resp. 6).
    BadVersion,
    /// IHL below 5, or a length field inconsistent with the buffer.
    BadLength,
    /// IPv4 header or UDP checksum mismatch.
    BadChecksum,
    /// An IPv4 fragment (raw sockets deliver reassembled datagrams; fragments are dropped).
    Fragmented,
    /// Source and destination are not of the same address family.
    AddressFamily,
    /// The output buffer cannot hold the result, or the payload exceeds 65535 bytes.
    BufferTooSmall,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            WireError::Truncated => "truncated header",
            WireError::BadVersion => "bad IP version",
            WireError::BadLength => "bad length field",
            WireError::BadChecksum => "bad checksum",
            WireError::Fragmented => "IPv4 fragment",
            WireError::AddressFamily => "mixed address families",
            WireError::BufferTooSmall => "buffer too small",
        };
        f.write_str(s)
    }
}

impl std::error::Error for WireError {}
