//! The export table of a computed `Report` (the same rows as the JSON, then the totals with
//! `interval_start` = `total`) and its CSV rendering; `xlsx` renders the same table.
//!
//! Owns: the column order, typed cells and RFC 4180 quoting. Must not touch: any figure; it
//! renders what `compute` produced. Driven by the API (`Accept: text/csv` or `format=csv`).
//!
//! Hand-written: quoting is five lines and the `csv` crate would be a dependency for them.

use super::compute::{Report, ReportRow};

const HEADER: [&str; 26] = [
    "key",
    "interval_start",
    "offered",
    "answered",
    "answered_within_threshold",
    "abandoned",
    "short_abandoned",
    "service_level",
    "service_level_variant",
    "sl_answered",
    "sl_offered",
    "sl_offered_without_short",
    "sl_abandoned_after_threshold",
    "asa_secs",
    "aht_secs",
    "talk_secs",
    "wrap_up_secs",
    "longest_wait_secs",
    "abandon_rate",
    "handled",
    "transferred",
    "overflowed",
    "callbacks_requested",
    "callbacks_kept_place",
    "callbacks_completed",
    "callbacks_within_sla",
];

const AGENT_HEADER: [&str; 5] = [
    "logged_in_secs",
    "break_secs",
    "busy_secs",
    "occupancy",
    "occupancy_classic",
];

/// One cell of the export table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A number.
    Num(f64),
    /// No value (a ratio with a zero denominator).
    Empty,
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Text(t) => f.write_str(t),
            Cell::Num(n) => write!(f, "{n}"),
            Cell::Empty => Ok(()),
        }
    }
}

/// The header and the rows (then the totals) of the export.
pub fn table(report: &Report) -> (Vec<&'static str>, Vec<Vec<Cell>>) {
    let agents = report.report == "agents";
    let mut header: Vec<&str> = HEADER.to_vec();
    if agents {
        header.extend(AGENT_HEADER);
    }
    let rows = (report.rows.iter().chain(&report.totals))
        .map(|r| fields(r, agents))
        .collect();
    (header, rows)
}

/// The report as CSV (CRLF line ends, header first).
pub fn render(report: &Report) -> String {
    let (header, rows) = table(report);
    let mut out = line(header.iter().map(|h| h.to_string()));
    for r in rows {
        out.push_str(&line(r.iter().map(ToString::to_string)));
    }
    out
}

fn num(v: Option<f64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Num)
}

fn int(v: i64) -> Cell {
    Cell::Num(v as f64)
}

fn fields(r: &ReportRow, agents: bool) -> Vec<Cell> {
    let f = &r.figures;
    let sl = &f.service_levels;
    let mut v = vec![
        Cell::Text(r.key.clone()),
        Cell::Text(r.interval_start.clone().unwrap_or_else(|| "total".into())),
        int(f.offered),
        int(f.answered),
        int(f.answered_within_threshold),
        int(f.abandoned),
        int(f.short_abandoned),
        num(f.service_level),
        Cell::Text(f.service_level_variant.name().to_string()),
        num(sl.answered),
        num(sl.offered),
        num(sl.offered_without_short),
        num(sl.abandoned_after_threshold),
        num(f.asa_secs),
        num(f.aht_secs),
        num(f.talk_secs),
        num(f.wrap_up_secs),
        num(f.longest_wait_secs),
        num(f.abandon_rate),
        int(f.handled),
        int(f.transferred),
        int(f.overflowed),
        int(f.callbacks_requested),
        int(f.callbacks_kept_place),
        int(f.callbacks_completed),
        int(f.callbacks_within_sla),
    ];
    if agents && let Some(a) = &r.agent {
        v.extend([
            Cell::Num(a.logged_in_secs),
            Cell::Num(a.break_secs),
            Cell::Num(a.busy_secs),
            num(a.occupancy),
            num(a.occupancy_classic),
        ]);
    }
    v
}

fn line(fields: impl Iterator<Item = String>) -> String {
    let quoted: Vec<String> = fields
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect();
    format!("{}\r\n", quoted.join(","))
}
