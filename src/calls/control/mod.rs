//! Live-call control: the registry of running calls and the commands the API sends into them
//! (hang up; start, stop, pause and resume the recording; hold and unhold (`hold.rs`); blind
//! transfer (`transfer.rs`), attended transfer (`consult.rs`, `consult_target.rs`), and the
//! blind transfer an agent's phone asks for with REFER (`refer.rs`)). Pure rules (targets,
//! which party, the consultation's steps) are in `rules.rs`.
//!
//! Owns: `LiveCalls` (call id -> the call's summary and command sender; an entry lives exactly
//! as long as its call task, removed by `LiveCallGuard` when the call finishes), the handling
//! of a `CallCommand` inside the call task (`Call::on_control`) and the per-call control state
//! (`CallControl`: hold, transfer in progress, consultation leg).
//! Must not touch: HTTP (the API maps `ControlError` to statuses), routing decisions (the ACD
//! gets tasks and completions only), SIP parsing.
//! Driven by: `api::v1::calls` (commands) and `Call::drive` (its `select!` loop); the
//! transfer's SIP responses come back through `Pending::Transfer` (`bridge.rs`).
//! Originated calls (`calls::originate`) take the same commands through `originate/control.rs`.

mod consult;
mod consult_target;
mod hold;
mod refer;
mod rules;
mod transfer;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::call::{Call, Leg, Phase, Recording};
use super::cdr::{CdrDraft, Outcome, Side};
use crate::config::Trunk;
use crate::media::player::PromptCache;
use crate::media::relay::MediaSession;
use crate::routing::AcdHandle;

pub use rules::{TransferMode, TransferTarget};
pub(super) use transfer::TransferPending;

/// What the API may ask of a live call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallCommand {
    /// End the call: BYE to both answered legs, CANCEL to ringing forks (cause `api_hangup`).
    Hangup,
    /// Recording control.
    Recording(RecordingAction),
    /// Put the other party than `by` on hold (music on hold; the holder hears silence).
    Hold {
        /// The agent asking (`None`: a supervisor, admin or integration; the caller is held).
        by: Option<String>,
    },
    /// Take the held party off hold.
    Unhold,
    /// Transfer the other party than `by` to `target`.
    Transfer {
        /// Where to.
        target: TransferTarget,
        /// Blind or attended.
        mode: TransferMode,
        /// The agent asking (`None`: a supervisor, admin or integration).
        by: Option<String>,
    },
    /// Attended transfer: bridge the held party with the consulted target, release the agent.
    CompleteTransfer,
    /// Attended transfer: drop the consultation, the agent is back with the held party.
    CancelTransfer,
    /// End the call because Centrala is shutting down (like `Hangup`, cause `shutdown`).
    Shutdown,
}

/// A recording command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingAction {
    /// Start recording now (the call must be answered and not recording).
    Start,
    /// Stop and complete the recording.
    Stop,
    /// Write silence instead of the call's audio until resumed.
    Pause,
    /// Record the call's audio again.
    Resume,
}

/// Why a command was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No live call has this id (or it ended meanwhile).
    #[error("no live call {0}")]
    UnknownCall(String),
    /// The call is not in a state where the command applies.
    #[error("{0}")]
    InvalidState(String),
    /// The call did not carry the command out in time (`COMMAND_TIMEOUT`).
    #[error("the call did not answer the command in time")]
    Busy,
    /// The transfer target names nothing Centrala can reach (the request's fault).
    #[error("{0}")]
    InvalidTarget(String),
}

/// How long the API waits for a call to carry out a command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// A live call as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCall {
    /// The call's id (its CDR's id).
    pub id: String,
    /// The caller leg's SIP Call-ID.
    pub call_id: String,
    /// The caller's number.
    pub caller: String,
    /// The dialled number.
    pub callee: String,
    /// When the call started (Unix ms).
    pub started_at_ms: i64,
    /// The agent a queued call is offered to (or answered by).
    pub agent: Option<String>,
    /// Whether the caller is an authenticated extension (else `caller` is a presented caller
    /// ID, which makes nobody a party).
    pub caller_is_extension: bool,
}

impl LiveCall {
    /// Whether `number` is a party of the call now: the caller, and the agent it is offered
    /// to or was transferred to (else the callee).
    pub fn has_party(&self, number: &str) -> bool {
        (self.caller_is_extension && self.caller == number)
            || match &self.agent {
                Some(agent) => agent == number,
                None => self.callee == number,
            }
    }
}

