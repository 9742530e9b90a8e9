//! One shard: a task that drives one `TransactionLayer` and routes its events.

use std::collections::HashMap;
use std::time::Instant;

use tokio::sync::mpsc;

use super::{ALLOW, Endpoint, IncomingRequest, SERVER, ServerTxn, TuEvent, TuSender, envelope};
use crate::sip::message::{Message, MessageBuilder, build_non2xx_ack};
use crate::sip::method::Method;
use crate::sip::peer::Peer;
use crate::sip::transaction::{TimerConfig, TransactionLayer, TxnEvent, TxnId};

/// How often orphaned transactions and dialogs are swept.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Inputs of a shard.
pub(super) enum ShardInput {
    /// A message from the network.
    Incoming { msg: Message, from: Peer },
    /// An owner sends a request in a new client transaction.
    Request {
        msg: Message,
        to: Peer,
        owner: TuSender,
        tag: u64,
    },
    /// An owner answers a server transaction.
    Respond { txn: TxnId, msg: Message },
    /// Route events of this Call-ID to `owner`.
    Subscribe { call_id: Box<str>, owner: TuSender },
    /// Stop routing this Call-ID.
    Unsubscribe { call_id: Box<str> },
}

pub(super) fn spawn(endpoint: Endpoint, index: usize, inbox: mpsc::Receiver<ShardInput>) {
    let timers = TimerConfig {
        t1: endpoint.t1(),
        ..TimerConfig::default()
    };
    let shard = Shard {
        layer: TransactionLayer::new(timers, build_non2xx_ack),
        endpoint,
        index,
        clients: HashMap::new(),
        dialogs: HashMap::new(),
        current: None,
    };
    tokio::spawn(shard.run(inbox));
}

struct Shard {
    endpoint: Endpoint,
    index: usize,
    layer: TransactionLayer,
    /// Owner and tag of each client transaction, to deliver its responses.
    clients: HashMap<TxnId, (TuSender, u64)>,
    /// Owner of each Call-ID in a dialog (or an INVITE being set up).
    dialogs: HashMap<Box<str>, TuSender>,
    /// The message just fed to the layer: the events it produces refer to it.
    current: Option<(Message, Peer)>,
}

