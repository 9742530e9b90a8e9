//! Shell tests on tokio's paused clock with an in-memory store (its futures complete at once,
//! so time only moves when every task waits for a timer), plus one restart test on the real
//! store (SQLite, or PostgreSQL with `CENTRALA_TEST_POSTGRES`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;

use super::*;
use crate::routing::agent::{AgentProfile, AgentStatus};
use crate::routing::calendar::Calendar;
use crate::routing::callback::CallbackPolicy;
use crate::routing::ids::{QueueId, ReasonCode, SkillId};
use crate::routing::setup::{AgentSetup, QueueSetup, RoutingSetup, SkillNames};
use crate::routing::task::SkillRequirement;
use crate::store::{AgentStateRow, OutboxEvent, QueueLogRow, TaskRow};

/// 2024-01-01 10:00 UTC, a Monday.
const START_MS: u64 = 1_704_103_200_000;

struct PausedClock {
    base: tokio::time::Instant,
}

impl WallClock for PausedClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(START_MS) + (tokio::time::Instant::now() - self.base)
    }
}

#[derive(Default)]
struct MemStore {
    tasks: Mutex<BTreeMap<i64, TaskRow>>,
    log: Mutex<Vec<QueueLogRow>>,
    /// Agent states by extension.
    agents: Mutex<BTreeMap<String, AgentStateRow>>,
    /// Outbox rows, by kind, in commit order.
    outbox: Mutex<Vec<String>>,
    /// Task writes fail while set (a database outage).
    down: std::sync::atomic::AtomicBool,
}

impl MemStore {
    fn check(&self) -> Result<(), crate::store::StoreError> {
        if self.down.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(sqlx::Error::PoolClosed.into());
        }
        Ok(())
    }
}

impl RoutingStore for MemStore {
    fn insert_task<'a>(
        &'a self,
        row: &'a TaskRow,
        events: &'a [OutboxEvent],
    ) -> StoreFuture<'a, ()> {
        let result = self.check();
        if result.is_ok() {
            self.tasks.lock().unwrap().insert(row.id, row.clone());
            self.store_events(events);
        }
        Box::pin(async { result })
    }

    fn update_task<'a>(
        &'a self,
        row: &'a TaskRow,
        events: &'a [OutboxEvent],
    ) -> StoreFuture<'a, bool> {
        if let Err(err) = self.check() {
            return Box::pin(async { Err(err) });
        }
        let mut tasks = self.tasks.lock().unwrap();
        let found = tasks.get_mut(&row.id).map(|t| {
            t.queue = row.queue.clone();
            t.state = row.state.clone();
            t.attempts = row.attempts;
            t.next_attempt_at_ms = row.next_attempt_at_ms;
            t.updated_at_ms = row.updated_at_ms;
        });
        if found.is_some() {
            self.store_events(events);
        }
        Box::pin(async move { Ok(found.is_some()) })
    }

    fn write_changes<'a>(
        &'a self,
        events: &'a [OutboxEvent],
        agents: &'a [AgentStateRow],
    ) -> StoreFuture<'a, ()> {
        let result = self.check();
        if result.is_ok() {
            self.store_events(events);
            let mut stored = self.agents.lock().unwrap();
            for row in agents {
                stored.insert(row.agent.clone(), row.clone());
            }
        }
        Box::pin(async { result })
    }

    fn agent_states(&self) -> StoreFuture<'_, Vec<AgentStateRow>> {
        let rows = self.agents.lock().unwrap().values().cloned().collect();
        Box::pin(async { Ok(rows) })
    }

    fn open_tasks(&self) -> StoreFuture<'_, Vec<TaskRow>> {
        let mut open: Vec<TaskRow> = self
            .tasks
            .lock()
            .unwrap()
            .values()
            .filter(|t| !["done", "failed", "cancelled"].contains(&t.state.as_str()))
            .cloned()
            .collect();
        open.sort_by_key(|t| (t.arrived_at_ms, t.id));
        Box::pin(async { Ok(open) })
    }

    fn max_task_id(&self) -> StoreFuture<'_, i64> {
        let max = self
            .tasks
            .lock()
            .unwrap()
            .keys()
            .max()
            .copied()
            .unwrap_or(0);
        Box::pin(async move { Ok(max) })
    }

    fn insert_queue_log<'a>(&'a self, rows: &'a [QueueLogRow]) -> StoreFuture<'a, ()> {
        self.log.lock().unwrap().extend_from_slice(rows);
        Box::pin(async { Ok(()) })
    }
}

