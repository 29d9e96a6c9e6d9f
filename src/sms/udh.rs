//! The user data header (TS 23.040 9.2.3.24): a list of information elements, of which
//! concatenation (9.2.3.24.1, 9.2.3.24.8) and application port addressing (9.2.3.24.3,
//! 9.2.3.24.4) are decoded; every other element is kept verbatim.

use super::error::Error;

/// Largest UDHL: the header and its length octet fill at most the 140 user-data octets.
pub const MAX_UDH_LEN: usize = 139;

/// IEI of the concatenation element with an 8-bit reference (9.2.3.24.1).
const IEI_CONCAT8: u8 = 0x00;
/// IEI of the 8-bit application port addressing element (9.2.3.24.3).
const IEI_PORTS8: u8 = 0x04;
/// IEI of the 16-bit application port addressing element (9.2.3.24.4).
const IEI_PORTS16: u8 = 0x05;
/// IEI of the concatenation element with a 16-bit reference (9.2.3.24.8).
const IEI_CONCAT16: u8 = 0x08;

/// Concatenated short message position (TS 23.040 9.2.3.24.1 / 9.2.3.24.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Concat {
    /// Concatenated short message reference number.
    pub reference: u16,
    /// Whether the reference is 16-bit (IEI 0x08) rather than 8-bit (IEI 0x00).
    pub wide: bool,
    /// Maximum number of short messages in the concatenated message.
    pub total: u8,
    /// Sequence number of this part, from 1.
    pub seq: u8,
}

impl Concat {
    /// Whether the receiver may use it (9.2.3.24.1: 0 parts, seq 0 or seq > total are ignored).
    pub fn is_valid(&self) -> bool {
        self.total != 0 && self.seq != 0 && self.seq <= self.total
    }
}

/// One information element of a user data header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ie<'a> {
    /// Concatenated short message, 8- or 16-bit reference.
    Concat(Concat),
    /// Application port addressing, 8-bit ports.
    Ports8 {
        /// Destination port.
        dest: u8,
        /// Originator port.
        orig: u8,
    },
    /// Application port addressing, 16-bit ports.
    Ports16 {
        /// Destination port.
        dest: u16,
        /// Originator port.
        orig: u16,
    },
    /// Any other element (or a known IEI with a wrong length), kept as it came.
    Other {
        /// Information element identifier.
        iei: u8,
        /// Its data.
        data: &'a [u8],
    },
}

impl<'a> Ie<'a> {
    fn decode(iei: u8, data: &'a [u8]) -> Self {
        match (iei, data) {
            (IEI_CONCAT8, &[r, total, seq]) => Ie::Concat(Concat {
                reference: u16::from(r),
                wide: false,
                total,
                seq,
            }),
            (IEI_CONCAT16, &[r0, r1, total, seq]) => Ie::Concat(Concat {
                reference: u16::from_be_bytes([r0, r1]),
                wide: true,
                total,
                seq,
            }),
            (IEI_PORTS8, &[dest, orig]) => Ie::Ports8 { dest, orig },
            (IEI_PORTS16, &[d0, d1, o0, o1]) => Ie::Ports16 {
                dest: u16::from_be_bytes([d0, d1]),
                orig: u16::from_be_bytes([o0, o1]),
            },
            _ => Ie::Other { iei, data },
        }
    }

    /// Writes IEI, IEDL and data into `out`; returns the octets used.
    fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut tmp = [0u8; 4];
        let (iei, data): (u8, &[u8]) = match *self {
            Ie::Concat(c) if c.wide => {
                let [r0, r1] = c.reference.to_be_bytes();
                tmp = [r0, r1, c.total, c.seq];
                (IEI_CONCAT16, &tmp[..4])
            }
            Ie::Concat(c) => {
                let r = u8::try_from(c.reference).map_err(|_| Error::InvalidValue)?;
                tmp[..3].copy_from_slice(&[r, c.total, c.seq]);
                (IEI_CONCAT8, &tmp[..3])
            }
            Ie::Ports8 { dest, orig } => {
                tmp[..2].copy_from_slice(&[dest, orig]);
                (IEI_PORTS8, &tmp[..2])
            }
            Ie::Ports16 { dest, orig } => {
                let ([d0, d1], [o0, o1]) = (dest.to_be_bytes(), orig.to_be_bytes());
                tmp = [d0, d1, o0, o1];
                (IEI_PORTS16, &tmp[..4])
            }
            Ie::Other { iei, data } => (iei, data),
        };
        let iedl = u8::try_from(data.len()).map_err(|_| Error::TooLong)?;
        let dst = out.get_mut(..2 + data.len()).ok_or(Error::TooLong)?;
        dst[0] = iei;
        dst[1] = iedl;
        dst[2..].copy_from_slice(data);
        Ok(dst.len())
    }
}

