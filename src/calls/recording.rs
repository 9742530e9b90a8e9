//! Recording a call: started once the call is answered when either party's extension says
//! `record = "always"`, or on command through the API (`calls::control`); indexed in the
//! store while it runs, completed when the call ends or is told to stop.
//! The file is `<recordings_dir>/<call id>.wav` (`<call id>-<n>.wav` for the n-th recording of
//! a call recorded again after a stop), stereo: caller left, callee right.

use std::time::SystemTime;

use super::call::{Call, Recording};
use crate::store::RecordingRow;

impl Call {
    /// Starts the recording if it is due (the call has just been answered).
    pub async fn start_recording_if_due(&mut self) {
        let Recording::Due(dir) = &self.recording else {
            return;
        };
        let Some(media) = self.media.as_mut() else {
            return;
        };
        if let Err(err) = std::fs::create_dir_all(dir) {
            tracing::error!(%err, dir = %dir.display(), "cannot create the recordings directory");
            self.recording = Recording::Off;
            return;
        }
        let id = match self.recordings_made {
            0 => self.cdr.id.clone(),
            made => format!("{}-{}", self.cdr.id, made + 1),
        };
        let path = dir.join(format!("{id}.wav"));
        match media.start_recording(path.clone()).await {
            Ok(()) => {
                self.recordings_made += 1;
                let row = RecordingRow {
                    id: id.clone(),
                    call_id: self.cdr.id.clone(),
                    started_at_ms: unix_ms(SystemTime::now()),
                    duration_ms: 0,
                    path: path.display().to_string(),
                    size_bytes: 0,
                    state: "recording".into(),
                };
                tracing::info!(path = %path.display(), "recording started");
                self.store.recording_started(row).await;
                self.recording = Recording::Running(id);
            }
            Err(err) => {
                tracing::error!(%err, "could not start recording");
                self.recording = Recording::Off;
            }
        }
    }

    /// Stops a running recording and completes its index row.
    pub async fn stop_recording(&mut self) {
        let Recording::Running(id) = std::mem::replace(&mut self.recording, Recording::Off) else {
            return;
        };
        let Some(media) = self.media.as_mut() else {
            return;
        };
        match media.stop_recording().await {
            Ok(info) => {
                let duration_ms = info.duration.as_millis() as i64;
                self.store
                    .recording_finished(id, duration_ms, info.bytes as i64)
                    .await;
            }
            Err(err) => tracing::error!(%err, "could not finish the recording"),
        }
    }
}

fn unix_ms(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
