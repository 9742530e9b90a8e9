//! The `centrala` command: `serve` runs the PBX, `check` validates the configuration,
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
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config } => check(config),
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
    let config = Config::load(config_path.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let server = centrala::server::Server::start(config).await?;
        tracing::info!(
            sip = %server.sip_addr(),
            http = %server.http_addr(),
            "centrala is running"
        );
        shutdown_signal().await;
        tracing::info!("shutting down");
        server.shutdown().await;
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
