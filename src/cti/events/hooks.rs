//! `StoreHooks`: the `store::StoreEvents` that write `call.ended` with each CDR and
//! `recording.ready` with each completed recording, in the same transaction.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::{Notify, broadcast};

use super::{LiveMessage, announce};
use crate::cti::webhook::{Event, EventKind};
use crate::store::{CdrRecord, OutboxEvent, StoreEvents};

/// See the module docs.
#[derive(Debug)]
pub struct StoreHooks {
    wake: Arc<Notify>,
    live: broadcast::Sender<LiveMessage>,
}

impl StoreHooks {
    pub(super) fn new(wake: Arc<Notify>, live: broadcast::Sender<LiveMessage>) -> StoreHooks {
        StoreHooks { wake, live }
    }
}

impl StoreEvents for StoreHooks {
    fn call_ended(&self, cdr: &CdrRecord) -> OutboxEvent {
        let mut event = Event::new(EventKind::CallEnded, cdr.ended_at_ms);
        event.call_id = Some(cdr.id.clone());
        event.data = json!({
            "sip_call_id": cdr.call_id,
            "caller": cdr.caller,
            "callee": cdr.callee,
            "origin": cdr.origin,
            "result": cdr.result,
            "hangup_cause": cdr.hangup_cause,
            "hangup_side": cdr.hangup_side,
            "transferred_to": cdr.transferred_to,
            "started_at_ms": cdr.started_at_ms,
            "answered_at_ms": cdr.answered_at_ms,
            "duration_ms": cdr.duration_ms(),
            "billsec_ms": cdr.billsec_ms(),
        });
        event.to_outbox()
    }

    fn recording_ready(
        &self,
        id: &str,
        call_id: &str,
        duration_ms: i64,
        size_bytes: i64,
    ) -> OutboxEvent {
        let now_ms = crate::cti::webhook::WallClock::now_ms(&crate::cti::webhook::SystemClock);
        let mut event = Event::new(EventKind::RecordingReady, now_ms);
        event.call_id = Some(call_id.to_string());
        event.data = json!({
            "recording_id": id,
            "duration_ms": duration_ms,
            "size_bytes": size_bytes,
            "url": format!("/api/v1/recordings/{id}/audio"),
        });
        event.to_outbox()
    }

    fn committed(&self, events: Vec<OutboxEvent>) {
        self.wake.notify_one();
        for row in &events {
            announce(&self.live, row);
        }
    }
}
