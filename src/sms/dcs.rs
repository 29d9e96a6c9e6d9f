//! TP-Data-Coding-Scheme (TS 23.038 clause 4, SMS data coding scheme). Kept as the raw octet
//! so that every value round-trips; the accessors decode the coding groups.

/// Character set of the user data (TS 23.038 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alphabet {
    /// GSM 7-bit default alphabet (also assumed for reserved codings).
    Gsm7,
    /// 8-bit data.
    Data8,
    /// UCS2 (UTF-16BE).
    Ucs2,
}

/// Message class (TS 23.038 4, bits 1-0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageClass {
    /// Class 0: immediate display ("Flash SMS"), not stored.
    Class0,
    /// Class 1: ME-specific.
    Class1,
    /// Class 2: (U)SIM-specific.
    Class2,
    /// Class 3: TE-specific.
    Class3,
}

/// Indication type of the message-waiting groups (TS 23.038 4, bits 1-0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitingKind {
    /// Voicemail message waiting.
    Voicemail,
    /// Fax message waiting.
    Fax,
    /// Electronic mail message waiting.
    Email,
    /// Other message waiting.
    Other,
}

/// The decoded coding group of a DCS octet (TS 23.038 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DcsGroup {
    /// 00xx general data coding, or 01xx the same marked for automatic deletion.
    General {
        /// Bit 6: message marked for automatic deletion (group 01xx).
        auto_delete: bool,
        /// Bit 5: text compressed (TS 23.042).
        compressed: bool,
        /// Bits 3-2.
        alphabet: Alphabet,
        /// Bits 1-0 when bit 4 is set.
        class: Option<MessageClass>,
    },
    /// 1100 discard / 1101 store (GSM 7-bit) / 1110 store (UCS2): message waiting indication.
    MessageWaiting {
        /// Whether the message is to be stored (groups 1101, 1110) or may be discarded (1100).
        store: bool,
        /// GSM 7-bit for 1100/1101, UCS2 for 1110.
        alphabet: Alphabet,
        /// Bit 3: indication active (set) or inactive.
        active: bool,
        /// Bits 1-0.
        kind: WaitingKind,
    },
    /// 1111 data coding / message class: bit 2 selects 8-bit data over GSM 7-bit.
    DataClass {
        /// GSM 7-bit or 8-bit data.
        alphabet: Alphabet,
        /// Bits 1-0.
        class: MessageClass,
    },
    /// 1000-1011 reserved coding groups (the alphabet is taken to be GSM 7-bit).
    Reserved,
}

/// TP-DCS (TS 23.040 9.2.3.10, coded as TS 23.038 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Dcs(pub u8);

const CLASSES: [MessageClass; 4] = [
    MessageClass::Class0,
    MessageClass::Class1,
    MessageClass::Class2,
    MessageClass::Class3,
];

impl Dcs {
    /// 0x00: GSM 7-bit default alphabet, no class. Never Latin-1.
    pub const GSM7: Dcs = Dcs(0x00);
    /// 0x04: 8-bit data, no class.
    pub const DATA8: Dcs = Dcs(0x04);
    /// 0x08: UCS2, no class.
    pub const UCS2: Dcs = Dcs(0x08);

    /// 0x10: Flash SMS, GSM 7-bit default alphabet with message class 0.
    pub fn flash() -> Dcs {
        Dcs::general(Alphabet::Gsm7, Some(MessageClass::Class0))
    }

    /// A general-data-coding DCS (group 00xx, uncompressed).
    pub fn general(alphabet: Alphabet, class: Option<MessageClass>) -> Dcs {
        let a = match alphabet {
            Alphabet::Gsm7 => 0,
            Alphabet::Data8 => 1,
            Alphabet::Ucs2 => 2,
        };
        let c = class.map_or(0, |c| 0x10 | c as u8);
        Dcs((a << 2) | c)
    }