impl MemStore {
    fn store_events(&self, events: &[OutboxEvent]) {
        let mut outbox = self.outbox.lock().unwrap();
        outbox.extend(events.iter().map(|e| e.body.clone()));
    }

    fn events(&self, task: TaskId) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|r| r.task == task.0 as i64)
            .map(|r| r.event.clone())
            .collect()
    }

    fn row(&self, task: TaskId) -> TaskRow {
        self.tasks.lock().unwrap()[&(task.0 as i64)].clone()
    }
}

const A1: AgentId = AgentId(1);
const A2: AgentId = AgentId(2);

fn setup() -> RoutingSetup {
    let skills = SkillNames::new(["sales", "support"]);
    let mut sales = QueueSetup::new(QueueId(1), "sales");
    sales.config.skills = vec![SkillRequirement {
        skill: SkillId(1),
        min_level: 1,
    }];
    sales.config.wrap_up = Duration::from_secs(10);
    sales.sla[Channel::Callback.index()] = Some(Duration::from_secs(3600));
    sales.callback = CallbackPolicy {
        abandon_after: Some(Duration::from_secs(30)),
        outside_hours: true,
        retry_interval: Duration::from_secs(300),
        max_attempts: 2,
    };
    let agent = |id: u32, number: &str, skill: u32| AgentSetup {
        number: number.into(),
        profile: AgentProfile::new(AgentId(id), vec![(SkillId(skill), 5)]),
    };
    let mut support = QueueSetup::new(QueueId(2), "support");
    support.announce_every = Some(Duration::from_secs(30));
    support.config.calendar = Calendar::closed(0)
        .with_weekday_hours((9, 0), (17, 0))
        .expect("valid hours");
    support.sla[Channel::Callback.index()] = Some(Duration::from_secs(3600));
    RoutingSetup {
        queues: vec![sales, support],
        agents: vec![agent(1, "1001", 1), agent(2, "1002", 2)],
        skills,
    }
}

/// Starts a shell whose wall clock reads `START_MS` at `base` and follows tokio's clock.
async fn start_at(
    base: tokio::time::Instant,
    store: Arc<dyn RoutingStore>,
) -> (AcdHandle, AcdTask) {
    let clock = Arc::new(PausedClock { base });
    start(setup(), store, clock, AcdOptions::default())
        .await
        .expect("start")
}

fn voice(customer: Option<&str>) -> (NewTask, mpsc::Receiver<TaskNotice>) {
    let (tx, rx) = mpsc::channel(8);
    let mut task = NewTask::new(Channel::Voice, "sales");
    task.customer = customer.map(str::to_string);
    task.sink = Some(tx);
    (task, rx)
}

