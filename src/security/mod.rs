//! Security policy that is not a protocol: auditing the configuration for weak or default
//! secrets and open surfaces, outbound-call policy, webhook destinations and PII masking.
//!
//! Owns: `audit` (the warnings `centrala check` prints and `serve` logs), `destination`
//! (webhook URLs that point inside), `outbound` (toll-fraud policy for calls out through
//! trunks) and `pii` (masking numbers and addresses in logs).
//! Must not touch: sockets, the store, running subsystems; everything here is pure apart
//! from `outbound`'s small mutex shell.
//! Driven by: `main` (`check` and `serve`), the config check, the webhook API, the B2BUA.

pub mod audit;
pub mod destination;
pub mod outbound;
pub mod pii;
