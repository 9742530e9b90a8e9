//! Engine tests in virtual time: scripted agents and tasks, the clock jumps straight to the
//! engine's next timeout.

mod props;

use std::time::{Duration, Instant};

use super::*;
use crate::routing::agent::{AgentProfile, AgentStatus, CapacityModel, Presence};
use crate::routing::decision::TaskStatus;
use crate::routing::ids::{ReasonCode, SkillId};
use crate::routing::queue::{BullseyeStep, Overflow, Relax, SlaBoost, Sticky, StickyMode};
use crate::routing::task::{Channel, SkillRequirement};

const SEC: Duration = Duration::from_secs(1);

/// A virtual-clock harness around one engine.
pub(super) struct Sim {
    pub engine: Engine,
    pub t0: Instant,
    pub now: Instant,
}

impl Sim {
    pub fn new(queues: Vec<QueueConfig>) -> Sim {
        let t0 = Instant::now();
        let engine = Engine::new(t0, queues).expect("valid queues");
        Sim {
            engine,
            t0,
            now: t0,
        }
    }

    pub fn drain(&mut self) -> Vec<Decision> {
        std::iter::from_fn(|| self.engine.poll_decision()).collect()
    }

    /// Runs every timer up to `now + d`, then sets the clock there; returns the decisions.
    pub fn advance(&mut self, d: Duration) -> Vec<Decision> {
        let target = self.now + d;
        while let Some(at) = self.engine.poll_timeout().filter(|&at| at <= target) {
            self.now = at.max(self.now);
            self.engine.handle_timeout(self.now);
        }
        self.now = target;
        self.drain()
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    pub fn login(&mut self, id: u32, skills: &[(u32, u8)]) -> Vec<Decision> {
        let skills = skills.iter().map(|&(s, l)| (SkillId(s), l)).collect();
        self.engine
            .handle_agent_logged_in(self.now, AgentProfile::new(AgentId(id), skills));
        self.drain()
    }

    pub fn queue(&mut self, task: Task) -> Vec<Decision> {
        self.engine
            .handle_task_queued(self.now, task)
            .expect("queued");
        self.drain()
    }
}

pub(super) fn req(skill: u32, min_level: u8) -> SkillRequirement {
    SkillRequirement {
        skill: SkillId(skill),
        min_level,
    }
}

pub(super) fn voice(id: u64, queue: u32) -> Task {
    Task::new(TaskId(id), Channel::Voice, QueueId(queue))
}

fn offer(task: u64, agent: u32) -> Decision {
    Decision::Offer {
        task: TaskId(task),
        agent: AgentId(agent),
    }
}

fn skilled_queue(id: u32, skill: u32, level: u8) -> QueueConfig {
    let mut q = QueueConfig::new(QueueId(id));
    q.skills = vec![req(skill, level)];
    q
}

#[test]
fn task_goes_to_free_skilled_agent_only() {
    let mut sim = Sim::new(vec![skilled_queue(1, 7, 3)]);
    sim.login(1, &[(7, 2)]);
    sim.login(2, &[(8, 9)]);
    sim.login(3, &[(7, 5)]);
    assert_eq!(sim.queue(voice(10, 1)), vec![offer(10, 3)]);
    assert_eq!(sim.engine.agent_status(AgentId(3)), AgentStatus::Busy);
}

#[test]
fn staffed_counts_present_agents_with_the_queue_skills() {
    let mut sim = Sim::new(vec![skilled_queue(1, 7, 3)]);
    sim.login(1, &[(7, 2)]);
    sim.login(2, &[(7, 3)]);
    sim.login(3, &[(7, 9), (8, 1)]);
    assert_eq!(sim.engine.staffed(QueueId(1)), 2);
    sim.engine
        .handle_agent_state(sim.now, AgentId(3), Presence::Break(ReasonCode(1)))
        .unwrap();
    assert_eq!(sim.engine.staffed(QueueId(1)), 1);
    assert_eq!(sim.engine.staffed(QueueId(9)), 0);
}

#[test]
fn task_waits_when_nobody_is_skilled_then_goes_to_new_agent() {
    let mut sim = Sim::new(vec![skilled_queue(1, 7, 3)]);
    sim.login(1, &[(7, 2)]);
    assert!(sim.queue(voice(10, 1)).is_empty());
    assert_eq!(sim.login(2, &[(7, 3)]), vec![offer(10, 2)]);
}

#[test]
fn fifo_within_equal_priority() {
    let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
    for id in [5, 3, 9] {
        sim.queue(voice(id, 1));
        sim.advance(SEC);
    }
    assert_eq!(
        sim.engine.waiting_tasks(QueueId(1)),
        vec![TaskId(5), TaskId(3), TaskId(9)]
    );
    assert_eq!(sim.login(1, &[]), vec![offer(5, 1)]);
    assert_eq!(sim.login(2, &[]), vec![offer(3, 2)]);
}

#[test]
fn higher_priority_goes_first_without_aging() {
    let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
    sim.queue(voice(1, 1));
    sim.advance(60 * SEC);
    let mut urgent = voice(2, 1);
    urgent.priority = 1;
    sim.queue(urgent);
    assert_eq!(sim.login(1, &[]), vec![offer(2, 1)]);
}

#[test]
fn aging_prevents_starvation_of_low_priority() {
    // One point of priority per 10 s of waiting.
    let mut q = QueueConfig::new(QueueId(1));
    q.aging = Some(10 * SEC);
    let mut sim = Sim::new(vec![q]);
    sim.login(1, &[]);
    sim.queue(voice(1, 1)); // priority 0, offered at once
    sim.engine
        .handle_offer_accepted(sim.now, TaskId(1), AgentId(1))
        .expect("offered");
    sim.queue(voice(2, 1)); // the low-priority task that must not starve
    let mut served = Vec::new();
    for n in 0..20u64 {
        let mut urgent = voice(100 + n, 1);
        urgent.priority = 3;
        sim.queue(urgent);
        sim.advance(10 * SEC);
        let busy = sim.engine.agents[&AgentId(1)]
            .holding
            .iter()
            .next()
            .copied()
            .expect("busy");
        sim.engine
            .handle_task_completed(sim.now, busy)
            .expect("assigned");
        for d in sim.drain() {
            if let Decision::Offer { task, agent } = d {
                served.push(task);
                sim.engine
                    .handle_offer_accepted(sim.now, task, agent)
                    .expect("offered");
            }
        }
    }
    let pos = served
        .iter()
        .position(|&t| t == TaskId(2))
        .expect("low priority task served");
    // Urgent tasks arrive every 10 s at +3; the old task overtakes them after about 40 s.
    assert!(pos <= 5, "served at position {pos}: {served:?}");
}

#[test]
fn agent_choice_prefers_proficiency_then_skill_then_longest_idle() {
    let mut sim = Sim::new(vec![skilled_queue(1, 1, 1)]);
    sim.login(1, &[(1, 5)]);
    sim.advance(SEC);
    sim.login(2, &[(1, 5)]);
    sim.login(3, &[(1, 9)]);
    let mut pro = AgentProfile::new(AgentId(4), vec![(SkillId(1), 1)]);
    pro.proficiency[Channel::Voice.index()] = 10;
    sim.engine.handle_agent_logged_in(sim.now, pro);
    assert_eq!(
        sim.queue(voice(1, 1)),
        vec![offer(1, 4)],
        "proficiency first"
    );
    assert_eq!(
        sim.queue(voice(2, 1)),
        vec![offer(2, 3)],
        "then skill level"
    );
    assert_eq!(
        sim.queue(voice(3, 1)),
        vec![offer(3, 1)],
        "then longest idle"
    );
    assert_eq!(sim.queue(voice(4, 1)), vec![offer(4, 2)]);
}

#[test]
fn multi_skill_tasks_go_to_the_best_level_sum() {
    let mut q = QueueConfig::new(QueueId(1));
    q.skills = vec![req(1, 1), req(2, 1)];
    let mut sim = Sim::new(vec![q]);
    sim.login(1, &[(1, 9), (2, 1)]);
    sim.login(2, &[(1, 6), (2, 6)]);
    sim.login(3, &[(1, 9)]);
    assert_eq!(sim.queue(voice(1, 1)), vec![offer(1, 2)]);
    assert_eq!(sim.queue(voice(2, 1)), vec![offer(2, 1)]);
    assert!(sim.queue(voice(3, 1)).is_empty(), "agent 3 lacks skill 2");
}

#[test]
fn bullseye_can_drop_one_skill() {
    let mut q = QueueConfig::new(QueueId(1));
    q.skills = vec![req(1, 1), req(2, 1)];
    q.bullseye = vec![BullseyeStep {
        after: 20 * SEC,
        relax: Relax::Drop(SkillId(2)),
    }];
    let mut sim = Sim::new(vec![q]);
    sim.login(1, &[(1, 3)]);
    sim.queue(voice(1, 1));
    assert_eq!(sim.advance(19 * SEC), vec![]);
    assert_eq!(sim.advance(SEC), vec![offer(1, 1)]);
}

#[test]
fn agent_never_gets_a_second_call_while_on_one() {
    let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
    sim.login(1, &[]);
    assert_eq!(sim.queue(voice(1, 1)), vec![offer(1, 1)]);
    assert!(sim.queue(voice(2, 1)).is_empty());
    assert!(
        sim.queue(Task::new(TaskId(3), Channel::Chat, QueueId(1)))
            .is_empty()
    );
    sim.engine
        .handle_offer_accepted(sim.now, TaskId(1), AgentId(1))
        .expect("offered");
    assert!(sim.drain().is_empty());
    sim.engine
        .handle_task_completed(sim.now, TaskId(1))
        .expect("assigned");
    assert_eq!(sim.drain(), vec![offer(2, 1)]);
}

#[test]
fn chat_capacity_allows_three_and_blocks_calls() {
    let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
    for id in 1..=4 {
        sim.queue(Task::new(TaskId(id), Channel::Chat, QueueId(1)));
    }
    sim.queue(voice(9, 1));
    let offers = sim.login(1, &[]);
    // The call is alone (exclusive) and oldest-first order would give chats first: chats 1-3.
    assert_eq!(offers, vec![offer(1, 1), offer(2, 1), offer(3, 1)]);
    assert_eq!(
        sim.engine.waiting_tasks(QueueId(1)),
        vec![TaskId(4), TaskId(9)]
    );
}

#[test]
fn custom_capacity_model_is_respected() {
    let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
    let mut profile = AgentProfile::new(AgentId(1), vec![]);
    profile.capacity = CapacityModel::single(Channel::Email, 2, false);
    sim.engine.handle_agent_logged_in(sim.now, profile);
    for id in 1..=3 {
        sim.queue(Task::new(TaskId(id), Channel::Email, QueueId(1)));
    }
    sim.queue(Task::new(TaskId(4), Channel::Chat, QueueId(1)));
    assert_eq!(sim.drain(), vec![]);
    assert_eq!(
        sim.engine.waiting_tasks(QueueId(1)),
        vec![TaskId(3), TaskId(4)]
    );
}

fn sticky_queue(wait: Duration) -> QueueConfig {
    let mut q = QueueConfig::new(QueueId(1));
    q.sticky = Some(Sticky {
        wait,
        mode: StickyMode::MostRecent,
    });
    q
}

/// Agent 2 serves customer 77 once; afterwards both agents are free, agent 1 idle longest.
fn sim_with_history(wait: Duration) -> Sim {
    let mut sim = Sim::new(vec![sticky_queue(wait)]);
    sim.login(2, &[]);
    let mut first = voice(1, 1);
    first.customer = Some(CustomerId(77));
    assert_eq!(sim.queue(first), vec![offer(1, 2)]);
    sim.engine
        .handle_offer_accepted(sim.now, TaskId(1), AgentId(2))
        .expect("offered");
    sim.login(1, &[]);
    sim
}

#[test]
fn sticky_agent_wins_when_available() {
    let mut sim = sim_with_history(30 * SEC);
    sim.engine
        .handle_task_completed(sim.now, TaskId(1))
        .expect("assigned");
    let mut again = voice(2, 1);
    again.customer = Some(CustomerId(77));
    assert_eq!(sim.queue(again), vec![offer(2, 2)]);
}

#[test]
fn sticky_wait_is_bounded_by_configured_time() {
    let mut sim = sim_with_history(30 * SEC);
    let mut again = voice(2, 1);
    again.customer = Some(CustomerId(77));
    assert!(
        sim.queue(again).is_empty(),
        "waits for busy agent 2 although agent 1 is free"
    );
    assert_eq!(
        sim.engine.timeout_reason(),
        Some(TimeoutReason::StickyExpired(TaskId(2)))
    );
    assert_eq!(
        sim.engine.task_status(TaskId(2)),
        Some(TaskStatus::Waiting {
            queue: QueueId(1),
            reserved_for: Some(AgentId(2))
        })
    );
    assert_eq!(sim.advance(29 * SEC), vec![]);
    assert_eq!(sim.advance(SEC), vec![offer(2, 1)]);
    assert_eq!(sim.elapsed(), 30 * SEC);
}

#[test]
fn sticky_agent_freed_within_wait_gets_the_task() {
    let mut sim = sim_with_history(30 * SEC);
    let mut again = voice(2, 1);
    again.customer = Some(CustomerId(77));
    sim.queue(again);
    sim.advance(10 * SEC);
    sim.engine
        .handle_task_completed(sim.now, TaskId(1))
        .expect("assigned");
    assert_eq!(sim.drain(), vec![offer(2, 2)]);
}

#[test]
fn preferred_agent_from_caller_overrides_history() {
    let mut sim = Sim::new(vec![sticky_queue(30 * SEC)]);
    sim.login(1, &[]);
    sim.login(2, &[]);
    let mut t = voice(1, 1);
    t.preferred_agent = Some(AgentId(2));
    assert_eq!(sim.queue(t), vec![offer(1, 2)]);
    sim.engine
        .handle_offer_accepted(sim.now, TaskId(1), AgentId(2))
        .expect("offered");
    let mut t = voice(2, 1);
    t.preferred_agent = Some(AgentId(2));
    assert!(sim.queue(t).is_empty(), "waits for agent 2");
    assert_eq!(sim.advance(30 * SEC), vec![offer(2, 1)]);
}

#[test]
fn most_often_mode_prefers_the_frequent_agent() {
    let mut q = sticky_queue(30 * SEC);
    q.sticky = Some(Sticky {
        wait: 30 * SEC,
        mode: StickyMode::MostOften,
    });
    let mut sim = Sim::new(vec![q]);
    sim.login(1, &[]);
    for (id, agent) in [(1, 1), (2, 1), (3, 2)] {
        if agent == 2 {
            sim.engine
                .handle_agent_state(sim.now, AgentId(1), Presence::Break(ReasonCode(5)))
                .expect("online");
            sim.login(2, &[]);
        }
        let mut t = voice(id, 1);
        t.customer = Some(CustomerId(9));
        sim.queue(t);
        sim.engine
            .handle_offer_accepted(sim.now, TaskId(id), AgentId(agent))
            .expect("offered");
        sim.engine
            .handle_task_completed(sim.now, TaskId(id))
            .expect("assigned");
    }
    sim.engine
        .handle_agent_state(sim.now, AgentId(1), Presence::Available)
        .expect("online");
    sim.drain();
    let mut t = voice(4, 1);
    t.customer = Some(CustomerId(9));
    assert_eq!(sim.queue(t), vec![offer(4, 1)]);
}

#[test]
fn sticky_agent_on_break_is_not_waited_for() {
    let mut sim = sim_with_history(30 * SEC);
    sim.engine
        .handle_task_completed(sim.now, TaskId(1))
        .expect("assigned");
    let lunch = Presence::Break(ReasonCode(4));
    sim.engine
        .handle_agent_state(sim.now, AgentId(2), lunch)
        .expect("online");
    let mut again = voice(2, 1);
    again.customer = Some(CustomerId(77));
    assert_eq!(sim.queue(again), vec![offer(2, 1)]);
}

#[test]
fn sticky_reservation_is_released_when_the_agent_logs_out() {
    let mut sim = sim_with_history(30 * SEC);
    let mut again = voice(2, 1);
    again.customer = Some(CustomerId(77));
    sim.queue(again);
    sim.advance(5 * SEC);
    sim.engine
        .handle_agent_logged_out(sim.now, AgentId(2))
        .expect("known");
    assert_eq!(sim.drain(), vec![offer(2, 1)]);
}

#[test]
fn bullseye_widens_at_configured_times() {
    let mut q = skilled_queue(1, 1, 8);
    q.bullseye = vec![
        BullseyeStep {
            after: 30 * SEC,
            relax: Relax::LowerLevels(3),
        },
        BullseyeStep {
            after: 60 * SEC,
            relax: Relax::DropAll,
        },
    ];
    let mut sim = Sim::new(vec![q]);
    sim.login(1, &[(1, 5)]);
    sim.queue(voice(1, 1));
    sim.queue(voice(2, 1));
    assert_eq!(
        sim.engine.timeout_reason(),
        Some(TimeoutReason::Bullseye(TaskId(1)))
    );
    assert_eq!(sim.advance(29 * SEC), vec![]);
    assert_eq!(sim.advance(SEC), vec![offer(1, 1)]);
    sim.engine
        .handle_offer_accepted(sim.now, TaskId(1), AgentId(1))
        .expect("offered");
    sim.login(2, &[(4, 1)]);
    assert_eq!(sim.advance(29 * SEC), vec![]);
    assert_eq!(sim.advance(SEC), vec![offer(2, 2)]);
    assert_eq!(sim.elapsed(), 60 * SEC);
}

#[test]
fn overflow_after_queue_timeout() {
    let mut a = skilled_queue(1, 1, 1);
    a.overflow = Some(Overflow {
        after: 45 * SEC,
        to: QueueId(2),
    });
    let b = skilled_queue(2, 2, 1);
    let mut sim = Sim::new(vec![a, b]);
    sim.login(1, &[(2, 1)]);
    sim.queue(voice(1, 1));
    assert_eq!(sim.advance(44 * SEC), vec![]);
    let d = sim.advance(SEC);
    let overflowed = Decision::Overflowed {
        task: TaskId(1),
        from: QueueId(1),
        to: QueueId(2),
    };
    assert_eq!(d, vec![overflowed, offer(1, 1)]);
    assert_eq!(
        sim.engine.queue_stats(QueueId(1)).map(|s| s.overflowed),
        Some(1)
    );
}

#[test]
fn ring_no_answer_sets_not_ready_and_returns_task_to_head() {
    let mut q = QueueConfig::new(QueueId(1));
    q.ring_no_answer = 15 * SEC;
    let mut sim = Sim::new(vec![q]);
    sim.login(1, &[]);
    sim.queue(voice(1, 1));
    sim.advance(5 * SEC);
    sim.queue(voice(2, 1));
    let mut urgent = voice(3, 1);
    urgent.priority = 9;
    sim.queue(urgent);
    let d = sim.advance(10 * SEC);
    let reason = ReasonCode::RING_NO_ANSWER;
    assert_eq!(
        d,
        vec![
            Decision::OfferTimedOut {
                task: TaskId(1),
                agent: AgentId(1)
            },
            Decision::AgentNotReady {
                agent: AgentId(1),
                reason
            },
        ]
    );
    assert_eq!(
        sim.engine.agent_status(AgentId(1)),
        AgentStatus::Break(reason)
    );
    assert_eq!(
        sim.engine.waiting_tasks(QueueId(1))[0],
        TaskId(1),
        "head, even before priority"
    );
    assert_eq!(sim.login(2, &[]), vec![offer(1, 2)]);
}

#[test]
fn unanswered_reported_by_shell_behaves_like_timeout() {
    let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
    sim.login(1, &[]);
    sim.queue(voice(1, 1));
    sim.engine
        .handle_offer_unanswered(sim.now, TaskId(1), AgentId(1))
        .expect("offered");
    let reason = ReasonCode::RING_NO_ANSWER;
    assert_eq!(
        sim.drain(),
        vec![Decision::AgentNotReady {
            agent: AgentId(1),
            reason
        }]
    );
    assert_eq!(
        sim.engine.poll_timeout(),
        None,
        "ring-no-answer timer disarmed"
    );
    sim.engine
        .handle_agent_state(sim.now, AgentId(1), Presence::Available)
        .expect("online");
    assert_eq!(sim.drain(), vec![offer(1, 1)]);
}

#[test]
fn wrap_up_ends_after_configured_time() {
    let mut q = QueueConfig::new(QueueId(1));
    q.wrap_up = 30 * SEC;
    let mut sim = Sim::new(vec![q]);
    sim.login(1, &[]);
    sim.queue(voice(1, 1));
    sim.engine
        .handle_offer_accepted(sim.now, TaskId(1), AgentId(1))
        .expect("offered");
    sim.queue(voice(2, 1));
    sim.advance(100 * SEC);
    sim.engine
        .handle_task_completed(sim.now, TaskId(1))
        .expect("assigned");
    assert_eq!(sim.drain(), vec![]);
    assert_eq!(sim.engine.agent_status(AgentId(1)), AgentStatus::WrapUp);
    assert_eq!(
        sim.engine.timeout_reason(),
        Some(TimeoutReason::WrapUpEnd(AgentId(1)))
    );
    assert_eq!(sim.advance(29 * SEC), vec![]);
    let d = sim.advance(SEC);
    assert_eq!(
        d,
        vec![Decision::WrapUpEnded { agent: AgentId(1) }, offer(2, 1)]
    );
}

#[test]
fn rejected_task_goes_to_another_agent_not_back() {
    let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
    sim.login(1, &[]);
    sim.queue(voice(1, 1));
    sim.engine
        .handle_offer_rejected(sim.now, TaskId(1), AgentId(1))
        .expect("offered");
    assert_eq!(sim.drain(), vec![]);
    assert_eq!(sim.engine.agent_status(AgentId(1)), AgentStatus::Available);
    assert_eq!(sim.login(2, &[]), vec![offer(1, 2)]);
}

#[test]
fn abandon_records_wait_time() {
    let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
    sim.queue(voice(1, 1));
    sim.advance(42 * SEC);
    let waited = sim
        .engine
        .handle_task_cancelled(sim.now, TaskId(1))
        .expect("waiting");
    assert_eq!(waited, 42 * SEC);
    let stats = sim.engine.queue_stats(QueueId(1)).copied().expect("queue");
    assert_eq!(
        (
            stats.abandoned,
            stats.abandoned_wait,
            stats.abandoned_after_threshold
        ),
        (1, 42 * SEC, 1)
    );
    assert_eq!(
        sim.drain(),
        vec![Decision::Abandoned {
            task: TaskId(1),
            queue: QueueId(1),
            waited
        }]
    );
    assert_eq!(sim.engine.task_count(), 0);
    assert_eq!(sim.engine.poll_timeout(), None);
}

#[test]
fn abandon_while_ringing_frees_the_agent() {
    let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
    sim.login(1, &[]);
    sim.queue(voice(1, 1));
    sim.queue(voice(2, 1));
    sim.engine
        .handle_task_cancelled(sim.now, TaskId(1))
        .expect("offered");
    let d = sim.drain();
    assert_eq!(d[1], offer(2, 1));
}

#[test]
fn sla_breach_is_emitted_and_boost_reorders() {
    let mut q = QueueConfig::new(QueueId(1));
    q.sla_boost = Some(SlaBoost {
        before: 60 * SEC,
        priority: 10,
    });
    let mut sim = Sim::new(vec![q]);
    sim.queue(voice(1, 1));
    let mut email = Task::new(TaskId(2), Channel::Voice, QueueId(1));
    email.sla_deadline = Some(sim.now + 100 * SEC);
    sim.queue(email);
    assert_eq!(
        sim.engine.waiting_tasks(QueueId(1)),
        vec![TaskId(1), TaskId(2)]
    );
    sim.advance(40 * SEC);
    assert_eq!(
        sim.engine.waiting_tasks(QueueId(1)),
        vec![TaskId(2), TaskId(1)]
    );
    assert_eq!(
        sim.advance(60 * SEC),
        vec![Decision::SlaBreached { task: TaskId(2) }]
    );
    assert_eq!(
        sim.engine.queue_stats(QueueId(1)).map(|s| s.sla_breaches),
        Some(1)
    );
}

#[test]
fn sla_deadline_uses_queue_calendar() {
    use std::time::UNIX_EPOCH;
    let mut q = QueueConfig::new(QueueId(1));
    q.calendar = crate::routing::Calendar::closed(0)
        .with_weekday_hours((9, 0), (17, 0))
        .expect("hours");
    q.sla_target = Some(6 * 3600 * SEC);
    let sim = Sim::new(vec![q]);
    // 2026-11-20 16:00 UTC, a Friday.
    let friday = UNIX_EPOCH + Duration::from_secs(1_795_132_800 + 16 * 3600);
    let due = sim
        .engine
        .sla_deadline(QueueId(1), sim.now, friday)
        .expect("queue")
        .expect("target");
    assert_eq!(due - sim.now, 70 * 3600 * SEC);
}

#[test]
fn logout_withdraws_pending_offers() {
    let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
    sim.login(1, &[]);
    sim.queue(voice(1, 1));
    sim.engine
        .handle_agent_logged_out(sim.now, AgentId(1))
        .expect("known");
    assert_eq!(
        sim.drain(),
        vec![Decision::OfferWithdrawn {
            task: TaskId(1),
            agent: AgentId(1)
        }]
    );
    assert_eq!(sim.engine.agent_status(AgentId(1)), AgentStatus::Offline);
    assert_eq!(sim.login(2, &[]), vec![offer(1, 2)]);
}

#[test]
fn config_reload_rerouts_waiting_tasks() {
    let mut sim = Sim::new(vec![skilled_queue(1, 1, 5)]);
    sim.login(1, &[(1, 2)]);
    sim.queue(voice(1, 1));
    sim.engine
        .handle_config_reloaded(sim.now, vec![skilled_queue(1, 1, 2)])
        .expect("valid");
    assert_eq!(sim.drain(), vec![offer(1, 1)]);
    let err = sim
        .engine
        .handle_config_reloaded(sim.now, vec![QueueConfig::new(QueueId(2))]);
    assert_eq!(err, Err(RoutingError::QueueInUse(QueueId(1))));
}

#[test]
fn config_reload_applies_new_overflow_to_waiting_tasks() {
    let mut sim = Sim::new(vec![skilled_queue(1, 1, 1), QueueConfig::new(QueueId(2))]);
    sim.login(1, &[(2, 1)]);
    sim.queue(voice(1, 1));
    sim.advance(90 * SEC);
    let mut q1 = skilled_queue(1, 1, 1);
    q1.overflow = Some(Overflow {
        after: 60 * SEC,
        to: QueueId(2),
    });
    let queues = vec![q1, QueueConfig::new(QueueId(2))];
    sim.engine
        .handle_config_reloaded(sim.now, queues)
        .expect("valid");
    let overflowed = Decision::Overflowed {
        task: TaskId(1),
        from: QueueId(1),
        to: QueueId(2),
    };
    assert_eq!(sim.drain(), vec![overflowed, offer(1, 1)]);
}

#[test]
fn misuse_is_reported_not_panicked() {
    let mut sim = Sim::new(vec![QueueConfig::new(QueueId(1))]);
    let now = sim.now;
    assert_eq!(
        sim.engine.handle_task_queued(now, voice(1, 9)),
        Err(RoutingError::UnknownQueue(QueueId(9)))
    );
    sim.queue(voice(1, 1));
    assert_eq!(
        sim.engine.handle_task_queued(now, voice(1, 1)),
        Err(RoutingError::DuplicateTask(TaskId(1)))
    );
    let not_offered = RoutingError::NotOffered {
        task: TaskId(1),
        agent: AgentId(1),
    };
    assert_eq!(
        sim.engine.handle_offer_accepted(now, TaskId(1), AgentId(1)),
        Err(not_offered)
    );
    assert_eq!(
        sim.engine.handle_task_completed(now, TaskId(1)),
        Err(RoutingError::NotAssigned(TaskId(1)))
    );
    assert_eq!(
        sim.engine.handle_agent_logged_out(now, AgentId(4)),
        Err(RoutingError::UnknownAgent(AgentId(4)))
    );
    let mut bad = QueueConfig::new(QueueId(1));
    bad.overflow = Some(Overflow {
        after: SEC,
        to: QueueId(5),
    });
    assert!(Engine::new(now, vec![bad]).is_err());
}
