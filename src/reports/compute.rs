//! The one report computation: store sums per 15-minute slot, merged into the period's local
//! intervals, turned into figures. The API's JSON and the CSV export both render its result.
//!
//! Owns: `ReportKind`, `ReportRequest`, `Report` and `compute`.
//! Must not touch: HTTP (the API parses the request) or rendering (`csv`).
//! Driven by: `api::v1::reports` and tests.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::formula::{Counts, FORMULA_VERSION, QueueFigures, SlVariant, ratio};
use super::period::Period;
use super::timeline::{AgentTime, agent_time};
use crate::store::{GroupBy, SLOT_MS, SlotQuery, Store, StoreError};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Per queue.
    Queues,
    /// Per agent (adds time and occupancy).
    Agents,
    /// Per channel.
    Channels,
}

/// What the caller asks for, with the queues' settings.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// Which report.
    pub kind: ReportKind,
    /// When and how it is cut.
    pub period: Period,
    /// Abandons shorter than this are short abandons, ms.
    pub short_abandon_ms: i64,
    /// Per queue: service-level threshold (ms) and headline variant.
    pub queues: Vec<(String, i64, SlVariant)>,
}

/// Time and occupancy of one agent.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AgentFigures {
    /// Logged in, seconds.
    pub logged_in_secs: f64,
    /// On a break (not ready) while holding nothing, seconds.
    pub break_secs: f64,
    /// Holding at least one contact or in wrap-up, seconds.
    pub busy_secs: f64,
    /// busy / (logged in − break): for agents holding several contacts at once.
    pub occupancy: Option<f64>,
    /// (talk + wrap-up summed over contacts) / (logged in − break): the classic formula;
    /// above 1 when contacts overlap.
    pub occupancy_classic: Option<f64>,
}

/// One row: a group over one interval (or, in `totals`, over the whole period).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReportRow {
    /// The queue, agent (extension) or channel.
    pub key: String,
    /// Start of the interval, RFC 3339 in the report's zone; `null` in totals.
    pub interval_start: Option<String>,
    /// Queue figures.
    #[serde(flatten)]
    pub figures: QueueFigures,
    /// Agent time (agent report only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentFigures>,
}

/// A computed report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// `queues`, `agents` or `channels`.
    pub report: String,
    /// Start, RFC 3339.
    pub from: String,
    /// End (exclusive), RFC 3339.
    pub to: String,
    /// `15m`, `1h` or `1d`.
    pub interval: String,
    /// IANA zone.
    pub time_zone: String,
    /// Version of the formulas (docs/REPORTS.md).
    pub formula_version: String,
    /// Short-abandon threshold, seconds.
    pub short_abandon_secs: f64,
    /// Per group and interval, groups sorted, intervals in time order; empty ones left out.
    pub rows: Vec<ReportRow>,
    /// Per group over the whole period.
    pub totals: Vec<ReportRow>,
}

/// Computes the report from the stored queue log.
pub async fn compute(store: &Store, req: &ReportRequest) -> Result<Report, StoreError> {
    let p = &req.period;
    let group = match req.kind {
        ReportKind::Queues => GroupBy::Queue,
        ReportKind::Agents => GroupBy::Agent,
        ReportKind::Channels => GroupBy::Channel,
    };
    let slots = store
        .report_slots(&SlotQuery {
            group,
            from_ms: p.from_ms,
            to_ms: p.to_ms,
            thresholds_ms: req.queues.iter().map(|(q, t, _)| (q.clone(), *t)).collect(),
            default_threshold_ms: 20_000,
            short_abandon_ms: req.short_abandon_ms,
        })
        .await?;
    let times = if req.kind == ReportKind::Agents {
        const DAY: i64 = 86_400_000;
        let rows = store.agent_timeline(p.from_ms - DAY, p.to_ms + DAY).await?;
        agent_time(&rows, p.from_ms, p.to_ms)
    } else {
        BTreeMap::new()
    };
    type Cell = (Counts, AgentTime);
    // Slots repeat across groups; the zone arithmetic runs once per slot.
    let mut starts: HashMap<i64, i64> = HashMap::new();
    let mut bucket = |slot: i64| {
        *starts
            .entry(slot)
            .or_insert_with(|| p.bucket(slot * SLOT_MS))
    };
    let mut buckets: BTreeMap<(String, i64), Cell> = BTreeMap::new();
    for s in slots {
        let cell = buckets.entry((s.key, bucket(s.slot))).or_default();
        cell.0.add(&s.counts);
    }
    for (agent, slots) in times {
        let mut per_bucket: BTreeMap<i64, AgentTime> = BTreeMap::new();
        for (slot, t) in slots {
            per_bucket.entry(bucket(slot)).or_default().add(&t);
        }
        for (start, t) in per_bucket {
            buckets.entry((agent.clone(), start)).or_default().1.add(&t);
        }
    }
    let mut labels: HashMap<i64, String> = HashMap::new();
    let mut totals: BTreeMap<String, Cell> = BTreeMap::new();
    let mut rows = Vec::with_capacity(buckets.len());
    for ((key, start), (counts, time)) in buckets {
        let total = totals.entry(key.clone()).or_default();
        total.0.add(&counts);
        total.1.add(&time);
        let label = labels
            .entry(start)
            .or_insert_with(|| p.label(start))
            .clone();
        rows.push(row(req, key, Some(label), &counts, &time));
    }
    let totals = (totals.into_iter())
        .map(|(key, (counts, time))| row(req, key, None, &counts, &time))
        .collect();
    Ok(Report {
        report: match req.kind {
            ReportKind::Queues => "queues",
            ReportKind::Agents => "agents",
            ReportKind::Channels => "channels",
        }
        .into(),
        from: p.label(p.from_ms),
        to: p.label(p.to_ms),
        interval: p.interval.name().into(),
        time_zone: p.tz_name.clone(),
        formula_version: FORMULA_VERSION.into(),
        short_abandon_secs: req.short_abandon_ms as f64 / 1000.0,
        rows,
        totals,
    })
}

fn row(
    req: &ReportRequest,
    key: String,
    start: Option<String>,
    c: &Counts,
    t: &AgentTime,
) -> ReportRow {
    let headline = match req.kind {
        ReportKind::Queues => (req.queues.iter())
            .find(|q| q.0 == key)
            .map_or(SlVariant::default(), |q| q.2),
        _ => SlVariant::default(),
    };
    let secs = |ms: i64| ms as f64 / 1000.0;
    let agent = (req.kind == ReportKind::Agents).then(|| AgentFigures {
        logged_in_secs: secs(t.logged_in_ms),
        break_secs: secs(t.break_ms),
        busy_secs: secs(t.busy_ms),
        occupancy: ratio(t.busy_ms, t.available_ms()),
        occupancy_classic: ratio(c.talk_ms + c.wrap_ms, t.available_ms()),
    });
    ReportRow {
        key,
        interval_start: start,
        figures: QueueFigures::new(c, headline),
        agent,
    }
}
