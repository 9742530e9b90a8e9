//! The queue-log writer: the actor queues rows without waiting; a small task writes them in
//! batches (one transaction each). A full buffer drops rows (counted and logged) rather than
//! slowing routing; a crash loses at most the rows not yet written.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::routing::ids::TaskId;
use crate::routing::setup::channel_name;
use crate::routing::task::Channel;
use std::sync::Arc;

use super::backend::RoutingStore;
use crate::store::QueueLogRow;

/// Most rows written in one transaction.
const BATCH: usize = 512;

pub(crate) enum LogMsg {
    Row(QueueLogRow),
    Flush(oneshot::Sender<()>),
}

/// One event to log; the sink stamps id and time.
pub(crate) struct Entry<'a> {
    pub queue: &'a str,
    pub channel: Channel,
    pub task: TaskId,
    pub agent: Option<String>,
    pub event: &'static str,
    pub wait: Option<Duration>,
    pub duration: Option<Duration>,
    pub detail: Option<String>,
}

impl<'a> Entry<'a> {
    pub fn new(queue: &'a str, channel: Channel, task: TaskId, event: &'static str) -> Entry<'a> {
        Entry {
            queue,
            channel,
            task,
            agent: None,
            event,
            wait: None,
            duration: None,
            detail: None,
        }
    }

    pub fn agent(mut self, agent: String) -> Self {
        self.agent = Some(agent);
        self
    }

    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = Some(wait);
        self
    }

    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// The actor's end of the writer.
pub(crate) struct LogSink {
    tx: mpsc::Sender<LogMsg>,
    nonce: u32,
    seq: u64,
    dropped: u64,
}

impl LogSink {
    /// Starts the writer task on `store`.
    pub fn spawn(store: Arc<dyn RoutingStore>, buffer: usize) -> (LogSink, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(buffer.max(1));
        let writer = tokio::spawn(write_loop(store, rx));
        let sink = LogSink {
            tx,
            nonce: rand::random(),
            seq: 0,
            dropped: 0,
        };
        (sink, writer)
    }

    /// Queues `entry` at wall-clock `ts_ms`.
    pub fn push(&mut self, ts_ms: i64, entry: Entry<'_>) {
        self.seq += 1;
        let ms = |d: Duration| d.as_millis() as i64;
        let row = QueueLogRow {
            id: format!("{ts_ms:013}-{:08x}-{:010}", self.nonce, self.seq),
            ts_ms,
            queue: entry.queue.to_string(),
            channel: channel_name(entry.channel).to_string(),
            task: entry.task.0 as i64,
            agent: entry.agent,
            event: entry.event.to_string(),
            wait_ms: entry.wait.map(ms),
            duration_ms: entry.duration.map(ms),
            detail: entry.detail,
        };
        if self.tx.try_send(LogMsg::Row(row)).is_err() {
            self.dropped += 1;
            if self.dropped.is_power_of_two() {
                tracing::warn!(
                    dropped = self.dropped,
                    "queue log buffer full; rows dropped"
                );
            }
        }
    }

    /// Acknowledges on `done` once every row queued before is written.
    pub async fn flush(&self, done: oneshot::Sender<()>) {
        // Waits for room: a flush must not be dropped.
        let _ = self.tx.send(LogMsg::Flush(done)).await;
    }
}

async fn write_loop(store: Arc<dyn RoutingStore>, mut rx: mpsc::Receiver<LogMsg>) {
    let mut rows = Vec::with_capacity(BATCH);
    let mut acks = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                LogMsg::Row(row) => rows.push(row),
                LogMsg::Flush(ack) => acks.push(ack),
            }
            if rows.len() < BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !rows.is_empty()
            && let Err(err) = store.insert_queue_log(&rows).await
        {
            tracing::error!(%err, rows = rows.len(), "queue log write failed; rows lost");
        }
        rows.clear();
        for ack in acks.drain(..) {
            let _ = ack.send(());
        }
    }
}
