//! Wiring: starts every subsystem from a `Config` and stops them.
//!
//! Owns: the order of start-up (store, events and webhook delivery, registrar, SIP, ACD
//! bridge, HTTP) and shutdown.
//! Must not touch: protocol logic; it only connects the parts.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::api::auth::seed_config_tokens;
use crate::api::{self, ApiState, FailureLimiter, LimitPolicy};
use crate::calls::{CallManager, CallsConfig, StoreCalls, callback_dialler};
use crate::config::Config;
use crate::cti::events::{Publisher, ScreenPop, acd_hooks};
use crate::cti::lookup::LookupService;
use crate::cti::webhook::{
    DeliveryHandle, DeliverySettings, DeliveryWorker, WallClock, sync_config_subscriptions,
};
use crate::dialplan::live::LiveDialplan;
use crate::media::player::PromptCache;
use crate::media::ports::PortPool;
use crate::routing::driver::{AcdOptions, SystemClock};
use crate::routing::{self, AcdHandle, Channel, FeatureAction, Notices, StateCause};
use crate::sip::auth::{Algorithm, AuthGuard, GuardConfig};
use crate::sip::endpoint::{Endpoint, EndpointConfig};
use crate::sip::peer::{Peer, Transport};
use crate::sip::registrar::{RegistrarConfig, RegistrarService};
use crate::sip::registration_client::{self, RegistrationConfig};
use crate::sip::transport;
use crate::store::Store;
use crate::telemetry::Metrics;
use crate::web::{self, WebState};

/// Callback offers the dialler has not taken yet (the ACD drops beyond, its ring timer
/// recovers them).
const CALLBACK_OFFERS: usize = 256;

/// A running Centrala.
pub struct Server {
    http_addr: SocketAddr,
    sip_addr: SocketAddr,
    http_task: JoinHandle<()>,
    /// The webhook delivery worker (stops when dropped).
    _delivery: DeliveryHandle,
    /// The call layer, drained on shutdown.
    calls: Arc<CallManager>,
    /// How long live calls may go on after a shutdown signal.
    drain: Duration,
}

