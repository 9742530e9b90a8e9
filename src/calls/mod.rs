//! Calls: the back-to-back user agent. Each call is one tokio task that owns its legs (the
//! caller's dialog and the forks toward the callee), its anchored media session and its CDR.
//!
//! Owns: the decision what to do with a new INVITE (authenticate, find the target, refuse or
//! start a call task), the call tasks themselves, and the CDR of every call.
//! Must not touch: SIP parsing or transactions (through `sip::endpoint`), sockets (media goes
//! through `media::relay`), the database (through the `CallStore` trait).
//! Driven by: the endpoint, through `RequestHandler`.
//!
//! See `LIFECYCLE.md` next to this file for the states of a call.

mod bridge;
mod call;
pub mod callback_dialler;
pub mod caller_id;
mod cdr;
mod cdr_writer;
mod codecs;
pub mod control;
pub mod core;
mod core_link;
mod core_reinvite;
mod features;
mod fork;
mod ivr;
mod ivr_tasks;
pub mod originate;
mod phone_busy;
mod queue;
mod queue_hold;
mod recording;
pub mod shutdown;
mod target;
mod voicemail;

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::config::{Extension, RecordPolicy, Trunk};
use crate::cti::lookup::LookupService;
use crate::dialplan::live::LiveDialplan;
use crate::dialplan::{Dialplan, FlowRun};
use crate::media::player::PromptCache;
use crate::media::ports::PortPool;
use crate::routing::AcdHandle;
use crate::sip::auth::{AuthGuard, Decision};
use crate::sip::endpoint::{Endpoint, IncomingRequest, RequestHandler, TuSender, new_tag};
use crate::sip::message::MessageBuilder;
use crate::sip::registrar::{RegistrarService, unix_now};
use crate::store::{CdrRecord, RecordingRow, SurveyAnswerRow};
use crate::telemetry::Metrics;

use call::Call;
pub use cdr::CallStore;
pub use cdr_writer::CdrWriter;
use ivr::{Ivr, IvrServices};
use serde_json::Value;
use target::{Origin, Target};

/// Settings of the call layer.
#[derive(Debug, Clone)]
pub struct CallsConfig {
    /// How long the callee may ring before the caller gets 480.
    pub no_answer_timeout: Duration,
    /// Configured users by number.
    pub extensions: HashMap<String, Extension>,
    /// Carrier trunks.
    pub trunks: Vec<Trunk>,
    /// The caller IDs of the queues that set one (`[[queues]] caller_id`), by queue name:
    /// presented on the queue's calls out through a trunk (`caller_id`).
    pub queue_caller_ids: Arc<HashMap<String, crate::config::CallerId>>,
    /// Address written into SDP.
    pub media_ip: IpAddr,
    /// Where recordings are written.
    pub recordings_dir: std::path::PathBuf,
    /// Agent feature codes (`[features]`).
    pub features: crate::routing::FeatureCodes,
    /// Call limits and session timers (`[calls]`).
    pub limits: crate::config::CallsSection,
    /// Toll-fraud policy for extensions' calls out through trunks (`security::outbound`).
    pub outbound: Arc<crate::security::outbound::OutboundGate>,
}

/// Decides what happens to each new INVITE and REGISTER. Built by `server` from the running
/// parts; every field is one of them.
pub struct CallManager {
    /// Call settings.
    pub config: CallsConfig,
    /// The dialplan in force (each call keeps the version it started with).
    pub dialplan: Arc<LiveDialplan>,
    /// Prompts, loaded once.
    pub prompts: Arc<PromptCache>,
    /// CRM lookups for the dialplan.
    pub lookups: Arc<LookupService>,
    /// The routing engine, for queued calls.
    pub acd: AcdHandle,
    /// Digest authentication and bans.
    pub guard: Arc<AuthGuard>,
    /// Registrations: where extensions are reachable.
    pub registrar: Arc<RegistrarService>,
    /// RTP ports for media sessions.
    pub ports: PortPool,
    /// The SIP endpoint, for calls Centrala places itself (`originate`).
    pub endpoint: Endpoint,
    /// CDRs and recording rows.
    pub store: Arc<dyn CallStore>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The calls running now, for the API's call control.
    pub live: control::LiveCalls,
    /// The call tasks still running, and whether new calls are refused (shutdown).
    pub tasks: shutdown::CallTasks,
}

