//! Calls the dialplan handles: Centrala answers the caller itself, plays prompts, reads DTMF
//! (RFC 4733, in-band or SIP INFO) into the flow, and carries out its actions: `dial` rings an
//! extension and bridges it, `transfer` rings an extension or a number through an outbound
//! trunk (or queues the call), `hangup` ends the call.
//!
//! Owns: the `FlowRun` of a call and the translation between its `Action`s/`Event`s and the
//! call's SIP legs and media session.
//! Driven by: `Call::drive`, which calls `run_dialplan` after every input.
//!
//! `lookup` asks the CRM through `cti::lookup` in the background (the flow keeps its own
//! timeout and fallback branch).
//!
//! `queue` (and `transfer` to a queue) hands the call to the ACD (`calls::queue`);
//! `callback` and `survey` are in `calls::ivr_tasks`, `voicemail` in `calls::voicemail`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::oneshot;

use super::call::{Call, Pending, Phase};
use super::cdr::{Outcome, Side};
use super::codecs;
use super::target::Target;
use crate::config::Trunk;
use crate::cti::lookup::LookupService;
use crate::dialplan::model::{Announce, TransferTarget};
use crate::dialplan::{Action, Event, FlowRun};
use crate::media::dtmf::info::parse_info;
use crate::media::player::{PlayItem, Playback, PromptCache};
use crate::media::relay::{MediaEvent, Side as MediaSide};
use crate::media::sdp::{SessionDescription, answer_locally};
use crate::media::tone::ToneSpec;
use crate::routing::AcdHandle;
use crate::sip::endpoint::ServerTxn;
use crate::sip::message::{Message, MessageBuilder};
use crate::sip::method::Method;

/// The dialplan side of a call.
pub(super) struct Ivr {
    /// The interpreter, holding the dialplan version the call started with.
    pub run: FlowRun,
    /// Our SDP answer to the caller, sent when the flow answers.
    pub answer: Option<String>,
    /// What the flow's actions use.
    pub services: IvrServices,
    /// The ACD's answer to the flow's callback request, awaited by the call's run loop.
    pub callback: Option<oneshot::Receiver<Result<(), String>>>,
}

/// The switch's parts a flow's actions use, shared by every call.
#[derive(Clone)]
pub(super) struct IvrServices {
    /// Prompts, loaded once for all calls.
    pub prompts: Arc<PromptCache>,
    /// The CRM lookups the flow may ask.
    pub lookups: Arc<LookupService>,
    /// The routing engine, for `queue`, `callback` and `voicemail` steps.
    pub acd: AcdHandle,
    /// Carrier trunks, for `transfer` to an external number.
    pub trunks: Arc<[Trunk]>,
    /// Where voicemails are recorded.
    pub recordings_dir: PathBuf,
}

impl Ivr {
    /// A run for `run` with the shared services.
    pub fn new(run: FlowRun, services: IvrServices) -> Ivr {
        Ivr {
            run,
            answer: None,
            services,
            callback: None,
        }
    }
}

impl Call {
    /// Our own answer to the caller's offer (Centrala answers, not a callee), applied to the
    /// caller's side of the media session; `None` after failing the caller with 488 when
    /// nothing in the offer fits (or with no media session).
    pub(super) fn answer_caller_locally(&mut self) -> Option<SessionDescription> {
        let media = self.media.as_ref()?;
        let Some(answer) =
            answer_locally(&self.a.offer, media.local(MediaSide::A), &mut self.origin_a)
        else {
            self.fail_caller(
                488,
                "Not Acceptable Here",
                Outcome::Failed,
                "no_common_codec",
            );
            return None;
        };
        codecs::apply(media, MediaSide::A, &answer);
        Some(answer)
    }

    /// Prepares our answer to the caller's offer; false (488) when nothing fits.
    pub fn start_ivr(&mut self) -> bool {
        if self.ivr.is_none() {
            return false;
        }
        let Some(answer) = self.answer_caller_locally() else {
            return false;
        };
        let (Some(media), Some(ivr)) = (self.media.as_ref(), self.ivr.as_mut()) else {
            return false;
        };
        media.set_inband_dtmf(MediaSide::A, true);
        ivr.answer = Some(answer.to_string());
        tracing::info!(number = %crate::security::pii::masked(&self.cdr.callee), "dialplan runs the call");
        self.run_dialplan();
        true
    }

    /// Carries out every action the flow has queued.
    pub fn run_dialplan(&mut self) {
        while let Some(action) = self.ivr.as_mut().and_then(|ivr| ivr.run.poll_action()) {
            self.execute(action);
        }
    }

    /// A digit or a playback end from the media session.
    pub fn on_media_event(&mut self, event: MediaEvent) {
        match event {
            MediaEvent::Dtmf {
                side: MediaSide::A,
                digit,
                source,
            } => {
                tracing::debug!(digit = %digit.as_char(), ?source, "digit");
                self.on_digit(digit.as_char());
            }
            MediaEvent::PlaybackFinished { side: MediaSide::A } => {
                self.flow_event(Event::PlaybackFinished)
            }
            MediaEvent::Silence { side: MediaSide::A } => self.voicemail_silence(),
            _ => {}
        }
    }

