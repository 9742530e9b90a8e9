//! SIP signalling: message parsing and printing, transactions, dialogs, registrar, digest
//! authentication and the transport shell.

pub mod method;
pub mod peer;
