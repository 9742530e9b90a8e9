//! One transaction: what client and server transactions share, and the context a state machine
//! acts through.
//!
//! Owns: [`Transaction`] (key, peer, timers, role), the matching keys and [`Cx`], the handle
//! through which the state machines in `client` and `server` arm timers and queue outputs.
//! Must not touch: other transactions; the key maps and removal belong to `layer`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::client::ClientTxn;
use super::config::{AckBuilder, TimerConfig};
use super::envelope::Transmit;
use super::event::{TxnEvent, TxnId, TxnState};
use super::server::ServerTxn;
use super::timer::{TimerKind, TimerQueue, TimerSlots};
use crate::sip::method::Method;
use crate::sip::peer::Peer;

/// Client transaction key (RFC 3261 17.1.3): top Via branch and CSeq method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ClientKey {
    pub(super) branch: Box<str>,
    pub(super) method: Method,
}

/// Server transaction key (RFC 3261 17.2.3): branch, sent-by, and the request method with ACK
/// mapped to INVITE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ServerKey {
    pub(super) branch: Box<str>,
    pub(super) sent_by: Box<str>,
    pub(super) method: Method,
}

/// The key a transaction is filed under, kept to unfile it on removal.
#[derive(Debug)]
pub(super) enum TxnKey {
    Client(ClientKey),
    Server(ServerKey),
}

/// A live transaction.
#[derive(Debug)]
pub(super) struct Transaction {
    pub(super) core: TxnCore,
    pub(super) role: Role,
}

/// The parts every state machine reads or arms through [`Cx`].
#[derive(Debug)]
pub(super) struct TxnCore {
    pub(super) id: TxnId,
    pub(super) key: TxnKey,
    /// Where requests (client) or responses (server) are sent; decides reliability.
    pub(super) peer: Peer,
    pub(super) slots: TimerSlots,
}

/// Which side of the transaction we are.
#[derive(Debug)]
pub(super) enum Role {
    Client(ClientTxn),
    Server(ServerTxn),
}

/// What the layer must do with a transaction after an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Keep,
    Terminate,
}

/// Outputs waiting to be drained by the shell.
#[derive(Debug, Default)]
pub(super) struct Outputs {
    pub(super) transmits: VecDeque<Transmit>,
    pub(super) events: VecDeque<TxnEvent>,
}

/// What every transaction of a layer acts on: configuration, timers and output queues.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) config: TimerConfig,
    pub(super) ack_builder: AckBuilder,
    pub(super) queue: TimerQueue,
    pub(super) out: Outputs,
}

/// The context of one input to one transaction.
pub(super) struct Cx<'a> {
    pub(super) now: Instant,
    pub(super) shared: &'a mut Shared,
    pub(super) core: &'a mut TxnCore,
}

impl TxnCore {
    /// A transaction with no timer armed yet.
    pub(super) fn new(id: TxnId, key: TxnKey, peer: Peer) -> TxnCore {
        TxnCore {
            id,
            key,
            peer,
            slots: TimerSlots::default(),
        }
    }
}

impl Transaction {
    /// The top Via branch the transaction was keyed with.
    pub(super) fn branch(&self) -> &str {
        match &self.core.key {
            TxnKey::Client(key) => &key.branch,
            TxnKey::Server(key) => &key.branch,
        }
    }

    /// The transaction's current state.
    pub(super) fn state(&self) -> TxnState {
        self.role.state()
    }

    /// "INVITE client" or "BYE server", for logs and `timeout_reason`.
    pub(super) fn describe(&self) -> String {
        match &self.core.key {
            TxnKey::Client(key) => format!("{} client", key.method),
            TxnKey::Server(key) => format!("{} server", key.method),
        }
    }
}

impl Role {
    /// The current state.
    pub(super) fn state(&self) -> TxnState {
        match self {
            Role::Client(client) => client.state(),
            Role::Server(server) => server.state(),
        }
    }

    /// Fires timer `kind` (already popped from the queue).
    pub(super) fn on_timer(&mut self, cx: &mut Cx<'_>, kind: TimerKind) -> Step {
        match self {
            Role::Client(client) => client.on_timer(cx, kind),
            Role::Server(server) => server.on_timer(cx, kind),
        }
    }

    /// The shell could not send for this transaction (17.1.4, 17.2.4).
    pub(super) fn on_transport_error(&mut self, cx: &mut Cx<'_>) -> Step {
        cx.emit(TxnEvent::TransportError { txn: cx.core.id });
        let ongoing = matches!(
            self.state(),
            TxnState::Calling | TxnState::Trying | TxnState::Proceeding
        );
        if ongoing { Step::Terminate } else { Step::Keep }
    }
}

impl<'a> Cx<'a> {
    /// The context for one input to the transaction `core`.
    pub(super) fn new(now: Instant, shared: &'a mut Shared, core: &'a mut TxnCore) -> Cx<'a> {
        Cx { now, shared, core }
    }

    /// The timer values.
    pub(super) fn config(&self) -> TimerConfig {
        self.shared.config
    }

    /// Builds the ACK for a non-2xx final response (17.1.1.3).
    pub(super) fn build_ack(&self, invite: &[u8], response: &[u8]) -> Option<Bytes> {
        (self.shared.ack_builder)(invite, response)
    }

    /// The transaction this input is for.
    pub(super) fn id(&self) -> TxnId {
        self.core.id
    }

    /// Whether the transport is reliable (no retransmissions, zero wait timers).
    pub(super) fn reliable(&self) -> bool {
        self.core.peer.transport.is_reliable()
    }

    /// Arms `kind` to fire `after` from now (at least 1 ms, so a zero T1 cannot spin).
    pub(super) fn start(&mut self, kind: TimerKind, after: Duration) {
        let at = self.now + after.max(Duration::from_millis(1));
        self.shared
            .queue
            .set(&mut self.core.slots, self.core.id, kind, at);
    }

    /// Disarms `kind`.
    pub(super) fn stop(&mut self, kind: TimerKind) {
        self.shared
            .queue
            .cancel(&mut self.core.slots, self.core.id, kind);
    }

    /// Arms a wait timer (D, I, J, K) for an unreliable transport, or ends the transaction at once
    /// over a reliable one, where those timers are zero.
    pub(super) fn linger(&mut self, kind: TimerKind, after: Duration) -> Step {
        if self.reliable() {
            Step::Terminate
        } else {
            self.start(kind, after);
            Step::Keep
        }
    }

    /// Queues `wire` for the transaction's peer.
    pub(super) fn transmit(&mut self, wire: Bytes) {
        self.shared.out.transmits.push_back(Transmit {
            to: self.core.peer,
            wire,
            txn: Some(self.core.id),
        });
    }

    /// Queues an event for the TU.
    pub(super) fn emit(&mut self, event: TxnEvent) {
        self.shared.out.events.push_back(event);
    }
}

/// The class of a status code (RFC 3261 7.2), or `None` outside 100..=699.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StatusClass {
    Provisional,
    Success,
    Failure,
}

impl StatusClass {
    pub(super) fn of(code: u16) -> Option<StatusClass> {
        match code {
            100..=199 => Some(StatusClass::Provisional),
            200..=299 => Some(StatusClass::Success),
            300..=699 => Some(StatusClass::Failure),
            _ => None,
        }
    }
}