/// A command with the channel its outcome goes back on.
pub(super) struct ControlRequest {
    command: CallCommand,
    reply: oneshot::Sender<Result<(), ControlError>>,
}

impl ControlRequest {
    /// What is asked.
    pub(super) fn command(&self) -> &CallCommand {
        &self.command
    }

    /// Reports the outcome (the API may have given up waiting: nothing to do then).
    pub(super) fn answer(self, outcome: Result<(), ControlError>) {
        let _ = self.reply.send(outcome);
    }
}

struct Entry {
    call: LiveCall,
    commands: mpsc::UnboundedSender<ControlRequest>,
}

/// The registry of live calls, shared by the call manager and the API.
#[derive(Clone, Default)]
pub struct LiveCalls {
    calls: Arc<Mutex<HashMap<String, Entry>>>,
}

impl LiveCalls {
    /// Registers `call`; it stays listed until the returned guard is dropped.
    pub(super) fn register(
        &self,
        call: LiveCall,
    ) -> (LiveCallGuard, mpsc::UnboundedReceiver<ControlRequest>) {
        let (commands, receiver) = mpsc::unbounded_channel();
        let id = call.id.clone();
        self.lock().insert(id.clone(), Entry { call, commands });
        let guard = LiveCallGuard {
            calls: self.clone(),
            id,
        };
        (guard, receiver)
    }

    /// Lists the call of `cdr` and opens its command channel.
    pub(super) fn enrol(&self, cdr: &CdrDraft, services: ControlServices) -> CallControl {
        let (guard, commands) = self.register(LiveCall {
            id: cdr.id.clone(),
            call_id: cdr.call_id.clone(),
            caller: cdr.caller.clone(),
            callee: cdr.callee.clone(),
            started_at_ms: cdr.started_at_ms,
            agent: None,
            caller_is_extension: rules::caller_identity(&cdr.origin, &cdr.caller).is_some(),
        });
        CallControl {
            guard: Some(guard),
            commands,
            paused: false,
            services,
            held: None,
            transfer: None,
            transfers_made: 0,
        }
    }

    /// Every live call, oldest first.
    pub fn list(&self) -> Vec<LiveCall> {
        let mut calls: Vec<LiveCall> = self.lock().values().map(|e| e.call.clone()).collect();
        calls.sort_by(|a, b| (a.started_at_ms, &a.id).cmp(&(b.started_at_ms, &b.id)));
        calls
    }

    /// The live call with this id or SIP Call-ID.
    pub fn get(&self, id: &str) -> Option<LiveCall> {
        let calls = self.lock();
        calls
            .get(id)
            .or_else(|| calls.values().find(|e| e.call.call_id == id))
            .map(|e| e.call.clone())
    }

