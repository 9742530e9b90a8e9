//! The SIP endpoint shell: the front door for every message, the transaction shards, and the
//! routing of transaction events to their owners (call tasks, the registrar).
//!
//! Owns: the shard tasks (each drives one sans-IO `TransactionLayer`, chosen by a hash of the
//! Call-ID so that a call's messages always meet the same shard), their bounded inboxes
//! (a full inbox sheds new requests with 503), and the Call-ID -> owner table per shard.
//! Must not touch: call logic (that is `calls`), registration logic (`sip::registrar`).
//! Driven by: the transport (through `ingress`) and by owners sending requests and responses.
//!
//! Message flow: transport -> `ingress` (parse, validate, stateless 400/416/420/483/503) ->
//! shard inbox -> `TransactionLayer::handle_message` -> `TxnEvent` -> owner (`TuEvent`).

mod envelope;
mod ingress;
mod shard;

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::sip::message::{Message, MessageBuilder};
use crate::sip::peer::{Peer, Transport};
use crate::sip::transaction::TxnId;
use crate::sip::transport::TransportHandle;
use crate::telemetry::Metrics;
use shard::ShardInput;

/// Events the endpoint delivers to the owner of a transaction or dialog.
#[derive(Debug)]
pub enum TuEvent {
    /// A new request in a dialog this owner subscribed to (BYE, re-INVITE, INFO, ...).
    Request {
        /// The request.
        msg: Message,
        /// Its server transaction, to answer through `Endpoint::respond`.
        txn: ServerTxn,
        /// Where it came from.
        from: Peer,
    },
    /// A response to a request the owner sent with `send_request(.., tag)`.
    Response {
        /// The tag the owner gave the request.
        tag: u64,
        /// The response.
        msg: Message,
    },
    /// The request with this tag got no final response (Timer B/F) or could not be sent.
    Failed {
        /// The tag the owner gave the request.
        tag: u64,
    },
    /// The caller cancelled the INVITE whose server transaction this is (already answered 200).
    Cancelled {
        /// The INVITE's server transaction.
        invite: ServerTxn,
    },
    /// An ACK outside any transaction: the ACK for a 2xx.
    Ack {
        /// The ACK.
        msg: Message,
    },
    /// A response matching no transaction: a retransmitted 2xx for an INVITE we sent.
    StrayResponse {
        /// The response.
        msg: Message,
    },
}

/// Where an owner receives its events.
pub type TuSender = mpsc::UnboundedSender<TuEvent>;

/// A server transaction: which shard holds it, and its id there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServerTxn {
    shard: usize,
    id: TxnId,
}

/// A request that starts something new (not in a dialog), handed to the application.
#[derive(Debug)]
pub struct IncomingRequest {
    /// The request.
    pub msg: Message,
    /// Its server transaction.
    pub txn: ServerTxn,
    /// Where it came from.
    pub from: Peer,
}

/// The application side: what to do with out-of-dialog requests. Called on the shard task,
/// so implementations must not block (spawn for database work).
pub trait RequestHandler: Send + Sync + 'static {
    /// A new INVITE. Return the owner to receive the events of this Call-ID from now on (the
    /// call task), or `None` when the handler already answered it with a final response.
    fn invite(&self, endpoint: &Endpoint, request: IncomingRequest) -> Option<TuSender>;
    /// A REGISTER.
    fn register(&self, endpoint: &Endpoint, request: IncomingRequest);
    /// Whether new calls are taken; when not (shutting down), OPTIONS is answered 503 so
    /// that a load balancer drains this node.
    fn accepting(&self) -> bool {
        true
    }
}

/// Settings of the endpoint.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Shard count (at least 1).
    pub shards: usize,
    /// Inbox size per shard.
    pub shard_queue: usize,
    /// RFC 3261 T1.
    pub t1: Duration,
    /// Host (and port) we put in Via and Contact.
    pub advertised: SocketAddr,
    /// Our domain (From of our own requests).
    pub domain: String,
}

/// Handle to the endpoint; cheap to clone.
#[derive(Clone)]
pub struct Endpoint {
    inner: Arc<Inner>,
}

struct Inner {
    transport: TransportHandle,
    shards: Vec<mpsc::Sender<ShardInput>>,
    config: EndpointConfig,
    metrics: Arc<Metrics>,
    handler: OnceLock<Arc<dyn RequestHandler>>,
}

/// Extension option-tags we support (anything else in `Require` gets 420).
pub const SUPPORTED: &[&str] = &["outbound", "path"];
/// Methods we accept (Allow header).
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER, UPDATE, REFER";

