//! Agent-first calls that Centrala places itself: it rings an agent's registered phones, tells
//! the agent who is being called (a short announcement), then dials the customer (through the
//! outbound trunk, or an extension's phones) and bridges the two. Callbacks the ACD offers use
//! it (`callback_dialler`), and so does click-to-dial (`CallManager::originate`).
//!
//! Owns: `Originated`, the task of one such call: the forks toward the agent, then toward the
//! customer (`originate/legs.rs`), its media session, its CDR, and the reports of a callback
//! (accepted, the attempt's outcome, completed) to the ACD, in that order.
//! Must not touch: inbound calls (`call::Call`), routing decisions (the ACD decides retries and
//! wrap-up), the database (CDRs go through `CallStore`).
//! Driven by: `CallManager::originate` / `callback_dialler`, which spawn it; then its own loop
//! over SIP events, media events, a withdraw signal and its ring timer.
//!
//! ```text
//! RingingAgent ── agent 2xx ─▶ Briefing (announcement to the agent) ── played ─▶
//!   DialingCustomer (ring-back to the agent) ── customer 2xx ─▶ Connected ── BYE ─▶ Ending
//! every agent fork failed / ring timer / withdrawn ─▶ Ending (callback: unanswered)
//! every customer fork failed / ring timer ─▶ BYE agent, Ending (callback: the attempt's outcome)
//! ```

mod control;
mod legs;
mod place;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::sync::mpsc;

use super::CallManager;
use super::call::{next_media_event, sleep_until};
use super::cdr::{CallStore, CdrDraft, Outcome, QueuePath, Side, now_ms};
use super::fork::Fork;
use super::target::Target;
use crate::config::CallerId;
use crate::dialplan::say;
use crate::media::player::{PlayItem, Playback, PromptCache};
use crate::media::relay::{MediaEvent, MediaSession, Side as MediaSide};
use crate::media::sdp::{OriginState, SessionDescription, anchored_offer};
use crate::routing::{AcdHandle, AgentId, AttemptOutcome, TaskId};
use crate::sip::endpoint::{Endpoint, TuEvent};

/// How long a leg may ring when nothing else ends it first (the ACD's ring-no-answer
/// normally withdraws an agent's offer earlier).
const RING_LIMIT: Duration = Duration::from_secs(45);
/// How long the call waits for answers to its CANCELs and BYEs before it ends.
const END_GRACE: Duration = Duration::from_secs(4);
/// The codecs Centrala offers on both legs (the media engine adds what it can transcode).
const OFFER_TEMPLATE: &str = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
    t=0 0\r\nm=audio 9 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
    a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n";

/// Why a call is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// A callback task the ACD offered to `agent`; its outcome is reported back.
    Callback {
        /// The task.
        task: TaskId,
        /// The agent it was offered to.
        agent: AgentId,
    },
    /// An agent asked to call a number (click-to-dial); nothing is reported to the ACD.
    ClickToDial,
}

/// Why a call could not be placed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OriginateError {
    /// The agent's extension is not configured (the request's fault).
    #[error("unknown extension {0}")]
    UnknownExtension(String),
    /// The agent has no registered phone.
    #[error("extension {0} has no registered phone")]
    AgentUnavailable(String),
    /// No trunk dials out and the number is no extension.
    #[error("no route to the customer's number")]
    NoRoute,
    /// The number is empty or not a phone number.
    #[error("invalid number {0:?}")]
    InvalidNumber(String),
    /// The call names a queue that is not configured (the request's fault).
    #[error("unknown queue {0}")]
    UnknownQueue(String),
    /// Centrala is shutting down and places no new calls.
    #[error("shutting down")]
    ShuttingDown,
}

/// An originated call's handle: its id (the CDR's id) and a way to stop ringing the agent.
pub(super) struct Placed {
    pub id: String,
    /// Sending (or dropping after a send) stops ringing the agent if nobody answered yet.
    pub withdraw: mpsc::UnboundedSender<()>,
}

