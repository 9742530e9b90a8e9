//! The `centrala` command: `serve` runs the PBX, `check` validates the configuration,
//! `demo-crm` runs the demo's example CRM,
//! `simulate` replays a scenario through the routing engine in virtual time.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use centrala::config::Config;

#[derive(Parser)]
#[command(
    name = "centrala",
    version,
    about = "Telephony-first PBX/CTI gateway for contact centres"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the PBX (with no --config: the built-in demo).
    Serve {
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Validate the configuration and exit (non-zero on errors, printed as file:line).
    Check {
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the argon2 hash of a password read from standard input, for an extension's
    /// `web_password` (the pages' sign-in).
    HashPassword,
    /// Run the demo's example CRM (the built-in demo starts it by itself on 127.0.0.1:8090).
    DemoCrm {
        /// Listen address.
        #[arg(long, default_value = centrala::demo_crm::DEMO_ADDR)]
        listen: std::net::SocketAddr,
        /// Data file (JSON `customers`, `debts`, `orders`; absent: the built-in demo data).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Replay a day of contacts (a YAML scenario) through the routing engine in virtual time.
    Simulate {
        /// Scenario file (YAML); see examples/simulate/.
        scenario: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = SimFormat::Table)]
        format: SimFormat,
        /// Seed for the random draws (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SimFormat {
    Table,
    Json,
}

fn main() -> ExitCode {
    centrala::cti::http_client::install_default_provider();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config } => check(config),
        Command::HashPassword => hash_password(),
        Command::DemoCrm { listen, data } => {
            centrala::telemetry::init_tracing();
            match demo_crm(listen, data) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Simulate {
            scenario,
            format,
            seed,
        } => simulate(&scenario, format, seed),
        Command::Serve { config } => {
            centrala::telemetry::init_tracing();
            match serve(config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `centrala check`: the configuration, then every dialplan file, errors as `file:line: ...`.
fn check(config_path: Option<PathBuf>) -> ExitCode {
    let config = match Config::load(config_path.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    for warning in centrala::security::audit::audit(&config, config_path.is_none()) {
        eprintln!("warning: {warning}");
    }
    match centrala::dialplan::live::load(&config.dialplan.dir, &config.media.sounds_dir) {
        Ok(_) => {
            println!("configuration and dialplans OK");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("{error}");
            }
            eprintln!(
                "{} error(s) in {}",
                errors.len(),
                config.dialplan.dir.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// `centrala hash-password`: the first line of standard input, hashed.
fn hash_password() -> ExitCode {
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() || line.trim_end().is_empty() {
        eprintln!("give the password on standard input");
        return ExitCode::FAILURE;
    }
    println!(
        "{}",
        centrala::web::hash_password(line.trim_end_matches(['\r', '\n']))
    );
    ExitCode::SUCCESS
}

/// `centrala simulate`: errors as `file:line: ...`, the outcome as a table or JSON.
fn simulate(path: &std::path::Path, format: SimFormat, seed: Option<u64>) -> ExitCode {
    use centrala::simulate;
    let scenario = match simulate::load(path) {
        Ok(s) => s,
        Err(errors) => {
            for error in &errors {
                eprintln!("{error}");
            }
            return ExitCode::FAILURE;
        }
    };
    let seed = seed.unwrap_or(scenario.seed);
    let outcome = match simulate::simulate(&scenario, seed) {
        Ok(o) => o,
        Err(err) => {
            eprintln!(
                "{}: the routing engine refused the scenario: {err}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    };
    match format {
        SimFormat::Table => print!("{}", simulate::render_table(&outcome)),
        SimFormat::Json => match serde_json::to_string_pretty(&outcome) {
            Ok(json) => println!("{json}"),
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        },
    }
    ExitCode::SUCCESS
}

fn serve(config_path: Option<PathBuf>) -> anyhow::Result<()> {
    let builtin_demo = config_path.is_none();
    let config = Config::load(config_path.as_deref())?;
    for warning in centrala::security::audit::audit(&config, config_path.is_none()) {
        tracing::warn!("{warning}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        if builtin_demo {
            start_demo_crm().await;
        }
        let server = centrala::server::Server::start(config).await?;
        tracing::info!(
            sip = %server.sip_addr(),
            http = %server.http_addr(),
            "centrala is running"
        );
        shutdown_signal().await;
        tracing::info!("shutting down (a second signal stops at once)");
        tokio::select! {
            () = server.shutdown() => {}
            () = shutdown_signal() => tracing::warn!("second signal: stopping at once"),
        }
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// `centrala demo-crm`: the example CRM in the foreground.
fn demo_crm(listen: std::net::SocketAddr, data: Option<PathBuf>) -> anyhow::Result<()> {
    let data = match data {
        Some(path) => {
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?
        }
        None => centrala::demo_crm::DEMO_DATA.to_string(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let options = centrala::demo_crm::CrmOptions {
            data,
            delay: std::time::Duration::ZERO,
            fail: false,
        };
        centrala::demo_crm::serve(listener, options).await
    })
}

/// The built-in demo's example CRM, in the background, where the demo's lookup asks
/// (127.0.0.1:8090); a port already taken (say, by a CRM of one's own) is only a warning.
async fn start_demo_crm() {
    let addr = centrala::demo_crm::DEMO_ADDR;
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => {
            let options = centrala::demo_crm::CrmOptions {
                data: centrala::demo_crm::DEMO_DATA.to_string(),
                delay: std::time::Duration::ZERO,
                fail: false,
            };
            tokio::spawn(async move {
                if let Err(err) = centrala::demo_crm::serve(listener, options).await {
                    tracing::warn!(error = %err, "the demo's example CRM stopped");
                }
            });
        }
        Err(err) => {
            tracing::warn!(%addr, error = %err, "the demo's example CRM is not started");
        }
    }
}
