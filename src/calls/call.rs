//! The call task: set-up (forks ringing), answer, and tear-down, driven by `TuEvent`s and its
//! own timers (no-answer, 2xx retransmission until ACK, end grace).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use super::cdr::{CallStore, CdrDraft, Outcome, QueuePath, Side, now_ms};
use super::control::{CallControl, next_control};
use super::core::session_timer::uac_headers;
use super::core_link::{CallerTimer, CoreLegs};
use super::fork::Fork;
use super::ivr::Ivr;
use super::ivr_tasks::next_callback_result;
use super::queue::{Queued, next_queue_input};
use super::target::{Origin, Target, result_of_status};
use super::voicemail::Voicemail;
use crate::dialplan::Event;
use crate::media::ports::PortPool;
use crate::media::relay::{self, MediaEvent, MediaSession};
use crate::media::sdp::{OriginState, SessionDescription, anchored_offer, remote_audio};
use crate::sip::dialog::Dialog;
use crate::sip::endpoint::{Endpoint, IncomingRequest, SERVER, ServerTxn, TuEvent, TuSender};
use crate::sip::message::{Message, MessageBuilder};
use crate::sip::method::Method;
use crate::sip::peer::Peer;
use crate::sip::registrar::RegistrarService;

/// How long a call waits for stragglers (responses to CANCEL or BYE) before it ends.
const END_GRACE: Duration = Duration::from_secs(4);

/// Everything a call needs to start.
pub(super) struct Setup {
    pub endpoint: Endpoint,
    pub request: IncomingRequest,
    pub local_tag: String,
    pub origin: Origin,
    pub target: Target,
    pub ports: PortPool,
    pub media_ip: IpAddr,
    pub no_answer_timeout: Duration,
    pub store: Arc<dyn CallStore>,
    /// The directory to record into, when this call is recorded.
    pub recording: Option<std::path::PathBuf>,
    /// The dialplan run and its prompts, when the dialplan handles this call.
    pub ivr: Option<Ivr>,
    pub registrar: Arc<RegistrarService>,
    pub events: TuSender,
    /// Call limits and session timers (`[calls]`).
    pub limits: crate::config::CallsSection,
    /// The ACD, told which agents' phones are on this call.
    pub acd: crate::routing::AcdHandle,
}

/// One of the two sides of a connected call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Leg {
    /// The caller.
    A,
    /// The answering fork toward the callee.
    B,
}

