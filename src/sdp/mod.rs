//! SDP (RFC 8866, formerly RFC 4566) for VoLTE calls, in two levels: [`SdpView`] is a
//! checked zero-copy view over the body bytes (numbered lines with spans) and
//! [`SessionDescription`] is the validated representation with `parse` and `emit`.
//!
//! On top of it: the offer/answer model of RFC 3264 for the answering side
//! ([`answer()`]) and the offering side ([`build_offer`], [`offer_from_template`],
//! [`verify_answer`]), with QoS preconditions (RFC 3312) and the AMR / AMR-WB
//! payload-type rules of RFC 4867 8.3.1 ([`AmrParams`]).
//!
//! SDP is built and parsed on the control thread, so the representation owns `String`s
//! and `Vec`s; every collection has a bound (see the `MAX_*` constants) checked at parse.

mod amr;
mod answer;
mod attr;
mod check;
mod caps;
mod error;
mod offer;
mod parse;
mod precond;
mod repr;
mod sections;
mod template;
mod view;

#[doc(hidden)]
pub mod fuzzing;

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_answer;

pub use amr::{AmrMismatch, AmrParams};
pub use answer::{answer, AnswerError, LocalSession};
pub use attr::{Attribute, Direction, Fmtp, RtcpAttr, Rtpmap};
pub use caps::{AmrCaps, CodecCap, LocalCaps, MediaCaps, PreconditionPolicy};
pub use error::{ErrorKind, ParseError};
pub use offer::{build_offer, offer_from_template, verify_answer};
pub use precond::{PrecondDirection, Precondition, StatusType, Strength};
pub use repr::{
    AddrType, Bandwidth, BandwidthType, Connection, ExtraLine, MediaDescription, MediaKind,
    Origin, SessionDescription, Timing,
};
pub use sections::{Section, Sections};
pub use view::{Line, SdpView};

/// The media type of SDP bodies.
pub const MEDIA_TYPE: &str = "application/sdp";

/// True when a Content-Type value names SDP: `application/sdp`, case-insensitive (RFC 2045
/// 5.1), with or without parameters after a `;` (RFC 3261 20.15), linear white space
/// allowed around it. `application/sdpx` and multipart bodies are not SDP.
pub fn is_media_type(value: &[u8]) -> bool {
    let value = value.trim_ascii();
    let Some((head, rest)) = value.split_at_checked(MEDIA_TYPE.len()) else { return false };
    head.eq_ignore_ascii_case(MEDIA_TYPE.as_bytes()) && matches!(rest.trim_ascii_start().first(), None | Some(b';'))
}

/// Largest SDP body accepted (bytes).
pub const MAX_BODY_SIZE: usize = 16 * 1024;
/// Most lines in one body.
pub const MAX_LINES: usize = 512;
/// Most media sections (`m=` lines) in one description.
pub const MAX_MEDIA: usize = 16;
/// Most attributes at session level, and in each media section.
pub const MAX_ATTRIBUTES: usize = 64;
/// Most formats on one `m=` line.
pub const MAX_FORMATS: usize = 32;
/// Most `b=` lines at one level.
pub const MAX_BANDWIDTHS: usize = 8;
/// Most preserved lines of other types (`u= e= p= r= z= k=`, extra `t=`) at one level.
pub const MAX_EXTRA_LINES: usize = 16;
