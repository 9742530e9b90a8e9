use super::*;
use crate::store::testing::fresh_store;

fn ev(n: u32, ts: i64, queue: &str, task: i64, event: &str) -> QueueLogRow {
    QueueLogRow {
        id: format!("{ts:013}-{n:04}"),
        ts_ms: ts,
        queue: queue.into(),
        channel: "voice".into(),
        task,
        agent: None,
        event: event.into(),
        wait_ms: None,
        duration_ms: None,
        detail: None,
    }
}

fn waited(mut row: QueueLogRow, wait_ms: i64) -> QueueLogRow {
    row.wait_ms = Some(wait_ms);
    row
}

fn lasted(mut row: QueueLogRow, duration_ms: i64) -> QueueLogRow {
    row.duration_ms = Some(duration_ms);
    row
}

/// Hand-made log of queue "sales", threshold 20 s:
/// task 1: answered after 10 s, handled 100 s + 20 s wrap-up;
/// task 2: answered after 30 s, handled 200 s, no wrap-up;
/// task 3: abandoned after 5 s (not held against the service level);
/// task 4: abandoned after 40 s;
/// task 5: answered after 20 s exactly (within), completed after the period ends;
/// task 6: e-mail, answered after 1 h (channel filter);
/// task 7: another queue; task 8: before the period.
fn log() -> Vec<QueueLogRow> {
    let mut email = waited(ev(20, 1_500, "sales", 6, "answer"), 3_600_000);
    email.channel = "email".into();
    vec![
        ev(1, 1_000, "sales", 1, "enqueue"),
        waited(ev(2, 11_000, "sales", 1, "answer"), 10_000),
        lasted(ev(3, 111_000, "sales", 1, "complete"), 100_000),
        lasted(ev(4, 131_000, "sales", 1, "wrap_up"), 20_000),
        ev(5, 2_000, "sales", 2, "enqueue"),
        waited(ev(6, 32_000, "sales", 2, "answer"), 30_000),
        lasted(ev(7, 232_000, "sales", 2, "complete"), 200_000),
        ev(8, 3_000, "sales", 3, "enqueue"),
        waited(ev(9, 8_000, "sales", 3, "abandon"), 5_000),
        ev(10, 4_000, "support", 4, "overflow_in"),
        ev(11, 4_000, "sales", 4, "enqueue"),
        waited(ev(12, 44_000, "sales", 4, "abandon"), 40_000),
        ev(13, 5_000, "sales", 5, "enqueue"),
        waited(ev(14, 25_000, "sales", 5, "answer"), 20_000),
        lasted(ev(15, 600_000, "sales", 5, "complete"), 575_000),
        waited(ev(16, 9_000, "support", 7, "answer"), 1),
        waited(ev(17, 500, "sales", 8, "answer"), 1),
        email,
    ]
}

#[tokio::test]
async fn report_computes_exact_figures_from_the_log() {
    let (store, _dir) = fresh_store().await;
    store.insert_queue_log(&log()).await.unwrap();
    let r = store
        .queue_report("sales", Some("voice"), 1_000, 500_000, 20_000)
        .await
        .unwrap();
    assert_eq!(
        r,
        QueueReport {
            entered: 5,
            answered: 3,
            answered_within: 2,
            abandoned: 2,
            abandoned_after: 1,
            completed: 2,
            total_wait_ms: 60_000,
            total_handle_ms: 320_000,
        }
    );
    assert_eq!(r.service_level(), Some(0.5));
    assert_eq!(r.asa_ms(), Some(20_000.0));
    assert_eq!(r.aht_ms(), Some(160_000.0));
    assert_eq!(r.abandonment(), Some(0.4));
    let all = store
        .queue_report("sales", None, 1_000, 500_000, 20_000)
        .await
        .unwrap();
    assert_eq!((all.answered, all.total_wait_ms), (4, 3_660_000));
    let empty = store
        .queue_report("nobody", None, 0, i64::MAX, 20_000)
        .await
        .unwrap();
    assert_eq!(empty, QueueReport::default());
    assert_eq!(empty.service_level(), None);
}

#[tokio::test]
async fn task_log_is_in_time_order() {
    let (store, _dir) = fresh_store().await;
    store.insert_queue_log(&log()).await.unwrap();
    let events: Vec<_> = store
        .task_log(1)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect();
    assert_eq!(events, ["enqueue", "answer", "complete", "wrap_up"]);
}
