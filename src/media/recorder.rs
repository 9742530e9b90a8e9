//! Call recording: a per-call stereo WAV (8 kHz, 16-bit; left = what side A, the caller, sent;
//! right = what side B, the callee or agent, sent), written off the packet path.
//!
//! Owns: the writer thread of each recording and the bounded channel that feeds it
//! ([`RecorderTap`] is the media task's end; it hands frames over in batches of 200 ms, so the
//! writer wakes 5 times a second rather than 50), [`RecordingInfo`], and [`repair_recordings`],
//! which fixes the headers of files a crash left open (run it at start-up over
//! `data/recordings/`).
//! Must not touch: the database (the call layer writes the index row with
//! `store::RecordingRow`), sockets, the packet path (the media task appends one frame per
//! 20 ms to its batch and `try_send`s full batches; a full channel drops that batch and counts
//! its frames, it never blocks).
//! Driven by: `MediaSession::start_recording` (spawns the writer) and the media task's tick.
//!
//! Durability: the writer flushes and rewrites the header sizes every 40 frames (800 ms of
//! audio) and the tap holds at most 200 ms, so a crash loses at most a second;
//! `repair_recordings` makes such a file
//! valid again. Pause writes silence rather than dropping audio, so the file's timeline stays
//! the call's timeline (position 1:30 in the file is 1:30 into the recording).
//!
//! One thread per recording (64 KiB stack, blocked on its channel almost always): simple and
//! isolated; a shared writer pool is the TODO if thousands of recordings run at once.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, SystemTime};

use thiserror::Error;
use tokio::sync::oneshot;

use crate::media::wav::{self, RepairReport, WavError, WavWriter};

/// Samples per channel in one 20 ms frame at 8 kHz.
pub const FRAME: usize = 160;
/// Frames the tap gathers before handing them to the writer (200 ms): one wake-up of the
/// writer thread per batch. At 600 recorded calls, a frame per message cost 30,000 thread
/// wake-ups a second (the media benchmark's recording mode).
const BATCH_FRAMES: usize = 10;
/// Batches the channel holds (5 s): room for a slow disk, never for an unbounded backlog.
const QUEUE_BATCHES: usize = 25;
/// Frames between flushes (800 ms; with a batch in the tap, a crash loses at most 1 s).
const FLUSH_EVERY: usize = 40;
const SAMPLE_RATE: u32 = 8000;

/// A recording that cannot be started or finished.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RecordingError {
    /// The session is already recording (local misuse).
    #[error("already recording")]
    AlreadyRecording,
    /// No recording is running (local misuse).
    #[error("not recording")]
    NotRecording,
    /// The file cannot be created or written.
    #[error("recording file: {0}")]
    Wav(#[from] WavError),
    /// The writer thread could not be started or went away.
    #[error("recording writer stopped")]
    WriterGone,
}

/// What a finished recording produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingInfo {
    /// The WAV file.
    pub path: PathBuf,
    /// Wall-clock time the recording started.
    pub started_at: SystemTime,
    /// Audio length (pauses included, as silence).
    pub duration: Duration,
    /// File size in bytes.
    pub bytes: u64,
    /// Frames lost because the writer fell more than 5 s behind (0 normally).
    pub dropped_frames: u64,
}

/// The media task's end of a recording.
#[derive(Debug)]
pub(crate) struct RecorderTap {
    batches: SyncSender<Vec<i16>>,
    /// Interleaved stereo samples of the frames not handed over yet.
    batch: Vec<i16>,
    paused: bool,
    dropped: u64,
}

/// The handle's end: resolves when the writer has closed the file.
pub(crate) type RecordingDone = oneshot::Receiver<Result<RecordingInfo, RecordingError>>;

impl RecorderTap {
    /// Creates `path` (and its directory) and starts the writer thread. Blocking file
    /// creation happens on the new thread; this returns once it has succeeded or failed.
    pub(crate) async fn start(
        path: PathBuf,
        started_at: SystemTime,
    ) -> Result<(RecorderTap, RecordingDone), RecordingError> {
        let (batches, inbox) = sync_channel(QUEUE_BATCHES);
        let (ready_tx, ready) = oneshot::channel();
        let (done_tx, done) = oneshot::channel();
        std::thread::Builder::new()
            .name("recorder".into())
            .stack_size(64 * 1024)
            .spawn(move || write_loop(path, started_at, inbox, ready_tx, done_tx))
            .map_err(|_| RecordingError::WriterGone)?;
        ready.await.map_err(|_| RecordingError::WriterGone)??;
        Ok((
            RecorderTap {
                batches,
                batch: new_batch(),
                paused: false,
                dropped: 0,
            },
            done,
        ))
    }

