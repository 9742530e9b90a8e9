//! `[queues.calendar]`: business hours in a time zone (IANA name or fixed UTC offset), and
//! holidays, parsed into the engine's `Calendar`.

use serde::Deserialize;

use crate::civil;
use crate::routing::{Calendar, Weekday};

/// `[queues.calendar]`: opening hours (`"HH:MM-HH:MM"`, several per day allowed) in a time
/// zone, and closed dates (`"YYYY-MM-DD"`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarSection {
    /// `"+01:00"`, `"-05:00"` or `"Z"`: a fixed offset (no daylight saving).
    pub utc_offset: Option<String>,
    /// An IANA time zone, e.g. `"Europe/Warsaw"` (daylight saving included); wins over
    /// `utc_offset`.
    pub time_zone: Option<String>,
    /// Hours applied to Monday to Friday (before the per-day lists).
    pub weekdays: Vec<String>,
    /// Monday.
    pub monday: Vec<String>,
    /// Tuesday.
    pub tuesday: Vec<String>,
    /// Wednesday.
    pub wednesday: Vec<String>,
    /// Thursday.
    pub thursday: Vec<String>,
    /// Friday.
    pub friday: Vec<String>,
    /// Saturday.
    pub saturday: Vec<String>,
    /// Sunday.
    pub sunday: Vec<String>,
    /// Closed dates.
    pub holidays: Vec<String>,
}

impl CalendarSection {
    /// The engine's calendar; errors name the bad value.
    pub fn to_calendar(&self) -> Result<Calendar, String> {
        let c = self;
        let mut cal = match (&c.time_zone, c.utc_offset.as_deref()) {
            (Some(zone), _) => {
                Calendar::closed_in(civil::parse_zone(zone).map_err(|e| format!("calendar: {e}"))?)
            }
            (None, None) => Calendar::closed(0),
            (None, Some(text)) => Calendar::closed(
                civil::parse_offset_minutes(text)
                    .ok_or_else(|| format!("calendar: bad utc_offset {text:?}"))?
                    * 60,
            ),
        };
        use Weekday::*;
        let mut days: Vec<(Weekday, &String)> = Vec::new();
        for day in [Monday, Tuesday, Wednesday, Thursday, Friday] {
            days.extend(c.weekdays.iter().map(|h| (day, h)));
        }
        for (day, list) in [
            (Monday, &c.monday),
            (Tuesday, &c.tuesday),
            (Wednesday, &c.wednesday),
            (Thursday, &c.thursday),
            (Friday, &c.friday),
            (Saturday, &c.saturday),
            (Sunday, &c.sunday),
        ] {
            days.extend(list.iter().map(|h| (day, h)));
        }
        for (day, hours) in days {
            let (from, to) = parse_hours(hours)
                .ok_or_else(|| format!("calendar: bad hours {hours:?} (use HH:MM-HH:MM)"))?;
            cal = cal
                .with_hours(day, from, to)
                .map_err(|e| format!("calendar: {e}"))?;
        }
        for date in &c.holidays {
            let (y, m, d) = civil::parse_date(date)
                .ok_or_else(|| format!("calendar: bad date {date:?} (use YYYY-MM-DD)"))?;
            cal = cal
                .with_holiday(y, m, d)
                .map_err(|e| format!("calendar: {e}"))?;
        }
        Ok(cal)
    }
}

fn parse_time(text: &str) -> Option<(u32, u32)> {
    let (h, m) = text.split_once(':')?;
    let (h, m) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && (h < 24 || m == 0)).then_some((h, m))
}

fn parse_hours(text: &str) -> Option<((u32, u32), (u32, u32))> {
    let (from, to) = text.split_once('-')?;
    Some((parse_time(from.trim())?, parse_time(to.trim())?))
}
