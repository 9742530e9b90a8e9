//! Business-hours calendars: opening hours per weekday, holidays, a fixed UTC offset.
//!
//! Owns: deciding whether a moment (Unix seconds, given by the caller: this module never
//! reads a clock) falls inside business hours. Must not touch: I/O or the interpreter.

/// A calendar of opening hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Offset of local time from UTC, in minutes (e.g. 60 for CET).
    pub utc_offset_minutes: i32,
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
        let local = unix_secs + i64::from(self.utc_offset_minutes) * 60;
        let days = local.div_euclid(86_400);
        let minute = (local.rem_euclid(86_400) / 60) as u16;
        if self.holidays.contains(&civil_from_days(days)) {
            return false;
        }
        // 1970-01-01 was a Thursday (index 3 with Monday = 0).
        let weekday = (days + 3).rem_euclid(7) as usize;
        self.hours[weekday]
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

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<(i32, u32, u32)> {
    let mut parts = text.trim().splitn(3, '-');
    let y = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let d = parts.next()?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// Parses an offset like `+01:00`, `-05:30` or `Z` into minutes.
pub fn parse_offset(text: &str) -> Option<i32> {
    let text = text.trim();
    if text == "Z" || text == "UTC" {
        return Some(0);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let minutes = i32::from(parse_hhmm(rest)?);
    (minutes <= 14 * 60).then_some(sign * minutes)
}

fn parse_hhmm(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office() -> Calendar {
        let weekday = vec![(8 * 60, 18 * 60)];
        Calendar {
            utc_offset_minutes: 60,
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
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_089), (2025, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
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
        assert_eq!(parse_offset("+01:00"), Some(60));
        assert_eq!(parse_offset("-05:30"), Some(-330));
        assert_eq!(parse_offset("01:00"), None);
    }
}
