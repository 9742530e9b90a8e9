//! Durability: a task that cannot be stored is refused, and tasks survive a restart on the
//! real store.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::*;

#[tokio::test(start_paused = true)]
async fn a_task_that_cannot_be_stored_is_not_acknowledged_or_routed() {
    let store = Arc::new(MemStore::default());
    let (acd, _actor) = start_at(tokio::time::Instant::now(), store.clone()).await;
    let (dialler, mut offers) = mpsc::channel(8);
    acd.set_channel_sink(Channel::Callback, dialler)
        .await
        .unwrap();
    acd.agent(A1, FeatureAction::Login).await.unwrap();
    store.down.store(true, std::sync::atomic::Ordering::Relaxed);
    let refused = acd.enqueue(NewTask::callback("sales", "+48500")).await;
    assert!(matches!(refused, Err(AcdError::Store(_))), "{refused:?}");
    let status = acd.queue_status("sales").await.unwrap().unwrap();
    assert!(status.waiting.is_empty());
    assert!(offers.try_recv().is_err());
    // Back up: a callback is stored and routed; completing it while the store is down fails
    // and leaves it with the agent.
    store
        .down
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let id = acd
        .enqueue(NewTask::callback("sales", "+48500"))
        .await
        .unwrap();
    assert_eq!(offered(offers.recv().await), (id, A1));
    acd.offer_accepted(id, A1).await.unwrap();
    store.down.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(matches!(acd.completed(id).await, Err(AcdError::Store(_))));
    assert!(matches!(
        acd.task_status(id).await.unwrap(),
        Some((TaskStatus::Assigned { agent: A1 }, None))
    ));
    store
        .down
        .store(false, std::sync::atomic::Ordering::Relaxed);
    acd.completed(id).await.unwrap();
    assert_eq!(store.row(id).state, "done");
}

#[tokio::test]
async fn restart_on_the_real_store_keeps_tasks_and_writes_the_log() {
    let (store, _dir) = crate::store::testing::fresh_store().await;
    let store = Arc::new(store);
    let clock: Arc<dyn WallClock> = Arc::new(SystemClock);
    let (acd, actor) = start(setup(), store.clone(), clock.clone(), AcdOptions::default())
        .await
        .unwrap();
    let mut email = NewTask::new(Channel::Email, "support");
    email.customer = Some("anna@example.com".into());
    email.attributes.insert("subject".into(), "invoice".into());
    let id = acd.enqueue(email).await.unwrap();
    let before = store.task(id.0 as i64).await.unwrap().unwrap();
    drop(acd);
    actor.await.unwrap();
    // Log rows order by wall-clock ms; keep the two runs' rows in distinct milliseconds.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (acd, _actor) = start(setup(), store.clone(), clock, AcdOptions::default())
        .await
        .unwrap();
    acd.agent(A2, FeatureAction::Login).await.unwrap();
    match acd.task_status(id).await.unwrap() {
        Some((TaskStatus::Offered { agent: A2 }, None)) => {}
        other => panic!("not restored and offered: {other:?}"),
    }
    acd.offer_accepted(id, A2).await.unwrap();
    acd.completed(id).await.unwrap();
    acd.flush_log().await.unwrap();
    let after = store.task(id.0 as i64).await.unwrap().unwrap();
    assert_eq!(after.arrived_at_ms, before.arrived_at_ms);
    assert_eq!(after.state, "done");
    assert!(store.open_tasks().await.unwrap().is_empty());
    let events: Vec<_> = store
        .task_log(id.0 as i64)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect();
    assert_eq!(
        events,
        ["enqueue", "requeue", "offer", "answer", "complete"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_stored_task_that_overflows_is_stored_in_its_new_queue() {
    let store = Arc::new(MemStore::default());
    let mut routing = setup();
    routing.queues[0].config.overflow = Some(crate::routing::queue::Overflow {
        after: Duration::from_secs(60),
        to: QueueId(2),
    });
    let clock = Arc::new(PausedClock {
        base: tokio::time::Instant::now(),
    });
    let (acd, _actor) = start(routing, store.clone(), clock, AcdOptions::default())
        .await
        .unwrap();
    // Nobody is logged in: the e-mail waits in sales until it overflows to support.
    let id = acd
        .enqueue(NewTask::new(Channel::Email, "sales"))
        .await
        .unwrap();
    assert_eq!(store.row(id).queue, "sales");
    tokio::time::sleep(Duration::from_secs(61)).await;
    acd.flush_log().await.unwrap();
    assert_eq!(store.row(id).queue, "support");
    assert_eq!(store.row(id).state, "waiting");
}