impl Shard {
    async fn run(mut self, mut inbox: mpsc::Receiver<ShardInput>) {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            let deadline = self.layer.poll_timeout();
            tokio::select! {
                input = inbox.recv() => match input {
                    Some(input) => self.handle(Instant::now(), input),
                    None => return,
                },
                () = sleep_until(deadline) => self.layer.handle_timeout(Instant::now()),
                _ = sweep.tick() => self.sweep(),
            }
            self.drain();
        }
    }

    /// Ends client transactions whose owner is gone (an INVITE left in Proceeding waits for
    /// its owner's CANCEL forever otherwise, RFC 3261 17.1.1.2) and forgets dead dialogs.
    fn sweep(&mut self) {
        let orphans: Vec<TxnId> = self
            .clients
            .iter()
            .filter(|(_, (owner, _))| owner.is_closed())
            .map(|(txn, _)| *txn)
            .collect();
        for txn in orphans {
            self.clients.remove(&txn);
            let _ = self.layer.terminate(txn);
        }
        self.dialogs.retain(|_, owner| !owner.is_closed());
    }

    fn handle(&mut self, now: Instant, input: ShardInput) {
        match input {
            ShardInput::Incoming { msg, from } => {
                if let Some(env) = envelope::of(&msg) {
                    self.current = Some((msg, from));
                    self.layer.handle_message(now, env, from);
                    self.drain();
                    self.current = None;
                }
            }
            ShardInput::Request {
                msg,
                to,
                owner,
                tag,
            } => match envelope::of(&msg) {
                Some(env) => {
                    self.endpoint.metrics().sip_message("out");
                    let txn = self.layer.send_request(now, env, to);
                    self.clients.insert(txn, (owner, tag));
                }
                None => {
                    tracing::error!("an owner built a request without Via/CSeq; not sent");
                    let _ = owner.send(TuEvent::Failed { tag });
                }
            },
            ShardInput::Respond { txn, msg } => self.respond(now, txn, &msg),
            ShardInput::Subscribe { call_id, owner } => {
                self.dialogs.insert(call_id, owner);
            }
            ShardInput::Unsubscribe { call_id } => {
                self.dialogs.remove(&call_id);
            }
        }
    }

    fn respond(&mut self, now: Instant, txn: TxnId, msg: &Message) {
        let Some(env) = envelope::of(msg) else {
            tracing::error!("an owner built a response without Via/CSeq; not sent");
            return;
        };
        self.endpoint.metrics().sip_message("out");
        if let Err(err) = self.layer.send_response(now, txn, env) {
            tracing::debug!(%err, "response for a finished transaction dropped");
        }
    }

    fn drain(&mut self) {
        while let Some(transmit) = self.layer.poll_transmit() {
            self.endpoint
                .inner
                .transport
                .send(transmit.to, transmit.wire);
        }
        while let Some(event) = self.layer.poll_event() {
            self.dispatch(event);
            while let Some(transmit) = self.layer.poll_transmit() {
                self.endpoint
                    .inner
                    .transport
                    .send(transmit.to, transmit.wire);
            }
        }
    }

    fn dispatch(&mut self, event: TxnEvent) {
        match event {
            TxnEvent::Request { txn, .. } => {
                if let Some((msg, from)) = self.current.clone() {
                    self.new_request(txn, msg, from);
                }
            }
            TxnEvent::Response { txn, .. } => {
                if let (Some((owner, tag)), Some((msg, _))) =
                    (self.clients.get(&txn), &self.current)
                {
                    let _ = owner.send(TuEvent::Response {
                        tag: *tag,
                        msg: msg.clone(),
                    });
                }
            }
            TxnEvent::Cancel { cancel, invite, .. } => self.cancel(cancel, invite),
            TxnEvent::StrayAck { .. } => {
                if let Some((msg, _)) = self.current.clone() {
                    self.to_dialog(&msg, TuEvent::Ack { msg: msg.clone() });
                }
            }
            TxnEvent::StrayResponse { .. } => {
                if let Some((msg, _)) = self.current.clone() {
                    self.to_dialog(&msg, TuEvent::StrayResponse { msg: msg.clone() });
                }
            }
            TxnEvent::Timeout { txn } | TxnEvent::TransportError { txn } => {
                if let Some((owner, tag)) = self.clients.remove(&txn) {
                    let _ = owner.send(TuEvent::Failed { tag });
                }
            }
            TxnEvent::Terminated { txn } => {
                self.clients.remove(&txn);
            }
        }
    }

    fn new_request(&mut self, txn: TxnId, msg: Message, from: Peer) {
        let server = ServerTxn {
            shard: self.index,
            id: txn,
        };
        let in_dialog = msg.to().ok().and_then(|to| to.tag().map(|_| ())).is_some();
        let owner = msg
            .call_id()
            .ok()
            .and_then(|id| self.dialogs.get(id))
            .cloned();
        if let Some(owner) = owner.filter(|_| in_dialog) {
            let _ = owner.send(TuEvent::Request {
                msg,
                txn: server,
                from,
            });
            return;
        }
        let method = msg.method().cloned();
        match method {
            Some(Method::Invite) if !in_dialog => {
                let Some(handler) = self.endpoint.handler().cloned() else {
                    return;
                };
                let call_id: Option<Box<str>> = msg.call_id().ok().map(Into::into);
                let request = IncomingRequest {
                    msg,
                    txn: server,
                    from,
                };
                if let (Some(owner), Some(call_id)) =
                    (handler.invite(&self.endpoint, request), call_id)
                {
                    self.dialogs.insert(call_id, owner);
                }
            }
            Some(Method::Register) => {
                if let Some(handler) = self.endpoint.handler().cloned() {
                    handler.register(
                        &self.endpoint,
                        IncomingRequest {
                            msg,
                            txn: server,
                            from,
                        },
                    );
                }
            }
            Some(Method::Options)
                if !in_dialog && self.endpoint.handler().is_some_and(|h| !h.accepting()) =>
            {
                let response = MessageBuilder::response_to(
                    &msg,
                    503,
                    "Service Unavailable",
                    Some(&super::new_tag()),
                )
                .header("Retry-After", 30);
                self.answer(txn, response);
            }
            Some(Method::Options) if !in_dialog => {
                let response =
                    MessageBuilder::response_to(&msg, 200, "OK", Some(&super::new_tag()))
                        .header("Allow", ALLOW)
                        .header("Accept", "application/sdp")
                        .header("Server", SERVER);
                self.answer(txn, response);
            }
            Some(Method::Other(_))
            | Some(Method::Subscribe)
            | Some(Method::Publish)
            | Some(Method::Message)
            | Some(Method::Refer)
            | Some(Method::Notify)
            | Some(Method::Prack)
                if !in_dialog =>
            {
                let response = MessageBuilder::response_to(
                    &msg,
                    501,
                    "Not Implemented",
                    Some(&super::new_tag()),
                )
                .header("Allow", ALLOW);
                self.answer(txn, response);
            }
            _ => {
                let response =
                    MessageBuilder::response_to(&msg, 481, "Call/Transaction Does Not Exist", None);
                self.answer(txn, response);
            }
        }
    }

    fn cancel(&mut self, cancel: TxnId, invite: Option<TxnId>) {
        let Some((msg, _)) = self.current.clone() else {
            return;
        };
        let owner = msg
            .call_id()
            .ok()
            .and_then(|id| self.dialogs.get(id))
            .cloned();
        let (status, reason) = match (invite, owner) {
            (Some(invite), Some(owner)) => {
                let _ = owner.send(TuEvent::Cancelled {
                    invite: ServerTxn {
                        shard: self.index,
                        id: invite,
                    },
                });
                (200, "OK")
            }
            _ => (481, "Call/Transaction Does Not Exist"),
        };
        let response = MessageBuilder::response_to(&msg, status, reason, None);
        self.answer(cancel, response);
    }

    fn answer(&mut self, txn: TxnId, response: MessageBuilder) {
        match response.build_message() {
            Ok(msg) => self.respond(Instant::now(), txn, &msg),
            Err(err) => tracing::error!(%err, "we built an unparsable response"),
        }
    }

    fn to_dialog(&self, msg: &Message, event: TuEvent) {
        if let Some(owner) = msg.call_id().ok().and_then(|id| self.dialogs.get(id)) {
            let _ = owner.send(event);
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