impl Endpoint {
    /// Starts the shard tasks. Call `set_handler` before any message arrives, then
    /// start the transport with `ingress()`.
    pub fn start(
        transport: TransportHandle,
        config: EndpointConfig,
        metrics: Arc<Metrics>,
    ) -> Endpoint {
        let count = config.shards.max(1);
        let mut senders = Vec::with_capacity(count);
        let mut receivers = Vec::with_capacity(count);
        for _ in 0..count {
            let (tx, rx) = mpsc::channel(config.shard_queue);
            senders.push(tx);
            receivers.push(rx);
        }
        let endpoint = Endpoint {
            inner: Arc::new(Inner {
                transport,
                shards: senders,
                config,
                metrics,
                handler: OnceLock::new(),
            }),
        };
        for (index, rx) in receivers.into_iter().enumerate() {
            shard::spawn(endpoint.clone(), index, rx);
        }
        endpoint
    }

    /// Installs the application handler (once).
    pub fn set_handler(&self, handler: Arc<dyn RequestHandler>) {
        let _ = self.inner.handler.set(handler);
    }

    /// The callback for the transport.
    pub fn ingress(&self) -> crate::sip::transport::Ingress {
        let endpoint = self.clone();
        Arc::new(move |bytes, from, datagram| ingress::receive(&endpoint, bytes, from, datagram))
    }

    /// Builds `response` and answers a server transaction with it.
    pub fn reply(&self, txn: ServerTxn, response: MessageBuilder) {
        match response.header("Server", SERVER).build_message() {
            Ok(msg) => self.respond(txn, msg),
            Err(err) => tracing::error!(%err, "we built an unparsable response"),
        }
    }

    /// Answers a server transaction.
    pub fn respond(&self, txn: ServerTxn, response: Message) {
        self.to_shard(
            txn.shard,
            ShardInput::Respond {
                txn: txn.id,
                msg: response,
            },
        );
    }

    /// Sends a request in a new client transaction; its responses come to `owner` tagged
    /// with `tag`. Requests of one Call-ID must come from one owner.
    pub fn send_request(&self, request: Message, to: Peer, owner: TuSender, tag: u64) {
        let shard = self.shard_of_message(&request);
        self.to_shard(
            shard,
            ShardInput::Request {
                msg: request,
                to,
                owner,
                tag,
            },
        );
    }

    /// Sends a message outside any transaction (ACK for 2xx, 2xx retransmissions).
    pub fn send_stateless(&self, msg: &Message, to: Peer) {
        self.inner.metrics.sip_message("out");
        self.inner.transport.send(to, msg.as_bytes().clone());
    }

    /// Routes every later event of `call_id` (in-dialog requests, CANCEL, ACK, stray
    /// responses) to `owner`.
    pub fn subscribe(&self, call_id: &str, owner: TuSender) {
        let shard = self.shard_of(call_id);
        self.to_shard(
            shard,
            ShardInput::Subscribe {
                call_id: call_id.into(),
                owner,
            },
        );
    }

    /// Stops routing `call_id`.
    pub fn unsubscribe(&self, call_id: &str) {
        let shard = self.shard_of(call_id);
        self.to_shard(
            shard,
            ShardInput::Unsubscribe {
                call_id: call_id.into(),
            },
        );
    }

    /// A Via header value for a new request over `transport`, with a fresh branch.
    pub fn via(&self, transport: Transport) -> String {
        format!(
            "SIP/2.0/{} {};branch=z9hG4bK{:016x};rport",
            transport.token(),
            self.inner.config.advertised,
            rand::random::<u64>()
        )
    }

    /// Our Contact header value for `transport`.
    pub fn contact(&self, transport: Transport) -> String {
        match transport {
            Transport::Udp => format!("<sip:centrala@{}>", self.inner.config.advertised),
            Transport::Tcp { .. } => {
                format!(
                    "<sip:centrala@{};transport=tcp>",
                    self.inner.config.advertised
                )
            }
        }
    }

    /// Our SIP domain.
    pub fn domain(&self) -> &str {
        &self.inner.config.domain
    }

    /// The advertised SIP address.
    pub fn advertised(&self) -> SocketAddr {
        self.inner.config.advertised
    }

    /// T1, for the owners' own 2xx retransmission timers.
    pub fn t1(&self) -> Duration {
        self.inner.config.t1
    }

    /// The process metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    fn handler(&self) -> Option<&Arc<dyn RequestHandler>> {
        self.inner.handler.get()
    }

    fn shard_of_message(&self, msg: &Message) -> usize {
        self.shard_of(msg.call_id().unwrap_or(""))
    }

    fn shard_of(&self, call_id: &str) -> usize {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        call_id.hash(&mut hasher);
        (hasher.finish() % self.inner.shards.len() as u64) as usize
    }

    fn to_shard(&self, shard: usize, input: ShardInput) {
        // Owners' inputs must not be lost: wait for room in a task if the inbox is full.
        if let Err(mpsc::error::TrySendError::Full(input)) =
            self.inner.shards[shard].try_send(input)
        {
            let tx = self.inner.shards[shard].clone();
            tokio::spawn(async move {
                let _ = tx.send(input).await;
            });
        }
    }
}

/// Our User-Agent / Server header value.
pub const SERVER: &str = concat!("Centrala/", env!("CARGO_PKG_VERSION"));

/// A fresh random tag for From/To.
pub fn new_tag() -> String {
    format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}
