//! Queueing theory to hold the simulator against: Erlang C (M/M/n) and Erlang A (M/M/n+M).
//!
//! Owns: the closed forms and numerical solutions, as pure functions of rates.
//! Must not touch: the simulation; `run.rs` only puts these figures beside its own.
//! Driven by: `simulate::run` and tests.
//!
//! Written here because no well-kept crate computes Erlang A's service level; the formulas are
//! short:
//! * **Erlang C**: offered load `a = λ/μ`, `n` agents, Erlang B by the stable recursion
//!   `B(k) = a·B(k-1) / (k + a·B(k-1))`, then `C = n·B / (n − a·(1 − B))`;
//!   `SL(T) = 1 − C·e^{−(nμ − λ)T}`, `ASA = C / (nμ − λ)`.
//! * **Erlang A**: the birth–death chain with births `λ` and deaths `min(k,n)μ + (k−n)⁺θ`
//!   (θ = 1 / mean patience), solved to its stationary law (truncated where it is
//!   negligible). An arrival finding `j ≥ 0` callers ahead waits through stages `j, …, 0`,
//!   stage `i` ending at rate `nμ + iθ` while the caller's own patience runs out at rate θ.
//!   Served and abandoned shares by time T come from uniformization of that phase-type chain;
//!   ASA over served callers from the stage recursion. The SL formula is the simulator's
//!   headline one: answered within T / (answered + abandoned after T).

/// Service level (fraction) and ASA (seconds) predicted by a model.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// Service level for the threshold, a fraction.
    pub service_level: f64,
    /// Average speed of answer of answered contacts, seconds.
    pub asa_secs: f64,
    /// Share of contacts that abandon (0 for Erlang C).
    pub abandon_rate: f64,
}

/// Erlang C for `rate` arrivals/s, `mean_handle` s, `agents`, threshold `t` s. `None` when
/// the queue is unstable (`λ ≥ nμ`) or the inputs are degenerate.
pub fn erlang_c(rate: f64, mean_handle: f64, agents: u32, t: f64) -> Option<Prediction> {
    if rate <= 0.0 || mean_handle <= 0.0 || agents == 0 {
        return None;
    }
    let mu = 1.0 / mean_handle;
    let a = rate / mu;
    let n = f64::from(agents);
    if a >= n {
        return None;
    }
    let mut b = 1.0;
    for k in 1..=agents {
        b = a * b / (f64::from(k) + a * b);
    }
    let c = n * b / (n - a * (1.0 - b));
    let drain = n * mu - rate;
    Some(Prediction {
        service_level: 1.0 - c * (-drain * t).exp(),
        asa_secs: c / drain,
        abandon_rate: 0.0,
    })
}

/// Erlang A: Erlang C's inputs plus exponential patience with mean `patience` s.
pub fn erlang_a(
    rate: f64,
    mean_handle: f64,
    agents: u32,
    patience: f64,
    t: f64,
) -> Option<Prediction> {
    if rate <= 0.0 || mean_handle <= 0.0 || agents == 0 || patience <= 0.0 {
        return None;
    }
    let (mu, theta, n) = (1.0 / mean_handle, 1.0 / patience, agents as usize);
    // Stationary law, unnormalised, in log space is unnecessary: ratios stay bounded because
    // the death rate grows past n. Stop once terms are negligible.
    let mut pi = vec![1.0_f64];
    let mut k = 0usize;
    loop {
        k += 1;
        let death = k.min(n) as f64 * mu + k.saturating_sub(n) as f64 * theta;
        let next = pi[k - 1] * rate / death;
        pi.push(next);
        let total: f64 = pi.iter().sum();
        if (k > n && next < total * 1e-14) || k > n + 100_000 {
            break;
        }
        if !total.is_finite() {
            return None;
        }
    }
    let total: f64 = pi.iter().sum();
    pi.iter_mut().for_each(|p| *p /= total);
    // Arrivals see the stationary law (PASTA). Waiting arrivals start at stage k − n.
    let immediate: f64 = pi[..n.min(pi.len())].iter().sum();
    let stages: Vec<f64> = pi.iter().skip(n).copied().collect();
    let stage_rate = |i: usize| n as f64 * mu + i as f64 * theta;
    // Served share and E[wait · served] by the stage recursion.
    let (mut served, mut wait_served) = (immediate, 0.0);
    let (mut s_prev, mut m_prev) = (1.0, 0.0);
    for (i, &p) in stages.iter().enumerate() {
        let r = stage_rate(i);
        let adv = r / (r + theta);
        let s = adv * s_prev;
        let m = adv * (s_prev / (r + theta) + m_prev);
        served += p * s;
        wait_served += p * m;
        (s_prev, m_prev) = (s, m);
    }
    let (served_by_t, abandoned_by_t) = phase_type_at(&stages, stage_rate, theta, t);
    let abandoned = 1.0 - served;
    let base = served + (abandoned - abandoned_by_t);
    Some(Prediction {
        service_level: (immediate + served_by_t) / base,
        asa_secs: wait_served / served,
        abandon_rate: abandoned,
    })
}

