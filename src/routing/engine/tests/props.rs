//! Property tests: random scripts of events on a small engine, checking invariants after
//! every step.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::routing::queue::effective_requirements;

#[derive(Debug, Clone)]
enum Op {
    Queue {
        queue: u32,
        channel: u8,
        skill: Option<(u32, u8)>,
        priority: u32,
        customer: Option<u64>,
        sla: Option<u64>,
    },
    Cancel(usize),
    Accept(usize),
    Reject(usize),
    Unanswered(usize),
    Complete(usize),
    Login(u32),
    Logout(u32),
    Ready(u32),
    Break(u32),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (
            (1u32..=3, 0u8..3, proptest::option::of((1u32..=3, 1u8..=5))),
            (0u32..3, proptest::option::of(0u64..3), proptest::option::of(0u64..90)),
        )
            .prop_map(|((queue, channel, skill), (priority, customer, sla))| Op::Queue {
                queue,
                channel,
                skill,
                priority,
                customer,
                sla,
            }),
        1 => (0usize..64).prop_map(Op::Cancel),
        3 => (0usize..64).prop_map(Op::Accept),
        1 => (0usize..64).prop_map(Op::Reject),
        1 => (0usize..64).prop_map(Op::Unanswered),
        3 => (0usize..64).prop_map(Op::Complete),
        1 => (1u32..=4).prop_map(Op::Login),
        1 => (1u32..=4).prop_map(Op::Logout),
        1 => (1u32..=4).prop_map(Op::Ready),
        1 => (1u32..=4).prop_map(Op::Break),
        2 => (1u64..40).prop_map(Op::Advance),
    ]
}

fn queues() -> Vec<QueueConfig> {
    let mut q1 = QueueConfig::new(QueueId(1));
    q1.skills = vec![req(1, 2)];
    q1.wrap_up = 5 * SEC;
    q1.sticky = Some(Sticky {
        wait: 10 * SEC,
        mode: StickyMode::MostRecent,
    });
    q1.overflow = Some(Overflow {
        after: 60 * SEC,
        to: QueueId(2),
    });
    let mut q2 = QueueConfig::new(QueueId(2));
    q2.aging = Some(5 * SEC);
    let mut q3 = QueueConfig::new(QueueId(3));
    q3.skills = vec![req(2, 1)];
    q3.ring_no_answer = 8 * SEC;
    q3.bullseye = vec![
        BullseyeStep {
            after: 20 * SEC,
            relax: Relax::LowerLevels(2),
        },
        BullseyeStep {
            after: 50 * SEC,
            relax: Relax::DropAll,
        },
    ];
    q2.sla_boost = Some(SlaBoost {
        before: 20 * SEC,
        priority: 5,
    });
    vec![q1, q2, q3]
}

fn agent_skills(id: u32) -> Vec<(u32, u8)> {
    match id {
        1 => vec![(1, 5), (2, 1)],
        2 => vec![(1, 2), (3, 4)],
        3 => vec![(2, 3), (3, 1)],
        _ => vec![(1, 1), (2, 5), (3, 5)],
    }
}

