//! The actor: start-up (reload open tasks), the run loop, agent commands and queries. Task
//! commands live in `commands.rs`, decision delivery in `decisions.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{broadcast, mpsc};

use super::agents::Reported;
use super::announce::Announcer;
use super::backend::RoutingStore;
use super::journal::{Journal, RowWrite};
use super::log::{Entry, LogSink};
use super::persist::{Shared, TaskMeta, to_instant, unix_ms};
use super::{AcdCommand, AcdError, AcdEvent, AcdHandle, AcdHooks, AcdOptions, AcdTask, OfferSink};
use super::{QueueStatus, TaskNotice, TaskView, WallClock};
use crate::routing::agent::StateCause;
use crate::routing::callback::CallbackScheduler;
use crate::routing::decision::TaskStatus;
use crate::routing::engine::Engine;
use crate::routing::ids::{AgentId, QueueId, TaskId};
use crate::routing::setup::RoutingSetup;
use crate::routing::task::Channel;

pub(super) struct Actor {
    pub engine: Engine,
    pub shared: Arc<Shared>,
    pub tasks: HashMap<TaskId, TaskMeta>,
    pub callbacks: CallbackScheduler,
    pub announcer: Announcer,
    pub channel_sinks: [Option<OfferSink>; Channel::COUNT],
    pub events: broadcast::Sender<AcdEvent>,
    pub log: LogSink,
    /// Where changes become events, in order (with stored tasks' rows).
    pub journal: Journal,
    /// Agents in wrap-up: the task that started it and when.
    pub wrapping: HashMap<AgentId, (TaskId, QueueId, Channel, Instant)>,
    /// A task whose `Abandoned` decision is a keep-place, not an abandon.
    pub quiet_abandon: Option<TaskId>,
    /// What was last reported of each agent (see `agents`).
    pub reported: HashMap<AgentId, Reported>,
    /// The causes of the agent changes the current input asked for.
    pub causes: HashMap<AgentId, StateCause>,
}

/// Starts the routing shell on `store` with no hooks (see `start_with`).
pub async fn start(
    setup: RoutingSetup,
    store: Arc<dyn RoutingStore>,
    clock: Arc<dyn WallClock>,
    options: AcdOptions,
) -> Result<(AcdHandle, AcdTask), AcdError> {
    start_with(setup, store, clock, options, AcdHooks::default()).await
}

/// Starts the routing shell on `store`: reloads open tasks, spawns the actor, the journal
/// writer and the queue-log writer. The returned task ends when every `AcdHandle` is dropped.
pub async fn start_with(
    setup: RoutingSetup,
    store: Arc<dyn RoutingStore>,
    clock: Arc<dyn WallClock>,
    options: AcdOptions,
    hooks: AcdHooks,
) -> Result<(AcdHandle, AcdTask), AcdError> {
    let rows = store.open_tasks().await?;
    let agent_states = store.agent_states().await?;
    let max_stored = store.max_task_id().await?;
    let (journal, journal_writer) = Journal::spawn(store.clone(), hooks.events.clone());
    let shared = Arc::new(Shared::new(setup, store.clone(), clock, hooks, max_stored));
    let now = tokio::time::Instant::now().into_std();
    let wall_ms = unix_ms(shared.clock.now());
    let restored: Vec<(TaskMeta, Option<i64>)> = rows
        .iter()
        .filter_map(|row| {
            let next = (row.state == "retry")
                .then_some(row.next_attempt_at_ms)
                .flatten();
            shared.meta_of_row(row).map(|m| (m, next))
        })
        .collect();
    let epoch = restored
        .iter()
        .map(|(m, _)| to_instant(now, wall_ms, m.arrived_ms))
        .min()
        .map_or(now, |e| e.min(now));
    let configs = shared
        .setup
        .queues
        .iter()
        .map(|q| q.config.clone())
        .collect();
    let engine = Engine::new(epoch, configs)?;
    let (log, writer) = LogSink::spawn(store, options.log_buffer);
    let (events, _) = broadcast::channel(options.events.max(1));
    let mut actor = Actor {
        engine,
        shared: shared.clone(),
        tasks: HashMap::new(),
        callbacks: CallbackScheduler::new(),
        announcer: Announcer::default(),
        channel_sinks: Default::default(),
        events: events.clone(),
        log,
        journal,
        wrapping: HashMap::new(),
        quiet_abandon: None,
        reported: HashMap::new(),
        causes: HashMap::new(),
    };
    actor.restore_agents(now, agent_states);
    for (meta, next_attempt) in restored {
        actor.restore(now, wall_ms, meta, next_attempt);
    }
    actor.drain(now, wall_ms);
    let (tx, rx) = mpsc::channel(options.inbox.max(1));
    let task = tokio::spawn(async move {
        actor.run(rx).await;
        let _ = writer.await;
        let _ = journal_writer.await;
    });
    Ok((AcdHandle { tx, events, shared }, task))
}

