//! Reports: queue, agent and channel figures for any past period, recomputed from the stored
//! queue log. Formulas, their version and what the queue log can and cannot tell are in
//! docs/REPORTS.md.
//!
//! Owns: the formulas (`formula`), the period and time zones (`period`), agents' time
//! (`timeline`), the one computation (`compute`) and the CSV export (`csv`).
//! Must not touch: routing state or live counters; it reads only what the store holds, so a
//! report of last March is the same today and next year.
//! Driven by: `api::v1::reports` (JSON and CSV) and tests.
//!
//! Time zones use `jiff` with its bundled tz database (`tzdb-bundle-always`), so a machine
//! without `/usr/share/zoneinfo` reports in local time the same way.

pub mod compute;
pub mod csv;
pub mod formula;
pub mod period;
pub mod timeline;

pub use compute::{AgentFigures, Report, ReportKind, ReportRequest, ReportRow, compute};
pub use formula::{Counts, FORMULA_VERSION, QueueFigures, ServiceLevels, SlVariant};
pub use period::{Interval, Period};

#[cfg(test)]
mod bench;
