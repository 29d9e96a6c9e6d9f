//! RP-Cause values (TS 24.011 8.2.5.4, Table 8.4).

macro_rules! rp_causes {
    ($($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
        /// RP-Cause value (TS 24.011 Table 8.4). Values the table does not name are kept in
        /// [`RpCause::Other`] so that they round-trip.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum RpCause {
            $($(#[$doc])* $name,)*
            /// Any other 7-bit cause value.
            Other(u8),
        }

        impl RpCause {
            /// The cause from its 7-bit value (bit 8, the extension bit, is ignored).
            pub fn from_u8(value: u8) -> Self {
                match value & 0x7f {
                    $($value => RpCause::$name,)*
                    other => RpCause::Other(other),
                }
            }

            /// The 7-bit cause value.
            pub fn to_u8(self) -> u8 {
                match self {
                    $(RpCause::$name => $value,)*
                    RpCause::Other(v) => v & 0x7f,
                }
            }
        }
    };
}

rp_causes! {
    /// #1 Unassigned (unallocated) number.
    UnassignedNumber = 1,
    /// #8 Operator determined barring.
    OperatorDeterminedBarring = 8,
    /// #10 Call barred.
    CallBarred = 10,
    /// #21 Short message transfer rejected.
    ShortMessageTransferRejected = 21,
    /// #22 Memory capacity exceeded.
    MemoryCapacityExceeded = 22,
    /// #27 Destination out of order.
    DestinationOutOfOrder = 27,
    /// #28 Unidentified subscriber.
    UnidentifiedSubscriber = 28,
    /// #29 Facility rejected.
    FacilityRejected = 29,
    /// #30 Unknown subscriber.
    UnknownSubscriber = 30,
    /// #38 Network out of order.
    NetworkOutOfOrder = 38,
    /// #41 Temporary failure.
    TemporaryFailure = 41,
    /// #42 Congestion.
    Congestion = 42,
    /// #47 Resources unavailable, unspecified.
    ResourcesUnavailable = 47,
    /// #50 Requested facility not subscribed.
    FacilityNotSubscribed = 50,
    /// #69 Requested facility not implemented.
    FacilityNotImplemented = 69,
    /// #81 Invalid short message transfer reference value.
    InvalidTransferReference = 81,
    /// #95 Semantically incorrect message.
    SemanticallyIncorrectMessage = 95,
    /// #96 Invalid mandatory information.
    InvalidMandatoryInformation = 96,
    /// #97 Message type non-existent or not implemented.
    MessageTypeNonExistent = 97,
    /// #98 Message not compatible with short message protocol state.
    MessageNotCompatibleWithState = 98,
    /// #99 Information element non-existent or not implemented.
    InformationElementNonExistent = 99,
    /// #111 Protocol error, unspecified.
    ProtocolErrorUnspecified = 111,
    /// #127 Interworking, unspecified.
    InterworkingUnspecified = 127,
}

#[cfg(test)]
mod tests {
    use super::RpCause;

    #[test]
    fn numbers_match_table_8_4() {
        let table = [
            (1, RpCause::UnassignedNumber),
            (8, RpCause::OperatorDeterminedBarring),
            (10, RpCause::CallBarred),
            (21, RpCause::ShortMessageTransferRejected),
            (22, RpCause::MemoryCapacityExceeded),
            (27, RpCause::DestinationOutOfOrder),
            (28, RpCause::UnidentifiedSubscriber),
            (29, RpCause::FacilityRejected),
            (30, RpCause::UnknownSubscriber),
            (38, RpCause::NetworkOutOfOrder),
            (41, RpCause::TemporaryFailure),
            (42, RpCause::Congestion),
            (47, RpCause::ResourcesUnavailable),
            (50, RpCause::FacilityNotSubscribed),
            (69, RpCause::FacilityNotImplemented),
            (81, RpCause::InvalidTransferReference),
            (95, RpCause::SemanticallyIncorrectMessage),
            (96, RpCause::InvalidMandatoryInformation),
            (97, RpCause::MessageTypeNonExistent),
            (98, RpCause::MessageNotCompatibleWithState),
            (99, RpCause::InformationElementNonExistent),
            (111, RpCause::ProtocolErrorUnspecified),
            (127, RpCause::InterworkingUnspecified),
        ];
        for (n, c) in table {
            assert_eq!(RpCause::from_u8(n), c);
            assert_eq!(c.to_u8(), n);
        }
        assert_eq!(RpCause::from_u8(17), RpCause::Other(17));
        assert_eq!(RpCause::from_u8(0x80 | 42), RpCause::Congestion);
    }
}
