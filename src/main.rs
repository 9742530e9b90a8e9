//! The `centrala` command: `serve` runs the PBX, `check` validates the configuration.

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
}

fn main() -> ExitCode {
    centrala::cti::http_client::install_default_provider();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config } => check(config),
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

fn serve(config_path: Option<PathBuf>) -> anyhow::Result<()> {
    let config = Config::load(config_path.as_deref())?;
    for warning in centrala::security::audit::audit(&config, config_path.is_none()) {
        tracing::warn!("{warning}");
    }
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
