//! JavaScript `Date` texts, for values a node peer sends as dates: `toISOString` (what
//! `JSON.stringify` writes) and `toString` in UTC (what socket.io puts in
//! `handshake.time`).

use alloc::string::String;
use core::fmt::Write;

/// ECMA-262 TimeClip: "If abs(time) > 8.64 × 10^15, return NaN"; then ToIntegerOrInfinity
/// truncates.
fn clip(ms: f64) -> Option<i64> {
    // `as` truncates toward zero (and `f64::trunc` is not in `core`).
    (ms.is_finite() && ms.abs() <= 8.64e15).then_some(ms as i64)
}

/// `new Date(ms).toISOString()`: `YYYY-MM-DDTHH:mm:ss.sssZ` (years outside 0–9999 as
/// `±YYYYYY`); `None` outside the time range (where `toJSON` gives `null`).
#[must_use]
pub fn iso_string(ms: f64) -> Option<String> {
    let ms = clip(ms)?;
    let (y, m, d, in_day) = civil(ms);
    let mut s = String::new();
    if (0..=9999).contains(&y) {
        let _ = write!(s, "{y:04}");
    } else {
        let _ = write!(s, "{}{:06}", if y < 0 { '-' } else { '+' }, y.abs());
    }
    let _ = write!(
        s,
        "-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    );
    Some(s)
}

/// `new Date(ms).toString()` on a machine whose time zone is UTC: `Sun Dec 06 2026
/// 15:20:00 GMT+0000 (Coordinated Universal Time)`; `None` outside the time range.
#[must_use]
pub fn utc_string(ms: f64) -> Option<String> {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let ms = clip(ms)?;
    let (y, m, d, in_day) = civil(ms);
    let weekday = DAYS[ms.div_euclid(86_400_000).rem_euclid(7) as usize];
    let month = MONTHS[(m - 1) as usize];
    let mut s = String::new();
    let year = if y < 0 {
        alloc::format!("-{:06}", -y)
    } else {
        alloc::format!("{y:04}")
    };
    let _ = write!(
        s,
        "{weekday} {month} {d:02} {year} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60
    );
    Some(s)
}

/// (year, month 1–12, day 1–31, milliseconds into the day) of `ms` since the epoch.
fn civil(ms: i64) -> (i64, i64, i64, i64) {
    let days = ms.div_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    (y, m, d, ms.rem_euclid(86_400_000))
}

/// The proleptic Gregorian (year, month, day) of a day count from 1970-01-01: the
/// era-based conversion (an era is 400 years, 146,097 days).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468; // days from 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_string_in_utc() {
        // `TZ=UTC node -e 'console.log(new Date(ms).toString())'`.
        assert_eq!(
            utc_string(1_796_571_600_000.0).as_deref(),
            Some("Sun Dec 06 2026 15:40:00 GMT+0000 (Coordinated Universal Time)")
        );
        assert_eq!(
            utc_string(0.0).as_deref(),
            Some("Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)")
        );
        assert_eq!(
            utc_string(-1.0).as_deref(),
            Some("Wed Dec 31 1969 23:59:59 GMT+0000 (Coordinated Universal Time)")
        );
        assert_eq!(utc_string(f64::NAN), None);
    }
}
