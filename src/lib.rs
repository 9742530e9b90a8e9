//! Centrala: a telephony-first PBX/CTI gateway for contact centres.
//!
//! See `docs/ARCHITECTURE.md` for the module map and how a call flows through it.
#![warn(missing_docs)]

pub mod api;
pub mod calls;
pub mod channels;
pub mod civil;
pub mod config;
pub mod cti;
pub mod customers;
pub mod demo_crm;
pub mod dialplan;
pub mod media;
pub mod reports;
pub mod routing;
pub mod security;
pub mod server;
pub mod simulate;
pub mod sip;
pub mod store;
pub mod telemetry;
pub mod web;