    /// A request from the caller while the dialplan runs (or dials).
    pub fn ivr_request(&mut self, msg: Message, txn: ServerTxn) {
        if !self.a.dialog.accept_remote_cseq(&msg) {
            return self.endpoint.reply(
                txn,
                MessageBuilder::response_to(&msg, 500, "Out Of Order", None),
            );
        }
        match msg.method() {
            Some(Method::Bye) => {
                self.endpoint
                    .reply(txn, MessageBuilder::response_to(&msg, 200, "OK", None));
                let abandoned = self.queued.as_ref().is_some_and(|q| !q.accepted);
                let outcome = if abandoned {
                    Outcome::Abandoned
                } else {
                    Outcome::Answered
                };
                self.cdr.end(outcome, "normal_clearing", Side::Caller);
                self.flow_event(Event::HangUp);
                self.cancel_forks();
                self.ending();
            }
            Some(Method::Info) => {
                let digit = parse_info(msg.content_type().unwrap_or(""), msg.body()).ok();
                self.endpoint
                    .reply(txn, MessageBuilder::response_to(&msg, 200, "OK", None));
                if let Some(digit) = digit {
                    self.on_digit(digit.digit.as_char());
                }
            }
            _ => self
                .endpoint
                .reply(txn, MessageBuilder::response_to(&msg, 200, "OK", None)),
        }
    }

    /// The extension the flow dialled (or the agent a queue offered) did not answer.
    pub fn dial_failed(&mut self, why: &str) {
        if self.transfer_dial_failed(why) {
            return;
        }
        if self.is_queued() {
            return self.queue_offer_failed(why);
        }
        tracing::info!(why, "dial from the dialplan failed");
        self.phase = Phase::Ivr;
        self.no_answer_at = None;
        if let Some(media) = &self.media {
            media.stop_playback(MediaSide::A);
        }
        self.flow_event(Event::TransferResult(Err(why.to_owned())));
    }

    /// A fork rang by the flow answered: the caller (already answered) is bridged to it.
    pub fn dial_connected(&mut self, winner: usize) {
        if let Some(media) = &self.media {
            media.stop_playback(MediaSide::A);
            media.set_inband_dtmf(MediaSide::A, false);
        }
        self.phase = Phase::Connected { winner };
        self.no_answer_at = None;
        self.queue_connected();
        self.transfer_answered();
        self.flow_event(Event::TransferResult(Ok(())));
        self.ivr = None;
        tracing::info!("dialplan call bridged");
    }

    /// A key from the caller: it may end a voicemail recording, else the flow reads it.
    fn on_digit(&mut self, digit: char) {
        if !self.voicemail_key(digit) {
            self.flow_event(Event::Digit(digit));
        }
    }

    pub(super) fn flow_event(&mut self, event: Event) {
        if self.queue_consumes(&event) || self.confirmation_consumes(&event) {
            return;
        }
        if let Some(ivr) = self.ivr.as_mut() {
            ivr.run.handle_event(Instant::now(), event);
        }
    }

    fn execute(&mut self, action: Action) {
        tracing::debug!(?action, "dialplan action");
        match action {
            Action::Answer => self.answer_ivr(),
            Action::Play {
                prompts, language, ..
            } => self.play(&prompts, &language),
            Action::StopPlayback => {
                if let Some(media) = &self.media {
                    media.stop_playback(MediaSide::A);
                }
            }
            Action::Lookup { name, params, .. } => self.start_lookup(name, params),
            Action::Dial { extension, timeout } => self.dial(&extension, timeout),
            Action::Transfer { target, vars } => self.transfer(target, vars),
            Action::Queue {
                queue,
                skills,
                priority,
                vars,
                announce,
            } => {
                if !self.a.final_sent {
                    self.answer_ivr();
                }
                self.queue_call(queue, skills, priority, vars, Some(announce));
            }
            Action::Callback {
                queue,
                number,
                keep_position,
                vars,
            } => self.request_callback(queue, number, keep_position, vars),
            Action::Voicemail {
                queue,
                max_duration,
                max_silence,
                vars,
            } => self.start_voicemail(queue, max_duration, max_silence, vars),
            Action::StoreSurvey {
                survey, answers, ..
            } => self.store_survey(survey, answers),
            Action::HangUp => self.hang_up_ivr(),
        }
    }

    /// `transfer`: to an extension (rung like `dial`), a queue, or a number via a trunk.
    fn transfer(&mut self, target: TransferTarget, vars: serde_json::Value) {
        let timeout = self.no_answer_timeout;
        match target {
            TransferTarget::Extension(extension) => self.dial(&extension, timeout),
            TransferTarget::Queue(queue) => self.queue_call(queue, Vec::new(), 0, vars, None),
            TransferTarget::External { number, trunk } => {
                let found = self.ivr.as_ref().and_then(|ivr| {
                    ivr.services
                        .trunks
                        .iter()
                        .find(|t| t.name == trunk && t.outbound.is_some())
                        .cloned()
                });
                match found {
                    Some(trunk) => {
                        let overrides = Default::default();
                        let target = Target::Trunk {
                            trunk: Box::new(trunk),
                            number,
                            overrides,
                        };
                        self.dial_target(&target, timeout)
                    }
                    None => {
                        tracing::warn!(%trunk, "transfer: no such trunk with an outbound side");
                        self.dial_failed("no outbound trunk");
                    }
                }
            }
        }
    }

