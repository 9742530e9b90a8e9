//! N-party audio mixer with mix-minus and supervisor modes (listen, whisper, barge).
//!
//! Owns one input and one output frame buffer per participant and a shared i32
//! accumulator. Each participant hears the sum of everyone else who speaks to it, never
//! itself: `SpeakAndHear` parties (callers, agents, a barging supervisor) are heard by all;
//! a `HearOnly` party (listen / spy) contributes nothing; a `SpeakTo(target)` party (whisper)
//! is heard by its target only, and hears the conference. Sums are exact in i32 and clamped
//! to 16 bits once, at the end. Pure and allocation-free per frame after set-up; owned by
//! the conference or bridge of the per-call media task, which feeds one frame per
//! participant and calls [`Mixer::mix`] every 20 ms.

use thiserror::Error;

/// Identifies a participant within one mixer (the call layer maps legs to these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(pub u32);

/// How a participant takes part in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MixMode {
    /// Speaks to and hears everyone (normal party; supervisor barge-in).
    SpeakAndHear,
    /// Hears everyone, heard by nobody (supervisor listen / spy).
    HearOnly,
    /// Hears everyone, heard only by the given participant (supervisor whisper / coaching).
    SpeakTo(ParticipantId),
}

/// Misuse of the mixer API by the call layer.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MixerError {
    /// The participant is not in this mixer.
    #[error("unknown participant {0:?}")]
    UnknownParticipant(ParticipantId),
    /// The participant is already in this mixer.
    #[error("participant {0:?} already present")]
    AlreadyPresent(ParticipantId),
    /// A frame of the wrong length.
    #[error("frame of {got} samples, mixer uses {expected}")]
    FrameLength {
        /// Length given.
        got: usize,
        /// The mixer's frame length.
        expected: usize,
    },
}

#[derive(Debug, Clone)]
struct Participant {
    id: ParticipantId,
    mode: MixMode,
    input: Vec<i16>,
    has_input: bool,
    output: Vec<i16>,
}

/// Mixes one frame per participant per tick.
#[derive(Debug, Clone)]
pub struct Mixer {
    frame_len: usize,
    parts: Vec<Participant>,
    /// Conference sum of this tick.
    acc: Vec<i32>,
    /// One participant's mix before clamping.
    scratch: Vec<i32>,
}

impl Mixer {
    /// A mixer for frames of `frame_len` samples (160 for 20 ms at 8 kHz).
    pub fn new(frame_len: usize) -> Self {
        Mixer {
            frame_len,
            parts: Vec::new(),
            acc: vec![0; frame_len],
            scratch: vec![0; frame_len],
        }
    }

    /// Frame length in samples.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Add a participant.
    pub fn add(&mut self, id: ParticipantId, mode: MixMode) -> Result<(), MixerError> {
        if self.find(id).is_some() {
            return Err(MixerError::AlreadyPresent(id));
        }
        self.parts.push(Participant {
            id,
            mode,
            input: vec![0; self.frame_len],
            has_input: false,
            output: vec![0; self.frame_len],
        });
        Ok(())
    }

    /// Remove a participant; whispers aimed at it then reach nobody.
    pub fn remove(&mut self, id: ParticipantId) -> Result<(), MixerError> {
        let i = self.find(id).ok_or(MixerError::UnknownParticipant(id))?;
        self.parts.remove(i);
        Ok(())
    }

    /// Change a participant's mode (e.g. listen -> whisper -> barge).
    pub fn set_mode(&mut self, id: ParticipantId, mode: MixMode) -> Result<(), MixerError> {
        let i = self.find(id).ok_or(MixerError::UnknownParticipant(id))?;
        self.parts[i].mode = mode;
        Ok(())
    }

    /// A participant's mode.
    pub fn mode(&self, id: ParticipantId) -> Option<MixMode> {
        self.find(id).map(|i| self.parts[i].mode)
    }

    /// Number of participants.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// True when nobody is in the mixer.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Give a participant's frame for this tick (no frame = silence).
    pub fn put_frame(&mut self, id: ParticipantId, pcm: &[i16]) -> Result<(), MixerError> {
        if pcm.len() != self.frame_len {
            return Err(MixerError::FrameLength {
                got: pcm.len(),
                expected: self.frame_len,
            });
        }
        let i = self.find(id).ok_or(MixerError::UnknownParticipant(id))?;
        let p = &mut self.parts[i];
        p.input.copy_from_slice(pcm);
        p.has_input = true;
        Ok(())
    }

    /// Mix this tick: fill every participant's output, then clear the inputs.
    pub fn mix(&mut self) {
        // The conference sum: every SpeakAndHear input.
        self.acc.fill(0);
        for p in self
            .parts
            .iter()
            .filter(|p| p.has_input && p.mode == MixMode::SpeakAndHear)
        {
            for (a, s) in self.acc.iter_mut().zip(&p.input) {
                *a += i32::from(*s);
            }
        }
        for i in 0..self.parts.len() {
            let me = &self.parts[i];
            self.scratch.copy_from_slice(&self.acc);
            // Minus my own voice...
            if me.has_input && me.mode == MixMode::SpeakAndHear {
                for (a, s) in self.scratch.iter_mut().zip(&me.input) {
                    *a -= i32::from(*s);
                }
            }
            // ...plus whatever is whispered to me.
            for w in &self.parts {
                if w.has_input && w.id != me.id && w.mode == MixMode::SpeakTo(me.id) {
                    for (a, s) in self.scratch.iter_mut().zip(&w.input) {
                        *a += i32::from(*s);
                    }
                }
            }
            for (o, a) in self.parts[i].output.iter_mut().zip(&self.scratch) {
                *o = (*a).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            }
        }
        for p in &mut self.parts {
            p.has_input = false;
        }
    }

    /// What a participant hears, as computed by the last [`Self::mix`].
    pub fn output(&self, id: ParticipantId) -> Option<&[i16]> {
        self.find(id).map(|i| self.parts[i].output.as_slice())
    }

    fn find(&self, id: ParticipantId) -> Option<usize> {
        self.parts.iter().position(|p| p.id == id)
    }
}

#[cfg(test)]
mod tests;
