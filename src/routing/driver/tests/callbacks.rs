//! Callback shell tests: restart with arrival and deadline intact, retries, abandon and
//! keep-place.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::*;

#[tokio::test(start_paused = true)]
async fn callbacks_survive_a_restart_with_arrival_and_deadline_intact() {
    let store = Arc::new(MemStore::default());
    let base = tokio::time::Instant::now();
    let (acd, actor) = start_at(base, store.clone()).await;
    let id = acd
        .enqueue(NewTask::callback("sales", "+48500100200"))
        .await
        .unwrap();
    // Stored before the id was returned.
    let stored = store.row(id);
    assert_eq!(
        (stored.channel.as_str(), stored.state.as_str()),
        ("callback", "waiting")
    );
    assert_eq!(stored.arrived_at_ms, START_MS as i64);
    assert_eq!(stored.deadline_ms, Some(START_MS as i64 + 3_600_000));
    tokio::time::advance(Duration::from_secs(600)).await;
    drop(acd);
    actor.await.unwrap();

    let (acd, _actor) = start_at(base, store.clone()).await;
    match acd.task_status(id).await.unwrap() {
        Some((TaskStatus::Waiting { .. }, Some(0))) => {}
        other => panic!("not restored: {other:?}"),
    }
    let (dialler, mut offers) = mpsc::channel(8);
    acd.set_channel_sink(Channel::Callback, dialler)
        .await
        .unwrap();
    acd.agent(A1, FeatureAction::Login).await.unwrap();
    match offers.recv().await {
        Some(TaskNotice::Offer {
            task,
            agent,
            customer,
            attempt,
            ..
        }) => {
            assert_eq!((task, agent, attempt), (id, A1, 1));
            assert_eq!(customer.as_deref(), Some("+48500100200"));
        }
        other => panic!("expected an offer, got {other:?}"),
    }
    acd.flush_log().await.unwrap();
    let log = store.log.lock().unwrap().clone();
    let offer = log.iter().find(|r| r.event == "offer").unwrap();
    // The wait counts from the original arrival, before the restart.
    assert_eq!(offer.wait_ms, Some(600_000));
    assert_eq!(store.events(id), ["enqueue", "requeue", "offer"]);
    // The SLA clock kept its deadline: it breaches 50 minutes after the restart.
    let t0 = tokio::time::Instant::now();
    acd.offer_rejected(id, A1).await.unwrap();
    let mut events = acd.subscribe();
    loop {
        if let AcdEvent::Decision(Decision::SlaBreached { task }) = events.recv().await.unwrap() {
            assert_eq!(task, id);
            break;
        }
    }
    assert_eq!(t0.elapsed(), Duration::from_secs(3000));
}

