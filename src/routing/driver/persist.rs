//! Tasks as the shell keeps them (`TaskMeta`), their stored form (`TaskRow`), id allocation,
//! admission (validate, compute the deadline, store before acknowledging) and the mapping of
//! stored wall-clock times to `Instant`s at start-up.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::backend::RoutingStore;
use super::journal::{self, Change, RowWrite};
use super::{AcdError, AcdEvent, AcdHooks, NewTask, OfferSink, TaskView, WallClock};
use crate::routing::decision::TaskStatus;
use crate::routing::ids::{AgentId, CustomerId, QueueId, SkillId, TaskId};
use crate::routing::setup::{RoutingSetup, channel_from_name, channel_name};
use crate::routing::task::{Channel, SkillRequirement, Task};
use crate::store::TaskRow;

/// Read-only state shared by the handle and the actor.
pub(crate) struct Shared {
    pub setup: RoutingSetup,
    pub store: Arc<dyn RoutingStore>,
    pub clock: Arc<dyn WallClock>,
    pub hooks: AcdHooks,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

/// One task the shell knows: in the engine, or waiting in the callback scheduler.
#[derive(Debug, Clone)]
pub(crate) struct TaskMeta {
    pub id: TaskId,
    pub channel: Channel,
    pub queue: QueueId,
    pub customer: Option<String>,
    pub preferred_agent: Option<AgentId>,
    pub priority: u32,
    pub skills: BTreeMap<String, u8>,
    pub attributes: BTreeMap<String, String>,
    /// Wall-clock arrival, unix ms (kept across restarts, retries and keep-place).
    pub arrived_ms: i64,
    /// Wall-clock SLA deadline, unix ms.
    pub deadline_ms: Option<i64>,
    /// Callback attempts made.
    pub attempts: u32,
    pub sink: Option<OfferSink>,
    /// Position announcements for the sink, overriding the queue's period.
    pub announce_every: Option<Duration>,
    /// Set by the actor: arrival on the monotonic clock.
    pub arrived: Option<Instant>,
    /// Set by the actor while accepted: by whom and since when.
    pub answered: Option<(AgentId, Instant)>,
}

impl TaskMeta {
    /// Whether this task is stored (everything but live calls).
    pub fn durable(&self) -> bool {
        self.channel != Channel::Voice
    }
}

pub(crate) fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The `Instant` of wall-clock `at_ms`, given `now` and `wall_ms` read together.
pub(crate) fn to_instant(now: Instant, wall_ms: i64, at_ms: i64) -> Instant {
    let delta = Duration::from_millis(at_ms.abs_diff(wall_ms));
    if at_ms >= wall_ms {
        now + delta
    } else {
        now.checked_sub(delta).unwrap_or(now)
    }
}

/// A stable 64-bit key of a customer string (FNV-1a), for the engine's sticky history.
pub(crate) fn customer_id(customer: &str) -> CustomerId {
    let hash = customer.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    CustomerId(hash)
}

impl Shared {
    /// Ids are above every stored id and above `wall_ms << 16`, so that they grow across
    /// restarts. TODO(multi-node): add a node id to the low bits.
    pub fn new(
        setup: RoutingSetup,
        store: Arc<dyn RoutingStore>,
        clock: Arc<dyn WallClock>,
        hooks: AcdHooks,
        max_stored: i64,
    ) -> Shared {
        let from_clock = (unix_ms(clock.now()).max(0) as u64) << 16;
        let next = from_clock.max(max_stored.max(0) as u64 + 1);
        Shared {
            setup,
            store,
            clock,
            hooks,
            next_id: AtomicU64::new(next),
        }
    }

