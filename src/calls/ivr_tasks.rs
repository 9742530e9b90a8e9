//! What the dialplan leaves behind for later: a `callback` step's callback task in the ACD and
//! a `survey` step's answers in the store.
//!
//! Owns: turning `Action::Callback` into an `AcdHandle::enqueue` of a callback task and
//! `Action::StoreSurvey` into survey rows. Must not touch: the dialling of callbacks
//! (agent-first origination belongs to the callback dialler).
//! Driven by: `Call::execute` in `calls::ivr`; the call's run loop awaits the callback's
//! answer (`next_callback_result`) and hands it to the flow (`Event::CallbackResult`).
//!
//! The callback task is stored by the ACD before `enqueue` returns its id, so the caller hears
//! the confirmation only for a callback that survives a restart; a refused one takes the
//! step's `on_failure`. Its deadline is the queue's callback SLA (`sla_secs.callback`, 1 hour
//! by default) on the queue's calendar. Survey answers are written in the background.
//!
//! `keep_position`: a flow never reaches a `callback` step while its call waits in a queue
//! (the `queue` step ends the flow), so the IVR always creates a fresh callback task; keeping
//! a waiting caller's place is the in-queue key (`AcdHandle::keep_place`, driven from
//! `calls::queue`). The flag is carried in the task's attributes for reports.

use serde_json::Value;
use tokio::sync::oneshot;
use tracing::Instrument;

use super::call::Call;
use super::cdr::now_ms;
use super::ivr::Ivr;
use super::queue::flatten;
use crate::routing::NewTask;
use crate::store::SurveyAnswerRow;

impl Call {
    /// `callback`: a callback task for `number` in `queue`, with the call's variables.
    pub(super) fn request_callback(
        &mut self,
        queue: String,
        number: String,
        keep_position: bool,
        vars: Value,
    ) {
        let Some(acd) = self.ivr.as_ref().map(|ivr| ivr.services.acd.clone()) else {
            return;
        };
        let mut task = NewTask::callback(&queue, &number);
        task.attributes = flatten(&vars);
        task.attributes
            .insert("reason".into(), "ivr_request".into());
        task.attributes
            .insert("call_id".into(), self.cdr.id.clone());
        task.attributes
            .insert("keep_position".into(), keep_position.to_string());
        let (tx, rx) = oneshot::channel();
        if let Some(ivr) = self.ivr.as_mut() {
            ivr.callback = Some(rx);
        }
        tokio::spawn(
            async move {
                let result = match acd.enqueue(task).await {
                    Ok(id) => {
                        tracing::info!(task = %id, %queue, "callback task created");
                        Ok(())
                    }
                    Err(err) => {
                        tracing::error!(%err, %queue, "callback task NOT created");
                        Err(err.to_string())
                    }
                };
                let _ = tx.send(result);
            }
            .instrument(tracing::Span::current()),
        );
    }

    /// `survey`: the answers of one run, stored with the call's id and the time.
    pub(super) fn store_survey(&mut self, survey: String, answers: Vec<(String, Option<char>)>) {
        let answered_at_ms = now_ms();
        let rows: Vec<SurveyAnswerRow> = answers
            .into_iter()
            .enumerate()
            .map(|(position, (question, key))| SurveyAnswerRow {
                call_id: self.cdr.id.clone(),
                survey: survey.clone(),
                answered_at_ms,
                position: position as i64,
                question,
                answer_key: key.map(String::from),
            })
            .collect();
        if rows.is_empty() {
            return;
        }
        tracing::info!(%survey, questions = rows.len(), "survey answered");
        let store = self.store.clone();
        tokio::spawn(
            async move { store.survey_answered(rows).await }.instrument(tracing::Span::current()),
        );
    }
}

/// The ACD's answer to the flow's callback request (once), or never when none is pending.
pub(super) async fn next_callback_result(ivr: &mut Option<Ivr>) -> Option<Result<(), String>> {
    let Some(receiver) = ivr.as_mut().and_then(|ivr| ivr.callback.as_mut()) else {
        return std::future::pending().await;
    };
    let answer = receiver
        .await
        .unwrap_or_else(|_| Err("callback request lost".into()));
    if let Some(ivr) = ivr.as_mut() {
        ivr.callback = None;
    }
    Some(answer)
}