#[tokio::test(start_paused = true)]
async fn callback_attempts_retry_then_give_up_and_are_stored() {
    let store = Arc::new(MemStore::default());
    let (acd, _actor) = start_at(tokio::time::Instant::now(), store.clone()).await;
    let (dialler, mut offers) = mpsc::channel(8);
    acd.set_channel_sink(Channel::Callback, dialler)
        .await
        .unwrap();
    acd.agent(A1, FeatureAction::Login).await.unwrap();
    let id = acd
        .enqueue(NewTask::callback("sales", "+48500100200"))
        .await
        .unwrap();
    assert_eq!(offered(offers.recv().await), (id, A1));
    acd.offer_accepted(id, A1).await.unwrap();
    let verdict = acd
        .callback_outcome(id, AttemptOutcome::NoAnswer, None)
        .await
        .unwrap();
    let t0 = tokio::time::Instant::now();
    assert!(matches!(verdict, Verdict::RetryAt(_)));
    let row = store.row(id);
    assert_eq!((row.state.as_str(), row.attempts), ("retry", 1));
    assert_eq!(row.next_attempt_at_ms, Some(START_MS as i64 + 300_000));
    // The retry comes back after the interval, as attempt 2.
    match offers.recv().await {
        Some(TaskNotice::Offer { task, attempt, .. }) => assert_eq!((task, attempt), (id, 2)),
        other => panic!("expected the retry, got {other:?}"),
    }
    assert_eq!(t0.elapsed(), Duration::from_secs(300));
    acd.offer_accepted(id, A1).await.unwrap();
    let verdict = acd
        .callback_outcome(id, AttemptOutcome::Busy, None)
        .await
        .unwrap();
    assert_eq!(verdict, Verdict::GaveUp);
    let row = store.row(id);
    assert_eq!((row.state.as_str(), row.attempts), ("failed", 2));
    acd.flush_log().await.unwrap();
    let log = store.log.lock().unwrap().clone();
    let details: Vec<_> = log
        .iter()
        .filter(|r| r.event == "callback_attempt")
        .map(|r| r.detail.clone().unwrap())
        .collect();
    assert_eq!(details, ["no_answer attempt 1", "busy attempt 2"]);
    assert!(acd.task_status(id).await.unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn long_abandon_creates_a_callback_and_keep_place_keeps_arrival() {
    let store = Arc::new(MemStore::default());
    let (acd, _actor) = start_at(tokio::time::Instant::now(), store.clone()).await;
    let (short, _rx1) = voice(Some("+48111"));
    let short = acd.enqueue(short).await.unwrap();
    tokio::time::advance(Duration::from_secs(20)).await;
    let out = acd.cancel(short).await.unwrap();
    assert_eq!((out.waited, out.callback), (Duration::from_secs(20), None));

    let (kept, _rx3) = voice(Some("+48333"));
    let kept = acd.enqueue(kept).await.unwrap();
    let (long, _rx2) = voice(Some("+48222"));
    let long = acd.enqueue(long).await.unwrap();
    tokio::time::advance(Duration::from_secs(31)).await;
    let out = acd.cancel(long).await.unwrap();
    let callback = out.callback.expect("callback after 31 s > 30 s");
    let row = store.row(callback);
    assert_eq!(row.customer.as_deref(), Some("+48222"));
    assert_eq!(row.arrived_at_ms, START_MS as i64 + 51_000);
    assert_eq!(row.deadline_ms, Some(row.arrived_at_ms + 3_600_000));

    tokio::time::advance(Duration::from_secs(100)).await;
    acd.keep_place(kept).await.unwrap();
    let row = store.row(kept);
    let arrived = START_MS as i64 + 20_000;
    assert_eq!(
        (row.channel.as_str(), row.arrived_at_ms),
        ("callback", arrived)
    );
    assert_eq!(row.deadline_ms, Some(arrived + 3_600_000));
    // The caller who kept their place is ahead of the later callback.
    let status = acd.queue_status("sales").await.unwrap().unwrap();
    assert_eq!(status.waiting, [kept, callback]);
    acd.flush_log().await.unwrap();
    let log = store.log.lock().unwrap().clone();
    let abandons: Vec<_> = log
        .iter()
        .filter(|r| r.event == "abandon")
        .map(|r| r.wait_ms)
        .collect();
    assert_eq!(abandons, [Some(20_000), Some(31_000)]);
    assert_eq!(
        store.events(kept),
        ["enqueue", "callback_requested", "requeue"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_missed_call_outside_hours_becomes_a_callback_due_in_business_hours() {
    let store = Arc::new(MemStore::default());
    let (acd, _actor) = start_at(tokio::time::Instant::now(), store.clone()).await;
    // Monday 10:00: support is open, the call queues as usual.
    assert_eq!(acd.missed_call("support", "+48600").await.unwrap(), None);
    // Monday 18:00: closed (09:00-17:00); the callback is due Tuesday 10:00.
    tokio::time::advance(Duration::from_secs(8 * 3600)).await;
    let id = acd
        .missed_call("support", "+48600")
        .await
        .unwrap()
        .expect("callback");
    let row = store.row(id);
    assert_eq!(row.channel, "callback");
    assert_eq!(row.arrived_at_ms, START_MS as i64 + 8 * 3_600_000);
    assert_eq!(row.deadline_ms, Some(START_MS as i64 + 24 * 3_600_000));
    assert!(row.attributes.contains("outside_hours"));
    assert!(matches!(
        acd.missed_call("nope", "+48600").await,
        Err(AcdError::UnknownQueue(_))
    ));
}
