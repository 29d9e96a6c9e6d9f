//! Addresses: the TP address of TS 23.040 9.1.2.5 (length in semi-octets, BCD or alphanumeric)
//! and the RP address of TS 24.011 8.2.5.1/8.2.5.2 (length in octets, BCD as TS 24.008
//! 10.5.4.7), sharing the type-of-address octet and the semi-octet digit coding.

use super::cursor::{Reader, Writer};
use super::error::Error;
use super::gsm7::{gsm7_decode, gsm7_encode, pack_septets, unpack_septets};
use core::fmt;

/// Most digits (semi-octets) an address value holds: 10 octets (TS 23.040 9.1.2.5: an address
/// field is at most 12 octets including the length and type octets).
pub const MAX_DIGITS: usize = 20;
const MAX_VALUE_OCTETS: usize = MAX_DIGITS / 2;
/// Most characters in an alphanumeric address: 11 septets fit in 10 octets.
const MAX_ALPHA_CHARS: usize = MAX_VALUE_OCTETS * 8 / 7;

/// Type of number (TS 23.040 9.1.2.5, bits 7-5 of the type-of-address octet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Ton {
    Unknown,
    International,
    National,
    NetworkSpecific,
    Subscriber,
    /// Alphanumeric, coded in the GSM 7-bit default alphabet.
    Alphanumeric,
    Abbreviated,
    Reserved,
}

/// Numbering plan identification (TS 23.040 9.1.2.5, bits 4-1 of the type-of-address octet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Npi {
    /// 0000 unknown.
    Unknown,
    /// 0001 ISDN/telephone numbering plan (E.164/E.163).
    Isdn,
    /// 0011 data numbering plan (X.121).
    Data,
    /// 0100 telex numbering plan.
    Telex,
    /// 1000 national numbering plan.
    National,
    /// 1001 private numbering plan.
    Private,
    /// 1010 ERMES numbering plan.
    Ermes,
    /// Any other 4-bit value (service-centre specific plans, reserved).
    Other(u8),
}

/// The type-of-address octet: bit 8 is always 1, then TON (3 bits) and NPI (4 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TypeOfAddress {
    /// Type of number.
    pub ton: Ton,
    /// Numbering plan identification.
    pub npi: Npi,
}

impl TypeOfAddress {
    /// International ISDN number (0x91).
    pub const INTERNATIONAL: TypeOfAddress = TypeOfAddress {
        ton: Ton::International,
        npi: Npi::Isdn,
    };
    /// Unknown type, ISDN plan (0x81).
    pub const UNKNOWN: TypeOfAddress = TypeOfAddress {
        ton: Ton::Unknown,
        npi: Npi::Isdn,
    };

    /// Decodes the octet (bit 8, the extension bit, is ignored).
    pub fn from_u8(octet: u8) -> Self {
        const TONS: [Ton; 8] = [
            Ton::Unknown,
            Ton::International,
            Ton::National,
            Ton::NetworkSpecific,
            Ton::Subscriber,
            Ton::Alphanumeric,
            Ton::Abbreviated,
            Ton::Reserved,
        ];
        let ton = TONS[usize::from((octet >> 4) & 0x07)]; // index < 8
        let npi = match octet & 0x0f {
            0 => Npi::Unknown,
            1 => Npi::Isdn,
            3 => Npi::Data,
            4 => Npi::Telex,
            8 => Npi::National,
            9 => Npi::Private,
            10 => Npi::Ermes,
            other => Npi::Other(other),
        };
        TypeOfAddress { ton, npi }
    }

    /// Encodes the octet with bit 8 set.
    pub fn to_u8(self) -> u8 {
        let npi = match self.npi {
            Npi::Unknown => 0,
            Npi::Isdn => 1,
            Npi::Data => 3,
            Npi::Telex => 4,
            Npi::National => 8,
            Npi::Private => 9,
            Npi::Ermes => 10,
            Npi::Other(v) => v & 0x0f,
        };
        0x80 | ((self.ton as u8) << 4) | npi
    }
}

/// Up to 20 semi-octets, packed low nibble first (TS 23.040 9.1.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct SemiOctets {
    len: u8,
    packed: [u8; MAX_VALUE_OCTETS],
}

