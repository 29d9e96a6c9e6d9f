//! SMS over IP codecs (sans-IO): the relay layer of TS 24.011 carried in SIP MESSAGE bodies
//! (`application/vnd.3gpp.sms`, TS 24.341), the transfer-layer TPDUs of TS 23.040, the data
//! coding scheme and alphabets of TS 23.038, user-data headers, and the concatenation helpers.
//!
//! Every wire type comes as a validated representation with `parse(&[u8])` and
//! `emit(&self, &mut [u8])` / `buffer_len()`; representations hold bounded inline storage, so
//! neither parse nor emit allocates. [`RpPacket`] is the checked zero-copy view of an RP
//! message, enough to answer an undecodable message with RP-ERROR.

mod address;
mod concat;
mod cursor;
mod dcs;
mod error;
mod gsm7;
mod rp;
mod rp_cause;
mod time;
mod tpdu;
mod ucs2;
mod udh;
mod user_data;

#[cfg(test)]
mod mutation_tests;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(test)]
mod vector_tests;

pub use address::{Npi, RpAddress, Ton, TpAddress, TypeOfAddress, MAX_DIGITS};
pub use concat::{segment_data, segment_text, Reassembled, Reassembler, Segments};
pub use dcs::{Alphabet, Dcs, DcsGroup, MessageClass, WaitingKind};
pub use error::Error;
pub use gsm7::{gsm7_decode, gsm7_encode, gsm7_septet_len, pack_septets, unpack_septets};
pub use rp::{
    RpAck, RpData, RpDirection, RpError, RpMessage, RpPacket, RpSmma, RpUserData, MAX_RP_USER_DATA,
};
pub use rp_cause::RpCause;
pub use time::{EnhancedVp, Timestamp, ValidityPeriod};
pub use tpdu::{
    Carrier, Command, Deliver, DeliverReport, Direction, StatusReport, Submit, SubmitReport, Tpdu,
};
pub use ucs2::{ucs2_decode, ucs2_encode};
pub use udh::{Concat, Ie, Udh, MAX_UDH_LEN};
pub use user_data::{Unit, UserData, MAX_UD_OCTETS, MAX_UD_SEPTETS};