impl Actor {
    fn restore(
        &mut self,
        now: Instant,
        wall_ms: i64,
        mut meta: TaskMeta,
        next_attempt: Option<i64>,
    ) {
        let id = meta.id;
        meta.arrived = Some(to_instant(now, wall_ms, meta.arrived_ms));
        match next_attempt {
            Some(at) if at > wall_ms => {
                self.callbacks.schedule(id, to_instant(now, wall_ms, at));
                self.tasks.insert(id, meta);
            }
            _ => {
                self.tasks.insert(id, meta);
                if let Err(err) = self.queue_in_engine(now, wall_ms, id, "requeue") {
                    tracing::warn!(%err, task = %id, "stored task could not be queued");
                    self.tasks.remove(&id);
                }
            }
        }
    }

    /// Queues a known task in the engine at its original arrival, and logs `event` (`enqueue`
    /// for a new contact, `requeue` for a restored or retried one).
    pub fn queue_in_engine(
        &mut self,
        now: Instant,
        wall_ms: i64,
        id: TaskId,
        event: &'static str,
    ) -> Result<(), AcdError> {
        let meta = self
            .tasks
            .get(&id)
            .ok_or(AcdError::Invalid(format!("no {id}")))?;
        let arrived = meta.arrived.unwrap_or(now);
        let task = self.shared.engine_task(meta, now, wall_ms);
        let (queue, channel) = (meta.queue, meta.channel);
        self.engine.handle_task_restored(now, task, arrived)?;
        let name = self.shared.queue_name(queue).to_string();
        self.log.push(
            wall_ms,
            Entry::new(&name, channel, id, event).wait(now.saturating_duration_since(arrived)),
        );
        let _ = self.events.send(AcdEvent::Queued {
            task: id,
            queue,
            channel,
        });
        Ok(())
    }

