//! The transaction layer of one shard: matches messages to transactions, creates and removes
//! them, fires their timers, and queues what the shell must send and what the TU must know.
//!
//! Owns: every live transaction of the shard, the key maps and the timer queue.
//! Driven by: the shard task of `sip::transport` (see [`TransactionLayer`] for the loop).

use std::collections::HashMap;
use std::time::Instant;

use super::client::ClientTxn;
use super::config::{AckBuilder, TimerConfig};
use super::envelope::{Envelope, Kind, Transmit};
use super::error::TxnError;
use super::event::{TxnEvent, TxnId, TxnState};
use super::server::ServerTxn;
use super::timer::TimerQueue;
use super::txn::{
    ClientKey, Cx, Outputs, Role, ServerKey, Shared, StatusClass, Step, Transaction, TxnCore,
    TxnKey,
};
use crate::sip::method::Method;
use crate::sip::peer::Peer;

/// The RFC 3261 17 transaction layer of one shard, sans-IO.
///
/// The shell's loop: wait for a message, a transport error, or the instant of
/// [`poll_timeout`](Self::poll_timeout); feed it with the matching `handle_*` call (or call
/// [`handle_timeout`](Self::handle_timeout) once that instant has passed); then drain
/// [`poll_transmit`](Self::poll_transmit) and [`poll_event`](Self::poll_event) until both
/// return `None`, and read `poll_timeout` again. Drain after every mutation, including
/// `send_request` and `send_response`: outputs are queued, never dropped.
pub struct TransactionLayer {
    /// Timer values, the ACK builder, the timer queue and the output queues, which every
    /// transaction acts on.
    shared: Shared,
    /// Every live transaction.
    txns: HashMap<TxnId, Transaction>,
    /// Client transactions by branch and CSeq method, for matching responses.
    clients: HashMap<ClientKey, TxnId>,
    /// Server transactions by branch, sent-by and method, for matching requests.
    servers: HashMap<ServerKey, TxnId>,
    /// The next id to hand out.
    next_id: u64,
}

impl TransactionLayer {
    /// An empty layer with these timers and this ACK builder.
    pub fn new(config: TimerConfig, ack_builder: AckBuilder) -> Self {
        TransactionLayer {
            shared: Shared {
                config,
                ack_builder,
                queue: TimerQueue::default(),
                out: Outputs::default(),
            },
            txns: HashMap::new(),
            clients: HashMap::new(),
            servers: HashMap::new(),
            next_id: 1,
        }
    }

    /// A message arrived from `from`. Requests matching a server transaction are absorbed (the
    /// last response is re-sent); a new request creates a server transaction and is reported as
    /// [`TxnEvent::Request`], or [`TxnEvent::Cancel`] for CANCEL; an ACK matching an INVITE
    /// server transaction in `Completed` confirms it, and any other ACK is a
    /// [`TxnEvent::StrayAck`]. Responses are matched by branch and CSeq method; unmatched ones
    /// become [`TxnEvent::StrayResponse`]; status codes outside 100..=699 are dropped.
    pub fn handle_message(&mut self, now: Instant, env: Envelope, from: Peer) {
        match &env.kind {
            Kind::Request(Method::Ack) => self.handle_ack(now, env, from),
            Kind::Request(method) => {
                let method = method.clone();
                self.handle_request(now, method, env, from);
            }
            Kind::Response(code) => {
                let code = *code;
                self.handle_response(now, code, env, from);
            }
        }
    }

