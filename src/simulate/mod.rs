//! `centrala simulate`: a day of contacts replayed through the real routing engine in virtual
//! time, with queueing theory printed beside it.
//!
//! Owns: the scenario file (`scenario`), random draws (`sample`), the virtual-time loop
//! (`run`), the figures and their rendering (`figures`), and Erlang C / Erlang A (`erlang`).
//! Must not touch: sockets, tokio, the wall clock, the store. It drives `routing::Engine`
//! directly, as the routing driver does, but with a virtual clock.
//! Driven by: the `centrala simulate` command (`main.rs`) and tests.
//!
//! # How virtual time drives the engine
//!
//! The engine is sans-IO: every input carries `now`, and it asks to be woken at
//! `poll_timeout`. The simulator takes one `Instant` `t0` and keeps time as an offset from
//! it. It repeatedly picks the earliest of (a) its own next event — an arrival, an abandon at
//! the end of a caller's patience, a completion at the end of a handling time, a shift start
//! or end — and (b) the engine's next timer (wrap-up end, sticky-agent expiry, ...), jumps the
//! offset there, feeds the engine with `t0 + offset`, and drains its decisions. Nothing ever
//! sleeps, so a day takes as long as the engine's decisions do. Runs repeat exactly for a
//! seed: each arrival stream has its own seeded RNG, events at equal times are taken in the
//! order they were scheduled, and the engine itself is deterministic.
//!
//! # Erlang figures
//!
//! For a single queue fed by one voice stream with exponential handling times and agents who
//! take one voice contact each, every interval also shows Erlang C for that interval's rate
//! and the agents logged in for the whole interval (mean handling time plus wrap-up), and
//! Erlang A when patience is exponential. The total's model figures are the intervals'
//! averaged with their expected arrivals as weights (absent if any interval is unstable).

pub mod erlang;
pub mod figures;
pub mod run;
pub mod sample;
pub mod scenario;

use std::path::Path;

pub use erlang::Prediction;
pub use figures::{Counters, Figures, Outcome, render_table};
pub use scenario::{Scenario, ScenarioError};

use crate::routing::{Channel, RoutingError};
use scenario::Dist;

/// Reads and checks a scenario file; errors are `file:line: message`.
pub fn load(path: &Path) -> Result<Scenario, Vec<ScenarioError>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ScenarioError {
            file: file.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        }]
    })?;
    scenario::parse(&file, &text)
}

/// Runs the scenario with `seed` and computes every figure.
pub fn simulate(sc: &Scenario, seed: u64) -> Result<Outcome, RoutingError> {
    let tally = run::simulate(sc, seed)?;
    let mut total = Counters::default();
    let mut intervals = Vec::with_capacity(tally.intervals.len());
    for (i, c) in tally.intervals.iter().enumerate() {
        total.add(c);
        let mut f = Figures::new(label(sc, i), c);
        (f.erlang_c, f.erlang_a) = model(sc, i).unwrap_or((None, None));
        intervals.push(f);
    }
    let mut total_figures = Figures::new("total".into(), &total);
    (total_figures.erlang_c, total_figures.erlang_a) = weighted(sc, &intervals);
    Ok(Outcome {
        scenario: sc.name.clone(),
        seed,
        unserved: tally.unserved,
        intervals,
        total: total_figures,
    })
}

fn label(sc: &Scenario, i: usize) -> String {
    let minutes = u64::from(sc.start_minute) + sc.interval.as_secs() * i as u64 / 60;
    let (day, min) = (minutes / 1440, minutes % 1440);
    let clock = format!("{:02}:{:02}", min / 60, min % 60);
    if day == 0 {
        clock
    } else {
        format!("{clock}+{day}d")
    }
}

type Models = (Option<Prediction>, Option<Prediction>);

/// Erlang C and A for interval `i`, when the scenario is single-skill voice.
fn model(sc: &Scenario, i: usize) -> Option<Models> {
    let ([queue], [stream]) = (sc.queues.as_slice(), sc.arrivals.as_slice()) else {
        return None;
    };
    let Dist::Exponential(handle) = stream.handle else {
        return None;
    };
    let one_voice = |a: &scenario::AgentSpec| {
        let voice = a.capacity.as_ref().map_or(Some(1), |cap| {
            cap.iter()
                .find(|(c, _)| *c == Channel::Voice)
                .map(|&(_, n)| n)
        });
        voice == Some(1)
            && queue
                .skills
                .iter()
                .all(|(name, min)| a.skills.iter().any(|(n, l)| n == name && l >= min))
    };
    if stream.channel != Channel::Voice || !sc.agents.iter().all(one_voice) {
        return None;
    }
    let start = sc.interval * i as u32;
    let end = (start + sc.interval).min(sc.length);
    let agents: u32 = (sc.agents.iter())
        .filter(|a| a.shift.is_none_or(|(from, to)| from <= start && to >= end))
        .map(|a| a.count)
        .sum();
    let rate = sample::interval_rate(stream, i, sc.interval, sc.length);
    let mean = handle.as_secs_f64() + queue.wrap_up.as_secs_f64();
    let t = queue.service_level.as_secs_f64();
    let c = erlang::erlang_c(rate, mean, agents, t);
    let a = match stream.patience {
        Some(Dist::Exponential(p)) => erlang::erlang_a(rate, mean, agents, p.as_secs_f64(), t),
        _ => None,
    };
    Some((c, a))
}

fn weighted(sc: &Scenario, intervals: &[Figures]) -> Models {
    let [stream] = sc.arrivals.as_slice() else {
        return (None, None);
    };
    let weights: Vec<f64> = (0..intervals.len())
        .map(|i| {
            let start = sc.interval * i as u32;
            let len = ((start + sc.interval).min(sc.length) - start).as_secs_f64();
            sample::interval_rate(stream, i, sc.interval, sc.length) * len
        })
        .collect();
    let average = |pick: fn(&Figures) -> Option<Prediction>| {
        let mut acc = (0.0, 0.0, 0.0, 0.0);
        for (f, &w) in intervals.iter().zip(&weights) {
            if w == 0.0 {
                continue;
            }
            let p = pick(f)?;
            acc.0 += w * p.service_level;
            acc.1 += w * p.asa_secs;
            acc.2 += w * p.abandon_rate;
            acc.3 += w;
        }
        (acc.3 > 0.0).then(|| Prediction {
            service_level: acc.0 / acc.3,
            asa_secs: acc.1 / acc.3,
            abandon_rate: acc.2 / acc.3,
        })
    };
    (average(|f| f.erlang_c), average(|f| f.erlang_a))
}

#[cfg(test)]
mod tests;
