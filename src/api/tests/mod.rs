//! API tests: the real router on a loopback listener, a real store (SQLite, or PostgreSQL
//! with `CENTRALA_TEST_POSTGRES`), the real ACD shell and event bridge, HTTP through reqwest.

mod customers;
mod flows;
mod reports;
mod roles;
mod stream;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use super::auth::seed_config_tokens;
use super::{ApiState, FailureLimiter, LimitPolicy, app};
use crate::config::{Config, CtiConfig};
use crate::cti::events::{Publisher, ScreenPop, acd_hooks};
use crate::cti::lookup::LookupService;
use crate::routing::driver::{AcdOptions, SystemClock};
use crate::routing::{AcdHandle, FeatureAction};
use crate::store::Store;
use crate::store::testing::fresh_store;
use crate::telemetry::Metrics;

/// The demo tokens (see `HttpConfig::default`).
pub const ADMIN: &str = "demo-admin-token";
pub const AGENT_1001: &str = "demo-agent-1001-token";
pub const SUPERVISOR: &str = "demo-supervisor-token";
pub const INTEGRATION: &str = "demo-integration-token";

/// A running API on the demo configuration.
pub struct TestApi {
    pub addr: SocketAddr,
    pub store: Store,
    pub acd: AcdHandle,
    client: reqwest::Client,
    pub dir: tempfile::TempDir,
}

impl TestApi {
    /// With a lenient limit of failed authentications.
    pub async fn start() -> TestApi {
        Self::start_with(lenient()).await
    }

    /// Webhooks to the test's loopback receivers are allowed.
    pub async fn start_with(policy: LimitPolicy) -> TestApi {
        let mut config = Config::default();
        config.cti.allow_private_webhooks = true;
        Self::start_configured(config, policy).await
    }

    /// On `config` (its queues, agents and tokens).
    pub async fn start_configured(config: Config, policy: LimitPolicy) -> TestApi {
        let (store, dir) = fresh_store().await;
        let publisher = Publisher::new(store.clone(), Arc::new(Notify::new()));
        let store = store.with_events(publisher.store_hooks());
        seed_config_tokens(&store, &config.http, 0).await.unwrap();
        let no_crm = CtiConfig {
            lookups: Vec::new(),
            ..CtiConfig::default()
        };
        let lookups = Arc::new(LookupService::new(&no_crm).unwrap());
        let pop = ScreenPop::new(store.clone(), lookups.clone(), Duration::from_millis(300));
        let (acd, _task) = crate::routing::driver::start_with(
            config.routing_setup().unwrap(),
            Arc::new(store.clone()),
            Arc::new(SystemClock),
            AcdOptions::default(),
            acd_hooks(&publisher, pop),
        )
        .await
        .unwrap();
        let channels = crate::channels::Channels::new(
            &config,
            store.clone(),
            lookups.clone(),
            acd.clone(),
            publisher.clone(),
        )
        .unwrap();
        let router = app(ApiState {
            store: store.clone(),
            metrics: Metrics::new(),
            acd: acd.clone(),
            lookups,
            publisher,
            calls: None,
            limiter: Arc::new(Mutex::new(FailureLimiter::new(policy))),
            metrics_token_hash: None,
            revocations: Default::default(),
            allow_private_webhooks: config.cti.allow_private_webhooks,
            channels,
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, service).await.unwrap();
        });
        TestApi {
            addr,
            store,
            acd,
            client: crate::cti::http_client::build_client(None).unwrap(),
            dir,
        }
    }

    /// `method path` with `token` and an optional JSON body: (status, JSON body or null).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("http://{}{path}", self.addr))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, path, token, None).await
    }

    /// A raw request (headers and body as given).
    pub fn raw(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("http://{}{path}", self.addr))
    }

    /// Logs `number` in directly through the ACD.
    pub async fn login(&self, number: &str) {
        let agent = self.acd.agent_id(number).unwrap();
        self.acd.agent(agent, FeatureAction::Login).await.unwrap();
    }

    /// Creates a token through the API and returns its secret.
    pub async fn token(&self, role: &str, agent: Option<&str>) -> String {
        let body =
            serde_json::json!({"name": format!("{role}-{agent:?}"), "role": role, "agent": agent});
        let (status, created) = self
            .call(Method::POST, "/api/v1/tokens", ADMIN, Some(body))
            .await;
        assert_eq!(status, 201, "{created}");
        created["token"].as_str().unwrap().to_string()
    }
}

/// A limit of failed authentications no test reaches by accident.
pub fn lenient() -> LimitPolicy {
    LimitPolicy {
        max_failures: 1000,
        window: Duration::from_secs(60),
        block: Duration::from_secs(60),
    }
}

/// Polls `check` every 20 ms for up to 5 s.
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_for(what, 5, check).await;
}

/// Polls `check` every 20 ms for up to `secs` seconds.
pub async fn eventually_for<F, Fut>(what: &str, secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..secs * 50 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}
