//! The virtual-time loop: contacts, agents and the real routing `Engine`, with no clock.
//!
//! Owns: the event heap (arrivals, abandons, completions, shift starts and ends), the
//! simulated agents' answers, and the counters per interval.
//! Must not touch: sockets, tokio, the wall clock. Time is an offset from one `Instant`
//! taken at the start; the engine sees `t0 + offset` and never reads a clock itself.
//! Driven by: `simulate::run`.
//!
//! Each step takes the earliest of the heap's next event and the engine's `poll_timeout`,
//! feeds it with `now = t0 + offset`, and drains `poll_decision`: an `Offer` is accepted at
//! once (simulated agents answer immediately) and its completion is scheduled after the
//! contact's handling time. The loop ends when neither has anything left.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::figures::Counters;
use super::sample;
use super::scenario::Scenario;
use crate::routing::{
    AgentId, AgentProfile, AgentStatus, CapacityModel, Channel, CustomerId, Decision, Engine,
    QueueConfig, QueueId, RoutingError, SkillNames, SkillRequirement, Sticky, Task, TaskId,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrival(usize),
    Abandon(TaskId),
    Complete(TaskId),
    Login(usize),
    Logout(usize),
}

struct Contact {
    queue: usize,
    arrived: Duration,
    handle: Duration,
    customer: Option<CustomerId>,
    agent: Option<AgentId>,
}

#[derive(Clone, Copy, PartialEq)]
enum Occ {
    Off,
    Idle,
    Busy,
}

struct SimAgent {
    profile: AgentProfile,
    occ: Occ,
    since: Duration,
}

/// What a run leaves behind.
pub struct Tally {
    /// Per interval.
    pub intervals: Vec<Counters>,
    /// Contacts never answered nor abandoned.
    pub unserved: u64,
}

/// Runs `sc` with `seed` through a fresh engine.
pub fn simulate(sc: &Scenario, seed: u64) -> Result<Tally, RoutingError> {
    Sim::new(sc, seed)?.run()
}

struct Sim<'a> {
    sc: &'a Scenario,
    engine: Engine,
    t0: Instant,
    now: Duration,
    heap: BinaryHeap<Reverse<(Duration, u64, Ev)>>,
    seq: u64,
    next_task: u64,
    rngs: Vec<StdRng>,
    contacts: HashMap<TaskId, Contact>,
    agents: Vec<SimAgent>,
    last_agent: HashMap<CustomerId, AgentId>,
    counters: Vec<Counters>,
}

