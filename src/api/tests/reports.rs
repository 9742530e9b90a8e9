//! The reports' exact numbers: a known day written to the queue log through the store
//! (SQLite, or PostgreSQL with `CENTRALA_TEST_POSTGRES`), every figure checked against values
//! computed by hand (see the comments), through the real HTTP API.

use serde_json::Value;

use super::reports_day::known_day;
use super::{AGENT_1001, SUPERVISOR};

const PERIOD: &str = "from=2026-12-07T08:00&to=2026-12-07T10:00&tz=Europe/Warsaw";

fn find<'a>(rows: &'a Value, key: &str, start: Option<&str>) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key && r["interval_start"].as_str() == start)
        .unwrap_or_else(|| panic!("no row {key} {start:?} in {rows}"))
}

fn close(v: &Value, expected: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert!((got - expected).abs() < 1e-9, "{got} != {expected}");
}

#[tokio::test]
async fn queue_report_figures_are_exactly_the_hand_computed_ones() {
    let api = known_day().await;
    let (status, r) = api
        .get(
            &format!("/api/v1/reports/queues?{PERIOD}&interval=1h"),
            SUPERVISOR,
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["from"], "2026-12-07T08:00:00+01:00");
    assert_eq!(r["formula_version"], "1");
    let h1 = find(&r["rows"], "sales", Some("2026-12-07T08:00:00+01:00"));
    // Offered: tasks 1-8 entered; answered 1, 2, 6; within 20 s: 1 (10 s) and 6 (20 s).
    assert_eq!(h1["offered"], 8);
    assert_eq!(h1["answered"], 3);
    assert_eq!(h1["answered_within_threshold"], 2);
    assert_eq!(h1["abandoned"], 3);
    assert_eq!(h1["short_abandoned"], 1);
    // SL: 2/3 answered; 2/6 offered; 2/5 without the short abandon; 2/(3+1) with the one
    // abandon after 20 s (the headline).
    close(&h1["service_levels"]["answered"], 2.0 / 3.0);
    close(&h1["service_levels"]["offered"], 2.0 / 6.0);
    close(&h1["service_levels"]["offered_without_short"], 2.0 / 5.0);
    close(&h1["service_levels"]["abandoned_after_threshold"], 0.5);
    close(&h1["service_level"], 0.5);
    assert_eq!(h1["service_level_variant"], "abandoned_after_threshold");
    close(&h1["asa_secs"], 20.0); // (10 + 30 + 20) / 3
    close(&h1["aht_secs"], 530.0 / 3.0); // (100 + 200 + 180 talk + 20 + 30 wrap) / 3
    close(&h1["talk_secs"], 160.0);
    close(&h1["wrap_up_secs"], 50.0 / 3.0);
    close(&h1["longest_wait_secs"], 45.0);
    close(&h1["abandon_rate"], 2.0 / 5.0); // (3 − 1 short) / (3 answered + 2)
    assert_eq!(h1["handled"], 3);
    assert_eq!(h1["transferred"], 1);
    assert_eq!(h1["overflowed"], 1);
    assert_eq!(h1["callbacks_requested"], 1);
    assert_eq!(h1["callbacks_kept_place"], 1);
    assert_eq!(h1["callbacks_completed"], 0);

    let h2 = find(&r["rows"], "sales", Some("2026-12-07T09:00:00+01:00"));
    assert_eq!(h2["offered"], 2); // tasks 9 and 10 (task 7's requeue is no new contact)
    assert_eq!(h2["answered"], 2);
    assert_eq!(h2["answered_within_threshold"], 0);
    assert_eq!(h2["abandoned"], 1);
    assert_eq!(h2["short_abandoned"], 1);
    close(&h2["service_level"], 0.0);
    close(&h2["asa_secs"], 2150.0); // (1200 + 3100) / 2
    close(&h2["aht_secs"], 195.0); // (300 + 90) / 2
    close(&h2["longest_wait_secs"], 3100.0);
    close(&h2["abandon_rate"], 0.0);
    assert_eq!(h2["callbacks_completed"], 1);
    assert_eq!(h2["callbacks_within_sla"], 1);

    let total = find(&r["totals"], "sales", None);
    assert_eq!(total["offered"], 10); // task 11 is after the period
    assert_eq!(total["answered"], 5);
    close(&total["service_level"], 2.0 / 6.0);
    close(&total["service_levels"]["offered"], 2.0 / 9.0);
    close(&total["service_levels"]["offered_without_short"], 2.0 / 7.0);
    close(&total["asa_secs"], 872.0); // 4,360 s / 5
    close(&total["aht_secs"], 184.0); // 920 s / 5
    close(&total["abandon_rate"], 2.0 / 7.0);

    let support = find(&r["totals"], "support", None);
    assert_eq!(support["offered"], 1);
    assert_eq!(support["answered"], 1);
    close(&support["asa_secs"], 70.0);
}

