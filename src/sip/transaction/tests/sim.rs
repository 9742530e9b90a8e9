//! A client layer and a server layer wired through [`Netem`], each with a scripted TU: the UAS
//! answers every request (INVITE with 180 then the final code the branch asks for, and
//! retransmits its 2xx until ACKed as RFC 3261 13.3.1.4 says); the UAC ACKs every 2xx.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use proptest::prelude::*;

use super::netem::{Impairment, Netem, Side};
use super::*;
use crate::sip::transaction::TxnId;

/// How a client transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pending,
    Final {
        code: u16,
        finals: u32,
    },
    Timeout,
    /// The UAC gave up on an INVITE stuck in Proceeding (RFC 3261 9.1 style).
    Abandoned,
}

/// Something a TU does later.
#[derive(Debug)]
enum Action {
    Respond {
        txn: TxnId,
        env: Envelope,
    },
    Retransmit2xx {
        txn: TxnId,
        env: Envelope,
        interval: Duration,
        call: Box<str>,
    },
    Abandon {
        txn: TxnId,
    },
}

struct Sim {
    t0: Instant,
    now: Instant,
    uac: TransactionLayer,
    uas: TransactionLayer,
    net: Netem,
    actions: BTreeMap<(Instant, u64), Action>,
    seq: u64,
    expected: HashMap<TxnId, (Method, u16)>,
    outcomes: HashMap<TxnId, Outcome>,
    terminated: HashSet<TxnId>,
    requests_per_branch: HashMap<Box<str>, u32>,
    acked_calls: HashSet<Box<str>>,
}

impl Sim {
    fn new(seed: u64, impairment: Impairment) -> Sim {
        let t0 = Instant::now();
        Sim {
            t0,
            now: t0,
            uac: layer(),
            uas: layer(),
            net: Netem::new(seed, impairment),
            actions: BTreeMap::new(),
            seq: 0,
            expected: HashMap::new(),
            outcomes: HashMap::new(),
            terminated: HashSet::new(),
            requests_per_branch: HashMap::new(),
            acked_calls: HashSet::new(),
        }
    }

    /// Starts client transaction `n`, whose branch asks the UAS for final `code`.
    fn start(&mut self, n: usize, method: Method, code: u16) {
        let env = request(method.clone(), &format!("z9hG4bK-{n}-{code}"));
        let txn = self.uac.send_request(self.now, env, udp(2));
        self.expected.insert(txn, (method, code));
        self.outcomes.insert(txn, Outcome::Pending);
    }

