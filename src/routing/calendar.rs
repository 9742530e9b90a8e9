//! Business-hours calendar for SLA clocks: opening hours per weekday, holidays, and the time
//! zone they are local to (an IANA zone with daylight saving, or a fixed offset).
//!
//! Owns: `Calendar`, `Weekday`, `CalendarError`; the arithmetic of "N business hours after T".
//! Must not touch: clocks. Every wall-clock value is passed in (`SystemTime`), so the
//! calendar is sans-IO and tests run on fixed dates.
//! Driven by: the shell that queues a task (it turns a business-time SLA into an `Instant`
//! deadline through `Calendar::deadline_instant` or `Engine::sla_deadline`).
//!
//! Local days and times go through `crate::civil` (jiff's tz database): a day of a named zone
//! may be 23 or 25 hours long, and an SLA deadline that spans a daylight-saving change counts
//! the business hours that really pass.

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use thiserror::Error;

use crate::civil::{self, TimeZone};

const DAY: i64 = 86_400;
/// How far ahead the calendar searches before giving up (ten years of holidays).
const MAX_DAYS: i64 = 3_660;

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

/// Errors from building or querying a calendar. All are configuration or caller faults.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// Opening hours are not within one day or end before they start.
    #[error("invalid opening hours {from}s..{to}s (seconds after local midnight)")]
    InvalidHours {
        /// Start, seconds after local midnight.
        from: u32,
        /// End, seconds after local midnight.
        to: u32,
    },
    /// A holiday date that does not exist.
    #[error("invalid date {year}-{month:02}-{day:02}")]
    InvalidDate {
        /// Year.
        year: i32,
        /// Month, 1..=12.
        month: u32,
        /// Day of month.
        day: u32,
    },
    /// A wall-clock value before 1970.
    #[error("time before the unix epoch")]
    BeforeEpoch,
    /// No business time within the search horizon (no opening hours, or all holidays).
    #[error("no business time within {MAX_DAYS} days")]
    NeverOpen,
}

/// Opening hours per weekday, holidays, and the zone they are local to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// The zone of the hours and holidays.
    zone: TimeZone,
    /// Open intervals per weekday (Monday first), in seconds after local midnight, sorted.
    hours: [Vec<(u32, u32)>; 7],
    /// Closed local days, as days since 1970-01-01.
    holidays: BTreeSet<i64>,
}

impl Calendar {
    /// A calendar that is never open, in a fixed offset from UTC (an offset out of range is
    /// UTC); add hours with `with_hours`.
    pub fn closed(utc_offset_secs: i32) -> Calendar {
        Calendar::closed_in(civil::fixed_offset(utc_offset_secs).unwrap_or(TimeZone::UTC))
    }

    /// A calendar that is never open, in `zone` (e.g. `Europe/Warsaw`).
    pub fn closed_in(zone: TimeZone) -> Calendar {
        Calendar {
            zone,
            hours: Default::default(),
            holidays: BTreeSet::new(),
        }
    }

    /// Open around the clock, every day (business time equals elapsed time).
    pub fn always_open() -> Calendar {
        let mut cal = Calendar::closed(0);
        for day in &mut cal.hours {
            day.push((0, DAY as u32));
        }
        cal
    }

    /// Adds an opening interval `from..to` (hours, minutes local) on `day`. A day may have
    /// several intervals (a lunch break). Fails when the interval is empty or past midnight.
    pub fn with_hours(
        mut self,
        day: Weekday,
        from: (u32, u32),
        to: (u32, u32),
    ) -> Result<Calendar, CalendarError> {
        let (from, to) = (from.0 * 3600 + from.1 * 60, to.0 * 3600 + to.1 * 60);
        if from >= to || to > DAY as u32 {
            return Err(CalendarError::InvalidHours { from, to });
        }
        let list = &mut self.hours[day as usize];
        list.push((from, to));
        list.sort_unstable();
        Ok(self)
    }