/// Where an originated call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    RingingAgent,
    /// The agent answered (fork `winner`) and hears who is being called.
    Briefing {
        winner: usize,
    },
    DialingCustomer {
        winner: usize,
    },
    Connected {
        winner: usize,
        customer: usize,
    },
    /// The customer was blind-transferred through the API: new agent-leg forks ring the
    /// target, the customer (fork `customer`) hears ring-back (`originate/control.rs`).
    Transferring {
        customer: usize,
    },
    Ending,
    Done,
}

/// What a request we sent is for, by its tag.
#[derive(Debug, Clone, Copy)]
enum Pending {
    Agent(usize),
    Customer(usize),
    Teardown,
}

/// What the ACD must hear, in order (sent after each input).
#[derive(Debug, Clone, Copy)]
enum Report {
    Accepted,
    Unanswered,
    Attempt(AttemptOutcome),
    Completed,
}

/// One originated call. See the module docs.
struct Originated {
    endpoint: Endpoint,
    /// Where the endpoint delivers this call's responses and in-dialog requests.
    events: crate::sip::endpoint::TuSender,
    rx: Option<mpsc::UnboundedReceiver<TuEvent>>,
    media: Option<MediaSession>,
    agent: String,
    customer: String,
    purpose: Purpose,
    agent_forks: Vec<Fork>,
    /// Where the agent leg's current ring round starts in `agent_forks` (a transfer adds a
    /// round toward its target).
    agent_round: usize,
    customer_target: Target,
    customer_forks: Vec<Fork>,
    stage: Stage,
    /// When the leg ringing now is given up.
    ring_until: Option<Instant>,
    end_by: Option<Instant>,
    pending: HashMap<u64, Pending>,
    next_tag: u64,
    origin_a: OriginState,
    origin_b: OriginState,
    acd: AcdHandle,
    /// The agent's phone on a click-to-dial call (a callback is busy through its task).
    phones: super::phone_busy::PhoneBusy,
    reports: Vec<Report>,
    prompts: Arc<PromptCache>,
    cdr: CdrDraft,
    store: Arc<dyn CallStore>,
    /// Commands from the API; the guard keeps the call listed in `LiveCalls`.
    control: Option<control::OriginatedControl>,
    /// The queues' caller IDs: a callback presents its queue's to the carrier.
    queue_caller_ids: Arc<HashMap<String, CallerId>>,
}

impl Originated {
    fn new(
        manager: &CallManager,
        agent: &str,
        customer: &str,
        purpose: Purpose,
        agent_forks: Vec<Fork>,
        customer_target: Target,
    ) -> Originated {
        let (events, rx) = mpsc::unbounded_channel();
        let cdr = CdrDraft {
            id: format!("{:016x}", rand::random::<u64>()),
            call_id: agent_forks
                .first()
                .map(|f| f.dialog.call_id.clone())
                .unwrap_or_default(),
            caller: agent.to_owned(),
            callee: customer.to_owned(),
            origin: match purpose {
                Purpose::Callback { .. } => "callback".into(),
                Purpose::ClickToDial => "click_to_dial".into(),
            },
            started_at_ms: now_ms(),
            answered_at_ms: None,
            ended: None,
            transferred_to: None,
            queue: QueuePath::originated(None, agent),
        };
        Originated {
            endpoint: manager.endpoint.clone(),
            events,
            rx: Some(rx),
            media: None,
            agent: agent.to_owned(),
            customer: customer.to_owned(),
            purpose,
            agent_forks,
            agent_round: 0,
            customer_target,
            customer_forks: Vec::new(),
            stage: Stage::RingingAgent,
            ring_until: None,
            end_by: None,
            pending: HashMap::new(),
            next_tag: 0,
            origin_a: OriginState::new(),
            origin_b: OriginState::new(),
            acd: manager.acd.clone(),
            phones: super::phone_busy::PhoneBusy::wrapping_up(
                manager.acd.clone(),
                manager.config.limits.click_to_dial_wrap_up(),
            ),
            reports: Vec::new(),
            prompts: manager.prompts.clone(),
            cdr,
            store: manager.store.clone(),
            control: None,
            queue_caller_ids: manager.config.queue_caller_ids.clone(),
        }
    }

