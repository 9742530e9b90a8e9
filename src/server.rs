//! Wiring: starts every subsystem from a `Config` and stops them.
//!
//! Owns: the order of start-up (store, then SIP, then HTTP) and shutdown.
//! Must not touch: protocol logic; it only connects the parts.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::api::{self, ApiState};
use crate::config::Config;
use crate::store::Store;
use crate::telemetry::Metrics;

/// A running Centrala.
pub struct Server {
    http_addr: SocketAddr,
    sip_addr: SocketAddr,
    http_task: JoinHandle<()>,
}

impl Server {
    /// Starts everything; fails if a port cannot be bound or the database is unreachable.
    pub async fn start(config: Config) -> anyhow::Result<Server> {
        let metrics = Metrics::new();
        let store = Store::connect(&config.database.url)
            .await
            .with_context(|| format!("opening the database {}", config.database.url))?;
        let listener = TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("binding HTTP {}", config.http.listen))?;
        let http_addr = listener.local_addr()?;
        let app = api::app(ApiState {
            store,
            metrics,
            api_token: Arc::from(config.http.api_token.as_str()),
        });
        let http_task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(%err, "HTTP server stopped");
            }
        });
        Ok(Server {
            http_addr,
            sip_addr: config.sip.listen,
            http_task,
        })
    }

    /// Where HTTP listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Where SIP listens.
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip_addr
    }

    /// Stops accepting work and ends the tasks.
    pub async fn shutdown(self) {
        self.http_task.abort();
    }
}
