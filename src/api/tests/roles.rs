//! Every endpoint against every role, forbidden cases, bad credentials and malformed input.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::{ADMIN, AGENT_1001, INTEGRATION, SUPERVISOR, TestApi};
use crate::api::LimitPolicy;

const REPORT_QUEUES: &str = "/api/v1/reports/queues?from=2026-12-07&to=2026-12-08";
const REPORT_AGENTS: &str = "/api/v1/reports/agents?from=2026-12-07&to=2026-12-08";
const REPORT_CHANNELS: &str = "/api/v1/reports/channels?from=2026-12-07&to=2026-12-08";

const AG: u8 = 1;
const SU: u8 = 2;
const AD: u8 = 4;
const IN: u8 = 8;

/// Every route with the roles it admits (an agent's own resources: agent 1001).
fn routes() -> Vec<(Method, &'static str, Option<Value>, u8)> {
    let any = AG | SU | AD | IN;
    vec![
        (Method::GET, "/api/v1/tokens", None, AD),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "x", "role": "supervisor"})),
            AD,
        ),
        (Method::DELETE, "/api/v1/tokens/tok_none", None, AD),
        (Method::GET, "/api/v1/agents", None, any),
        (Method::GET, "/api/v1/agents/1001", None, any),
        (
            Method::POST,
            "/api/v1/agents/1001/login",
            None,
            AG | SU | AD,
        ),
        (
            Method::PUT,
            "/api/v1/agents/1001/state",
            Some(json!({"state": "available"})),
            AG | SU | AD,
        ),
        (
            Method::POST,
            "/api/v1/agents/1001/logout",
            None,
            AG | SU | AD,
        ),
        (
            Method::POST,
            "/api/v1/calls",
            Some(json!({"agent": "1001", "number": "600100200"})),
            any,
        ),
        (Method::GET, "/api/v1/queues", None, any),
        (Method::GET, "/api/v1/queues/sales", None, any),
        (Method::GET, "/api/v1/tasks", None, any),
        (Method::GET, "/api/v1/tasks/1", None, any),
        (Method::POST, "/api/v1/tasks/1/accept", None, AG | SU | AD),
        (Method::POST, "/api/v1/tasks/1/reject", None, AG | SU | AD),
        (
            Method::POST,
            "/api/v1/tasks/1/transfer",
            Some(json!({"queue": "sales"})),
            AG | SU | AD,
        ),
        (
            Method::POST,
            "/api/v1/tasks/1/complete",
            Some(json!({"disposition": {"code": "sale"}})),
            AG | SU | AD,
        ),
        (Method::GET, "/api/v1/recordings", None, SU | AD | IN),
        (Method::GET, "/api/v1/recordings/r1", None, SU | AD | IN),
        (
            Method::GET,
            "/api/v1/recordings/r1/audio",
            None,
            SU | AD | IN,
        ),
        // An agent only for the customers of their own calls (none here): 403.
        (
            Method::GET,
            "/api/v1/customers/lookup?number=600100200",
            None,
            SU | AD | IN,
        ),
        (
            Method::GET,
            "/api/v1/customers/600100200/history",
            None,
            any,
        ),
        (Method::GET, "/api/v1/webhooks", None, AD | IN),
        (
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/h"})),
            AD | IN,
        ),
        (Method::GET, "/api/v1/webhooks/whk_none", None, AD | IN),
        (
            Method::PUT,
            "/api/v1/webhooks/whk_none",
            Some(json!({"active": false})),
            AD | IN,
        ),
        (Method::DELETE, "/api/v1/webhooks/whk_none", None, AD | IN),
        (Method::GET, "/api/v1/cdrs", None, SU | AD | IN),
        (Method::GET, "/api/v1/registrations", None, SU | AD | IN),
        (Method::GET, REPORT_QUEUES, None, SU | AD),
        (Method::GET, REPORT_AGENTS, None, SU | AD),
        (Method::GET, REPORT_CHANNELS, None, SU | AD),
        (Method::GET, "/api/v1/events", None, any),
        (Method::GET, "/api/v1/bans", None, SU | AD),
        (Method::DELETE, "/api/v1/bans/192.0.2.1", None, AD),
    ]
}

