//! The period of a report: `from`, `to`, `interval` and the time zone, and how a 15-minute
//! UTC slot maps to the local interval it belongs to.
//!
//! Owns: parsing the period (RFC 3339 instants, or local date-times in the report's zone),
//! the interval start of a slot, and its RFC 3339 label.
//! Must not touch: the store or the formulas.
//! Driven by: `reports::compute` and the API's query parsing.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use crate::store::SLOT_MS;

/// A report interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// 15 minutes.
    Quarter,
    /// One hour (local; a zone at +05:30 has hours starting at :30 UTC).
    Hour,
    /// One local calendar day (23 or 25 hours across daylight-saving changes).
    Day,
}

impl Interval {
    /// `15m`, `1h` or `1d`.
    pub fn parse(text: &str) -> Option<Interval> {
        match text {
            "15m" => Some(Interval::Quarter),
            "1h" => Some(Interval::Hour),
            "1d" => Some(Interval::Day),
            _ => None,
        }
    }

    /// The query-parameter name.
    pub fn name(self) -> &'static str {
        match self {
            Interval::Quarter => "15m",
            Interval::Hour => "1h",
            Interval::Day => "1d",
        }
    }
}

/// A checked report period.
#[derive(Debug, Clone)]
pub struct Period {
    /// Start, unix ms (inclusive), a whole 15 minutes.
    pub from_ms: i64,
    /// End, unix ms (exclusive), a whole 15 minutes.
    pub to_ms: i64,
    /// Interval length.
    pub interval: Interval,
    /// The zone intervals and labels follow.
    pub tz: TimeZone,
    /// The zone's IANA name as asked.
    pub tz_name: String,
}

/// Longest period one report covers (a year and a month).
const MAX_SPAN_MS: i64 = 400 * 86_400_000;

impl Period {
    /// Parses the query values; the message says what is wrong.
    pub fn parse(from: &str, to: &str, interval: &str, tz: &str) -> Result<Period, String> {
        let zone = TimeZone::get(tz).map_err(|_| format!("unknown time zone {tz:?}"))?;
        let interval = Interval::parse(interval)
            .ok_or_else(|| format!("interval must be 15m, 1h or 1d, not {interval:?}"))?;
        let from_ms = instant(from, &zone).ok_or_else(|| bad_time("from", from))?;
        let to_ms = instant(to, &zone).ok_or_else(|| bad_time("to", to))?;
        if from_ms % SLOT_MS != 0 || to_ms % SLOT_MS != 0 {
            return Err("from and to must fall on a whole quarter hour".into());
        }
        if to_ms <= from_ms {
            return Err("to must be after from".into());
        }
        if to_ms - from_ms > MAX_SPAN_MS {
            return Err("a report covers at most 400 days".into());
        }
        Ok(Period {
            from_ms,
            to_ms,
            interval,
            tz: zone,
            tz_name: tz.to_string(),
        })
    }

    /// The start (unix ms) of the local interval holding the slot that starts at `slot_ms`.
    pub fn bucket(&self, slot_ms: i64) -> i64 {
        let Ok(ts) = Timestamp::from_millisecond(slot_ms) else {
            return slot_ms;
        };
        let local = ts.to_zoned_datetime(self.tz.clone());
        let start = match self.interval {
            Interval::Quarter => return slot_ms,
            // Offsets are whole quarter hours, so the slot starts on a local quarter hour.
            Interval::Hour => slot_ms - i64::from(local.minute()) * 60_000,
            Interval::Day => match local.start_of_day() {
                Ok(day) => day.timestamp().as_millisecond(),
                Err(_) => slot_ms,
            },
        };
        start.max(self.from_ms)
    }

    /// `unix ms` as an RFC 3339 local time with its offset.
    pub fn label(&self, ms: i64) -> String {
        match Timestamp::from_millisecond(ms) {
            Ok(ts) => ts
                .to_zoned_datetime(self.tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string(),
            Err(_) => ms.to_string(),
        }
    }
}

fn bad_time(name: &str, value: &str) -> String {
    format!(
        "{name} must be an RFC 3339 time (2026-12-07T08:00:00Z) or a local date or date-time \
         in the report's time zone (2026-12-07, 2026-12-07T08:00), not {value:?}"
    )
}

/// Unix ms of `text`: an instant with an offset, else a civil date-time or date in `tz`.
fn instant(text: &str, tz: &TimeZone) -> Option<i64> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let civil = match text.parse::<DateTime>() {
        Ok(dt) => dt,
        Err(_) => text
            .parse::<Date>()
            .ok()?
            .to_datetime(jiff::civil::time(0, 0, 0, 0)),
    };
    let zoned = civil.to_zoned_datetime(tz.clone()).ok()?;
    Some(zoned.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_dates_follow_the_zone_and_days_follow_daylight_saving() {
        // Warsaw: 2026-03-29 is 23 hours long (clocks go forward at 02:00 CET).
        let p = Period::parse("2026-03-29", "2026-03-31", "1d", "Europe/Warsaw").unwrap();
        assert_eq!(p.label(p.from_ms), "2026-03-29T00:00:00+01:00");
        let second_day = p.from_ms + 23 * 3_600_000;
        assert_eq!(p.label(second_day), "2026-03-30T00:00:00+02:00");
        assert_eq!(p.bucket(second_day - SLOT_MS), p.from_ms);
        assert_eq!(p.bucket(second_day), second_day);
    }

    #[test]
    fn hours_start_on_the_local_hour() {
        let p = Period::parse(
            "2026-12-07T00:00:00Z",
            "2026-12-08T00:00:00Z",
            "1h",
            "Asia/Kolkata",
        )
        .unwrap();
        // 10:45 UTC is 16:15 in Kolkata; its hour starts at 16:00 local = 10:30 UTC.
        let slot = p.from_ms + (10 * 60 + 45) * 60_000;
        assert_eq!(p.bucket(slot), p.from_ms + (10 * 60 + 30) * 60_000);
    }

    #[test]
    fn bad_periods_are_refused_with_a_reason() {
        let e = |f: &str, t: &str, i: &str, z: &str| Period::parse(f, t, i, z).unwrap_err();
        assert!(e("2026-12-07", "2026-12-08", "1h", "Mars/Base").contains("time zone"));
        assert!(e("2026-12-07", "2026-12-08", "5m", "UTC").contains("interval"));
        assert!(e("yesterday", "2026-12-08", "1h", "UTC").contains("from"));
        assert!(e("2026-12-08", "2026-12-07", "1h", "UTC").contains("after"));
        assert!(e("2026-12-07T08:05", "2026-12-08", "1h", "UTC").contains("quarter"));
        assert!(e("2020-01-01", "2026-12-08", "1d", "UTC").contains("400"));
    }
}
