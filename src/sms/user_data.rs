//! TP-UDL and TP-UD (TS 23.040 9.2.3.16, 9.2.3.24): the user data with its optional header,
//! counted in septets (GSM 7-bit, the text starting on a septet boundary after the header and
//! its fill bits) or in octets (8-bit data, UCS2, compressed).

use super::cursor::{Reader, Writer};
use super::dcs::{Alphabet, Dcs};
use super::error::Error;
use super::gsm7::{gsm7_decode, gsm7_encode, pack_septets, unpack_septets};
use super::ucs2::{ucs2_decode, ucs2_encode};
use super::udh::Udh;

/// TS 23.040 9.2.3.16: at most 160 septets of 7-bit user data.
pub const MAX_UD_SEPTETS: usize = 160;
/// TS 23.040 9.2.3.16: at most 140 octets of 8-bit or UCS2 user data.
pub const MAX_UD_OCTETS: usize = 140;

/// What TP-UDL counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Septets (uncompressed GSM 7-bit default alphabet).
    Septets,
    /// Octets (8-bit data, UCS2, compressed data).
    Octets,
}

impl Unit {
    fn of(dcs: Dcs) -> Unit {
        if dcs.udl_in_septets() {
            Unit::Septets
        } else {
            Unit::Octets
        }
    }
}

/// User data: an optional header and a body of septet values or octets, bounded inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserData {
    header: Option<Udh>,
    unit: Unit,
    len: u8,
    body: [u8; MAX_UD_SEPTETS],
}

impl core::fmt::Debug for UserData {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UserData")
            .field("header", &self.header)
            .field("unit", &self.unit)
            .field("body", &self.body())
            .finish()
    }
}

/// Septets taken by a header of `udhl` octets plus its UDHL octet, with fill bits.
fn header_septets(udhl: usize) -> usize {
    ((1 + udhl) * 8).div_ceil(7)
}

impl UserData {
    /// User data of unpacked septet values (each below 128).
    pub fn from_septets(header: Option<Udh>, septets: &[u8]) -> Result<Self, Error> {
        if septets.iter().any(|s| *s > 0x7f) {
            return Err(Error::InvalidValue);
        }
        Self::build(header, Unit::Septets, septets)
    }

    /// User data of octets (8-bit data or UCS2).
    pub fn from_octets(header: Option<Udh>, octets: &[u8]) -> Result<Self, Error> {
        Self::build(header, Unit::Octets, octets)
    }

    /// Encodes `text` in the GSM 7-bit default alphabet, or in UCS2 when a character is not
    /// representable; returns the alphabet chosen for the DCS ([`Error::TooLong`] if the text
    /// does not fit one message: see `segment_text` for longer texts).
    pub fn from_text(text: &str, header: Option<Udh>) -> Result<(Self, Alphabet), Error> {
        let mut buf = [0u8; MAX_UD_SEPTETS];
        match gsm7_encode(text, &mut buf) {
            Ok(n) => Ok((Self::from_septets(header, &buf[..n])?, Alphabet::Gsm7)),
            Err(Error::Unrepresentable(_)) => {
                let n = ucs2_encode(text, &mut buf[..MAX_UD_OCTETS])?;
                Ok((Self::from_octets(header, &buf[..n])?, Alphabet::Ucs2))
            }
            Err(e) => Err(e),
        }
    }

    fn build(header: Option<Udh>, unit: Unit, body: &[u8]) -> Result<Self, Error> {
        let ud = UserData {
            header,
            unit,
            len: 0,
            body: [0; MAX_UD_SEPTETS],
        };
        let max = match unit {
            Unit::Septets => MAX_UD_SEPTETS,
            Unit::Octets => MAX_UD_OCTETS,
        };
        if ud.header_units() + body.len() > max {
            return Err(Error::TooLong);
        }
        let mut ud = ud;
        ud.body[..body.len()].copy_from_slice(body); // body.len() <= max <= 160
        ud.len = body.len() as u8;
        Ok(ud)
    }

