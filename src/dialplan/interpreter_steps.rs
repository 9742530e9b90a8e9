//! What each step kind does when the [`FlowRun`] reaches it, and how keys, timeouts and
//! lookup answers drive the waiting steps (menu, collect, callback offer, survey).
//!
//! Owns: step behaviour only; the state, queues and navigation live in `interpreter.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::dialplan::action::Action;
use crate::dialplan::interpreter::FlowRun;
use crate::dialplan::model::{Collect, Menu, StepKind};
use crate::dialplan::say;

impl FlowRun {
    /// Executes the current step until it waits or moves on.
    pub(super) fn execute(&mut self, now: Instant) {
        let dp = Arc::clone(self.dialplan());
        let Some(step) = self.step_in(&dp) else {
            return self.finish(Some(Action::HangUp));
        };
        match &step.kind {
            StepKind::Answer if self.answered() => self.advance(),
            StepKind::Answer => {
                self.push(Action::Answer);
                self.wait_answer();
            }
            StepKind::Play { prompts, .. } if prompts.is_empty() => self.advance(),
            StepKind::Play { prompts, barge_in } => self.play(prompts.clone(), *barge_in, false),
            StepKind::Say {
                value,
                form,
                barge_in,
            } => {
                let prompts = match value.eval(self.vars()) {
                    Ok(v) => self.say(*form, &v),
                    Err(e) => {
                        tracing::warn!(error = %e, "say: cannot evaluate");
                        Vec::new()
                    }
                };
                if prompts.is_empty() {
                    self.advance();
                } else {
                    self.play(prompts, *barge_in, false);
                }
            }
            StepKind::Menu(menu) => match self.scratch().type_ahead.pop_front() {
                Some(d) => self.menu_key(now, menu, d),
                None => self.menu_prompt(now, menu, None),
            },
            StepKind::Collect(c) => {
                while let Some(d) = self.scratch().type_ahead.pop_front() {
                    if self.collect_digit(now, c, d) {
                        return;
                    }
                }
                if self.scratch().collected.is_empty() {
                    self.collect_prompt(now, c, false);
                } else {
                    self.set_wait(Some(now + c.inter_digit));
                }
            }
            StepKind::Set(pairs) => {
                for (name, expr) in pairs {
                    match expr.eval(self.vars()) {
                        Ok(v) => self.set_var(name, v),
                        Err(e) => tracing::warn!(error = %e, name, "set: cannot evaluate"),
                    }
                }
                self.advance();
            }
            StepKind::Language(lang) => {
                self.set_var("language", Value::String(lang.clone()));
                self.advance();
            }
            StepKind::Branch { cases, otherwise } => {
                let hit = cases.iter().find(|(cond, _)| {
                    cond.eval_bool(self.vars()).unwrap_or_else(|e| {
                        tracing::debug!(error = %e, "branch condition is false");
                        false
                    })
                });
                self.jump_or_advance(hit.map(|(_, t)| t.clone()).or_else(|| otherwise.clone()));
            }
            StepKind::Lookup(l) => {
                let mut params = Map::new();
                for (name, expr) in &l.params {
                    match expr.eval(self.vars()) {
                        Ok(v) => drop(params.insert(name.clone(), v)),
                        Err(e) => tracing::warn!(error = %e, name, "lookup param missing"),
                    }
                }
                self.push(Action::Lookup {
                    name: l.name.clone(),
                    params: Value::Object(params),
                    timeout: l.timeout,
                });
                self.wait_lookup(now + l.timeout);
            }
            StepKind::Hours {
                calendar,
                open,
                closed,
            } => {
                let unix = self
                    .vars()
                    .get("time")
                    .and_then(|t| t.get("unix"))
                    .and_then(Value::as_i64);
                let is_open = match (unix, dp.calendars.get(calendar)) {
                    (Some(t), Some(cal)) => cal.is_open(t),
                    _ => {
                        tracing::warn!("hours: no time.unix variable; treating as closed");
                        false
                    }
                };
                let target = if is_open {
                    open.clone()
                } else {
                    Some(closed.clone())
                };
                self.jump_or_advance(target);
            }
            StepKind::Queue(q) => {
                let action = Action::Queue {
                    queue: q.queue.clone(),
                    skills: q.skills.clone(),
                    priority: q.priority,
                    vars: self.snapshot(),
                    announce: q.announce.clone(),
                };
                self.finish(Some(action));
            }
            StepKind::Callback(c) if c.prompts.is_empty() => self.push_callback(),
            StepKind::Callback(c) => self.play(c.prompts.clone(), true, true),
            StepKind::Voicemail(v) if v.prompts.is_empty() => self.after_playback(),
            StepKind::Voicemail(v) => self.play(v.prompts.clone(), false, false),
            StepKind::Survey(s) => {
                let q = *self.scratch().question;
                match s.questions.get(q) {
                    Some(question) => self.play(question.prompts.clone(), true, true),
                    None => {
                        let action = Action::StoreSurvey {
                            survey: s.name.clone(),
                            answers: std::mem::take(self.scratch().answers),
                            vars: self.snapshot(),
                        };
                        self.push(action);
                        self.advance();
                    }
                }
            }
            StepKind::Transfer { target, .. } => {
                let action = Action::Transfer {
                    target: target.clone(),
                    vars: self.snapshot(),
                };
                self.push(action);
                self.wait_connect();
            }
            StepKind::Dial {
                extension, timeout, ..
            } => {
                self.push(Action::Dial {
                    extension: extension.clone(),
                    timeout: *timeout,
                });
                self.wait_connect();
            }
            StepKind::Goto(flow) => {
                self.pop_frame();
                self.enter_flow(flow.clone());
            }
            StepKind::Call(flow) => self.enter_flow(flow.clone()),
            StepKind::Return => self.return_from_flow(),
            StepKind::HangUp => self.finish(Some(Action::HangUp)),
        }
    }

