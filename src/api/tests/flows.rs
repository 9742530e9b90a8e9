//! Whole flows through the API: agent states, a chat task offered, accepted and completed
//! with a disposition (and the events each step writes), webhooks, recordings with ranges,
//! customer history.

use reqwest::Method;
use serde_json::{Value, json};

use super::{ADMIN, AGENT_1001, INTEGRATION, SUPERVISOR, TestApi, eventually, eventually_for};
use crate::routing::{Channel, NewTask};
use crate::store::{CdrRecord, RecordingRow};

/// Subscribes to every event and returns the subscription id.
async fn subscribe(api: &TestApi) -> String {
    let body = json!({"url": "http://127.0.0.1:9/hook"});
    let (status, created) = api
        .call(Method::POST, "/api/v1/webhooks", INTEGRATION, Some(body))
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(created["secret"].as_str().unwrap().len() >= 16);
    created["id"].as_str().unwrap().to_string()
}

/// The event types written for `subscription` so far, in order.
async fn written(api: &TestApi, subscription: &str) -> Vec<Value> {
    let line = api.store.outbox_line(subscription, 1000).await.unwrap();
    line.into_iter()
        .map(|(_, _, body)| serde_json::from_str(&body).unwrap())
        .collect()
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn agent_state_changes_through_the_api_and_become_events() {
    let api = TestApi::start().await;
    let sub = subscribe(&api).await;
    let (status, _) = api
        .call(
            Method::PUT,
            "/api/v1/agents/1001/state",
            AGENT_1001,
            Some(json!({"state": "available"})),
        )
        .await;
    assert_eq!(status, 409, "logged out agents log in first");
    let (status, agent) = api
        .call(Method::POST, "/api/v1/agents/1001/login", AGENT_1001, None)
        .await;
    assert_eq!((status, &agent["state"]), (200, &json!("available")));
    let body = json!({"state": "break", "reason": 3});
    let (_, agent) = api
        .call(
            Method::PUT,
            "/api/v1/agents/1001/state",
            AGENT_1001,
            Some(body),
        )
        .await;
    assert_eq!(
        (&agent["state"], &agent["reason"]),
        (&json!("break"), &json!(3))
    );
    let (_, agent) = api
        .call(Method::POST, "/api/v1/agents/1001/logout", SUPERVISOR, None)
        .await;
    assert_eq!(agent["state"], "offline");
    eventually("three agent events", || async {
        written(&api, &sub).await.len() >= 3
    })
    .await;
    let events = written(&api, &sub).await;
    let states: Vec<&str> = events
        .iter()
        .map(|e| e["data"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["available", "break", "offline"]);
    assert!(
        events
            .iter()
            .all(|e| e["type"] == "agent.state_changed" && e["agent_id"] == "1001")
    );
}

#[tokio::test]
async fn a_chat_is_offered_accepted_and_completed_by_its_agent_only() {
    let api = TestApi::start().await;
    let sub = subscribe(&api).await;
    api.login("1001").await;
    let other = api.token("agent", Some("1002")).await;
    let mut chat = NewTask::new(Channel::Chat, "sales");
    chat.customer = Some("+48600100200".into());
    chat.attributes.insert("topic".into(), "pricing".into());
    let task = api.acd.enqueue(chat).await.unwrap();
    let path = |action: &str| format!("/api/v1/tasks/{}{action}", task.0);

    let (_, own) = api.get("/api/v1/tasks", AGENT_1001).await;
    assert_eq!(own["items"][0]["state"], "offered");
    assert_eq!(own["items"][0]["agent"], "1001");
    assert_eq!(own["items"][0]["attributes"]["topic"], "pricing");
    let (_, seen) = api.get("/api/v1/tasks", &other).await;
    assert_eq!(seen["items"], json!([]), "another agent does not see it");
    assert_eq!(api.get(&path(""), &other).await.0, 403);
    for action in ["/accept", "/reject"] {
        let (status, _) = api.call(Method::POST, &path(action), &other, None).await;
        assert_eq!(status, 403, "{action}");
    }
    let (status, held) = api
        .call(Method::POST, &path("/accept"), AGENT_1001, None)
        .await;
    assert_eq!((status, &held["state"]), (200, &json!("assigned")));
    let (status, _) = api
        .call(Method::POST, &path("/accept"), AGENT_1001, None)
        .await;
    assert_eq!(status, 409, "already accepted");
    let done = json!({"disposition": {"code": "sale", "note": "2 seats"}});
    let (status, _) = api
        .call(Method::POST, &path("/complete"), &other, Some(done.clone()))
        .await;
    assert_eq!(status, 403);
    let (status, closed) = api
        .call(Method::POST, &path("/complete"), AGENT_1001, Some(done))
        .await;
    assert_eq!(
        (status, &closed["state"]),
        (200, &json!("completed")),
        "{closed}"
    );
    let stored = api.store.dispositions_of_task(task.0 as i64).await.unwrap();
    assert_eq!(
        (stored[0].code.as_str(), stored[0].agent.as_deref()),
        ("sale", Some("1001"))
    );

    eventually("task.completed", || async {
        types(&written(&api, &sub).await).contains(&"task.completed")
    })
    .await;
    let events = written(&api, &sub).await;
    let task_events: Vec<&Value> = events
        .iter()
        .filter(|e| e["task_id"] == json!(task.0.to_string()))
        .collect();
    let kinds: Vec<&str> = task_events
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "task.queued",
            "task.offered",
            "task.accepted",
            "task.completed"
        ]
    );
    assert_eq!(task_events[3]["data"]["disposition"]["code"], "sale");
    assert_eq!(task_events[1]["agent_id"], "1001");
}

