//! Civil dates and time zones: the one date module. Business-hours calendars (the dialplan's
//! `hours` step, the routing engine's SLA calendars) and event timestamps go through it.
//!
//! Owns: parsing a calendar's zone (an IANA name such as `Europe/Warsaw`, with its daylight
//! saving rules, or a fixed offset such as `+01:00`), day numbers (days since 1970-01-01) and
//! the conversions between a Unix second and a local (day, second of day) in a zone. The
//! arithmetic is `jiff`'s, with the tz database built into the binary, so a machine without
//! `/usr/share/zoneinfo` gets the same answers.
//! Must not touch: clocks (every moment is passed in) or I/O.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;

pub use jiff::tz::TimeZone;

/// Seconds in a civil day (a day on which the clocks do not change).
pub const DAY_SECS: i64 = 86_400;

/// The zone named by `text`: an IANA name (`Europe/Warsaw`, `UTC`), or a fixed offset
/// (`+01:00`, `-05:30`, `Z`).
pub fn parse_zone(text: &str) -> Result<TimeZone, String> {
    let text = text.trim();
    if let Some(minutes) = parse_offset_minutes(text) {
        return fixed_offset(minutes * 60);
    }
    TimeZone::get(text).map_err(|_| {
        format!("'{text}' is neither a time zone (like Europe/Warsaw) nor an offset (like +01:00)")
    })
}

/// A zone `secs` ahead of UTC all year.
pub fn fixed_offset(secs: i32) -> Result<TimeZone, String> {
    Offset::from_seconds(secs)
        .map(TimeZone::fixed)
        .map_err(|_| format!("offset of {secs} s is out of range"))
}

/// Parses an offset like `+01:00`, `-05:30`, `Z` or `UTC` into minutes (at most 14 hours).
pub fn parse_offset_minutes(text: &str) -> Option<i32> {
    let text = text.trim();
    if text == "Z" || text == "UTC" {
        return Some(0);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    let ok = h >= 0 && (0..60).contains(&m) && h * 60 + m <= 14 * 60 && rest.len() == 5;
    ok.then_some(sign * (h * 60 + m))
}

/// Parses `YYYY-MM-DD` (month and day in range; see [`days_from_civil`] for validity).
pub fn parse_date(text: &str) -> Option<(i32, u32, u32)> {
    let mut parts = text.trim().splitn(3, '-');
    let y = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let d = parts.next()?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// Days since 1970-01-01 of a proleptic Gregorian date, or `None` if the date is invalid.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> Option<i64> {
    let date = Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()?;
    Some(date.duration_since(Date::constant(1970, 1, 1)).as_secs() / DAY_SECS)
}

/// The proleptic Gregorian date `(year, month, day)` of a day number.
pub fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let date = Timestamp::from_second(days.saturating_mul(DAY_SECS))
        .map(|t| TimeZone::UTC.to_datetime(t).date())
        .unwrap_or(Date::constant(1970, 1, 1));
    (
        i32::from(date.year()),
        date.month() as u32,
        date.day() as u32,
    )
}

/// Weekday of a day number, Monday = 0.
pub fn weekday(days: i64) -> usize {
    // 1970-01-01 was a Thursday (index 3 with Monday = 0).
    (days + 3).rem_euclid(7) as usize
}

/// The local day number and second of that day of Unix second `unix` in `zone`.
pub fn local_day_second(zone: &TimeZone, unix: i64) -> (i64, i64) {
    let Ok(t) = Timestamp::from_second(unix) else {
        return (unix.div_euclid(DAY_SECS), unix.rem_euclid(DAY_SECS));
    };
    let dt = zone.to_datetime(t);
    let time = dt.time();
    let second =
        i64::from(time.hour()) * 3600 + i64::from(time.minute()) * 60 + i64::from(time.second());
    let (y, m, d) = (dt.date().year(), dt.date().month(), dt.date().day());
    let day = days_from_civil(i32::from(y), m as u32, d as u32).unwrap_or(0);
    (day, second)
}

/// The Unix second at which local day `days` reaches `second` (0..=86400; 86400 is the next
/// midnight) in `zone`. A local time skipped by a daylight-saving gap maps to the moment after
/// the gap, a repeated one to its first occurrence (RFC 5545 and Temporal's "compatible").
pub fn unix_at(zone: &TimeZone, days: i64, second: i64) -> i64 {
    let days = days + second.div_euclid(DAY_SECS);
    let second = second.rem_euclid(DAY_SECS);
    let (y, m, d) = civil_from_days(days);
    let local = DateTime::new(
        i16::try_from(y).unwrap_or(1970),
        m as i8,
        d as i8,
        (second / 3600) as i8,
        (second / 60 % 60) as i8,
        (second % 60) as i8,
        0,
    );
    match local.map(|dt| zone.to_ambiguous_timestamp(dt).compatible()) {
        Ok(Ok(t)) => t.as_second(),
        _ => days * DAY_SECS + second,
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for Unix milliseconds (RFC 3339, UTC).
pub fn rfc3339_utc_ms(unix_ms: i64) -> String {
    match Timestamp::from_millisecond(unix_ms) {
        Ok(t) => format!("{t:.3}"),
        Err(_) => format!("{:.3}", Timestamp::UNIX_EPOCH),
    }
}

#[cfg(test)]
mod tests;
