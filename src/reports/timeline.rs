//! Agents' time per 15-minute slot, replayed from the queue log: logged in, on a break, with
//! at least one contact. The base of both occupancy formulas.
//!
//! Owns: the sweep over one agent's state changes and contact intervals.
//! Must not touch: SQL (the rows come from `Store::agent_timeline`) or time zones.
//! Driven by: `reports::compute` for the agent report.
//!
//! A contact occupies `[ts − duration_ms, ts]` of its `complete` (or `callback_retry`) row —
//! answer to completion — and its `wrap_up` row likewise, so a contact answered before the
//! rows fetched still counts. The state before the first row fetched is inferred: an agent
//! whose first state row is not `login` was logged in already.

use std::collections::BTreeMap;

use crate::store::{QueueLogRow, SLOT_MS};

/// One agent's time in one slot, ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentTime {
    /// Logged in.
    pub logged_in_ms: i64,
    /// Logged in and on a break (not ready), holding no contact.
    pub break_ms: i64,
    /// Holding at least one contact or in wrap-up.
    pub busy_ms: i64,
}

impl AgentTime {
    /// Adds `o` into `self`.
    pub fn add(&mut self, o: &AgentTime) {
        self.logged_in_ms += o.logged_in_ms;
        self.break_ms += o.break_ms;
        self.busy_ms += o.busy_ms;
    }

    /// Logged in and not on a break, or holding a contact: occupancy's denominator.
    pub fn available_ms(&self) -> i64 {
        (self.logged_in_ms - self.break_ms).max(self.busy_ms)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    BusyEnd,
    Login,
    Logout,
    Break,
    Ready,
    BusyStart,
}

/// Time per agent and slot over `[from_ms, to_ms)`, from `rows` in time order.
pub fn agent_time(
    rows: &[QueueLogRow],
    from_ms: i64,
    to_ms: i64,
) -> BTreeMap<String, BTreeMap<i64, AgentTime>> {
    let mut per_agent: BTreeMap<&str, Vec<(i64, Change)>> = BTreeMap::new();
    for r in rows {
        let Some(agent) = r.agent.as_deref() else {
            continue;
        };
        let change = |c| vec![(r.ts_ms, c)];
        let new = match r.event.as_str() {
            "login" => change(Change::Login),
            "logout" => change(Change::Logout),
            "break" | "not_ready" => change(Change::Break),
            "ready" => change(Change::Ready),
            "complete" | "callback_retry" | "wrap_up" => {
                let start = r.ts_ms - r.duration_ms.unwrap_or(0).max(0);
                vec![(start, Change::BusyStart), (r.ts_ms, Change::BusyEnd)]
            }
            _ => continue,
        };
        per_agent.entry(agent).or_default().extend(new);
    }
    let mut out = BTreeMap::new();
    for (agent, mut changes) in per_agent {
        let slots = out.entry(agent.to_string()).or_default();
        changes.sort();
        let first_state = changes
            .iter()
            .find(|c| !matches!(c.1, Change::BusyStart | Change::BusyEnd));
        let mut logged = first_state.is_none_or(|c| c.1 != Change::Login);
        let (mut on_break, mut busy) = (false, 0i32);
        let mut at = changes.first().map_or(from_ms, |c| c.0.min(from_ms));
        for (ts, change) in changes.into_iter().chain([(to_ms, Change::BusyEnd)]) {
            let span = (at.max(from_ms), ts.min(to_ms));
            if span.0 < span.1 {
                let state = (logged, on_break && busy == 0, busy > 0);
                accumulate(slots, span, state);
            }
            at = at.max(ts);
            match change {
                Change::Login => logged = true,
                Change::Logout => (logged, on_break) = (false, false),
                Change::Break => on_break = true,
                Change::Ready => on_break = false,
                Change::BusyStart => busy += 1,
                Change::BusyEnd => busy = (busy - 1).max(0),
            }
        }
    }
    out
}

fn accumulate(
    out: &mut BTreeMap<i64, AgentTime>,
    (mut a, b): (i64, i64),
    (logged, on_break, busy): (bool, bool, bool),
) {
    if !logged && !busy {
        return;
    }
    while a < b {
        let slot = a.div_euclid(SLOT_MS);
        let end = ((slot + 1) * SLOT_MS).min(b);
        let t = out.entry(slot).or_default();
        let ms = end - a;
        if logged {
            t.logged_in_ms += ms;
            if on_break {
                t.break_ms += ms;
            }
        }
        if busy {
            t.busy_ms += ms;
        }
        a = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ts_ms: i64, event: &str, duration_ms: Option<i64>) -> QueueLogRow {
        QueueLogRow {
            id: format!("{ts_ms}-{event}"),
            ts_ms,
            queue: String::new(),
            channel: "chat".into(),
            task: 1,
            agent: Some("1001".into()),
            event: event.into(),
            wait_ms: None,
            duration_ms,
            detail: None,
        }
    }

    #[test]
    fn overlapping_contacts_count_once_and_breaks_are_not_available() {
        let min = 60_000;
        let rows = [
            row(0, "login", None),
            // Two chats overlapping: 1..5 and 3..7 min, so busy 1..7 = 6 min.
            row(5 * min, "complete", Some(4 * min)),
            row(7 * min, "complete", Some(4 * min)),
            row(9 * min, "break", None),
            row(12 * min, "ready", None),
            row(14 * min, "logout", None),
        ];
        let t = agent_time(&rows, 0, 15 * min);
        let slot = t["1001"][&0];
        assert_eq!(slot.logged_in_ms, 14 * min);
        assert_eq!(slot.break_ms, 3 * min);
        assert_eq!(slot.busy_ms, 6 * min);
        assert_eq!(slot.available_ms(), 11 * min);
    }

    #[test]
    fn an_agent_without_a_login_row_was_logged_in_before() {
        let rows = [row(10 * 60_000, "logout", None)];
        let t = agent_time(&rows, 0, SLOT_MS);
        assert_eq!(t["1001"][&0].logged_in_ms, 10 * 60_000);
    }
}