impl SemiOctets {
    /// From `len` semi-octets in `octets`; an unused high nibble is set to `filler`.
    fn from_packed(octets: &[u8], len: usize, filler: u8) -> Result<Self, Error> {
        if len > MAX_DIGITS || octets.len() != len.div_ceil(2) {
            return Err(Error::BadLength);
        }
        let mut packed = [0u8; MAX_VALUE_OCTETS];
        packed[..octets.len()].copy_from_slice(octets); // lengths checked above
        if len % 2 == 1 {
            let last = &mut packed[len / 2];
            *last = (*last & 0x0f) | (filler << 4);
        }
        Ok(SemiOctets {
            len: len as u8,
            packed,
        })
    }

    /// From dialled digits: 0-9, '*', '#', 'a', 'b', 'c' (TS 24.008 Table 10.5.118).
    fn from_digits(digits: &str) -> Result<Self, Error> {
        let mut packed = [0xffu8; MAX_VALUE_OCTETS];
        let mut len = 0usize;
        for c in digits.chars() {
            let nibble = match c {
                '0'..='9' => c as u8 - b'0',
                '*' => 0x0a,
                '#' => 0x0b,
                'a' | 'A' => 0x0c,
                'b' | 'B' => 0x0d,
                'c' | 'C' => 0x0e,
                _ => return Err(Error::InvalidValue),
            };
            let octet = packed.get_mut(len / 2).ok_or(Error::TooLong)?;
            *octet = if len & 1 == 0 {
                0xf0 | nibble
            } else {
                (*octet & 0x0f) | (nibble << 4)
            };
            len += 1;
        }
        packed.iter_mut().skip(len.div_ceil(2)).for_each(|o| *o = 0);
        Ok(SemiOctets {
            len: len as u8,
            packed,
        })
    }

    fn octets(&self) -> &[u8] {
        &self.packed[..usize::from(self.len).div_ceil(2)] // len <= 20 by construction
    }

    fn nibbles(&self) -> impl Iterator<Item = u8> + '_ {
        (0..usize::from(self.len)).map(|i| {
            let o = self.packed[i / 2]; // i < len <= 20
            if i % 2 == 0 {
                o & 0x0f
            } else {
                o >> 4
            }
        })
    }

    fn digits(&self) -> impl Iterator<Item = char> + '_ {
        self.nibbles()
            .map(|n| char::from(b"0123456789*#abcf"[usize::from(n)]))
    }
}

/// An RP address (TS 24.011 8.2.5.1 originator, 8.2.5.2 destination): a BCD number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RpAddress {
    /// Type of number and numbering plan.
    pub toa: TypeOfAddress,
    digits: SemiOctets,
}

impl RpAddress {
    /// An address from dialled digits (0-9 * # a b c, at most 20).
    pub fn new(toa: TypeOfAddress, digits: &str) -> Result<Self, Error> {
        Ok(RpAddress {
            toa,
            digits: SemiOctets::from_digits(digits)?,
        })
    }

    /// An international E.164 number; a leading '+' is accepted and dropped.
    pub fn international(number: &str) -> Result<Self, Error> {
        Self::new(
            TypeOfAddress::INTERNATIONAL,
            number.strip_prefix('+').unwrap_or(number),
        )
    }

    /// The digits (0-9 * # a b c; 'f' only for a filler found inside a received number).
    pub fn digits(&self) -> impl Iterator<Item = char> + '_ {
        self.digits.digits()
    }

    /// Reads an LV-coded RP address; length 0 is an absent address.
    pub(crate) fn parse_lv(r: &mut Reader<'_>) -> Result<Option<Self>, Error> {
        let len = usize::from(r.u8()?);
        if len == 0 {
            return Ok(None);
        }
        if len > 1 + MAX_VALUE_OCTETS {
            return Err(Error::BadLength);
        }
        let toa = TypeOfAddress::from_u8(r.u8()?);
        let value = r.take(len - 1)?;
        // TS 24.008 10.5.4.7: an odd number of digits ends with the end mark 1111.
        let odd = value.last().is_some_and(|o| o >> 4 == 0x0f);
        let digits = SemiOctets::from_packed(value, value.len() * 2 - usize::from(odd), 0x0f)?;
        Ok(Some(RpAddress { toa, digits }))
    }

    /// Octets of the LV encoding of `addr` (1 for an absent address).
    pub(crate) fn lv_len(addr: Option<&Self>) -> usize {
        addr.map_or(1, |a| 2 + a.digits.octets().len())
    }

    pub(crate) fn emit_lv(addr: Option<&Self>, w: &mut Writer<'_>) -> Result<(), Error> {
        match addr {
            None => w.u8(0),
            Some(a) => {
                let value = a.digits.octets();
                w.u8(1 + value.len() as u8)?; // value.len() <= 10
                w.u8(a.toa.to_u8())?;
                w.bytes(value)
            }
        }
    }
}