fn offered(notice: Option<TaskNotice>) -> (TaskId, AgentId) {
    match notice {
        Some(TaskNotice::Offer { task, agent, .. }) => (task, agent),
        other => panic!("expected an offer, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn enqueue_offers_to_a_logged_in_agent_and_logs_the_cycle() {
    let store = Arc::new(MemStore::default());
    let (acd, _task) = start_at(tokio::time::Instant::now(), store.clone()).await;
    acd.agent(A1, FeatureAction::Login).await.unwrap();
    let (task, mut rx) = voice(None);
    let id = acd.enqueue(task).await.unwrap();
    assert_eq!(offered(rx.recv().await), (id, A1));
    tokio::time::advance(Duration::from_secs(3)).await;
    acd.offer_accepted(id, A1).await.unwrap();
    assert_eq!(acd.agent_status(A1).await.unwrap(), AgentStatus::Busy);
    tokio::time::advance(Duration::from_secs(60)).await;
    acd.completed(id).await.unwrap();
    assert_eq!(acd.agent_status(A1).await.unwrap(), AgentStatus::WrapUp);
    // Wrap-up (10 s) ends on the engine's timer.
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(acd.agent_status(A1).await.unwrap(), AgentStatus::Available);
    acd.flush_log().await.unwrap();
    assert_eq!(
        store.events(id),
        ["enqueue", "offer", "answer", "complete", "wrap_up"]
    );
    let log = store.log.lock().unwrap().clone();
    let answer = log.iter().find(|r| r.event == "answer").unwrap();
    assert_eq!(
        (answer.wait_ms, answer.agent.as_deref()),
        (Some(3_000), Some("1001"))
    );
    let complete = log.iter().find(|r| r.event == "complete").unwrap();
    assert_eq!(complete.duration_ms, Some(60_000));
    let wrap = log.iter().find(|r| r.event == "wrap_up").unwrap();
    assert_eq!(wrap.duration_ms, Some(10_000));
    // Voice tasks are live calls: never stored.
    assert!(store.tasks.lock().unwrap().is_empty());
    assert!(
        log.iter()
            .any(|r| r.event == "login" && r.agent.as_deref() == Some("1001"))
    );
}

#[tokio::test(start_paused = true)]
async fn ring_no_answer_puts_the_agent_not_ready_and_reoffers() {
    let store = Arc::new(MemStore::default());
    let (acd, _task) = start_at(tokio::time::Instant::now(), store.clone()).await;
    let mut events = acd.subscribe();
    acd.agent(A1, FeatureAction::Login).await.unwrap();
    let (task, mut rx) = voice(None);
    let id = acd.enqueue(task).await.unwrap();
    let t0 = tokio::time::Instant::now();
    assert_eq!(offered(rx.recv().await), (id, A1));
    // Nobody answers: the 20 s ring-no-answer timer takes it back.
    assert_eq!(
        rx.recv().await,
        Some(TaskNotice::OfferEnded {
            task: id,
            agent: A1
        })
    );
    assert_eq!(t0.elapsed(), Duration::from_secs(20));
    assert_eq!(
        acd.agent_status(A1).await.unwrap(),
        AgentStatus::Break(ReasonCode::RING_NO_ANSWER)
    );
    let mut saw_not_ready = false;
    while let Ok(event) = events.try_recv() {
        saw_not_ready |= matches!(
            event,
            AcdEvent::Decision(Decision::AgentNotReady { agent: A1, .. })
        );
    }
    assert!(saw_not_ready);
    // Ready again (feature code *14): the task, back at the head, is offered again.
    acd.agent(A1, FeatureAction::Ready).await.unwrap();
    assert_eq!(offered(rx.recv().await), (id, A1));
    // The phone reports the ring-out itself this time.
    acd.offer_unanswered(id, A1).await.unwrap();
    acd.flush_log().await.unwrap();
    assert_eq!(
        store.events(id),
        [
            "enqueue",
            "offer",
            "ring_no_answer",
            "offer",
            "ring_no_answer"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn waiting_callers_hear_their_position_periodically() {
    let store = Arc::new(MemStore::default());
    let (acd, _actor) = start_at(tokio::time::Instant::now(), store.clone()).await;
    let t0 = tokio::time::Instant::now();
    let (tx1, mut rx1) = mpsc::channel(8);
    let (tx2, mut rx2) = mpsc::channel(8);
    let mut first = NewTask::new(Channel::Voice, "support");
    first.sink = Some(tx1);
    let first = acd.enqueue(first).await.unwrap();
    tokio::time::advance(Duration::from_secs(10)).await;
    let mut second = NewTask::new(Channel::Voice, "support");
    second.sink = Some(tx2);
    let second = acd.enqueue(second).await.unwrap();
    let ahead = |n: Option<TaskNotice>| match n {
        Some(TaskNotice::Position { ahead, .. }) => ahead,
        other => panic!("expected a position, got {other:?}"),
    };
    // Each hears its position at once on entering the queue, then every 30 s.
    assert_eq!(ahead(rx1.recv().await), 0);
    assert_eq!(ahead(rx2.recv().await), 1);
    assert_eq!(t0.elapsed(), Duration::from_secs(10));
    assert_eq!(ahead(rx1.recv().await), 0);
    assert_eq!(t0.elapsed(), Duration::from_secs(30));
    assert_eq!(ahead(rx2.recv().await), 1);
    assert_eq!(t0.elapsed(), Duration::from_secs(40));
    // The first caller is answered: the second moves up and the first hears nothing more.
    acd.agent(A2, FeatureAction::Login).await.unwrap();
    assert_eq!(offered(rx1.recv().await), (first, A2));
    acd.offer_accepted(first, A2).await.unwrap();
    match rx2.recv().await {
        Some(TaskNotice::Position {
            task,
            ahead,
            waited,
            ..
        }) => {
            assert_eq!((task, ahead), (second, 0));
            assert_eq!(waited, Duration::from_secs(60));
        }
        other => panic!("expected a position, got {other:?}"),
    }
    assert!(rx1.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn a_call_sets_its_own_period_and_hears_the_estimated_wait() {
    let store = Arc::new(MemStore::default());
    let (acd, _actor) = start_at(tokio::time::Instant::now(), store.clone()).await;
    acd.agent(A1, FeatureAction::Login).await.unwrap();
    // One sales call handled in 120 s: the queue's average handling time.
    let (first, mut rx1) = voice(None);
    let first = acd.enqueue(first).await.unwrap();
    assert_eq!(offered(rx1.recv().await), (first, A1));
    acd.offer_accepted(first, A1).await.unwrap();
    tokio::time::advance(Duration::from_secs(120)).await;
    acd.completed(first).await.unwrap();
    // A1 wraps up for 10 s; the next caller asked for a position every 4 s.
    let (mut second, mut rx2) = voice(None);
    second.announce_every = Some(Duration::from_secs(4));
    let t0 = tokio::time::Instant::now();
    let second = acd.enqueue(second).await.unwrap();
    match rx2.recv().await {
        Some(TaskNotice::Position {
            task,
            ahead,
            estimated_wait,
            ..
        }) => {
            assert_eq!((task, ahead), (second, 0));
            assert_eq!(estimated_wait, Some(Duration::from_secs(120)));
        }
        other => panic!("expected a position, got {other:?}"),
    }
    assert_eq!(
        t0.elapsed(),
        Duration::ZERO,
        "the first position comes at once"
    );
    for _ in 0..2 {
        assert!(matches!(
            rx2.recv().await,
            Some(TaskNotice::Position { .. })
        ));
    }
    assert_eq!(offered(rx2.recv().await), (second, A1));
    assert_eq!(t0.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_call_whose_owner_is_gone_is_abandoned_not_offered_forever() {
    let store = Arc::new(MemStore::default());
    let (acd, _actor) = start_at(tokio::time::Instant::now(), store.clone()).await;
    let (task, rx) = voice(None);
    let id = acd.enqueue(task).await.unwrap();
    drop(rx);
    acd.agent(A1, FeatureAction::Login).await.unwrap();
    assert!(acd.task_status(id).await.unwrap().is_none());
    assert_eq!(acd.agent_status(A1).await.unwrap(), AgentStatus::Available);
    // Unknown names and agents are refused before anything is stored.
    assert!(matches!(
        acd.enqueue(NewTask::new(Channel::Email, "nope")).await,
        Err(AcdError::UnknownQueue(_))
    ));
    assert!(matches!(
        acd.agent(AgentId(99), FeatureAction::Login).await,
        Err(AcdError::UnknownAgent(_))
    ));
    assert!(matches!(
        acd.enqueue(NewTask::new(Channel::Callback, "sales")).await,
        Err(AcdError::Invalid(_))
    ));
    assert!(store.tasks.lock().unwrap().is_empty());
    let _ = A2;
}

mod agents;
mod callbacks;
mod durability;
mod journal;
