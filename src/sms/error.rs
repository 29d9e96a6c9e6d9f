//! The one error type of the SMS codecs, and the RP-ERROR cause a network answers with
//! (TS 24.011 clause 9: handling of unknown, unforeseen and erroneous protocol data).

use super::rp_cause::RpCause;
use core::fmt;

/// Why an SMS message could not be decoded, encoded or reassembled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before a mandatory field (or before the length a field announced).
    Truncated,
    /// A length field is out of its range (e.g. an address longer than 12 octets).
    BadLength,
    /// The message type indicator is reserved or not valid in this direction.
    UnknownMessageType(u8),
    /// An information element that this message does not define was found.
    UnexpectedIe(u8),
    /// A field holds a value the specification does not allow (e.g. TP-UDL above 160 septets,
    /// a non-decimal digit in a time stamp).
    InvalidValue,
    /// The output buffer given to `emit` is too short.
    BufferTooSmall,
    /// The data coding scheme and the user data disagree on septets versus octets.
    DcsMismatch,
    /// A character has no encoding in the GSM 7-bit default alphabet or its extension.
    Unrepresentable(char),
    /// The content exceeds a bound (user data, header, number of concatenated parts).
    TooLong,
    /// The reassembly table is full (its bound on pending messages is reached).
    ReassemblyFull,
}

impl Error {
    /// The RP-Cause a network sends in RP-ERROR for a message that failed with this error
    /// (TS 24.011 9.2: #96 for mandatory-information errors, #97 for unknown message types,
    /// #99 for unknown information elements, #95 for semantically incorrect content).
    pub fn rp_cause(&self) -> RpCause {
        match self {
            Error::Truncated | Error::BadLength => RpCause::InvalidMandatoryInformation,
            Error::UnknownMessageType(_) => RpCause::MessageTypeNonExistent,
            Error::UnexpectedIe(_) => RpCause::InformationElementNonExistent,
            Error::InvalidValue
            | Error::DcsMismatch
            | Error::Unrepresentable(_)
            | Error::TooLong => RpCause::SemanticallyIncorrectMessage,
            Error::ReassemblyFull => RpCause::ResourcesUnavailable,
            Error::BufferTooSmall => RpCause::ProtocolErrorUnspecified,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("message truncated"),
            Error::BadLength => f.write_str("length field out of range"),
            Error::UnknownMessageType(t) => write!(f, "unknown message type {t}"),
            Error::UnexpectedIe(iei) => write!(f, "unexpected information element {iei:#04x}"),
            Error::InvalidValue => f.write_str("invalid field value"),
            Error::BufferTooSmall => f.write_str("output buffer too small"),
            Error::DcsMismatch => f.write_str("user data does not match the data coding scheme"),
            Error::Unrepresentable(c) => write!(f, "character {c:?} not in the GSM 7-bit alphabet"),
            Error::TooLong => f.write_str("content exceeds its bound"),
            Error::ReassemblyFull => f.write_str("reassembly table full"),
        }
    }
}

impl std::error::Error for Error {}