/// What a request we sent is for, by its tag.
pub(super) enum Pending {
    /// The INVITE (or its authenticated retry) of fork `index`.
    ForkInvite(usize),
    /// A CANCEL or BYE; only its completion matters.
    Teardown,
    /// A request relayed from the other leg; its response is relayed back.
    Relay { txn: ServerTxn, request: Message },
    /// A request a transfer sent (`calls::control`).
    Transfer(super::control::TransferPending),
    /// A session refresh (UPDATE or re-INVITE) the core asked for on this leg.
    Refresh(Leg),
    /// A re-INVITE relayed from the other leg.
    Reinvite {
        from: Leg,
        txn: ServerTxn,
        request: Message,
        offer: SessionDescription,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Forks ring; the caller has no final response yet.
    Ringing,
    /// The dialplan runs on the answered (or not yet answered) caller.
    Ivr,
    /// The dialplan dialled an extension: forks ring while the caller hears ring-back.
    Dialing,
    Connected {
        winner: usize,
    },
    Ending,
    Done,
}

/// The caller's side.
pub(super) struct CallerLeg {
    pub dialog: Dialog,
    pub invite: Message,
    pub txn: ServerTxn,
    pub offer: SessionDescription,
    pub ringing_sent: bool,
    pub early_media_sent: bool,
    pub final_sent: bool,
}

pub(super) struct Call {
    pub endpoint: Endpoint,
    pub events: TuSender,
    pub a: CallerLeg,
    /// Every fork this call sent, in order; indices stay valid for the call's life (late
    /// responses of an earlier round must not be mistaken for the current one).
    pub forks: Vec<Fork>,
    /// Where the current ring round starts in `forks`.
    pub round: usize,
    pub phase: Phase,
    pub target: Target,
    pub caller_name: String,
    pub ports: PortPool,
    pub media_ip: IpAddr,
    pub media: Option<MediaSession>,
    pub origin_a: OriginState,
    pub origin_b: OriginState,
    pub no_answer_at: Option<Instant>,
    /// How long an extension may ring (also for the dialplan's `dial` without a timeout).
    pub no_answer_timeout: Duration,
    /// The sans-IO core of the legs: 2xx/ACK, re-INVITE glare, session timers, watchdog.
    pub core: super::core_link::CoreLegs,
    /// The agents whose phones are on this call (busy in the ACD until it ends).
    pub phones: super::phone_busy::PhoneBusy,
    pub end_by: Option<Instant>,
    pub pending: HashMap<u64, Pending>,
    next_tag: u64,
    pub cdr: CdrDraft,
    pub store: Arc<dyn CallStore>,
    /// The dialplan run, for calls the dialplan handles.
    pub ivr: Option<Ivr>,
    /// Digits and playback ends from the media session.
    pub media_events: Option<mpsc::UnboundedReceiver<MediaEvent>>,
    /// Where the dialplan's `dial` finds an extension's phones.
    pub registrar: Arc<RegistrarService>,
    /// The routing queue this call waits in (or was answered from).
    pub queued: Option<Queued>,
    /// The answer of a CRM lookup the dialplan is waiting for.
    pub lookup: Option<oneshot::Receiver<Result<serde_json::Value, String>>>,
    /// Recording: the directory while due to start, then the running recording's id.
    pub recording: Recording,
    /// A confirmation to answer with instead of ringing (feature codes; `calls::features`).
    pub confirmation: Option<crate::media::player::Playback>,
    /// The confirmation is playing; its end hangs up.
    pub confirming: bool,
    /// The voicemail the dialplan is taking.
    pub voicemail: Option<Voicemail>,
    /// Commands from the API (`calls::control`).
    pub control: Option<CallControl>,
    /// Recordings this call has started so far (each gets its own file and index row).
    pub recordings_made: u32,
}

/// Where the call's recording stands.
pub(super) enum Recording {
    /// Not recorded.
    Off,
    /// To start (into this directory) once the call is answered.
    Due(std::path::PathBuf),
    /// Running, with this index row id.
    Running(String),
}

impl Call {
    /// Prepares a call, or answers the INVITE with an error and returns `None`.
    pub fn new(setup: Setup) -> Option<Box<Call>> {
        let Setup {
            endpoint,
            request,
            local_tag,
            origin,
            target,
            ports,
            media_ip,
            no_answer_timeout,
            store,
            recording,
            ivr,
            registrar,
            events,
            limits,
            acd,
        } = setup;
        let IncomingRequest { msg, txn, from } = request;
        let refuse = |status: u16, reason: &str, header: Option<(&str, u32)>| {
            let mut response = MessageBuilder::response_to(&msg, status, reason, Some(&local_tag));
            if let Some((name, value)) = header {
                response = response.header(name, value);
            }
            endpoint.reply(txn, response);
            endpoint.metrics().call_finished(result_of_status(status));
            None
        };
        let Ok(dialog) = Dialog::uas(&msg, &local_tag, from) else {
            return refuse(400, "Bad Dialog Headers", None);
        };
        let offer = match sdp_of(&msg) {
            Some(offer) => offer,
            None => return refuse(488, "Not Acceptable Here (SDP offer required)", None),
        };
        let mut core = CoreLegs::new(&limits, endpoint.t1());
        if let CallerTimer::TooSmall(min_se) = core.caller_timer(&msg) {
            return refuse(422, "Session Interval Too Small", Some(("Min-SE", min_se)));
        }
        let caller = match &origin {
            Origin::Extension(user) => user.clone(),
            Origin::Trunk(_) => msg
                .from()
                .ok()
                .and_then(|f| f.uri().ok())
                .and_then(|u| u.user.map(str::to_owned))
                .unwrap_or_default(),
        };
        let cdr = CdrDraft {
            id: format!("{:016x}", rand::random::<u64>()),
            call_id: dialog.call_id.clone(),
            caller: caller.clone(),
            callee: target.number().to_owned(),
            origin: origin.describe(),
            started_at_ms: now_ms(),
            answered_at_ms: None,
            ended: None,
            transferred_to: None,
            queue: QueuePath::default(),
        };
        Some(Box::new(Call {
            a: CallerLeg {
                dialog,
                invite: msg,
                txn,
                offer,
                ringing_sent: false,
                early_media_sent: false,
                final_sent: false,
            },
            forks: Vec::new(),
            round: 0,
            target,
            caller_name: caller,
            ports,
            media_ip,
            media: None,
            origin_a: OriginState::new(),
            origin_b: OriginState::new(),
            core,
            phones: super::phone_busy::PhoneBusy::new(acd),
            end_by: None,
            pending: HashMap::new(),
            next_tag: 0,
            cdr,
            store,
            recording: recording.map_or(Recording::Off, Recording::Due),
            phase: if ivr.is_some() {
                Phase::Ivr
            } else {
                Phase::Ringing
            },
            no_answer_at: if ivr.is_some() {
                None
            } else {
                Some(Instant::now() + no_answer_timeout)
            },
            no_answer_timeout,
            ivr,
            media_events: None,
            registrar,
            queued: None,
            lookup: None,
            confirmation: None,
            confirming: false,
            voicemail: None,
            control: None,
            recordings_made: 0,
            endpoint,
            events,
        }))
    }