    async fn run(mut self, mut media: MediaSession, mut withdrawn: mpsc::UnboundedReceiver<()>) {
        let mut media_events = media.events();
        self.media = Some(media);
        let Some(mut rx) = self.rx.take() else { return };
        self.endpoint.metrics().active_calls.inc();
        tracing::info!("ringing the agent");
        if self.purpose == Purpose::ClickToDial {
            let agent = self.agent.clone();
            self.phones.mark(&agent);
        }
        self.ring_agent();
        self.name_callback_queue().await;
        while self.stage != Stage::Done {
            let deadline = [self.ring_until, self.end_by].into_iter().flatten().min();
            tokio::select! {
                event = rx.recv() => match event {
                    Some(event) => self.on_event(event),
                    None => break,
                },
                Some(event) = next_media_event(&mut media_events) => self.on_media_event(event),
                Some(()) = withdrawn.recv() => self.withdrawn(),
                Some(request) = control::next_command(&mut self.control) => {
                    self.on_control(request).await
                }
                () = sleep_until(deadline) => self.on_timer(Instant::now()),
            }
            self.send_reports().await;
            if self.stage == Stage::Ending && self.pending.is_empty() {
                self.stage = Stage::Done;
            }
        }
        self.finish().await;
    }

    /// A callback's CDR names the callback's queue (asked while the agent's phones ring), and
    /// the carrier is presented the queue's caller ID over the trunk's (`calls::caller_id`).
    async fn name_callback_queue(&mut self) {
        if let Purpose::Callback { task, .. } = self.purpose
            && let Ok(Some(view)) = self.acd.task(task).await
        {
            if let Target::Trunk { overrides, .. } = &mut self.customer_target {
                overrides.queue = self.queue_caller_ids.get(&view.queue).cloned();
            }
            self.cdr.queue.queue = Some(view.queue);
        }
    }

    /// No RTP ports: the agent is never rung; a callback offer goes back to the ACD.
    async fn no_media(mut self, err: String) {
        tracing::warn!(%err, "no media ports for an originated call");
        self.reports.push(Report::Unanswered);
        self.cdr
            .end(Outcome::Failed, "no_media_ports", Side::System);
        self.send_reports().await;
        self.store.record_cdr(self.cdr.finish(None)).await;
    }

    /// Our offer toward one side of the media session.
    fn offer(&mut self, side: MediaSide) -> Option<bytes::Bytes> {
        let template = SessionDescription::parse(OFFER_TEMPLATE).ok()?;
        let local = self.media.as_ref()?.local(side);
        let origin = match side {
            MediaSide::A => &mut self.origin_a,
            MediaSide::B => &mut self.origin_b,
        };
        let offer = anchored_offer(&template, local, origin)?;
        Some(bytes::Bytes::from(offer.to_string()))
    }

    fn ring_agent(&mut self) {
        let Some(body) = self.offer(MediaSide::A) else {
            return self.agent_failed(500);
        };
        self.ring_until = Some(Instant::now() + RING_LIMIT);
        for index in 0..self.agent_forks.len() {
            self.send_invite(Pending::Agent(index), body.clone(), None);
        }
    }

    /// For a callback the agent hears "callback to" and the number, digit by digit
    /// (English), then the customer is dialled (at once for click-to-dial).
    fn brief_agent(&mut self, winner: usize) {
        self.stage = Stage::Briefing { winner };
        if self.purpose == Purpose::ClickToDial {
            return self.dial_customer(winner);
        }
        let mut names = vec!["callback_intro".to_owned()];
        names.extend(say::digits(&self.customer));
        let items: Vec<PlayItem> = names
            .iter()
            .filter_map(|name| self.prompts.get(&format!("en/{name}")))
            .map(PlayItem::Prompt)
            .collect();
        match (&self.media, items.is_empty()) {
            (Some(media), false) => media.play(MediaSide::A, Playback::sequence(items)),
            _ => self.dial_customer(winner),
        }
    }

