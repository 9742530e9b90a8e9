//! Security policy that is not a protocol: auditing the configuration for weak or default
//! secrets and open surfaces, and (later modules) outbound-call policy and PII masking.
//!
//! Owns: `audit` (the warnings `centrala check` prints and `serve` logs).
//! Must not touch: sockets, the store, running subsystems; everything here is pure.
//! Driven by: `main` (`check` and `serve`).

pub mod audit;
