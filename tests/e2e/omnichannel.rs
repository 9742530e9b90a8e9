//! Omnichannel end to end: signed SMS posts into the real binary become a stored
//! conversation and a task in the support queue; the agent takes it through the API, writes a
//! note and replies, and the reply reaches a real HTTP stub provider (signed); the provider's
//! receipt is recorded; the customer's timeline shows it all, newest first; a kill -9 loses
//! nothing; a forged or missing signature gets 401, a repeated message id is stored once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use centrala::cti::webhook::{sign, verify_signature};
use serde_json::{Value, json};

use crate::common::centrala::http_request;
use crate::common::ports::PortBlock;
use crate::support::{Pbx, TOKEN, agent_token, enabled, repo};

const SMS_SECRET: &str = "demo-sms-secret";
const HOOK_SECRET: &str = "e2e-omni-hook-secret";

/// (path, signature header, body) of each POST the stub received.
type Received = Arc<Mutex<Vec<(String, String, String)>>>;

/// The SMS provider's API (`/messages`, answering `{"id": "prov-<n>"}`) and a webhook
/// receiver (`/hook`) on `port`.
fn provider(port: u16) -> (tokio::runtime::Runtime, Received) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let received: Received = Arc::default();
    let record = |path: &'static str| {
        move |State(r): State<Received>, headers: HeaderMap, body: String| async move {
            let signature = headers
                .get("x-centrala-signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let mut all = r.lock().unwrap();
            all.push((path.to_string(), signature, body));
            let n = all.iter().filter(|(p, _, _)| p == "/messages").count();
            axum::Json(json!({ "id": format!("prov-{n}") }))
        }
    };
    let app = Router::new()
        .route("/messages", post(record("/messages")))
        .route("/hook", post(record("/hook")))
        .with_state(received.clone());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
        .unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    (runtime, received)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A request as `token` (`None`: no Authorization) with extra headers: (status, JSON).
fn call(
    pbx: &Pbx,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth));
    }
    headers.extend_from_slice(extra);
    let (status, answer) =
        http_request(pbx.centrala.http(), method, path, &headers, body).expect("Centrala answers");
    (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
}

/// A signed POST of `body` to the generic SMS webhook `path`.
fn sms_post(pbx: &Pbx, path: &str, body: &str) -> (u16, Value) {
    let signature = sign(SMS_SECRET, now_secs(), body.as_bytes());
    call(
        pbx,
        None,
        "POST",
        path,
        body,
        &[("X-Centrala-Signature", &signature)],
    )
}