impl CallManager {
    fn origin(&self, endpoint: &Endpoint, request: &IncomingRequest, tag: &str) -> Option<Origin> {
        let source = request.from.addr.ip();
        if let Some(trunk) = self
            .config
            .trunks
            .iter()
            .find(|t| t.inbound_ips.contains(&source))
        {
            return Some(Origin::Trunk(trunk.name.clone()));
        }
        let unix = unix_now();
        let msg = &request.msg;
        let refusal =
            match self
                .guard
                .check(Instant::now(), unix, msg, source, "Proxy-Authorization")
            {
                Decision::Authenticated(user) => return Some(Origin::Extension(user)),
                Decision::Challenge { stale } => self.guard.challenge(unix, msg, 407, stale, tag),
                Decision::Forbidden => {
                    self.metrics
                        .banned_addresses
                        .set(self.guard.banned_count(Instant::now()) as i64);
                    MessageBuilder::response_to(msg, 403, "Forbidden", Some(tag))
                }
                Decision::Malformed => {
                    MessageBuilder::response_to(msg, 400, "Bad Credentials", Some(tag))
                }
            };
        endpoint.reply(request.txn, refusal);
        None
    }
}

impl CallManager {
    /// The dialplan run of a call to a dialplan number, with the call's variables.
    fn flow_for(
        &self,
        target: &Target,
        vars: &serde_json::Map<String, Value>,
        dialplan: Arc<Dialplan>,
    ) -> Option<Ivr> {
        let Target::Dialplan { number, trunk } = target else {
            return None;
        };
        let run = FlowRun::start(
            dialplan,
            Instant::now(),
            number,
            trunk.as_deref(),
            vars.clone(),
        );
        let services = IvrServices {
            prompts: self.prompts.clone(),
            lookups: self.lookups.clone(),
            acd: self.acd.clone(),
            trunks: self.config.trunks.clone().into(),
            recordings_dir: self.config.recordings_dir.clone(),
        };
        Some(Ivr::new(run, services))
    }

    /// What call control (`calls::control`) uses.
    fn control_services(&self) -> control::ControlServices {
        control::ControlServices {
            recordings_dir: self.config.recordings_dir.clone(),
            prompts: self.prompts.clone(),
            acd: self.acd.clone(),
            trunks: self.config.trunks.clone().into(),
            extensions: Arc::new(self.config.extensions.keys().cloned().collect()),
        }
    }

    /// Security (owned by `security`): an extension's call out through a trunk passes the
    /// outbound policy; the slot counts it until dropped. The `Err` is the 403 reason phrase.
    fn outbound_slot(
        &self,
        origin: &Origin,
        target: &Target,
    ) -> Result<Option<crate::security::outbound::OutboundSlot>, &'static str> {
        let (Origin::Extension(user), Target::Trunk { trunk, number, .. }) = (origin, target)
        else {
            return Ok(None);
        };
        let role = self.config.extensions.get(user).map(|e| e.role);
        let role = crate::security::outbound::role_name(role.unwrap_or_default());
        let unix_secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.config
            .outbound
            .admit(user, role, &trunk.name, number, unix_secs)
            .map(Some)
            .map_err(|refusal| refusal.reason_phrase())
    }

    /// Where to record this call, when either party's extension says `record = "always"`.
    fn recording_for(&self, origin: &Origin, target: &Target) -> Option<std::path::PathBuf> {
        let always = |number: &str| {
            self.config
                .extensions
                .get(number)
                .is_some_and(|e| e.record == RecordPolicy::Always)
        };
        let caller_records = matches!(origin, Origin::Extension(user) if always(user));
        let callee_records = matches!(target, Target::Extension { number, .. } if always(number));
        (caller_records || callee_records).then(|| self.config.recordings_dir.clone())
    }
}

impl RequestHandler for CallManager {
    fn accepting(&self) -> bool {
        !self.tasks.draining()
    }