    /// A playback without input finished (or was barged in on).
    pub(super) fn after_playback(&mut self) {
        let dp = Arc::clone(self.dialplan());
        match self.step_in(&dp).map(|s| &s.kind) {
            Some(StepKind::Voicemail(v)) => {
                let action = Action::Voicemail {
                    queue: v.queue.clone(),
                    max_duration: v.max_duration,
                    max_silence: v.max_silence,
                    vars: self.snapshot(),
                };
                self.push(action);
                self.wait_recording();
            }
            _ => self.advance(),
        }
    }

    /// How long the current input step waits for a key.
    pub(super) fn key_timeout(&mut self) -> Duration {
        let dp = Arc::clone(self.dialplan());
        match self.step_in(&dp).map(|s| &s.kind) {
            Some(StepKind::Menu(m)) => m.timeout,
            Some(StepKind::Collect(c)) if !self.scratch().collected.is_empty() => c.inter_digit,
            Some(StepKind::Collect(c)) => c.timeout,
            Some(StepKind::Callback(c)) => c.timeout,
            Some(StepKind::Survey(s)) => s.timeout,
            _ => Duration::ZERO,
        }
    }

    /// A key for the current input step.
    pub(super) fn on_key(&mut self, now: Instant, d: char) {
        let dp = Arc::clone(self.dialplan());
        match self.step_in(&dp).map(|s| &s.kind) {
            Some(StepKind::Menu(m)) => self.menu_key(now, m, d),
            Some(StepKind::Collect(c)) => {
                self.collect_digit(now, c, d);
            }
            Some(StepKind::Callback(c)) if c.accept == d => self.push_callback(),
            Some(StepKind::Callback(c)) => self.jump_or_advance(c.on_decline.clone()),
            Some(StepKind::Survey(s)) => {
                let q = *self.scratch().question;
                if let Some(question) = s.questions.get(q) {
                    let key = question.keys.contains(&d).then_some(d);
                    self.survey_answer(question.name.clone(), key);
                }
            }
            _ => {}
        }
    }

    /// The current input step's key deadline passed.
    pub(super) fn on_key_timeout(&mut self, now: Instant) {
        let dp = Arc::clone(self.dialplan());
        match self.step_in(&dp).map(|s| &s.kind) {
            Some(StepKind::Menu(m)) => self.menu_fail(now, m, true),
            Some(StepKind::Collect(c)) => self.finish_collect(now, c),
            Some(StepKind::Callback(c)) => self.jump_or_advance(c.on_decline.clone()),
            Some(StepKind::Survey(s)) => {
                let q = *self.scratch().question;
                if let Some(question) = s.questions.get(q) {
                    self.survey_answer(question.name.clone(), None);
                }
            }
            _ => self.advance(),
        }
    }

    /// The answer (or failure) of the current lookup.
    pub(super) fn on_lookup(&mut self, result: Result<Value, String>) {
        let dp = Arc::clone(self.dialplan());
        let Some(StepKind::Lookup(l)) = self.step_in(&dp).map(|s| &s.kind) else {
            return;
        };
        match result {
            Ok(v) => {
                self.set_var(&l.into, v);
                self.advance();
            }
            Err(reason) => {
                // The lookup service logged the failure with its cause.
                tracing::debug!(%reason, lookup = %l.name, "lookup failed: the flow's fallback");
                self.set_var("lookup_error", Value::String(reason));
                self.jump_or_advance(l.on_error.clone());
            }
        }
    }

    fn menu_key(&mut self, now: Instant, m: &Menu, d: char) {
        match m.options.iter().find(|(k, _)| *k == d) {
            Some((_, target)) => self.jump(&target.clone()),
            None => self.menu_fail(now, m, false),
        }
    }

