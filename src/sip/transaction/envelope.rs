//! What the shell tells the transaction layer about a message, and what the layer asks the
//! shell to send.
//!
//! Owns: [`Envelope`], [`Kind`] and [`Transmit`]. The layer never looks inside `wire`: it only
//! keeps it to retransmit it verbatim and to hand it to the [`super::AckBuilder`].

use bytes::Bytes;

use super::event::TxnId;
use crate::sip::method::Method;
use crate::sip::peer::Peer;

/// The fields of a SIP message that transaction matching needs (RFC 3261 17.1.3, 17.2.3), plus
/// the message itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Request (with its method) or response (with its status code).
    pub kind: Kind,
    /// The top Via `branch` parameter (the shell synthesises one for RFC 2543 peers).
    pub branch: Box<str>,
    /// The top Via sent-by (host and port); part of the server-transaction key (17.2.3).
    pub sent_by: Box<str>,
    /// The CSeq method; responses are matched by branch and CSeq method.
    pub cseq_method: Method,
    /// The message as sent or received; retransmitted verbatim.
    pub wire: Bytes,
}

/// Whether a message is a request or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A request with its method.
    Request(Method),
    /// A response with its status code.
    Response(u16),
}

/// A message the shell must send now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it: for a client transaction the peer given to `send_request`, for a
    /// server transaction the peer the request came from (the shell may re-target responses per
    /// RFC 3261 18.2.2).
    pub to: Peer,
    /// The bytes to send.
    pub wire: Bytes,
    /// The transaction the message belongs to, so a failed send can be reported back through
    /// [`super::TransactionLayer::handle_transport_error`].
    pub txn: Option<TxnId>,
}
