//! Queue configuration: validation at start-up and hot reload.
//!
//! Part of `Engine`. A reload re-ranks and re-places every waiting task under the new rules;
//! offered and accepted tasks keep going under the old ones until they come back.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{Engine, QueueEntry};
use crate::routing::RoutingError;
use crate::routing::ids::{QueueId, TaskId};
use crate::routing::index::TaskState;
use crate::routing::queue::{QueueConfig, QueueStats};

impl Engine {
    /// New queue configuration. Waiting tasks are re-ranked and re-evaluated under it. Fails,
    /// changing nothing, if a queue holding tasks disappears or an overflow target is missing.
    pub fn handle_config_reloaded(
        &mut self,
        now: Instant,
        queues: Vec<QueueConfig>,
    ) -> Result<(), RoutingError> {
        let mut new = self.validate(queues)?;
        let mut in_use: Vec<QueueId> = self.tasks.values().map(|t| t.task.queue).collect();
        in_use.sort_unstable();
        if let Some(&gone) = in_use.iter().find(|q| !new.contains_key(q)) {
            return Err(RoutingError::QueueInUse(gone));
        }
        let mut waiting: Vec<(u8, u64, TaskId)> = self
            .tasks
            .values()
            .filter(|t| matches!(t.state, TaskState::Waiting | TaskState::Reserved(_)))
            .map(|t| (u8::from(!t.head), t.arrival_ms, t.task.id))
            .collect();
        waiting.sort_unstable();
        for &(_, _, id) in &waiting {
            self.unindex(id);
        }
        for (id, entry) in &mut new {
            if let Some(old) = self.queues.get(id) {
                entry.stats = old.stats;
            }
        }
        self.queues = new;
        for (_, _, id) in waiting {
            self.requeue(now, id);
        }
        Ok(())
    }

    pub(super) fn validate(
        &self,
        queues: Vec<QueueConfig>,
    ) -> Result<BTreeMap<QueueId, QueueEntry>, RoutingError> {
        let mut map = BTreeMap::new();
        for mut config in queues {
            config.bullseye.sort_by_key(|s| s.after);
            let aging_ms = config.aging.map(|a| (a.as_millis() as u64).max(1));
            map.insert(
                config.id,
                QueueEntry {
                    config,
                    stats: QueueStats::default(),
                    aging_ms,
                },
            );
        }
        for entry in map.values() {
            if let Some(overflow) = entry.config.overflow
                && !map.contains_key(&overflow.to)
            {
                return Err(RoutingError::UnknownQueue(overflow.to));
            }
        }
        Ok(map)
    }
}
