//! Recording a call: started once the call is answered when either party's extension says
//! `record = "always"`, or on command through the API (`calls::control`, also for originated
//! calls through `start` and `stop`); indexed in the store while it runs, completed when the
//! call ends or is told to stop.
//! The file is `<recordings_dir>/<call id>.wav` (`<call id>-<n>.wav` for the n-th recording of
//! a call recorded again after a stop), stereo: caller left, callee right.

use std::path::Path;
use std::time::SystemTime;

use super::call::{Call, Recording};
use super::cdr::CallStore;
use crate::media::relay::MediaSession;
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
        let started = start(media, dir, &self.cdr.id, self.recordings_made, &*self.store).await;
        self.recording = match started {
            Some(id) => {
                self.recordings_made += 1;
                Recording::Running(id)
            }
            None => Recording::Off,
        };
    }

    /// Stops a running recording and completes its index row.
    pub async fn stop_recording(&mut self) {
        let Recording::Running(id) = std::mem::replace(&mut self.recording, Recording::Off) else {
            return;
        };
        if let Some(media) = self.media.as_mut() {
            stop(media, id, &*self.store).await;
        }
    }
}

/// Starts recording `media` into `dir` as recording number `made` (from 0) of call `call_id`,
/// indexed in `store`; the recording's id, or `None` (logged) when it could not start.
pub(super) async fn start(
    media: &mut MediaSession,
    dir: &Path,
    call_id: &str,
    made: u32,
    store: &dyn CallStore,
) -> Option<String> {
    if let Err(err) = std::fs::create_dir_all(dir) {
        tracing::error!(%err, dir = %dir.display(), "cannot create the recordings directory");
        return None;
    }
    let id = match made {
        0 => call_id.to_owned(),
        made => format!("{call_id}-{}", made + 1),
    };
    let path = dir.join(format!("{id}.wav"));
    if let Err(err) = media.start_recording(path.clone()).await {
        tracing::error!(%err, "could not start recording");
        return None;
    }
    let row = RecordingRow {
        id: id.clone(),
        call_id: call_id.to_owned(),
        started_at_ms: unix_ms(SystemTime::now()),
        duration_ms: 0,
        path: path.display().to_string(),
        size_bytes: 0,
        state: "recording".into(),
    };
    tracing::info!(path = %path.display(), "recording started");
    store.recording_started(row).await;
    Some(id)
}

/// Stops `media`'s recording `id` and completes its index row.
pub(super) async fn stop(media: &mut MediaSession, id: String, store: &dyn CallStore) {
    match media.stop_recording().await {
        Ok(info) => {
            let duration_ms = info.duration.as_millis() as i64;
            store
                .recording_finished(id, duration_ms, info.bytes as i64)
                .await;
        }
        Err(err) => tracing::error!(%err, "could not finish the recording"),
    }
}

fn unix_ms(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
