//! The event journal: every change the actor makes goes, in the actor's order, to one writer
//! task that turns it into outbox rows (through the `ChangeEvents` hook, which knows the
//! event format) and writes them. A change of a stored task is written together with its task
//! row, in one transaction, and the actor waits for that commit (as it waited for the row
//! alone before); other changes (offers, answers, agent states, live calls) are queued
//! without waiting and written in batches, together with the agents' stored states
//! (`store::agent_states`). One writer for both keeps each task's events in
//! order: a stored change is only written after every change queued before it.
//!
//! A failed batch is logged and its events lost (the changes were in memory only); a failed
//! stored change is returned to the actor, which then leaves the engine untouched. The queue
//! to the writer is unbounded: events are business data, so routing never drops one; while
//! the database stalls the queue grows with the ACD's changes (stored tasks' commands, which
//! wait for their commit, slow down with it).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::backend::{RoutingStore, StoreFuture};
use super::{AcdError, AcdEvent, OfferReady, TaskView};
use crate::store::{AgentStateRow, OutboxEvent, StoreError, TaskRow};

/// Most in-memory changes written in one transaction.
const BATCH: usize = 256;

/// One change of the ACD, with what its events need to say.
#[derive(Debug, Clone)]
pub struct Change {
    /// What happened.
    pub event: AcdEvent,
    /// The task concerned, as it was at the change.
    pub task: Option<TaskView>,
    /// The extension number of the agent concerned (offered to, accepting, holding, changed).
    pub agent: Option<String>,
    /// Wall-clock time of the change, unix ms.
    pub at_ms: i64,
    /// For an offer, its gate (the screen pop), so live streams can show the pop first.
    pub ready: Option<OfferReady>,
}

/// Builds the outbox rows of the ACD's changes (`cti::events` implements it). Runs on the
/// journal's task while the actor may be waiting for it: it must never call the ACD.
pub trait ChangeEvents: Send + Sync + 'static {
    /// The rows of `change` (none for changes nobody is told about). May read the store.
    fn events<'a>(&'a self, change: &'a Change) -> StoreFuture<'a, Vec<OutboxEvent>>;
    /// Called after `events`, the rows of `changes`, were committed (in order).
    fn committed(&self, changes: &[Change], events: Vec<OutboxEvent>);
}

/// How a stored task's row is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowWrite {
    Insert,
    Update,
}

