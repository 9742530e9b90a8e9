//! The screen pop: what an agent's desktop shows when a task is offered to them, sent on the
//! agent's WebSocket as soon as the ACD decides the offer, in parallel with the phone's
//! INVITE (the bridge sends it before it writes the offer's events).
//!
//! Content: the customer record (the first configured CRM lookup by the task's customer,
//! given at most `LOOKUP_DEADLINE`, usually a cache hit from the dialplan's own lookup), the
//! CTI data (the task's attributes: dialplan variables and CRM answers) and the customer's
//! last interactions (CDRs and stored tasks).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::cti::lookup::LookupService;
use crate::routing::TaskView;
use crate::routing::setup::channel_name;
use crate::store::{Store, StoreError};

/// Longest wait for the CRM before the pop goes out without the record.
const LOOKUP_DEADLINE: Duration = Duration::from_millis(250);
/// Interactions of each kind shown.
const HISTORY_ITEMS: i64 = 5;

/// Builds screen pops.
#[derive(Debug, Clone)]
pub struct ScreenPop {
    store: Store,
    lookups: Arc<LookupService>,
}

impl ScreenPop {
    /// Pops from `store` and the CRM behind `lookups`.
    pub fn new(store: Store, lookups: Arc<LookupService>) -> ScreenPop {
        ScreenPop { store, lookups }
    }

    /// The pop for `task` offered to agent `agent`.
    pub async fn build(&self, task: &TaskView, agent: &str) -> Value {
        let customer = task.customer.as_deref();
        let record = match customer {
            Some(number) => self.customer_record(number).await,
            None => Value::Null,
        };
        let history = match customer {
            Some(c) => interaction_history(&self.store, c, HISTORY_ITEMS)
                .await
                .unwrap_or_else(|err| {
                    tracing::warn!(%err, "screen pop without history");
                    Value::Null
                }),
            None => Value::Null,
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
    /// or the CRM does not answer in time.
    pub async fn customer_record(&self, customer: &str) -> Value {
        let Some(name) = self.lookups.names().first().map(|n| n.to_string()) else {
            return Value::Null;
        };
        let mut params = Map::new();
        params.insert("number".into(), Value::from(customer));
        match tokio::time::timeout(LOOKUP_DEADLINE, self.lookups.lookup(&name, params)).await {
            Ok(Ok(record)) => record,
            _ => Value::Null,
        }
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
                "billsec_ms": c.billsec_ms(),
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