    /// Starts a client transaction for the request in `env` and transmits it to `to` now. An
    /// ACK (or, by mistake, a response) creates no transaction: it is transmitted once and its
    /// id is reported `Terminated` at once.
    pub fn send_request(&mut self, now: Instant, env: Envelope, to: Peer) -> TxnId {
        let id = self.allocate_id();
        let method = match env.kind {
            Kind::Request(Method::Ack) => None,
            Kind::Request(method) => Some(method),
            Kind::Response(code) => {
                tracing::warn!(
                    code,
                    "send_request given a response; sent without a transaction"
                );
                None
            }
        };
        let Some(method) = method else {
            self.shared.out.transmits.push_back(Transmit {
                to,
                wire: env.wire,
                txn: Some(id),
            });
            self.emit(TxnEvent::Terminated { txn: id });
            return id;
        };
        let invite = method == Method::Invite;
        let key = ClientKey {
            branch: env.branch,
            method,
        };
        if let Some(old) = self.clients.insert(key.clone(), id) {
            tracing::warn!(branch = %key.branch, %old, "branch reused; the older transaction no longer matches responses");
        }
        let mut core = TxnCore::new(id, TxnKey::Client(key), to);
        let mut cx = Cx::new(now, &mut self.shared, &mut core);
        let client = ClientTxn::start(&mut cx, invite, env.wire);
        self.txns.insert(
            id,
            Transaction {
                core,
                role: Role::Client(client),
            },
        );
        id
    }

    /// The TU answers server transaction `txn` with the response in `env` (see the module docs
    /// for the transitions). Fails if the transaction is unknown or a client transaction, if
    /// `env` is not a response with a status in 100..=699, or if a final response was already
    /// sent (except 2xx retransmissions in `Accepted`).
    pub fn send_response(
        &mut self,
        now: Instant,
        txn: TxnId,
        env: Envelope,
    ) -> Result<(), TxnError> {
        let Kind::Response(code) = env.kind else {
            return Err(TxnError::NotAResponse(txn));
        };
        let class = StatusClass::of(code).ok_or(TxnError::InvalidStatus(code))?;
        let entry = self.txns.get_mut(&txn).ok_or(TxnError::Unknown(txn))?;
        let Role::Server(server) = &mut entry.role else {
            return Err(TxnError::NotServer(txn));
        };
        let mut cx = Cx::new(now, &mut self.shared, &mut entry.core);
        let step = server.send_response(&mut cx, env, class)?;
        self.apply(txn, step);
        Ok(())
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((id, kind)) = self.shared.queue.pop_due(now) {
            let Some(txn) = self.txns.get_mut(&id) else {
                continue;
            };
            txn.core.slots.fired(kind);
            let mut cx = Cx::new(now, &mut self.shared, &mut txn.core);
            let step = txn.role.on_timer(&mut cx, kind);
            self.apply(id, step);
        }
    }

    /// The transport could not send for `txn` (TCP connect failed etc., 17.1.4 and 17.2.4):
    /// reports [`TxnEvent::TransportError`] and ends the transaction unless it already has its
    /// final response. Unknown ids are ignored (the transaction may have just ended).
    pub fn handle_transport_error(&mut self, now: Instant, txn: TxnId) {
        let Some(entry) = self.txns.get_mut(&txn) else {
            return;
        };
        let mut cx = Cx::new(now, &mut self.shared, &mut entry.core);
        let step = entry.role.on_transport_error(&mut cx);
        self.apply(txn, step);
    }

    /// Removes `txn` at the TU's request, e.g. an INVITE client transaction still without a
    /// final response 64*T1 after its CANCEL (RFC 3261 9.1). Reports `Terminated`.
    pub fn terminate(&mut self, txn: TxnId) -> Result<(), TxnError> {
        if !self.txns.contains_key(&txn) {
            return Err(TxnError::Unknown(txn));
        }
        self.apply(txn, Step::Terminate);
        Ok(())
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.shared.out.transmits.pop_front()
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<TxnEvent> {
        self.shared.out.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called; `None` when no timer
    /// is pending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.shared.queue.first().map(|(at, _, _)| at)
    }

    /// Why the next wake-up is due, e.g. "Timer B on branch z9hG4bKabc (INVITE client, Calling)".
    pub fn timeout_reason(&self) -> Option<String> {
        let (_, id, kind) = self.shared.queue.first()?;
        let txn = self.txns.get(&id)?;
        Some(format!(
            "{kind} on branch {} ({}, {:?})",
            txn.branch(),
            txn.describe(),
            txn.state()
        ))
    }

    /// The state of `txn`, or `None` once it has terminated.
    pub fn state(&self, txn: TxnId) -> Option<TxnState> {
        self.txns.get(&txn).map(Transaction::state)
    }

    /// How many transactions are live.
    pub fn len(&self) -> usize {
        self.txns.len()
    }

    /// Whether no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.txns.is_empty()
    }

