//! Calls waiting in a routing queue: the call becomes a voice task of the ACD, the caller
//! hears music on hold and announcements while it waits (`queue_hold`), each offer rings the
//! chosen agent's phones (after their screen pop, see `routing::Notices`), the first to answer is bridged; an unanswered offer goes back to the
//! ACD, which re-queues the call at the head and takes the agent out of rotation. A caller who
//! hangs up is an abandon; one who pressed the keep-place key leaves a callback behind; a
//! bridged call completes its task when it ends (the agent then wraps up).
//!
//! Owns: a call's `Queued` state and the translation between `TaskNotice`s and the call's legs.
//! Driven by: `Call::drive` (notices, the enqueue answer) and the dialplan's `queue` step.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::oneshot;

use super::call::{Call, Phase};
use super::cdr::{Outcome, Side, now_ms};
use super::queue_hold::Hold;
use super::target::Target;
use crate::cti::events::{CALL_ID, SIP_CALL_ID};
use crate::dialplan::model::{Announce, KeepPlace};
use crate::media::player::PromptCache;
use crate::routing::{AcdHandle, AgentId, Channel, NewTask, Notices, TaskId, TaskNotice};

/// Notices a waiting call can hold before the ACD's ring timers recover a lost one.
const NOTICES: usize = 16;

/// A call in a queue.
pub(super) struct Queued {
    pub acd: AcdHandle,
    /// The task, once the ACD acknowledged it.
    pub task: Option<TaskId>,
    /// The ACD's answer to the enqueue.
    enqueued: Option<oneshot::Receiver<Result<Admission, String>>>,
    /// Offers (each once the agent's screen pop is out) and other notices for this call's task.
    notices: Notices,
    /// The offer being rung now.
    offer: Option<(TaskId, AgentId)>,
    /// Whether an agent took the call.
    pub accepted: bool,
    /// The queue step's variables (the task's CTI attributes), kept for a transfer.
    pub vars: Value,
    /// Music, announcements and the keep-place key.
    pub hold: Hold,
    /// The ACD's answer to a keep-place request.
    pub kept: Option<oneshot::Receiver<Result<(), String>>>,
}

/// The ACD's answer to a queued call.
#[derive(Debug)]
pub(super) enum Admission {
    /// The call waits as this task.
    Queued(TaskId),
    /// The queue is closed: this callback was stored instead (`AcdHandle::missed_call`).
    Callback(TaskId),
}

/// What the queue state wants the call to handle next.
pub(super) enum QueueInput {
    Enqueued(Result<Admission, String>),
    Notice(TaskNotice),
    KeptPlace(Result<(), String>),
}

/// The next input of a queued call, or never when the call is not queued.
pub(super) async fn next_queue_input(queued: &mut Option<Queued>) -> Option<QueueInput> {
    let Some(q) = queued.as_mut() else {
        return std::future::pending().await;
    };
    if let Some(enqueued) = q.enqueued.as_mut() {
        let answer = enqueued
            .await
            .unwrap_or_else(|_| Err("routing engine stopped".into()));
        q.enqueued = None;
        return Some(QueueInput::Enqueued(answer));
    }
    let Some(kept) = q.kept.as_mut() else {
        return q.notices.recv().await.map(QueueInput::Notice);
    };
    // The notices close once the task became a callback; the answer still comes.
    let answer = tokio::select! {
        answer = kept => answer.unwrap_or_else(|_| Err("routing engine stopped".into())),
        Some(notice) = q.notices.recv() => return Some(QueueInput::Notice(notice)),
    };
    q.kept = None;
    Some(QueueInput::KeptPlace(answer))
}

