//! Callback dialling policy: when a callback is created, when the next attempt is due, and
//! when to give up.
//!
//! Owns: `CallbackPolicy` (per queue), `AttemptOutcome`, `Verdict`, and `CallbackScheduler`,
//! the set of callbacks waiting for their next attempt (not in the engine meanwhile).
//! Must not touch: clocks, I/O, the engine. Same inputs, same outputs: ties between due
//! callbacks break by due time, then task id.
//! Driven by: `routing::driver`, which re-queues a callback in the engine when
//! `poll_due` returns it and reports each attempt's outcome (as the call layer tells it)
//! through `record_attempt`.
//!
//! A callback is agent-first: the engine offers it to an agent like any task, the call layer
//! rings the agent and then dials the customer through the trunk. The customer's side decides
//! the attempt's outcome; only a customer who never answered counts against `max_attempts`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::routing::ids::TaskId;

/// When callbacks are created and how they are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackPolicy {
    /// A caller who hangs up after waiting longer than this gets a callback (`None`: never).
    pub abandon_after: Option<Duration>,
    /// A call that arrives while the queue is closed becomes a callback.
    pub outside_hours: bool,
    /// Wait between a failed attempt and the next one.
    pub retry_interval: Duration,
    /// Attempts (dials of the customer) before giving up; at least 1.
    pub max_attempts: u32,
}

impl Default for CallbackPolicy {
    /// Callback after 60 s of waiting, or outside hours; 3 attempts, 10 minutes apart.
    fn default() -> Self {
        CallbackPolicy {
            abandon_after: Some(Duration::from_secs(60)),
            outside_hours: true,
            retry_interval: Duration::from_secs(600),
            max_attempts: 3,
        }
    }
}

impl CallbackPolicy {
    /// Whether a caller who abandoned after `waited` gets a callback.
    pub fn on_abandon(&self, waited: Duration) -> bool {
        self.abandon_after.is_some_and(|limit| waited > limit)
    }
}

/// How one attempt to reach the customer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// The customer answered and talked to the agent; the callback is done once completed.
    Answered,
    /// The customer's phone rang out.
    NoAnswer,
    /// The customer was busy.
    Busy,
    /// The trunk or the number failed.
    Failed,
}

impl AttemptOutcome {
    /// The outcome's name in the store and the queue log.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Answered => "answered",
            AttemptOutcome::NoAnswer => "no_answer",
            AttemptOutcome::Busy => "busy",
            AttemptOutcome::Failed => "failed",
        }
    }
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Reached: no more attempts.
    Reached,
    /// Try again at this time (the callback waits in the scheduler until then).
    RetryAt(Instant),
    /// `max_attempts` used up without reaching the customer.
    GaveUp,
}

impl std::fmt::Display for Verdict {
    /// For logs: `reached`, `retry scheduled` or `gave up` (no clock values).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Reached => "reached",
            Verdict::RetryAt(_) => "retry scheduled",
            Verdict::GaveUp => "gave up",
        })
    }
}

/// Callbacks waiting for their next attempt. See the module docs.
#[derive(Debug, Default)]
pub struct CallbackScheduler {
    due: BTreeSet<(Instant, TaskId)>,
    at: BTreeMap<TaskId, Instant>,
}

impl CallbackScheduler {
    /// An empty scheduler.
    pub fn new() -> CallbackScheduler {
        CallbackScheduler::default()
    }

    /// The outcome of attempt number `attempts` (1 for the first) of `task` under `policy`;
    /// on `RetryAt` the task is scheduled (it must be out of the engine until `poll_due`).
    pub fn record_attempt(
        &mut self,
        now: Instant,
        task: TaskId,
        attempts: u32,
        outcome: AttemptOutcome,
        policy: &CallbackPolicy,
    ) -> Verdict {
        if outcome == AttemptOutcome::Answered {
            return Verdict::Reached;
        }
        if attempts >= policy.max_attempts.max(1) {
            return Verdict::GaveUp;
        }
        let at = now + policy.retry_interval;
        self.schedule(task, at);
        Verdict::RetryAt(at)
    }