#[tokio::test]
async fn a_chat_waiting_past_its_service_level_is_a_breach_event() {
    let mut config = crate::config::Config::default();
    config.cti.allow_private_webhooks = true; // the test's loopback subscription
    for queue in &mut config.queues {
        queue.sla_secs.insert("chat".into(), 1);
    }
    let api = TestApi::start_configured(config, super::lenient()).await;
    let sub = subscribe(&api).await;
    let mut chat = NewTask::new(Channel::Chat, "support");
    chat.customer = Some("+48600100200".into());
    let task = api.acd.enqueue(chat).await.unwrap();
    eventually_for("task.sla_breached", 3, || async {
        types(&written(&api, &sub).await).contains(&"task.sla_breached")
    })
    .await;
    let events = written(&api, &sub).await;
    let breach = events
        .iter()
        .find(|e| e["type"] == "task.sla_breached")
        .unwrap();
    assert_eq!(breach["task_id"], task.0.to_string());
    assert_eq!(
        (&breach["data"]["queue"], &breach["data"]["channel"]),
        (&json!("support"), &json!("chat"))
    );
}

#[tokio::test]
async fn webhook_subscriptions_are_managed_through_the_api() {
    let api = TestApi::start().await;
    let body = json!({"url": "https://crm.example/hook", "events": ["call.ended"], "secret": "0123456789abcdef"});
    let (status, created) = api
        .call(Method::POST, "/api/v1/webhooks", ADMIN, Some(body))
        .await;
    assert_eq!(
        (status, &created["secret"]),
        (201, &json!("0123456789abcdef"))
    );
    let path = format!("/api/v1/webhooks/{}", created["id"].as_str().unwrap());
    let (_, one) = api.get(&path, INTEGRATION).await;
    assert_eq!(
        (&one["events"], one.get("secret")),
        (&json!(["call.ended"]), None)
    );
    let (status, changed) = api
        .call(
            Method::PUT,
            &path,
            ADMIN,
            Some(json!({"events": [], "secret": "rotate"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_ne!(changed["secret"], "0123456789abcdef");
    assert_eq!(changed["events"], json!([]));
    assert_eq!(api.call(Method::DELETE, &path, ADMIN, None).await.0, 204);
    assert_eq!(api.get(&path, ADMIN).await.1["active"], false);
    for bad in [
        json!({"url": "ftp://x/y"}),
        json!({"url": "http://x/y", "events": ["call.exploded"]}),
        json!({"url": "http://x/y", "secret": "short"}),
        json!({"url": "http://x/y", "colour": "red"}),
    ] {
        let (status, _) = api
            .call(Method::POST, "/api/v1/webhooks", ADMIN, Some(bad.clone()))
            .await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[tokio::test]
async fn recordings_download_with_ranges_and_announce_themselves() {
    let api = TestApi::start().await;
    let sub = subscribe(&api).await;
    let file = api.dir.path().join("r1.wav");
    let audio: Vec<u8> = (0..=255u8).cycle().take(4000).collect();
    std::fs::write(&file, &audio).unwrap();
    let row = RecordingRow {
        id: "r1".into(),
        call_id: "c1".into(),
        started_at_ms: 1,
        duration_ms: 0,
        path: file.display().to_string(),
        size_bytes: 0,
        state: "recording".into(),
    };
    api.store.insert_recording(&row).await.unwrap();
    assert!(
        api.store
            .update_recording("r1", 125, 4000, "done")
            .await
            .unwrap()
    );
    let events = written(&api, &sub).await;
    assert_eq!(types(&events), ["recording.ready"]);
    assert_eq!(
        (&events[0]["call_id"], &events[0]["data"]["recording_id"]),
        (&json!("c1"), &json!("r1"))
    );

    let (_, meta) = api.get("/api/v1/recordings/r1", SUPERVISOR).await;
    assert_eq!(
        (&meta["duration_ms"], &meta["state"]),
        (&json!(125), &json!("done"))
    );
    let fetch = |range: Option<&'static str>| {
        let mut request = api
            .raw(Method::GET, "/api/v1/recordings/r1/audio")
            .bearer_auth(SUPERVISOR);
        if let Some(range) = range {
            request = request.header("range", range);
        }
        request.send()
    };
    let whole = fetch(None).await.unwrap();
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(whole.bytes().await.unwrap().as_ref(), audio.as_slice());
    let part = fetch(Some("bytes=100-199")).await.unwrap();
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 100-199/4000");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &audio[100..200]);
    let tail = fetch(Some("bytes=-10")).await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &audio[3990..]);
    let past = fetch(Some("bytes=5000-")).await.unwrap();
    assert_eq!(past.status().as_u16(), 416);
    assert_eq!(past.headers()["content-range"], "bytes */4000");
    assert_eq!(api.get("/api/v1/recordings/nope/audio", ADMIN).await.0, 404);
}

#[tokio::test]
async fn customer_history_lists_their_calls_and_call_ended_is_an_event() {
    let api = TestApi::start().await;
    let sub = subscribe(&api).await;
    let cdr = |id: &str, caller: &str, at: i64| CdrRecord {
        id: id.into(),
        call_id: format!("{id}@sip"),
        caller: caller.into(),
        callee: "800".into(),
        origin: "trunk:pstn".into(),
        started_at_ms: at,
        answered_at_ms: Some(at + 5),
        ended_at_ms: at + 100,
        result: "answered".into(),
        hangup_cause: "normal_clearing".into(),
        hangup_side: "caller".into(),
        transferred_to: None,
        caller_quality: None,
        callee_quality: None,
        queue: None,
        agent: None,
        wait_ms: None,
    };
    api.store
        .insert_cdrs(&[
            cdr("c1", "+48600100200", 10),
            cdr("c2", "+48999", 20),
            cdr("c3", "+48600100200", 30),
        ])
        .await
        .unwrap();
    let (status, history) = api
        .get("/api/v1/customers/+48600100200/history", SUPERVISOR)
        .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = history["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c3", "c1"]);
    let events = written(&api, &sub).await;
    assert_eq!(types(&events), ["call.ended", "call.ended", "call.ended"]);
    assert_eq!(
        (&events[0]["call_id"], &events[0]["data"]["billsec_ms"]),
        (&json!("c1"), &json!(95))
    );
    let (status, _) = api.get("/api/v1/customers/lookup", SUPERVISOR).await;
    assert_eq!(status, 400, "number or email needed");
}

#[tokio::test]
async fn an_agent_sees_only_their_own_calls_with_a_customer() {
    let api = TestApi::start().await;
    let cdr = |id: &str, callee: &str| CdrRecord {
        id: id.into(),
        call_id: format!("{id}@sip"),
        caller: "+48600100200".into(),
        callee: callee.into(),
        origin: "trunk:pstn".into(),
        started_at_ms: 10,
        answered_at_ms: Some(15),
        ended_at_ms: 100,
        result: "answered".into(),
        hangup_cause: "normal_clearing".into(),
        hangup_side: "caller".into(),
        transferred_to: None,
        caller_quality: None,
        callee_quality: None,
        queue: None,
        agent: None,
        wait_ms: None,
    };
    api.store
        .insert_cdrs(&[cdr("to-1001", "1001"), cdr("to-1002", "1002")])
        .await
        .unwrap();
    let (status, history) = api
        .get("/api/v1/customers/+48600100200/history", AGENT_1001)
        .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = history["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["to-1001"], "not agent 1002's call");
    assert_eq!(history["tasks"], json!([]));
    let (status, _) = api
        .get("/api/v1/customers/lookup?number=%2B48999000111", AGENT_1001)
        .await;
    assert_eq!(status, 403, "not a customer of theirs");
    let (status, _) = api
        .get("/api/v1/customers/lookup?number=%2B48600100200", AGENT_1001)
        .await;
    assert_ne!(status, 403, "their own customer (no CRM configured here)");
}