impl Server {
    /// Starts everything; fails if a port cannot be bound or the database is unreachable.
    pub async fn start(config: Config) -> anyhow::Result<Server> {
        let metrics = Metrics::new();
        let dialplan = LiveDialplan::load(&config.dialplan.dir, &config.media.sounds_dir).map_err(
            |errors| {
                let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
                anyhow::anyhow!("invalid dialplan:\n{}", list.join("\n"))
            },
        )?;
        dialplan.watch();
        let store = Store::connect(&config.database.url)
            .await
            .with_context(|| format!("opening the database {}", config.database.url))?;
        let (store, publisher, delivery) = start_events(&config, store).await?;
        recover_recordings(&store, &config.media.recordings_dir).await;
        let sip = start_sip(
            &config,
            &publisher,
            store.clone(),
            metrics.clone(),
            dialplan,
        )
        .await?;
        let listener = TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("binding HTTP {}", config.http.listen))?;
        let http_addr = listener.local_addr()?;
        let http = &config.http;
        let store_for_pages = store.clone();
        let channels = crate::channels::Channels::new(
            &config,
            store.clone(),
            sip.lookups.clone(),
            sip.acd.clone(),
            publisher.clone(),
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        channels
            .intake
            .recover(crate::cti::webhook::WallClock::now_ms(
                &crate::cti::webhook::SystemClock,
            ))
            .await;
        if let Some(email) = &channels.email {
            let smtp = TcpListener::bind(config.email.listen)
                .await
                .with_context(|| format!("binding the SMTP listener {}", config.email.listen))?;
            tracing::info!(smtp = %config.email.listen, "e-mail listener running");
            tokio::spawn(crate::channels::email::smtp::serve(smtp, email.clone()));
        }
        let app = api::app(ApiState {
            channels,
            store,
            metrics,
            acd: sip.acd,
            lookups: sip.lookups,
            publisher,
            calls: Some(sip.calls.clone()),
            limiter: Arc::new(Mutex::new(FailureLimiter::new(LimitPolicy {
                max_failures: http.auth_max_failures,
                window: Duration::from_secs(http.auth_window_secs),
                block: Duration::from_secs(http.auth_block_secs),
            }))),
            metrics_token_hash: http.metrics_token.as_deref().map(api::auth::hash_token),
            revocations: Default::default(),
            allow_private_webhooks: config.cti.allow_private_webhooks,
        });
        let pages = web::router(WebState::new(store_for_pages, &config.extensions, false));
        let app = app.merge(pages);
        let http_task = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(%err, "HTTP server stopped");
            }
        });
        Ok(Server {
            http_addr,
            sip_addr: sip.addr,
            http_task,
            _delivery: delivery,
            calls: sip.calls,
            drain: Duration::from_secs(config.calls.drain_secs),
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

    /// Stops accepting work, drains the calls (each ends with BYE and its CDR written, see
    /// `calls::shutdown`), and ends the tasks.
    pub async fn shutdown(self) {
        self.calls.shutdown(self.drain).await;
        self.http_task.abort();
    }
}

/// Events: the config's webhook subscriptions and API tokens into the store, the delivery
/// worker, and the publisher whose hooks the returned store carries (CDR and recording
/// writes through it also write their events).
async fn start_events(
    config: &Config,
    store: Store,
) -> anyhow::Result<(Store, Publisher, DeliveryHandle)> {
    let now_ms = WallClock::now_ms(&crate::cti::webhook::SystemClock);
    sync_config_subscriptions(&store, &config.cti, now_ms)
        .await
        .context("storing the configured webhooks")?;
    seed_config_tokens(&store, &config.http, now_ms)
        .await
        .context("storing the configured API tokens")?;
    let worker = DeliveryWorker::new(
        store.clone(),
        DeliverySettings::from_config(&config.cti.delivery),
        config.cti.ca_file.as_deref(),
    )?;
    let publisher = Publisher::new(store.clone(), worker.waker());
    let store = store.with_events(publisher.store_hooks());
    Ok((store, publisher, worker.spawn()))
}

/// Binds SIP, restores registrations, and starts the endpoint with the call manager.
async fn start_sip(
    config: &Config,
    publisher: &Publisher,
    store: Store,
    metrics: Arc<Metrics>,
    dialplan: Arc<LiveDialplan>,
) -> anyhow::Result<SipSide> {
    let sip = &config.sip;
    let bound = transport::bind(sip.listen, sip.max_message_size)
        .await
        .with_context(|| format!("binding SIP {}", sip.listen))?;
    let local = bound.handle().local_addr();
    let advertised_ip = sip.advertised_ip.unwrap_or_else(|| routable(local.ip()));
    let media_ip = config.media.advertised_ip.unwrap_or_else(|| {
        if config.media.bind_ip.is_unspecified() {
            advertised_ip
        } else {
            config.media.bind_ip
        }
    });
    let users: HashMap<String, String> = config
        .extensions
        .iter()
        .map(|e| (e.number.clone(), e.password.clone()))
        .collect();
    let guard = Arc::new(AuthGuard::new(
        GuardConfig {
            realm: sip.domain.clone(),
            nonce_ttl: Duration::from_secs(sip.nonce_ttl_secs),
            max_failures: sip.ban.max_failures,
            window: Duration::from_secs(sip.ban.window_secs),
            ban_for: Duration::from_secs(sip.ban.ban_secs),
            algorithms: sip
                .digest_algorithms
                .iter()
                .filter_map(|token| Algorithm::from_token(token).ok())
                .collect(),
        },
        users,
    ));
    let registrar = RegistrarService::start(
        RegistrarConfig {
            min_expires: sip.min_expires,
            max_expires: sip.max_expires,
            default_expires: sip.default_expires,
            ..RegistrarConfig::default()
        },
        guard.clone(),
        store.clone(),
        metrics.clone(),
    )
    .await?;
    let shards = if sip.shards == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        sip.shards
    };
    let endpoint = Endpoint::start(
        bound.handle(),
        EndpointConfig {
            shards,
            shard_queue: sip.shard_queue,
            t1: Duration::from_millis(sip.t1_ms),
            advertised: SocketAddr::new(advertised_ip, local.port()),
            domain: sip.domain.clone(),
        },
        metrics.clone(),
    );
    let ports = PortPool::new(
        config.media.bind_ip,
        config.media.rtp_port_min,
        config.media.rtp_port_max,
    );
    let lookups = Arc::new(LookupService::new(&config.cti).context("configuring CRM lookups")?);
    let pops = ScreenPop::new(
        store.clone(),
        lookups.clone(),
        Duration::from_millis(config.cti.screen_pop_deadline_ms),
    );
    let hooks = acd_hooks(publisher, pops);
    let (acd, callback_offers) = start_acd(config, &store, &registrar, hooks).await?;
    let prompts = PromptCache::load_dir(&config.media.sounds_dir).unwrap_or_else(|err| {
        tracing::warn!(%err, "no prompts loaded");
        PromptCache::default()
    });
    let calls = Arc::new(CallManager {
        config: CallsConfig {
            no_answer_timeout: Duration::from_secs(sip.no_answer_timeout_secs),
            extensions: config
                .extensions
                .iter()
                .map(|e| (e.number.clone(), e.clone()))
                .collect(),
            trunks: config.trunks.clone(),
            queue_caller_ids: Arc::new(
                config
                    .queues
                    .iter()
                    .filter_map(|q| Some((q.name.clone(), q.caller_id().ok().flatten()?)))
                    .collect(),
            ),
            media_ip,
            recordings_dir: config.media.recordings_dir.clone(),
            features: config.features.codes(),
            limits: config.calls.clone(),
            outbound: crate::security::outbound::OutboundGate::new(config.outbound.clone()),
        },
        dialplan,
        prompts: Arc::new(prompts),
        lookups: lookups.clone(),
        acd: acd.clone(),
        guard,
        registrar,
        ports,
        endpoint: endpoint.clone(),
        store: Arc::new(StoreCalls::new(store)),
        metrics,
        live: Default::default(),
        tasks: Default::default(),
    });
    endpoint.set_handler(calls.clone());
    callback_dialler::spawn(calls.clone(), callback_offers);
    bound.start(endpoint.ingress());
    register_trunks(config, &endpoint);
    Ok(SipSide {
        addr: local,
        acd,
        lookups,
        calls,
    })
}

