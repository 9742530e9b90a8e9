//! The journal: changes become events in the ACD's order; a stored task's events commit with
//! its row (or not at all); offers carry the `PrepareOffer` hook's gate.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

use super::*;

/// Events named `<change>:<task>` (or `agent:<number>`).
struct Names;

impl ChangeEvents for Names {
    fn events<'a>(&'a self, change: &'a Change) -> StoreFuture<'a, Vec<OutboxEvent>> {
        let name = match &change.event {
            AcdEvent::Queued { .. } => "queued",
            AcdEvent::Decision(Decision::Offer { .. }) => "offered",
            AcdEvent::Accepted { .. } => "accepted",
            AcdEvent::Completed { .. } => "completed",
            AcdEvent::Decision(Decision::Abandoned { .. }) => "abandoned",
            AcdEvent::CallbackAttempt { .. } => "attempted",
            AcdEvent::AgentChanged { .. } => "agent",
            _ => return Box::pin(async { Ok(Vec::new()) }),
        };
        let subject = match &change.task {
            Some(task) => task.id.0.to_string(),
            None => change.agent.clone().unwrap_or_default(),
        };
        let body = format!("{name}:{subject}");
        Box::pin(async move {
            Ok(vec![OutboxEvent {
                id: body.clone(),
                kind: name.into(),
                body,
                created_at_ms: change.at_ms,
            }])
        })
    }

    fn committed(&self, _changes: &[Change], _events: Vec<OutboxEvent>) {}
}

/// Gates every offer for 5 s and counts the offers prepared.
#[derive(Default)]
struct Gates(std::sync::atomic::AtomicUsize);

impl PrepareOffer for Gates {
    fn prepare(&self, _task: &TaskView, agent: &str) -> OfferReady {
        assert_eq!(agent, "1001");
        self.0.fetch_add(1, Ordering::Relaxed);
        let (ready, prepared) =
            OfferReady::until(tokio::time::Instant::now() + std::time::Duration::from_secs(5));
        std::mem::forget(prepared); // never prepared: the deadline opens it
        ready
    }
}

async fn start_journalled(store: Arc<MemStore>, gates: Arc<Gates>) -> (AcdHandle, AcdTask) {
    let clock = Arc::new(PausedClock {
        base: tokio::time::Instant::now(),
    });
    let hooks = AcdHooks {
        events: Some(Arc::new(Names)),
        offers: Some(gates),
    };
    start_with(setup(), store, clock, AcdOptions::default(), hooks)
        .await
        .expect("start")
}

#[tokio::test(start_paused = true)]
async fn a_stored_tasks_events_commit_with_its_row_in_order() {
    let store = Arc::new(MemStore::default());
    let gates = Arc::new(Gates::default());
    let (acd, _actor) = start_journalled(store.clone(), gates.clone()).await;
    let (dialler, mut offers) = mpsc::channel(8);
    acd.set_channel_sink(Channel::Callback, dialler)
        .await
        .unwrap();
    let id = acd
        .enqueue(NewTask::callback("sales", "+48500"))
        .await
        .unwrap();
    assert_eq!(*store.outbox.lock().unwrap(), [format!("queued:{}", id.0)]);
    acd.agent(A1, FeatureAction::Login).await.unwrap();
    match offers.recv().await {
        Some(TaskNotice::Offer { ready, .. }) => assert!(ready.is_gated()),
        other => panic!("expected an offer, got {other:?}"),
    }
    assert_eq!(gates.0.load(Ordering::Relaxed), 1);
    acd.offer_accepted(id, A1).await.unwrap();
    // The store is down: the completion fails, and neither its row nor its event is written.
    store.down.store(true, Ordering::Relaxed);
    assert!(acd.completed(id).await.is_err());
    assert_eq!(store.row(id).state, "waiting");
    assert!(
        !store
            .outbox
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.starts_with("completed"))
    );
    store.down.store(false, Ordering::Relaxed);
    acd.completed(id).await.unwrap();
    assert_eq!(store.row(id).state, "done");
    // Every change before the completion was written before it, in the ACD's order.
    let task = id.0;
    assert_eq!(
        *store.outbox.lock().unwrap(),
        [
            format!("queued:{task}"),
            format!("offered:{task}"),
            // Logged in and offered at once: one change, offline to busy.
            "agent:1001".to_string(),
            format!("accepted:{task}"),
            format!("completed:{task}"),
            // Wrap-up.
            "agent:1001".to_string(),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_calls_events_are_journalled_without_a_row() {
    let store = Arc::new(MemStore::default());
    let (acd, _actor) = start_journalled(store.clone(), Arc::default()).await;
    acd.agent(A1, FeatureAction::Login).await.unwrap();
    let (task, mut rx) = voice(Some("+48500"));
    let id = acd.enqueue(task).await.unwrap();
    let started = tokio::time::Instant::now();
    assert_eq!(offered(rx.recv().await), (id, A1));
    assert_eq!(
        started.elapsed(),
        std::time::Duration::ZERO,
        "the ACD never waits"
    );
    acd.offer_accepted(id, A1).await.unwrap();
    acd.completed(id).await.unwrap();
    // The journal writes on its own task, meanwhile.
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    let task = id.0;
    assert_eq!(
        *store.outbox.lock().unwrap(),
        [
            "agent:1001".to_string(),
            format!("queued:{task}"),
            format!("offered:{task}"),
            // Busy, then wrap-up.
            "agent:1001".to_string(),
            format!("accepted:{task}"),
            format!("completed:{task}"),
            "agent:1001".to_string(),
        ]
    );
    assert!(
        store.tasks.lock().unwrap().is_empty(),
        "calls are not stored"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_tasks_abandon_event_commits_with_its_row() {
    let store = Arc::new(MemStore::default());
    let (acd, _actor) = start_journalled(store.clone(), Arc::default()).await;
    let id = acd
        .enqueue(NewTask::new(Channel::Email, "sales"))
        .await
        .unwrap();
    // The store is down: the cancel fails, and neither the row nor the event is written.
    store.down.store(true, Ordering::Relaxed);
    assert!(acd.cancel(id).await.is_err());
    assert_eq!(store.row(id).state, "waiting");
    store.down.store(false, Ordering::Relaxed);
    acd.cancel(id).await.unwrap();
    assert_eq!(store.row(id).state, "cancelled");
    let task = id.0;
    assert_eq!(
        *store.outbox.lock().unwrap(),
        [format!("queued:{task}"), format!("abandoned:{task}")]
    );
}
