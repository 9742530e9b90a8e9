//! SIP transaction layer (RFC 3261 section 17, with the RFC 6026 `Accepted` state): client and
//! server transactions, their retransmission timers, and matching messages to transactions.
//!
//! Owns: transaction state, timers A to M, retransmission of requests and of final responses,
//! the ACK for non-2xx final responses, and absorbing retransmitted requests and responses.
//! Must not touch: sockets, clocks (`now` is always passed in), tokio, dialogs, routing, the
//! database. It does not parse either: the shell hands it an [`Envelope`] per message, built by
//! the message parser, and an [`AckBuilder`] from the parser module builds ACKs.
//! Driven by: `sip::transport`, which feeds messages, transport errors and timeouts and drains
//! `poll_transmit`, `poll_event` and `poll_timeout` after every call (see [`TransactionLayer`]).
//! See also: `sip::dialog`, which consumes [`TxnEvent`]s and answers through
//! [`TransactionLayer::send_response`].
//!
//! Why our own: the public Rust transaction layers deviate from the RFC timers (capping Timer A,
//! skipping RFC 6026) and serialise every message of the process through one event loop. This
//! one is sans-IO, so its timers are tested exactly in virtual time, and the shell shards it by
//! Call-ID: one [`TransactionLayer`] per shard task, fed through bounded queues, so that no single
//! loop or lock serialises all the signalling.
//!
//! Keys (RFC 3261 17.1.3 and 17.2.3): client transactions by top Via branch and CSeq method;
//! server transactions by branch, sent-by and request method, with ACK mapped to INVITE. Only
//! RFC 3261 branches are matched; the shell synthesises a branch for RFC 2543 peers.
//!
//! Deliberate choices where the RFC leaves room:
//! - A 2xx passed to [`TransactionLayer::send_response`] while the INVITE server transaction is
//!   `Accepted` is transmitted (RFC 6026 7.1: the TU's 2xx retransmissions go through it).
//! - An ACK matching an INVITE server transaction in `Accepted` is passed up as
//!   [`TxnEvent::StrayAck`] (RFC 6026 7.1 passes it to the TU).
//! - A transport error in `Completed`, `Confirmed` or `Accepted` is reported but the transaction
//!   stays until its timer, so retransmissions keep being absorbed.
//! - Timer B (and F) stop when a provisional response arrives (RFC 3261 17.1.1.2); a UAC that
//!   never gets a final response cancels and then calls [`TransactionLayer::terminate`] (9.1).

mod client;
mod config;
mod envelope;
mod error;
mod event;
mod layer;
mod server;
mod timer;
mod txn;

pub use config::{AckBuilder, TimerConfig};
pub use envelope::{Envelope, Kind, Transmit};
pub use error::TxnError;
pub use event::{TxnEvent, TxnId, TxnState};
pub use layer::TransactionLayer;

#[cfg(test)]
mod tests;
