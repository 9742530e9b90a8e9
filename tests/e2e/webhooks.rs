//! Webhooks end to end: the real binary, a real HTTP receiver that is down while events
//! happen, a kill -9 of Centrala before anything was delivered, then the receiver comes up:
//! every event arrives exactly once, in order, with a valid signature.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use centrala::cti::webhook::verify_signature;
use serde_json::Value;

use crate::common::centrala::http_request;
use crate::common::ports::PortBlock;
use crate::support::{Pbx, TOKEN, dialplan_dir, enabled, repo};

const SECRET: &str = "e2e-webhook-secret-0123456789";

/// (signature header, body) of each POST received.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// The CRM's webhook endpoint on `port`, answering 200 to every POST.
fn receiver(port: u16) -> (tokio::runtime::Runtime, Received) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let received: Received = Arc::default();
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State(r): State<Received>, headers: HeaderMap, body: String| async move {
                    let signature = headers
                        .get("x-centrala-signature")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    r.lock().unwrap().push((signature, body));
                },
            ),
        )
        .with_state(received.clone());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
        .unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    (runtime, received)
}

/// A JSON request with the test's admin token: the status.
fn api(pbx: &Pbx, method: &str, path: &str, body: &str) -> u16 {
    let auth = format!("Bearer {TOKEN}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    http_request(pbx.centrala.http(), method, path, &headers, body)
        .expect("API answers")
        .0
}

#[test]
fn events_survive_a_crm_outage_and_a_kill_9_and_arrive_once_in_order() {
    if !enabled("webhooks_outage") {
        return;
    }
    let ports = PortBlock::claim();
    let hook_port = ports.port(6);
    let extra = format!(
        "[cti]\nallow_private_webhooks = true\n[[cti.webhooks]]\nname = \"crm\"\nurl = \"http://127.0.0.1:{hook_port}/hook\"\n\
         secret = \"{SECRET}\"\nevents = [\"agent.state_changed\"]\n\
         [cti.delivery]\ninitial_backoff_ms = 100\nmax_backoff_secs = 1\ntimeout_ms = 1000\n"
    );
    let mut pbx = Pbx::start_in(ports, "webhooks_outage", "", &extra, &repo("dialplans"));
    // The CRM is down: every change below is stored in the outbox, none delivered.
    let mut expected = vec!["available".to_string()];
    assert_eq!(api(&pbx, "POST", "/api/v1/agents/1001/login", ""), 200);
    for reason in 1..=4 {
        let body = format!(r#"{{"state":"break","reason":{reason}}}"#);
        assert_eq!(api(&pbx, "PUT", "/api/v1/agents/1001/state", &body), 200);
        let back = r#"{"state":"available"}"#;
        assert_eq!(api(&pbx, "PUT", "/api/v1/agents/1001/state", back), 200);
        expected.extend([format!("break/{reason}"), "available".to_string()]);
    }
    assert_eq!(api(&pbx, "POST", "/api/v1/agents/1001/logout", ""), 200);
    expected.push("offline".to_string());
    std::thread::sleep(Duration::from_millis(1500)); // a few failed attempts meanwhile
    pbx.centrala.kill9();
    pbx.centrala.restart().expect("centrala restarts");
    let (_runtime, received) = receiver(hook_port);

    let deadline = Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().len() < expected.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500)); // anything extra would arrive now
    let got = received.lock().unwrap().clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut ids = Vec::new();
    let mut states = Vec::new();
    for (signature, body) in &got {
        verify_signature(SECRET, signature, body.as_bytes(), now, 300)
            .unwrap_or_else(|err| panic!("bad signature {signature:?} on {body}: {err}"));
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["type"], "agent.state_changed");
        assert_eq!(event["agent_id"], "1001");
        ids.push(event["id"].as_str().unwrap().to_string());
        let data = &event["data"];
        states.push(match data["reason"].as_u64() {
            Some(reason) => format!("{}/{reason}", data["state"].as_str().unwrap()),
            None => data["state"].as_str().unwrap().to_string(),
        });
    }
    assert_eq!(
        states, expected,
        "every event, in order, after the outage and the crash"
    );
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "each event exactly once");
}

/// A caller waiting in a queue keeps their place (the call's task becomes a stored callback):
/// the call's `task.queued` (naming the call) and the callback's (written with its row) reach
/// the CRM once each after a kill -9 and a restart, which restores the callback without
/// repeating its event.
#[test]
fn a_stored_tasks_event_commits_with_it_and_survives_a_kill_9_once() {
    if !enabled("webhooks_task_kill9") {
        return;
    }
    let ports = PortBlock::claim();
    let hook_port = ports.port(6);
    let extra = format!(
        "[cti]\nallow_private_webhooks = true\n[[cti.webhooks]]\nname = \"crm\"\nurl = \"http://127.0.0.1:{hook_port}/hook\"\n\
         secret = \"{SECRET}\"\nevents = [\"task.queued\"]\n\
         [cti.delivery]\ninitial_backoff_ms = 100\nmax_backoff_secs = 1\ntimeout_ms = 1000\n"
    );
    // A sales queue with no agent logged in: the caller waits and can keep their place.
    let dir = dialplan_dir("hook-task", &[("plan.yaml", crate::callbacks::PLAN)]);
    let mut pbx = Pbx::start_in(ports, "webhooks_task_kill9", "", &extra, &dir);
    let caller = pbx.sipp(0, "keeps-place", "uac_ivr_wait_bye.xml");
    let uac = crate::support::with_keys(caller, "8000", "1", 2000)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    pbx.centrala.kill9();
    pbx.centrala.restart().expect("centrala restarts");
    let (_runtime, received) = receiver(hook_port);
    let deadline = Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500)); // anything extra would arrive now
    let events: Vec<Value> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| serde_json::from_str(body).unwrap())
        .collect();
    let channels: Vec<&str> = events
        .iter()
        .map(|e| e["data"]["channel"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(channels, ["voice", "callback"], "{events:?}");
    assert_eq!(
        events[0]["task_id"], events[1]["task_id"],
        "the call's task"
    );
    assert!(events[0]["call_id"].is_string(), "{}", events[0]);
    assert!(
        events[0]["data"]["sip_call_id"].is_string(),
        "{}",
        events[0]
    );
    assert_eq!(events[1]["data"]["customer"], "1001");
    let stored = pbx.api(&format!(
        "/api/v1/tasks/{}",
        events[1]["task_id"].as_str().unwrap()
    ));
    assert_eq!(
        stored["channel"], "callback",
        "restored after the restart: {stored}"
    );
}