enum Job {
    Change(Change),
    /// An agent's new stored state, written with the changes around it.
    Agent(AgentStateRow),
    Row {
        row: Box<TaskRow>,
        write: RowWrite,
        change: Option<Change>,
        done: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// The actor's end of the journal.
pub(crate) struct Journal {
    tx: mpsc::UnboundedSender<Job>,
    /// Whether changes are turned into events at all (a hook is installed).
    on: bool,
}

impl Journal {
    /// Starts the writer on `store` with `hook` (none: rows only, changes dropped).
    pub fn spawn(
        store: Arc<dyn RoutingStore>,
        hook: Option<Arc<dyn ChangeEvents>>,
    ) -> (Journal, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let on = hook.is_some();
        (
            Journal { tx, on },
            tokio::spawn(write_loop(store, hook, rx)),
        )
    }

    /// Whether changes are recorded (build them only then).
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Queues an in-memory change (not waited for).
    pub fn push(&self, change: Change) {
        if self.on {
            let _ = self.tx.send(Job::Change(change));
        }
    }

    /// Queues an agent's new stored state (not waited for), written in the same transaction
    /// as the changes queued around it, whether or not changes become events.
    pub fn push_agent_state(&self, row: AgentStateRow) {
        let _ = self.tx.send(Job::Agent(row));
    }

    /// Queues the update of a stored task's row that a routing decision made (an overflow to
    /// another queue), written in order after every change queued before, not waited for: the
    /// decision already holds in memory. A failed write is logged; after a restart the task
    /// is then back in its former queue (and overflows again).
    pub fn update_row(&self, row: TaskRow) {
        let (done, result) = oneshot::channel();
        let task = row.id;
        let job = Job::Row {
            row: Box::new(row),
            write: RowWrite::Update,
            change: None,
            done,
        };
        if self.tx.send(job).is_ok() {
            tokio::spawn(async move {
                if let Ok(Err(err)) = result.await {
                    tracing::error!(task, %err, "stored task's new queue not written");
                }
            });
        }
    }

    /// Writes a stored task's row with `change`'s events, after every change queued before;
    /// resolves once committed.
    pub async fn write(
        &self,
        row: TaskRow,
        write: RowWrite,
        change: Option<Change>,
    ) -> Result<(), AcdError> {
        let (done, wait) = oneshot::channel();
        let change = change.filter(|_| self.on);
        self.tx
            .send(Job::Row {
                row: Box::new(row),
                write,
                change,
                done,
            })
            .map_err(|_| AcdError::Stopped)?;
        wait.await.map_err(|_| AcdError::Stopped)??;
        Ok(())
    }
}

/// Writes `row` (and `events`) the way `write` says, in one transaction; false (logged, and
/// nothing written) when an updated task is not in the store.
pub(crate) async fn write_row(
    store: &dyn RoutingStore,
    row: &TaskRow,
    write: RowWrite,
    events: &[OutboxEvent],
) -> Result<bool, StoreError> {
    match write {
        RowWrite::Insert => store.insert_task(row, events).await.map(|()| true),
        RowWrite::Update => {
            let found = store.update_task(row, events).await?;
            if !found {
                tracing::warn!(task = row.id, "stored task missing; its change not written");
            }
            Ok(found)
        }
    }
}

/// The rows of `change`, or none (logged) when the hook fails to build them.
pub(crate) async fn events_of(hook: &dyn ChangeEvents, change: &Change) -> Vec<OutboxEvent> {
    hook.events(change).await.unwrap_or_else(|err| {
        tracing::error!(%err, event = ?change.event, "events of an ACD change not built; lost");
        Vec::new()
    })
}

async fn write_loop(
    store: Arc<dyn RoutingStore>,
    hook: Option<Arc<dyn ChangeEvents>>,
    mut rx: mpsc::UnboundedReceiver<Job>,
) {
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match rx.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        match job {
            Job::Change(_) | Job::Agent(_) => {
                let mut batch = Batch::default();
                let mut job = Some(job);
                while let Some(next_job) = job.take() {
                    match next_job {
                        Job::Change(change) => batch.changes.push(change),
                        Job::Agent(row) => batch.agents.push(row),
                        row @ Job::Row { .. } => {
                            next = Some(row);
                            break;
                        }
                    }
                    if batch.len() < BATCH {
                        job = rx.try_recv().ok();
                    }
                }
                write_changes(&*store, hook.as_deref(), batch).await;
            }
            Job::Row {
                row,
                write,
                change,
                done,
            } => {
                let changes: Vec<Change> = change.into_iter().collect();
                let mut events = Vec::new();
                if let Some(hook) = &hook {
                    for change in &changes {
                        events.extend(events_of(&**hook, change).await);
                    }
                }
                let result = write_row(&*store, &row, write, &events).await;
                if let (Ok(true), Some(hook)) = (&result, &hook) {
                    hook.committed(&changes, events);
                }
                let _ = done.send(result.map(|_| ()));
            }
        }
    }
}

/// In-memory changes and agent states written in one transaction.
#[derive(Default)]
struct Batch {
    changes: Vec<Change>,
    agents: Vec<AgentStateRow>,
}

impl Batch {
    fn len(&self) -> usize {
        self.changes.len() + self.agents.len()
    }
}

async fn write_changes(store: &dyn RoutingStore, hook: Option<&dyn ChangeEvents>, batch: Batch) {
    let mut events = Vec::new();
    if let Some(hook) = hook {
        for change in &batch.changes {
            events.extend(events_of(hook, change).await);
        }
    }
    if (!events.is_empty() || !batch.agents.is_empty())
        && let Err(err) = store.write_changes(&events, &batch.agents).await
    {
        tracing::error!(
            %err,
            events = events.len(),
            agents = batch.agents.len(),
            "ACD events and agent states could not be stored; lost"
        );
        return;
    }
    if let Some(hook) = hook {
        hook.committed(&batch.changes, events);
    }
}
