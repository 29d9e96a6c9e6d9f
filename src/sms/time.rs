//! Time fields: TP-SCTS / TP-DT / absolute TP-VP (TS 23.040 9.2.3.11, semi-octet swapped with a
//! signed quarter-hour time zone) and the three TP-VP formats (9.2.3.12).

use super::error::Error;

/// A service-centre time stamp (TS 23.040 9.2.3.11): local time and its offset from UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Timestamp {
    /// Year within the century, 0-99.
    pub year: u8,
    /// Month, 1-12.
    pub month: u8,
    /// Day, 1-31.
    pub day: u8,
    /// Hour, 0-23.
    pub hour: u8,
    /// Minute, 0-59.
    pub minute: u8,
    /// Second, 0-59.
    pub second: u8,
    /// Offset of local time from UTC in quarters of an hour (-79..=79).
    pub tz_quarters: i8,
}

/// One semi-octet swapped decimal pair: low nibble is the tens digit (TS 23.040 9.1.2.3).
fn bcd_swapped(octet: u8) -> Result<u8, Error> {
    let (tens, units) = (octet & 0x0f, octet >> 4);
    if tens > 9 || units > 9 {
        return Err(Error::InvalidValue);
    }
    Ok(tens * 10 + units)
}

fn to_bcd_swapped(value: u8) -> Result<u8, Error> {
    if value > 99 {
        return Err(Error::InvalidValue);
    }
    Ok((value / 10) | ((value % 10) << 4))
}

impl Timestamp {
    /// Decodes the 7 octets.
    pub fn from_bytes(b: [u8; 7]) -> Result<Self, Error> {
        let [y, mo, d, h, mi, s, tz] = b;
        // 9.2.3.11: bit 3 of the seventh octet is the sign of the time zone.
        let tens = tz & 0x07;
        let units = tz >> 4;
        if units > 9 {
            return Err(Error::InvalidValue);
        }
        let quarters = (tens * 10 + units) as i8; // <= 79
        Ok(Timestamp {
            year: bcd_swapped(y)?,
            month: bcd_swapped(mo)?,
            day: bcd_swapped(d)?,
            hour: bcd_swapped(h)?,
            minute: bcd_swapped(mi)?,
            second: bcd_swapped(s)?,
            tz_quarters: if tz & 0x08 != 0 { -quarters } else { quarters },
        })
    }

    /// Encodes the 7 octets ([`Error::InvalidValue`] for a field above 99 or a zone beyond ±79).
    pub fn to_bytes(&self) -> Result<[u8; 7], Error> {
        let q = self.tz_quarters.unsigned_abs();
        if q > 79 {
            return Err(Error::InvalidValue);
        }
        let sign = if self.tz_quarters < 0 { 0x08 } else { 0 };
        Ok([
            to_bcd_swapped(self.year)?,
            to_bcd_swapped(self.month)?,
            to_bcd_swapped(self.day)?,
            to_bcd_swapped(self.hour)?,
            to_bcd_swapped(self.minute)?,
            to_bcd_swapped(self.second)?,
            (q / 10) | sign | ((q % 10) << 4),
        ])
    }
}

/// Enhanced validity period (TS 23.040 9.2.3.12.3): a functionality-indicator octet and up to
/// six octets, zero-padded to 7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnhancedVp {
    /// Format 000: no validity period specified.
    NotSpecified {
        /// Bit 6: single-shot SM.
        single_shot: bool,
    },
    /// Format 001: one octet coded as the relative format.
    Relative {
        /// Bit 6: single-shot SM.
        single_shot: bool,
        /// The relative TP-VP octet.
        value: u8,
    },
    /// Format 010: relative integer seconds, 0-255.
    Seconds {
        /// Bit 6: single-shot SM.
        single_shot: bool,
        /// Seconds.
        value: u8,
    },
    /// Format 011: relative hours, minutes, seconds in semi-octets.
    Hms {
        /// Bit 6: single-shot SM.
        single_shot: bool,
        /// Hours 0-99.
        hours: u8,
        /// Minutes 0-99.
        minutes: u8,
        /// Seconds 0-99.
        seconds: u8,
    },
    /// Extension bit set or a reserved format: the 7 octets kept verbatim.
    Raw([u8; 7]),
}

