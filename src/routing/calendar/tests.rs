use super::*;

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
fn civil_dates_round_trip_known_values() {
    assert_eq!(days_from_civil(1970, 1, 1), Some(0));
    assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
    assert_eq!(days_from_civil(2024, 2, 29), Some(19_782));
    assert_eq!(days_from_civil(2023, 2, 29), None);
    assert_eq!(days_from_civil(2023, 13, 1), None);
}

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
