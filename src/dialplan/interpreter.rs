//! The per-call flow interpreter ([`FlowRun`]): a sans-IO state machine.
//!
//! Owns: where a call is in its flows, its variables, and what it waits for. Driven by the
//! call's task in `calls`: feed [`FlowRun::handle_event`] with `now` and each [`Event`],
//! then drain [`FlowRun::poll_action`] until `None` and re-arm one timer at
//! [`FlowRun::poll_timeout`] (send [`Event::Timeout`] when it passes). Must not touch:
//! clocks (time comes in as `now`; the wall-clock for `hours` is the variable `time.unix`),
//! I/O, media or routing. The run holds the `Arc<Dialplan>` it started with, so a reload
//! never changes a call in progress.
//!
//! Variables (a JSON object, visible to every later step and attached to queued tasks):
//! `caller.number`, `caller.name`, `called.number`, `channel`, `trunk`, `language`,
//! `digits` (last collected), `time.unix` (wall clock, Unix seconds), `lookup_error`,
//! plus whatever `set`, `collect` and `lookup` steps store.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::dialplan::action::{Action, Event};
use crate::dialplan::model::{Dialplan, Flow, Step, StepKind};

/// Non-waiting steps run in a row before the run gives up (validation rejects such loops).
const MAX_STEPS_IN_A_ROW: usize = 1000;
const MAX_TYPE_AHEAD: usize = 32;

/// One call's run through the dialplan.
#[derive(Debug)]
pub struct FlowRun {
    dialplan: Arc<Dialplan>,
    /// Call stack: `(flow name, step index)`; the top is the current step.
    stack: Vec<(String, usize)>,
    pub(super) vars: Map<String, Value>,
    wait: Wait,
    actions: VecDeque<Action>,
    /// Digits typed during a barge-in playback, consumed by the next menu or collect.
    type_ahead: VecDeque<char>,
    /// Per-step scratch: attempts, collected digits, survey position and answers.
    attempt: u32,
    collected: String,
    question: usize,
    answers: Vec<(String, Option<char>)>,
    answered: bool,
}

/// What the run waits for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wait {
    /// Nothing: the current step must be executed.
    Run,
    Answered,
    /// A playback; `Input` steps wait for a key afterwards.
    Playing {
        barge_in: bool,
        input: bool,
    },
    /// A key for the current input step, until the deadline.
    Key(Instant),
    Lookup(Instant),
    Recording,
    /// The ACD storing a callback task.
    Callback,
    Connect,
    Done,
}

impl FlowRun {
    /// Starts a run for a call to `number` (arriving on `trunk`, if any) with initial
    /// variables (`caller`, `channel`, `time`, …). Without a route the call is hung up.
    pub fn start(
        dialplan: Arc<Dialplan>,
        now: Instant,
        number: &str,
        trunk: Option<&str>,
        vars: Map<String, Value>,
    ) -> FlowRun {
        let mut run = FlowRun {
            stack: Vec::new(),
            vars,
            wait: Wait::Run,
            actions: VecDeque::new(),
            type_ahead: VecDeque::new(),
            attempt: 0,
            collected: String::new(),
            question: 0,
            answers: Vec::new(),
            answered: false,
            dialplan,
        };
        run.vars
            .entry("called")
            .or_insert_with(|| serde_json::json!({ "number": number }));
        if let Some(t) = trunk {
            run.vars.insert("trunk".into(), Value::String(t.to_owned()));
        }
        let lang = run.dialplan.default_language().to_owned();
        run.vars.entry("language").or_insert(Value::String(lang));
        match run.dialplan.route(number, trunk).map(str::to_owned) {
            Some(flow) => {
                run.enter_flow(flow);
                run.run(now);
            }
            None => {
                tracing::warn!("no dialplan route for the dialled number");
                run.finish(Some(Action::HangUp));
            }
        }
        run
    }