/// Checks the engine's invariants against an outside model of the offers seen.
fn check(sim: &Sim, held: &BTreeMap<TaskId, AgentId>, configs: &[QueueConfig]) {
    let e = &sim.engine;
    let mut load: BTreeMap<AgentId, [u8; Channel::COUNT]> = BTreeMap::new();
    for (task, agent) in held {
        let rec = &e.tasks[task];
        load.entry(*agent).or_default()[rec.task.channel.index()] += 1;
        // The agent meets the requirements of the bullseye ring reached by now, at the latest.
        let q = configs
            .iter()
            .find(|q| q.id == rec.task.queue)
            .expect("queue");
        let waited = sim.now - rec.entered_at;
        let stage = q.bullseye.iter().filter(|s| s.after <= waited).count();
        let reqs = effective_requirements(&rec.task.skills, q, stage);
        assert!(
            e.agents[agent].skill_match(&reqs).is_some(),
            "{agent} lacks skills"
        );
    }
    for (agent, load) in &load {
        let a = &e.agents[agent];
        assert_eq!(&a.load, load, "engine load matches offers seen for {agent}");
        let cap = a.profile.capacity;
        for c in Channel::ALL {
            assert!(
                load[c.index()] <= cap.limit[c.index()],
                "{agent} over capacity on {c:?}"
            );
            if cap.exclusive[c.index()] && load[c.index()] > 0 {
                assert_eq!(
                    load.iter().map(|&n| u32::from(n)).sum::<u32>(),
                    1,
                    "{agent} exclusive"
                );
            }
        }
    }
    // No free eligible agent is left idle next to a waiting task.
    for rec in e.tasks.values() {
        match rec.state {
            TaskState::Waiting => {
                for (id, a) in &e.agents {
                    let declined = e.declined.get(&rec.task.id).is_some_and(|d| d.contains(id));
                    let fits = a.routable(rec.task.channel) && a.skill_match(&rec.reqs).is_some();
                    assert!(!fits || declined, "{id} idle next to {}", rec.task.id);
                }
            }
            TaskState::Reserved(agent) => assert!(!e.agents[&agent].routable(rec.task.channel)),
            TaskState::Detached => panic!("{} left detached", rec.task.id),
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_random_events(ops in proptest::collection::vec(op(), 1..120)) {
        let configs = queues();
        let mut sim = Sim::new(configs.clone());
        let mut next_task = 1u64;
        let mut live: Vec<TaskId> = Vec::new();
        let mut held: BTreeMap<TaskId, AgentId> = BTreeMap::new();
        let mut offered: BTreeMap<TaskId, AgentId> = BTreeMap::new();
        for op in ops {
            let now = sim.now;
            let pick = |i: usize| live.get(i % live.len().max(1)).copied();
            let mut decisions = Vec::new();
            match op {
                Op::Queue { queue, channel, skill, priority, customer, sla } => {
                    let channel = [Channel::Voice, Channel::Chat, Channel::Email][usize::from(channel)];
                    let mut t = Task::new(TaskId(next_task), channel, QueueId(queue));
                    t.skills = skill.map(|(s, l)| vec![req(s, l)]).unwrap_or_default();
                    t.priority = priority;
                    t.customer = customer.map(CustomerId);
                    t.sla_deadline = sla.map(|s| now + Duration::from_secs(s));
                    live.push(t.id);
                    next_task += 1;
                    decisions = sim.queue(t);
                }
                Op::Cancel(i) => if let Some(t) = pick(i) && sim.engine.handle_task_cancelled(now, t).is_ok() {
                    held.remove(&t);
                    offered.remove(&t);
                    live.retain(|&x| x != t);
                },
                Op::Accept(i) => if let Some(t) = pick(i) && let Some(&a) = offered.get(&t) {
                    sim.engine.handle_offer_accepted(now, t, a).expect("offered per model");
                    offered.remove(&t);
                },
                Op::Reject(i) => if let Some(t) = pick(i) && let Some(&a) = offered.get(&t) {
                    sim.engine.handle_offer_rejected(now, t, a).expect("offered per model");
                    offered.remove(&t);
                    held.remove(&t);
                },
                Op::Unanswered(i) => if let Some(t) = pick(i) && let Some(&a) = offered.get(&t) {
                    sim.engine.handle_offer_unanswered(now, t, a).expect("offered per model");
                    offered.remove(&t);
                    held.remove(&t);
                },
                Op::Complete(i) => if let Some(t) = pick(i) && sim.engine.handle_task_completed(now, t).is_ok() {
                    prop_assert!(held.remove(&t).is_some());
                    prop_assert!(!offered.contains_key(&t));
                    live.retain(|&x| x != t);
                },
                Op::Login(a) => decisions = sim.login(a, &agent_skills(a)),
                Op::Logout(a) => { let _ = sim.engine.handle_agent_logged_out(now, AgentId(a)); }
                Op::Ready(a) => { let _ = sim.engine.handle_agent_state(now, AgentId(a), Presence::Available); }
                Op::Break(a) => { let _ = sim.engine.handle_agent_state(now, AgentId(a), Presence::Break(ReasonCode(3))); }
                Op::Advance(s) => decisions = sim.advance(Duration::from_secs(s)),
            }
            decisions.extend(sim.drain());
            for d in decisions {
                match d {
                    Decision::Offer { task, agent } => {
                        prop_assert!(!held.contains_key(&task), "{task} offered twice");
                        held.insert(task, agent);
                        offered.insert(task, agent);
                    }
                    Decision::OfferTimedOut { task, .. } | Decision::OfferWithdrawn { task, .. } => {
                        prop_assert!(offered.remove(&task).is_some());
                        held.remove(&task);
                    }
                    _ => {}
                }
            }
            check(&sim, &held, &configs);
        }
    }

    #[test]
    fn same_inputs_same_decisions(ops in proptest::collection::vec((1u32..=3, 0u64..5), 1..40)) {
        let run = || {
            let mut sim = Sim::new(queues());
            for a in 1..=4 {
                sim.login(a, &agent_skills(a));
            }
            let mut out = Vec::new();
            for (i, &(queue, wait)) in ops.iter().enumerate() {
                out.extend(sim.queue(voice(i as u64, queue)));
                out.extend(sim.advance(Duration::from_secs(wait)));
            }
            out.extend(sim.advance(600 * SEC));
            (out, sim.elapsed())
        };
        prop_assert_eq!(run(), run());
    }

    #[test]
    fn fifo_within_equal_priority_among_equal_agents(gaps in proptest::collection::vec(0u64..30, 1..40), agents in 1u32..4) {
        let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
        for (i, &gap) in gaps.iter().enumerate() {
            sim.queue(voice(i as u64, 1));
            sim.advance(Duration::from_millis(gap));
        }
        let mut order = Vec::new();
        for a in 0..agents {
            order.extend(sim.login(a, &[]));
        }
        while order.len() < gaps.len() {
            let Some(Decision::Offer { task, agent }) = order.get(order.len() - agents as usize).copied() else {
                break;
            };
            sim.engine.handle_offer_accepted(sim.now, task, agent).expect("offered");
            sim.engine.handle_task_completed(sim.now, task).expect("assigned");
            order.extend(sim.drain());
        }
        let served: Vec<u64> = order.iter().filter_map(|d| match d {
            Decision::Offer { task, .. } => Some(task.0),
            _ => None,
        }).collect();
        let expected: Vec<u64> = (0..gaps.len() as u64).collect();
        prop_assert_eq!(served, expected);
    }
}