#[tokio::test]
async fn every_endpoint_admits_exactly_its_roles() {
    let api = TestApi::start().await;
    let tokens = [
        (AG, AGENT_1001),
        (SU, SUPERVISOR),
        (AD, ADMIN),
        (IN, INTEGRATION),
    ];
    for (method, path, body, allowed) in routes() {
        for (role, token) in tokens {
            let (status, answer) = api.call(method.clone(), path, token, body.clone()).await;
            if allowed & role == 0 {
                assert_eq!(status, 403, "{method} {path} as {token}: {answer}");
                assert_eq!(answer["error"]["code"], "forbidden");
            } else {
                // 503: the API tests run no SIP side, so calls cannot be placed.
                assert!(
                    ![401, 403, 405].contains(&status) && (status < 500 || status == 503),
                    "{method} {path} as {token}: {status} {answer}"
                );
            }
        }
        let (status, answer) = api.call(method.clone(), path, "wrong", body).await;
        assert_eq!(
            (status, &answer["error"]["code"]),
            (401, &json!("unauthorized")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_agent_cannot_see_or_change_another_agent() {
    let api = TestApi::start().await;
    let (status, _) = api.get("/api/v1/agents/1002", AGENT_1001).await;
    assert_eq!(status, 403);
    for action in ["login", "logout"] {
        let path = format!("/api/v1/agents/1002/{action}");
        let (status, _) = api.call(Method::POST, &path, AGENT_1001, None).await;
        assert_eq!(status, 403, "{action}");
    }
    let body = json!({"state": "break", "reason": 2});
    let (status, _) = api
        .call(
            Method::PUT,
            "/api/v1/agents/1002/state",
            AGENT_1001,
            Some(body),
        )
        .await;
    assert_eq!(status, 403);
    let call = json!({"agent": "1002", "number": "600100200"});
    let (status, _) = api
        .call(Method::POST, "/api/v1/calls", AGENT_1001, Some(call))
        .await;
    assert_eq!(status, 403, "an agent dials only from its own phone");
    let (_, list) = api.get("/api/v1/agents", AGENT_1001).await;
    let numbers: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["1001"], "an agent lists only itself");
    let (_, list) = api.get("/api/v1/agents", SUPERVISOR).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn malformed_json_gets_a_json_400() {
    let api = TestApi::start().await;
    for body in ["{\"state\": ", "[1, 2]", "{\"state\": \"asleep\"}", ""] {
        let response = api
            .raw(Method::PUT, "/api/v1/agents/1001/state")
            .bearer_auth(ADMIN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{body:?}");
        let answer: Value = response.json().await.expect("a JSON body");
        assert_eq!(answer["error"]["code"], "bad_request", "{body:?}");
    }
    let response = api
        .raw(Method::POST, "/api/v1/webhooks")
        .bearer_auth(ADMIN)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "unsupported_media_type");
    let (status, answer) = api.get("/api/v1/cdrs?limit=abc", ADMIN).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (400, &json!("bad_request"))
    );
    let (status, _) = api.get("/api/v1/cdrs?limit=0", ADMIN).await;
    assert_eq!(status, 400);
    let (status, answer) = api.call(Method::PATCH, "/api/v1/cdrs", ADMIN, None).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (405, &json!("method_not_allowed"))
    );
}

#[tokio::test]
async fn failed_authentication_is_rate_limited_per_client() {
    let api = TestApi::start_with(LimitPolicy {
        max_failures: 3,
        window: Duration::from_secs(60),
        block: Duration::from_secs(30),
    })
    .await;
    for _ in 0..3 {
        assert_eq!(api.get("/api/v1/queues", "guess").await.0, 401);
    }
    let response = api
        .raw(Method::GET, "/api/v1/queues")
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "30");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "rate_limited");
    let (status, _) = api.get("/api/v1/queues", ADMIN).await;
    assert_eq!(status, 200, "a right token is never locked out");
    let (status, _) = api.get("/api/v1/queues", AGENT_1001).await;
    assert_eq!(status, 200, "nor another user's behind the same address");
    assert_eq!(
        api.get("/api/v1/queues", "guess-again").await.0,
        429,
        "wrong ones stay blocked"
    );
}

#[tokio::test]
async fn tokens_are_created_once_and_revoked() {
    let api = TestApi::start().await;
    let body = json!({"name": "crm", "role": "integration"});
    let (status, created) = api
        .call(Method::POST, "/api/v1/tokens", ADMIN, Some(body))
        .await;
    assert_eq!(status, 201);
    let secret = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(api.get("/api/v1/webhooks", &secret).await.0, 200);
    let (_, list) = api.get("/api/v1/tokens", ADMIN).await;
    assert!(
        !list.to_string().contains(&secret),
        "the secret is never listed"
    );
    let stored = api.store.tokens().await.unwrap();
    assert!(
        stored.iter().all(|t| t.token_hash != secret),
        "stored hashed"
    );
    let path = format!("/api/v1/tokens/{id}");
    assert_eq!(api.call(Method::DELETE, &path, ADMIN, None).await.0, 204);
    assert_eq!(api.get("/api/v1/webhooks", &secret).await.0, 401);
    assert_eq!(api.call(Method::DELETE, &path, ADMIN, None).await.0, 404);
    let seeded = "/api/v1/tokens/config:admin";
    assert_eq!(
        api.call(Method::DELETE, seeded, ADMIN, None).await.0,
        409,
        "config tokens stay"
    );
    for bad in [
        json!({"name": "a", "role": "agent"}),
        json!({"name": "a", "role": "agent", "agent": "9999"}),
        json!({"name": "a", "role": "admin", "agent": "1001"}),
        json!({"name": "a", "role": "emperor"}),
        json!({"name": "", "role": "admin"}),
    ] {
        let (status, answer) = api
            .call(Method::POST, "/api/v1/tokens", ADMIN, Some(bad.clone()))
            .await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
}

#[tokio::test]
async fn webhooks_into_the_private_network_are_refused_unless_allowed() {
    let api = TestApi::start_configured(crate::config::Config::default(), super::lenient()).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.8/hook",
        "http://localhost/hook",
    ] {
        let body = json!({"url": url, "events": ["call.ended"]});
        let (status, answer) = api
            .call(Method::POST, "/api/v1/webhooks", ADMIN, Some(body))
            .await;
        assert_eq!(status, 400, "{url}: {answer}");
        assert_eq!(answer["error"]["code"], "bad_request", "{answer}");
    }
    let body = json!({"url": "https://crm.example.com/hook", "events": ["call.ended"]});
    let (status, answer) = api
        .call(Method::POST, "/api/v1/webhooks", ADMIN, Some(body))
        .await;
    assert_eq!(status, 201, "{answer}");
}
