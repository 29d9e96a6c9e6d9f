//! Wall-clock conversions the SMSC needs (it never reads a clock: callers pass Unix seconds):
//! TP-SCTS / TP-DT in UTC (TS 23.040 9.2.3.11) and the absolute TP-VP back to Unix time
//! (9.2.3.12.2), with the proleptic Gregorian calendar.

use crate::sms::Timestamp;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // 1..=31
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // 1..=12
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// TS 23.040 9.2.3.11: the time stamp of `unix` seconds, in UTC (time zone 0).
pub fn timestamp_of_unix(unix: u64) -> Timestamp {
    let secs = i64::try_from(unix).unwrap_or(i64::MAX / 2);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    Timestamp {
        year: year.rem_euclid(100) as u8, // < 100
        month: month as u8,
        day: day as u8,
        hour: (rem / 3600) as u8,
        minute: (rem / 60 % 60) as u8,
        second: (rem % 60) as u8,
        tz_quarters: 0,
    }
}

/// The Unix time of a time stamp (years 00-99 read as 2000-2099; the zone is applied).
pub fn unix_of_timestamp(t: &Timestamp) -> u64 {
    let days = days_from_civil(
        2000 + i64::from(t.year),
        u32::from(t.month),
        u32::from(t.day),
    );
    let local =
        days * 86_400 + i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second);
    // 9.2.3.11: the zone is the local time's offset from GMT in quarters of an hour.
    let utc = local - i64::from(t.tz_quarters) * 900;
    u64::try_from(utc).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates_convert_both_ways() {
        // 2000-03-01T00:00:00Z and 2026-11-23T22:05:09Z.
        assert_eq!(
            unix_of_timestamp(&timestamp_of_unix(951_868_800)),
            951_868_800
        );
        let t = timestamp_of_unix(1_795_471_509);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second),
            (26, 11, 23, 22, 5, 9)
        );
        assert_eq!(unix_of_timestamp(&t), 1_795_471_509);
    }

    #[test]
    fn the_time_zone_shifts_to_utc() {
        let mut t = timestamp_of_unix(1_000_000_000);
        t.hour += 1;
        t.tz_quarters = 4; // local time is UTC+1
        assert_eq!(unix_of_timestamp(&t), 1_000_000_000);
    }
}
