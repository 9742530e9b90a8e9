//! The WebSocket event stream: role filtering and the screen pop on offer.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{AGENT_1001, SUPERVISOR, TestApi};
use crate::routing::{Channel, NewTask};
use crate::store::CdrRecord;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(api: &TestApi, token: &str) -> Socket {
    let url = format!("ws://{}/api/v1/events", api.addr);
    let mut request = url.into_client_request().unwrap();
    let auth = format!("Bearer {token}").parse().unwrap();
    request.headers_mut().insert("authorization", auth);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let hello = next(&mut socket).await.expect("hello");
    assert_eq!(hello["type"], "hello");
    socket
}

/// The next JSON frame within 2 s.
async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(2), socket.next())
            .await
            .ok()??;
        if let Ok(Message::Text(text)) = frame {
            return serde_json::from_str(&text).ok();
        }
    }
}

/// Frames until 300 ms pass without one.
async fn drain(socket: &mut Socket) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Ok(Some(Ok(Message::Text(text)))) =
        tokio::time::timeout(Duration::from_millis(300), socket.next()).await
    {
        frames.push(serde_json::from_str(&text).unwrap());
    }
    frames
}

#[tokio::test]
async fn the_offered_agent_gets_a_screen_pop_first_and_others_see_nothing_of_it() {
    let api = TestApi::start().await;
    let cdr = CdrRecord {
        id: "old-call".into(),
        call_id: "x@sip".into(),
        caller: "+48600100200".into(),
        callee: "800".into(),
        origin: "trunk:pstn".into(),
        started_at_ms: 5,
        answered_at_ms: None,
        ended_at_ms: 9,
        result: "cancelled".into(),
        hangup_cause: "caller".into(),
        hangup_side: "caller".into(),
        transferred_to: None,
        caller_quality: None,
        callee_quality: None,
        queue: None,
        agent: None,
        wait_ms: None,
    };
    api.store.insert_cdr(&cdr).await.unwrap();
    api.login("1001").await;
    let other_token = api.token("agent", Some("1002")).await;
    let mut own = connect(&api, AGENT_1001).await;
    let mut other = connect(&api, &other_token).await;
    let mut boss = connect(&api, SUPERVISOR).await;
    drain(&mut own).await;
    drain(&mut boss).await;

    let mut chat = NewTask::new(Channel::Chat, "sales");
    chat.customer = Some("+48600100200".into());
    chat.attributes
        .insert("order.status".into(), "shipped".into());
    let task = api.acd.enqueue(chat).await.unwrap();

    let frames = drain(&mut own).await;
    let kinds: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
    // The offer makes the agent busy: the agent's own state change follows.
    assert_eq!(
        kinds,
        ["screen_pop", "task.offered", "agent.state_changed"],
        "{frames:?}"
    );
    let pop = &frames[0];
    assert_eq!(pop["task_id"], task.0.to_string());
    assert_eq!(pop["customer"]["id"], "+48600100200");
    assert_eq!(pop["cti"]["order.status"], "shipped");
    assert_eq!(pop["history"]["calls"][0]["call_id"], "old-call");
    let seen = drain(&mut other).await;
    assert!(seen.is_empty(), "another agent sees none of it: {seen:?}");
    let watched = drain(&mut boss).await;
    let kinds: Vec<&str> = watched
        .iter()
        .map(|f| f["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["task.queued", "task.offered", "agent.state_changed"],
        "supervisors see events, no pops"
    );
}

#[tokio::test]
async fn the_stream_refuses_bad_tokens_and_plain_http() {
    let api = TestApi::start().await;
    let url = format!("ws://{}/api/v1/events", api.addr);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer nope".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
    let (status, answer) = api.get("/api/v1/events", SUPERVISOR).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "bad_request");
    let url = format!("ws://{}/api/v1/events?access_token={AGENT_1001}", api.addr);
    assert!(
        tokio_tungstenite::connect_async(url).await.is_ok(),
        "token in the query"
    );
}

#[tokio::test]
async fn revoking_a_token_ends_its_open_streams() {
    let api = TestApi::start().await;
    let body = serde_json::json!({"name": "wallboard", "role": "supervisor"});
    let (status, created) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/tokens",
            super::ADMIN,
            Some(body),
        )
        .await;
    assert_eq!(status, 201);
    let secret = created["token"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();
    let mut revoked_one = connect(&api, secret).await;
    let mut other = connect(&api, SUPERVISOR).await;
    let path = format!("/api/v1/tokens/{id}");
    let (status, _) = api
        .call(reqwest::Method::DELETE, &path, super::ADMIN, None)
        .await;
    assert_eq!(status, 204);
    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match revoked_one.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the revoked token's stream is closed");
    api.login("1001").await;
    let frames = drain(&mut other).await;
    assert!(!frames.is_empty(), "other streams go on");
}

#[tokio::test]
async fn a_token_in_the_query_string_is_taken_only_for_the_websocket() {
    let api = TestApi::start().await;
    let path = format!("/api/v1/agents?access_token={SUPERVISOR}");
    let response = api.raw(reqwest::Method::GET, &path).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401, "not on a plain request");
    let path = format!("/api/v1/events?access_token={SUPERVISOR}");
    let response = api.raw(reqwest::Method::GET, &path).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401, "not without an upgrade");
    let url = format!("ws://{}/api/v1/events?access_token={SUPERVISOR}", api.addr);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = next(&mut socket).await.expect("hello");
    assert_eq!(hello["role"], "supervisor");
}