impl fmt::Display for RpAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.toa.ton == Ton::International {
            f.write_str("+")?;
        }
        self.digits().try_for_each(|c| fmt::Write::write_char(f, c))
    }
}

/// A TP address (TS 23.040 9.1.2.5): TP-OA, TP-DA, TP-RA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TpAddress {
    /// Type of number and numbering plan.
    pub toa: TypeOfAddress,
    value: SemiOctets,
}

impl TpAddress {
    /// A numeric address from dialled digits (0-9 * # a b c, at most 20).
    pub fn new(toa: TypeOfAddress, digits: &str) -> Result<Self, Error> {
        if toa.ton == Ton::Alphanumeric {
            return Self::alphanumeric(digits);
        }
        Ok(TpAddress {
            toa,
            value: SemiOctets::from_digits(digits)?,
        })
    }

    /// An international E.164 number; a leading '+' is accepted and dropped.
    pub fn international(number: &str) -> Result<Self, Error> {
        Self::new(
            TypeOfAddress::INTERNATIONAL,
            number.strip_prefix('+').unwrap_or(number),
        )
    }

    /// An alphanumeric sender (TON 101): at most 11 GSM 7-bit default-alphabet septets.
    pub fn alphanumeric(text: &str) -> Result<Self, Error> {
        let mut septets = [0u8; MAX_ALPHA_CHARS];
        let n = gsm7_encode(text, &mut septets)?;
        let mut packed = [0u8; MAX_VALUE_OCTETS];
        pack_septets(&septets[..n], 0, &mut packed)?;
        // TS 23.040 9.1.2.5: the length counts the semi-octets actually used.
        let len = (n * 7).div_ceil(4);
        let value = SemiOctets::from_packed(&packed[..len.div_ceil(2)], len, 0)?;
        Ok(TpAddress {
            toa: TypeOfAddress {
                ton: Ton::Alphanumeric,
                npi: Npi::Unknown,
            },
            value,
        })
    }

    /// Whether the value is alphanumeric text rather than digits.
    pub fn is_alphanumeric(&self) -> bool {
        self.toa.ton == Ton::Alphanumeric
    }

    /// The digits of a numeric address (for an alphanumeric one: its raw semi-octets).
    pub fn digits(&self) -> impl Iterator<Item = char> + '_ {
        self.value.digits()
    }

    /// The text of an alphanumeric address (`None` for a numeric one).
    pub fn text(&self) -> Option<String> {
        if !self.is_alphanumeric() {
            return None;
        }
        let mut septets = [0u8; MAX_ALPHA_CHARS];
        let n = (usize::from(self.value.len) * 4 / 7).min(MAX_ALPHA_CHARS);
        // The value holds len/2 octets >= n*7/8: unpacking cannot run short.
        unpack_septets(self.value.octets(), 0, &mut septets[..n]).ok()?;
        let mut text = String::new();
        gsm7_decode(&septets[..n], &mut text);
        Some(text)
    }

    /// Octets of the encoded address field (2 to 12).
    pub fn buffer_len(&self) -> usize {
        2 + self.value.octets().len()
    }

    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let len = usize::from(r.u8()?);
        if len > MAX_DIGITS {
            return Err(Error::BadLength);
        }
        let toa = TypeOfAddress::from_u8(r.u8()?);
        let filler = if toa.ton == Ton::Alphanumeric {
            0
        } else {
            0x0f
        };
        let value = SemiOctets::from_packed(r.take(len.div_ceil(2))?, len, filler)?;
        Ok(TpAddress { toa, value })
    }

    pub(crate) fn emit(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u8(self.value.len)?;
        w.u8(self.toa.to_u8())?;
        w.bytes(self.value.octets())
    }
}

