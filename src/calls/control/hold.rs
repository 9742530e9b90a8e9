//! Hold and unhold through the API: the held party (the other side from the agent asking; the
//! caller when a supervisor, admin or integration asks) hears music on hold (`moh/default`,
//! looped), the holding party hears silence (Centrala stops sending it RTP). Media stays
//! anchored and no re-INVITE is sent: both phones keep `sendrecv`, so nothing depends on how
//! a phone or a carrier handles `a=sendonly`, and the music comes from Centrala itself (as
//! Asterisk's music on hold does). A running recording goes on: each channel of the file is
//! what one side sends, so the music itself is not recorded.
//!
//! Owns: `CallControl::held` and the media commands of hold.
//! Driven by: `Call::on_control` (commands) and the transfers, which clear a hold first.

use super::ControlError;
use super::rules::party_acted_on;
use crate::calls::bridge::{other, side_of};
use crate::calls::call::{Call, Phase};
use crate::media::player::Playback;
use crate::media::sdp::Direction;
use crate::media::tone::ToneSpec;

/// The music class played to a held party.
const MUSIC: &str = "moh/default";

impl Call {
    /// Puts the other party than `by` on hold.
    pub(in crate::calls) fn hold(&mut self, by: Option<&str>) -> Result<(), ControlError> {
        let invalid = |why: &str| Err(ControlError::InvalidState(why.into()));
        if !matches!(self.phase, Phase::Connected { .. }) {
            return invalid("the call is not answered");
        }
        let leg = party_acted_on(by, &self.cdr.origin, &self.cdr.caller);
        let music = self.music_on_hold();
        let (Some(control), Some(media)) = (self.control.as_mut(), self.media.as_ref()) else {
            return invalid("the call takes no commands");
        };
        if control.transfer.is_some() {
            return invalid("a transfer is under way");
        }
        if control.held.is_some() {
            return invalid("the call is already on hold");
        }
        media.play(side_of(leg), music);
        media.set_direction(side_of(other(leg)), Direction::RecvOnly);
        control.held = Some(leg);
        tracing::info!(?leg, "call held");
        self.core_hold(leg, true);
        Ok(())
    }

    /// Takes the held party off hold: both hear each other again.
    pub(in crate::calls) fn unhold(&mut self) -> Result<(), ControlError> {
        if self.control.as_ref().is_some_and(|c| c.transfer.is_some()) {
            return Err(ControlError::InvalidState("a transfer is under way".into()));
        }
        if !self.clear_hold() {
            return Err(ControlError::InvalidState("the call is not on hold".into()));
        }
        tracing::info!("call taken off hold");
        Ok(())
    }

    /// Ends a hold, if any (before a transfer changes the legs); true if there was one.
    pub(in crate::calls) fn clear_hold(&mut self) -> bool {
        let Some(leg) = self.control.as_mut().and_then(|c| c.held.take()) else {
            return false;
        };
        if let Some(media) = &self.media {
            media.stop_playback(side_of(leg));
            media.set_direction(side_of(other(leg)), Direction::SendRecv);
        }
        self.core_hold(leg, false);
        true
    }

    /// Music on hold, looped; ring-back when the prompt is missing.
    pub(in crate::calls) fn music_on_hold(&self) -> Playback {
        let music = self
            .control
            .as_ref()
            .and_then(|c| c.services.prompts.get(MUSIC));
        match music {
            Some(music) => Playback::prompt(music).looped(),
            None => {
                tracing::warn!("no {MUSIC} prompt; the held party hears ring-back");
                Playback::tone(ToneSpec::ringback_eu())
            }
        }
    }
}
