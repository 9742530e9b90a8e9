//! The engine's timers: per-task slots in the shared timer table, and what each one does when
//! it fires.
//!
//! Part of `Engine`. The table is a `BTreeSet<(Instant, TimeoutReason)>`, so the earliest
//! deadline is `poll_timeout` and equal deadlines fire in a fixed order.

use std::time::Instant;

use super::Engine;
use crate::routing::decision::{Decision, TimeoutReason};
use crate::routing::ids::TaskId;
use crate::routing::index::{TaskState, TaskTimers};

/// The per-task timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    RingNoAnswer,
    Bullseye,
    Overflow,
    Sticky,
    SlaBoost,
    SlaBreach,
}

impl Slot {
    const ALL: [Slot; 6] = [
        Slot::RingNoAnswer,
        Slot::Bullseye,
        Slot::Overflow,
        Slot::Sticky,
        Slot::SlaBoost,
        Slot::SlaBreach,
    ];

    pub(super) fn field(self, timers: &mut TaskTimers) -> &mut Option<Instant> {
        match self {
            Slot::RingNoAnswer => &mut timers.ring_no_answer,
            Slot::Bullseye => &mut timers.bullseye,
            Slot::Overflow => &mut timers.overflow,
            Slot::Sticky => &mut timers.sticky,
            Slot::SlaBoost => &mut timers.sla_boost,
            Slot::SlaBreach => &mut timers.sla_breach,
        }
    }

    pub(super) fn reason(self, task: TaskId) -> TimeoutReason {
        match self {
            Slot::RingNoAnswer => TimeoutReason::RingNoAnswer(task),
            Slot::Bullseye => TimeoutReason::Bullseye(task),
            Slot::Overflow => TimeoutReason::Overflow(task),
            Slot::Sticky => TimeoutReason::StickyExpired(task),
            Slot::SlaBoost => TimeoutReason::SlaBoost(task),
            Slot::SlaBreach => TimeoutReason::SlaBreach(task),
        }
    }
}

impl Engine {
    pub(super) fn arm(&mut self, task: TaskId, slot: Slot, at: Instant) {
        self.disarm(task, slot);
        if let Some(rec) = self.tasks.get_mut(&task) {
            *slot.field(&mut rec.timers) = Some(at);
            self.timers.insert((at, slot.reason(task)));
        }
    }

    pub(super) fn disarm(&mut self, task: TaskId, slot: Slot) {
        if let Some(rec) = self.tasks.get_mut(&task)
            && let Some(at) = slot.field(&mut rec.timers).take()
        {
            self.timers.remove(&(at, slot.reason(task)));
        }
    }

    pub(super) fn disarm_all(&mut self, task: TaskId) {
        for slot in Slot::ALL {
            self.disarm(task, slot);
        }
    }

    pub(super) fn fire(&mut self, now: Instant, reason: TimeoutReason) {
        match reason {
            TimeoutReason::WrapUpEnd(agent) => self.end_wrap_up(now, agent),
            TimeoutReason::RingNoAnswer(task) => self.fire_task(now, task, Slot::RingNoAnswer),
            TimeoutReason::Bullseye(task) => self.fire_task(now, task, Slot::Bullseye),
            TimeoutReason::Overflow(task) => self.fire_task(now, task, Slot::Overflow),
            TimeoutReason::StickyExpired(task) => self.fire_task(now, task, Slot::Sticky),
            TimeoutReason::SlaBoost(task) => self.fire_task(now, task, Slot::SlaBoost),
            TimeoutReason::SlaBreach(task) => self.fire_task(now, task, Slot::SlaBreach),
        }
    }

    pub(super) fn fire_task(&mut self, now: Instant, task: TaskId, slot: Slot) {
        let Some(rec) = self.tasks.get_mut(&task) else {
            return;
        };
        slot.field(&mut rec.timers).take();
        let state = rec.state;
        let waiting = matches!(state, TaskState::Waiting | TaskState::Reserved(_));
        match slot {
            Slot::RingNoAnswer => {
                if let TaskState::Offered(agent) = state {
                    self.decisions
                        .push_back(Decision::OfferTimedOut { task, agent });
                    self.ring_no_answer(now, task, agent);
                }
            }
            Slot::SlaBreach => {
                let queue = rec.task.queue;
                if let Some(q) = self.queues.get_mut(&queue) {
                    q.stats.sla_breaches += 1;
                }
                self.decisions.push_back(Decision::SlaBreached { task });
            }
            Slot::SlaBoost => {
                let boost = self
                    .queues
                    .get(&rec.task.queue)
                    .and_then(|q| q.config.sla_boost);
                let points = boost.map_or(0, |b| b.priority);
                self.unindex(task);
                if let Some(rec) = self.tasks.get_mut(&task) {
                    rec.priority = rec.priority.saturating_add(points);
                }
                if waiting {
                    self.place(now, task);
                } else if let Some(rec) = self.tasks.get_mut(&task) {
                    rec.state = state;
                }
            }
            Slot::Bullseye | Slot::Sticky if waiting => {
                self.unindex(task);
                self.requeue(now, task);
            }
            Slot::Overflow if waiting => {
                self.unindex(task);
                self.overflow(now, task);
                self.place(now, task);
            }
            Slot::Bullseye | Slot::Sticky | Slot::Overflow => {}
        }
    }
}