    fn handle_request(&mut self, now: Instant, method: Method, env: Envelope, from: Peer) {
        let key = ServerKey {
            branch: env.branch.clone(),
            sent_by: env.sent_by.clone(),
            method,
        };
        if let Some(&id) = self.servers.get(&key) {
            if let Some(Transaction {
                core,
                role: Role::Server(server),
            }) = self.txns.get_mut(&id)
            {
                let mut cx = Cx::new(now, &mut self.shared, core);
                server.on_retransmission(&mut cx);
            }
            return;
        }
        let id = self.allocate_id();
        let invite = key.method == Method::Invite;
        let cancel = key.method == Method::Cancel;
        let invite_key = cancel.then(|| ServerKey {
            method: Method::Invite,
            ..key.clone()
        });
        self.servers.insert(key.clone(), id);
        let core = TxnCore::new(id, TxnKey::Server(key), from);
        self.txns.insert(
            id,
            Transaction {
                core,
                role: Role::Server(ServerTxn::new(invite)),
            },
        );
        let event = match invite_key {
            Some(invite_key) => {
                let invite = self.servers.get(&invite_key).copied();
                TxnEvent::Cancel {
                    cancel: id,
                    invite,
                    env,
                    from,
                }
            }
            None => TxnEvent::Request { txn: id, env, from },
        };
        self.emit(event);
    }

    fn handle_ack(&mut self, now: Instant, env: Envelope, from: Peer) {
        let key = ServerKey {
            branch: env.branch.clone(),
            sent_by: env.sent_by.clone(),
            method: Method::Invite,
        };
        let Some(&id) = self.servers.get(&key) else {
            self.emit(TxnEvent::StrayAck { env, from });
            return;
        };
        let Some(Transaction {
            core,
            role: Role::Server(server),
        }) = self.txns.get_mut(&id)
        else {
            return;
        };
        let mut cx = Cx::new(now, &mut self.shared, core);
        let step = server.on_ack(&mut cx, env, from);
        self.apply(id, step);
    }

    fn handle_response(&mut self, now: Instant, code: u16, env: Envelope, from: Peer) {
        let Some(class) = StatusClass::of(code) else {
            tracing::debug!(code, branch = %env.branch, "dropping response with invalid status");
            return;
        };
        let key = ClientKey {
            branch: env.branch.clone(),
            method: env.cseq_method.clone(),
        };
        let Some(&id) = self.clients.get(&key) else {
            self.emit(TxnEvent::StrayResponse { env, from });
            return;
        };
        // The key maps only hold live ids, and only client ids are filed under client keys.
        let Some(Transaction {
            core,
            role: Role::Client(client),
        }) = self.txns.get_mut(&id)
        else {
            return;
        };
        let mut cx = Cx::new(now, &mut self.shared, core);
        let step = client.on_response(&mut cx, env, from, class);
        self.apply(id, step);
    }

    /// Removes the transaction if `step` says so: unfiles its key, disarms its timers and
    /// reports `Terminated`.
    fn apply(&mut self, id: TxnId, step: Step) {
        if step == Step::Keep {
            return;
        }
        let Some(mut txn) = self.txns.remove(&id) else {
            return;
        };
        self.shared.queue.clear(&mut txn.core.slots, id);
        match txn.core.key {
            TxnKey::Client(key) => {
                if self.clients.get(&key) == Some(&id) {
                    self.clients.remove(&key);
                }
            }
            TxnKey::Server(key) => {
                if self.servers.get(&key) == Some(&id) {
                    self.servers.remove(&key);
                }
            }
        }
        self.emit(TxnEvent::Terminated { txn: id });
    }

    fn emit(&mut self, event: TxnEvent) {
        self.shared.out.events.push_back(event);
    }

    fn allocate_id(&mut self) -> TxnId {
        let id = TxnId(self.next_id);
        self.next_id += 1;
        id
    }
}