    /// Runs the call to its end. The call is boxed so that each nested future of its task
    /// holds a pointer rather than its own copy of the call's state (a `Call` is about 3.4 KB,
    /// and the task's future is allocated once per call).
    pub async fn run(self: Box<Self>, rx: mpsc::UnboundedReceiver<TuEvent>) {
        let span = tracing::info_span!("call", id = %self.cdr.id, call_id = %self.cdr.call_id);
        self.drive(rx).instrument(span).await;
    }

    async fn drive(mut self: Box<Self>, mut rx: mpsc::UnboundedReceiver<TuEvent>) {
        self.endpoint.metrics().active_calls.inc();
        tracing::info!(callee = %crate::security::pii::masked(&self.cdr.callee), origin = %self.cdr.origin, "call offered");
        if self.cdr.origin == "extension" {
            let caller = self.caller_name.clone();
            self.phones.mark(&caller);
        }
        if self.start().await {
            while self.phase != Phase::Done {
                let deadline = self.next_deadline();
                tokio::select! {
                    event = rx.recv() => match event {
                        Some(event) => self.on_event(event),
                        None => break,
                    },
                    Some(event) = next_media_event(&mut self.media_events) => self.on_media_event(event),
                    Some(answer) = next_lookup(&mut self.lookup) => self.on_lookup(answer),
                    Some(stored) = next_callback_result(&mut self.ivr) => {
                        self.flow_event(Event::CallbackResult(stored))
                    }
                    Some(input) = next_queue_input(&mut self.queued) => self.on_queue_input(input),
                    Some(request) = next_control(&mut self.control) => self.on_control(request).await,
                    () = sleep_until(deadline) => self.on_timer(Instant::now()),
                }
                self.run_dialplan();
                self.drive_voicemail().await;
                if matches!(self.phase, Phase::Connected { .. }) {
                    self.start_recording_if_due().await;
                }
                if self.phase == Phase::Ending && self.pending.is_empty() {
                    self.phase = Phase::Done;
                }
            }
        }
        self.finish().await;
    }

    /// Opens the media session, then rings the target or starts the dialplan; false when the
    /// call was refused.
    async fn start(&mut self) -> bool {
        let mut media = match MediaSession::open(&self.ports, self.media_ip).await {
            Ok(media) => media,
            Err(err) => {
                tracing::warn!(%err, "no media ports");
                self.fail_caller(
                    503,
                    "Service Unavailable",
                    Outcome::Failed,
                    "no_media_ports",
                );
                return false;
            }
        };
        let Some(remote) = remote_audio(&self.a.offer) else {
            self.fail_caller(
                488,
                "Not Acceptable Here",
                Outcome::Failed,
                "no_common_codec",
            );
            return false;
        };
        media.set_remote(relay::Side::A, remote.rtp);
        self.media_events = media.events();
        self.media = Some(media);
        if self.ivr.is_some() {
            return self.start_ivr();
        }
        if let Some(confirmation) = self.confirmation.take() {
            return self.start_confirmation(confirmation);
        }
        let target = self.target.clone();
        self.ring(&target)
    }