impl EnhancedVp {
    fn from_bytes(b: [u8; 7]) -> Result<Self, Error> {
        let fi = b[0];
        let single_shot = fi & 0x40 != 0;
        if fi & 0x80 != 0 {
            return Ok(EnhancedVp::Raw(b));
        }
        Ok(match fi & 0x07 {
            0 => EnhancedVp::NotSpecified { single_shot },
            1 => EnhancedVp::Relative {
                single_shot,
                value: b[1],
            },
            2 => EnhancedVp::Seconds {
                single_shot,
                value: b[1],
            },
            3 => EnhancedVp::Hms {
                single_shot,
                hours: bcd_swapped(b[1])?,
                minutes: bcd_swapped(b[2])?,
                seconds: bcd_swapped(b[3])?,
            },
            _ => EnhancedVp::Raw(b),
        })
    }

    fn to_bytes(self) -> Result<[u8; 7], Error> {
        let ss = |s: bool| if s { 0x40 } else { 0 };
        Ok(match self {
            EnhancedVp::NotSpecified { single_shot } => [ss(single_shot), 0, 0, 0, 0, 0, 0],
            EnhancedVp::Relative { single_shot, value } => {
                [ss(single_shot) | 1, value, 0, 0, 0, 0, 0]
            }
            EnhancedVp::Seconds { single_shot, value } => {
                [ss(single_shot) | 2, value, 0, 0, 0, 0, 0]
            }
            EnhancedVp::Hms {
                single_shot,
                hours,
                minutes,
                seconds,
            } => [
                ss(single_shot) | 3,
                to_bcd_swapped(hours)?,
                to_bcd_swapped(minutes)?,
                to_bcd_swapped(seconds)?,
                0,
                0,
                0,
            ],
            EnhancedVp::Raw(b) => b,
        })
    }
}

/// TP-Validity-Period (TS 23.040 9.2.3.12) in one of its three formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValidityPeriod {
    /// 9.2.3.12.1, one octet (TP-VPF 10).
    Relative(u8),
    /// 9.2.3.12.2, a time stamp (TP-VPF 11).
    Absolute(Timestamp),
    /// 9.2.3.12.3, seven octets (TP-VPF 01).
    Enhanced(EnhancedVp),
}

impl ValidityPeriod {
    /// TS 23.040 9.2.3.12.1: the period of a relative TP-VP octet, in seconds.
    pub fn relative_seconds(value: u8) -> u32 {
        let v = u32::from(value);
        match value {
            0..=143 => (v + 1) * 5 * 60,
            144..=167 => 12 * 3600 + (v - 143) * 30 * 60,
            168..=196 => (v - 166) * 86_400,
            _ => (v - 192) * 7 * 86_400,
        }
    }

    /// The shortest relative TP-VP covering `seconds` (255, 63 weeks, when none does).
    pub fn relative_from_seconds(seconds: u32) -> ValidityPeriod {
        let value = (0..=255u8)
            .find(|&v| Self::relative_seconds(v) >= seconds)
            .unwrap_or(255);
        ValidityPeriod::Relative(value)
    }

    /// The two-bit TP-VPF value (bits 4-3 of the SMS-SUBMIT first octet).
    pub(crate) fn vpf(vp: Option<&ValidityPeriod>) -> u8 {
        match vp {
            None => 0b00,
            Some(ValidityPeriod::Enhanced(_)) => 0b01,
            Some(ValidityPeriod::Relative(_)) => 0b10,
            Some(ValidityPeriod::Absolute(_)) => 0b11,
        }
    }

    /// Octets of the encoded field.
    pub(crate) fn len(vp: Option<&ValidityPeriod>) -> usize {
        match vp {
            None => 0,
            Some(ValidityPeriod::Relative(_)) => 1,
            Some(_) => 7,
        }
    }

    pub(crate) fn from_field(vpf: u8, field: &[u8]) -> Result<Option<Self>, Error> {
        let seven = || <[u8; 7]>::try_from(field).map_err(|_| Error::Truncated);
        Ok(match vpf {
            0b00 => None,
            0b10 => Some(ValidityPeriod::Relative(
                *field.first().ok_or(Error::Truncated)?,
            )),
            0b01 => Some(ValidityPeriod::Enhanced(EnhancedVp::from_bytes(seven()?)?)),
            _ => Some(ValidityPeriod::Absolute(Timestamp::from_bytes(seven()?)?)),
        })
    }