    /// Runs until nothing is left to do, or panics if something is still pending at `limit`.
    fn run(&mut self, limit: Duration) {
        loop {
            self.settle();
            let next = [
                self.uac.poll_timeout(),
                self.uas.poll_timeout(),
                self.net.next_at(),
                self.next_action(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else { return };
            assert!(
                next - self.t0 <= limit,
                "still busy at {limit:?}: {:?}",
                self.uac.timeout_reason()
            );
            self.now = self.now.max(next);
            while let Some((side, from, wire)) = self.net.pop_due(self.now) {
                let Some(env) = parse(&wire) else { continue };
                match side {
                    Side::Client => self.uac.handle_message(self.now, env, from),
                    Side::Server => self.uas.handle_message(self.now, env, from),
                }
            }
            self.uac.handle_timeout(self.now);
            self.uas.handle_timeout(self.now);
            self.run_actions();
        }
    }

    fn next_action(&self) -> Option<Instant> {
        self.actions.first_key_value().map(|((at, _), _)| *at)
    }

    fn schedule(&mut self, after: Duration, action: Action) {
        self.seq += 1;
        self.actions.insert((self.now + after, self.seq), action);
    }

    /// Drains both layers until neither has output.
    fn settle(&mut self) {
        loop {
            let mut busy = false;
            while let Some(t) = self.uac.poll_transmit() {
                self.net.send(self.now, Side::Server, udp(1), t.wire);
                busy = true;
            }
            while let Some(t) = self.uas.poll_transmit() {
                self.net.send(self.now, Side::Client, udp(2), t.wire);
                busy = true;
            }
            while let Some(event) = self.uac.poll_event() {
                self.uac_tu(event);
                busy = true;
            }
            while let Some(event) = self.uas.poll_event() {
                self.uas_tu(event);
                busy = true;
            }
            if !busy {
                return;
            }
        }
    }

    fn run_actions(&mut self) {
        while let Some(entry) = self.actions.first_entry() {
            if entry.key().0 > self.now {
                return;
            }
            match entry.remove() {
                Action::Respond { txn, env } => {
                    let two_xx_invite = matches!(env.kind, Kind::Response(200..=299))
                        && env.cseq_method == Method::Invite;
                    self.uas.send_response(self.now, txn, env.clone()).unwrap();
                    if two_xx_invite {
                        let call = env.branch.clone();
                        let interval = TimerConfig::default().t1;
                        self.schedule(
                            interval,
                            Action::Retransmit2xx {
                                txn,
                                env,
                                interval,
                                call,
                            },
                        );
                    }
                }
                Action::Retransmit2xx {
                    txn,
                    env,
                    interval,
                    call,
                } => {
                    // Retransmit through the Accepted transaction until ACKed or Timer L ends it.
                    if !self.acked_calls.contains(&call)
                        && self.uas.send_response(self.now, txn, env.clone()).is_ok()
                    {
                        let interval = (interval * 2).min(TimerConfig::default().t2);
                        self.schedule(
                            interval,
                            Action::Retransmit2xx {
                                txn,
                                env,
                                interval,
                                call,
                            },
                        );
                    }
                }
                Action::Abandon { txn } => {
                    if self.outcomes.get(&txn) == Some(&Outcome::Pending)
                        && self.uac.terminate(txn).is_ok()
                    {
                        self.outcomes.insert(txn, Outcome::Abandoned);
                    }
                }
            }
        }
    }

    fn uac_tu(&mut self, event: TxnEvent) {
        match event {
            TxnEvent::Response { txn, env, .. } => {
                let Kind::Response(code) = env.kind else {
                    return;
                };
                if code < 200 {
                    if env.cseq_method == Method::Invite {
                        self.schedule(TimerConfig::default().t1x64() * 3, Action::Abandon { txn });
                    }
                    return;
                }
                let outcome = self.outcomes.entry(txn).or_insert(Outcome::Pending);
                *outcome = match *outcome {
                    Outcome::Final {
                        code: first,
                        finals,
                    } => Outcome::Final {
                        code: first,
                        finals: finals + 1,
                    },
                    _ => Outcome::Final { code, finals: 1 },
                };
                if code < 300 && env.cseq_method == Method::Invite {
                    let ack = request(Method::Ack, &format!("{}-ack2xx", env.branch));
                    self.uac.send_request(self.now, ack, udp(2));
                }
            }
            TxnEvent::Timeout { txn } => {
                self.outcomes.insert(txn, Outcome::Timeout);
            }
            TxnEvent::Terminated { txn } => {
                self.terminated.insert(txn);
            }
            other => panic!("unexpected UAC event {other:?}"),
        }
    }

    fn uas_tu(&mut self, event: TxnEvent) {
        match event {
            TxnEvent::Request { txn, env, .. } => {
                *self
                    .requests_per_branch
                    .entry(env.branch.clone())
                    .or_default() += 1;
                let code: u16 = env
                    .branch
                    .rsplit('-')
                    .next()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(500);
                let method = env.cseq_method.clone();
                if method == Method::Invite {
                    let ringing = response(180, &env.branch, Method::Invite);
                    self.schedule(secs(0.01), Action::Respond { txn, env: ringing });
                }
                let last = response(code, &env.branch, method);
                self.schedule(secs(0.05), Action::Respond { txn, env: last });
            }
            TxnEvent::StrayAck { env, .. } => {
                let call = env.branch.strip_suffix("-ack2xx").unwrap_or(&env.branch);
                self.acked_calls.insert(call.into());
            }
            TxnEvent::Timeout { .. } | TxnEvent::Terminated { .. } => {}
            other => panic!("unexpected UAS event {other:?}"),
        }
    }

    /// Checks the end state: nothing live, nothing pending, and every outcome as expected.
    fn check(&self, lossless: bool) {
        assert_eq!((self.uac.len(), self.uas.len()), (0, 0));
        assert_eq!(
            (self.uac.poll_timeout(), self.uas.poll_timeout()),
            (None, None)
        );
        assert!(self.net.is_empty() && self.actions.is_empty());
        for (txn, (method, code)) in &self.expected {
            assert!(
                self.terminated.contains(txn),
                "{txn} never reported Terminated"
            );
            match self.outcomes[txn] {
                Outcome::Final { code: got, finals } => {
                    assert_eq!(got, *code, "{txn} got the wrong final");
                    let retransmitted_2xx_allowed = *method == Method::Invite && *code < 300;
                    assert!(
                        finals == 1 || retransmitted_2xx_allowed,
                        "{txn} saw {finals} finals"
                    );
                }
                Outcome::Timeout | Outcome::Abandoned => {
                    assert!(!lossless, "{txn} failed without loss")
                }
                Outcome::Pending => panic!("{txn} hangs"),
            }
        }
        for (branch, count) in &self.requests_per_branch {
            assert_eq!(*count, 1, "{branch} reached the UAS TU {count} times");
        }
    }
}

const CLEAN: Impairment = Impairment {
    loss: 0.0,
    duplicate: 0.0,
    min_delay: Duration::from_millis(10),
    max_delay: Duration::from_millis(10),
};

/// Mixes INVITE answered 200 or 486 with OPTIONS answered 200 or 404.
fn start_mix(sim: &mut Sim, count: usize) {
    for n in 0..count {
        let (method, code) = match n % 4 {
            0 => (Method::Invite, 200),
            1 => (Method::Invite, 486),
            2 => (Method::Options, 200),
            _ => (Method::Options, 404),
        };
        sim.start(n, method, code);
    }
}

#[test]
fn clean_network_completes_every_transaction() {
    let mut sim = Sim::new(1, CLEAN);
    start_mix(&mut sim, 8);
    sim.run(Duration::from_secs(600));
    sim.check(true);
    assert!(
        sim.outcomes
            .values()
            .all(|o| matches!(o, Outcome::Final { finals: 1, .. }))
    );
}

#[test]
fn ten_thousand_transactions_are_cheap() {
    let mut sim = Sim::new(2, CLEAN);
    start_mix(&mut sim, 10_000);
    assert_eq!(sim.uac.len(), 10_000);
    sim.run(Duration::from_secs(600));
    sim.check(true);
    assert_eq!(
        sim.terminated.len(),
        10_000 + 2_500,
        "every transaction plus every stateless ACK"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn survives_loss_and_duplication(
        seed in any::<u64>(),
        loss in 0.0f64..0.4,
        duplicate in 0.0f64..0.3,
        max_delay_ms in 1u64..300,
        count in 1usize..24,
    ) {
        let impairment = Impairment {
            loss,
            duplicate,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(max_delay_ms),
        };
        let mut sim = Sim::new(seed, impairment);
        start_mix(&mut sim, count);
        sim.run(Duration::from_secs(600));
        sim.check(false);
    }
}

#[test]
fn heavy_loss_still_terminates_everything() {
    let lossy = Impairment {
        loss: 0.6,
        duplicate: 0.2,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(400),
    };
    let mut sim = Sim::new(42, lossy);
    start_mix(&mut sim, 40);
    sim.run(Duration::from_secs(600));
    sim.check(false);
    assert!(sim.net.lost > 0);
}
