//! What the simulator counts and prints: counters per reporting interval, the figures derived
//! from them, and the JSON and table renderings.
//!
//! Owns: `Counters`, `Figures`, `Outcome`, `render_table`.
//! Must not touch: the engine or the event loop (`run.rs` feeds the counters).
//! Driven by: `simulate::run`, the CLI (`centrala simulate`).
//!
//! Definitions (per interval a contact belongs to the interval it arrived in):
//! * service level = answered within T / (answered + abandoned after T), T being the
//!   contact's queue threshold (the formula `QueueStats::service_level` uses);
//! * ASA = mean wait of answered contacts; abandon rate = abandoned / offered;
//! * occupancy = time agents held at least one contact or were in wrap-up / time they were
//!   logged in and not on a break (multi-contact agents count once however many they hold);
//! * relationship hits = answered by the agent who last answered the same customer / answered
//!   contacts whose customer had been answered before.

use serde::Serialize;

use super::erlang::Prediction;

/// Raw counts for one interval (or the total).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counters {
    /// Contacts that arrived.
    pub offered: u64,
    /// Answered.
    pub answered: u64,
    /// Answered within their queue's threshold.
    pub answered_within: u64,
    /// Abandoned.
    pub abandoned: u64,
    /// Abandoned after their queue's threshold.
    pub abandoned_after: u64,
    /// Sum of answered contacts' waits, ms.
    pub wait_ms: u64,
    /// Agent time with a contact or in wrap-up, ms.
    pub busy_ms: u64,
    /// Agent time logged in and not on a break, ms.
    pub staffed_ms: u64,
    /// Answered contacts whose customer had been answered before.
    pub returning: u64,
    /// Of those, answered by the customer's last agent.
    pub hits: u64,
}

impl Counters {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counters) {
        self.offered += other.offered;
        self.answered += other.answered;
        self.answered_within += other.answered_within;
        self.abandoned += other.abandoned;
        self.abandoned_after += other.abandoned_after;
        self.wait_ms += other.wait_ms;
        self.busy_ms += other.busy_ms;
        self.staffed_ms += other.staffed_ms;
        self.returning += other.returning;
        self.hits += other.hits;
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// The printed figures of one interval or of the whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Interval label (`"08:15"`, with `+Nd` on later days); `"total"` for the total.
    pub start: String,
    /// Contacts that arrived.
    pub offered: u64,
    /// Answered.
    pub answered: u64,
    /// Abandoned.
    pub abandoned: u64,
    /// See the module docs; a fraction.
    pub service_level: Option<f64>,
    /// Seconds.
    pub asa_secs: Option<f64>,
    /// A fraction of offered.
    pub abandon_rate: Option<f64>,
    /// A fraction.
    pub occupancy: Option<f64>,
    /// A fraction of answered returning customers.
    pub relationship_hits: Option<f64>,
    /// Erlang C for this interval's load and staffing (single-skill voice only).
    pub erlang_c: Option<Prediction>,
    /// Erlang A, when callers have exponential patience.
    pub erlang_a: Option<Prediction>,
}

impl Figures {
    /// Figures from counts.
    pub fn new(start: String, c: &Counters) -> Figures {
        Figures {
            start,
            offered: c.offered,
            answered: c.answered,
            abandoned: c.abandoned,
            service_level: ratio(c.answered_within, c.answered + c.abandoned_after),
            asa_secs: ratio(c.wait_ms, c.answered).map(|ms| ms / 1000.0),
            abandon_rate: ratio(c.abandoned, c.offered),
            occupancy: ratio(c.busy_ms, c.staffed_ms),
            relationship_hits: ratio(c.hits, c.returning),
            erlang_c: None,
            erlang_a: None,
        }
    }
}

/// The result of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The scenario's name.
    pub scenario: String,
    /// The seed used.
    pub seed: u64,
    /// Contacts still waiting when nothing else could happen (no agent left for them).
    pub unserved: u64,
    /// Per reporting interval.
    pub intervals: Vec<Figures>,
    /// The whole run.
    pub total: Figures,
}

/// A fixed-width text table of the outcome.
pub fn render_table(o: &Outcome) -> String {
    let mut out = format!("scenario: {}  seed: {}\n", o.scenario, o.seed);
    out.push_str(&format!(
        "{:<9}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>10}{:>10}\n",
        "interval",
        "offered",
        "answer",
        "aband",
        "SL%",
        "ASA s",
        "aband%",
        "occ%",
        "rel%",
        "ErlC SL%",
        "ErlC ASA"
    ));
    for f in o.intervals.iter().chain(std::iter::once(&o.total)) {
        let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.1}", v * 100.0));
        let secs = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}"));
        let model = f.erlang_a.or(f.erlang_c);
        out.push_str(&format!(
            "{:<9}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>10}{:>10}\n",
            f.start,
            f.offered,
            f.answered,
            f.abandoned,
            pct(f.service_level),
            secs(f.asa_secs),
            pct(f.abandon_rate),
            pct(f.occupancy),
            pct(f.relationship_hits),
            pct(model.map(|m| m.service_level)),
            secs(model.map(|m| m.asa_secs)),
        ));
    }
    if o.total.erlang_a.is_some() {
        out.push_str("(model columns: Erlang A, callers have exponential patience)\n");
    }
    if o.unserved > 0 {
        out.push_str(&format!("{} contact(s) left unserved\n", o.unserved));
    }
    out
}
