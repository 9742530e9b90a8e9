//! API control of an originated call (click-to-dial, agent-first callbacks): it is listed in
//! `LiveCalls` (the agent as its caller and agent, the customer as its callee) from the
//! moment the agent's phones ring, and takes hang-up, hold and unhold. Hold always holds the
//! customer (the agent placed the call): the customer hears music on hold, the agent silence.
//! Recording and transfers are refused (409) on these calls for now.
//!
//! Part of `Originated`; the registry and commands are `calls::control`'s.

use tokio::sync::mpsc;

use super::{Leg, Originated, Stage};
use crate::calls::cdr::{Outcome, Side};
use crate::calls::control::{CallCommand, ControlError, ControlRequest, LiveCallGuard};
use crate::media::player::Playback;
use crate::media::relay::Side as MediaSide;
use crate::media::sdp::Direction;
use crate::media::tone::ToneSpec;

/// An originated call's end of the control channel.
pub(super) struct OriginatedControl {
    /// Keeps the call listed until the call task ends.
    pub _listed: LiveCallGuard,
    pub commands: mpsc::UnboundedReceiver<ControlRequest>,
    /// The customer is on hold.
    pub held: bool,
}

/// The next command, or never when the call takes none.
pub(super) async fn next_command(
    control: &mut Option<OriginatedControl>,
) -> Option<ControlRequest> {
    match control {
        Some(control) => control.commands.recv().await,
        None => std::future::pending().await,
    }
}

impl Originated {
    /// Carries out one command and reports its outcome.
    pub(super) fn on_control(&mut self, request: ControlRequest) {
        let outcome = match request.command() {
            CallCommand::Hangup => self.api_hangup(),
            CallCommand::Hold { .. } => self.hold(true),
            CallCommand::Unhold => self.hold(false),
            _ => Err(ControlError::InvalidState(
                "recording and transfers are not available on click-to-dial and callback calls"
                    .into(),
            )),
        };
        request.answer(outcome);
    }

    fn api_hangup(&mut self) -> Result<(), ControlError> {
        tracing::info!("originated call hung up through the API");
        match self.stage {
            Stage::RingingAgent => {
                self.cdr.end(Outcome::Cancelled, "api_hangup", Side::System);
                self.cancel_all(Leg::Agent);
            }
            Stage::Briefing { winner } | Stage::DialingCustomer { winner } => {
                self.cdr.end(Outcome::Cancelled, "api_hangup", Side::System);
                self.cancel_all(Leg::Customer);
                self.bye(Leg::Agent, winner);
            }
            Stage::Connected { winner, customer } => {
                self.cdr.end(Outcome::Answered, "api_hangup", Side::System);
                self.bye(Leg::Agent, winner);
                self.bye(Leg::Customer, customer);
            }
            Stage::Ending | Stage::Done => {
                return Err(ControlError::InvalidState("the call is ending".into()));
            }
        }
        self.ending();
        Ok(())
    }

    /// Holds (`on`) or releases the customer.
    fn hold(&mut self, on: bool) -> Result<(), ControlError> {
        let invalid = |why: &str| Err(ControlError::InvalidState(why.into()));
        if !matches!(self.stage, Stage::Connected { .. }) {
            return invalid("the call is not answered");
        }
        let music = match self.prompts.get("moh/default") {
            Some(music) => Playback::prompt(music).looped(),
            None => Playback::tone(ToneSpec::ringback_eu()),
        };
        let (Some(control), Some(media)) = (self.control.as_mut(), self.media.as_ref()) else {
            return invalid("the call takes no commands");
        };
        match (on, control.held) {
            (true, true) => return invalid("the call is already on hold"),
            (false, false) => return invalid("the call is not on hold"),
            (true, false) => {
                media.play(MediaSide::B, music);
                media.set_direction(MediaSide::A, Direction::RecvOnly);
            }
            (false, true) => {
                media.stop_playback(MediaSide::B);
                media.set_direction(MediaSide::A, Direction::SendRecv);
            }
        }
        control.held = on;
        tracing::info!(held = on, "originated call hold changed");
        Ok(())
    }
}