    /// Sends an INVITE to every fork of `target`; false (and 488) when nothing can be offered.
    pub fn ring(&mut self, target: &Target) -> bool {
        let Some(media) = self.media.as_ref() else {
            return false;
        };
        let b_offer = anchored_offer(
            &self.a.offer,
            media.local(relay::Side::B),
            &mut self.origin_b,
        );
        let Some(b_offer) = b_offer else {
            self.fail_caller(
                488,
                "Not Acceptable Here",
                Outcome::Failed,
                "no_common_codec",
            );
            return false;
        };
        let body = Bytes::from(b_offer.to_string());
        self.round = self.forks.len();
        for mut fork in Fork::for_target(self, target) {
            fork.headers.extend(uac_headers(&self.core.session));
            self.forks.push(fork);
            let index = self.forks.len() - 1;
            self.send_fork_invite(index, body.clone(), None);
        }
        true
    }

    fn on_event(&mut self, event: TuEvent) {
        match event {
            TuEvent::Response { tag, msg } => self.on_response(tag, msg),
            TuEvent::Failed { tag } => self.on_failed(tag),
            TuEvent::Cancelled { .. } => {
                if self.phase == Phase::Ringing && !self.a.final_sent {
                    tracing::info!("caller cancelled");
                    self.cdr
                        .end(Outcome::Cancelled, "caller_cancel", Side::Caller);
                    self.respond_a(487, "Request Terminated", None);
                    self.cancel_forks();
                    self.ending();
                }
            }
            TuEvent::Ack { msg } => {
                if msg.call_id().ok() == Some(self.a.dialog.call_id.as_str()) {
                    self.core.a.handle_ack(Instant::now());
                }
            }
            TuEvent::StrayResponse { msg } => self.reack(&msg),
            TuEvent::Request { msg, txn, from } => self.on_request(msg, txn, from),
        }
    }