impl Call {
    /// The dialplan's `queue` step (or a transfer to a queue, `announce` then being the
    /// defaults): hand the call to the ACD.
    pub fn enqueue(
        &mut self,
        acd: AcdHandle,
        queue: String,
        skills: Vec<String>,
        priority: i32,
        vars: Value,
        announce: Option<Announce>,
    ) {
        let (prompts, language) = match &self.ivr {
            Some(ivr) => (ivr.services.prompts.clone(), ivr.run.language().to_owned()),
            None => match &self.control {
                Some(control) => (control.services.prompts.clone(), "en".to_owned()),
                None => (Arc::new(PromptCache::default()), "en".to_owned()),
            },
        };
        let announce = announce.unwrap_or_else(default_announce);
        let keep_place = match announce.keep_place {
            KeepPlace::Queue => acd.setup().queue(&queue).and_then(|q| q.keep_place_key),
            KeepPlace::Key(key) => Some(key),
            KeepPlace::Off => None,
        };
        let hold = Hold::new(prompts, &language, announce, keep_place);
        let (sink, notices) = crate::routing::notice_channel(NOTICES);
        let (tx, rx) = oneshot::channel();
        let mut attributes = flatten(&vars);
        attributes.insert(CALL_ID.into(), self.cdr.id.clone());
        attributes.insert(SIP_CALL_ID.into(), self.cdr.call_id.clone());
        let task = NewTask {
            customer: Some(self.caller_name.clone()),
            priority: priority.max(0) as u32,
            skills: skills.into_iter().map(|s| (s, 1)).collect(),
            attributes,
            sink: Some(sink),
            announce_every: hold.period(),
            ..NewTask::new(Channel::Voice, &queue)
        };
        let (handle, customer) = (acd.clone(), self.caller_name.clone());
        let name = queue.clone();
        tokio::spawn(async move {
            let missed = if customer.is_empty() {
                Ok(None)
            } else {
                handle.missed_call(&name, &customer).await
            };
            let admission = match missed {
                Ok(Some(callback)) => Ok(Admission::Callback(callback)),
                _ => handle.enqueue(task).await.map(Admission::Queued),
            };
            let _ = tx.send(admission.map_err(|err| err.to_string()));
        });
        self.queued = Some(Queued {
            acd,
            task: None,
            enqueued: Some(rx),
            notices,
            offer: None,
            accepted: false,
            vars,
            hold,
            kept: None,
        });
        self.cdr.queue.entered(&queue, now_ms());
        self.hold_music();
        tracing::info!(%queue, "queued");
    }

    /// An input for the queued call.
    pub fn on_queue_input(&mut self, input: QueueInput) {
        match input {
            QueueInput::Enqueued(Ok(Admission::Queued(task))) => {
                if let Some(q) = self.queued.as_mut() {
                    q.task = Some(task);
                }
            }
            QueueInput::Enqueued(Ok(Admission::Callback(callback))) => {
                tracing::info!(%callback, "queue closed: a callback was stored instead");
                self.on_kept_place(Ok(()));
            }
            QueueInput::Enqueued(Err(err)) => {
                tracing::warn!(%err, "the queue refused the call");
                self.queued = None;
                self.cdr
                    .end(Outcome::Failed, "queue_unavailable", Side::System);
                self.hang_up_caller();
            }
            QueueInput::Notice(TaskNotice::Offer {
                task,
                agent,
                agent_number,
                ..
            }) => self.ring_agent(task, agent, &agent_number),
            QueueInput::Notice(TaskNotice::OfferEnded { .. }) => {
                if self.phase == Phase::Dialing {
                    tracing::info!("offer ended without an answer");
                    self.cancel_forks();
                    self.back_to_queue();
                }
            }
            QueueInput::Notice(TaskNotice::Overflowed { to, .. }) => {
                tracing::info!(queue = %to, "the call overflowed to another queue");
                self.cdr.queue.moved(&to);
            }
            QueueInput::Notice(TaskNotice::Position {
                ahead,
                estimated_wait,
                ..
            }) => self.announce_position(ahead, estimated_wait),
            QueueInput::Notice(notice) => tracing::debug!(?notice, "queue notice"),
            QueueInput::KeptPlace(answer) => self.on_kept_place(answer),
        }
    }