    /// Queues one 20 ms frame: `left` from side A, `right` from side B (`None` = silence).
    pub(crate) fn push(&mut self, left: Option<&[i16]>, right: Option<&[i16]>) {
        let start = self.batch.len();
        self.batch.resize(start + 2 * FRAME, 0);
        let frame = &mut self.batch[start..];
        if !self.paused {
            for (channel, pcm) in [(0, left), (1, right)] {
                if let Some(pcm) = pcm {
                    for (i, &s) in pcm.iter().take(FRAME).enumerate() {
                        frame[2 * i + channel] = s;
                    }
                }
            }
        }
        if self.batch.len() == BATCH_FRAMES * 2 * FRAME {
            self.hand_over();
        }
    }

    /// Sends the frames gathered so far to the writer.
    fn hand_over(&mut self) {
        let batch = std::mem::replace(&mut self.batch, new_batch());
        let frames = (batch.len() / (2 * FRAME)) as u64;
        match self.batches.try_send(batch) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.dropped += frames,
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Pause (silence is written) or resume.
    pub(crate) fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Frames dropped so far because the writer was behind.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }
}

impl Drop for RecorderTap {
    /// The last, partial batch goes to the writer, which then ends (its channel closes).
    fn drop(&mut self) {
        if !self.batch.is_empty() {
            self.hand_over();
        }
    }
}

fn new_batch() -> Vec<i16> {
    Vec::with_capacity(BATCH_FRAMES * 2 * FRAME)
}

fn write_loop(
    path: PathBuf,
    started_at: SystemTime,
    inbox: Receiver<Vec<i16>>,
    ready: oneshot::Sender<Result<(), RecordingError>>,
    done: oneshot::Sender<Result<RecordingInfo, RecordingError>>,
) {
    let created = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .map_err(WavError::from)
        .and_then(|()| WavWriter::create(&path, SAMPLE_RATE, 2));
    let mut writer = match created {
        Ok(writer) => {
            let _ = ready.send(Ok(()));
            writer
        }
        Err(err) => {
            let _ = ready.send(Err(err.into()));
            return;
        }
    };
    let mut since_flush = 0;
    let mut result = Ok(());
    // Ends when the media task drops its tap (stop, hang-up or crash of the task).
    for batch in inbox {
        if result.is_err() {
            continue; // keep draining so the task never sees a full channel
        }
        result = writer.write_samples(&batch);
        since_flush += batch.len() / (2 * FRAME);
        if since_flush >= FLUSH_EVERY && result.is_ok() {
            since_flush = 0;
            result = writer.flush();
        }
    }
    let data_bytes = writer.data_bytes();
    let finished = result.and_then(|()| writer.finish().map(drop));
    if let Err(err) = &finished {
        tracing::warn!(%err, path = %path.display(), "recording write failed");
    }
    let info = finished
        .map_err(RecordingError::from)
        .map(|()| RecordingInfo {
            bytes: wav::HEADER_LEN + data_bytes,
            duration: Duration::from_millis(data_bytes / 4 * 1000 / u64::from(SAMPLE_RATE)),
            path,
            started_at,
            dropped_frames: 0,
        });
    let _ = done.send(info);
}

/// The outcome of repairing one file.
#[derive(Debug)]
pub struct RecordingRepair {
    /// The file.
    pub path: PathBuf,
    /// What `wav::repair` found and did, or why it could not.
    pub outcome: Result<RepairReport, WavError>,
}

/// Runs `wav::repair` over every `*.wav` in `dir` and its subdirectories (a missing directory
/// is an empty list). Files left open by a crash get headers that match their length again.
pub fn repair_recordings(dir: &Path) -> Vec<RecordingRepair> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
            {
                let outcome = wav::repair(&path);
                out.push(RecordingRepair { path, outcome });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