impl fmt::Display for TpAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(text) = self.text() {
            return f.write_str(&text);
        }
        if self.toa.ton == Ton::International {
            f.write_str("+")?;
        }
        self.digits().try_for_each(|c| fmt::Write::write_char(f, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp_roundtrip(bytes: &[u8]) -> TpAddress {
        let a = TpAddress::parse(&mut Reader::new(bytes)).unwrap();
        let mut out = [0u8; 12];
        let mut w = Writer::new(&mut out);
        a.emit(&mut w).unwrap();
        assert_eq!(w.len(), a.buffer_len());
        assert_eq!(&out[..a.buffer_len()], bytes);
        a
    }

    #[test]
    fn odd_digit_count_uses_f_filler() {
        // 11 digits 46708251358: 64 07 28 15 53 F8 (last digit 8 with filler F in the high nibble).
        let a = tp_roundtrip(&[0x0B, 0x91, 0x64, 0x07, 0x28, 0x15, 0x53, 0xF8]);
        assert_eq!(a.to_string(), "+46708251358");
        assert_eq!(TpAddress::international("+46708251358").unwrap(), a);
    }

    #[test]
    fn star_hash_and_abc_digit_codes() {
        let a = TpAddress::new(TypeOfAddress::UNKNOWN, "*#abc1").unwrap();
        let mut out = [0u8; 12];
        a.emit(&mut Writer::new(&mut out)).unwrap();
        // Digits * # a b c 1 = A B C D E 1 -> octets BA DC 1E.
        assert_eq!(out[..5], [0x06, 0x81, 0xBA, 0xDC, 0x1E]);
        assert_eq!(a.digits().collect::<String>(), "*#abc1");
        assert_eq!(
            TpAddress::new(TypeOfAddress::UNKNOWN, "12+"),
            Err(Error::InvalidValue)
        );
        assert_eq!(
            TpAddress::new(TypeOfAddress::UNKNOWN, &"1".repeat(21)),
            Err(Error::TooLong)
        );
    }

    #[test]
    fn alphanumeric_sender() {
        let a = TpAddress::alphanumeric("Telenor").unwrap();
        let mut out = [0u8; 12];
        a.emit(&mut Writer::new(&mut out)).unwrap();
        // 7 septets = 49 bits = 13 semi-octets; TON 101 NPI 0000 -> 0xD0.
        // "Telenor" = 54 65 6C 65 6E 6F 72 packed LSB first:
        // 54|65<<7=D4, 65>>1|6C<<6=32, 6C>>2|65<<5=BB, 65>>3|6E<<4=EC, 6E>>4|6F<<3=7E,
        // 6F>>5|72<<2=CB, 72>>6=01.
        assert_eq!(
            out[..9],
            [0x0D, 0xD0, 0xD4, 0x32, 0xBB, 0xEC, 0x7E, 0xCB, 0x01]
        );
        let back = tp_roundtrip(&out[..9]);
        assert_eq!(back.text().as_deref(), Some("Telenor"));
        assert!(TpAddress::alphanumeric("ABCDEFGHIJKL").is_err());
    }

    #[test]
    fn empty_and_oversized_addresses() {
        let a = tp_roundtrip(&[0x00, 0x80]);
        assert_eq!(a.digits().count(), 0);
        assert_eq!(
            TpAddress::parse(&mut Reader::new(&[21, 0x91])),
            Err(Error::BadLength)
        );
        assert_eq!(
            TpAddress::parse(&mut Reader::new(&[4, 0x91, 0x21])),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn rp_address_lv() {
        // The seed capture: destination 03 81 98 F4 = unknown/ISDN "894".
        let mut r = Reader::new(&[0x03, 0x81, 0x98, 0xF4]);
        let a = RpAddress::parse_lv(&mut r).unwrap().unwrap();
        assert_eq!(a.to_string(), "894");
        let mut out = [0u8; 12];
        let mut w = Writer::new(&mut out);
        RpAddress::emit_lv(Some(&a), &mut w).unwrap();
        assert_eq!(out[..4], [0x03, 0x81, 0x98, 0xF4]);
        assert_eq!(RpAddress::parse_lv(&mut Reader::new(&[0])), Ok(None));
        assert_eq!(
            RpAddress::parse_lv(&mut Reader::new(&[12, 0x91])),
            Err(Error::BadLength)
        );
    }
}
