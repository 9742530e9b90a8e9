//! CSV export of a computed `Report`: the same rows as the JSON, then the totals (with
//! `interval_start` = `total`).
//!
//! Owns: the column order and RFC 4180 quoting. Must not touch: any figure; it renders what
//! `compute` produced. Driven by the API (`Accept: text/csv` or `format=csv`).
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

/// The report as CSV (CRLF line ends, header first).
pub fn render(report: &Report) -> String {
    let agents = report.report == "agents";
    let mut header: Vec<&str> = HEADER.to_vec();
    if agents {
        header.extend(AGENT_HEADER);
    }
    let mut out = line(header.iter().map(|h| h.to_string()));
    for r in report.rows.iter().chain(&report.totals) {
        out.push_str(&line(fields(r, agents).into_iter()));
    }
    out
}

fn num(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v}"))
}

fn fields(r: &ReportRow, agents: bool) -> Vec<String> {
    let f = &r.figures;
    let sl = &f.service_levels;
    let mut v = vec![
        r.key.clone(),
        r.interval_start.clone().unwrap_or_else(|| "total".into()),
        f.offered.to_string(),
        f.answered.to_string(),
        f.answered_within_threshold.to_string(),
        f.abandoned.to_string(),
        f.short_abandoned.to_string(),
        num(f.service_level),
        f.service_level_variant.name().to_string(),
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
        f.handled.to_string(),
        f.transferred.to_string(),
        f.overflowed.to_string(),
        f.callbacks_requested.to_string(),
        f.callbacks_kept_place.to_string(),
        f.callbacks_completed.to_string(),
        f.callbacks_within_sla.to_string(),
    ];
    if agents && let Some(a) = &r.agent {
        v.extend([
            a.logged_in_secs.to_string(),
            a.break_secs.to_string(),
            a.busy_secs.to_string(),
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
