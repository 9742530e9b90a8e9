//! The example CRM for the demo (see `centrala::demo_crm`), as a program of its own for the
//! tests and for use next to a configured Centrala.
//!
//! ```text
//! cargo run --example crm -- --port 8090 --data examples/crm-data.json
//! curl http://127.0.0.1:8090/customers/by-phone/%2B48221112233
//! ```
//!
//! `centrala demo-crm` runs the same server without building the examples.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

/// Example CRM for the Centrala demo.
#[derive(Debug, Parser)]
struct Args {
    /// TCP port on 127.0.0.1.
    #[arg(long, default_value_t = 8090)]
    port: u16,
    /// Listen address.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// The data file: `customers`, `debts` and `orders` (absent: the built-in demo data).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Answer every lookup with 500.
    #[arg(long)]
    fail: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let data = match &args.data {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => centrala::demo_crm::DEMO_DATA.to_string(),
    };
    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    eprintln!("example CRM on http://{addr}");
    let options = centrala::demo_crm::CrmOptions {
        data,
        delay: Duration::from_millis(args.delay_ms),
        fail: args.fail,
    };
    centrala::demo_crm::serve(listener, options).await
}