    /// Sends `command` to the call `id` (or SIP Call-ID) and waits for its outcome.
    pub async fn command(&self, id: &str, command: CallCommand) -> Result<(), ControlError> {
        let gone = || ControlError::UnknownCall(id.to_owned());
        let (reply, outcome) = oneshot::channel();
        {
            let calls = self.lock();
            let entry = calls
                .get(id)
                .or_else(|| calls.values().find(|e| e.call.call_id == id))
                .ok_or_else(gone)?;
            entry
                .commands
                .send(ControlRequest { command, reply })
                .map_err(|_| gone())?;
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, outcome).await {
            Ok(outcome) => outcome.map_err(|_| gone())?,
            Err(_) => Err(ControlError::Busy),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Removes its call from the registry when dropped.
pub(super) struct LiveCallGuard {
    calls: LiveCalls,
    id: String,
}

impl Drop for LiveCallGuard {
    fn drop(&mut self) {
        self.calls.lock().remove(&self.id);
    }
}

impl LiveCallGuard {
    /// Names the agent the call is offered to, a party of the call from now on.
    pub fn set_agent(&self, number: &str) {
        if let Some(entry) = self.calls.lock().get_mut(&self.id) {
            entry.call.agent = Some(number.to_owned());
        }
    }

    /// Forgets the agent (transferred away); the callee counts as a party again.
    pub fn clear_agent(&self) {
        if let Some(entry) = self.calls.lock().get_mut(&self.id) {
            entry.call.agent = None;
        }
    }

    /// The agent the call is offered to or answered by, if any.
    pub fn agent(&self) -> Option<String> {
        self.calls.lock().get(&self.id)?.call.agent.clone()
    }
}

/// The switch's parts call control uses, shared by every call.
#[derive(Clone)]
pub(super) struct ControlServices {
    /// Where a recording started by command goes.
    pub recordings_dir: PathBuf,
    /// Music on hold (`moh/default`).
    pub prompts: Arc<PromptCache>,
    /// The routing engine, for transfers to a queue.
    pub acd: AcdHandle,
    /// Carrier trunks, for transfers to an external number.
    pub trunks: Arc<[Trunk]>,
    /// Configured extensions, to read a REFER's target.
    pub extensions: Arc<HashSet<String>>,
}

/// A call's end of the control channel.
pub(super) struct CallControl {
    /// Keeps the call listed; dropped when the call finishes.
    pub guard: Option<LiveCallGuard>,
    pub commands: mpsc::UnboundedReceiver<ControlRequest>,
    /// The running recording is paused.
    pub paused: bool,
    /// What commands use.
    pub services: ControlServices,
    /// The leg on hold, while the call is held.
    pub held: Option<Leg>,
    /// The transfer under way (blind: ringing the target; attended: the consultation).
    pub transfer: Option<Box<transfer::Transfer>>,
    /// Agents released by transfers so far (each gets its own CDR row).
    pub transfers_made: u32,
}

/// The next command for the call, or never when it takes none.
pub(super) async fn next_control(control: &mut Option<CallControl>) -> Option<ControlRequest> {
    match control {
        Some(control) => control.commands.recv().await,
        None => std::future::pending().await,
    }
}

impl Call {
    /// Carries out one command and reports its outcome.
    pub(super) async fn on_control(&mut self, request: ControlRequest) {
        let outcome = match request.command {
            CallCommand::Hangup => self.hang_up_for("api_hangup"),
            CallCommand::Shutdown => self.hang_up_for("shutdown"),
            CallCommand::Recording(action) => self.control_recording(action).await,
            CallCommand::Hold { by } => self.hold(by.as_deref()),
            CallCommand::Unhold => self.unhold(),
            CallCommand::Transfer { target, mode, by } => {
                self.start_transfer(target, mode, by.as_deref()).await
            }
            CallCommand::CompleteTransfer => self.complete_transfer(),
            CallCommand::CancelTransfer => self.cancel_transfer(),
        };
        // The API may have given up waiting; nothing to do then.
        let _ = request.reply.send(outcome);
    }

    /// Ends the call from our side with `cause` (the API, or shutdown).
    fn hang_up_for(&mut self, cause: &str) -> Result<(), ControlError> {
        self.drop_consultation();
        match self.phase {
            Phase::Connected { .. } => {
                tracing::info!(cause, "hung up by Centrala");
                self.hang_up_both(Outcome::Answered, cause);
            }
            Phase::Ringing | Phase::Ivr | Phase::Dialing => {
                tracing::info!(cause, "hung up by Centrala before the answer");
                self.cdr.end(Outcome::Cancelled, cause, Side::System);
                self.cancel_forks();
                if self.a.final_sent {
                    self.bye_caller();
                } else {
                    self.respond_a(480, "Temporarily Unavailable", None);
                }
                self.ending();
            }
            Phase::Ending | Phase::Done => {
                return Err(ControlError::InvalidState("the call is ending".into()));
            }
        }
        Ok(())
    }

    async fn control_recording(&mut self, action: RecordingAction) -> Result<(), ControlError> {
        if !matches!(self.phase, Phase::Connected { .. }) {
            return Err(ControlError::InvalidState(
                "the call is not answered".into(),
            ));
        }
        let running = matches!(self.recording, Recording::Running(_));
        let Some(control) = self.control.as_mut() else {
            return Err(ControlError::InvalidState(
                "the call takes no commands".into(),
            ));
        };
        check_recording(action, running, control.paused)?;
        control.paused = action == RecordingAction::Pause;
        match action {
            RecordingAction::Start => {
                self.recording = Recording::Due(control.services.recordings_dir.clone());
                self.start_recording_if_due().await;
                if !matches!(self.recording, Recording::Running(_)) {
                    return Err(ControlError::InvalidState(
                        "the recording could not start".into(),
                    ));
                }
            }
            RecordingAction::Stop => self.stop_recording().await,
            RecordingAction::Pause | RecordingAction::Resume => {
                if let Some(media) = &self.media {
                    pause_recording(media, action == RecordingAction::Pause);
                }
            }
        }
        Ok(())
    }
}

/// Whether `action` fits a recording that is `running` (and `paused`); why not otherwise.
pub(in crate::calls) fn check_recording(
    action: RecordingAction,
    running: bool,
    paused: bool,
) -> Result<(), ControlError> {
    let why = match action {
        RecordingAction::Start if running => "the call is already recorded",
        RecordingAction::Start => return Ok(()),
        _ if !running => "the call is not being recorded",
        RecordingAction::Pause if paused => "the recording is paused",
        RecordingAction::Resume if !paused => "the recording is not paused",
        _ => return Ok(()),
    };
    Err(ControlError::InvalidState(why.into()))
}

/// Pauses (silence is recorded) or resumes the running recording of `media`.
pub(in crate::calls) fn pause_recording(media: &MediaSession, pause: bool) {
    if pause {
        media.pause_recording();
    } else {
        media.resume_recording();
    }
    tracing::info!(paused = pause, "recording paused or resumed");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str, started_at_ms: i64) -> LiveCall {
        LiveCall {
            id: id.into(),
            call_id: format!("sip-{id}"),
            caller: "1001".into(),
            callee: "1002".into(),
            started_at_ms,
            agent: None,
            caller_is_extension: true,
        }
    }

    #[test]
    fn a_trunk_call_presenting_an_agents_number_is_not_that_agents_call() {
        let spoofed = LiveCall {
            caller: "1003".into(),
            callee: "+48221234567".into(),
            caller_is_extension: false,
            ..call("t", 1)
        };
        assert!(!spoofed.has_party("1003"));
        let offered = LiveCall {
            agent: Some("1003".into()),
            ..spoofed
        };
        assert!(offered.has_party("1003"), "the agent it reached is a party");
        assert!(call("e", 1).has_party("1001"), "an extension's own call");
    }

    #[tokio::test]
    async fn commands_reach_the_call_and_its_answer_comes_back() {
        let live = LiveCalls::default();
        let (_guard, mut commands) = live.register(call("a", 1));
        let task = tokio::spawn(async move {
            let request = commands.recv().await.expect("a command");
            assert_eq!(request.command, CallCommand::Hangup);
            request.reply.send(Ok(())).expect("the API waits");
            let request = commands.recv().await.expect("a second command");
            let refusal = ControlError::InvalidState("not recording".into());
            request.reply.send(Err(refusal)).expect("the API waits");
        });
        assert_eq!(live.command("a", CallCommand::Hangup).await, Ok(()));
        let pause = CallCommand::Recording(RecordingAction::Pause);
        assert_eq!(
            live.command("sip-a", pause).await,
            Err(ControlError::InvalidState("not recording".into()))
        );
        task.await.expect("the call side ran");
    }

    #[tokio::test]
    async fn ended_and_unknown_calls_are_unknown() {
        let live = LiveCalls::default();
        let (guard, commands) = live.register(call("a", 1));
        assert_eq!(
            live.command("b", CallCommand::Hangup).await,
            Err(ControlError::UnknownCall("b".into()))
        );
        // The call task stopped taking commands (it is finishing) but is still listed.
        drop(commands);
        assert_eq!(
            live.command("a", CallCommand::Hangup).await,
            Err(ControlError::UnknownCall("a".into()))
        );
        drop(guard);
        assert!(live.get("a").is_none());
        assert!(live.list().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_never_answers_the_command_is_busy() {
        let live = LiveCalls::default();
        let (_guard, _commands) = live.register(call("a", 1));
        assert_eq!(
            live.command("a", CallCommand::Hangup).await,
            Err(ControlError::Busy)
        );
    }

    #[test]
    fn listing_is_oldest_first_and_finds_by_either_id() {
        let live = LiveCalls::default();
        let (_late, _) = live.register(call("late", 20));
        let (early, _) = live.register(call("early", 10));
        let ids: Vec<String> = live.list().into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["early", "late"]);
        assert_eq!(live.get("sip-late").map(|c| c.id), Some("late".into()));
        let found = live.get("early").expect("listed");
        assert!(found.has_party("1001") && found.has_party("1002"));
        assert!(!found.has_party("1003"));
        early.set_agent("1003");
        assert!(live.get("early").expect("listed").has_party("1003"));
    }

    #[test]
    fn recording_commands_fit_the_recording_state() {
        use RecordingAction::*;
        let fits = |action, running, paused| check_recording(action, running, paused).is_ok();
        assert!(fits(Start, false, false));
        assert!(!fits(Start, true, false), "already recording");
        assert!(!fits(Stop, false, false), "nothing to stop");
        assert!(fits(Stop, true, true));
        assert!(fits(Pause, true, false) && !fits(Pause, true, true));
        assert!(fits(Resume, true, true) && !fits(Resume, true, false));
        assert!(!fits(Resume, false, true), "not recording");
    }
}
