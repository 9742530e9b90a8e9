//! The dialplan's `voicemail` step on a call: a beep, then the caller is recorded into
//! `<recordings_dir>/<id>.wav` (stereo like every recording: the caller left, the right
//! silent) until '#', `max_silence` of silence, `max_duration` or the hang-up. The file is
//! indexed in `recordings` and becomes a voicemail task in the ACD for the step's queue, with
//! the recording id and the call's variables as attributes; the ACD stores the task before it
//! acknowledges it, so it survives a restart.
//!
//! Owns: the voicemail's stages (`Voicemail`). Must not touch: the flow's position (it hears
//! `Event::RecordingFinished` when the recording is done, and nothing after a hang-up).
//! Driven by: `Call::execute` (start), the media events (digits, silence), the call's timer
//! and its run loop (`drive_voicemail` after every input, `finish_voicemail` at the end).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::call::Call;
use super::queue::flatten;
use crate::dialplan::Event;
use crate::media::player::Playback;
use crate::media::relay::Side as MediaSide;
use crate::media::tone::ToneSpec;
use crate::routing::{AcdHandle, Channel, NewTask};
use crate::store::RecordingRow;

/// A voicemail being taken.
pub(super) struct Voicemail {
    /// The queue its task goes to.
    queue: String,
    /// The call's variables, attached to the task.
    vars: Value,
    acd: AcdHandle,
    /// The recording's id (its index row and file name).
    id: String,
    path: PathBuf,
    max_duration: Duration,
    max_silence: Duration,
    stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The run loop starts the recorder next.
    Due,
    /// Recording until this time at the latest.
    Recording { until: Instant },
    /// Ended (by the reason given); the run loop stores it next.
    Stopping(&'static str),
}

impl Call {
    /// `voicemail`: beep and start recording (from the run loop, which can wait for the file).
    pub(super) fn start_voicemail(
        &mut self,
        queue: String,
        max_duration: Duration,
        max_silence: Duration,
        vars: Value,
    ) {
        let Some(services) = self.ivr.as_ref().map(|ivr| ivr.services.clone()) else {
            return;
        };
        let id = format!("{:016x}", rand::random::<u64>());
        self.voicemail = Some(Voicemail {
            queue,
            vars,
            acd: services.acd,
            path: services.recordings_dir.join(format!("{id}.wav")),
            id,
            max_duration,
            max_silence,
            stage: Stage::Due,
        });
        if let Some(media) = &self.media {
            media.play(MediaSide::A, Playback::tone(ToneSpec::beep()));
        }
    }

    /// When the recording must end at the latest.
    pub(super) fn voicemail_deadline(&self) -> Option<Instant> {
        match self.voicemail.as_ref()?.stage {
            Stage::Recording { until } => Some(until),
            _ => None,
        }
    }

    /// The call's timer fired: ends a recording that reached `max_duration`.
    pub(super) fn voicemail_timer(&mut self, now: Instant) {
        if self.voicemail_deadline().is_some_and(|until| until <= now) {
            self.stop_voicemail("max_duration");
        }
    }

    /// A key while recording: '#' ends the message; other keys are ignored. False when no
    /// recording runs (the flow gets the key).
    pub(super) fn voicemail_key(&mut self, digit: char) -> bool {
        let recording = self
            .voicemail
            .as_ref()
            .is_some_and(|v| matches!(v.stage, Stage::Recording { .. }));
        if recording && digit == '#' {
            self.stop_voicemail("key");
        }
        recording
    }

    /// The caller has been silent for `max_silence`.
    pub(super) fn voicemail_silence(&mut self) {
        self.stop_voicemail("silence");
    }

    /// Starts a due recording, or stores a stopped one and lets the flow go on.
    pub(super) async fn drive_voicemail(&mut self) {
        let Some(stage) = self.voicemail.as_ref().map(|v| v.stage) else {
            return;
        };
        match stage {
            Stage::Due => self.record_voicemail().await,
            Stage::Stopping(why) => {
                self.store_voicemail(why).await;
                self.flow_event(Event::RecordingFinished);
                self.run_dialplan();
            }
            Stage::Recording { .. } => {}
        }
    }

    /// The call ends: a running recording is kept and becomes a task all the same.
    pub(super) async fn finish_voicemail(&mut self) {
        if let Some(Stage::Recording { .. } | Stage::Stopping(_)) =
            self.voicemail.as_ref().map(|v| v.stage)
        {
            self.store_voicemail("hang_up").await;
        }
        self.voicemail = None;
    }

    fn stop_voicemail(&mut self, why: &'static str) {
        if let Some(v) = self.voicemail.as_mut()
            && matches!(v.stage, Stage::Recording { .. })
        {
            v.stage = Stage::Stopping(why);
        }
    }

    async fn record_voicemail(&mut self) {
        let (Some(v), Some(media)) = (self.voicemail.as_mut(), self.media.as_mut()) else {
            return;
        };
        let started = if let Some(dir) = v.path.parent()
            && let Err(err) = std::fs::create_dir_all(dir)
        {
            Err(err.to_string())
        } else {
            media
                .start_recording(v.path.clone())
                .await
                .map_err(|e| e.to_string())
        };
        if let Err(err) = started {
            tracing::error!(%err, "voicemail recording could not start; the flow goes on");
            self.voicemail = None;
            self.flow_event(Event::RecordingFinished);
            return self.run_dialplan();
        }
        media.watch_silence(MediaSide::A, Some(v.max_silence));
        v.stage = Stage::Recording {
            until: Instant::now() + v.max_duration,
        };
        let row = RecordingRow {
            id: v.id.clone(),
            call_id: self.cdr.id.clone(),
            started_at_ms: super::cdr::now_ms(),
            duration_ms: 0,
            path: v.path.display().to_string(),
            size_bytes: 0,
            state: "recording".into(),
        };
        tracing::info!(recording = %v.id, "voicemail recording");
        self.store.recording_started(row).await;
    }

    /// Closes the file, completes its index row and creates the voicemail task.
    async fn store_voicemail(&mut self, why: &str) {
        let (Some(v), Some(media)) = (self.voicemail.take(), self.media.as_mut()) else {
            return;
        };
        media.watch_silence(MediaSide::A, None);
        let info = match media.stop_recording().await {
            Ok(info) => info,
            Err(err) => {
                tracing::error!(%err, recording = %v.id, "voicemail file not completed");
                return;
            }
        };
        let duration_ms = info.duration.as_millis() as i64;
        self.store
            .recording_finished(v.id.clone(), duration_ms, info.bytes as i64)
            .await;
        let mut task = NewTask::new(Channel::Voicemail, &v.queue);
        task.customer = Some(self.caller_name.clone()).filter(|c| !c.is_empty());
        task.attributes = flatten(&v.vars);
        task.attributes.insert("recording_id".into(), v.id.clone());
        task.attributes
            .insert("recording_ms".into(), duration_ms.to_string());
        task.attributes
            .insert("call_id".into(), self.cdr.id.clone());
        match v.acd.enqueue(task).await {
            Ok(task) => {
                tracing::info!(%task, recording = %v.id, ended_by = why, duration_ms, "voicemail task created")
            }
            Err(err) => {
                tracing::error!(%err, recording = %v.id, "voicemail kept but its task NOT created")
            }
        }
    }
}
