//! SIP messages (RFC 3261 7, 20, 25): a zero-copy parser whose [`Message`] is a checked
//! view over the receive buffer (start line, a fixed-capacity header index, body), typed
//! accessors that parse header values on demand, a `validate()` step for the mandatory
//! headers, stream framing with CRLF keep-alives, and an allocation-free [`Builder`].
//!
//! Covered: compact forms, folding, comma lists, quoted strings and escapes, sip/sips/tel
//! URIs, name-addr/addr-spec, Via, CSeq, Contact with feature tags, digest and AKA
//! credentials/challenges, sec-agree (RFC 3329) and the IMS P-headers.

mod accessors;
mod builder;
mod digest;
mod error;
mod framing;
mod header;
mod message;
mod method;
mod nameaddr;
pub mod scan;
mod security;
pub mod transaction;
mod txview;
mod uri;
mod validate;
mod values;
mod via;

#[doc(hidden)]
pub mod fuzzing;

pub use accessors::Values;
pub use builder::{Builder, Overflow, Writer};
pub use digest::{Algorithm, Auth};
pub use error::Error;
pub use framing::{frame_len, keepalive, FrameError, KeepAlive, PONG};
pub use header::HeaderName;
pub use message::{Header, Index as MessageIndex, Message, StartLine, Stored as StoredMessage};
pub use method::Method;
pub use nameaddr::{parse_qvalue, Contact, NameAddr};
pub use security::SecMechanism;
pub use uri::{Scheme, Uri};
pub use values::{CSeq, ParamValue, RAck, Reason, SessionExpires};
pub use txview::{via_branch, TxView};
pub use validate::Validated;
pub use via::{Via, MAGIC_COOKIE};

/// Largest message accepted by [`Message::parse`] and a sane `max` for [`frame_len`].
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// Capacity of the header index of a [`Message`].
pub const MAX_HEADERS: usize = 128;

/// Longest start line or header field (with its folds) accepted.
pub const MAX_LINE_LEN: usize = 16 * 1024;
