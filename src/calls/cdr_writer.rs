//! Group commit of CDRs that never loses one: call tasks hand their CDR to one writer task and
//! wait until it is kept; the writer stores everything that arrives within a few milliseconds
//! in one transaction (with its `call.ended` events, see `Store::insert_cdrs`). At thousands
//! of calls per second the store sees one write per batch instead of one per call.
//!
//! When the database fails, the batch is retried with backoff for up to [`RETRY_FOR`]; if it
//! still fails, the batch is appended to the local journal ([`CdrJournal`], fsynced) and only
//! then acknowledged. While the journal holds CDRs the database is known to be failing, so new
//! batches are tried once and then journaled; every [`REPLAY_EVERY`] (and at start-up) the
//! journal is replayed into the database and removed once all of it is stored. A batch whose
//! commit failed to answer may have committed anyway: before each retry and replay the CDRs
//! already in the database are left out, so no CDR or `call.ended` event is written twice.
//!
//! The crash window (kill -9): a CDR is acknowledged only once it is committed or journaled.
//! A crash loses the CDRs still waiting: those of calls that ended less than [`LINGER`] plus
//! one commit ago (a few milliseconds) while the database works, and, while it fails, those
//! of calls that ended less than [`RETRY_FOR`] (plus one attempt, at most
//! [`ATTEMPT_TIMEOUT`]) ago. So a kill -9 loses no CDR of a call that ended more than about
//! 1 s before. If even the journal cannot be written (a full disk), the batch stays in memory
//! and is retried with the journal's replays; it is lost only if the process dies first.
//!
//! Owns: the writer task, its batch, retry and spill policy. Must not touch call state.
//! Driven by the call tasks (`CdrWriter::write`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::store::cdr_journal::{CdrJournal, DEFAULT_PATH};
use crate::store::{CdrRecord, Store};

/// CDRs written per transaction at most.
const MAX_BATCH: usize = 256;
/// How long the writer gathers CDRs after the first of a batch. Each transaction costs about
/// as much as tens of rows, so a few milliseconds of waiting (after the call has ended)
/// saves most of the store's CPU at hundreds of calls per second.
const LINGER: Duration = Duration::from_millis(5);
/// How long a failing batch is retried before it goes to the journal.
const RETRY_FOR: Duration = Duration::from_millis(800);
/// The first retry's delay; each next one doubles.
const FIRST_BACKOFF: Duration = Duration::from_millis(25);
/// One database attempt at most (a dead PostgreSQL can make a connect wait for much longer).
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// How often a non-empty journal is replayed.
const REPLAY_EVERY: Duration = Duration::from_secs(1);

type Waiter = oneshot::Sender<()>;

/// The handle call tasks use.
#[derive(Clone)]
pub struct CdrWriter {
    tx: mpsc::UnboundedSender<(CdrRecord, Waiter)>,
}

impl CdrWriter {
    /// Starts the writer task on `store`, with its journal at [`DEFAULT_PATH`].
    pub fn start(store: Arc<Store>) -> CdrWriter {
        CdrWriter::start_with(store, CdrJournal::at(DEFAULT_PATH))
    }

    /// Starts the writer task on `store` with `journal`; the journal's CDRs (from a run that
    /// ended while the database was failing) are replayed first.
    pub fn start_with(store: Arc<Store>, journal: CdrJournal) -> CdrWriter {
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = Writer {
            store,
            journal,
            spilled: true,
            held: Vec::new(),
        };
        tokio::spawn(writer.run(rx));
        CdrWriter { tx }
    }

    /// Stores `cdr` (with whatever else is pending) and returns once it is kept: committed
    /// to the database or, while that fails, synced to the journal.
    pub async fn write(&self, cdr: CdrRecord) {
        let (done, stored) = oneshot::channel();
        if self.tx.send((cdr, done)).is_ok() {
            let _ = stored.await;
        }
    }
}