fn get(pbx: &Pbx, token: &str, path: &str) -> Value {
    let (status, body) = call(pbx, Some(token), "GET", path, "", &[]);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// Waits until `check` holds for GET `path` (as the admin token), up to 10 s.
fn get_until(pbx: &Pbx, path: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = get(pbx, TOKEN, path);
        if check(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "GET {path} never matched: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_sms_becomes_a_task_the_reply_reaches_the_provider_and_nothing_is_lost_on_kill_9() {
    if !enabled("omni_sms") {
        return;
    }
    let ports = PortBlock::claim();
    let stub = ports.port(6);
    let (_runtime, received) = provider(stub);
    let extra = format!(
        "[sms.generic]\nprovider_url = \"http://127.0.0.1:{stub}\"\n\
         [cti]\nallow_private_webhooks = true\n\
         [[cti.webhooks]]\nname = \"crm\"\nurl = \"http://127.0.0.1:{stub}/hook\"\n\
         secret = \"{HOOK_SECRET}\"\nevents = [\"conversation.created\", \"message.received\", \
         \"message.sent\"]\n{}{}",
        agent_token("1002"),
        agent_token("1001"),
    );
    let mut pbx = Pbx::start_in(ports, "omni_sms", "", &extra, &repo("dialplans"));
    let (agent, other) = ("agent-1002-token", "agent-1001-token");
    assert_eq!(
        call(
            &pbx,
            Some(agent),
            "POST",
            "/api/v1/agents/1002/login",
            "",
            &[]
        )
        .0,
        200
    );

    // Unsigned and forged posts are refused with a JSON error, and store nothing.
    let first =
        r#"{"id":"sms-1","from":"600 100 200","to":"+48221000000","text":"Where is my order?"}"#;
    let hook = "/channels/v1/sms/generic";
    let (status, body) = call(&pbx, None, "POST", hook, first, &[]);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );
    let forged = sign("not-the-secret", now_secs(), first.as_bytes());
    let (status, _) = call(
        &pbx,
        None,
        "POST",
        hook,
        first,
        &[("X-Centrala-Signature", &forged)],
    );
    assert_eq!(status, 401);
    let (status, body) = sms_post(&pbx, hook, "{\"id\": 1}");
    assert_eq!(status, 400, "a broken payload is a clear 400: {body}");
    assert!(pbx.query("SELECT id FROM messages").is_empty());

    // A signed message: stored, a conversation, a task in support; a repeat is idempotent.
    let (status, accepted) = sms_post(&pbx, hook, first);
    assert_eq!(status, 200, "{accepted}");
    let (status, again) = sms_post(&pbx, hook, first);
    assert_eq!(status, 200);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["message_id"], accepted["message_id"]);
    assert_eq!(pbx.query("SELECT id FROM messages").len(), 1);
    let conversation = accepted["conversation_id"].as_str().unwrap().to_string();
    let customer = accepted["customer_id"].as_str().unwrap().to_string();
    let task = accepted["task_id"]
        .as_str()
        .expect("routed to a task")
        .to_string();
    let offered = get_until(&pbx, &format!("/api/v1/tasks/{task}"), |t| {
        t["state"] == "offered"
    });
    assert_eq!(offered["channel"], "sms");
    assert_eq!(offered["queue"], "support");
    assert_eq!(offered["agent"], "1002");
    assert_eq!(offered["customer_id"], customer.as_str());
    assert_eq!(offered["conversation_id"], conversation.as_str());

    // The agent takes it, sees the conversation and the customer; another agent does not.
    let accept = format!("/api/v1/tasks/{task}/accept");
    assert_eq!(call(&pbx, Some(agent), "POST", &accept, "", &[]).0, 200);
    let mine = get(&pbx, agent, "/api/v1/conversations");
    assert_eq!(mine["items"][0]["id"], conversation.as_str(), "{mine}");
    let profile = get(&pbx, agent, &format!("/api/v1/customers/{customer}"));
    assert_eq!(profile["identities"][0]["kind"], "phone", "{profile}");
    assert_eq!(profile["identities"][0]["value"], "+48600100200");
    let path = format!("/api/v1/conversations/{conversation}");
    assert_eq!(call(&pbx, Some(other), "GET", &path, "", &[]).0, 404);
    assert_eq!(
        get(&pbx, other, "/api/v1/conversations")["items"],
        json!([])
    );

    // A note, a reply through the provider (signed), its receipt.
    let notes = format!("/api/v1/customers/{customer}/notes");
    let (status, _) = call(
        &pbx,
        Some(agent),
        "POST",
        &notes,
        r#"{"text":"has children"}"#,
        &[],
    );
    assert_eq!(status, 201);
    let messages = format!("/api/v1/conversations/{conversation}/messages");
    let reply = r#"{"text":"It ships today."}"#;
    let (status, sent) = call(&pbx, Some(agent), "POST", &messages, reply, &[]);
    assert_eq!(status, 201, "{sent}");
    assert_eq!(
        (sent["status"].as_str(), sent["external_id"].as_str()),
        (Some("sent"), Some("prov-1"))
    );
    let at_provider: Vec<_> = received
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.0 == "/messages")
        .cloned()
        .collect();
    assert_eq!(at_provider.len(), 1);
    let (_, signature, body) = &at_provider[0];
    verify_signature(SMS_SECRET, signature, body.as_bytes(), now_secs(), 300)
        .expect("signed reply");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (body["to"].as_str(), body["text"].as_str()),
        (Some("+48600100200"), Some("It ships today."))
    );
    let receipt = r#"{"id":"prov-1","status":"delivered"}"#;
    assert_eq!(
        sms_post(&pbx, "/channels/v1/sms/generic/receipts", receipt).0,
        204
    );

    // The customer writes again: same conversation, same task.
    let second = r#"{"id":"sms-2","from":"+48600100200","to":"+48221000000","text":"Thanks!"}"#;
    let (_, joined) = sms_post(&pbx, hook, second);
    assert_eq!(joined["conversation_id"], conversation.as_str());
    assert_eq!(joined["task_id"], task.as_str());

    // kill -9: the conversation, its messages and the task are all there after the restart.
    pbx.centrala.kill9();
    pbx.centrala.restart().expect("centrala restarts");
    let listed = get(&pbx, TOKEN, &messages);
    let states: Vec<(&str, &str)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["direction"].as_str().unwrap(),
                m["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [("in", "received"), ("out", "delivered"), ("in", "received")]
    );
    get_until(&pbx, &format!("/api/v1/tasks/{task}"), |t| {
        t["conversation_id"] == conversation.as_str()
    });

    // The timeline: newest first, every kind of interaction.
    let timeline = get(
        &pbx,
        TOKEN,
        &format!("/api/v1/customers/{customer}/timeline?limit=10"),
    );
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["message", "message", "note", "message", "conversation"],
        "{timeline}"
    );
    assert_eq!(timeline["items"][0]["text"], "Thanks!");
    assert_eq!(timeline["items"][2]["text"], "has children");
    let page = get(
        &pbx,
        TOKEN,
        &format!("/api/v1/customers/{customer}/timeline?limit=2&offset=2"),
    );
    assert_eq!(page["items"][0]["kind"], "note");
    assert_eq!(page["next_offset"], 4);

    // The CRM heard of it through its webhook, signed.
    let deadline = Instant::now() + Duration::from_secs(10);
    let wanted = [
        "conversation.created",
        "message.received",
        "message.sent",
        "message.received",
    ];
    loop {
        let mut ids = std::collections::BTreeSet::new();
        let hooks: Vec<String> = received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.0 == "/hook")
            .filter_map(|(_, signature, body)| {
                verify_signature(HOOK_SECRET, signature, body.as_bytes(), now_secs(), 300)
                    .expect("signed event");
                let event = serde_json::from_str::<Value>(body).unwrap();
                // Delivery is at least once: a kill -9 may repeat an event, never lose one.
                ids.insert(event["id"].to_string())
                    .then(|| event["type"].as_str().unwrap().to_string())
            })
            .collect();
        if hooks == wanted {
            break;
        }
        assert!(Instant::now() < deadline, "events: {hooks:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