/// Probability of being served, and of having abandoned, by time `t` for a caller starting at
/// stage `i` with probability `start[i]`; uniformization of the absorbing chain.
fn phase_type_at(
    start: &[f64],
    stage_rate: impl Fn(usize) -> f64,
    theta: f64,
    t: f64,
) -> (f64, f64) {
    let len = start.len();
    if len == 0 || t <= 0.0 {
        return (0.0, 0.0);
    }
    let big = stage_rate(len - 1) + theta;
    let mut v = start.to_vec();
    let (mut served, mut abandoned) = (0.0, 0.0);
    let (mut acc_served, mut acc_abandoned) = (0.0, 0.0);
    let lt = big * t;
    let terms = (lt + 12.0 * lt.sqrt() + 20.0).ceil() as usize;
    // Poisson(lt) weight of `step` jumps, in logs so that a long `t` does not underflow.
    let mut log_weight = -lt;
    for step in 0..=terms {
        let w = log_weight.exp();
        acc_served += w * served;
        acc_abandoned += w * abandoned;
        let mut next = vec![0.0; len];
        for i in 0..len {
            let (r, p) = (stage_rate(i), v[i]);
            if p == 0.0 {
                continue;
            }
            if i == 0 {
                served += p * r / big;
            } else {
                next[i - 1] += p * r / big;
            }
            abandoned += p * theta / big;
            next[i] += p * (1.0 - (r + theta) / big);
        }
        v = next;
        log_weight += lt.ln() - ((step + 1) as f64).ln();
    }
    // P(absorbed by t) = Σ_k Poisson(k) · P(absorbed within k jumps), accumulated above for
    // k < terms; the tail beyond `terms` is negligible.
    (acc_served, acc_abandoned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_the_textbook_anchor() {
        // 360 calls/h, 180 s, 22 agents: SL(20 s) 82.2 %, ASA 12.5 s.
        let p = erlang_c(0.1, 180.0, 22, 20.0).expect("stable");
        assert!((p.service_level - 0.822).abs() < 0.001, "{p:?}");
        assert!((p.asa_secs - 12.5).abs() < 0.1, "{p:?}");
    }

    #[test]
    fn erlang_c_single_agent_is_mm1() {
        // M/M/1 with ρ = 0.5: P(wait) = 0.5, ASA = ρ/(μ−λ) = 0.5/0.5 = 1 s.
        let p = erlang_c(0.5, 1.0, 1, 0.0).expect("stable");
        assert!((p.asa_secs - 1.0).abs() < 1e-12, "{p:?}");
        assert!((p.service_level - 0.5).abs() < 1e-12, "{p:?}");
    }

    #[test]
    fn erlang_c_refuses_an_unstable_queue() {
        assert_eq!(erlang_c(0.2, 180.0, 22, 20.0), None);
    }

    #[test]
    fn erlang_a_abandonment_matches_the_hand_computed_chain() {
        // n = 1, λ = μ = θ = 1: the death rate in state k is 1 + (k − 1) = k, so π_k = π_0/k!,
        // π_0 = 1/e; E[queue] = Σ (k − 1)·π_k = 1 − (1 − 1/e) = 1/e; P(abandon) = θ·E[queue]/λ
        // = 1/e.
        let p = erlang_a(1.0, 1.0, 1, 1.0, 1.0).expect("defined");
        let e = std::f64::consts::E;
        assert!((p.abandon_rate - 1.0 / e).abs() < 1e-9, "{p:?}");
    }

    #[test]
    fn erlang_a_with_endless_patience_is_erlang_c() {
        let c = erlang_c(0.1, 180.0, 22, 20.0).unwrap();
        let a = erlang_a(0.1, 180.0, 22, 1e9, 20.0).unwrap();
        assert!(
            (a.service_level - c.service_level).abs() < 1e-4,
            "{a:?} {c:?}"
        );
        assert!((a.asa_secs - c.asa_secs).abs() < 0.01, "{a:?} {c:?}");
        assert!(a.abandon_rate < 1e-6);
    }

    #[test]
    fn erlang_a_impatience_shortens_waits_and_loses_callers() {
        let c = erlang_c(0.1, 180.0, 22, 20.0).unwrap();
        let a = erlang_a(0.1, 180.0, 22, 60.0, 20.0).unwrap();
        assert!(a.asa_secs < c.asa_secs);
        assert!(a.abandon_rate > 0.01 && a.abandon_rate < 0.2, "{a:?}");
        // Overload is defined with patience (callers leave), unlike Erlang C.
        let over = erlang_a(0.2, 180.0, 22, 60.0, 20.0).unwrap();
        assert!(over.abandon_rate > 0.2, "{over:?}");
    }
}
