//! The reports' exact numbers: a known day written to the queue log through the store
//! (SQLite, or PostgreSQL with `CENTRALA_TEST_POSTGRES`), every figure checked against values
//! computed by hand (see the comments), through the real HTTP API.

use serde_json::Value;

use super::{AGENT_1001, SUPERVISOR, TestApi};
use crate::store::{QueueLogRow, TaskRow};

/// 2026-12-07 08:00 in Warsaw (07:00 UTC), unix ms.
const H1: i64 = 1_796_626_800_000;
/// One hour later.
const H2: i64 = H1 + 3_600_000;
const S: i64 = 1000;

struct Row<'a>(i64, &'a str, &'a str, i64, &'a str);

fn rows() -> Vec<QueueLogRow> {
    // (ts, queue, channel, task, event) + agent, wait, duration, detail below.
    let mut n = 0;
    let mut r = |Row(ts, queue, channel, task, event): Row,
                 agent: Option<&str>,
                 wait_s: Option<i64>,
                 dur_s: Option<i64>,
                 detail: Option<&str>| {
        n += 1;
        QueueLogRow {
            id: format!("{ts:013}-{n:04}"),
            ts_ms: ts,
            queue: queue.into(),
            channel: channel.into(),
            task,
            agent: agent.map(Into::into),
            event: event.into(),
            wait_ms: wait_s.map(|w| w * S),
            duration_ms: dur_s.map(|d| d * S),
            detail: detail.map(Into::into),
        }
    };
    let (sales, v) = ("sales", "voice");
    vec![
        // Agents: 1001 logged in before the period, on a break 10 min; 1002 from +30 s.
        r(
            Row(H1 - 600 * S, "", v, 0, "login"),
            Some("1001"),
            None,
            None,
            None,
        ),
        r(
            Row(H1 + 30 * S, "", v, 0, "login"),
            Some("1002"),
            None,
            None,
            None,
        ),
        r(
            Row(H1 + 1000 * S, "", v, 0, "break"),
            Some("1001"),
            None,
            None,
            Some("2"),
        ),
        r(
            Row(H1 + 1600 * S, "", v, 0, "ready"),
            Some("1001"),
            None,
            None,
            None,
        ),
        r(
            Row(H2 + 3000 * S, "", v, 0, "logout"),
            Some("1001"),
            None,
            None,
            None,
        ),
        // Hour 1. Task 1: answered after 10 s, 100 s talk, 20 s wrap-up.
        r(Row(H1, sales, v, 1, "enqueue"), None, Some(0), None, None),
        r(
            Row(H1 + 10 * S, sales, v, 1, "answer"),
            Some("1001"),
            Some(10),
            None,
            None,
        ),
        r(
            Row(H1 + 110 * S, sales, v, 1, "complete"),
            Some("1001"),
            None,
            Some(100),
            None,
        ),
        r(
            Row(H1 + 130 * S, sales, v, 1, "wrap_up"),
            Some("1001"),
            None,
            Some(20),
            None,
        ),
        // Task 2: answered after 30 s (late), 200 s talk.
        r(
            Row(H1 + 60 * S, sales, v, 2, "enqueue"),
            None,
            Some(0),
            None,
            None,
        ),
        r(
            Row(H1 + 90 * S, sales, v, 2, "answer"),
            Some("1002"),
            Some(30),
            None,
            None,
        ),
        r(
            Row(H1 + 290 * S, sales, v, 2, "complete"),
            Some("1002"),
            None,
            Some(200),
            None,
        ),
        // Tasks 3-5: abandons after 3 s (short), 15 s (within T) and 45 s (after T).
        r(
            Row(H1 + 120 * S, sales, v, 3, "enqueue"),
            None,
            Some(0),
            None,
            None,
        ),
        r(
            Row(H1 + 123 * S, sales, v, 3, "abandon"),
            None,
            Some(3),
            None,
            None,
        ),
        r(
            Row(H1 + 180 * S, sales, v, 4, "enqueue"),
            None,
            Some(0),
            None,
            None,
        ),
        r(
            Row(H1 + 195 * S, sales, v, 4, "abandon"),
            None,
            Some(15),
            None,
            None,
        ),
        r(
            Row(H1 + 240 * S, sales, v, 5, "enqueue"),
            None,
            Some(0),
            None,
            None,
        ),
        r(
            Row(H1 + 285 * S, sales, v, 5, "abandon"),
            None,
            Some(45),
            None,
            None,
        ),
        // Task 6: answered at exactly 20 s, transferred, 180 s talk, 30 s wrap-up.
        r(
            Row(H1 + 300 * S, sales, v, 6, "enqueue"),
            None,
            Some(0),
            None,
            None,
        ),
        r(
            Row(H1 + 320 * S, sales, v, 6, "answer"),
            Some("1001"),
            Some(20),
            None,
            None,
        ),
        r(
            Row(H1 + 400 * S, sales, v, 6, "transfer"),
            None,
            Some(100),
            None,
            Some("support"),
        ),
        r(
            Row(H1 + 500 * S, sales, v, 6, "complete"),
            Some("1001"),
            None,
            Some(180),
            None,
        ),
        r(
            Row(H1 + 530 * S, sales, v, 6, "wrap_up"),
            Some("1001"),
            None,
            Some(30),
            None,
        ),
        // Task 7: keeps its place as a callback; reached in hour 2 within its SLA.
        r(
            Row(H1 + 600 * S, sales, v, 7, "enqueue"),
            None,
            Some(0),
            None,
            None,
        ),
        r(
            Row(H1 + 610 * S, sales, v, 7, "callback_requested"),
            None,
            Some(10),
            None,
            None,
        ),
        r(
            Row(H1 + 610 * S, sales, "callback", 7, "requeue"),
            None,
            Some(10),
            None,
            None,
        ),
        // Task 8: overflows to support, answered there after 70 s.
        r(
            Row(H1 + 700 * S, sales, v, 8, "enqueue"),
            None,
            Some(0),
            None,
            None,
        ),
        r(
            Row(H1 + 760 * S, sales, v, 8, "overflow"),
            None,
            Some(60),
            None,
            Some("support"),
        ),
        r(
            Row(H1 + 760 * S, "support", v, 8, "overflow_in"),
            None,
            Some(60),
            None,
            None,
        ),
        r(
            Row(H1 + 770 * S, "support", v, 8, "answer"),
            Some("1003"),
            Some(70),
            None,
            None,
        ),
        // Hour 2. Task 9: an e-mail answered after 20 min, 300 s of work.
        r(
            Row(H2, sales, "email", 9, "enqueue"),
            None,
            Some(0),
            None,
            None,
        ),
        r(
            Row(H2 + 1200 * S, sales, "email", 9, "answer"),
            Some("1001"),
            Some(1200),
            None,
            None,
        ),
        r(
            Row(H2 + 1500 * S, sales, "email", 9, "complete"),
            Some("1001"),
            None,
            Some(300),
            None,
        ),
        // Task 7's callback: accepted (waited 3,100 s since first arrival), reached, 90 s.
        r(
            Row(H2 + 100 * S, sales, "callback", 7, "answer"),
            Some("1002"),
            Some(3100),
            None,
            None,
        ),
        r(
            Row(H2 + 130 * S, sales, "callback", 7, "callback_attempt"),
            Some("1002"),
            Some(3130),
            None,
            Some("answered attempt 1"),
        ),
        r(
            Row(H2 + 190 * S, sales, "callback", 7, "complete"),
            Some("1002"),
            None,
            Some(90),
            None,
        ),
        // Task 10: a short abandon (4 s). Task 11: after the period.
        r(
            Row(H2 + 2000 * S, sales, v, 10, "enqueue"),
            None,
            Some(0),
            None,
            None,
        ),
        r(
            Row(H2 + 2004 * S, sales, v, 10, "abandon"),
            None,
            Some(4),
            None,
            None,
        ),
        r(
            Row(H2 + 3600 * S, sales, v, 11, "enqueue"),
            None,
            Some(0),
            None,
            None,
        ),
    ]
}

async fn known_day() -> TestApi {
    let api = TestApi::start().await;
    api.store.insert_queue_log(&rows()).await.unwrap();
    let callback = TaskRow {
        id: 7,
        channel: "callback".into(),
        queue: "sales".into(),
        customer: Some("+48600100200".into()),
        priority: 0,
        skills: "{}".into(),
        attributes: "{}".into(),
        arrived_at_ms: H1 + 600 * S,
        deadline_ms: Some(H1 + 610 * S + 3_600_000),
        state: "done".into(),
        attempts: 1,
        next_attempt_at_ms: None,
        updated_at_ms: H2 + 190 * S,
    };
    api.store.insert_task(&callback).await.unwrap();
    api
}

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
