//! The agent desktop's event stream with a real call: a caller queued by the dialplan is
//! offered to agent 1002, whose WebSocket gets the screen pop (customer, CTI data, history)
//! ahead of the offer's events, then the call's events; another agent's socket gets nothing.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::common::centrala::http_request;
use crate::queues::PLAN;
use crate::support::{Pbx, TOKEN, dialplan_dir, enabled};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A fresh agent token for `number`, made through the API.
pub(crate) fn agent_token(pbx: &Pbx, number: &str) -> String {
    let auth = format!("Bearer {TOKEN}");
    let body = format!(r#"{{"name":"desk-{number}","role":"agent","agent":"{number}"}}"#);
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (status, answer) = http_request(
        pbx.centrala.http(),
        "POST",
        "/api/v1/tokens",
        &headers,
        &body,
    )
    .unwrap();
    assert_eq!(status, 201, "{answer}");
    let created: Value = serde_json::from_str(&answer).unwrap();
    created["token"].as_str().unwrap().to_string()
}

pub(crate) async fn connect(pbx: &Pbx, token: &str) -> Socket {
    let url = format!(
        "ws://{}/api/v1/events?access_token={token}",
        pbx.centrala.http()
    );
    tokio_tungstenite::connect_async(url)
        .await
        .expect("WebSocket opens")
        .0
}

/// Every JSON frame until `until` passes.
async fn frames_until(socket: &mut Socket, until: Instant) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => frames.push(serde_json::from_str(&text).unwrap()),
            Ok(Some(Ok(_))) => {}
            _ => return frames,
        }
    }
}

/// The call's task in `/api/v1/tasks` once an agent holds it (waiting up to 10 s).
fn answered_task(pbx: &Pbx) -> Value {
    for _ in 0..100 {
        let tasks = pbx.api("/api/v1/tasks");
        if let Some(task) = tasks["items"]
            .as_array()
            .and_then(|items| items.iter().find(|t| t["state"] == "assigned"))
        {
            return task.clone();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no task held by an agent: {}", pbx.api("/api/v1/tasks"));
}

#[test]
fn the_offered_agent_gets_the_screen_pop_and_the_calls_events() {
    if !enabled("screen_pop") {
        return;
    }
    let dir = dialplan_dir("screen_pop", &[("plan.yaml", PLAN)]);
    let pbx = Pbx::start_with_dialplan("screen_pop", "", "", &dir);
    pbx.register(1, "1002");
    let (own_token, other_token) = (agent_token(&pbx, "1002"), agent_token(&pbx, "1003"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut own, mut other) = runtime.block_on(async {
        (
            connect(&pbx, &own_token).await,
            connect(&pbx, &other_token).await,
        )
    });
    let uas = pbx.answering_phone(1, 3);
    let uac = pbx
        .sipp(0, "uac", "uac_call.xml")
        .service("8000")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .tone_secs(3)
        .spawn()
        .expect("sipp starts");
    let live_task = answered_task(&pbx);
    let uac = uac.wait().unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    uas.wait().unwrap();
    let until = Instant::now() + Duration::from_secs(3);
    let (own, other) = runtime.block_on(async {
        (
            frames_until(&mut own, until).await,
            frames_until(&mut other, until).await,
        )
    });
    let kinds: Vec<&str> = own.iter().map(|f| f["type"].as_str().unwrap()).collect();
    let pop_at = kinds
        .iter()
        .position(|k| *k == "screen_pop")
        .expect("a screen pop");
    let offered_at = kinds
        .iter()
        .position(|k| *k == "task.offered")
        .expect("task.offered");
    assert!(pop_at < offered_at, "the pop comes first: {kinds:?}");
    for kind in [
        "call.ringing",
        "task.accepted",
        "call.answered",
        "task.completed",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
    }
    let pop = &own[pop_at];
    assert_eq!(pop["agent_id"], "1002");
    assert_eq!(
        (&pop["channel"], &pop["queue"]),
        (&Value::from("voice"), &Value::from("support"))
    );
    assert_eq!(pop["customer"]["id"], "1001", "the caller");
    assert_eq!(
        pop["cti"]["called.number"], "8000",
        "the dialplan's variables"
    );
    assert!(pop["history"]["calls"].is_array(), "{pop}");
    // Every event of the call's task names the call: its id (the CDR's) and SIP Call-ID.
    let offered = &own[offered_at];
    let call_id = offered["call_id"]
        .as_str()
        .expect("task.offered names the call");
    let sip_call_id = offered["data"]["sip_call_id"]
        .as_str()
        .expect("and its Call-ID");
    for frame in own.iter().filter(|f| {
        !["screen_pop", "hello", "agent.state_changed"].contains(&f["type"].as_str().unwrap_or(""))
    }) {
        assert_eq!(frame["call_id"], call_id, "{frame}");
        assert_eq!(frame["data"]["sip_call_id"], sip_call_id, "{frame}");
    }
    assert_eq!(pop["cti"]["call_id"], call_id);
    assert_eq!(
        (&live_task["channel"], &live_task["attributes"]["call_id"]),
        (&Value::from("voice"), &Value::from(call_id)),
        "the API's task names its call: {live_task}"
    );
    assert_eq!(live_task["attributes"]["sip_call_id"], sip_call_id);
    let cdrs = pbx.cdrs(1);
    let cdr = cdrs
        .iter()
        .find(|c| c["id"] == call_id)
        .unwrap_or_else(|| panic!("no CDR {call_id}: {cdrs:?}"));
    assert_eq!(cdr["call_id"], sip_call_id);
    let seen: Vec<&Value> = other.iter().filter(|f| f["type"] != "hello").collect();
    assert!(
        seen.is_empty(),
        "agent 1003 sees nothing of 1002's call: {seen:?}"
    );
}