/// The writer task's state.
struct Writer {
    store: Arc<Store>,
    journal: CdrJournal,
    /// The journal may hold CDRs (true at start until the first replay looked).
    spilled: bool,
    /// CDRs neither the database nor the journal took (a full disk, say).
    held: Vec<CdrRecord>,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<(CdrRecord, Waiter)>) {
        self.replay().await;
        loop {
            let first = if self.spilled || !self.held.is_empty() {
                match tokio::time::timeout(REPLAY_EVERY, rx.recv()).await {
                    Ok(Some(first)) => first,
                    Ok(None) => break,
                    Err(_) => {
                        self.replay().await;
                        continue;
                    }
                }
            } else {
                match rx.recv().await {
                    Some(first) => first,
                    None => break,
                }
            };
            let mut batch = vec![first];
            let deadline = Instant::now() + LINGER;
            while batch.len() < MAX_BATCH {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(next)) => batch.push(next),
                    Ok(None) | Err(_) => break,
                }
            }
            let (cdrs, done): (Vec<CdrRecord>, Vec<Waiter>) = batch.into_iter().unzip();
            self.keep(cdrs).await;
            for waiter in done {
                let _ = waiter.send(());
            }
        }
        // The senders are gone: one last try for what is still only in memory.
        self.replay().await;
    }

    /// Commits `cdrs`, retrying with backoff, else journals them, else holds them.
    async fn keep(&mut self, cdrs: Vec<CdrRecord>) {
        let known_down = self.spilled;
        let started = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let err = match self.insert_new(&cdrs, attempt > 1).await {
                Ok(()) => {
                    if attempt > 1 {
                        tracing::info!(
                            count = cdrs.len(),
                            attempt,
                            "CDRs stored after the database recovered"
                        );
                    }
                    return;
                }
                Err(err) => err,
            };
            if attempt == 1 && !known_down {
                tracing::warn!(error = %err, count = cdrs.len(), "could not write CDRs; retrying");
            }
            if known_down || started.elapsed() + backoff > RETRY_FOR {
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        self.spill(cdrs).await;
    }

    /// Inserts those of `cdrs` not yet in the database (all of them on a first attempt).
    async fn insert_new(&self, cdrs: &[CdrRecord], retry: bool) -> Result<(), String> {
        let attempt = async {
            let fresh: Vec<CdrRecord> = if retry {
                let ids: Vec<&str> = cdrs.iter().map(|c| c.id.as_str()).collect();
                let stored = self.store.stored_cdr_ids(&ids).await?;
                cdrs.iter()
                    .filter(|c| !stored.contains(&c.id))
                    .cloned()
                    .collect()
            } else {
                cdrs.to_vec()
            };
            self.store.insert_cdrs(&fresh).await
        };
        match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("no answer within {ATTEMPT_TIMEOUT:?}")),
        }
    }

    /// Appends `cdrs` to the journal; if that fails too, holds them in memory.
    async fn spill(&mut self, cdrs: Vec<CdrRecord>) {
        let journal = self.journal.clone();
        let count = cdrs.len();
        let (cdrs, written) = tokio::task::spawn_blocking(move || {
            let written = journal.append(&cdrs);
            (cdrs, written)
        })
        .await
        .unwrap_or_else(|_| {
            (
                Vec::new(),
                Err(std::io::Error::other("journal task panicked")),
            )
        });
        match written {
            Ok(()) => {
                if !self.spilled {
                    tracing::warn!(
                        journal = %self.journal.path().display(),
                        count,
                        "the database does not take CDRs; keeping them in the journal until it does"
                    );
                }
                self.spilled = true;
            }
            Err(err) => {
                tracing::error!(
                    journal = %self.journal.path().display(),
                    error = %err,
                    count,
                    "neither the database nor the journal takes CDRs; holding them in memory"
                );
                self.held.extend(cdrs);
            }
        }
    }

    /// Moves the journal's and the held CDRs into the database; clears what got there.
    async fn replay(&mut self) {
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            if self.insert_all(&held).await {
                tracing::info!(count = held.len(), "held CDRs stored");
            } else {
                self.held = held;
            }
        }
        if !self.spilled {
            return;
        }
        let journal = self.journal.clone();
        let read = tokio::task::spawn_blocking(move || journal.read()).await;
        let cdrs = match read {
            Ok(Ok(cdrs)) => cdrs,
            Ok(Err(err)) => {
                tracing::error!(journal = %self.journal.path().display(), error = %err, "cannot read the CDR journal");
                return;
            }
            Err(_) => return,
        };
        if !cdrs.is_empty() && !self.insert_all(&cdrs).await {
            return;
        }
        match self.journal.clear() {
            Ok(()) => {
                if !cdrs.is_empty() {
                    tracing::info!(
                        count = cdrs.len(),
                        "CDRs from the journal stored; journal cleared"
                    );
                }
                self.spilled = false;
            }
            Err(err) => {
                tracing::error!(journal = %self.journal.path().display(), error = %err, "cannot clear the CDR journal");
            }
        }
    }

    /// Inserts `cdrs` (skipping those already stored) in batches; false at the first failure.
    async fn insert_all(&self, cdrs: &[CdrRecord]) -> bool {
        for chunk in cdrs.chunks(MAX_BATCH) {
            if let Err(err) = self.insert_new(chunk, true).await {
                tracing::debug!(error = %err, "the database still does not take CDRs");
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests;