/// What the SIP side hands to the API and the event bridge.
struct SipSide {
    addr: SocketAddr,
    acd: AcdHandle,
    lookups: Arc<LookupService>,
    calls: Arc<CallManager>,
}

/// Starts the routing engine's shell and logs agents in while a phone of theirs is
/// registered (their first REGISTER logs them in, the last binding's end logs them out).
/// Callback offers are collected from the start (before any agent logs in) for the dialler.
async fn start_acd(
    config: &Config,
    store: &Store,
    registrar: &Arc<RegistrarService>,
    hooks: routing::AcdHooks,
) -> anyhow::Result<(AcdHandle, Notices)> {
    let setup = config
        .routing_setup()
        .map_err(|err| anyhow::anyhow!("routing: {err}"))?;
    let (acd, task) = routing::driver::start_with(
        setup,
        Arc::new(store.clone()),
        Arc::new(SystemClock),
        AcdOptions::default(),
        hooks,
    )
    .await
    .context("starting the routing engine")?;
    // The actor ends when every handle is gone; it runs for the life of the process.
    drop(task);
    let (callback_sink, callback_offers) = routing::notice_channel(CALLBACK_OFFERS);
    acd.set_channel_sink(Channel::Callback, callback_sink)
        .await
        .context("starting the callback dialler")?;
    let presence = acd.clone();
    // Only a change between registered and not is a login or logout: a refresh is neither
    // (and must not log back in an agent who logged out at the desktop).
    let registered = std::sync::Mutex::new(std::collections::HashMap::<String, bool>::new());
    for ext in &config.extensions {
        let on = !registrar.lookup(&ext.number).is_empty();
        registered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(ext.number.clone(), on);
    }
    registrar.observe(Box::new(move |aor, contacts| {
        let Some(agent) = presence.agent_id(aor) else {
            return;
        };
        let on = contacts > 0;
        let was = registered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(aor.to_string(), on);
        if was == Some(on) {
            return;
        }
        let action = if on {
            FeatureAction::Login
        } else {
            FeatureAction::Logout
        };
        let acd = presence.clone();
        let number = aor.to_string();
        tokio::spawn(async move {
            if let Err(err) = acd
                .agent_from(agent, action, StateCause::Registration)
                .await
            {
                tracing::debug!(%err, agent = %number, "agent presence unchanged");
            }
        });
    }));
    // Phones registered before the restart log their agents in, unless a stored state says
    // otherwise (a break stays a break, a logged-out agent stays out).
    for ext in &config.extensions {
        if let Some(agent) = acd.agent_id(&ext.number)
            && !registrar.lookup(&ext.number).is_empty()
            && let Err(err) = acd
                .agent_from(agent, FeatureAction::Login, StateCause::Restart)
                .await
        {
            tracing::debug!(%err, agent = %ext.number, "agent presence unchanged");
        }
    }
    Ok((acd, callback_offers))
}