    /// The offered agent's phones did not answer (busy, unregistered, failed).
    pub fn queue_offer_failed(&mut self, why: &str) {
        tracing::info!(why, "offer not answered");
        if let Some((task, agent)) = self.queued.as_mut().and_then(|q| q.offer.take()) {
            let acd = self.queued.as_ref().map(|q| q.acd.clone());
            if let Some(acd) = acd {
                tokio::spawn(async move {
                    let _ = acd.offer_unanswered(task, agent).await;
                });
            }
        }
        self.back_to_queue();
    }

    /// The offered agent answered: the ACD hears the offer was accepted.
    pub fn queue_connected(&mut self) {
        let Some(q) = self.queued.as_mut() else {
            return;
        };
        let Some((task, agent)) = q.offer else { return };
        q.accepted = true;
        let acd = q.acd.clone();
        let number = acd.setup().agent_by_id(agent).map(|a| a.number.clone());
        if let Some(number) = &number {
            self.cdr.queue.answered_by(number, now_ms());
        }
        tokio::spawn(async move {
            let _ = acd.offer_accepted(task, agent).await;
        });
        tracing::info!(
            agent = number.as_deref().unwrap_or("?"),
            "agent answered the queued call"
        );
    }

    /// Tells the ACD how the call ended: completed after an agent, else abandoned (unless
    /// the caller kept their place: the task is a callback now).
    pub async fn leave_queue(&mut self) {
        let Some(mut q) = self.queued.take() else {
            return;
        };
        // A caller who pressed the key and hung up at once: the answer decides.
        if let Some(kept) = q.kept.take()
            && matches!(kept.await, Ok(Ok(())))
        {
            return;
        }
        let Some(task) = q.task.filter(|_| !q.hold.kept()) else {
            return;
        };
        let outcome = if q.accepted {
            q.acd.completed(task).await.map(|_| ())
        } else {
            q.acd.cancel(task).await.map(|_| ())
        };
        if let Err(err) = outcome {
            tracing::debug!(%err, "task already closed");
        }
    }

    /// Whether the call waits in (or was connected from) a queue.
    pub fn is_queued(&self) -> bool {
        self.queued.is_some()
    }

    fn ring_agent(&mut self, task: TaskId, agent: AgentId, number: &str) {
        let contacts = self.registrar.lookup(number);
        if let Some(q) = self.queued.as_mut() {
            q.offer = Some((task, agent));
        }
        if contacts.is_empty() {
            return self.queue_offer_failed("agent has no registered phone");
        }
        tracing::info!(agent = %number, "offering the call");
        if let Some(guard) = self.control.as_ref().and_then(|c| c.guard.as_ref()) {
            guard.set_agent(number);
        }
        self.phase = Phase::Dialing;
        let target = Target::Extension {
            number: number.to_owned(),
            contacts,
        };
        if !self.ring(&target) {
            self.queue_offer_failed("no common codec");
        }
    }

    fn back_to_queue(&mut self) {
        self.phase = Phase::Ivr;
        self.hold_music();
    }
}

/// The `queue` step's announcement defaults (also for transfers to a queue).
fn default_announce() -> Announce {
    Announce {
        position: true,
        wait_time: false,
        every: std::time::Duration::from_secs(60),
        music: None,
        keep_place: KeepPlace::Queue,
    }
}

/// The dialplan variables as task attributes: top-level strings and numbers as text, objects
/// flattened with dotted names (`customer.debt.balance`).
pub(super) fn flatten(vars: &Value) -> BTreeMap<String, String> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let name = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&name, value, out);
                }
            }
            Value::Null => {}
            Value::String(text) => {
                out.insert(prefix.to_owned(), text.clone());
            }
            other => {
                out.insert(prefix.to_owned(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", vars, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_flatten_to_dotted_attributes() {
        let vars = serde_json::json!({"caller": {"number": "+48221112233"}, "customer": {"debt": {"balance": -120.5}}, "vip": true, "x": null});
        let attrs = flatten(&vars);
        assert_eq!(attrs["caller.number"], "+48221112233");
        assert_eq!(attrs["customer.debt.balance"], "-120.5");
        assert_eq!(attrs["vip"], "true");
        assert!(!attrs.contains_key("x"));
    }
}