    /// Decodes the coding group.
    pub fn group(self) -> DcsGroup {
        let b = self.0;
        let class = CLASSES[usize::from(b & 0x03)]; // index < 4
        match b >> 4 {
            0x0..=0x7 => DcsGroup::General {
                auto_delete: b & 0x40 != 0,
                compressed: b & 0x20 != 0,
                alphabet: match (b >> 2) & 0x03 {
                    1 => Alphabet::Data8,
                    2 => Alphabet::Ucs2,
                    _ => Alphabet::Gsm7, // 11 reserved: assume the default alphabet
                },
                class: (b & 0x10 != 0).then_some(class),
            },
            0xc..=0xe => DcsGroup::MessageWaiting {
                store: b >> 4 != 0xc,
                alphabet: if b >> 4 == 0xe {
                    Alphabet::Ucs2
                } else {
                    Alphabet::Gsm7
                },
                active: b & 0x08 != 0,
                kind: [
                    WaitingKind::Voicemail,
                    WaitingKind::Fax,
                    WaitingKind::Email,
                    WaitingKind::Other,
                ][usize::from(b & 0x03)], // index < 4
            },
            0xf => DcsGroup::DataClass {
                alphabet: if b & 0x04 != 0 {
                    Alphabet::Data8
                } else {
                    Alphabet::Gsm7
                },
                class,
            },
            _ => DcsGroup::Reserved,
        }
    }

    /// The alphabet of the user data.
    pub fn alphabet(self) -> Alphabet {
        match self.group() {
            DcsGroup::General { alphabet, .. }
            | DcsGroup::MessageWaiting { alphabet, .. }
            | DcsGroup::DataClass { alphabet, .. } => alphabet,
            DcsGroup::Reserved => Alphabet::Gsm7,
        }
    }

    /// The message class, if the DCS gives one.
    pub fn class(self) -> Option<MessageClass> {
        match self.group() {
            DcsGroup::General { class, .. } => class,
            DcsGroup::DataClass { class, .. } => Some(class),
            _ => None,
        }
    }

    /// Whether the text is compressed (TS 23.042).
    pub fn compressed(self) -> bool {
        matches!(
            self.group(),
            DcsGroup::General {
                compressed: true,
                ..
            }
        )
    }

    /// Whether this is a Flash SMS (class 0).
    pub fn is_flash(self) -> bool {
        self.class() == Some(MessageClass::Class0)
    }

    /// TS 23.040 9.2.3.16: TP-UDL counts septets for uncompressed GSM 7-bit, octets otherwise.
    pub fn udl_in_septets(self) -> bool {
        self.alphabet() == Alphabet::Gsm7 && !self.compressed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_is_0x10_gsm7_class0() {
        assert_eq!(Dcs::flash(), Dcs(0x10));
        assert_eq!(Dcs(0x10).alphabet(), Alphabet::Gsm7);
        assert!(Dcs(0x10).is_flash());
        assert!(!Dcs(0x00).is_flash());
        assert!(Dcs(0xF0).is_flash());
        assert_eq!(
            Dcs::general(Alphabet::Ucs2, Some(MessageClass::Class2)),
            Dcs(0x1A)
        );
    }

    #[test]
    fn groups() {
        assert_eq!(Dcs(0x00).alphabet(), Alphabet::Gsm7);
        assert_eq!(Dcs(0x04).alphabet(), Alphabet::Data8);
        assert_eq!(Dcs(0x08).alphabet(), Alphabet::Ucs2);
        assert_eq!(Dcs(0x0C).alphabet(), Alphabet::Gsm7); // reserved alphabet
        assert!(Dcs(0x20).compressed() && !Dcs(0x20).udl_in_septets());
        assert!(matches!(
            Dcs(0x40).group(),
            DcsGroup::General {
                auto_delete: true,
                ..
            }
        ));
        assert_eq!(
            Dcs(0xC8).group(),
            DcsGroup::MessageWaiting {
                store: false,
                alphabet: Alphabet::Gsm7,
                active: true,
                kind: WaitingKind::Voicemail
            }
        );
        assert_eq!(Dcs(0xE1).alphabet(), Alphabet::Ucs2);
        assert_eq!(
            Dcs(0xF6).group(),
            DcsGroup::DataClass {
                alphabet: Alphabet::Data8,
                class: MessageClass::Class2
            }
        );
        assert_eq!(Dcs(0x85).group(), DcsGroup::Reserved);
        assert!(Dcs(0x85).udl_in_septets());
    }
}
