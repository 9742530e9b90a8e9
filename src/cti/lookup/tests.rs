//! Shell tests: `LookupService` against a real axum stub CRM on loopback (real time: real
//! sockets and tokio's paused clock do not mix).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::*;
use crate::config::{BreakerConfig, CtiConfig, LookupAuth, LookupConfig, LookupMethod};

#[derive(Clone, Default)]
struct Stub {
    hits: Arc<AtomicUsize>,
    fail: Arc<AtomicBool>,
}

async fn start_stub(stub: Stub) -> String {
    async fn customer(State(stub): State<Stub>, Path(number): Path<String>) -> Response {
        stub.hits.fetch_add(1, Ordering::SeqCst);
        if stub.fail.load(Ordering::SeqCst) {
            return Err(StatusCode::INTERNAL_SERVER_ERROR);
        }
        if number != "+48221112233" {
            return Err(StatusCode::NOT_FOUND);
        }
        Ok(Json(json!({
            "name": "Jan Kowalski",
            "debt": {"overdue_days": 45, "balance": -120.5},
            "vip": false,
            "internal": "not mapped"
        })))
    }
    async fn slow() -> Response {
        tokio::time::sleep(Duration::from_secs(3)).await;
        Ok(Json(json!({})))
    }
    async fn echo(headers: HeaderMap, Json(body): Json<Value>) -> Response {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let tenant = headers
            .get("x-tenant")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok(Json(json!({"auth": auth, "tenant": tenant, "body": body})))
    }
    type Response = Result<Json<Value>, StatusCode>;
    let app = Router::new()
        .route("/customers/by-phone/{number}", get(customer))
        .route("/slow/{number}", get(slow))
        .route("/text", get(|| async { "not json" }))
        .route("/echo/{email}", post(echo))
        .with_state(stub);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn lookup(name: &str, url: String, timeout_ms: u64, cache_ttl_secs: u64) -> LookupConfig {
    LookupConfig {
        name: name.into(),
        url,
        method: LookupMethod::Get,
        headers: BTreeMap::new(),
        auth: None,
        timeout_ms,
        cache_ttl_secs,
        mapping: [("name", "/name"), ("debt", "/debt"), ("vip", "/vip")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn service(lookups: Vec<LookupConfig>, failures_to_open: u32, open_secs: u64) -> LookupService {
    let config = CtiConfig {
        lookups,
        breaker: BreakerConfig {
            failures_to_open,
            open_secs,
        },
        ..CtiConfig::default()
    };
    config.validate().unwrap();
    LookupService::new(&config).unwrap()
}

fn params(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("tests pass objects"),
    }
}

#[tokio::test]
async fn answer_is_mapped_and_cached() {
    let stub = Stub::default();
    let base = start_stub(stub.clone()).await;
    let url = format!("{base}/customers/by-phone/{{number}}");
    let svc = service(vec![lookup("by_phone", url, 1000, 60)], 5, 30);
    for raw in ["22 111 22 33", "+48 22 111-22-33"] {
        let answer = svc
            .lookup("by_phone", params(json!({"number": raw})))
            .await
            .unwrap();
        assert_eq!(
            answer,
            json!({"name": "Jan Kowalski", "debt": {"overdue_days": 45, "balance": -120.5},
                   "vip": false})
        );
    }
    assert_eq!(
        stub.hits.load(Ordering::SeqCst),
        1,
        "second answer from cache"
    );
    let m = svc.metrics("by_phone").unwrap().snapshot();
    assert_eq!((m.requests, m.cache_hits, m.successes), (2, 1, 1));
}

#[tokio::test]
async fn slow_crm_times_out_within_the_bound() {
    let base = start_stub(Stub::default()).await;
    let svc = service(
        vec![lookup("slow", format!("{base}/slow/{{number}}"), 200, 60)],
        5,
        30,
    );
    let started = std::time::Instant::now();
    let err = svc
        .lookup("slow", params(json!({"number": "+48221112233"})))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(err, LookupError::Timeout { after_ms: 200, .. }),
        "{err}"
    );
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(700), "{elapsed:?}");
    assert_eq!(svc.metrics("slow").unwrap().snapshot().timeouts, 1);
}

#[tokio::test]
async fn failing_crm_opens_the_breaker_and_a_probe_closes_it() {
    let stub = Stub::default();
    stub.fail.store(true, Ordering::SeqCst);
    let base = start_stub(stub.clone()).await;
    let url = format!("{base}/customers/by-phone/{{number}}");
    let svc = service(vec![lookup("crm", url, 1000, 0)], 2, 1);
    let ask = || svc.lookup("crm", params(json!({"number": "221112233"})));
    for _ in 0..2 {
        let err = ask().await.unwrap_err();
        assert!(
            matches!(err, LookupError::Status { status: 500, .. }),
            "{err}"
        );
    }
    let started = std::time::Instant::now();
    let err = ask().await.unwrap_err();
    assert!(matches!(err, LookupError::CircuitOpen { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_millis(50));
    assert_eq!(
        stub.hits.load(Ordering::SeqCst),
        2,
        "open circuit sends nothing"
    );

    stub.fail.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert!(ask().await.is_ok(), "half-open probe succeeds");
    assert!(ask().await.is_ok(), "closed again");
    let m = svc.metrics("crm").unwrap().snapshot();
    assert_eq!(
        (m.failures, m.rejected_open, m.circuit_opened, m.successes),
        (2, 1, 1, 2)
    );
}

#[tokio::test]
async fn not_found_bad_json_and_unknown_lookup() {
    let base = start_stub(Stub::default()).await;
    let by_phone = lookup(
        "p",
        format!("{base}/customers/by-phone/{{number}}"),
        1000,
        0,
    );
    let text = lookup("t", format!("{base}/text"), 1000, 0);
    let svc = service(vec![by_phone, text], 1, 30);
    for _ in 0..2 {
        // 404 does not open the breaker, even with failures_to_open = 1.
        let err = svc
            .lookup("p", params(json!({"number": "+48 600 000 000"})))
            .await
            .unwrap_err();
        assert!(matches!(err, LookupError::NotFound { .. }), "{err}");
    }
    let err = svc.lookup("t", Map::new()).await.unwrap_err();
    assert!(matches!(err, LookupError::BadJson { .. }), "{err}");
    let err = svc.lookup("nope", Map::new()).await.unwrap_err();
    assert!(matches!(err, LookupError::UnknownLookup(_)), "{err}");
}

#[tokio::test]
async fn post_sends_params_headers_and_auth() {
    let base = start_stub(Stub::default()).await;
    let mut config = lookup("e", format!("{base}/echo/{{email}}"), 1000, 0);
    config.method = LookupMethod::Post;
    config.mapping.clear();
    config.headers.insert("X-Tenant".into(), "demo".into());
    config.auth = Some(LookupAuth::Bearer {
        token: "t0k".into(),
    });
    let svc = service(vec![config], 5, 30);
    let answer = svc
        .lookup(
            "e",
            params(json!({"email": " Ann@Example.com", "channel": "chat"})),
        )
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"auth": "Bearer t0k", "tenant": "demo",
               "body": {"email": "ann@example.com", "channel": "chat"}})
    );
}

/// Log lines at info and above written by what runs on this thread until the guard drops.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn lines(&self) -> Vec<String> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }
}

#[tokio::test]
async fn a_crm_that_refuses_connections_is_logged_once_with_the_cause() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/customers/by-phone/{{number}}");
    let svc = service(vec![lookup("crm", url, 1000, 0)], 5, 30);
    let logs = Logs::default();
    let guard = logs.capture();
    let err = svc
        .lookup("crm", params(json!({"number": "+48221112233"})))
        .await
        .unwrap_err();
    drop(guard);
    assert!(matches!(err, LookupError::Transport { .. }), "{err}");
    let lines = logs.lines();
    let [line] = &lines[..] else {
        panic!("one log line: {lines:#?}")
    };
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.to_lowercase().contains("connection refused"),
        "the cause is named: {line}"
    );
    assert!(line.contains("\"crm\""), "the lookup is named: {line}");
    assert!(
        !line.contains("221112233"),
        "no customer number from the URL: {line}"
    );
}
