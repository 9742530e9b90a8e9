//! Routing decision micro-benchmark at contact-centre scale: 10,000 agents, 100,000 waiting
//! tasks, 200 queues, 50 skills.
//!
//! Measured decision ("agent freed"): an agent completes its call and the engine picks the
//! best task for it among all queues (the offer), then the offer is accepted and a new task is
//! queued so the backlog stays at 100,000. A second case measures "task arrives" with 10,000
//! free agents. Before criterion runs, each case prints p50/p99/max over 20,000 single
//! decisions and the heap held by the engine (counted by a wrapping global allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use centrala::routing::{
    AgentId, AgentProfile, Channel, Decision, Engine, QueueConfig, QueueId, SkillId,
    SkillRequirement, Task, TaskId,
};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct Counting;

static HEAP: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HEAP.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const AGENTS: u32 = 10_000;
const WAITING: u64 = 100_000;
const QUEUES: u32 = 200;
const SKILLS: u32 = 50;

struct World {
    engine: Engine,
    rng: StdRng,
    now: Instant,
    next_task: u64,
    /// Accepted tasks, completed round-robin.
    assigned: Vec<TaskId>,
}

impl World {
    fn new(backlog: u64) -> World {
        let mut rng = StdRng::seed_from_u64(7);
        let now = Instant::now();
        let queues = (0..QUEUES)
            .map(|q| {
                let mut c = QueueConfig::new(QueueId(q));
                c.skills = vec![SkillRequirement {
                    skill: SkillId(q % SKILLS),
                    min_level: 1 + (q % 3) as u8,
                }];
                if q % 2 == 0 {
                    c.aging = Some(Duration::from_secs(30));
                }
                c.ring_no_answer = Duration::from_secs(3600);
                c
            })
            .collect();
        let mut engine = Engine::new(now, queues).expect("valid queues");
        for a in 0..AGENTS {
            let skills = (0..8)
                .map(|_| (SkillId(rng.gen_range(0..SKILLS)), rng.gen_range(1..=10)))
                .collect();
            let mut profile = AgentProfile::new(AgentId(a), skills);
            profile.proficiency[Channel::Voice.index()] = rng.gen_range(0..5);
            engine.handle_agent_logged_in(now, profile);
        }
        let mut world = World {
            engine,
            rng,
            now,
            next_task: 0,
            assigned: Vec::new(),
        };
        world.queue_tasks(u64::from(AGENTS) + backlog);
        world.accept_offers();
        world
    }

    fn queue_tasks(&mut self, n: u64) {
        for _ in 0..n {
            self.now += Duration::from_millis(1);
            let mut task = Task::new(
                TaskId(self.next_task),
                Channel::Voice,
                QueueId(self.rng.gen_range(0..QUEUES)),
            );
            task.priority = self.rng.gen_range(0..3);
            self.next_task += 1;
            self.engine
                .handle_task_queued(self.now, task)
                .expect("queued");
        }
    }

    fn accept_offers(&mut self) {
        while let Some(d) = self.engine.poll_decision() {
            if let Decision::Offer { task, agent } = d {
                self.engine
                    .handle_offer_accepted(self.now, task, agent)
                    .expect("offered");
                self.assigned.push(task);
            }
        }
    }

    /// One "agent freed" decision; returns the time of the completion call (the decision).
    fn agent_freed(&mut self, i: usize) -> Duration {
        let slot = i % self.assigned.len();
        let task = self.assigned[slot];
        self.now += Duration::from_millis(1);
        let start = Instant::now();
        self.engine
            .handle_task_completed(self.now, task)
            .expect("assigned");
        let offer = self.engine.poll_decision();
        let spent = start.elapsed();
        if let Some(Decision::Offer { task, agent }) = offer {
            self.engine
                .handle_offer_accepted(self.now, task, agent)
                .expect("offered");
            self.assigned[slot] = task;
        } else {
            self.assigned.swap_remove(slot);
        }
        self.queue_tasks(1);
        spent
    }

    /// One "task arrives" decision against free agents; the task is then cancelled.
    fn task_arrives(&mut self) -> Duration {
        self.now += Duration::from_millis(1);
        let id = TaskId(self.next_task);
        self.next_task += 1;
        let task = Task::new(id, Channel::Voice, QueueId(self.rng.gen_range(0..QUEUES)));
        let start = Instant::now();
        self.engine
            .handle_task_queued(self.now, task)
            .expect("queued");
        let offer = self.engine.poll_decision();
        let spent = start.elapsed();
        black_box(offer);
        self.engine
            .handle_task_cancelled(self.now, id)
            .expect("live");
        while self.engine.poll_decision().is_some() {}
        spent
    }
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "{name}: n={} p50={:?} p99={:?} max={:?}",
        samples.len(),
        at(0.50),
        at(0.99),
        samples[samples.len() - 1]
    );
}

fn routing(c: &mut Criterion) {
    let before = HEAP.load(Ordering::Relaxed);
    let mut busy = World::new(WAITING);
    let heap = HEAP.load(Ordering::Relaxed) - before;
    println!(
        "engine with {AGENTS} agents, {} live tasks ({WAITING} waiting), {QUEUES} queues: heap {:.1} MiB",
        busy.engine.task_count(),
        heap as f64 / (1024.0 * 1024.0)
    );
    let samples = (0..20_000).map(|i| busy.agent_freed(i)).collect();
    report("agent_freed (100k waiting)", samples);
    let mut i = 20_000;
    c.bench_function("agent_freed_100k_waiting", |b| {
        b.iter(|| {
            i += 1;
            busy.agent_freed(i)
        })
    });
    drop(busy);

    let mut idle = World::new(0);
    for task in std::mem::take(&mut idle.assigned) {
        idle.engine
            .handle_task_completed(idle.now, task)
            .expect("assigned");
    }
    while idle.engine.poll_decision().is_some() {}
    let samples = (0..20_000).map(|_| idle.task_arrives()).collect();
    report("task_arrives (10k free agents)", samples);
    c.bench_function("task_arrives_10k_free_agents", |b| {
        b.iter(|| idle.task_arrives())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(5));
    targets = routing
}
criterion_main!(benches);
