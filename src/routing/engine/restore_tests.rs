//! `handle_task_restored`: a task keeps its place and its wait across a restart or a change
//! of channel (keep-place), while bullseye and overflow clocks start on re-entry.

use std::time::{Duration, Instant};

use super::*;
use crate::routing::agent::AgentProfile;
use crate::routing::queue::Overflow;
use crate::routing::task::Channel;

#[test]
fn restored_tasks_rank_and_wait_from_their_original_arrival() {
    let t0 = Instant::now();
    let mut b = QueueConfig::new(QueueId(1));
    b.overflow = Some(Overflow {
        after: Duration::from_secs(60),
        to: QueueId(2),
    });
    let queues = vec![b, QueueConfig::new(QueueId(2))];
    // The driver creates the engine at the earliest restored arrival.
    let mut engine = Engine::new(t0, queues).unwrap();
    let now = t0 + Duration::from_secs(600);
    engine
        .handle_task_queued(now, Task::new(TaskId(1), Channel::Callback, QueueId(1)))
        .unwrap();
    engine
        .handle_task_restored(
            now,
            Task::new(TaskId(2), Channel::Callback, QueueId(1)),
            t0 + Duration::from_secs(100),
        )
        .unwrap();
    // A task "arriving" in the future is clamped to now.
    engine
        .handle_task_restored(
            now,
            Task::new(TaskId(3), Channel::Callback, QueueId(1)),
            now + Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(
        engine.waiting_tasks(QueueId(1)),
        [TaskId(2), TaskId(1), TaskId(3)]
    );
    // Overflow counts from re-entry, not from the original arrival.
    assert_eq!(engine.poll_timeout(), Some(now + Duration::from_secs(60)));
    // The wait reported on abandon counts from the original arrival.
    let waited = engine.handle_task_cancelled(now, TaskId(2)).unwrap();
    assert_eq!(waited, Duration::from_secs(500));
    engine.handle_agent_logged_in(now, AgentProfile::new(AgentId(1), vec![]));
    while let Some(d) = engine.poll_decision() {
        if let Decision::Offer { task, .. } = d {
            assert_eq!(task, TaskId(1));
            return;
        }
    }
    panic!("no offer");
}
