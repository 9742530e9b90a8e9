//! The known day of the reports' exact-numbers test (`reports.rs`): queue-log rows with the
//! figures they must give, written through the store.

use super::TestApi;
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

pub(super) async fn known_day() -> TestApi {
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
