//! A small example CRM for the demo: customers, their debts and orders, served from a JSON file
//! over HTTP, in the shape Centrala's demo lookup (`customer_by_phone`) maps.
//!
//! ```text
//! cargo run --example crm -- --port 8090 --data examples/crm-data.json
//! curl http://127.0.0.1:8090/customers/by-phone/%2B48221112233
//! curl http://127.0.0.1:8090/customers/by-email/anna.nowak@example.com
//! ```
//!
//! Answers: 200 with the customer (`debt` and `last_order` only when there are some), 404
//! when nobody has that number or address. Knobs for tests: `?delay_ms=N` on a request or
//! `--delay-ms N` for all of them (a slow CRM), `--fail` (every lookup answers 500).
//!
//! Demo data: +48221112233 has an overdue balance (collections queue first), +48225556677 an
//! order that has shipped (order status in the IVR), +48229990000 is a VIP.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Example CRM for the Centrala demo.
#[derive(Debug, Parser)]
struct Args {
    /// TCP port on 127.0.0.1.
    #[arg(long, default_value_t = 8090)]
    port: u16,
    /// Listen address.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// The data file: `customers`, `debts` and `orders`.
    #[arg(long, default_value = "examples/crm-data.json")]
    data: PathBuf,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Answer every lookup with 500.
    #[arg(long)]
    fail: bool,
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.data)
        .with_context(|| format!("reading {}", args.data.display()))?;
    let data: Data =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", args.data.display()))?;
    let customers = data.customers.len();
    let crm = Arc::new(Crm {
        data,
        delay: Duration::from_millis(args.delay_ms),
        fail: args.fail,
    });
    let app = Router::new()
        .route("/customers/by-phone/{number}", get(by_phone))
        .route("/customers/by-email/{email}", get(by_email))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(crm);
    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    eprintln!(
        "example CRM: {customers} customers on http://{addr} (delay {} ms{})",
        args.delay_ms,
        if args.fail { ", failing" } else { "" }
    );
    axum::serve(listener, app).await?;
    Ok(())
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
