//! Business-hours calendars: opening hours per weekday, holidays, in a time zone (an IANA
//! zone such as `Europe/Warsaw`, with daylight saving, or a fixed offset).
//!
//! Owns: deciding whether a moment (Unix seconds, given by the caller: this module never
//! reads a clock) falls inside business hours. Dates and zones are `crate::civil`'s.
//! Must not touch: I/O or the interpreter.

use crate::civil::{self, TimeZone};

/// A calendar of opening hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// The zone the hours and dates are local to.
    pub zone: TimeZone,
    /// Open intervals per weekday, Monday = 0; minutes since local midnight, `[start, end)`.
    pub hours: [Vec<(u16, u16)>; 7],
    /// Closed local dates `(year, month, day)`.
    pub holidays: Vec<(i32, u32, u32)>,
}

/// Weekday keys as written in YAML, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Calendar {
    /// Whether the calendar is open at `unix_secs`.
    pub fn is_open(&self, unix_secs: i64) -> bool {
        let (days, second) = civil::local_day_second(&self.zone, unix_secs);
        let minute = (second / 60) as u16;
        if self.holidays.contains(&civil::civil_from_days(days)) {
            return false;
        }
        self.hours[civil::weekday(days)]
            .iter()
            .any(|&(start, end)| start <= minute && minute < end)
    }
}

/// Parses `HH:MM-HH:MM` into minutes since midnight (`24:00` allowed as an end).
pub fn parse_interval(text: &str) -> Result<(u16, u16), String> {
    let bad = || format!("'{text}' is not an interval like 08:00-17:30");
    let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
    let start = parse_hhmm(a.trim()).ok_or_else(bad)?;
    let end = parse_hhmm(b.trim()).ok_or_else(bad)?;
    if start >= end {
        return Err(format!("interval '{text}' ends before it starts"));
    }
    Ok((start, end))
}

pub use crate::civil::parse_date;

fn parse_hhmm(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office() -> Calendar {
        let weekday = vec![(8 * 60, 18 * 60)];
        Calendar {
            zone: civil::parse_zone("Europe/Warsaw").unwrap(),
            hours: [
                weekday.clone(),
                weekday.clone(),
                weekday.clone(),
                weekday.clone(),
                weekday,
                vec![(9 * 60, 13 * 60)],
                vec![],
            ],
            holidays: vec![(2025, 12, 25)],
        }
    }

    #[test]
    fn summer_hours_follow_daylight_saving() {
        let cal = office();
        // 2026-07-06 is a Monday; local is UTC+2 (CEST): 08:00-18:00 = 06:00-16:00 UTC.
        let monday = civil::days_from_civil(2026, 7, 6).unwrap() * 86_400;
        assert!(cal.is_open(monday + 6 * 3600 + 60), "08:01 CEST");
        assert!(!cal.is_open(monday + 5 * 3600 + 59 * 60), "07:59 CEST");
        assert!(!cal.is_open(monday + 16 * 3600 + 60), "18:01 CEST");
        // Monday after the spring change (2026-03-29) and after the autumn one (10-25).
        let spring = civil::days_from_civil(2026, 3, 30).unwrap() * 86_400;
        assert!(cal.is_open(spring + 6 * 3600 + 60), "08:01 CEST");
        let autumn = civil::days_from_civil(2026, 10, 26).unwrap() * 86_400;
        assert!(!cal.is_open(autumn + 6 * 3600 + 60), "07:01 CET");
        assert!(cal.is_open(autumn + 7 * 3600 + 60), "08:01 CET");
    }

    #[test]
    fn open_closed_weekend_and_holiday() {
        let cal = office();
        // 2025-01-06 is a Monday; 08:30 local (UTC+1) = 07:30 UTC.
        let monday = 1_736_121_600;
        assert!(cal.is_open(monday + 7 * 3600 + 1800));
        assert!(!cal.is_open(monday + 6 * 3600 + 1800), "07:30 local");
        assert!(!cal.is_open(monday + 17 * 3600), "18:00 local is closed");
        let saturday = monday + 5 * 86_400;
        assert!(cal.is_open(saturday + 10 * 3600));
        assert!(!cal.is_open(saturday + 13 * 3600));
        assert!(!cal.is_open(saturday + 86_400 + 10 * 3600), "sunday");
        // 2025-12-25 is a Thursday, a holiday.
        let christmas = 1_766_620_800;
        assert!(!cal.is_open(christmas + 10 * 3600));
        assert!(cal.is_open(christmas + 86_400 + 10 * 3600));
    }

    #[test]
    fn parsers() {
        assert_eq!(parse_interval("08:00-17:30"), Ok((480, 1050)));
        assert!(parse_interval("18:00-08:00").is_err());
        assert!(parse_interval("8-17").is_err());
        assert_eq!(parse_interval("00:00-24:00"), Ok((0, 1440)));
        assert_eq!(parse_date("2025-12-25"), Some((2025, 12, 25)));
        assert_eq!(parse_date("2025-13-01"), None);
    }
}
