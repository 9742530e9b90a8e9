//! Agent feature codes dialled from a phone (`[features]`: `*11` log in, `*12` log out,
//! `*13[reason]` break, `*14` ready): an authenticated extension acts on its own agent through
//! `AcdHandle::agent`; Centrala answers, plays a short confirmation and hangs up. A code that
//! is not configured gets 404, an extension that is no agent 403, a change the ACD refuses
//! (e.g. a break while logged out) 409.
//!
//! Owns: the decision whether a dialled string is a feature code, the ACD request, the
//! answer (a confirmation call or a refusal).
//! Must not touch: agent state (the ACD's), the meaning of codes (`routing::features`).
//! Driven by: `CallManager::invite`, before the target is looked up.

use tokio::sync::mpsc;

use super::CallManager;
use super::call::{self, Call, Phase};
use super::cdr::{Outcome, Side};
use super::target::Target;
use crate::dialplan::Event;
use crate::media::player::Playback;
use crate::media::relay::Side as MediaSide;
use crate::routing::{AcdError, StateCause};
use crate::sip::endpoint::{Endpoint, IncomingRequest, TuSender};
use crate::sip::message::{MessageBuilder, Uri, unescape};

/// The prompt that confirms a feature code (in `sounds/en/`).
const CONFIRMATION: &str = "en/feature_done";

impl CallManager {
    /// Handles `request`, in which extension `user` dialled feature code `dialled` (see
    /// `feature_code_of`).
    pub(super) fn feature_code(
        &self,
        endpoint: &Endpoint,
        request: IncomingRequest,
        tag: String,
        user: &str,
        dialled: String,
    ) -> Option<TuSender> {
        let refuse = |request: IncomingRequest, status: u16, reason: &str| {
            let response = MessageBuilder::response_to(&request.msg, status, reason, Some(&tag));
            endpoint.reply(request.txn, response);
            None
        };
        let Some(action) = self.config.features.parse(&dialled) else {
            tracing::info!(code = %dialled, "unknown feature code");
            return refuse(request, 404, "Unknown Feature Code");
        };
        let Some(agent) = self.acd.agent_id(user) else {
            return refuse(request, 403, "Not An Agent");
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let setup = call::Setup {
            endpoint: endpoint.clone(),
            request,
            local_tag: tag,
            origin: super::target::Origin::Extension(user.to_owned()),
            target: Target::Dialplan {
                number: dialled,
                trunk: None,
            },
            ports: self.ports.clone(),
            media_ip: self.config.media_ip,
            no_answer_timeout: self.config.no_answer_timeout,
            store: self.store.clone(),
            recording: None,
            ivr: None,
            registrar: self.registrar.clone(),
            events: tx.clone(),
            limits: self.config.limits.clone(),
            acd: self.acd.clone(),
        };
        let acd = self.acd.clone();
        let confirmation = self.prompts.get(CONFIRMATION).map(Playback::prompt);
        let running = self.tasks.enter();
        let number = user.to_owned();
        tokio::spawn(async move {
            let _running = running;
            let refusal = match acd.agent_from(agent, action, StateCause::FeatureCode).await {
                Ok(()) => None,
                Err(err @ (AcdError::Routing(_) | AcdError::Invalid(_))) => {
                    Some((409, "Conflict", err))
                }
                Err(err) => Some((500, "Server Internal Error", err)),
            };
            if let Some((status, reason, err)) = refusal {
                tracing::info!(agent = %number, ?action, %err, "feature code refused");
                let tag = Some(setup.local_tag.as_str());
                let response = MessageBuilder::response_to(&setup.request.msg, status, reason, tag);
                return setup.endpoint.reply(setup.request.txn, response);
            }
            tracing::info!(agent = %number, ?action, "feature code");
            if let Some(mut call) = Call::new(setup) {
                call.confirmation = Some(confirmation.unwrap_or_default());
                call.run(rx).await;
            }
        });
        Some(tx)
    }
}

/// The dialled user part when it looks like a feature code (starts with `*` or `#`).
pub(super) fn feature_code_of(request: &IncomingRequest) -> Option<String> {
    let uri = Uri::parse(request.msg.request_uri()?).ok()?;
    let user = unescape(uri.user?);
    let dialled = user.split(';').next().unwrap_or_default();
    dialled.starts_with(['*', '#']).then(|| dialled.to_owned())
}

impl Call {
    /// Answers the caller and plays `confirmation`; its end hangs up (see
    /// `confirmation_consumes`). False (488) when the caller's offer fits nothing.
    pub(super) fn start_confirmation(&mut self, confirmation: Playback) -> bool {
        let Some(answer) = self.answer_caller_locally() else {
            return false;
        };
        self.phase = Phase::Ivr;
        self.no_answer_at = None;
        self.send_200(answer.to_string());
        self.cdr.answered();
        if confirmation.items.is_empty() {
            self.end_confirmation();
        } else if let Some(media) = &self.media {
            media.play(MediaSide::A, confirmation);
            self.confirming = true;
        }
        true
    }

    /// The confirmation played to its end: the call is over.
    pub(super) fn confirmation_consumes(&mut self, event: &Event) -> bool {
        if !self.confirming || *event != Event::PlaybackFinished {
            return false;
        }
        self.end_confirmation();
        true
    }

    fn end_confirmation(&mut self) {
        self.confirming = false;
        self.cdr
            .end(Outcome::Answered, "feature_code_done", Side::System);
        self.hang_up_caller();
    }
}
