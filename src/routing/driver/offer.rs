//! Offers that wait for their preparation: before an agent's phone rings, their desktop gets
//! the screen pop. The actor asks the `PrepareOffer` hook for an `OfferReady` as it makes each
//! offer and puts it in `TaskNotice::Offer`; the owner's `Notices` hands the offer out only
//! once it is ready (prepared, given up, or past its deadline), so the ring follows the pop.
//!
//! Owns: `OfferReady` (a gate with a deadline), `Prepared` (its opener), `Notices` (the
//! receiving end of an `OfferSink` that honours the gates).
//! Must not touch: what the preparation is (the hook's, in `cti::events`).

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::{OfferSink, TaskNotice, TaskView};

/// Prepares each offer as the actor makes it (the agent's screen pop). Called on the actor's
/// task: it must return at once, doing the work elsewhere. `OfferReady::now()` when there is
/// nothing to wait for (e.g. the agent has no desktop open), so the offer is not delayed.
pub trait PrepareOffer: Send + Sync + 'static {
    /// The gate of `task` offered to the agent with extension `agent`.
    fn prepare(&self, task: &TaskView, agent: &str) -> OfferReady;
}

/// Whether an offer may be acted on (the phone rung): at once, or once its preparation is
/// done or given up, and at the latest at its deadline.
#[derive(Debug, Clone, Default)]
pub struct OfferReady {
    gate: Option<(watch::Receiver<bool>, Instant)>,
}

/// Opens its `OfferReady`; dropping it unopened opens it too (the preparation gave up).
#[derive(Debug)]
pub struct Prepared(watch::Sender<bool>);

impl Prepared {
    /// The preparation is done.
    pub fn done(self) {
        let _ = self.0.send(true);
    }
}

impl OfferReady {
    /// Nothing to wait for.
    pub fn now() -> OfferReady {
        OfferReady::default()
    }

    /// A gate that opens with the returned `Prepared`, or at `deadline` at the latest.
    pub fn until(deadline: Instant) -> (OfferReady, Prepared) {
        let (tx, rx) = watch::channel(false);
        let ready = OfferReady {
            gate: Some((rx, deadline)),
        };
        (ready, Prepared(tx))
    }

    /// Whether there is a preparation to wait for at all.
    pub fn is_gated(&self) -> bool {
        self.gate.is_some()
    }

    /// Waits until the offer may be acted on. Cancel-safe; the deadline is absolute.
    pub async fn wait(&self) {
        let Some((rx, deadline)) = &self.gate else {
            return;
        };
        let mut rx = rx.clone();
        // An error means the opener was dropped: nothing left to wait for.
        let _ = tokio::time::timeout_at(*deadline, rx.wait_for(|open| *open)).await;
    }
}

impl PartialEq for OfferReady {
    fn eq(&self, other: &Self) -> bool {
        match (&self.gate, &other.gate) {
            (None, None) => true,
            (Some((a, _)), Some((b, _))) => a.same_channel(b),
            _ => false,
        }
    }
}

impl Eq for OfferReady {}

/// A task owner's notice channel: the ACD's end (`OfferSink`) and the owner's (`Notices`).
pub fn notice_channel(capacity: usize) -> (OfferSink, Notices) {
    let (tx, rx) = mpsc::channel(capacity);
    (tx, Notices { rx, held: None })
}

/// The owner's end of an `OfferSink`: notices in order, each offer only once it is ready
/// (`OfferReady`); notices after an offer wait behind it.
#[derive(Debug)]
pub struct Notices {
    rx: mpsc::Receiver<TaskNotice>,
    /// A notice received but not handed out yet (an offer waiting for its gate).
    held: Option<TaskNotice>,
}

impl Notices {
    /// The next notice; `None` once the ACD dropped the sink. Cancel-safe: a notice
    /// received while waiting for its gate is kept for the next call.
    pub async fn recv(&mut self) -> Option<TaskNotice> {
        if self.held.is_none() {
            self.held = Some(self.rx.recv().await?);
        }
        if let Some(TaskNotice::Offer { ready, .. }) = &self.held {
            let ready = ready.clone();
            ready.wait().await;
        }
        self.held.take()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::routing::{AgentId, Channel, TaskId};

    fn offer(ready: OfferReady) -> TaskNotice {
        TaskNotice::Offer {
            task: TaskId(1),
            agent: AgentId(1),
            agent_number: "1001".into(),
            channel: Channel::Voice,
            customer: None,
            attempt: 1,
            ready,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_offer_waits_for_its_preparation_and_later_notices_wait_behind_it() {
        let (sink, mut notices) = notice_channel(4);
        let start = Instant::now();
        let (ready, prepared) = OfferReady::until(start + Duration::from_secs(1));
        sink.try_send(offer(ready)).unwrap();
        let ended = TaskNotice::OfferEnded {
            task: TaskId(1),
            agent: AgentId(1),
        };
        sink.try_send(ended.clone()).unwrap();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            prepared.done();
        });
        assert!(matches!(
            notices.recv().await,
            Some(TaskNotice::Offer { .. })
        ));
        assert_eq!(start.elapsed(), Duration::from_millis(300));
        assert_eq!(notices.recv().await, Some(ended));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_preparation_delays_the_offer_only_until_its_deadline() {
        let (sink, mut notices) = notice_channel(4);
        let start = Instant::now();
        let (ready, prepared) = OfferReady::until(start + Duration::from_millis(250));
        sink.try_send(offer(ready)).unwrap();
        // Cancelled half-way (the call handled something else): the offer is kept.
        let early = tokio::time::timeout(Duration::from_millis(100), notices.recv()).await;
        assert!(early.is_err());
        assert!(notices.recv().await.is_some());
        assert_eq!(start.elapsed(), Duration::from_millis(250));
        drop(prepared);
    }

    #[tokio::test(start_paused = true)]
    async fn ungated_offers_and_abandoned_preparations_pass_at_once() {
        let (sink, mut notices) = notice_channel(4);
        let start = Instant::now();
        sink.try_send(offer(OfferReady::now())).unwrap();
        assert!(notices.recv().await.is_some());
        let (ready, prepared) = OfferReady::until(start + Duration::from_secs(5));
        drop(prepared);
        sink.try_send(offer(ready)).unwrap();
        assert!(notices.recv().await.is_some());
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