    /// The user data header, if TP-UDHI is set.
    pub fn header(&self) -> Option<&Udh> {
        self.header.as_ref()
    }

    /// Whether the body counts septets or octets.
    pub fn unit(&self) -> Unit {
        self.unit
    }

    /// The body after the header: septet values or octets.
    pub fn body(&self) -> &[u8] {
        &self.body[..usize::from(self.len)]
    }

    /// The body as text for the given DCS (`None` for 8-bit data, compressed data or a DCS
    /// that does not match the unit).
    pub fn text(&self, dcs: Dcs) -> Option<String> {
        let mut out = String::new();
        match (dcs.alphabet(), self.unit, dcs.compressed()) {
            (Alphabet::Gsm7, Unit::Septets, false) => gsm7_decode(self.body(), &mut out),
            (Alphabet::Ucs2, Unit::Octets, false) => ucs2_decode(self.body(), &mut out),
            _ => return None,
        }
        Some(out)
    }

    /// Units (septets or octets) the header takes, with its UDHL octet and fill bits.
    fn header_units(&self) -> usize {
        match (&self.header, self.unit) {
            (None, _) => 0,
            (Some(h), Unit::Septets) => header_septets(h.len()),
            (Some(h), Unit::Octets) => 1 + h.len(),
        }
    }

    /// TP-UDL: the whole user data, header included, in septets or octets.
    pub fn udl(&self) -> usize {
        self.header_units() + usize::from(self.len)
    }

    /// Octets of TP-UD (without the TP-UDL octet).
    pub fn buffer_len(&self) -> usize {
        match self.unit {
            Unit::Septets => (self.udl() * 7).div_ceil(8),
            Unit::Octets => self.udl(),
        }
    }

    /// Reads TP-UD of `udl` units; `udhi` is TP-UDHI from the first octet.
    pub(crate) fn parse(udl: u8, udhi: bool, dcs: Dcs, r: &mut Reader<'_>) -> Result<Self, Error> {
        let unit = Unit::of(dcs);
        let udl = usize::from(udl);
        let (max, octets) = match unit {
            Unit::Septets => (MAX_UD_SEPTETS, (udl * 7).div_ceil(8)),
            Unit::Octets => (MAX_UD_OCTETS, udl),
        };
        if udl > max {
            return Err(Error::InvalidValue);
        }
        let data = r.take(octets)?;
        let header = match (udhi, data.split_first()) {
            (false, _) => None,
            (true, None) => return Err(Error::BadLength),
            (true, Some((&udhl, rest))) => Some(Udh::parse(
                rest.get(..usize::from(udhl)).ok_or(Error::BadLength)?,
            )?),
        };
        let mut ud = UserData {
            header,
            unit,
            len: 0,
            body: [0; MAX_UD_SEPTETS],
        };
        let skip = ud.header_units();
        let n = udl.checked_sub(skip).ok_or(Error::BadLength)?;
        match unit {
            Unit::Septets => unpack_septets(data, skip, &mut ud.body[..n])?,
            Unit::Octets => ud.body[..n].copy_from_slice(data.get(skip..).ok_or(Error::BadLength)?),
        }
        ud.len = n as u8; // n <= udl <= 160
        Ok(ud)
    }

    /// Checks that `dcs` counts the same units as this user data.
    pub(crate) fn check_dcs(&self, dcs: Dcs) -> Result<(), Error> {
        if Unit::of(dcs) != self.unit {
            return Err(Error::DcsMismatch);
        }
        Ok(())
    }