    fn invite(&self, endpoint: &Endpoint, request: IncomingRequest) -> Option<TuSender> {
        endpoint.reply(
            request.txn,
            MessageBuilder::response_to(&request.msg, 100, "Trying", None),
        );
        let tag = new_tag();
        if self.tasks.draining() {
            let response =
                MessageBuilder::response_to(&request.msg, 503, "Service Unavailable", Some(&tag))
                    .header("Retry-After", 30);
            endpoint.reply(request.txn, response);
            return None;
        }
        let origin = self.origin(endpoint, &request, &tag)?;
        if let (Origin::Extension(user), Some(code)) =
            (&origin, features::feature_code_of(&request))
        {
            return self.feature_code(endpoint, request, tag, user, code);
        }
        let dialplan = self.dialplan.current();
        let target = match self.ports.admission().and_then(|()| {
            target::resolve(
                &self.config,
                &self.registrar,
                &dialplan,
                &origin,
                &request.msg,
            )
        }) {
            Ok(target) => target,
            Err((status, reason)) => {
                let response =
                    MessageBuilder::response_to(&request.msg, status, reason, Some(&tag));
                endpoint.reply(request.txn, response);
                self.metrics.call_finished(target::result_of_status(status));
                return None;
            }
        };
        // Security (owned by `security`): toll-fraud policy where an extension dials out.
        let outbound_slot = match self.outbound_slot(&origin, &target) {
            Ok(slot) => slot,
            Err(reason) => {
                let response = MessageBuilder::response_to(&request.msg, 403, reason, Some(&tag));
                endpoint.reply(request.txn, response);
                self.metrics.call_finished(target::result_of_status(403));
                return None;
            }
        };
        let recording = self.recording_for(&origin, &target);
        let vars = call_variables(&origin, &target, &request.msg);
        let ivr = self.flow_for(&target, &vars, dialplan);
        let (tx, rx) = mpsc::unbounded_channel();
        let mut call = Call::new(call::Setup {
            endpoint: endpoint.clone(),
            request,
            local_tag: tag,
            origin,
            target,
            ports: self.ports.clone(),
            media_ip: self.config.media_ip,
            no_answer_timeout: self.config.no_answer_timeout,
            store: self.store.clone(),
            recording,
            ivr,
            registrar: self.registrar.clone(),
            events: tx.clone(),
            limits: self.config.limits.clone(),
            acd: self.acd.clone(),
        })?;
        call.control = Some(self.live.enrol(&call.cdr, self.control_services()));
        let running = self.tasks.enter();
        tokio::spawn(async move {
            let _outbound_slot = outbound_slot; // counted until the call ends
            call.run(rx).await;
            drop(running);
        });
        Some(tx)
    }

    fn register(&self, endpoint: &Endpoint, request: IncomingRequest) {
        self.registrar.handle(endpoint, request);
    }
}

/// The variables a dialplan sees about a call: `caller`, `called`, `channel`, `trunk`, `time`.
fn call_variables(
    origin: &Origin,
    target: &Target,
    invite: &crate::sip::message::Message,
) -> serde_json::Map<String, Value> {
    let from = invite.from().ok();
    let name = from
        .as_ref()
        .and_then(|f| f.display)
        .unwrap_or("")
        .trim_matches('"')
        .to_owned();
    let number = match origin {
        Origin::Extension(user) => user.clone(),
        Origin::Trunk(_) => from
            .and_then(|f| f.uri().ok())
            .and_then(|u| u.user.map(str::to_owned))
            .unwrap_or_default(),
    };
    let trunk = match origin {
        Origin::Trunk(name) => Value::String(name.clone()),
        Origin::Extension(_) => Value::Null,
    };
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut vars = serde_json::Map::new();
    vars.insert(
        "caller".into(),
        serde_json::json!({ "number": number, "name": name }),
    );
    vars.insert(
        "called".into(),
        serde_json::json!({ "number": target.number() }),
    );
    vars.insert("channel".into(), Value::String("voice".into()));
    vars.insert("trunk".into(), trunk);
    vars.insert("time".into(), serde_json::json!({ "unix": unix }));
    vars
}

/// A boxed future, for the store traits (async functions in `dyn` traits need boxing).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The production `CallStore`: CDRs through the group-commit writer, recordings and survey
/// answers directly.
pub struct StoreCalls {
    store: crate::store::Store,
    cdrs: CdrWriter,
}

impl StoreCalls {
    /// Wraps `store`, starting its CDR writer.
    pub fn new(store: crate::store::Store) -> StoreCalls {
        let cdrs = CdrWriter::start(Arc::new(store.clone()));
        StoreCalls { store, cdrs }
    }
}

impl CallStore for StoreCalls {
    fn record_cdr(&self, cdr: CdrRecord) -> BoxFuture<'_, ()> {
        Box::pin(self.cdrs.write(cdr))
    }

    fn recording_started(&self, row: RecordingRow) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(err) = self.store.insert_recording(&row).await {
                tracing::error!(%err, recording = %row.id, "could not index the recording");
            }
        })
    }

    fn recording_finished(
        &self,
        id: String,
        duration_ms: i64,
        size_bytes: i64,
    ) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(err) = self
                .store
                .update_recording(&id, duration_ms, size_bytes, "done")
                .await
            {
                tracing::error!(%err, recording = %id, "could not complete the recording's index");
            }
        })
    }

    fn survey_answered(&self, answers: Vec<SurveyAnswerRow>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(err) = self.store.insert_survey_answers(&answers).await {
                tracing::error!(%err, count = answers.len(), "could not store the survey answers");
            }
        })
    }
}
