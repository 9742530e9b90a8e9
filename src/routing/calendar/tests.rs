use super::*;
use crate::civil::days_from_civil;

fn at(y: i32, mo: u32, d: u32, h: i64, mi: i64) -> SystemTime {
    let days = days_from_civil(y, mo, d).expect("valid test date");
    from_unix(days * DAY + h * 3600 + mi * 60)
}

fn office() -> Calendar {
    Calendar::closed(0)
        .with_weekday_hours((9, 0), (17, 0))
        .expect("valid hours")
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn friday_afternoon_email_is_due_monday() {
    // 2026-11-20 is a Friday. 1 h on Friday (16-17) + 5 h on Monday (9-14).
    let due = office()
        .deadline(at(2026, 11, 20, 16, 0), 6 * HOUR)
        .expect("open calendar");
    assert_eq!(due, at(2026, 11, 23, 14, 0));
    // The brief's "Monday 13:00" is what five business hours give.
    let due5 = office()
        .deadline(at(2026, 11, 20, 16, 0), 5 * HOUR)
        .expect("open calendar");
    assert_eq!(due5, at(2026, 11, 23, 13, 0));
}

#[test]
fn night_start_waits_for_opening() {
    let due = office()
        .deadline(at(2026, 11, 17, 22, 30), HOUR)
        .expect("open calendar");
    assert_eq!(due, at(2026, 11, 18, 10, 0));
    let early = office()
        .deadline(at(2026, 11, 18, 3, 0), 2 * HOUR)
        .expect("open calendar");
    assert_eq!(early, at(2026, 11, 18, 11, 0));
}

#[test]
fn holidays_are_skipped() {
    // Friday 16:00 + 6 h with Monday a holiday: Tuesday 14:00.
    let cal = office().with_holiday(2026, 11, 23).expect("valid date");
    let due = cal
        .deadline(at(2026, 11, 20, 16, 0), 6 * HOUR)
        .expect("open calendar");
    assert_eq!(due, at(2026, 11, 24, 14, 0));
}

#[test]
fn lunch_break_is_not_business_time() {
    let cal = Calendar::closed(0)
        .with_hours(Weekday::Monday, (9, 0), (12, 0))
        .and_then(|c| c.with_hours(Weekday::Monday, (13, 0), (17, 0)))
        .expect("valid hours");
    let due = cal
        .deadline(at(2026, 11, 23, 11, 0), 2 * HOUR)
        .expect("open calendar");
    assert_eq!(due, at(2026, 11, 23, 14, 0));
    let spent = cal
        .business_time_between(at(2026, 11, 23, 8, 0), at(2026, 11, 23, 18, 0))
        .expect("after epoch");
    assert_eq!(spent, 7 * HOUR);
}

#[test]
fn utc_offset_shifts_opening_hours() {
    // Local time is UTC+2: 09:00 local is 07:00 UTC.
    let cal = Calendar::closed(2 * 3600)
        .with_weekday_hours((9, 0), (17, 0))
        .expect("valid hours");
    let due = cal
        .deadline(at(2026, 11, 23, 6, 0), HOUR)
        .expect("open calendar");
    assert_eq!(due, at(2026, 11, 23, 8, 0));
}

#[test]
fn business_time_across_a_weekend() {
    let spent = office()
        .business_time_between(at(2026, 11, 20, 16, 0), at(2026, 11, 23, 14, 0))
        .expect("after epoch");
    assert_eq!(spent, 6 * HOUR);
    let none = office()
        .business_time_between(at(2026, 11, 23, 14, 0), at(2026, 11, 20, 16, 0))
        .expect("after epoch");
    assert_eq!(none, Duration::ZERO);
}

#[test]
fn always_open_counts_wall_time() {
    let start = at(2026, 11, 21, 23, 30);
    let due = Calendar::always_open()
        .deadline(start, HOUR)
        .expect("open calendar");
    assert_eq!(due, at(2026, 11, 22, 0, 30));
}

#[test]
fn closed_calendar_and_bad_input_fail() {
    let never = Calendar::closed(0).deadline(at(2026, 1, 1, 0, 0), HOUR);
    assert_eq!(never, Err(CalendarError::NeverOpen));
    assert!(matches!(
        Calendar::closed(0).with_hours(Weekday::Monday, (17, 0), (9, 0)),
        Err(CalendarError::InvalidHours { .. })
    ));
    assert!(Calendar::closed(0).with_holiday(2026, 2, 30).is_err());
}

#[test]
fn deadline_instant_follows_the_wall_clock_gap() {
    let now = Instant::now();
    let due = office()
        .deadline_instant(now, at(2026, 11, 20, 16, 0), 6 * HOUR)
        .expect("open calendar");
    assert_eq!(due - now, Duration::from_secs(70 * 3600));
}

mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn deadline_and_business_time_agree(start in 0i64..2_000_000_000, secs in 0u64..400_000) {
            let start = from_unix(start);
            let due = office().deadline(start, Duration::from_secs(secs)).expect("open calendar");
            let spent = office().business_time_between(start, due).expect("after epoch");
            prop_assert_eq!(spent, Duration::from_secs(secs));
        }
    }
}

fn warsaw_office() -> Calendar {
    Calendar::closed_in(crate::civil::parse_zone("Europe/Warsaw").unwrap())
        .with_weekday_hours((9, 0), (17, 0))
        .expect("valid hours")
}

#[test]
fn sla_deadlines_spanning_a_daylight_saving_change_count_local_hours() {
    // Spring: Friday 2026-03-27 16:00 CET (15:00 UTC) + 2 business hours = 1 h on Friday and
    // 1 h on Monday 03-30, 09:00-10:00 CEST: 08:00 UTC (a fixed +01:00 said 09:00 UTC).
    let due = warsaw_office()
        .deadline(at(2026, 3, 27, 15, 0), 2 * HOUR)
        .unwrap();
    assert_eq!(due, at(2026, 3, 30, 8, 0));
    // Autumn: Friday 2026-10-23 16:00 CEST (14:00 UTC) + 2 h: Monday 10-26 10:00 CET.
    let due = warsaw_office()
        .deadline(at(2026, 10, 23, 14, 0), 2 * HOUR)
        .unwrap();
    assert_eq!(due, at(2026, 10, 26, 9, 0));
    assert_eq!(
        warsaw_office()
            .business_time_between(at(2026, 3, 27, 15, 0), at(2026, 3, 30, 8, 0))
            .unwrap(),
        2 * HOUR
    );
}

#[test]
fn the_days_the_clocks_change_are_23_and_25_hours_long() {
    let zone = crate::civil::parse_zone("Europe/Warsaw").unwrap();
    let sundays = Calendar::closed_in(zone)
        .with_hours(Weekday::Sunday, (0, 0), (24, 0))
        .unwrap();
    // Local midnight to midnight: 2026-03-28 23:00 UTC to 03-29 22:00 UTC.
    let spring = sundays
        .business_time_between(at(2026, 3, 28, 0, 0), at(2026, 3, 30, 0, 0))
        .unwrap();
    assert_eq!(spring, 23 * HOUR);
    let autumn = sundays
        .business_time_between(at(2026, 10, 24, 0, 0), at(2026, 10, 26, 0, 0))
        .unwrap();
    assert_eq!(autumn, 25 * HOUR);
    // 20 business hours from Sunday 00:00 CET of the spring change end at 21:00 CEST.
    let due = sundays.deadline(at(2026, 3, 28, 23, 0), 20 * HOUR).unwrap();
    assert_eq!(due, at(2026, 3, 29, 19, 0));
}