    /// Waits `task` until `at` (replacing an earlier schedule), e.g. when restored from the
    /// store.
    pub fn schedule(&mut self, task: TaskId, at: Instant) {
        self.cancel(task);
        self.due.insert((at, task));
        self.at.insert(task, at);
    }

    /// Forgets `task` (cancelled); true if it was waiting.
    pub fn cancel(&mut self, task: TaskId) -> bool {
        match self.at.remove(&task) {
            Some(at) => self.due.remove(&(at, task)),
            None => false,
        }
    }

    /// Whether `task` waits here.
    pub fn contains(&self, task: TaskId) -> bool {
        self.at.contains_key(&task)
    }

    /// The next callback whose attempt is due at `now` ("who to dial now"), earliest first.
    pub fn poll_due(&mut self, now: Instant) -> Option<TaskId> {
        let &(at, task) = self.due.first()?;
        if at > now {
            return None;
        }
        self.due.pop_first();
        self.at.remove(&task);
        Some(task)
    }

    /// When `poll_due` will next return something.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.due.first().map(|&(at, _)| at)
    }

    /// Callbacks waiting.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// Whether none wait.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CallbackPolicy {
        CallbackPolicy {
            abandon_after: Some(Duration::from_secs(30)),
            outside_hours: true,
            retry_interval: Duration::from_secs(300),
            max_attempts: 3,
        }
    }

    #[test]
    fn abandon_threshold_is_strict() {
        let p = policy();
        assert!(!p.on_abandon(Duration::from_secs(30)));
        assert!(p.on_abandon(Duration::from_secs(31)));
        let never = CallbackPolicy {
            abandon_after: None,
            ..p
        };
        assert!(!never.on_abandon(Duration::from_secs(3600)));
    }

    #[test]
    fn retries_until_max_attempts_then_gives_up() {
        let (p, t0) = (policy(), Instant::now());
        let mut s = CallbackScheduler::new();
        let task = TaskId(9);
        let v = s.record_attempt(t0, task, 1, AttemptOutcome::NoAnswer, &p);
        let due = t0 + Duration::from_secs(300);
        assert_eq!(v, Verdict::RetryAt(due));
        assert_eq!(s.poll_timeout(), Some(due));
        assert_eq!(s.poll_due(due - Duration::from_millis(1)), None);
        assert_eq!(s.poll_due(due), Some(task));
        assert!(s.is_empty());
        let v = s.record_attempt(due, task, 2, AttemptOutcome::Busy, &p);
        assert!(matches!(v, Verdict::RetryAt(_)));
        s.poll_due(due + Duration::from_secs(300));
        let v = s.record_attempt(due, task, 3, AttemptOutcome::Failed, &p);
        assert_eq!(v, Verdict::GaveUp);
        assert!(s.is_empty());
    }

    #[test]
    fn answered_ends_and_due_order_is_time_then_id() {
        let (p, t0) = (policy(), Instant::now());
        let mut s = CallbackScheduler::new();
        assert_eq!(
            s.record_attempt(t0, TaskId(1), 1, AttemptOutcome::Answered, &p),
            Verdict::Reached
        );
        s.schedule(TaskId(5), t0);
        s.schedule(TaskId(3), t0);
        s.schedule(TaskId(4), t0 + Duration::from_secs(1));
        s.schedule(TaskId(2), t0 + Duration::from_secs(2));
        assert!(s.cancel(TaskId(2)));
        assert!(!s.cancel(TaskId(2)));
        let later = t0 + Duration::from_secs(10);
        let order: Vec<_> = std::iter::from_fn(|| s.poll_due(later)).collect();
        assert_eq!(order, [TaskId(3), TaskId(5), TaskId(4)]);
    }
}
