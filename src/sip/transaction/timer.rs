//! The timers of RFC 3261 17 (table 4) and RFC 6026, and the queue of all pending deadlines.
//!
//! Owns: [`TimerKind`], the per-transaction [`TimerSlots`] table and the layer-wide
//! [`TimerQueue`]. Every operation is O(log n) in the number of pending timers, so thousands of
//! transactions stay cheap; the earliest deadline is the layer's `poll_timeout`.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Instant;

use super::event::TxnId;

/// One of the transaction timers.
///
/// Declared in firing priority: when several timers are due at the same instant, the ones that
/// end a transaction sort before the retransmission timers (A, E, G), so a retransmission is
/// never sent at the instant its transaction times out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum TimerKind {
    /// INVITE client transaction timeout (64*T1).
    B,
    /// INVITE client: wait time for response retransmissions in `Completed`.
    D,
    /// Non-INVITE client transaction timeout (64*T1).
    F,
    /// INVITE server: wait time for the ACK (64*T1).
    H,
    /// INVITE server: wait time for ACK retransmissions in `Confirmed` (T4).
    I,
    /// Non-INVITE server: wait time for request retransmissions in `Completed` (64*T1).
    J,
    /// Non-INVITE client: wait time for response retransmissions in `Completed` (T4).
    K,
    /// RFC 6026 INVITE server: wait time in `Accepted` (64*T1).
    L,
    /// RFC 6026 INVITE client: wait time in `Accepted` (64*T1).
    M,
    /// INVITE client request retransmission (T1, doubling, no cap).
    A,
    /// Non-INVITE client request retransmission (T1, doubling up to T2).
    E,
    /// INVITE server final response retransmission (T1, doubling up to T2).
    G,
}

const COUNT: usize = 12;

impl fmt::Display for TimerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timer {self:?}")
    }
}

/// The deadlines one transaction has pending, indexed by [`TimerKind`]. Mirrors the transaction's
/// entries in the [`TimerQueue`] so that re-arming or cancelling finds the old entry.
#[derive(Debug, Default)]
pub(super) struct TimerSlots([Option<Instant>; COUNT]);

impl TimerSlots {
    /// Forgets a timer that the queue has just popped.
    pub(super) fn fired(&mut self, kind: TimerKind) {
        self.0[kind as usize] = None;
    }

    /// The deadline of `kind`, if armed.
    #[cfg(test)]
    pub(super) fn deadline(&self, kind: TimerKind) -> Option<Instant> {
        self.0[kind as usize]
    }
}

/// All pending deadlines of a layer, ordered by time.
#[derive(Debug, Default)]
pub(super) struct TimerQueue {
    entries: BTreeSet<(Instant, TxnId, TimerKind)>,
}

impl TimerQueue {
    /// Arms (or re-arms) timer `kind` of transaction `id` to fire at `at`.
    pub(super) fn set(&mut self, slots: &mut TimerSlots, id: TxnId, kind: TimerKind, at: Instant) {
        if let Some(old) = slots.0[kind as usize].replace(at) {
            self.entries.remove(&(old, id, kind));
        }
        self.entries.insert((at, id, kind));
    }

    /// Disarms timer `kind` of transaction `id`, if armed.
    pub(super) fn cancel(&mut self, slots: &mut TimerSlots, id: TxnId, kind: TimerKind) {
        if let Some(old) = slots.0[kind as usize].take() {
            self.entries.remove(&(old, id, kind));
        }
    }

    /// Disarms every timer of transaction `id`.
    pub(super) fn clear(&mut self, slots: &mut TimerSlots, id: TxnId) {
        for kind in KINDS {
            self.cancel(slots, id, kind);
        }
    }

    /// The earliest pending deadline.
    pub(super) fn first(&self) -> Option<(Instant, TxnId, TimerKind)> {
        self.entries.first().copied()
    }

    /// Removes and returns the earliest timer if it is due at `now`. The caller must then call
    /// [`TimerSlots::fired`] on the transaction's slots.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(TxnId, TimerKind)> {
        let &(at, id, kind) = self.entries.first()?;
        if at > now {
            return None;
        }
        self.entries.pop_first();
        Some((id, kind))
    }

    /// How many timers are pending.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Every kind, in declaration (and slot) order.
const KINDS: [TimerKind; COUNT] = [
    TimerKind::B,
    TimerKind::D,
    TimerKind::F,
    TimerKind::H,
    TimerKind::I,
    TimerKind::J,
    TimerKind::K,
    TimerKind::L,
    TimerKind::M,
    TimerKind::A,
    TimerKind::E,
    TimerKind::G,
];

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn slot_order_matches_declaration_order() {
        for (index, kind) in KINDS.iter().enumerate() {
            assert_eq!(*kind as usize, index);
        }
    }

    #[test]
    fn rearming_replaces_the_old_deadline() {
        let t0 = Instant::now();
        let mut queue = TimerQueue::default();
        let mut slots = TimerSlots::default();
        queue.set(
            &mut slots,
            TxnId(1),
            TimerKind::A,
            t0 + Duration::from_secs(1),
        );
        queue.set(
            &mut slots,
            TxnId(1),
            TimerKind::A,
            t0 + Duration::from_secs(2),
        );
        assert_eq!(queue.len(), 1);
        assert_eq!(
            queue.first(),
            Some((t0 + Duration::from_secs(2), TxnId(1), TimerKind::A))
        );
        assert_eq!(
            slots.deadline(TimerKind::A),
            Some(t0 + Duration::from_secs(2))
        );
    }

    #[test]
    fn pops_in_deadline_order_and_only_when_due() {
        let t0 = Instant::now();
        let mut queue = TimerQueue::default();
        let (mut one, mut two) = (TimerSlots::default(), TimerSlots::default());
        queue.set(
            &mut one,
            TxnId(1),
            TimerKind::E,
            t0 + Duration::from_secs(2),
        );
        queue.set(
            &mut two,
            TxnId(2),
            TimerKind::F,
            t0 + Duration::from_secs(1),
        );
        assert_eq!(queue.pop_due(t0), None);
        assert_eq!(
            queue.pop_due(t0 + Duration::from_secs(5)),
            Some((TxnId(2), TimerKind::F))
        );
        assert_eq!(
            queue.pop_due(t0 + Duration::from_secs(5)),
            Some((TxnId(1), TimerKind::E))
        );
        assert_eq!(queue.pop_due(t0 + Duration::from_secs(5)), None);
    }

    #[test]
    fn timeout_timers_fire_before_retransmissions_at_the_same_instant() {
        let at = Instant::now();
        let mut queue = TimerQueue::default();
        let mut slots = TimerSlots::default();
        queue.set(&mut slots, TxnId(7), TimerKind::E, at);
        queue.set(&mut slots, TxnId(7), TimerKind::F, at);
        assert_eq!(queue.pop_due(at), Some((TxnId(7), TimerKind::F)));
    }

    #[test]
    fn cancel_and_clear_remove_entries() {
        let t0 = Instant::now();
        let mut queue = TimerQueue::default();
        let mut slots = TimerSlots::default();
        queue.set(&mut slots, TxnId(3), TimerKind::G, t0);
        queue.set(&mut slots, TxnId(3), TimerKind::H, t0);
        queue.cancel(&mut slots, TxnId(3), TimerKind::G);
        assert_eq!(queue.len(), 1);
        queue.cancel(&mut slots, TxnId(3), TimerKind::G);
        queue.clear(&mut slots, TxnId(3));
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.first(), None);
    }
}
