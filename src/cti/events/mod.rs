//! Producing events: the ACD's changes, finished calls and recordings become `webhook::Event`s
//! in the outbox (for webhooks) and on the live stream (for WebSockets); offers to agents with
//! a desktop open first produce a screen pop, and the agent's phone rings after it.
//!
//! Owns: `Publisher` (worker wake-up, the live broadcast in commit order, the registry of open
//! agent desktops), `StoreHooks` (the `store::StoreEvents` that add `call.ended` /
//! `recording.ready` to CDR and recording writes), `AcdChanges` (the routing journal's
//! `ChangeEvents`: ACD changes -> task/agent/call events) and `ScreenPops` (the routing
//! `PrepareOffer`: the screen pop of each offer).
//! Must not touch: SQL (through `store::Store` methods), routing internals (it sees the ACD's
//! changes only through its hooks), HTTP.
//! Driven by: `server`, which builds the `Publisher`, installs its hooks in the store and the
//! ACD (`acd_hooks`); the API's event stream registers desktops (`Publisher::desktop`).
//!
//! # Durability: where each event is written
//!
//! - `call.ended` and `recording.ready`: in the same transaction as the CDR / the recording's
//!   completed index row (`StoreHooks`), so the event exists exactly when its row does.
//! - Events of stored tasks' changes (callbacks, voicemails, chats, e-mails: `task.queued`
//!   when stored, re-queued for a retry or transferred, `task.completed`,
//!   `callback.attempted`): in the same transaction as the task row's insert or update (the
//!   routing journal, `RoutingStore::insert_task` / `update_task`). A crash leaves both or
//!   neither, so such an event is never lost nor written twice.
//! - Everything else the ACD reports is a change it keeps only in memory: offers
//!   (`task.offered`, `call.ringing`), answers (`task.accepted`, `call.answered`),
//!   `task.sla_breached`, `agent.state_changed`, and every event of a voice task (live calls
//!   are not stored). The journal writes these in batches right after the change, without
//!   holding routing up: a crash in the milliseconds before the batch commits loses them (the
//!   state they reported is lost with the process too: calls drop, agents log in again when
//!   their phones re-register, a stored task is offered anew), and none is ever written twice.
//!   Agent states are not stored on purpose: after a restart presence comes back from the
//!   phones' registrations, so a stored state would be stale at once.
//! - One journal writer takes every change in the ACD's order, so the events of one task (and
//!   one call) are written, and delivered per subscription, in the order they happened.
//! - Once in the outbox, nothing is lost: the delivery worker retries until a 2xx.
//!
//! The live stream gets each batch after its commit, in commit order; a batch holding an
//! offer waits (at most the pop's deadline) until that offer's screen pop is out, so an agent
//! sees the pop before `task.offered` (batches committed after it wait behind it; webhook
//! delivery never waits). Pops themselves go straight to the live stream.

mod changes;
mod hooks;
mod screen_pop;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{Notify, broadcast, mpsc};

use crate::routing::{AcdHooks, OfferReady};
use crate::store::{OutboxEvent, Store};

pub use changes::{AcdChanges, CALL_ID, SIP_CALL_ID, agent_state, events_of};
pub use hooks::StoreHooks;
pub use screen_pop::{ScreenPop, ScreenPops, interaction_history};

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

/// Committed rows for the live stream, after the offers' gates they wait for.
type Announcement = (Vec<OfferReady>, Vec<OutboxEvent>);

/// Wakes the delivery worker and tells live streams; knows which agents have a desktop open.
#[derive(Debug, Clone)]
pub struct Publisher {
    store: Store,
    wake: Arc<Notify>,
    live: broadcast::Sender<LiveMessage>,
    announcer: mpsc::UnboundedSender<Announcement>,
    desktops: Arc<Mutex<HashMap<String, usize>>>,
}

impl Publisher {
    /// A publisher on `store`, waking `wake` (the delivery worker's) after each write. Spawns
    /// the live announcer (needs a tokio runtime).
    pub fn new(store: Store, wake: Arc<Notify>) -> Publisher {
        let (live, _) = broadcast::channel(4096);
        let (announcer, mut pending) = mpsc::unbounded_channel::<Announcement>();
        let stream = live.clone();
        tokio::spawn(async move {
            while let Some((gates, rows)) = pending.recv().await {
                for gate in gates {
                    gate.wait().await;
                }
                for row in &rows {
                    announce(&stream, row);
                }
            }
        });
        Publisher {
            store,
            wake,
            live,
            announcer,
            desktops: Arc::default(),
        }
    }

    /// The live stream (slow receivers lag and skip).
    pub fn subscribe(&self) -> broadcast::Receiver<LiveMessage> {
        self.live.subscribe()
    }

    /// The hooks to install with `Store::with_events`.
    pub fn store_hooks(&self) -> Arc<StoreHooks> {
        Arc::new(StoreHooks::new(self.wake.clone(), self.live.clone()))
    }

    /// `rows` were committed: wakes the worker now, and tells live streams once every gate
    /// in `gates` is open (after everything committed before).
    pub fn committed(&self, gates: Vec<OfferReady>, rows: Vec<OutboxEvent>) {
        if !rows.is_empty() {
            self.wake.notify_one();
        }
        if !rows.is_empty() || !gates.is_empty() {
            let _ = self.announcer.send((gates, rows));
        }
    }

    /// Sends a screen pop to `agent`'s live streams.
    pub fn screen_pop(&self, agent: &str, body: Value) {
        let _ = self.live.send(LiveMessage::ScreenPop {
            agent: agent.to_string(),
            body: Arc::new(body),
        });
    }

    /// Registers an open desktop (an agent's event stream) until the guard is dropped.
    pub fn desktop(&self, agent: &str) -> DesktopGuard {
        *self.desktops_of().entry(agent.to_string()).or_default() += 1;
        DesktopGuard {
            agent: agent.to_string(),
            desktops: self.desktops.clone(),
        }
    }

    /// Whether `agent` has a desktop open (their offers wait for the screen pop).
    pub fn has_desktop(&self, agent: &str) -> bool {
        self.desktops_of().get(agent).is_some_and(|n| *n > 0)
    }

    fn desktops_of(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        // A panic elsewhere while holding the lock leaves a valid map.
        self.desktops.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An open agent desktop; see `Publisher::desktop`.
#[derive(Debug)]
pub struct DesktopGuard {
    agent: String,
    desktops: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for DesktopGuard {
    fn drop(&mut self) {
        let mut desktops = self.desktops.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = desktops.get_mut(&self.agent) {
            *n -= 1;
            if *n == 0 {
                desktops.remove(&self.agent);
            }
        }
    }
}

/// The ACD's hooks: its changes' events (`AcdChanges`) and its offers' screen pops.
pub fn acd_hooks(publisher: &Publisher, pops: ScreenPop) -> AcdHooks {
    AcdHooks {
        events: Some(Arc::new(AcdChanges::new(
            publisher.store.clone(),
            publisher.clone(),
        ))),
        offers: Some(Arc::new(ScreenPops::new(pops, publisher.clone()))),
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

#[cfg(test)]
mod tests;