    async fn run(mut self, mut rx: mpsc::Receiver<AcdCommand>) {
        loop {
            let wake = [
                self.engine.poll_timeout(),
                self.callbacks.poll_timeout(),
                self.announcer.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let sleep = async move {
                match wake {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.command(cmd).await,
                    None => break,
                },
                () = sleep => self.tick().await,
            }
        }
        let (done, _rx) = tokio::sync::oneshot::channel();
        self.log.flush(done).await;
    }

    /// Tells a waiting task's owner its position; stops once the task is no longer waiting.
    fn announce(&mut self, now: Instant, id: TaskId) {
        let status = self.engine.task_status(id);
        if let Some(TaskStatus::Offered { .. }) = status {
            return; // ringing: skip this round, it may come back
        }
        let (Some(meta), Some(TaskStatus::Waiting { .. }), Some(ahead)) =
            (self.tasks.get(&id), status, self.engine.queue_position(id))
        else {
            self.announcer.stop(id);
            return;
        };
        let waited = now.saturating_duration_since(meta.arrived.unwrap_or(now));
        let estimated_wait =
            self.announcer
                .estimated_wait(meta.queue, ahead, self.engine.staffed(meta.queue));
        if let Some(sink) = &meta.sink
            && sink
                .try_send(TaskNotice::Position {
                    task: id,
                    ahead,
                    waited,
                    estimated_wait,
                })
                .is_err()
        {
            self.announcer.stop(id);
        }
    }

    /// Reads both clocks, once per input.
    pub fn clocks(&self) -> (Instant, i64) {
        let now = tokio::time::Instant::now().into_std();
        (now, unix_ms(self.shared.clock.now()))
    }

    async fn tick(&mut self) {
        let (now, wall_ms) = self.clocks();
        self.engine.handle_timeout(now);
        self.drain(now, wall_ms);
        while let Some(id) = self.announcer.poll_due(now) {
            self.announce(now, id);
        }
        while let Some(id) = self.callbacks.poll_due(now) {
            if let Some(meta) = self.tasks.get(&id) {
                let row = self.shared.row(meta, "waiting", None);
                let change = self.queued_change(wall_ms, meta);
                let write = self.journal.write(row, RowWrite::Update, change);
                if let Err(err) = write.await {
                    tracing::warn!(%err, task = %id, "callback retry state not stored");
                }
            }
            if let Err(err) = self.queue_in_engine(now, wall_ms, id, "requeue") {
                tracing::warn!(%err, task = %id, "callback retry could not be queued");
            }
            self.drain(now, wall_ms);
        }
    }

    async fn command(&mut self, cmd: AcdCommand) {
        let (now, wall_ms) = self.clocks();
        match cmd {
            AcdCommand::Enqueue(meta, reply) => {
                let mut meta = *meta;
                let id = meta.id;
                meta.arrived = Some(now);
                let queue_every = self
                    .shared
                    .setup
                    .queue_by_id(meta.queue)
                    .and_then(|q| q.announce_every);
                let every = meta
                    .sink
                    .as_ref()
                    .and_then(|_| meta.announce_every.or(queue_every));
                // A stored task's `task.queued` was written with its row (`Shared::admit`).
                let change = (!meta.durable())
                    .then(|| self.queued_change(wall_ms, &meta))
                    .flatten();
                self.tasks.insert(id, meta);
                let result = self
                    .queue_in_engine(now, wall_ms, id, "enqueue")
                    .map(|()| id);
                match (&result, every) {
                    (Err(_), _) => {
                        self.tasks.remove(&id);
                    }
                    (Ok(_), Some(every)) => self.announcer.start(now, id, every),
                    (Ok(_), None) => {}
                }
                if let (Ok(_), Some(change)) = (&result, change) {
                    self.journal.push(change);
                }
                let _ = reply.send(result);
            }
            AcdCommand::Agent(agent, action, cause, reply) => {
                let _ = reply.send(self.agent(now, wall_ms, agent, action, cause));
            }
            AcdCommand::QueueStatus(name, reply) => {
                let status = self.shared.setup.queue(&name).map(|q| QueueStatus {
                    name: name.clone(),
                    waiting: self.engine.waiting_tasks(q.config.id),
                    stats: self
                        .engine
                        .queue_stats(q.config.id)
                        .copied()
                        .unwrap_or_default(),
                    open: q.is_open(self.shared.clock.now()),
                });
                let _ = reply.send(status);
            }
            AcdCommand::AgentStatus(agent, reply) => {
                let _ = reply.send(self.engine.agent_status(agent));
            }
            AcdCommand::AgentState(agent, reply) => {
                let _ = reply.send(self.agent_state(agent));
            }
            AcdCommand::TaskStatus(task, reply) => {
                let status = self
                    .engine
                    .task_status(task)
                    .map(|s| (s, self.engine.queue_position(task)));
                let _ = reply.send(status);
            }
            AcdCommand::Tasks(reply) => {
                let _ = reply.send(self.task_views());
            }
            AcdCommand::Task(task, reply) => {
                let _ = reply.send(self.tasks.get(&task).map(|m| self.task_view(m)));
            }
            AcdCommand::ChannelSink(channel, sink) => {
                self.channel_sinks[channel.index()] = Some(sink);
            }
            AcdCommand::FlushLog(done) => self.log.flush(done).await,
            AcdCommand::AgentOnCall(agent, on, wrap_up, reply) => {
                let result = match on {
                    true => self.engine.handle_agent_on_call(now, agent, true),
                    false => self.engine.handle_agent_call_ended(now, agent, wrap_up),
                };
                let _ = reply.send(result.map_err(AcdError::from));
            }
            other => self.task_command(now, wall_ms, other).await,
        }
        self.drain(now, wall_ms);
    }

    /// Every task the shell knows, oldest arrival first (ties by id), for the API.
    fn task_views(&self) -> Vec<TaskView> {
        let mut views: Vec<TaskView> = self.tasks.values().map(|m| self.task_view(m)).collect();
        views.sort_by_key(|v| (v.arrived_ms, v.id));
        views
    }

    /// What the API and the events see of one task now.
    pub fn task_view(&self, meta: &TaskMeta) -> TaskView {
        self.shared.view(meta, self.engine.task_status(meta.id))
    }
}