    fn on_media_event(&mut self, event: MediaEvent) {
        if let (MediaEvent::PlaybackFinished { side: MediaSide::A }, Stage::Briefing { winner }) =
            (event, self.stage)
        {
            self.dial_customer(winner);
        }
    }

    /// The ACD took the offer back (ring-no-answer, logout) before the agent answered.
    fn withdrawn(&mut self) {
        if self.stage == Stage::RingingAgent {
            tracing::info!("offer withdrawn; the agent's phones stop ringing");
            self.cdr
                .end(Outcome::NoAnswer, "offer_withdrawn", Side::System);
            self.cancel_all(Leg::Agent);
            self.ending();
        }
    }

    fn on_timer(&mut self, now: Instant) {
        if self.ring_until.is_some_and(|at| at <= now) {
            self.ring_until = None;
            match self.stage {
                Stage::RingingAgent => {
                    self.cancel_all(Leg::Agent);
                    self.agent_failed(408);
                }
                Stage::DialingCustomer { winner } => {
                    self.cancel_all(Leg::Customer);
                    self.customer_failed(winner, 408);
                }
                Stage::Transferring { customer } => {
                    self.cancel_all(Leg::Agent);
                    self.transfer_failed(customer, 408);
                }
                _ => {}
            }
        }
        if self.end_by.is_some_and(|at| at <= now) {
            self.stage = Stage::Done;
        }
    }

    fn ending(&mut self) {
        self.stage = Stage::Ending;
        self.ring_until = None;
        self.end_by.get_or_insert(Instant::now() + END_GRACE);
    }

    /// Tells the ACD, in order, what happened since the last input (callbacks only).
    async fn send_reports(&mut self) {
        let Purpose::Callback { task, agent } = self.purpose else {
            self.reports.clear();
            return;
        };
        let mut refused = false;
        for report in std::mem::take(&mut self.reports) {
            let result = match report {
                Report::Accepted => self.acd.offer_accepted(task, agent).await,
                Report::Unanswered => self.acd.offer_unanswered(task, agent).await,
                Report::Attempt(outcome) => self
                    .acd
                    .callback_outcome(task, outcome, Some(self.cdr.id.clone()))
                    .await
                    .map(|verdict| tracing::info!(?outcome, %verdict, "callback attempt")),
                Report::Completed => self.acd.completed(task).await,
            };
            if let Err(err) = result {
                tracing::warn!(%err, ?report, %task, "the ACD refused a callback report");
                refused |= matches!(report, Report::Accepted);
            }
        }
        // The offer was taken back just before the agent answered: the task is queued again,
        // so this call must not dial the customer.
        if let (true, Stage::Briefing { winner }) = (refused, self.stage) {
            self.cdr
                .end(Outcome::Failed, "offer_withdrawn", Side::System);
            self.bye(Leg::Agent, winner);
            self.ending();
        }
    }

    async fn finish(mut self) {
        self.finish_recording().await;
        self.control = None;
        self.send_reports().await;
        self.phones.release().await;
        let media_stats = self.media.as_ref().map(|media| media.stats());
        if let Some(media) = self.media.take() {
            media.close().await;
        }
        for fork in self.agent_forks.iter().chain(&self.customer_forks) {
            self.endpoint.unsubscribe(&fork.dialog.call_id);
        }
        let metrics = self.endpoint.metrics().clone();
        metrics.active_calls.dec();
        metrics.call_finished(self.cdr.outcome().as_str());
        let cdr = self.cdr.finish(media_stats);
        tracing::info!(result = %cdr.result, cause = %cdr.hangup_cause, "originated call ended");
        self.store.record_cdr(cdr).await;
    }
}

/// Which leg a fork belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leg {
    Agent,
    Customer,
}
