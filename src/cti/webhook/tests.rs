//! Worker tests against a real HTTP receiver on loopback that is down for a while, then
//! answers 503 a few times, then accepts; with a worker "restart" in the middle.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use super::*;
use crate::config::{CtiConfig, WebhookConfig};
use crate::store::testing::fresh_store;
use crate::store::{Store, SubscriptionRow};

#[derive(Debug, Clone)]
struct Received {
    subscription: String,
    event_id: String,
    body_id: String,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Requests still to refuse with 503.
    refuse: Arc<AtomicUsize>,
}

async fn receive(
    State(rx): State<Receiver>,
    Path(subscription): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if rx
        .refuse
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let secret = format!("secret-{subscription}");
    let now = SystemClock.now_ms() / 1000;
    if verify_signature(&secret, &header(SIGNATURE_HEADER), &body, now, 60).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    let json: Value = serde_json::from_slice(&body).unwrap_or_default();
    rx.got.lock().unwrap().push(Received {
        subscription,
        event_id: header(EVENT_ID_HEADER),
        body_id: json["id"].as_str().unwrap_or_default().to_string(),
    });
    StatusCode::NO_CONTENT
}

async fn serve(listener: tokio::net::TcpListener, rx: Receiver) {
    let app = Router::new()
        .route("/hooks/{subscription}", post(receive))
        .with_state(rx);
    tokio::spawn(async move { axum::serve(listener, app).await });
}

fn settings() -> DeliverySettings {
    DeliverySettings {
        timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
        },
        idle_poll: Duration::from_millis(100),
        batch: 64,
    }
}

fn subscription(port: u16, name: &str, events: &[&str]) -> SubscriptionRow {
    SubscriptionRow {
        id: name.into(),
        url: format!("http://127.0.0.1:{port}/hooks/{name}"),
        secret: format!("secret-{name}"),
        events: events.iter().map(|e| e.to_string()).collect(),
        active: true,
        created_at_ms: 0,
    }
}

async fn enqueue(store: &Store, kind: EventKind, n: usize) -> String {
    let mut event = Event::new(kind, SystemClock.now_ms());
    event.call_id = Some(format!("c-{n}"));
    event.data = json!({"n": n});
    let mut tx = store.begin().await.unwrap();
    Store::enqueue_event_in(&mut tx, &event.to_outbox())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    event.id
}

#[tokio::test]
async fn receiver_down_then_up_gets_every_event_once_in_order_across_a_restart() {
    let (store, _dir) = fresh_store().await;
    // Reserve a loopback port, then close it: the receiver is down (connection refused).
    let port = {
        let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        probe.local_addr().unwrap().port()
    };
    store
        .upsert_subscription(&subscription(port, "all", &[]))
        .await
        .unwrap();
    store
        .upsert_subscription(&subscription(port, "ended", &["call.ended"]))
        .await
        .unwrap();

    let kinds = [
        EventKind::CallRinging,
        EventKind::CallAnswered,
        EventKind::CallEnded,
        EventKind::TaskCompleted,
        EventKind::CallEnded,
    ];
    let mut all = Vec::new();
    let mut ended = Vec::new();
    for (n, kind) in kinds.iter().enumerate() {
        let id = enqueue(&store, *kind, n).await;
        if *kind == EventKind::CallEnded {
            ended.push(id.clone());
        }
        all.push(id);
    }

    let first = DeliveryWorker::new(store.clone(), settings(), None).unwrap();
    let first_metrics = first.metrics();
    let handle = first.spawn();
    tokio::time::sleep(Duration::from_millis(300)).await;
    handle.stop().await;
    assert!(first_metrics.failed_attempts.load(Ordering::Relaxed) >= 2);
    assert_eq!(first_metrics.delivered.load(Ordering::Relaxed), 0);

    // "Restart": more events while no worker runs, then a new worker on the same store.
    for n in 5..8 {
        let id = enqueue(&store, EventKind::CallEnded, n).await;
        all.push(id.clone());
        ended.push(id);
    }
    let second = DeliveryWorker::new(store.clone(), settings(), None).unwrap();
    let waker = second.waker();
    let _handle = second.spawn();
    waker.notify_one();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The receiver comes up, refusing its first three requests with 503.
    let rx = Receiver::default();
    rx.refuse.store(3, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    serve(listener, rx.clone()).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while store.pending_deliveries().await.unwrap() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "not all delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = rx.got.lock().unwrap().clone();
    let ids_of = |sub: &str| -> Vec<String> {
        got.iter()
            .filter(|r| r.subscription == sub)
            .map(|r| {
                assert_eq!(r.event_id, r.body_id, "header id matches body id");
                r.event_id.clone()
            })
            .collect()
    };
    assert_eq!(ids_of("all"), all, "every event once, in order");
    assert_eq!(ids_of("ended"), ended, "filtered, once, in order");
    assert_eq!(rx.refuse.load(Ordering::SeqCst), 0, "503s were retried");
}

#[tokio::test]
async fn config_subscriptions_are_synced_and_retired() {
    let (store, _dir) = fresh_store().await;
    let hook = |name: &str| WebhookConfig {
        name: name.into(),
        url: format!("http://127.0.0.1:48001/{name}"),
        secret: "s".into(),
        events: vec!["call.ended".into()],
    };
    let mut config = CtiConfig {
        webhooks: vec![hook("a"), hook("b")],
        ..CtiConfig::default()
    };
    store
        .upsert_subscription(&subscription(48001, "api-made", &[]))
        .await
        .unwrap();
    sync_config_subscriptions(&store, &config, 5).await.unwrap();
    config.webhooks.remove(0);
    sync_config_subscriptions(&store, &config, 6).await.unwrap();
    let state: Vec<(String, bool)> = store
        .subscriptions()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.id, s.active))
        .collect();
    assert_eq!(
        state,
        [
            ("api-made".to_string(), true),
            ("config:a".to_string(), false),
            ("config:b".to_string(), true),
        ]
    );
}
