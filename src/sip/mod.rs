//! SIP signalling: message parsing and printing, transactions, dialogs, registrar, digest
//! authentication, the endpoint (sharded transaction shell) and the transport.

pub mod auth;
pub mod dialog;
pub mod endpoint;
pub mod message;
pub mod method;
pub mod peer;
pub mod registrar;
pub mod registration_client;
pub mod transaction;
pub mod transport;