    /// Writes TP-UDL then TP-UD.
    pub(crate) fn emit(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u8(self.udl() as u8)?; // udl <= 160 by construction
        let out = w.reserve(self.buffer_len())?;
        if let Some(h) = &self.header {
            let hdr = out.get_mut(..1 + h.len()).ok_or(Error::BufferTooSmall)?;
            hdr[0] = h.len() as u8; // <= 139
            hdr[1..].copy_from_slice(h.as_bytes());
        }
        match self.unit {
            // 9.2.3.24: the text starts on the septet boundary after the header fill bits.
            Unit::Septets => pack_septets(self.body(), self.header_units(), out),
            Unit::Octets => {
                let skip = self.header_units();
                out.get_mut(skip..)
                    .ok_or(Error::BufferTooSmall)?
                    .copy_from_slice(self.body());
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::udh::Concat;

    fn emit(ud: &UserData) -> Vec<u8> {
        let mut out = vec![0u8; 1 + ud.buffer_len()];
        ud.emit(&mut Writer::new(&mut out)).unwrap();
        out
    }

    #[test]
    fn seven_bit_with_concat_header_has_one_fill_bit() {
        let h = Udh::with_concat(Concat {
            reference: 1,
            wide: false,
            total: 3,
            seq: 1,
        });
        let (ud, alphabet) = UserData::from_text("hello", Some(h)).unwrap();
        assert_eq!(alphabet, Alphabet::Gsm7);
        assert_eq!(ud.udl(), 7 + 5);
        let out = emit(&ud);
        // UDL 12, UDHL 5, IE 00 03 01 03 01, then 'h' (0x68) shifted by the fill bit: 0xD0.
        assert_eq!(out[..8], [12, 0x05, 0x00, 0x03, 0x01, 0x03, 0x01, 0xD0]);
        let back = UserData::parse(out[0], true, Dcs::GSM7, &mut Reader::new(&out[1..])).unwrap();
        assert_eq!(back, ud);
        assert_eq!(back.text(Dcs::GSM7).as_deref(), Some("hello"));
    }

    #[test]
    fn limits() {
        assert!(UserData::from_septets(None, &[0x41; 160]).is_ok());
        assert_eq!(
            UserData::from_septets(None, &[0x41; 161]),
            Err(Error::TooLong)
        );
        assert_eq!(UserData::from_octets(None, &[0; 141]), Err(Error::TooLong));
        let h = Udh::with_concat(Concat {
            reference: 1,
            wide: false,
            total: 2,
            seq: 1,
        });
        assert!(UserData::from_septets(Some(h), &[0x41; 153]).is_ok());
        assert_eq!(
            UserData::from_septets(Some(h), &[0x41; 154]),
            Err(Error::TooLong)
        );
        assert!(UserData::from_octets(Some(h), &[0; 134]).is_ok());
        assert_eq!(
            UserData::from_octets(Some(h), &[0; 135]),
            Err(Error::TooLong)
        );
        let buf = [0u8; 200];
        assert_eq!(
            UserData::parse(161, false, Dcs::GSM7, &mut Reader::new(&buf)),
            Err(Error::InvalidValue)
        );
        assert_eq!(
            UserData::parse(141, false, Dcs::UCS2, &mut Reader::new(&buf)),
            Err(Error::InvalidValue)
        );
        assert_eq!(
            UserData::parse(10, false, Dcs::GSM7, &mut Reader::new(&buf[..8])),
            Err(Error::Truncated)
        );
        // UDHL 6 claims more than UDL 5 octets hold.
        assert_eq!(
            UserData::parse(5, true, Dcs::DATA8, &mut Reader::new(&[6, 0, 0, 0, 0])),
            Err(Error::BadLength)
        );
        // Header septets (7) exceed UDL (6).
        assert_eq!(
            UserData::parse(6, true, Dcs::GSM7, &mut Reader::new(&[5, 0, 3, 1, 1, 1])),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn ucs2_fallback() {
        let (ud, alphabet) = UserData::from_text("hi 😀", None).unwrap();
        assert_eq!(alphabet, Alphabet::Ucs2);
        assert_eq!(
            ud.body(),
            [0x00, 0x68, 0x00, 0x69, 0x00, 0x20, 0xD8, 0x3D, 0xDE, 0x00]
        );
        assert_eq!(ud.text(Dcs::UCS2).as_deref(), Some("hi 😀"));
        assert_eq!(ud.text(Dcs::GSM7), None);
    }
}
