//! The scenario file of `centrala simulate`: what arrives, how long it takes, who answers.
//!
//! Owns: the `Scenario` model and its YAML reading, with `file:line` errors (the YAML tree with
//! line numbers is the dialplan's, `dialplan::yaml`, built on `saphyr`).
//! Must not touch: the simulation itself (`run.rs`) or the routing engine.
//! Driven by: `simulate::load` (the CLI) and tests, which may also build a `Scenario` in code.
//!
//! ```yaml
//! name: Erlang C anchor      # optional
//! hours: 8                   # arrivals during this many hours (default 8)
//! interval: 15m              # reporting interval (default 15m)
//! start: "08:00"             # label of the first interval (default 00:00)
//! seed: 1                    # default seed; --seed overrides it
//! queues:
//!   - name: support
//!     service_level: 20s     # threshold T (default 20s)
//!     skills: { support: 1 } # required skills and minimum levels (default none)
//!     wrap_up: 0s            # default 0
//!     sticky: { wait: 30s, mode: most_recent }   # or most_often; default off
//! arrivals:
//!   - queue: support
//!     channel: voice         # voice, callback, chat, email, sms, voicemail, follow_up
//!     per_hour: 360          # Poisson rate; or per_interval: [expected arrivals, ...]
//!     handle: { exponential: 180s }   # or fixed: 3m, uniform: [1m, 5m],
//!                                     # lognormal: { mean: 3m, sd: 1m }
//!     patience: { exponential: 60s }  # optional: callers hang up after this wait
//!     customers: 400         # optional: each arrival is one of this many returning customers
//! agents:
//!   - name: agent
//!     count: 22              # default 1
//!     skills: { support: 5 }
//!     proficiency: { voice: 1 }      # per channel, higher is preferred (default 0)
//!     capacity: { voice: 1 }         # per channel (default: the contact-centre model)
//!     shift: [0h, 8h]                # logged in from, until (default: the whole run)
//! ```

use std::fmt;
use std::time::Duration;

use crate::routing::{Channel, StickyMode};

mod read;
pub use read::parse;

/// A problem in a scenario file, shown as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file as given.
    pub file: String,
    /// 1-based line (0: the whole file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// A random duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    /// Always this long.
    Fixed(Duration),
    /// Exponential with this mean.
    Exponential(Duration),
    /// Uniform between the two.
    Uniform(Duration, Duration),
    /// Log-normal with this mean and standard deviation.
    LogNormal {
        /// Mean.
        mean: Duration,
        /// Standard deviation.
        sd: Duration,
    },
}

impl Dist {
    /// The mean, in seconds.
    pub fn mean_secs(&self) -> f64 {
        match *self {
            Dist::Fixed(d) | Dist::Exponential(d) | Dist::LogNormal { mean: d, .. } => {
                d.as_secs_f64()
            }
            Dist::Uniform(a, b) => (a.as_secs_f64() + b.as_secs_f64()) / 2.0,
        }
    }
}

/// One queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSpec {
    /// Name.
    pub name: String,
    /// Service-level threshold.
    pub service_level: Duration,
    /// Required skills (name, minimum level).
    pub skills: Vec<(String, u8)>,
    /// Wrap-up after each task.
    pub wrap_up: Duration,
    /// Sticky agent: how long to wait for them, and which one.
    pub sticky: Option<(Duration, StickyMode)>,
}

/// The expected number of arrivals.
#[derive(Debug, Clone, PartialEq)]
pub enum Rate {
    /// The same Poisson rate all day.
    PerHour(f64),
    /// Expected arrivals in each interval (missing intervals: none).
    PerInterval(Vec<f64>),
}

/// One stream of contacts.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrivalSpec {
    /// Index into `Scenario::queues`.
    pub queue: usize,
    /// Channel.
    pub channel: Channel,
    /// How many arrive.
    pub rate: Rate,
    /// Handling time (answer to completion).
    pub handle: Dist,
    /// How long a contact waits before giving up (`None`: forever).
    pub patience: Option<Dist>,
    /// Size of the pool of returning customers (`None`: every contact is a new customer).
    pub customers: Option<u64>,
}

/// One group of identical agents.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSpec {
    /// Name (agents are `name-1`, `name-2`, ...).
    pub name: String,
    /// How many.
    pub count: u32,
    /// Skills (name, level).
    pub skills: Vec<(String, u8)>,
    /// Proficiency per channel.
    pub proficiency: Vec<(Channel, u8)>,
    /// Capacity per channel (`None`: the contact-centre model).
    pub capacity: Option<Vec<(Channel, u8)>>,
    /// Logged in from, until (offsets from the start; `None`: the whole run).
    pub shift: Option<(Duration, Duration)>,
}

/// A whole scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Shown in the output.
    pub name: String,
    /// Contacts arrive during `[0, length)`.
    pub length: Duration,
    /// Reporting interval.
    pub interval: Duration,
    /// Label of the first interval, minutes after midnight.
    pub start_minute: u32,
    /// Default seed.
    pub seed: u64,
    /// Queues.
    pub queues: Vec<QueueSpec>,
    /// Arrival streams.
    pub arrivals: Vec<ArrivalSpec>,
    /// Agent groups.
    pub agents: Vec<AgentSpec>,
}

impl Scenario {
    /// Number of reporting intervals (the last one may be short).
    pub fn intervals(&self) -> usize {
        let n = self.length.as_millis().div_ceil(self.interval.as_millis());
        n.max(1) as usize
    }
}
