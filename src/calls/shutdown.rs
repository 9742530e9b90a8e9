//! Graceful shutdown of the call layer: stop taking calls, let the live ones finish up to the
//! drain time, then end each one (BYE to every answered leg, cause `shutdown`) and wait until
//! every call task has written its CDR and closed its recording.
//!
//! Owns: `CallTasks` (whether we are draining, and how many call tasks are still running,
//! each counted until after its CDR is stored). Must not touch: the calls' protocol (each call
//! ends itself on `CallCommand::Shutdown`), the process (main decides about a second signal).
//! Driven by: `server::Server::shutdown`; the call manager refuses new INVITEs (503) and the
//! endpoint refuses OPTIONS (503) while `draining`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use super::CallManager;
use super::control::CallCommand;

/// How long the calls get to end after they were told to (BYE answered, CDR written).
const END_WAIT: Duration = Duration::from_secs(10);

/// The running call tasks and the drain flag, shared by the manager and its tasks.
#[derive(Debug, Clone, Default)]
pub struct CallTasks(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    draining: AtomicBool,
    running: AtomicUsize,
    idle: Notify,
}

/// Counts one call task while alive.
#[derive(Debug)]
pub(super) struct TaskGuard(CallTasks);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.0.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.0.idle.notify_waiters();
        }
    }
}

impl CallTasks {
    /// Whether new calls are refused.
    pub fn draining(&self) -> bool {
        self.0.draining.load(Ordering::Acquire)
    }

    /// The call tasks still running.
    pub fn running(&self) -> usize {
        self.0.running.load(Ordering::Acquire)
    }

    /// Counts a new call task until the guard is dropped (after its CDR is stored).
    pub(super) fn enter(&self) -> TaskGuard {
        self.0.running.fetch_add(1, Ordering::AcqRel);
        TaskGuard(self.clone())
    }

    /// Waits until no call task runs, at most `limit`; true when none does.
    async fn idle_within(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let idle = self.0.idle.notified();
                if self.running() == 0 {
                    return;
                }
                idle.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

impl CallManager {
    /// Refuses new calls from now on, lets the live ones finish for up to `drain`, then ends
    /// the rest and waits until their CDRs are written.
    pub async fn shutdown(&self, drain: Duration) {
        self.tasks.0.draining.store(true, Ordering::Release);
        let running = self.tasks.running();
        tracing::info!(
            calls = running,
            drain_secs = drain.as_secs(),
            "draining calls"
        );
        if self.tasks.idle_within(drain).await {
            return;
        }
        let live = self.live.list();
        tracing::info!(calls = live.len(), "ending the calls still up");
        let mut commands = tokio::task::JoinSet::new();
        for call in live {
            let live = self.live.clone();
            commands.spawn(async move {
                if let Err(err) = live.command(&call.id, CallCommand::Shutdown).await {
                    tracing::debug!(%err, id = %call.id, "call not ended by shutdown");
                }
            });
        }
        while commands.join_next().await.is_some() {}
        if !self.tasks.idle_within(END_WAIT).await {
            tracing::warn!(calls = self.tasks.running(), "calls still running at exit");
        }
    }
}
