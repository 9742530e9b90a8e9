//! The interpreter's inputs ([`Event`]) and outputs ([`Action`]).
//!
//! Owns: the vocabulary between a [`FlowRun`](crate::dialplan::interpreter::FlowRun) and
//! the per-call task in `calls` that drives it. Must not touch: any behaviour.

use std::time::Duration;

use serde_json::Value;

use crate::dialplan::model::{Announce, TransferTarget};

/// Something that happened to the call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The call was answered (after [`Action::Answer`]).
    Answered,
    /// The last [`Action::Play`] finished. Not sent for a playback stopped by
    /// [`Action::StopPlayback`].
    PlaybackFinished,
    /// A DTMF key.
    Digit(char),
    /// The answer to [`Action::Lookup`]: a JSON value, or why it failed.
    LookupResult(Result<Value, String>),
    /// The deadline from `poll_timeout` passed (early or stale timeouts are ignored).
    Timeout,
    /// The caller hung up.
    HangUp,
    /// Outcome of [`Action::Transfer`] or [`Action::Dial`]: connected, or why not.
    TransferResult(Result<(), String>),
    /// The recording started by [`Action::Voicemail`] ended.
    RecordingFinished,
    /// Outcome of [`Action::Callback`]: the task is stored, or why not.
    CallbackResult(Result<(), String>),
}

/// What the call task must do next.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// Answer the call; reply with [`Event::Answered`].
    Answer,
    /// Play prompts from `sounds/<language>/`; reply with [`Event::PlaybackFinished`].
    Play {
        /// Prompt names in order.
        prompts: Vec<String>,
        /// Language directory.
        language: String,
        /// Whether digits are expected during playback (the interpreter stops it).
        barge_in: bool,
    },
    /// Stop the current playback (a digit barged in).
    StopPlayback,
    /// Make a CTI request; reply with [`Event::LookupResult`] (or let the timeout fire).
    Lookup {
        /// Request name.
        name: String,
        /// Parameters, a JSON object.
        params: Value,
        /// How long the interpreter waits.
        timeout: Duration,
    },
    /// Queue the call as a routing task; the flow has ended.
    Queue {
        /// Queue name.
        queue: String,
        /// Required skills.
        skills: Vec<String>,
        /// Priority.
        priority: i32,
        /// The call's variables, attached to the task and shown to the agent.
        vars: Value,
        /// Announcement settings.
        announce: Announce,
    },
    /// Create a callback task; reply with [`Event::CallbackResult`] once it is stored.
    Callback {
        /// Queue name.
        queue: String,
        /// Number to call back.
        number: String,
        /// Whether the task keeps the caller's place in the queue.
        keep_position: bool,
        /// The call's variables.
        vars: Value,
    },
    /// Record a voicemail (beep, then until '#', hang-up, `max_silence` of silence or
    /// `max_duration`) that becomes a task; reply with [`Event::RecordingFinished`].
    Voicemail {
        /// Queue name.
        queue: String,
        /// Longest recording.
        max_duration: Duration,
        /// Silence that ends the recording.
        max_silence: Duration,
        /// The call's variables.
        vars: Value,
    },
    /// Transfer the call; reply with [`Event::TransferResult`].
    Transfer {
        /// Where to.
        target: TransferTarget,
        /// The call's variables.
        vars: Value,
    },
    /// Ring an extension and bridge on answer; reply with [`Event::TransferResult`].
    Dial {
        /// The extension.
        extension: String,
        /// How long to ring.
        timeout: Duration,
    },
    /// Store survey answers (`None`: not answered).
    StoreSurvey {
        /// Survey name.
        survey: String,
        /// `(question, key)` in order.
        answers: Vec<(String, Option<char>)>,
        /// The call's variables.
        vars: Value,
    },
    /// Hang up the call; the flow has ended.
    HangUp,
}
