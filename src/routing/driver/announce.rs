//! Position announcements: every `announce_every` a waiting task's owner is told its place in
//! the queue and the estimated wait (`TaskNotice::Position`), for "you are number 3 in the
//! queue" prompts.
//!
//! Owns: the announcement schedule (earliest first, ties by task id) and the queues' average
//! handling times behind the estimated wait.
//! Must not touch: the engine; the actor asks it for due tasks and checks their status.
//! Driven by: `actor.rs` (`tick`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::routing::ids::{QueueId, TaskId};

#[derive(Debug, Default)]
pub(super) struct Announcer {
    due: BTreeSet<(Instant, TaskId)>,
    next: BTreeMap<TaskId, (Instant, Duration)>,
    /// Completed tasks and their total handling time, per queue (since start).
    handled: BTreeMap<QueueId, (u32, Duration)>,
}

impl Announcer {
    /// A task of `queue` was handled in `took` (accept to completion).
    pub fn handled(&mut self, queue: QueueId, took: Duration) {
        let entry = self.handled.entry(queue).or_default();
        entry.0 = entry.0.saturating_add(1);
        entry.1 = entry.1.saturating_add(took);
    }

    /// The expected wait of a task with `ahead` tasks before it in `queue`, served by
    /// `staffed` agents: the average handling time times the tasks up to this one, shared
    /// among the agents. `None` before any completion or without agents.
    pub fn estimated_wait(&self, queue: QueueId, ahead: usize, staffed: usize) -> Option<Duration> {
        let &(count, total) = self.handled.get(&queue)?;
        if count == 0 || staffed == 0 {
            return None;
        }
        let average = total / count;
        let rounds = u32::try_from(ahead.saturating_add(1).div_ceil(staffed)).unwrap_or(u32::MAX);
        Some(average.saturating_mul(rounds))
    }

    /// Announces `task` now (right after it entered the queue, with the keep-place offer),
    /// then every `every`.
    pub fn start(&mut self, now: Instant, task: TaskId, every: Duration) {
        self.stop(task);
        let at = now;
        self.due.insert((at, task));
        self.next.insert(task, (at, every));
    }

    /// Stops announcing `task`.
    pub fn stop(&mut self, task: TaskId) {
        if let Some((at, _)) = self.next.remove(&task) {
            self.due.remove(&(at, task));
        }
    }

    /// A task due at `now`; it is rescheduled one period later.
    pub fn poll_due(&mut self, now: Instant) -> Option<TaskId> {
        let &(at, task) = self.due.first()?;
        if at > now {
            return None;
        }
        self.due.pop_first();
        let every = self
            .next
            .get(&task)
            .map_or(Duration::from_secs(60), |n| n.1);
        let again = at + every.max(Duration::from_secs(1));
        self.due.insert((again, task));
        self.next.insert(task, (again, every));
        Some(task)
    }

    /// When `poll_due` next returns something.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.due.first().map(|&(at, _)| at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announces_at_once_then_periodically_until_stopped() {
        let t0 = Instant::now();
        let mut a = Announcer::default();
        a.start(t0, TaskId(1), Duration::from_secs(30));
        a.start(t0, TaskId(2), Duration::from_secs(45));
        assert_eq!(a.poll_due(t0), Some(TaskId(1)));
        assert_eq!(a.poll_due(t0), Some(TaskId(2)));
        assert_eq!(a.poll_due(t0), None);
        assert_eq!(a.poll_due(t0 + Duration::from_secs(29)), None);
        let at30 = t0 + Duration::from_secs(30);
        assert_eq!(a.poll_due(at30), Some(TaskId(1)));
        assert_eq!(a.poll_due(at30), None);
        assert_eq!(a.poll_timeout(), Some(t0 + Duration::from_secs(45)));
        a.stop(TaskId(2));
        assert_eq!(a.poll_timeout(), Some(t0 + Duration::from_secs(60)));
        a.stop(TaskId(1));
        assert_eq!(a.poll_timeout(), None);
    }

    #[test]
    fn estimated_wait_shares_the_average_handling_time_among_agents() {
        let mut a = Announcer::default();
        let q = QueueId(1);
        assert_eq!(a.estimated_wait(q, 0, 1), None);
        a.handled(q, Duration::from_secs(100));
        a.handled(q, Duration::from_secs(200));
        assert_eq!(a.estimated_wait(q, 0, 1), Some(Duration::from_secs(150)));
        assert_eq!(a.estimated_wait(q, 2, 1), Some(Duration::from_secs(450)));
        // Three ahead plus this one among two agents: two rounds.
        assert_eq!(a.estimated_wait(q, 3, 2), Some(Duration::from_secs(300)));
        assert_eq!(a.estimated_wait(q, 3, 0), None);
        assert_eq!(a.estimated_wait(QueueId(2), 0, 1), None);
    }
}
