//! Rendering of record timestamps (`time=sec|short|full`, `time.us`, section 5.2) and of
//! rotated file names.
//!
//! Decision: no chrono, no `unsafe` outside `src/engine`. Times are rendered from the
//! Unix timestamp with a fixed UTC offset in seconds (`LogConfig::utc_offset`, default 0 =
//! UTC). The binary may compute the local offset once at start-up (e.g. in `src/engine`
//! with `localtime_r`) and pass it in; a DST change while running is not followed.

use std::fmt::{self, Write};

use super::options::TimeFormat;
use super::types::Timestamp;

/// Broken-down civil time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Year (e.g. 2024).
    pub year: i64,
    /// Month 1..=12.
    pub month: u32,
    /// Day 1..=31.
    pub day: u32,
    /// Hour 0..=23.
    pub hour: u32,
    /// Minute 0..=59.
    pub minute: u32,
    /// Second 0..=59.
    pub second: u32,
    /// Microseconds 0..=999_999.
    pub micros: u32,
}

impl Civil {
    /// Splits `ts + utc_offset` seconds into date and time (proleptic Gregorian calendar).
    pub fn from_timestamp(ts: Timestamp, utc_offset: i32) -> Civil {
        let micros = (ts.0 % 1_000_000) as u32;
        let secs = (ts.0 / 1_000_000) as i64 + i64::from(utc_offset);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: sod / 3600,
            minute: sod / 60 % 60,
            second: sod % 60,
            micros,
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), using 400-year eras of 146097 days.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // shift the epoch to 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Writes the time column of a log line.
pub fn write_time(
    out: &mut impl Write,
    ts: Timestamp,
    format: TimeFormat,
    us: bool,
    utc_offset: i32,
) -> fmt::Result {
    let c = Civil::from_timestamp(ts, utc_offset);
    match format {
        TimeFormat::Sec => {
            let secs = (ts.0 / 1_000_000) as i64 + i64::from(utc_offset);
            write!(out, "{secs}")?;
        }
        TimeFormat::Short => write!(out, "{:02}:{:02}:{:02}", c.hour, c.minute, c.second)?,
        TimeFormat::Full => write!(
            out,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )?,
    }
    if us {
        write!(out, ".{:06}", c.micros)
    } else {
        write!(out, ".{:03}", c.micros / 1000)
    }
}

/// Suffix of a rotated log file: `YYYYMMDD-HHMMSS`.
pub fn rotation_suffix(ts: Timestamp, utc_offset: i32) -> String {
    let c = Civil::from_timestamp(ts, utc_offset);
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-04-26 10:05:12.345678 UTC = 1714125912 s.
    const TS: Timestamp = Timestamp(1_714_125_912_345_678);

    fn render(format: TimeFormat, us: bool, off: i32) -> String {
        let mut s = String::new();
        write_time(&mut s, TS, format, us, off).expect("String write");
        s
    }

    #[test]
    fn civil_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_839), (2024, 4, 26));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
    }

    #[test]
    fn formats() {
        assert_eq!(render(TimeFormat::Short, false, 0), "10:05:12.345");
        assert_eq!(render(TimeFormat::Short, true, 0), "10:05:12.345678");
        assert_eq!(
            render(TimeFormat::Full, false, 0),
            "2024-04-26 10:05:12.345"
        );
        assert_eq!(
            render(TimeFormat::Full, true, 0),
            "2024-04-26 10:05:12.345678"
        );
        assert_eq!(render(TimeFormat::Sec, false, 0), "1714125912.345");
        assert_eq!(render(TimeFormat::Sec, true, 0), "1714125912.345678");
    }

    #[test]
    fn offset_crosses_midnight() {
        assert_eq!(
            render(TimeFormat::Full, false, 14 * 3600),
            "2024-04-27 00:05:12.345"
        );
        assert_eq!(
            render(TimeFormat::Full, false, -11 * 3600),
            "2024-04-25 23:05:12.345"
        );
        assert_eq!(rotation_suffix(TS, 0), "20240426-100512");
    }
}
