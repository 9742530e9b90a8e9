//! Position announcements: every `announce_every` a waiting task's owner is told its place in
//! the queue (`TaskNotice::Position`), for "you are number 3 in the queue" prompts.
//!
//! Owns: the announcement schedule (earliest first, ties by task id).
//! Must not touch: the engine; the actor asks it for due tasks and checks their status.
//! Driven by: `actor.rs` (`tick`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::routing::ids::TaskId;

#[derive(Debug, Default)]
pub(super) struct Announcer {
    due: BTreeSet<(Instant, TaskId)>,
    next: BTreeMap<TaskId, (Instant, Duration)>,
}

impl Announcer {
    /// Announces `task` every `every`, first at `now + every`.
    pub fn start(&mut self, now: Instant, task: TaskId, every: Duration) {
        self.stop(task);
        let at = now + every.max(Duration::from_secs(1));
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
    fn announces_periodically_until_stopped() {
        let t0 = Instant::now();
        let mut a = Announcer::default();
        a.start(t0, TaskId(1), Duration::from_secs(30));
        a.start(t0, TaskId(2), Duration::from_secs(45));
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
}