    /// Feeds one event. Drain [`FlowRun::poll_action`] afterwards.
    pub fn handle_event(&mut self, now: Instant, event: Event) {
        if self.wait == Wait::Done {
            return;
        }
        match (event, self.wait) {
            (Event::HangUp, _) => {
                self.store_partial_survey();
                self.finish(None)
            }
            (Event::Answered, Wait::Answered) => {
                self.answered = true;
                self.advance();
            }
            (Event::Answered, _) => self.answered = true,
            (Event::PlaybackFinished, Wait::Playing { input, .. }) => {
                if input {
                    self.wait = Wait::Key(now + self.key_timeout());
                } else {
                    self.after_playback();
                }
            }
            (
                Event::Digit(d),
                Wait::Playing {
                    barge_in: true,
                    input,
                },
            ) => {
                self.actions.push_back(Action::StopPlayback);
                if input {
                    self.on_key(now, d);
                } else {
                    if self.type_ahead.len() < MAX_TYPE_AHEAD {
                        self.type_ahead.push_back(d);
                    }
                    self.after_playback();
                }
            }
            (Event::Digit(d), Wait::Key(_)) => self.on_key(now, d),
            (Event::Timeout, Wait::Key(deadline)) if now >= deadline => self.on_key_timeout(now),
            (Event::LookupResult(result), Wait::Lookup(_)) => self.on_lookup(result),
            (Event::Timeout, Wait::Lookup(deadline)) if now >= deadline => {
                self.on_lookup(Err("timeout".to_owned()))
            }
            (Event::RecordingFinished, Wait::Recording) => self.advance(),
            (Event::CallbackResult(result), Wait::Callback) => self.on_callback_result(result),
            (Event::TransferResult(Ok(())), Wait::Connect) => self.finish(None),
            (Event::TransferResult(Err(reason)), Wait::Connect) => {
                tracing::info!(%reason, "transfer or dial failed");
                let target = match self.step().map(|s| &s.kind) {
                    Some(
                        StepKind::Transfer { on_failure, .. } | StepKind::Dial { on_failure, .. },
                    ) => on_failure.clone(),
                    _ => None,
                };
                self.jump_or_advance(target);
            }
            (event, wait) => tracing::trace!(?event, ?wait, "event ignored in this state"),
        }
        self.run(now);
    }

    /// The next thing the call task must do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to send [`Event::Timeout`], if the run waits for one.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.wait {
            Wait::Key(t) | Wait::Lookup(t) => Some(t),
            _ => None,
        }
    }

    /// The call's variables.
    pub fn vars(&self) -> &Map<String, Value> {
        &self.vars
    }

    /// The call's current language.
    pub fn language(&self) -> &str {
        self.vars
            .get("language")
            .and_then(Value::as_str)
            .unwrap_or_else(|| self.dialplan.default_language())
    }

    /// Whether the flow has ended (queued, transferred, hung up).
    pub fn is_finished(&self) -> bool {
        self.wait == Wait::Done
    }

    /// The dialplan version this call runs on.
    pub fn dialplan(&self) -> &Arc<Dialplan> {
        &self.dialplan
    }

    /// Where the run is, for logs: `flow/step`.
    pub fn position(&self) -> Option<String> {
        let (flow, i) = self.stack.last()?;
        let step = self.flow(flow)?.steps.get(*i)?;
        Some(format!("{flow}/{}", step.label(*i)))
    }
}

// Private machinery; step behaviour lives in `interpreter_steps.rs`.
impl FlowRun {
    fn run(&mut self, now: Instant) {
        let mut budget = MAX_STEPS_IN_A_ROW;
        while self.wait == Wait::Run {
            if budget == 0 {
                tracing::error!(position = ?self.position(), "dialplan loop without a wait");
                return self.finish(Some(Action::HangUp));
            }
            budget -= 1;
            self.execute(now);
        }
    }

    pub(super) fn flow(&self, name: &str) -> Option<&Flow> {
        self.dialplan.flows.get(name)
    }

    pub(super) fn step(&self) -> Option<&Step> {
        self.step_in(&self.dialplan)
    }

