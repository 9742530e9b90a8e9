//! What the transaction layer tells the TU (the dialog layer and the UAS/UAC cores).
//!
//! Owns: [`TxnId`], [`TxnEvent`] and [`TxnState`].

use std::fmt;

use super::envelope::Envelope;
use crate::sip::peer::Peer;

/// Identifies one transaction within a [`super::TransactionLayer`]; never reused by that layer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct TxnId(pub u64);

impl fmt::Display for TxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "txn#{}", self.0)
    }
}

/// Something the TU must know about, drained with [`super::TransactionLayer::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnEvent {
    /// A new request (not ACK, not CANCEL) created server transaction `txn`.
    Request {
        /// The new server transaction; answer it with `send_response`.
        txn: TxnId,
        /// The request.
        env: Envelope,
        /// Where it came from.
        from: Peer,
    },
    /// A response for client transaction `txn`: each 1xx and the first final one. Retransmitted
    /// finals are absorbed, except 2xx in `Accepted` (RFC 6026): each is passed up so the TU can
    /// re-send its ACK.
    Response {
        /// The client transaction.
        txn: TxnId,
        /// The response.
        env: Envelope,
        /// Where it came from.
        from: Peer,
    },
    /// A CANCEL created its own non-INVITE server transaction `cancel`; `invite` is the INVITE
    /// server transaction it targets (same branch and sent-by, RFC 3261 9.2), if any.
    Cancel {
        /// The CANCEL's server transaction; answer it with `send_response`.
        cancel: TxnId,
        /// The INVITE server transaction being cancelled, if one matches.
        invite: Option<TxnId>,
        /// The CANCEL request.
        env: Envelope,
        /// Where it came from.
        from: Peer,
    },
    /// An ACK that no transaction absorbed: the ACK for a 2xx (its own transaction), or one that
    /// matched an INVITE server transaction in `Accepted`.
    StrayAck {
        /// The ACK.
        env: Envelope,
        /// Where it came from.
        from: Peer,
    },
    /// A response that matched no client transaction, e.g. a 2xx retransmission after Timer M.
    StrayResponse {
        /// The response.
        env: Envelope,
        /// Where it came from.
        from: Peer,
    },
    /// Timer B or F fired (client: no final response), or Timer H fired (server: no ACK).
    Timeout {
        /// The transaction that timed out; `Terminated` follows.
        txn: TxnId,
    },
    /// The shell reported that it could not send for this transaction (17.1.4, 17.2.4).
    TransportError {
        /// The affected transaction.
        txn: TxnId,
    },
    /// The transaction was removed; the TU can drop its mapping.
    Terminated {
        /// The removed transaction.
        txn: TxnId,
    },
}

/// A transaction's state, named after RFC 3261 17 figures 5 to 8 and RFC 6026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxnState {
    /// INVITE client: request sent, no response yet.
    Calling,
    /// Non-INVITE client or server: request sent or received, no response yet.
    Trying,
    /// A provisional response was received (client) or sent (server).
    Proceeding,
    /// A final response (non-2xx for INVITE) was received (client) or sent (server).
    Completed,
    /// INVITE server: the ACK for the non-2xx final response arrived.
    Confirmed,
    /// RFC 6026: a 2xx final response to an INVITE was received (client) or sent (server).
    Accepted,
}