    fn on_timer(&mut self, now: Instant) {
        if let Some(ivr) = self.ivr.as_mut()
            && ivr.run.poll_timeout().is_some_and(|at| at <= now)
        {
            ivr.run.handle_event(now, Event::Timeout);
        }
        self.voicemail_timer(now);
        if self.no_answer_at.is_some_and(|at| at <= now) {
            self.no_answer_at = None;
            if self.phase == Phase::Dialing {
                self.cancel_forks();
                self.dial_failed("no answer");
            }
            if self.phase == Phase::Ringing {
                tracing::info!("no answer");
                self.cdr
                    .end(Outcome::NoAnswer, "no_answer_timeout", Side::System);
                self.respond_a(480, "Temporarily Unavailable", None);
                self.cancel_forks();
                self.ending();
            }
        }
        self.core_timer(now);
        self.consult_timer(now);
        if self.end_by.is_some_and(|at| at <= now) {
            self.phase = Phase::Done;
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        [
            self.no_answer_at,
            self.core.poll_timeout().map(|(at, _)| at),
            self.end_by,
            self.ivr.as_ref().and_then(|ivr| ivr.run.poll_timeout()),
            self.voicemail_deadline(),
            self.consult_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Enters the end phase: wait briefly for outstanding responses, then finish.
    pub fn ending(&mut self) {
        self.phase = Phase::Ending;
        self.no_answer_at = None;
        self.core.stop(Instant::now());
        self.end_by.get_or_insert(Instant::now() + END_GRACE);
    }

    /// Answers the caller's INVITE with a final error and ends the call.
    pub fn fail_caller(&mut self, status: u16, reason: &str, outcome: Outcome, cause: &str) {
        self.cdr.end(outcome, cause, Side::System);
        self.respond_a(status, reason, None);
        self.ending();
    }

    /// Sends a final (non-2xx) or provisional response to the caller's INVITE, with an SDP
    /// body when given (early media).
    pub fn respond_a(&mut self, status: u16, reason: &str, sdp: Option<String>) {
        if self.a.final_sent {
            return;
        }
        self.a.final_sent = status >= 200;
        let tag = Some(self.a.dialog.local_tag.as_str());
        let mut response = MessageBuilder::response_to(&self.a.invite, status, reason, tag);
        if let Some(sdp) = sdp {
            let transport = self.a.dialog.peer.transport;
            response = response
                .header("Contact", self.endpoint.contact(transport))
                .body("application/sdp", Bytes::from(sdp));
        }
        self.endpoint.reply(self.a.txn, response);
    }

    /// A fresh tag for a request we send, remembered with its purpose.
    pub fn track(&mut self, pending: Pending) -> u64 {
        self.next_tag += 1;
        self.pending.insert(self.next_tag, pending);
        self.next_tag
    }

    /// Sends a request built from `builder` to `peer` under `pending`.
    pub fn send(&mut self, builder: MessageBuilder, peer: Peer, pending: Pending) {
        match builder.header("User-Agent", SERVER).build_message() {
            Ok(msg) => {
                let tag = self.track(pending);
                self.endpoint
                    .send_request(msg, peer, self.events.clone(), tag);
            }
            Err(err) => tracing::error!(%err, "we built an unparsable request"),
        }
    }

    async fn finish(mut self: Box<Self>) {
        if let Some(control) = self.control.as_mut() {
            control.guard = None;
        }
        self.finish_voicemail().await;
        self.stop_recording().await;
        self.leave_queue().await;
        self.phones.release().await;
        let media_stats = self.media.as_ref().map(MediaSession::stats);
        if let Some(media) = self.media.take() {
            media.close().await;
        }
        self.endpoint.unsubscribe(&self.a.dialog.call_id);
        for fork in &self.forks {
            self.endpoint.unsubscribe(&fork.dialog.call_id);
        }
        let metrics = self.endpoint.metrics().clone();
        metrics.active_calls.dec();
        metrics.call_finished(self.cdr.outcome().as_str());
        let cdr = self.cdr.finish(media_stats);
        tracing::info!(result = %cdr.result, cause = %cdr.hangup_cause, side = %cdr.hangup_side, "call ended");
        self.store.record_cdr(cdr).await;
    }

    fn on_request(&mut self, msg: Message, txn: ServerTxn, _from: Peer) {
        let call_id = msg.call_id().unwrap_or_default().to_owned();
        if self.is_consult_dialog(&call_id) {
            return self.consult_request(msg, txn);
        }
        let leg = match self.phase {
            _ if call_id == self.a.dialog.call_id => Some(Leg::A),
            Phase::Connected { winner } if self.forks[winner].dialog.call_id == call_id => {
                Some(Leg::B)
            }
            _ => None,
        };
        match leg {
            Some(leg) if matches!(self.phase, Phase::Connected { .. }) => {
                self.in_dialog_request(leg, msg, txn)
            }
            Some(Leg::A) if matches!(self.phase, Phase::Ivr | Phase::Dialing) => {
                self.ivr_request(msg, txn)
            }
            Some(Leg::A) if msg.method() == Some(&Method::Bye) && self.phase == Phase::Ringing => {
                // A BYE before our 2xx: treat as a cancel (RFC 3261 15: the UAS may).
                self.endpoint
                    .reply(txn, MessageBuilder::response_to(&msg, 200, "OK", None));
                self.cdr
                    .end(Outcome::Cancelled, "caller_bye_before_answer", Side::Caller);
                self.respond_a(487, "Request Terminated", None);
                self.cancel_forks();
                self.ending();
            }
            _ => {
                let response =
                    MessageBuilder::response_to(&msg, 481, "Call/Transaction Does Not Exist", None);
                self.endpoint.reply(txn, response);
            }
        }
    }
}

/// The SDP body of `msg`, if it has one that parses.
pub(super) fn sdp_of(msg: &Message) -> Option<SessionDescription> {
    let is_sdp = msg
        .content_type()
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/sdp"));
    if !is_sdp || msg.body().is_empty() {
        return None;
    }
    SessionDescription::parse(std::str::from_utf8(msg.body()).ok()?).ok()
}

/// The answer of the pending lookup (once), or never when none is pending.
async fn next_lookup(
    lookup: &mut Option<oneshot::Receiver<Result<serde_json::Value, String>>>,
) -> Option<Result<serde_json::Value, String>> {
    let Some(receiver) = lookup.as_mut() else {
        return std::future::pending().await;
    };
    let answer = receiver
        .await
        .unwrap_or_else(|_| Err("lookup task ended".into()));
    *lookup = None;
    Some(answer)
}

/// The next media event, or never when the session has no event stream.
pub(super) async fn next_media_event(
    events: &mut Option<mpsc::UnboundedReceiver<MediaEvent>>,
) -> Option<MediaEvent> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

pub(super) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