/// A user data header: its information elements (without the UDHL octet), bounded inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Udh {
    len: u8,
    bytes: [u8; MAX_UDH_LEN],
}

impl core::fmt::Debug for Udh {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Default for Udh {
    fn default() -> Self {
        Udh {
            len: 0,
            bytes: [0; MAX_UDH_LEN],
        }
    }
}

impl Udh {
    /// An empty header.
    pub fn new() -> Self {
        Self::default()
    }

    /// A header holding one concatenation element.
    pub fn with_concat(concat: Concat) -> Self {
        let mut h = Self::new();
        // Invariant: a 6-octet element always fits an empty 139-octet header, and an 8-bit
        // reference is only requested with a value below 256 by the callers in this module.
        let _ = h.push(&Ie::Concat(concat));
        h
    }

    /// Validates the element list (each IEDL within the header) and copies it.
    pub fn parse(ies: &[u8]) -> Result<Self, Error> {
        if ies.len() > MAX_UDH_LEN {
            return Err(Error::TooLong);
        }
        let mut rest = ies;
        while let [_iei, iedl, tail @ ..] = rest {
            rest = tail.get(usize::from(*iedl)..).ok_or(Error::BadLength)?;
        }
        if !rest.is_empty() {
            return Err(Error::BadLength); // a lone IEI octet without its length
        }
        let mut h = Self::new();
        h.bytes[..ies.len()].copy_from_slice(ies); // length checked above
        h.len = ies.len() as u8;
        Ok(h)
    }

    /// Appends an element ([`Error::TooLong`] when the header would exceed 139 octets).
    pub fn push(&mut self, ie: &Ie<'_>) -> Result<(), Error> {
        let start = usize::from(self.len);
        let n = ie.encode(&mut self.bytes[start..])?; // start <= MAX_UDH_LEN
        self.len += n as u8; // start + n <= 139
        Ok(())
    }

    /// The element list as octets (without the UDHL octet).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// UDHL: octets of the element list.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there is no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = Ie<'_>> + '_ {
        let mut rest = self.as_bytes();
        core::iter::from_fn(move || {
            let (&iei, tail) = rest.split_first()?;
            let (&iedl, tail) = tail.split_first()?;
            let data = tail.get(..usize::from(iedl))?;
            rest = tail.get(usize::from(iedl)..)?;
            Some(Ie::decode(iei, data))
        })
    }

    /// The first concatenation element, if any.
    pub fn concat(&self) -> Option<Concat> {
        self.iter().find_map(|ie| match ie {
            Ie::Concat(c) => Some(c),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_elements() {
        let bytes = [
            0x00, 0x03, 0x2A, 0x03, 0x01, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x70, 0x01, 0xFF,
            0x08, 0x04, 0x12, 0x34, 0x02, 0x02,
        ];
        let h = Udh::parse(&bytes).unwrap();
        let ies: Vec<_> = h.iter().collect();
        assert_eq!(
            ies,
            [
                Ie::Concat(Concat {
                    reference: 0x2A,
                    wide: false,
                    total: 3,
                    seq: 1
                }),
                Ie::Ports16 {
                    dest: 0x0B84,
                    orig: 0x23F0
                },
                Ie::Other {
                    iei: 0x70,
                    data: &[0xFF]
                },
                Ie::Concat(Concat {
                    reference: 0x1234,
                    wide: true,
                    total: 2,
                    seq: 2
                }),
            ]
        );
        let mut rebuilt = Udh::new();
        ies.iter().for_each(|ie| rebuilt.push(ie).unwrap());
        assert_eq!(rebuilt.as_bytes(), bytes);
        assert_eq!(h.concat().unwrap().seq, 1);
    }

    #[test]
    fn ports8_and_malformed() {
        let h = Udh::parse(&[0x04, 0x02, 0x10, 0x20]).unwrap();
        assert_eq!(
            h.iter().next(),
            Some(Ie::Ports8 {
                dest: 0x10,
                orig: 0x20
            })
        );
        // A concatenation IEI with a wrong length is kept as an unknown element.
        let h = Udh::parse(&[0x00, 0x02, 0x01, 0x02]).unwrap();
        assert!(matches!(h.iter().next(), Some(Ie::Other { iei: 0, .. })));
        assert_eq!(Udh::parse(&[0x00, 0x03, 0x01]), Err(Error::BadLength));
        assert_eq!(Udh::parse(&[0x00]), Err(Error::BadLength));
        assert_eq!(Udh::parse(&[0u8; 140]), Err(Error::TooLong));
    }
}
