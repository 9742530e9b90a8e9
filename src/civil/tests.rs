//! The date module across both daylight-saving changes of Europe/Warsaw in 2026 (last
//! Sunday of March 02:00 CET -> 03:00 CEST, last Sunday of October 03:00 CEST -> 02:00 CET).

use super::*;

fn warsaw() -> TimeZone {
    parse_zone("Europe/Warsaw").unwrap()
}

/// Unix second of a UTC date-time.
fn utc(y: i32, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
    days_from_civil(y, mo, d).unwrap() * DAY_SECS + h * 3600 + mi * 60
}

#[test]
fn day_numbers_round_trip_and_reject_impossible_dates() {
    assert_eq!(days_from_civil(1970, 1, 1), Some(0));
    assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
    assert_eq!(days_from_civil(2024, 2, 29), Some(19_782));
    assert_eq!(days_from_civil(2025, 2, 29), None);
    assert_eq!(days_from_civil(2025, 13, 1), None);
    for days in [-1, 0, 11_016, 11_017, 19_782, 20_000, 60_000] {
        let (y, m, d) = civil_from_days(days);
        assert_eq!(days_from_civil(y, m, d), Some(days));
    }
    assert_eq!(
        weekday(days_from_civil(2026, 3, 29).unwrap()),
        6,
        "a Sunday"
    );
}

#[test]
fn zones_parse_by_name_or_offset_and_bad_ones_say_why() {
    assert_eq!(parse_offset_minutes("+01:00"), Some(60));
    assert_eq!(parse_offset_minutes("-05:30"), Some(-330));
    assert_eq!(parse_offset_minutes("01:00"), None);
    assert_eq!(parse_offset_minutes("+15:00"), None);
    let fixed = parse_zone("+01:00").unwrap();
    assert_eq!(
        local_day_second(&fixed, utc(2026, 7, 1, 10, 0)).1,
        11 * 3600
    );
    let err = parse_zone("Europe/Nowhere").unwrap_err();
    assert!(err.contains("Europe/Nowhere"), "{err}");
}

#[test]
fn warsaw_is_utc_plus_one_in_winter_and_plus_two_in_summer() {
    let tz = warsaw();
    let winter = local_day_second(&tz, utc(2026, 1, 15, 7, 0));
    assert_eq!(winter.1, 8 * 3600);
    let summer = local_day_second(&tz, utc(2026, 7, 15, 6, 0));
    assert_eq!(summer.1, 8 * 3600);
    // Around the spring change: 00:59 UTC is 01:59 CET, 01:00 UTC is 03:00 CEST.
    assert_eq!(
        local_day_second(&tz, utc(2026, 3, 29, 0, 59)).1,
        3600 + 59 * 60
    );
    assert_eq!(local_day_second(&tz, utc(2026, 3, 29, 1, 0)).1, 3 * 3600);
}

#[test]
fn local_times_map_to_unix_across_the_gap_and_the_overlap() {
    let tz = warsaw();
    let spring = days_from_civil(2026, 3, 29).unwrap();
    assert_eq!(unix_at(&tz, spring, 8 * 3600), utc(2026, 3, 29, 6, 0));
    // 02:30 does not exist that night: the moment after the gap.
    assert_eq!(
        unix_at(&tz, spring, 2 * 3600 + 1800),
        utc(2026, 3, 29, 1, 30)
    );
    assert_eq!(
        unix_at(&tz, spring, DAY_SECS),
        utc(2026, 3, 29, 22, 0),
        "midnight"
    );
    let autumn = days_from_civil(2026, 10, 25).unwrap();
    // 02:30 happens twice: the first one (CEST).
    assert_eq!(
        unix_at(&tz, autumn, 2 * 3600 + 1800),
        utc(2026, 10, 25, 0, 30)
    );
    assert_eq!(unix_at(&tz, autumn, 8 * 3600), utc(2026, 10, 25, 7, 0));
}

#[test]
fn event_timestamps_are_rfc3339_utc_with_milliseconds() {
    assert_eq!(rfc3339_utc_ms(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        rfc3339_utc_ms(utc(2026, 3, 29, 1, 0) * 1000 + 7),
        "2026-03-29T01:00:00.007Z"
    );
}