    pub(crate) fn to_field(self) -> Result<([u8; 7], usize), Error> {
        Ok(match self {
            ValidityPeriod::Relative(v) => ([v, 0, 0, 0, 0, 0, 0], 1),
            ValidityPeriod::Absolute(t) => (t.to_bytes()?, 7),
            ValidityPeriod::Enhanced(e) => (e.to_bytes()?, 7),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scts_from_a_published_deliver() {
        // 91 60 42 11 33 12 80: 2019-06-24 11:33:21, zone 0x80 = +08 quarters (UTC+2).
        let t = Timestamp::from_bytes([0x91, 0x60, 0x42, 0x11, 0x33, 0x12, 0x80]).unwrap();
        assert_eq!(
            t,
            Timestamp {
                year: 19,
                month: 6,
                day: 24,
                hour: 11,
                minute: 33,
                second: 21,
                tz_quarters: 8
            }
        );
        assert_eq!(
            t.to_bytes().unwrap(),
            [0x91, 0x60, 0x42, 0x11, 0x33, 0x12, 0x80]
        );
    }

    #[test]
    fn negative_time_zone() {
        // UTC-5 = -20 quarters: tens 2 with the sign bit 3 -> low nibble 0xA, units 0 -> 0x0A.
        let t = Timestamp {
            year: 24,
            month: 12,
            day: 31,
            hour: 23,
            minute: 59,
            second: 58,
            tz_quarters: -20,
        };
        let b = t.to_bytes().unwrap();
        assert_eq!(b, [0x42, 0x21, 0x13, 0x32, 0x95, 0x85, 0x0A]);
        assert_eq!(Timestamp::from_bytes(b).unwrap(), t);
        // UTC-3:30 = -14 quarters -> tens 1 | sign 8 = 9, units 4 -> 0x49.
        let t = Timestamp {
            tz_quarters: -14,
            ..t
        };
        assert_eq!(t.to_bytes().unwrap()[6], 0x49);
        assert_eq!(
            Timestamp::from_bytes([0x1A, 0, 0, 0, 0, 0, 0]),
            Err(Error::InvalidValue)
        );
        assert_eq!(
            Timestamp { hour: 100, ..t }.to_bytes(),
            Err(Error::InvalidValue)
        );
    }

    #[test]
    fn relative_ranges() {
        assert_eq!(ValidityPeriod::relative_seconds(0), 5 * 60);
        assert_eq!(ValidityPeriod::relative_seconds(143), 12 * 3600);
        assert_eq!(ValidityPeriod::relative_seconds(144), 12 * 3600 + 30 * 60);
        assert_eq!(ValidityPeriod::relative_seconds(167), 24 * 3600);
        assert_eq!(ValidityPeriod::relative_seconds(168), 2 * 86_400);
        assert_eq!(ValidityPeriod::relative_seconds(0xAA), 4 * 86_400);
        assert_eq!(ValidityPeriod::relative_seconds(196), 30 * 86_400);
        assert_eq!(ValidityPeriod::relative_seconds(197), 5 * 7 * 86_400);
        assert_eq!(ValidityPeriod::relative_seconds(255), 63 * 7 * 86_400);
        assert_eq!(
            ValidityPeriod::relative_from_seconds(3600),
            ValidityPeriod::Relative(11)
        );
        assert_eq!(
            ValidityPeriod::relative_from_seconds(u32::MAX),
            ValidityPeriod::Relative(255)
        );
    }

    #[test]
    fn enhanced_formats() {
        for (bytes, vp) in [
            (
                [0x00, 0, 0, 0, 0, 0, 0],
                EnhancedVp::NotSpecified { single_shot: false },
            ),
            (
                [0x41, 0xAA, 0, 0, 0, 0, 0],
                EnhancedVp::Relative {
                    single_shot: true,
                    value: 0xAA,
                },
            ),
            (
                [0x02, 0x3C, 0, 0, 0, 0, 0],
                EnhancedVp::Seconds {
                    single_shot: false,
                    value: 60,
                },
            ),
            (
                [0x03, 0x10, 0x03, 0x54, 0, 0, 0],
                EnhancedVp::Hms {
                    single_shot: false,
                    hours: 1,
                    minutes: 30,
                    seconds: 45,
                },
            ),
            (
                [0x85, 1, 2, 3, 4, 5, 6],
                EnhancedVp::Raw([0x85, 1, 2, 3, 4, 5, 6]),
            ),
        ] {
            let parsed = ValidityPeriod::from_field(0b01, &bytes).unwrap().unwrap();
            assert_eq!(parsed, ValidityPeriod::Enhanced(vp));
            assert_eq!(parsed.to_field().unwrap(), (bytes, 7));
        }
        assert_eq!(
            ValidityPeriod::from_field(0b01, &[0; 6]),
            Err(Error::Truncated)
        );
    }
}
