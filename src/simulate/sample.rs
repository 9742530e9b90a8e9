//! Random draws for the simulator: durations from a `Dist`, and the next Poisson arrival of a
//! stream whose rate changes per interval.
//!
//! Owns: the sampling formulas (inverse transform for the exponential, Box–Muller for the
//! log-normal), on a caller-given seeded RNG so that runs repeat.
//! Must not touch: the event loop. Driven by `run.rs`.
//!
//! `rand` 0.8 has no distributions beyond uniform without `rand_distr`; the two formulas used
//! here are three lines each, so the extra crate is not worth it.

use std::time::Duration;

use rand::Rng;

use super::scenario::{ArrivalSpec, Dist, Rate};

/// One draw of `dist`.
pub fn duration(dist: &Dist, rng: &mut impl Rng) -> Duration {
    let secs = match *dist {
        Dist::Fixed(d) => d.as_secs_f64(),
        Dist::Exponential(mean) => exponential(mean.as_secs_f64(), rng),
        Dist::Uniform(a, b) => {
            let (a, b) = (a.as_secs_f64(), b.as_secs_f64());
            a + (b - a) * rng.r#gen::<f64>()
        }
        Dist::LogNormal { mean, sd } => {
            let (m, s) = (mean.as_secs_f64(), sd.as_secs_f64());
            let sigma2 = (1.0 + (s * s) / (m * m)).ln();
            let mu = m.ln() - sigma2 / 2.0;
            // Box–Muller; 1 − u keeps the logarithm finite.
            let (u1, u2): (f64, f64) = (rng.r#gen(), rng.r#gen());
            let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            (mu + sigma2.sqrt() * z).exp()
        }
    };
    Duration::from_secs_f64(secs.max(0.0))
}

fn exponential(mean: f64, rng: &mut impl Rng) -> f64 {
    -mean * (1.0 - rng.r#gen::<f64>()).ln()
}

/// Arrivals per second of `spec` during interval `i` of length `len` (seconds).
fn rate(spec: &ArrivalSpec, i: usize, len: f64) -> f64 {
    match &spec.rate {
        Rate::PerHour(h) => h / 3600.0,
        Rate::PerInterval(counts) => counts.get(i).map_or(0.0, |c| c / len),
    }
}

/// The first arrival after `after` of a Poisson stream whose rate is constant within each
/// interval (memorylessness lets a draw that crosses a boundary restart there), or `None`
/// once `length` is reached.
pub fn next_arrival(
    spec: &ArrivalSpec,
    after: Duration,
    interval: Duration,
    length: Duration,
    rng: &mut impl Rng,
) -> Option<Duration> {
    let mut t = after;
    while t < length {
        let i = (t.as_millis() / interval.as_millis()) as usize;
        let end = (interval * (i as u32 + 1)).min(length);
        let len = (end.min(length) - interval * i as u32).as_secs_f64();
        let lambda = rate(spec, i, len);
        if lambda > 0.0 {
            let next = t + Duration::from_secs_f64(exponential(1.0 / lambda, rng));
            if next < end {
                return Some(next);
            }
        }
        t = end;
    }
    None
}

/// Arrivals per second of `spec` during interval `i` (for the Erlang figures).
pub fn interval_rate(spec: &ArrivalSpec, i: usize, interval: Duration, length: Duration) -> f64 {
    let start = interval * i as u32;
    let end = (start + interval).min(length);
    rate(spec, i, end.saturating_sub(start).as_secs_f64())
}
