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

use crate::dialplan::fields::parse_duration;
use crate::dialplan::yaml::{self, Kind, Node};
use crate::routing::{Channel, StickyMode, channel_from_name};

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

/// Reads a scenario from YAML text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Scenario, Vec<ScenarioError>> {
    let root = yaml::parse(text).map_err(|e| {
        vec![ScenarioError {
            file: file.to_string(),
            line: e.line,
            message: e.message,
        }]
    })?;
    let mut r = Reader {
        file,
        errors: Vec::new(),
    };
    let scenario = r.scenario(&root);
    match scenario {
        Some(s) if r.errors.is_empty() => Ok(s),
        _ => Err(r.errors),
    }
}

type Entries = [(String, usize, Node)];

struct Reader<'a> {
    file: &'a str,
    errors: Vec<ScenarioError>,
}

fn get<'n>(entries: &'n Entries, key: &str) -> Option<&'n Node> {
    entries.iter().find(|e| e.0 == key).map(|e| &e.2)
}

impl Reader<'_> {
    fn err(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(ScenarioError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        });
    }

    fn map<'n>(&mut self, n: &'n Node, what: &str, allowed: &[&str]) -> Option<&'n Entries> {
        let Kind::Map(entries) = &n.kind else {
            self.err(
                n.line,
                format!("{what} must be a mapping, not {}", n.type_name()),
            );
            return None;
        };
        for (key, line, _) in entries {
            if !allowed.contains(&key.as_str()) {
                let known = allowed.join(", ");
                self.err(
                    *line,
                    format!("unknown key '{key}' in {what} (known: {known})"),
                );
            }
        }
        Some(entries)
    }

    fn list<'n>(&mut self, n: Option<&'n Node>, what: &str, line: usize) -> &'n [Node] {
        match n.map(|n| (n, &n.kind)) {
            Some((_, Kind::Seq(items))) => items,
            Some((n, _)) => {
                self.err(n.line, format!("'{what}' must be a list"));
                &[]
            }
            None => {
                self.err(line, format!("'{what}' is missing"));
                &[]
            }
        }
    }

    fn duration(&mut self, n: &Node, what: &str) -> Option<Duration> {
        let parsed = match &n.kind {
            Kind::Int(i) if *i >= 0 => Some(Duration::from_secs(*i as u64)),
            Kind::Float(f) if *f >= 0.0 && f.is_finite() => Some(Duration::from_secs_f64(*f)),
            Kind::Str(s) => parse_duration(s),
            _ => None,
        };
        if parsed.is_none() {
            self.err(
                n.line,
                format!("{what} must be a duration like 20s, 3m or 8h"),
            );
        }
        parsed
    }

    fn opt_duration(&mut self, e: &Entries, key: &str, default: Duration) -> Duration {
        get(e, key)
            .map_or(Some(default), |n| self.duration(n, &format!("'{key}'")))
            .unwrap_or(default)
    }

    fn number(&mut self, n: &Node, what: &str) -> Option<f64> {
        match n.kind {
            Kind::Int(i) if i >= 0 => Some(i as f64),
            Kind::Float(f) if f >= 0.0 && f.is_finite() => Some(f),
            _ => {
                self.err(n.line, format!("{what} must be a number ≥ 0"));
                None
            }
        }
    }

    fn whole(&mut self, n: &Node, what: &str, max: u64) -> Option<u64> {
        match n.kind {
            Kind::Int(i) if (0..=max as i64).contains(&i) => Some(i as u64),
            _ => {
                self.err(
                    n.line,
                    format!("{what} must be a whole number from 0 to {max}"),
                );
                None
            }
        }
    }

    fn text(&mut self, n: &Node, what: &str) -> Option<String> {
        let t = n.as_text();
        if t.is_none() {
            self.err(n.line, format!("{what} must be text"));
        }
        t
    }

    fn channel(&mut self, name: &str, line: usize) -> Option<Channel> {
        let c = channel_from_name(name);
        if c.is_none() {
            self.err(line, format!("unknown channel '{name}'"));
        }
        c
    }

    /// `{ name: level, ... }` with levels 1..=255.
    fn levels(&mut self, n: Option<&Node>, what: &str) -> Vec<(String, u8)> {
        let Some(n) = n else { return Vec::new() };
        let Kind::Map(entries) = &n.kind else {
            self.err(n.line, format!("'{what}' must map names to levels"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, line, value) in entries {
            match value.kind {
                Kind::Int(l) if (1..=255).contains(&l) => out.push((key.clone(), l as u8)),
                _ => self.err(*line, format!("level of '{key}' must be from 1 to 255")),
            }
        }
        out
    }

    fn per_channel(&mut self, n: Option<&Node>, what: &str) -> Option<Vec<(Channel, u8)>> {
        let levels = self.levels_or_zero(n?, what);
        Some(levels)
    }

    fn levels_or_zero(&mut self, n: &Node, what: &str) -> Vec<(Channel, u8)> {
        let Kind::Map(entries) = &n.kind else {
            self.err(n.line, format!("'{what}' must map channels to numbers"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, line, value) in entries {
            let channel = self.channel(key, *line);
            let v = self.whole(value, &format!("'{what}' of '{key}'"), 255);
            if let (Some(c), Some(v)) = (channel, v) {
                out.push((c, v as u8));
            }
        }
        out
    }

    fn dist(&mut self, n: &Node, what: &str) -> Option<Dist> {
        if !matches!(n.kind, Kind::Map(_)) {
            return self.duration(n, what).map(Dist::Fixed);
        }
        let kinds = ["fixed", "exponential", "uniform", "lognormal"];
        let e = self.map(n, what, &kinds)?;
        let [(kind, line, value)] = e else {
            self.err(
                n.line,
                format!("{what} must name exactly one of: {}", kinds.join(", ")),
            );
            return None;
        };
        match kind.as_str() {
            "fixed" => self.duration(value, what).map(Dist::Fixed),
            "exponential" => self.duration(value, what).map(Dist::Exponential),
            "uniform" => match &value.kind {
                Kind::Seq(items) if items.len() == 2 => {
                    let a = self.duration(&items[0], what)?;
                    let b = self.duration(&items[1], what)?;
                    if a > b {
                        self.err(*line, format!("{what}: uniform bounds are reversed"));
                    }
                    Some(Dist::Uniform(a, b))
                }
                _ => {
                    self.err(*line, format!("{what}: uniform takes [low, high]"));
                    None
                }
            },
            _ => {
                let f = self.map(value, what, &["mean", "sd"])?;
                let mean = self.opt_duration(f, "mean", Duration::ZERO);
                let sd = self.opt_duration(f, "sd", Duration::ZERO);
                if mean.is_zero() {
                    self.err(*line, format!("{what}: lognormal needs a mean > 0"));
                }
                Some(Dist::LogNormal { mean, sd })
            }
        }
    }

    fn scenario(&mut self, root: &Node) -> Option<Scenario> {
        let keys = [
            "name", "hours", "interval", "start", "seed", "queues", "arrivals", "agents",
        ];
        let e = self.map(root, "the scenario", &keys)?;
        let name = match get(e, "name") {
            Some(n) => self.text(n, "'name'").unwrap_or_default(),
            None => String::new(),
        };
        let length = match get(e, "hours") {
            Some(n) => self
                .number(n, "'hours'")
                .map_or(Duration::ZERO, |h| Duration::from_secs_f64(h * 3600.0)),
            None => Duration::from_secs(8 * 3600),
        };
        if length.is_zero() || length > Duration::from_secs(1000 * 3600) {
            self.err(root.line, "'hours' must be more than 0 and at most 1000");
        }
        let interval = self.opt_duration(e, "interval", Duration::from_secs(900));
        if interval < Duration::from_secs(60) {
            self.err(root.line, "'interval' must be at least 1m");
        }
        let start_minute = get(e, "start").map_or(0, |n| self.clock(n));
        let seed = get(e, "seed").map_or(Some(1), |n| self.whole(n, "'seed'", i64::MAX as u64));
        let queues: Vec<QueueSpec> = self
            .list(get(e, "queues"), "queues", root.line)
            .iter()
            .filter_map(|n| self.queue(n))
            .collect();
        let arrivals = self
            .list(get(e, "arrivals"), "arrivals", root.line)
            .iter()
            .filter_map(|n| self.arrival(n, &queues))
            .collect();
        let agents = self
            .list(get(e, "agents"), "agents", root.line)
            .iter()
            .filter_map(|n| self.agent(n))
            .collect();
        Some(Scenario {
            name,
            length,
            interval: interval.max(Duration::from_secs(60)),
            start_minute,
            seed: seed.unwrap_or(1),
            queues,
            arrivals,
            agents,
        })
    }

    fn clock(&mut self, n: &Node) -> u32 {
        let text = n.as_text().unwrap_or_default();
        let parsed = text.split_once(':').and_then(|(h, m)| {
            let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
            (h < 24 && m < 60).then_some(h * 60 + m)
        });
        parsed.unwrap_or_else(|| {
            self.err(n.line, "'start' must be a time of day like \"08:00\"");
            0
        })
    }

    fn queue(&mut self, n: &Node) -> Option<QueueSpec> {
        let keys = ["name", "service_level", "skills", "wrap_up", "sticky"];
        let e = self.map(n, "a queue", &keys)?;
        let Some(name) = get(e, "name").and_then(|v| self.text(v, "'name'")) else {
            self.err(n.line, "a queue needs a 'name'");
            return None;
        };
        let sticky = match get(e, "sticky") {
            None => None,
            Some(s) => {
                let f = self.map(s, "'sticky'", &["wait", "mode"])?;
                let wait = self.opt_duration(f, "wait", Duration::from_secs(30));
                let mode = match get(f, "mode").and_then(Node::as_text).as_deref() {
                    None | Some("most_recent") => StickyMode::MostRecent,
                    Some("most_often") => StickyMode::MostOften,
                    Some(other) => {
                        self.err(s.line, format!("unknown sticky mode '{other}'"));
                        StickyMode::MostRecent
                    }
                };
                Some((wait, mode))
            }
        };
        Some(QueueSpec {
            name,
            service_level: self.opt_duration(e, "service_level", Duration::from_secs(20)),
            skills: self.levels(get(e, "skills"), "skills"),
            wrap_up: self.opt_duration(e, "wrap_up", Duration::ZERO),
            sticky,
        })
    }

    fn arrival(&mut self, n: &Node, queues: &[QueueSpec]) -> Option<ArrivalSpec> {
        let keys = [
            "queue",
            "channel",
            "per_hour",
            "per_interval",
            "handle",
            "patience",
            "customers",
        ];
        let e = self.map(n, "an arrival stream", &keys)?;
        let queue_name = get(e, "queue").and_then(Node::as_text).unwrap_or_default();
        let Some(queue) = queues.iter().position(|q| q.name == queue_name) else {
            self.err(
                n.line,
                format!("arrivals name an unknown queue '{queue_name}'"),
            );
            return None;
        };
        let channel = match get(e, "channel") {
            Some(c) => self.channel(&c.as_text().unwrap_or_default(), c.line)?,
            None => Channel::Voice,
        };
        let rate = match (get(e, "per_hour"), get(e, "per_interval")) {
            (Some(h), None) => Rate::PerHour(self.number(h, "'per_hour'")?),
            (None, Some(list)) => {
                let Kind::Seq(items) = &list.kind else {
                    self.err(list.line, "'per_interval' must be a list of numbers");
                    return None;
                };
                let counts = items
                    .iter()
                    .filter_map(|i| self.number(i, "an interval's count"));
                Rate::PerInterval(counts.collect())
            }
            _ => {
                self.err(
                    n.line,
                    "an arrival stream needs one of 'per_hour' or 'per_interval'",
                );
                return None;
            }
        };
        let Some(handle) = get(e, "handle") else {
            self.err(
                n.line,
                "an arrival stream needs 'handle' (the handling time)",
            );
            return None;
        };
        let handle = self.dist(handle, "'handle'")?;
        let patience = match get(e, "patience") {
            Some(p) => Some(self.dist(p, "'patience'")?),
            None => None,
        };
        let customers = match get(e, "customers") {
            Some(c) => Some(self.whole(c, "'customers'", u32::MAX as u64)?.max(1)),
            None => None,
        };
        Some(ArrivalSpec {
            queue,
            channel,
            rate,
            handle,
            patience,
            customers,
        })
    }

    fn agent(&mut self, n: &Node) -> Option<AgentSpec> {
        let keys = [
            "name",
            "count",
            "skills",
            "proficiency",
            "capacity",
            "shift",
        ];
        let e = self.map(n, "an agent group", &keys)?;
        let name = get(e, "name")
            .and_then(Node::as_text)
            .unwrap_or("agent".into());
        let count = match get(e, "count") {
            Some(c) => self.whole(c, "'count'", 100_000)? as u32,
            None => 1,
        };
        let shift = match get(e, "shift") {
            None => None,
            Some(s) => match &s.kind {
                Kind::Seq(items) if items.len() == 2 => {
                    let from = self.duration(&items[0], "a shift's start")?;
                    let to = self.duration(&items[1], "a shift's end")?;
                    if to <= from {
                        self.err(s.line, "a shift must end after it starts");
                    }
                    Some((from, to))
                }
                _ => {
                    self.err(s.line, "'shift' must be [start, end], e.g. [0h, 8h]");
                    None
                }
            },
        };
        Some(AgentSpec {
            name,
            count,
            skills: self.levels(get(e, "skills"), "skills"),
            proficiency: self
                .per_channel(get(e, "proficiency"), "proficiency")
                .unwrap_or_default(),
            capacity: self.per_channel(get(e, "capacity"), "capacity"),
            shift,
        })
    }
}
