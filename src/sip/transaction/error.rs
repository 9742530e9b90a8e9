//! Errors of the transaction layer's API.
//!
//! Owns: [`TxnError`]. Every variant is local API misuse by the TU (a bug on our side, or a
//! race with a transaction that has just ended): the dialog layer logs it; none is the peer's
//! fault, since malformed or unmatched peer messages become events, not errors.

use super::event::TxnId;

/// Why the transaction layer refused a request from the TU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxnError {
    /// No such transaction: it never existed or has already terminated.
    #[error("unknown transaction {0:?}")]
    Unknown(TxnId),
    /// The transaction is a client transaction; only server transactions take responses.
    #[error("transaction {0:?} is a client transaction")]
    NotServer(TxnId),
    /// The envelope given as a response is a request.
    #[error("envelope for transaction {0:?} is not a response")]
    NotAResponse(TxnId),
    /// The status code is outside 100..=699.
    #[error("invalid status code {0}")]
    InvalidStatus(u16),
    /// The transaction already sent its final response (only 2xx retransmissions pass
    /// through an INVITE server transaction in `Accepted`).
    #[error("transaction {0:?} already sent a final response")]
    AlreadyFinal(TxnId),
}
