//! The example CRM of the demo: customers, their debts and orders, served from a JSON file
//! over HTTP in the shape the demo's lookup (`customer_by_phone`) maps.
//!
//! Owns the example CRM's data model and its three routes (`/customers/by-phone/{number}`,
//! `/customers/by-email/{email}`, `/healthz`). Nothing in the product depends on it: it is
//! the other side of the CTI lookups, started by `centrala demo-crm`, by the built-in demo
//! (`centrala serve` with no configuration file) and by `cargo run --example crm` (the tests).
//!
//! Answers: 200 with the customer (`debt` and `last_order` only when there are some), 404
//! when nobody has that number or address. Knobs for tests: `?delay_ms=N` on a request or a
//! delay for all of them (a slow CRM), `fail` (every lookup answers 500).
//!
//! Demo data (embedded from `examples/crm-data.json`): +48221112233 has an overdue balance
//! (collections queue first), +48225556677 an order that has shipped (order status in the
//! IVR), +48229990000 is a VIP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The demo's data file, built in.
pub const DEMO_DATA: &str = include_str!("../examples/crm-data.json");

/// Where the built-in demo's lookup expects the CRM.
pub const DEMO_ADDR: &str = "127.0.0.1:8090";

/// How to run the example CRM.
#[derive(Debug, Clone)]
pub struct CrmOptions {
    /// The data (JSON: `customers`, `debts`, `orders`); [`DEMO_DATA`] for the demo.
    pub data: String,
    /// Delay every answer by this much.
    pub delay: Duration,
    /// Answer every lookup with 500.
    pub fail: bool,
}

/// Serves the CRM on `listener` until the task is dropped; fails on malformed data.
pub async fn serve(listener: tokio::net::TcpListener, options: CrmOptions) -> anyhow::Result<()> {
    let data: Data = serde_json::from_str(&options.data)?;
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(
        customers = data.customers.len(),
        %addr,
        delay_ms = options.delay.as_millis() as u64,
        failing = options.fail,
        "example CRM serving"
    );
    let crm = Arc::new(Crm {
        data,
        delay: options.delay,
        fail: options.fail,
    });
    let app = Router::new()
        .route("/customers/by-phone/{number}", get(by_phone))
        .route("/customers/by-email/{email}", get(by_email))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(crm);
    axum::serve(listener, app).await?;
    Ok(())
}

/// The data file.
#[derive(Debug, Deserialize)]
struct Data {
    customers: Vec<Customer>,
    #[serde(default)]
    debts: Vec<Map<String, Value>>,
    #[serde(default)]
    orders: Vec<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct Customer {
    id: String,
    #[serde(default)]
    phones: Vec<String>,
    #[serde(default)]
    emails: Vec<String>,
    /// Everything else (name, language, vip…), returned as is.
    #[serde(flatten)]
    rest: Map<String, Value>,
}

struct Crm {
    data: Data,
    delay: Duration,
    fail: bool,
}

#[derive(Debug, Deserialize)]
struct Knobs {
    delay_ms: Option<u64>,
}

type Answer = Result<Json<Value>, StatusCode>;

async fn by_phone(
    State(crm): State<Arc<Crm>>,
    Path(number): Path<String>,
    Query(knobs): Query<Knobs>,
) -> Answer {
    crm.pause(&knobs).await?;
    let wanted = digits(&number);
    let found = crm
        .data
        .customers
        .iter()
        .find(|c| !wanted.is_empty() && c.phones.iter().any(|p| digits(p) == wanted));
    crm.answer(found)
}

async fn by_email(
    State(crm): State<Arc<Crm>>,
    Path(email): Path<String>,
    Query(knobs): Query<Knobs>,
) -> Answer {
    crm.pause(&knobs).await?;
    let wanted = email.trim().to_lowercase();
    let found = crm
        .data
        .customers
        .iter()
        .find(|c| c.emails.iter().any(|e| e.to_lowercase() == wanted));
    crm.answer(found)
}

impl Crm {
    /// Applies the delay knobs, then the failure knob.
    async fn pause(&self, knobs: &Knobs) -> Result<(), StatusCode> {
        let delay = knobs.delay_ms.map_or(self.delay, Duration::from_millis);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if self.fail {
            return Err(StatusCode::INTERNAL_SERVER_ERROR);
        }
        Ok(())
    }

    /// The customer with their debt (if any) and orders, newest first.
    fn answer(&self, customer: Option<&Customer>) -> Answer {
        let customer = customer.ok_or(StatusCode::NOT_FOUND)?;
        let mine = |row: &&Map<String, Value>| {
            row.get("customer_id").and_then(Value::as_str) == Some(customer.id.as_str())
        };
        let mut orders: Vec<&Map<String, Value>> = self.data.orders.iter().filter(mine).collect();
        orders.sort_by(|a, b| placed_on(b).cmp(placed_on(a)));
        let mut out = customer.rest.clone();
        out.insert("id".into(), json!(customer.id));
        out.insert("phones".into(), json!(customer.phones));
        out.insert("emails".into(), json!(customer.emails));
        if let Some(debt) = self.data.debts.iter().find(mine) {
            out.insert("debt".into(), Value::Object(debt.clone()));
        }
        if let Some(last) = orders.first() {
            out.insert("last_order".into(), Value::Object((*last).clone()));
        }
        out.insert("orders".into(), json!(orders));
        Ok(Json(Value::Object(out)))
    }
}

fn placed_on(order: &Map<String, Value>) -> &str {
    order
        .get("placed_on")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The digits of a phone number (`+48 22-111` -> `4822111`), so any spelling matches.
fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}