/// Repairs the headers of recordings a crash left open and completes their index rows, so a
/// crash loses at most the last second of audio (the recorder flushes every second).
async fn recover_recordings(store: &Store, dir: &std::path::Path) {
    let repaired = crate::media::recorder::repair_recordings(dir);
    let open = match store.open_recordings().await {
        Ok(open) => open,
        Err(err) => return tracing::error!(%err, "cannot list open recordings"),
    };
    for row in open {
        let report = repaired
            .iter()
            .find(|r| r.path.display().to_string() == row.path)
            .and_then(|r| r.outcome.as_ref().ok());
        let data_bytes = report.map_or(0, |r| r.data_bytes) as i64;
        // Stereo 8 kHz 16-bit: 32 bytes per millisecond.
        let duration_ms = data_bytes / 32;
        let size = std::fs::metadata(&row.path).map_or(0, |m| m.len() as i64);
        match store
            .update_recording(&row.id, duration_ms, size, "repaired")
            .await
        {
            Ok(_) => {
                tracing::warn!(recording = %row.id, duration_ms, "recording recovered after a crash")
            }
            Err(err) => {
                tracing::error!(%err, recording = %row.id, "cannot complete a recovered recording")
            }
        }
    }
}

/// Keeps a registration with each trunk that asks for one.
fn register_trunks(config: &Config, endpoint: &Endpoint) {
    for trunk in &config.trunks {
        let Some(out) = trunk.outbound.as_ref().filter(|o| o.register) else {
            continue;
        };
        let (Some(username), Some(password)) = (out.username.clone(), out.password.clone()) else {
            continue;
        };
        let transport = if out.transport == "tcp" {
            Transport::Tcp { conn: None }
        } else {
            Transport::Udp
        };
        registration_client::spawn(
            endpoint.clone(),
            RegistrationConfig {
                domain: out.domain.clone().unwrap_or_else(|| out.proxy.to_string()),
                username,
                password,
                expires: Duration::from_secs(3600),
                retry_after: Duration::from_secs(30),
            },
            Peer {
                transport,
                addr: out.proxy,
            },
        );
    }
}

/// The address to advertise when bound to a wildcard: loopback is the only safe guess without
/// configuration (deployments set `sip.advertised_ip` or `CENTRALA_PUBLIC_IP`).
fn routable(ip: IpAddr) -> IpAddr {
    if ip.is_unspecified() {
        local_ip().unwrap_or(IpAddr::from([127, 0, 0, 1]))
    } else {
        ip
    }
}

/// The primary local address, found by "connecting" a UDP socket (no packet is sent).
fn local_ip() -> Option<IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}