impl<'a> Sim<'a> {
    fn new(sc: &'a Scenario, seed: u64) -> Result<Sim<'a>, RoutingError> {
        let t0 = Instant::now();
        let names = SkillNames::new(
            sc.queues
                .iter()
                .flat_map(|q| &q.skills)
                .chain(sc.agents.iter().flat_map(|a| &a.skills))
                .map(|(n, _)| n.clone()),
        );
        let skill = |n: &str| names.id(n).expect("every skill name is registered");
        let queues = sc.queues.iter().enumerate().map(|(i, q)| {
            let mut c = QueueConfig::new(QueueId(i as u32 + 1));
            c.service_level_threshold = q.service_level;
            c.wrap_up = q.wrap_up;
            c.skills = (q.skills.iter())
                .map(|(n, l)| SkillRequirement {
                    skill: skill(n),
                    min_level: *l,
                })
                .collect();
            c.sticky = q.sticky.map(|(wait, mode)| Sticky { wait, mode });
            c
        });
        let engine = Engine::new(t0, queues.collect())?;
        let mut sim = Sim {
            sc,
            engine,
            t0,
            now: Duration::ZERO,
            heap: BinaryHeap::new(),
            seq: 0,
            next_task: 0,
            // One stream of draws per arrival stream, so that changing routing (e.g. the
            // sticky agent) leaves arrivals, handling times and patience unchanged.
            rngs: (0..sc.arrivals.len() as u64)
                .map(|i| StdRng::seed_from_u64(seed ^ (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
                .collect(),
            contacts: HashMap::new(),
            agents: Vec::new(),
            last_agent: HashMap::new(),
            counters: vec![Counters::default(); sc.intervals()],
        };
        for group in &sc.agents {
            for _ in 0..group.count {
                let id = AgentId(sim.agents.len() as u32 + 1);
                let skills = group.skills.iter().map(|(n, l)| (skill(n), *l)).collect();
                let mut profile = AgentProfile::new(id, skills);
                for &(c, p) in &group.proficiency {
                    profile.proficiency[c.index()] = p;
                }
                if let Some(cap) = &group.capacity {
                    let mut model = CapacityModel::contact_centre();
                    model.limit = [0; Channel::COUNT];
                    for &(c, n) in cap {
                        model.limit[c.index()] = n;
                    }
                    profile.capacity = model;
                }
                let index = sim.agents.len();
                let (from, to) = group
                    .shift
                    .map_or((Duration::ZERO, None), |(f, t)| (f, Some(t)));
                sim.push(from, Ev::Login(index));
                if let Some(to) = to {
                    sim.push(to, Ev::Logout(index));
                }
                sim.agents.push(SimAgent {
                    profile,
                    occ: Occ::Off,
                    since: Duration::ZERO,
                });
            }
        }
        for s in 0..sc.arrivals.len() {
            sim.schedule_arrival(s, Duration::ZERO);
        }
        Ok(sim)
    }

    fn push(&mut self, at: Duration, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, ev)));
    }

    fn schedule_arrival(&mut self, stream: usize, after: Duration) {
        let spec = &self.sc.arrivals[stream];
        let next = sample::next_arrival(
            spec,
            after,
            self.sc.interval,
            self.sc.length,
            &mut self.rngs[stream],
        );
        if let Some(at) = next {
            self.push(at, Ev::Arrival(stream));
        }
    }

    fn interval(&self, t: Duration) -> usize {
        let i = (t.as_millis() / self.sc.interval.as_millis()) as usize;
        i.min(self.counters.len() - 1)
    }

    fn run(mut self) -> Result<Tally, RoutingError> {
        loop {
            let timer = self.engine.poll_timeout().map(|t| t - self.t0);
            let next = self.heap.peek().map(|Reverse((at, _, _))| *at);
            match (timer, next) {
                (None, None) => break,
                (Some(t), n) if n.is_none_or(|n| t <= n) => {
                    self.now = self.now.max(t);
                    self.engine.handle_timeout(self.t0 + self.now);
                }
                _ => {
                    let Some(Reverse((at, _, ev))) = self.heap.pop() else {
                        break;
                    };
                    self.now = self.now.max(at);
                    self.handle(ev)?;
                }
            }
            self.drain()?;
        }
        let end = self.now.max(self.sc.length);
        for a in 0..self.agents.len() {
            self.account(a, end);
        }
        Ok(Tally {
            intervals: self.counters,
            unserved: self.contacts.len() as u64,
        })
    }

    fn handle(&mut self, ev: Ev) -> Result<(), RoutingError> {
        let now = self.t0 + self.now;
        match ev {
            Ev::Arrival(s) => {
                self.arrive(s)?;
                self.schedule_arrival(s, self.now);
            }
            Ev::Abandon(task) => {
                if self.contacts.get(&task).is_some_and(|c| c.agent.is_none()) {
                    let waited = self.engine.handle_task_cancelled(now, task)?;
                    let c = self.contacts.remove(&task).expect("checked above");
                    let threshold = self.sc.queues[c.queue].service_level;
                    let i = self.interval(c.arrived);
                    self.counters[i].abandoned += 1;
                    self.counters[i].abandoned_after += u64::from(waited > threshold);
                }
            }
            Ev::Complete(task) => {
                let c = self
                    .contacts
                    .remove(&task)
                    .expect("completed contacts are live");
                self.engine.handle_task_completed(now, task)?;
                self.touch(c.agent.expect("completed contacts were answered"));
            }
            Ev::Login(a) => {
                let profile = self.agents[a].profile.clone();
                self.engine.handle_agent_logged_in(now, profile);
                self.touch(self.agents[a].profile.id);
            }
            Ev::Logout(a) => {
                let id = self.agents[a].profile.id;
                self.engine.handle_agent_logged_out(now, id)?;
                self.touch(id);
            }
        }
        Ok(())
    }

    fn arrive(&mut self, s: usize) -> Result<(), RoutingError> {
        let spec = &self.sc.arrivals[s];
        let rng = &mut self.rngs[s];
        let handle = sample::duration(&spec.handle, rng);
        let patience = spec.patience.as_ref().map(|p| sample::duration(p, rng));
        let customer = spec.customers.map(|n| {
            let k = rand::Rng::gen_range(rng, 0..n);
            CustomerId(((s as u64) << 40) | k)
        });
        self.next_task += 1;
        let id = TaskId(self.next_task);
        let mut task = Task::new(id, spec.channel, QueueId(spec.queue as u32 + 1));
        task.customer = customer;
        let i = self.interval(self.now);
        self.counters[i].offered += 1;
        self.contacts.insert(
            id,
            Contact {
                queue: spec.queue,
                arrived: self.now,
                handle,
                customer,
                agent: None,
            },
        );
        if let Some(p) = patience {
            self.push(self.now + p, Ev::Abandon(id));
        }
        self.engine.handle_task_queued(self.t0 + self.now, task)
    }

    fn drain(&mut self) -> Result<(), RoutingError> {
        while let Some(d) = self.engine.poll_decision() {
            match d {
                Decision::Offer { task, agent } => self.answer(task, agent)?,
                Decision::WrapUpEnded { agent } | Decision::AgentNotReady { agent, .. } => {
                    self.touch(agent)
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn answer(&mut self, task: TaskId, agent: AgentId) -> Result<(), RoutingError> {
        self.engine
            .handle_offer_accepted(self.t0 + self.now, task, agent)?;
        let c = self
            .contacts
            .get_mut(&task)
            .expect("offered contacts are live");
        c.agent = Some(agent);
        let (arrived, handle, customer) = (c.arrived, c.handle, c.customer);
        let wait = self.now - arrived;
        let threshold = self.sc.queues[c.queue].service_level;
        let i = self.interval(arrived);
        let counters = &mut self.counters[i];
        counters.answered += 1;
        counters.answered_within += u64::from(wait <= threshold);
        counters.wait_ms += wait.as_millis() as u64;
        if let Some(customer) = customer
            && let Some(previous) = self.last_agent.insert(customer, agent)
        {
            counters.returning += 1;
            counters.hits += u64::from(previous == agent);
        }
        self.push(self.now + handle, Ev::Complete(task));
        self.touch(agent);
        Ok(())
    }

    /// Accounts the agent's time so far and re-reads their status from the engine.
    fn touch(&mut self, agent: AgentId) {
        let a = agent.0 as usize - 1;
        self.account(a, self.now);
        self.agents[a].occ = match self.engine.agent_status(agent) {
            AgentStatus::Offline | AgentStatus::Break(_) => Occ::Off,
            AgentStatus::Available => Occ::Idle,
            AgentStatus::Busy | AgentStatus::WrapUp => Occ::Busy,
        };
    }

    /// Adds the agent's time from `since` to `until` (clipped to the day) to the counters.
    fn account(&mut self, a: usize, until: Duration) {
        let (occ, mut from) = (self.agents[a].occ, self.agents[a].since);
        self.agents[a].since = until;
        if occ == Occ::Off {
            return;
        }
        let until = until.min(self.sc.length);
        while from < until {
            let i = self.interval(from);
            let end = (self.sc.interval * (i as u32 + 1)).min(until);
            let ms = (end - from).as_millis() as u64;
            self.counters[i].staffed_ms += ms;
            if occ == Occ::Busy {
                self.counters[i].busy_ms += ms;
            }
            from = end;
        }
    }
}