    /// The current step, looked up in a dialplan the caller holds (so `self` stays free).
    pub(super) fn step_in<'d>(&self, dp: &'d Dialplan) -> Option<&'d Step> {
        let (flow, i) = self.stack.last()?;
        dp.flows.get(flow)?.steps.get(*i)
    }

    pub(super) fn pop_frame(&mut self) {
        self.stack.pop();
    }

    pub(super) fn enter_flow(&mut self, name: String) {
        let lang = self.flow(&name).and_then(|f| f.language.clone());
        if let Some(lang) = lang {
            self.vars.insert("language".into(), Value::String(lang));
        }
        self.stack.push((name, 0));
        self.reset_scratch();
    }

    /// Ends the flow, optionally with a last action.
    pub(super) fn finish(&mut self, action: Option<Action>) {
        self.actions.extend(action);
        self.wait = Wait::Done;
    }

    fn reset_scratch(&mut self) {
        self.wait = Wait::Run;
        self.attempt = 0;
        self.collected.clear();
        self.question = 0;
        self.answers.clear();
    }

    /// Goes to the step after the current one (its `next`, the next in the list, or the
    /// end of the flow, which returns to the caller flow or hangs up).
    pub(super) fn advance(&mut self) {
        let next = self.step().and_then(|s| s.next.clone());
        if let Some(target) = next {
            return self.jump(&target);
        }
        let Some((flow, i)) = self.stack.last().cloned() else {
            return self.finish(Some(Action::HangUp));
        };
        let len = self.flow(&flow).map_or(0, |f| f.steps.len());
        if i + 1 < len {
            self.set_index(i + 1);
        } else {
            self.return_from_flow();
        }
    }

    pub(super) fn return_from_flow(&mut self) {
        self.stack.pop();
        if self.stack.is_empty() {
            return self.finish(Some(Action::HangUp));
        }
        // The caller frame still points at its `call` step: continue after it.
        self.advance();
    }

    pub(super) fn jump(&mut self, target: &str) {
        let index = self
            .stack
            .last()
            .and_then(|(flow, _)| self.flow(flow))
            .and_then(|f| f.step_index(target));
        match index {
            Some(i) => self.set_index(i),
            None => {
                tracing::error!(
                    target,
                    "jump to an unknown step (validation should prevent this)"
                );
                self.finish(Some(Action::HangUp));
            }
        }
    }

    pub(super) fn jump_or_advance(&mut self, target: Option<String>) {
        match target {
            Some(t) => self.jump(&t),
            None => self.advance(),
        }
    }

    fn set_index(&mut self, i: usize) {
        if let Some(top) = self.stack.last_mut() {
            top.1 = i;
        }
        self.reset_scratch();
    }

    pub(super) fn play(&mut self, prompts: Vec<String>, barge_in: bool, input: bool) {
        let language = self.language().to_owned();
        self.actions.push_back(Action::Play {
            prompts,
            language,
            barge_in,
        });
        self.wait = Wait::Playing { barge_in, input };
    }

    pub(super) fn set_wait(&mut self, wait_for_key: Option<Instant>) {
        self.wait = match wait_for_key {
            Some(deadline) => Wait::Key(deadline),
            None => Wait::Run,
        };
    }

    pub(super) fn wait_answer(&mut self) {
        self.wait = Wait::Answered;
    }

    pub(super) fn wait_lookup(&mut self, deadline: Instant) {
        self.wait = Wait::Lookup(deadline);
    }

    pub(super) fn wait_recording(&mut self) {
        self.wait = Wait::Recording;
    }

    pub(super) fn wait_callback(&mut self) {
        self.wait = Wait::Callback;
    }

    pub(super) fn wait_connect(&mut self) {
        self.wait = Wait::Connect;
    }

    pub(super) fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    pub(super) fn snapshot(&self) -> Value {
        Value::Object(self.vars.clone())
    }

    pub(super) fn answered(&self) -> bool {
        self.answered
    }

    pub(super) fn scratch(&mut self) -> Scratch<'_> {
        Scratch {
            attempt: &mut self.attempt,
            collected: &mut self.collected,
            question: &mut self.question,
            answers: &mut self.answers,
            type_ahead: &mut self.type_ahead,
        }
    }
}

/// Mutable per-step scratch handed to the step code.
pub(super) struct Scratch<'a> {
    pub attempt: &'a mut u32,
    pub collected: &'a mut String,
    pub question: &'a mut usize,
    pub answers: &'a mut Vec<(String, Option<char>)>,
    pub type_ahead: &'a mut VecDeque<char>,
}

#[cfg(test)]
#[path = "interpreter_tests.rs"]
mod tests;