    pub fn next_id(&self) -> TaskId {
        TaskId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Checks a new task, stamps its arrival and deadline, and stores it if durable, with its
    /// `task.queued` event (a new task: no earlier change of it can be in the journal).
    pub async fn admit(&self, task: NewTask) -> Result<TaskMeta, AcdError> {
        let queue = self
            .setup
            .queue(&task.queue)
            .ok_or_else(|| AcdError::UnknownQueue(task.queue.clone()))?;
        if let Some(name) = task
            .skills
            .keys()
            .find(|s| self.setup.skills.id(s).is_none())
        {
            return Err(AcdError::UnknownSkill(name.clone()));
        }
        if task.channel == Channel::Callback && task.customer.is_none() {
            return Err(AcdError::Invalid(
                "a callback needs a customer number".into(),
            ));
        }
        let wall = self.clock.now();
        let meta = TaskMeta {
            id: self.next_id(),
            channel: task.channel,
            queue: queue.config.id,
            customer: task.customer,
            preferred_agent: task.preferred_agent,
            priority: task.priority,
            skills: task.skills,
            attributes: task.attributes,
            arrived_ms: unix_ms(wall),
            deadline_ms: queue.deadline(task.channel, wall).map(unix_ms),
            attempts: 0,
            sink: task.sink,
            announce_every: task.announce_every,
            arrived: None,
            answered: None,
        };
        if meta.durable() {
            let row = self.row(&meta, "waiting", None);
            let change = Change {
                event: AcdEvent::Queued {
                    task: meta.id,
                    queue: meta.queue,
                    channel: meta.channel,
                },
                task: Some(self.view(&meta, None)),
                agent: None,
                at_ms: meta.arrived_ms,
                ready: None,
            };
            let events = match &self.hooks.events {
                Some(hook) => journal::events_of(&**hook, &change).await,
                None => Vec::new(),
            };
            journal::write_row(&*self.store, &row, RowWrite::Insert, &events).await?;
            if let Some(hook) = &self.hooks.events {
                hook.committed(&[change], events);
            }
        }
        Ok(meta)
    }

    /// What the API and the events see of `meta`, in the offer cycle at `status`.
    pub fn view(&self, meta: &TaskMeta, status: Option<TaskStatus>) -> TaskView {
        TaskView {
            id: meta.id,
            channel: meta.channel,
            queue: self.queue_name(meta.queue).to_string(),
            customer: meta.customer.clone(),
            priority: meta.priority,
            attributes: meta.attributes.clone(),
            arrived_ms: meta.arrived_ms,
            deadline_ms: meta.deadline_ms,
            attempts: meta.attempts,
            status,
        }
    }

    /// The stored form of `meta`.
    pub fn row(&self, meta: &TaskMeta, state: &str, next_attempt_ms: Option<i64>) -> TaskRow {
        TaskRow {
            id: meta.id.0 as i64,
            channel: channel_name(meta.channel).to_string(),
            queue: self.queue_name(meta.queue).to_string(),
            customer: meta.customer.clone(),
            priority: i64::from(meta.priority),
            skills: serde_json::to_string(&meta.skills).unwrap_or_else(|_| "{}".into()),
            attributes: serde_json::to_string(&meta.attributes).unwrap_or_else(|_| "{}".into()),
            arrived_at_ms: meta.arrived_ms,
            deadline_ms: meta.deadline_ms,
            state: state.to_string(),
            attempts: i64::from(meta.attempts),
            next_attempt_at_ms: next_attempt_ms,
            updated_at_ms: unix_ms(self.clock.now()),
        }
    }

    /// A stored task back as `TaskMeta`; `None` (logged) when its queue or channel is gone.
    pub fn meta_of_row(&self, row: &TaskRow) -> Option<TaskMeta> {
        let Some(queue) = self.setup.queue(&row.queue) else {
            tracing::warn!(task = row.id, queue = %row.queue, "stored task's queue is gone; left in the store");
            return None;
        };
        let channel = channel_from_name(&row.channel)?;
        let skills: BTreeMap<String, u8> = serde_json::from_str(&row.skills).unwrap_or_default();
        Some(TaskMeta {
            id: TaskId(row.id as u64),
            channel,
            queue: queue.config.id,
            customer: row.customer.clone(),
            preferred_agent: None,
            priority: u32::try_from(row.priority).unwrap_or(0),
            skills,
            attributes: serde_json::from_str(&row.attributes).unwrap_or_default(),
            arrived_ms: row.arrived_at_ms,
            deadline_ms: row.deadline_ms,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            sink: None,
            announce_every: None,
            arrived: None,
            answered: None,
        })
    }

    pub fn queue_name(&self, id: QueueId) -> &str {
        self.setup.queue_by_id(id).map_or("", |q| q.name.as_str())
    }

    pub fn agent_number(&self, id: AgentId) -> String {
        self.setup
            .agent_by_id(id)
            .map_or_else(|| id.to_string(), |a| a.number.clone())
    }

    /// The engine's view of `meta`, with its deadline mapped through (`now`, `wall_ms`).
    pub fn engine_task(&self, meta: &TaskMeta, now: Instant, wall_ms: i64) -> Task {
        let mut skills: Vec<SkillRequirement> = meta
            .skills
            .iter()
            .filter_map(|(name, &level)| {
                let skill: SkillId = self.setup.skills.id(name)?;
                Some(SkillRequirement {
                    skill,
                    min_level: level.max(1),
                })
            })
            .collect();
        skills.sort_unstable();
        let mut task = Task::new(meta.id, meta.channel, meta.queue);
        task.customer = meta.customer.as_deref().map(customer_id);
        task.preferred_agent = meta.preferred_agent;
        task.skills = skills;
        task.priority = meta.priority;
        task.sla_deadline = meta.deadline_ms.map(|d| to_instant(now, wall_ms, d));
        task.attributes = meta.attributes.clone();
        task
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_times_map_both_ways() {
        let now = Instant::now();
        assert_eq!(
            to_instant(now, 10_000, 12_500),
            now + Duration::from_millis(2_500)
        );
        let past = to_instant(now, 10_000, 4_000);
        assert_eq!(now - past, Duration::from_secs(6));
    }

    #[test]
    fn customer_ids_are_stable() {
        assert_eq!(customer_id("+48123"), customer_id("+48123"));
        assert_ne!(customer_id("+48123"), customer_id("+48124"));
    }
}
