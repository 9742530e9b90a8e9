//! The screen pop: what an agent's desktop shows when a task is offered to them, sent on the
//! agent's WebSocket before their phone rings. `ScreenPops` is the ACD's `PrepareOffer`: for an
//! agent with a desktop open it builds the pop on its own task and opens the offer's gate once
//! the pop is out (the phone then rings); the gate's deadline (`cti.screen_pop_deadline_ms`)
//! bounds how long a slow CRM or database can hold the ring. An agent with no desktop open is
//! rung at once, and no pop is built.
//!
//! Content: the customer record (the first configured CRM lookup by the task's customer,
//! usually a cache hit from the dialplan's own lookup), the CTI data (the task's attributes:
//! dialplan variables, CRM answers, and for a call its `call_id` and `sip_call_id`) and the
//! customer's last interactions (CDRs and stored tasks). The lookup and the history are
//! fetched together, each given four fifths of the deadline, so that the pop (with whatever
//! arrived in time) still goes out before the deadline rings the phone.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::Publisher;
use crate::cti::lookup::LookupService;
use crate::routing::setup::channel_name;
use crate::routing::{OfferReady, PrepareOffer, TaskView};
use crate::store::{Store, StoreError};

/// Interactions of each kind shown.
const HISTORY_ITEMS: i64 = 5;

/// Builds screen pops.
#[derive(Debug, Clone)]
pub struct ScreenPop {
    store: Store,
    lookups: Arc<LookupService>,
    /// How long the ring may wait for the pop.
    deadline: Duration,
}

impl ScreenPop {
    /// Pops from `store` and the CRM behind `lookups`, each ring waiting at most `deadline`.
    pub fn new(store: Store, lookups: Arc<LookupService>, deadline: Duration) -> ScreenPop {
        ScreenPop {
            store,
            lookups,
            deadline,
        }
    }

    /// The pop for `task` offered to agent `agent`.
    pub async fn build(&self, task: &TaskView, agent: &str) -> Value {
        let customer = task.customer.as_deref();
        let budget = self.deadline * 4 / 5;
        let (record, history) = match customer {
            Some(c) => tokio::join!(
                self.customer_record(c, budget),
                tokio::time::timeout(budget, interaction_history(&self.store, c, HISTORY_ITEMS)),
            ),
            None => (Value::Null, Ok(Ok(Value::Null))),
        };
        let history = match history {
            Ok(Ok(history)) => history,
            Ok(Err(err)) => {
                tracing::warn!(%err, "screen pop without history");
                Value::Null
            }
            Err(_) => {
                tracing::warn!("screen pop without history: the database was too slow");
                Value::Null
            }
        };
        json!({
            "type": "screen_pop",
            "task_id": task.id.0.to_string(),
            "agent_id": agent,
            "channel": channel_name(task.channel),
            "queue": task.queue,
            "customer": { "id": customer, "record": record },
            "cti": task.attributes,
            "history": history,
        })
    }

    /// The CRM record of `customer` by the first configured lookup; null when there is none
    /// or the CRM does not answer within `wait`.
    pub async fn customer_record(&self, customer: &str, wait: Duration) -> Value {
        let Some(name) = self.lookups.names().first().map(|n| n.to_string()) else {
            return Value::Null;
        };
        let mut params = Map::new();
        params.insert("number".into(), Value::from(customer));
        match tokio::time::timeout(wait, self.lookups.lookup(&name, params)).await {
            Ok(Ok(record)) => record,
            _ => Value::Null,
        }
    }
}

/// The ACD's `PrepareOffer`: see the module docs.
#[derive(Debug)]
pub struct ScreenPops {
    pop: ScreenPop,
    publisher: Publisher,
}

impl ScreenPops {
    /// Pops built by `pop`, sent through `publisher` to the agents' desktops.
    pub fn new(pop: ScreenPop, publisher: Publisher) -> ScreenPops {
        ScreenPops { pop, publisher }
    }
}

impl PrepareOffer for ScreenPops {
    fn prepare(&self, task: &TaskView, agent: &str) -> OfferReady {
        if !self.publisher.has_desktop(agent) {
            return OfferReady::now();
        }
        let deadline = tokio::time::Instant::now() + self.pop.deadline;
        let (ready, prepared) = OfferReady::until(deadline);
        let (pop, publisher) = (self.pop.clone(), self.publisher.clone());
        let (task, agent) = (task.clone(), agent.to_string());
        tokio::spawn(async move {
            let body = pop.build(&task, &agent).await;
            publisher.screen_pop(&agent, body);
            prepared.done();
        });
        ready
    }
}

/// The last `limit` calls (CDRs) and stored tasks of `customer`, newest first.
pub async fn interaction_history(
    store: &Store,
    customer: &str,
    limit: i64,
) -> Result<Value, StoreError> {
    let calls: Vec<Value> = store
        .cdrs_of_party(customer, limit)
        .await?
        .into_iter()
        .map(|c| {
            json!({
                "call_id": c.id, "caller": c.caller, "callee": c.callee,
                "started_at_ms": c.started_at_ms, "result": c.result,
                "billsec_ms": c.billsec_ms(), "queue": c.queue, "agent": c.agent,
                "wait_ms": c.wait_ms, "transferred_to": c.transferred_to,
            })
        })
        .collect();
    let tasks: Vec<Value> = store
        .tasks_of_customer(customer, limit)
        .await?
        .into_iter()
        .map(|t| {
            json!({
                "task_id": t.id.to_string(), "channel": t.channel, "queue": t.queue,
                "state": t.state, "arrived_at_ms": t.arrived_at_ms,
            })
        })
        .collect();
    Ok(json!({ "calls": calls, "tasks": tasks }))
}