    /// Adds the same opening interval on Monday to Friday.
    pub fn with_weekday_hours(
        self,
        from: (u32, u32),
        to: (u32, u32),
    ) -> Result<Calendar, CalendarError> {
        use Weekday::*;
        [Monday, Tuesday, Wednesday, Thursday, Friday]
            .into_iter()
            .try_fold(self, |cal, day| cal.with_hours(day, from, to))
    }

    /// Marks a local date as closed all day.
    pub fn with_holiday(
        mut self,
        year: i32,
        month: u32,
        day: u32,
    ) -> Result<Calendar, CalendarError> {
        let days = civil::days_from_civil(year, month, day).ok_or(CalendarError::InvalidDate {
            year,
            month,
            day,
        })?;
        self.holidays.insert(days);
        Ok(self)
    }

    /// The instant `business` of open time after `start` (`start` itself if it is zero).
    /// Fails before 1970 or when the calendar has no open time within ten years.
    pub fn deadline(
        &self,
        start: SystemTime,
        business: Duration,
    ) -> Result<SystemTime, CalendarError> {
        let start_secs = unix_secs(start)?;
        // Round sub-second SLAs up: a deadline is never earlier than asked.
        let mut remaining = business.as_secs() as i64 + i64::from(business.subsec_nanos() > 0);
        if remaining == 0 {
            return Ok(start);
        }
        let mut t = start_secs;
        let first_day = self.local_day(t);
        for day in first_day..first_day + MAX_DAYS {
            for (open, close) in self.open_intervals(day) {
                if t >= close {
                    continue;
                }
                let begin = t.max(open);
                if remaining <= close - begin {
                    return Ok(from_unix(begin + remaining));
                }
                remaining -= close - begin;
                t = close;
            }
        }
        Err(CalendarError::NeverOpen)
    }

    /// Open time between `from` and `to` (zero when `to` is not after `from`).
    pub fn business_time_between(
        &self,
        from: SystemTime,
        to: SystemTime,
    ) -> Result<Duration, CalendarError> {
        let (a, b) = (unix_secs(from)?, unix_secs(to)?);
        if b <= a {
            return Ok(Duration::ZERO);
        }
        let mut total = 0i64;
        for day in self.local_day(a)..=self.local_day(b) {
            for (open, close) in self.open_intervals(day) {
                total += (close.min(b) - open.max(a)).max(0);
            }
        }
        Ok(Duration::from_secs(total as u64))
    }

    /// `deadline` translated to the monotonic clock: `now` and `wall_now` must be read
    /// together by the caller. The result is what `Task::sla_deadline` expects.
    pub fn deadline_instant(
        &self,
        now: Instant,
        wall_now: SystemTime,
        business: Duration,
    ) -> Result<Instant, CalendarError> {
        let due = self.deadline(wall_now, business)?;
        let ahead = due.duration_since(wall_now).unwrap_or(Duration::ZERO);
        Ok(now + ahead)
    }

    fn local_day(&self, unix: i64) -> i64 {
        civil::local_day_second(&self.zone, unix).0
    }

    /// Open intervals of local `day` as unix-second ranges (none on a holiday). Local times
    /// are converted one by one: on the day the clocks change, 08:00-18:00 lasts 10 hours of
    /// real time unless the change falls inside it.
    fn open_intervals(&self, day: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let closed = self.holidays.contains(&day);
        self.hours[civil::weekday(day)]
            .iter()
            .filter(move |_| !closed)
            .map(move |&(from, to)| {
                (
                    civil::unix_at(&self.zone, day, i64::from(from)),
                    civil::unix_at(&self.zone, day, i64::from(to)),
                )
            })
    }
}

fn unix_secs(t: SystemTime) -> Result<i64, CalendarError> {
    let d = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| CalendarError::BeforeEpoch)?;
    i64::try_from(d.as_secs()).map_err(|_| CalendarError::NeverOpen)
}

fn from_unix(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64)
}

#[cfg(test)]
mod tests;
