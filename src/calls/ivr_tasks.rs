//! What the dialplan leaves behind for later: a `callback` step's callback task in the ACD and
//! a `survey` step's answers in the store.
//!
//! Owns: turning `Action::Callback` into an `AcdHandle::enqueue` of a callback task and
//! `Action::StoreSurvey` into survey rows. Must not touch: the flow (both run in the
//! background; the flow has already moved on to its confirmation prompt), the dialling of
//! callbacks (agent-first origination belongs to the callback dialler).
//! Driven by: `Call::execute` in `calls::ivr`.
//!
//! The callback task is stored by the ACD before `enqueue` returns its id, so a callback the
//! log reports as created survives a restart. Its deadline is the queue's callback SLA
//! (`sla_secs.callback`, 1 hour by default) on the queue's calendar.
//!
//! `keep_position`: a flow never reaches a `callback` step while its call waits in a queue
//! (the `queue` step ends the flow), so the IVR always creates a fresh callback task; keeping
//! a waiting caller's place is the in-queue key (`AcdHandle::keep_place`, driven from
//! `calls::queue`). The flag is carried in the task's attributes for reports.

use serde_json::Value;
use tracing::Instrument;

use super::call::Call;
use super::cdr::now_ms;
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
        tokio::spawn(
            async move {
                match acd.enqueue(task).await {
                    Ok(id) => tracing::info!(task = %id, %queue, "callback task created"),
                    Err(err) => tracing::error!(%err, %queue, "callback task NOT created"),
                }
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