    /// Hands the call to the ACD (the flow has ended).
    fn queue_call(
        &mut self,
        queue: String,
        skills: Vec<String>,
        priority: i32,
        vars: serde_json::Value,
        announce: Option<Announce>,
    ) {
        let Some(acd) = self.ivr.as_ref().map(|ivr| ivr.services.acd.clone()) else {
            return;
        };
        self.enqueue(acd, queue, skills, priority, vars, announce);
    }

    /// Asks the CRM in the background; the flow keeps its own timeout and fallback.
    fn start_lookup(&mut self, name: String, params: serde_json::Value) {
        let Some(ivr) = self.ivr.as_ref() else { return };
        let lookups = ivr.services.lookups.clone();
        let params = match params {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.lookup = Some(rx);
        tokio::spawn(async move {
            // A failure is logged once, with its cause, by the lookup service.
            let answer = lookups
                .lookup(&name, params)
                .await
                .map_err(|err| err.to_string());
            let _ = tx.send(answer);
        });
    }

    /// The CRM answered (or failed).
    pub fn on_lookup(&mut self, answer: Result<serde_json::Value, String>) {
        self.flow_event(Event::LookupResult(answer));
    }

    fn answer_ivr(&mut self) {
        let Some(sdp) = self.ivr.as_ref().and_then(|ivr| ivr.answer.clone()) else {
            return;
        };
        if !self.a.final_sent {
            self.send_200(sdp);
            self.cdr.answered();
        }
        self.flow_event(Event::Answered);
    }

    fn play(&mut self, prompts: &[String], language: &str) {
        let Some(ivr) = self.ivr.as_ref() else { return };
        let items: Vec<PlayItem> = prompts
            .iter()
            .filter_map(|name| ivr.services.prompts.get(&format!("{language}/{name}")))
            .map(PlayItem::Prompt)
            .collect();
        match (&self.media, items.is_empty()) {
            (Some(media), false) => media.play(MediaSide::A, Playback::sequence(items)),
            _ => self.flow_event(Event::PlaybackFinished),
        }
    }

    fn dial(&mut self, extension: &str, timeout: Duration) {
        let contacts = self.registrar.lookup(extension);
        if contacts.is_empty() {
            return self.dial_failed("extension not registered");
        }
        let target = Target::Extension {
            number: extension.to_owned(),
            contacts,
        };
        self.dial_target(&target, timeout);
    }

    /// Rings `target` while the caller hears ring-back; the answer bridges, a failure goes
    /// back to the flow (`TransferResult`).
    pub(super) fn dial_target(&mut self, target: &Target, timeout: Duration) {
        self.phase = Phase::Dialing;
        self.no_answer_at = Some(Instant::now() + timeout);
        if let Some(media) = &self.media {
            media.play(MediaSide::A, Playback::tone(ToneSpec::ringback_eu()));
        }
        if !self.ring(target) {
            self.dial_failed("no common codec");
        }
    }

    fn hang_up_ivr(&mut self) {
        self.cdr
            .end(Outcome::Answered, "dialplan_hangup", Side::System);
        self.hang_up_caller();
    }

    /// Ends the call from our side: BYE when answered, 480 when not.
    pub fn hang_up_caller(&mut self) {
        if self.a.final_sent {
            let via = self.endpoint.via(self.a.dialog.peer.transport);
            let builder = self.a.dialog.request(&Method::Bye, &via);
            let peer = self.a.dialog.peer;
            self.send(builder, peer, Pending::Teardown);
        } else {
            self.respond_a(480, "Temporarily Unavailable", None);
        }
        self.ivr = None;
        self.ending();
    }
}

/// The 200 that answers the caller's INVITE with `sdp`, retransmitted until the ACK.
impl Call {
    pub fn send_200(&mut self, sdp: String) {
        let transport = self.a.dialog.peer.transport;
        let sdp = Bytes::from(sdp);
        let mut response =
            MessageBuilder::response_to(&self.a.invite, 200, "OK", Some(&self.a.dialog.local_tag))
                .header("Contact", self.endpoint.contact(transport))
                .header("Allow", crate::sip::endpoint::ALLOW)
                .header("Server", crate::sip::endpoint::SERVER);
        for (name, value) in self.core.answer_headers() {
            response = response.header(name, value);
        }
        let response = response
            .body("application/sdp", sdp.clone())
            .build_message();
        let Ok(response) = response else {
            tracing::error!("we built an unparsable 200");
            return;
        };
        self.a.final_sent = true;
        self.endpoint.respond(self.a.txn, response.clone());
        self.core_answered(response, sdp);
    }
}
