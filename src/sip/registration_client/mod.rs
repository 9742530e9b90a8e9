//! Outbound registration (RFC 3261 10.2): keeps Centrala registered with a carrier trunk,
//! answering its digest challenge, refreshing before expiry and retrying after failures.
//!
//! Owns: `Registration` (the sans-IO core: what to send and when) and `spawn` (its shell).
//! Must not touch: sockets (requests go through the endpoint), clocks in the core.
//! Driven by: `server`, which spawns one shell per trunk with `register = true`.

mod core;
mod shell;

pub use self::core::{Registration, RegistrationConfig, RegistrationState};
pub use shell::spawn;
