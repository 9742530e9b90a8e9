//! Centrala: a telephony-first PBX/CTI gateway for contact centres.
//!
//! See `docs/ARCHITECTURE.md` for the module map and how a call flows through it.
#![warn(missing_docs)]

pub mod api;
pub mod calls;
pub mod config;
pub mod cti;
pub mod dialplan;
pub mod media;
pub mod reports;
pub mod routing;
pub mod server;
pub mod simulate;
pub mod sip;
pub mod store;
pub mod telemetry;
