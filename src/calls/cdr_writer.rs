//! Group commit of CDRs: call tasks hand their CDR to one writer task and wait until it is
//! stored; the writer stores everything that arrives within a few milliseconds in one
//! transaction. Nothing is acknowledged before it is in the database, and at thousands of
//! calls per second the store sees one write per batch instead of one per call.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{CdrRecord, Store};

/// CDRs written per transaction at most.
const MAX_BATCH: usize = 256;
/// How long the writer gathers CDRs after the first of a batch. Each transaction costs about
/// as much as tens of rows, so a few milliseconds of waiting (after the call has ended)
/// saves most of the store's CPU at hundreds of calls per second.
const LINGER: std::time::Duration = std::time::Duration::from_millis(5);

/// The handle call tasks use.
#[derive(Clone)]
pub struct CdrWriter {
    tx: mpsc::UnboundedSender<(CdrRecord, oneshot::Sender<()>)>,
}

impl CdrWriter {
    /// Starts the writer task on `store`.
    pub fn start(store: Arc<Store>) -> CdrWriter {
        let (tx, mut rx) = mpsc::unbounded_channel::<(CdrRecord, oneshot::Sender<()>)>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                let deadline = tokio::time::Instant::now() + LINGER;
                while batch.len() < MAX_BATCH {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(next)) => batch.push(next),
                        Ok(None) | Err(_) => break,
                    }
                }
                let (cdrs, done): (Vec<CdrRecord>, Vec<oneshot::Sender<()>>) =
                    batch.into_iter().unzip();
                if let Err(err) = store.insert_cdrs(&cdrs).await {
                    tracing::error!(%err, count = cdrs.len(), "could not write CDRs");
                }
                for waiter in done {
                    let _ = waiter.send(());
                }
            }
        });
        CdrWriter { tx }
    }

    /// Stores `cdr` (with whatever else is pending) and returns once it is written.
    pub async fn write(&self, cdr: CdrRecord) {
        let (done, stored) = oneshot::channel();
        if self.tx.send((cdr, done)).is_ok() {
            let _ = stored.await;
        }
    }
}
