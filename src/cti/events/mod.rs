//! Producing events: the ACD's changes, finished calls and recordings become `webhook::Event`s
//! in the outbox (for webhooks) and on the live stream (for WebSockets); offers to agents also
//! produce a screen pop.
//!
//! Owns: `Publisher` (outbox write, worker wake-up, live broadcast), `StoreHooks` (the
//! `store::StoreEvents` that add `call.ended` / `recording.ready` to CDR and recording
//! writes), `acd_bridge` (ACD events -> task/agent/call events) and `screen_pop`.
//! Must not touch: SQL (through `store::Store` methods), routing internals (it reads the
//! ACD's public broadcast and `AcdHandle::tasks`), HTTP.
//! Driven by: `server`, which builds the `Publisher`, installs its hooks in the store and
//! spawns the bridge.
//!
//! # Durability: where each event is written
//!
//! - `call.ended` and `recording.ready`: in the same transaction as the CDR / the recording's
//!   completed index row (`StoreHooks`), so the event exists exactly when its row does.
//! - ACD events (`task.*`, `agent.state_changed`, `callback.attempted`, and `call.ringing` /
//!   `call.answered` for voice tasks, which are the agent's phone ringing and the agent
//!   answering): written by the bridge as soon as the ACD broadcasts the change, in one
//!   transaction per event. This is the earliest durable point, not the change's own
//!   transaction: voice tasks and agent states are not stored at all (the outbox row is their
//!   first durable trace), and the ACD stores callbacks through `RoutingStore`, which knows
//!   nothing of events. A crash in the milliseconds between the ACD's change and the outbox
//!   commit loses that event. TODO: pass the events of durable tasks into
//!   `RoutingStore::update_task` so they commit with the task row.
//! - Once in the outbox, nothing is lost: the delivery worker retries until a 2xx.
//!
//! The bridge is one task reading the broadcast in order, so events of one task (and one
//! call) are written, and delivered per subscription, in the order they happened. If it
//! falls more than the ACD's broadcast buffer behind, the skipped events are logged and
//! counted (`lagged`), never silently.

mod acd_bridge;
mod hooks;
mod screen_pop;

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{Notify, broadcast};

use super::webhook::Event;
use crate::store::{OutboxEvent, Store, StoreError};

pub use acd_bridge::{agent_state, spawn_acd_bridge};
pub use hooks::StoreHooks;
pub use screen_pop::{ScreenPop, interaction_history};

/// One message on the live stream (WebSockets).
#[derive(Debug, Clone)]
pub enum LiveMessage {
    /// An event, in its wire JSON.
    Event {
        /// The agent it concerns (agents see only their own).
        agent: Option<String>,
        /// The wire JSON (`Event::to_json`).
        body: Arc<Value>,
    },
    /// A screen pop for one agent: customer record, CTI data, last interactions.
    ScreenPop {
        /// The agent's extension number.
        agent: String,
        /// The pop's JSON.
        body: Arc<Value>,
    },
}

/// Writes events to the outbox, wakes the delivery worker and tells live streams.
#[derive(Debug, Clone)]
pub struct Publisher {
    store: Store,
    wake: Arc<Notify>,
    live: broadcast::Sender<LiveMessage>,
}

impl Publisher {
    /// A publisher on `store`, waking `wake` (the delivery worker's) after each write.
    pub fn new(store: Store, wake: Arc<Notify>) -> Publisher {
        let (live, _) = broadcast::channel(4096);
        Publisher { store, wake, live }
    }

    /// The live stream (slow receivers lag and skip).
    pub fn subscribe(&self) -> broadcast::Receiver<LiveMessage> {
        self.live.subscribe()
    }

    /// The hooks to install with `Store::with_events`.
    pub fn store_hooks(&self) -> Arc<StoreHooks> {
        Arc::new(StoreHooks::new(self.wake.clone(), self.live.clone()))
    }

    /// Writes `event` to the outbox (one transaction), then wakes the worker and tells live
    /// streams.
    pub async fn publish(&self, event: &Event) -> Result<(), StoreError> {
        let row = event.to_outbox();
        self.store.enqueue_event(&row).await?;
        self.wake.notify_one();
        announce(&self.live, &row);
        Ok(())
    }

    /// Sends a screen pop to `agent`'s live streams.
    pub fn screen_pop(&self, agent: &str, body: Value) {
        let _ = self.live.send(LiveMessage::ScreenPop {
            agent: agent.to_string(),
            body: Arc::new(body),
        });
    }
}

/// Puts a committed outbox row on the live stream.
fn announce(live: &broadcast::Sender<LiveMessage>, row: &OutboxEvent) {
    let Ok(body) = serde_json::from_str::<Value>(&row.body) else {
        return;
    };
    let agent = body["agent_id"].as_str().map(str::to_string);
    let _ = live.send(LiveMessage::Event {
        agent,
        body: Arc::new(body),
    });
}
