//! `StoreHooks`: the `store::StoreEvents` that write `call.ended` with each CDR and
//! `recording.ready` with each completed recording, in the same transaction.
//!
//! Cheap when nobody listens: the delivery worker is woken only when outbox rows were written,
//! and events are built and parsed for the live stream only while it has a receiver (a
//! broadcast without receivers drops the message anyway).

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
            "queue": cdr.queue,
            "agent": cdr.agent,
            "wait_ms": cdr.wait_ms,
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

    fn call_ended_kind(&self) -> &'static str {
        EventKind::CallEnded.as_str()
    }

    fn wants_every_event(&self) -> bool {
        self.live.receiver_count() > 0
    }

    /// Wakes the delivery worker only when rows were written (each wake-up costs it a pass
    /// over the outbox), and parses the events for live streams only when one is listening.
    fn committed(&self, events: Vec<OutboxEvent>, rows_written: usize) {
        if rows_written > 0 {
            self.wake.notify_one();
        }
        if self.wants_every_event() {
            for row in &events {
                announce(&self.live, row);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    fn row() -> OutboxEvent {
        OutboxEvent {
            id: "e1".into(),
            kind: "call.ended".into(),
            body: r#"{"id":"e1","agent_id":"1001"}"#.into(),
            created_at_ms: 1,
        }
    }

    #[test]
    fn the_worker_is_woken_only_when_rows_were_written() {
        let wake = Arc::new(Notify::new());
        let (live, _) = broadcast::channel(8);
        let hooks = StoreHooks::new(wake.clone(), live);
        hooks.committed(vec![row()], 0);
        assert!(
            wake.notified().now_or_never().is_none(),
            "nothing to deliver"
        );
        hooks.committed(vec![row()], 1);
        assert!(wake.notified().now_or_never().is_some());
    }

    #[test]
    fn live_streams_get_events_only_while_someone_listens() {
        let (live, _) = broadcast::channel(8);
        let hooks = StoreHooks::new(Arc::new(Notify::new()), live.clone());
        assert!(!hooks.wants_every_event());
        let mut receiver = live.subscribe();
        assert!(hooks.wants_every_event());
        hooks.committed(vec![row()], 0);
        match receiver.try_recv() {
            Ok(LiveMessage::Event { agent, .. }) => assert_eq!(agent.as_deref(), Some("1001")),
            other => panic!("expected the event, got {other:?}"),
        }
        assert_eq!(hooks.call_ended_kind(), "call.ended");
    }
}
