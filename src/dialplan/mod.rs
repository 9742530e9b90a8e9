//! Dialplans and IVR: flow files → a validated [`Dialplan`], and the per-call flow
//! interpreter [`FlowRun`] (a sans-IO core).
//!
//! Owns: the `dialplans/*.yaml` format, its validation (`centrala check`), the number and
//! date grammar for prompts ([`say`]) and the interpreter. Must not touch: sockets, media,
//! the clock, routing state, the database. Driven by: `main`/`server` (load, check, reload:
//! a failed reload keeps the running `Arc<Dialplan>` and logs the errors) and by the call
//! task in `calls`, which feeds a [`FlowRun`] events and carries out its actions.
//!
//! # File format
//!
//! ```yaml
//! languages: [pl, en]            # prompts must exist in sounds/<lang>/ for each; first = default
//! variables: [crm]               # extra variables the call task supplies (besides the built-ins)
//! routes:
//!   - number: "5000"             # or numbers: [..], pattern: "_1XXX", trunk: pstn + dids: [..]
//!     flow: main
//! calendars:
//!   office: { time_zone: Europe/Warsaw, hours: { mon-fri: "08:00-18:00" }, holidays: [2025-12-25] }
//! flows:
//!   main:
//!     language: pl               # optional
//!     steps:
//!       - answer
//!       - id: menu
//!         menu: { prompts: [main_menu], options: { "1": sales }, retries: 2 }
//!       - id: sales
//!         queue: { name: sales, skills: [sales], priority: 1 }
//! ```
//!
//! Steps run in order; `next: <id>` and the targets of `menu`, `branch`, `hours`, `lookup`
//! (`on_error`), `collect` (`on_invalid`), `callback` (`on_decline`, `on_failure`),
//! `transfer`/`dial` (`on_failure`) jump to step ids of the same flow; `goto`/`call` name
//! flows. Expressions (`branch` `if`, `set` values, `lookup` params, `say` `value`) are CEL.
//!
//! Steps that leave work behind (carried out by `calls`): `callback: { queue, prompts, accept,
//! number, keep_position, on_decline, on_failure }` stores a callback task in the ACD (the
//! next step, e.g. a confirmation, runs once it is stored; `on_failure` when it cannot be);
//! `voicemail: { queue, prompts, max_duration: 120s, max_silence: 5s }` records the caller
//! after a beep until '#', silence or the limit, then stores a voicemail task with the
//! recording's id; `survey: { name, questions: [{ name, prompts, keys }], timeout }` stores
//! the keys pressed (those given so far when the caller hangs up); `transfer: { number, trunk,
//! on_failure }` rings a number through the trunk's outbound side (or `extension`, `queue`).
//!
//! # Crates chosen
//!
//! * `saphyr` 0.3 (YAML 1.2, `rust-version` 1.85, `default-features = false` to drop the
//!   `encoding_rs` decoder: files are UTF-8). It is the maintained successor of `yaml-rust`
//!   (same authors as `yaml-rust2`), and its `MarkedYaml` gives every node a span, which is
//!   what `file:line` errors need; it rejects duplicate keys as YAML 1.2 requires.
//!   `serde_yaml` is deprecated and its forks lose node positions once deserialized.
//! * `cel` 0.15 (the CEL interpreter formerly published as `cel-interpreter`;
//!   `rust-version` 1.86, `default-features = false`: no regex, chrono or base64). CEL is
//!   a standard, side-effect-free expression language (`debt.overdue_days > 30`,
//!   `caller.number.startsWith("+48")`); programs compile once at load time, are
//!   `Send + Sync`, and expose the variables they reference, which validation uses. Its
//!   weight is the ANTLR runtime (`antlr4rust`) and `nom`; nothing async.

pub mod action;
pub mod calendar;
pub mod expr;
pub mod interpreter;
mod interpreter_steps;
pub mod live;
mod load;
pub mod model;
pub mod pattern;
pub mod say;
pub mod validate;

pub(crate) mod fields;
mod parse;
mod parse_params;
mod parse_step;
pub(crate) mod yaml;

use std::fmt;

pub use action::{Action, Event};
pub use interpreter::FlowRun;
pub use model::Dialplan;

/// One problem in a dialplan file, shown as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DialplanError {
    /// The file, as given to the loader.
    pub file: String,
    /// 1-based line; 0 when the problem concerns the whole file (e.g. it cannot be read).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DialplanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for DialplanError {}

#[cfg(test)]
mod load_tests;
