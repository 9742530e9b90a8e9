//! Events of ACD changes (a call's carry its ids), the screen pop's gate and the live
//! stream's order.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;

use super::*;
use crate::config::CtiConfig;
use crate::cti::lookup::LookupService;
use crate::routing::{
    AcdEvent, AgentId, Change, Channel, Decision, PrepareOffer, TaskId, TaskView,
};
use crate::store::testing::fresh_store;

fn call_task() -> TaskView {
    let mut attributes = BTreeMap::new();
    attributes.insert(CALL_ID.to_string(), "cdr-7".to_string());
    attributes.insert(SIP_CALL_ID.to_string(), "abc@10.0.0.1".to_string());
    TaskView {
        id: TaskId(7),
        channel: Channel::Voice,
        queue: "support".into(),
        customer: Some("+48221112233".into()),
        priority: 0,
        attributes,
        arrived_ms: 1_000,
        deadline_ms: None,
        attempts: 0,
        status: None,
    }
}

fn change(event: AcdEvent, task: TaskView) -> Change {
    Change {
        event,
        task: Some(task),
        agent: Some("1002".into()),
        at_ms: 2_000,
        ready: None,
    }
}

#[test]
fn an_abandoned_call_says_how_long_it_waited() {
    let abandoned = Decision::Abandoned {
        task: TaskId(7),
        queue: crate::routing::QueueId(1),
        waited: Duration::from_millis(12_345),
    };
    let events = events_of(&change(AcdEvent::Decision(abandoned), call_task()));
    let [event] = &events[..] else {
        panic!("one event: {events:?}")
    };
    let json = event.to_json();
    assert_eq!(
        (&json["type"], &json["task_id"], &json["call_id"]),
        (
            &Value::from("task.abandoned"),
            &Value::from("7"),
            &Value::from("cdr-7")
        )
    );
    assert_eq!(json["data"]["waited_ms"], 12_345, "{json}");
    assert!(json["agent_id"].is_null(), "{json}");
}

#[test]
fn a_calls_task_and_call_events_name_the_call() {
    let offer = Decision::Offer {
        task: TaskId(7),
        agent: AgentId(2),
    };
    let events = events_of(&change(AcdEvent::Decision(offer), call_task()));
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["task.offered", "call.ringing"]);
    for event in &events {
        let json = event.to_json();
        assert_eq!(json["call_id"], "cdr-7", "{json}");
        assert_eq!(json["data"]["sip_call_id"], "abc@10.0.0.1", "{json}");
        assert_eq!(
            (&json["task_id"], &json["agent_id"]),
            (&Value::from("7"), &Value::from("1002"))
        );
    }
    assert_ne!(events[0].id, events[1].id);
    let queued = AcdEvent::Queued {
        task: TaskId(7),
        queue: crate::routing::QueueId(1),
        channel: Channel::Voice,
    };
    let queued = events_of(&change(queued, call_task())).remove(0).to_json();
    assert_eq!(
        (&queued["type"], &queued["call_id"]),
        (&Value::from("task.queued"), &Value::from("cdr-7"))
    );
    assert!(queued["agent_id"].is_null(), "queued concerns no agent yet");
    let mut email = call_task();
    email.channel = Channel::Email;
    let accepted = AcdEvent::Accepted {
        task: TaskId(7),
        agent: AgentId(2),
    };
    let events = events_of(&change(accepted, email));
    assert_eq!(events.len(), 1, "no call.answered for an e-mail");
    assert!(events[0].call_id.is_none());
}

#[test]
fn a_callback_attempt_names_the_attempts_call() {
    // A kept-place callback carries the attributes of the call that asked for it: the
    // attempt's event names the call that dialled the customer, not that one.
    let mut callback = call_task();
    callback.channel = Channel::Callback;
    let attempt = AcdEvent::CallbackAttempt {
        task: TaskId(7),
        attempts: 1,
        outcome: crate::routing::AttemptOutcome::Answered,
        call: Some("cdr-9".into()),
    };
    let events = events_of(&change(attempt, callback));
    let [event] = &events[..] else {
        panic!("one event: {events:?}")
    };
    let json = event.to_json();
    assert_eq!(
        (&json["type"], &json["call_id"], &json["agent_id"]),
        (
            &Value::from("callback.attempted"),
            &Value::from("cdr-9"),
            &Value::from("1002")
        ),
        "{json}"
    );
    assert_eq!(
        (&json["data"]["attempt"], &json["data"]["outcome"]),
        (&Value::from(1), &Value::from("answered"))
    );
}

async fn publisher() -> (Publisher, ScreenPops, tempfile::TempDir) {
    let (store, dir) = fresh_store().await;
    let publisher = Publisher::new(store.clone(), Arc::new(Notify::new()));
    let no_crm = CtiConfig {
        lookups: Vec::new(),
        ..CtiConfig::default()
    };
    let lookups = Arc::new(LookupService::new(&no_crm).unwrap());
    let pop = ScreenPop::new(store, lookups, Duration::from_millis(500));
    let pops = ScreenPops::new(pop, publisher.clone());
    (publisher, pops, dir)
}

#[tokio::test]
async fn an_agent_without_a_desktop_is_rung_at_once_with_one_after_the_pop() {
    let (publisher, pops, _dir) = publisher().await;
    assert!(!pops.prepare(&call_task(), "1002").is_gated());
    let mut live = publisher.subscribe();
    let desktop = publisher.desktop("1002");
    let ready = pops.prepare(&call_task(), "1002");
    assert!(ready.is_gated());
    // The offer's events, committed at once, wait for the pop on the live stream.
    let offer = AcdEvent::Decision(Decision::Offer {
        task: TaskId(7),
        agent: AgentId(2),
    });
    let rows: Vec<_> = events_of(&change(offer, call_task()))
        .iter()
        .map(|e| e.to_outbox())
        .collect();
    publisher.committed(vec![ready.clone()], rows);
    tokio::time::timeout(Duration::from_millis(400), ready.wait())
        .await
        .expect("the pop (no CRM, a local database) is out well before the deadline");
    let mut kinds = Vec::new();
    for _ in 0..3 {
        match tokio::time::timeout(Duration::from_secs(1), live.recv()).await {
            Ok(Ok(LiveMessage::ScreenPop { agent, body })) => {
                assert_eq!(agent, "1002");
                assert_eq!(body["cti"][CALL_ID], "cdr-7");
                kinds.push("screen_pop".to_string());
            }
            Ok(Ok(LiveMessage::Event { body, .. })) => kinds.push(body["type"].to_string()),
            other => panic!("live stream: {other:?}"),
        }
    }
    assert_eq!(
        kinds,
        ["screen_pop", "\"task.offered\"", "\"call.ringing\""]
    );
    drop(desktop);
    assert!(
        !publisher.has_desktop("1002"),
        "closing the desktop unregisters it"
    );
}