    fn menu_prompt(&mut self, now: Instant, m: &Menu, before: Option<&String>) {
        let prompts: Vec<String> = before.into_iter().chain(&m.prompts).cloned().collect();
        if prompts.is_empty() {
            self.set_wait(Some(now + m.timeout));
        } else {
            self.play(prompts, true, true);
        }
    }

    fn menu_fail(&mut self, now: Instant, m: &Menu, timed_out: bool) {
        let attempt = self.scratch().attempt;
        *attempt += 1;
        if *attempt > m.retries {
            let target = if timed_out {
                &m.on_timeout
            } else {
                &m.on_invalid
            };
            return self.jump_or_advance(target.clone());
        }
        let before = if timed_out {
            &m.timeout_prompt
        } else {
            &m.invalid_prompt
        };
        self.menu_prompt(now, m, before.as_ref());
    }

    fn collect_prompt(&mut self, now: Instant, c: &Collect, retry: bool) {
        let before = c.invalid_prompt.as_ref().filter(|_| retry);
        let prompts: Vec<String> = before.into_iter().chain(&c.prompts).cloned().collect();
        if prompts.is_empty() {
            self.set_wait(Some(now + c.timeout));
        } else {
            self.play(prompts, true, true);
        }
    }

    /// Adds a digit; returns whether the collect step ended.
    fn collect_digit(&mut self, now: Instant, c: &Collect, d: char) -> bool {
        if Some(d) == c.terminator {
            self.finish_collect(now, c);
            return true;
        }
        let collected = self.scratch().collected;
        collected.push(d);
        if collected.len() >= c.max {
            self.finish_collect(now, c);
            return true;
        }
        self.set_wait(Some(now + c.inter_digit));
        false
    }

    fn finish_collect(&mut self, now: Instant, c: &Collect) {
        let digits = std::mem::take(self.scratch().collected);
        if digits.len() >= c.min {
            self.set_var(&c.into, Value::String(digits.clone()));
            self.set_var("digits", Value::String(digits));
            return self.advance();
        }
        let attempt = self.scratch().attempt;
        *attempt += 1;
        if *attempt > c.retries {
            return self.jump_or_advance(c.on_invalid.clone());
        }
        self.collect_prompt(now, c, true);
    }

    fn survey_answer(&mut self, question: String, key: Option<char>) {
        let s = self.scratch();
        s.answers.push((question, key));
        *s.question += 1;
        self.set_wait(None);
    }

    /// The caller hung up: the answers given so far in a survey are stored all the same.
    pub(super) fn store_partial_survey(&mut self) {
        let dp = Arc::clone(self.dialplan());
        let Some(StepKind::Survey(s)) = self.step_in(&dp).map(|s| &s.kind) else {
            return;
        };
        if self.scratch().answers.is_empty() {
            return;
        }
        let action = Action::StoreSurvey {
            survey: s.name.clone(),
            answers: std::mem::take(self.scratch().answers),
            vars: self.snapshot(),
        };
        self.push(action);
    }

    /// Asks for the callback task and waits until it is stored (or refused).
    fn push_callback(&mut self) {
        let dp = Arc::clone(self.dialplan());
        let Some(StepKind::Callback(c)) = self.step_in(&dp).map(|s| &s.kind) else {
            return;
        };
        let number = match c.number.eval(self.vars()) {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(e) => {
                tracing::warn!(error = %e, "callback: no number; not registered");
                return self.on_callback_result(Err("no number to call back".into()));
            }
        };
        let action = Action::Callback {
            queue: c.queue.clone(),
            number,
            keep_position: c.keep_position,
            vars: self.snapshot(),
        };
        self.push(action);
        self.wait_callback();
    }

    /// The callback task is stored (next step: the confirmation) or not (`on_failure`, with
    /// the reason in `callback_error`).
    pub(super) fn on_callback_result(&mut self, result: Result<(), String>) {
        let dp = Arc::clone(self.dialplan());
        let Some(StepKind::Callback(c)) = self.step_in(&dp).map(|s| &s.kind) else {
            return;
        };
        match result {
            Ok(()) => self.advance(),
            Err(reason) => {
                tracing::warn!(%reason, "callback not stored");
                self.set_var("callback_error", Value::String(reason));
                self.jump_or_advance(c.on_failure.clone());
            }
        }
    }

    /// Sets a variable; dotted names set nested fields, creating objects on the way.
    pub(super) fn set_var(&mut self, name: &str, value: Value) {
        let mut parts = name.split('.').peekable();
        let mut map = &mut self.vars;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                map.insert(part.to_owned(), value);
                return;
            }
            let slot = map.entry(part).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            match slot {
                Value::Object(inner) => map = inner,
                _ => return,
            }
        }
    }

    pub(super) fn say(&self, form: crate::dialplan::model::SayForm, v: &Value) -> Vec<String> {
        say::value(form, v, self.language()).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot say value");
            Vec::new()
        })
    }
}