#[tokio::test]
async fn days_channels_and_short_abandon_threshold_regroup_the_same_rows() {
    let api = known_day().await;
    let (status, r) = api
        .get(
            &format!("/api/v1/reports/queues?{PERIOD}&interval=1d&short_abandon_secs=0"),
            SUPERVISOR,
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let day = find(&r["rows"], "sales", Some("2026-12-07T08:00:00+01:00"));
    assert_eq!(day["answered"], 5);
    assert_eq!(day["short_abandoned"], 0);
    close(&day["service_levels"]["offered_without_short"], 2.0 / 9.0);

    let (status, c) = api
        .get(&format!("/api/v1/reports/channels?{PERIOD}"), SUPERVISOR)
        .await;
    assert_eq!(status, 200, "{c}");
    let voice = find(&c["totals"], "voice", None);
    assert_eq!(voice["offered"], 10); // sales 1-8, 10; support's overflow_in of 8
    assert_eq!(voice["answered"], 4); // 1, 2, 6 and 8
    let callback = find(&c["totals"], "callback", None);
    assert_eq!(callback["answered"], 1);
    assert_eq!(callback["callbacks_completed"], 1);
    let email = find(&c["totals"], "email", None);
    close(&email["asa_secs"], 1200.0);
}

#[tokio::test]
async fn agent_report_gives_time_and_both_occupancies() {
    let api = known_day().await;
    let (status, r) = api
        .get(&format!("/api/v1/reports/agents?{PERIOD}"), SUPERVISOR)
        .await;
    assert_eq!(status, 200, "{r}");
    let a = find(&r["rows"], "1001", Some("2026-12-07T08:00:00+01:00"));
    assert_eq!(a["answered"], 2);
    close(&a["asa_secs"], 15.0);
    // Logged in all hour, 600 s on a break; busy 10..130 s and 320..530 s = 330 s.
    close(&a["agent"]["logged_in_secs"], 3600.0);
    close(&a["agent"]["break_secs"], 600.0);
    close(&a["agent"]["busy_secs"], 330.0);
    close(&a["agent"]["occupancy"], 330.0 / 3000.0);
    close(&a["agent"]["occupancy_classic"], 330.0 / 3000.0);
    let a2 = find(&r["rows"], "1001", Some("2026-12-07T09:00:00+01:00"));
    close(&a2["agent"]["logged_in_secs"], 3000.0); // logged out at 09:50
    close(&a2["agent"]["occupancy"], 0.1); // the e-mail: 300 s
    let b = find(&r["totals"], "1002", None);
    close(&b["agent"]["logged_in_secs"], 7170.0); // from 08:00:30
    close(&b["agent"]["busy_secs"], 290.0); // 200 s + the callback's 90 s
    assert_eq!(b["callbacks_completed"], 1);
}

#[tokio::test]
async fn csv_is_the_same_computation_and_agents_are_refused() {
    let api = known_day().await;
    let url = format!("/api/v1/reports/queues?{PERIOD}&format=csv");
    let response = api
        .raw(reqwest::Method::GET, &url)
        .bearer_auth(SUPERVISOR)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(kind.starts_with("text/csv"), "{kind}");
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("key,interval_start,offered,answered,"),
        "{text}"
    );
    let total = lines
        .iter()
        .find(|l| l.starts_with("sales,total,"))
        .unwrap_or_else(|| panic!("{text}"));
    let cells: Vec<&str> = total.split(',').collect();
    assert_eq!(&cells[2..6], ["10", "5", "2", "4"], "{total}");
    let accept = api
        .raw(
            reqwest::Method::GET,
            &format!("/api/v1/reports/queues?{PERIOD}"),
        )
        .bearer_auth(SUPERVISOR)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(accept.text().await.unwrap(), text);

    let xlsx = api
        .raw(
            reqwest::Method::GET,
            &format!("/api/v1/reports/agents?{PERIOD}&format=xlsx"),
        )
        .bearer_auth(SUPERVISOR)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), 200);
    let kind = xlsx.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(kind, crate::reports::xlsx::MEDIA_TYPE);
    let bytes = xlsx.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "a zip container");
    let names = String::from_utf8_lossy(&bytes);
    assert!(
        names.contains("xl/worksheets/sheet1.xml"),
        "an XLSX workbook"
    );

    let (status, body) = api
        .get(&format!("/api/v1/reports/queues?{PERIOD}"), AGENT_1001)
        .await;
    assert_eq!(status, 403, "{body}");
    for bad in [
        "from=2026-12-07&to=2026-12-06",
        "from=2026-12-07&to=2026-12-08&tz=Nowhere/City",
        "from=2026-12-07&to=2026-12-08&interval=2h",
        "from=soon&to=2026-12-08",
        "from=2026-12-07&to=2026-12-08&format=xml",
        "from=2026-12-07&to=2026-12-08&short_abandon_secs=-1",
    ] {
        let (status, body) = api
            .get(&format!("/api/v1/reports/queues?{bad}"), SUPERVISOR)
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{bad}: {body}");
    }
}
