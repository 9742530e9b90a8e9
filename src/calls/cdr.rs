//! The call detail record of one call, filled in as the call progresses.

use std::time::{SystemTime, UNIX_EPOCH};

use super::BoxFuture;
use crate::media::relay::{SessionStats, SideStats};
use crate::store::{CdrRecord, MediaQuality, RecordingRow, SurveyAnswerRow};

/// What calls persist (the store in production). Failures are logged by the implementation:
/// a call never stops because the database hiccups.
pub trait CallStore: Send + Sync + 'static {
    /// Persists one CDR.
    fn record_cdr(&self, cdr: CdrRecord) -> BoxFuture<'_, ()>;
    /// Indexes a recording that has just started (state `recording`).
    fn recording_started(&self, row: RecordingRow) -> BoxFuture<'_, ()>;
    /// Completes a recording's index row.
    fn recording_finished(
        &self,
        id: String,
        duration_ms: i64,
        size_bytes: i64,
    ) -> BoxFuture<'_, ()>;
    /// Stores the answers of one run of a dialplan survey (all or none).
    fn survey_answered(&self, answers: Vec<SurveyAnswerRow>) -> BoxFuture<'_, ()>;
}

/// How a call ended, as counted in metrics and written in the CDR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Answered,
    Busy,
    NoAnswer,
    Cancelled,
    Unavailable,
    Failed,
    /// The caller hung up while waiting in a queue (before an agent answered).
    Abandoned,
    /// The caller kept their place in the queue: a callback follows.
    KeptPlace,
}

impl Outcome {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Busy => "busy",
            Outcome::NoAnswer => "no_answer",
            Outcome::Cancelled => "cancelled",
            Outcome::Unavailable => "unavailable",
            Outcome::Failed => "failed",
            Outcome::Abandoned => "abandoned",
            Outcome::KeptPlace => "kept_place",
        }
    }
}

/// Who ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Caller,
    Callee,
    System,
}

/// The CDR under construction.
pub(super) struct CdrDraft {
    pub id: String,
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    pub origin: String,
    pub started_at_ms: i64,
    pub answered_at_ms: Option<i64>,
    pub ended: Option<(Outcome, String, Side)>,
    /// Where the call was last transferred to (`calls::control`).
    pub transferred_to: Option<String>,
}

impl CdrDraft {
    /// Records the end once; later calls keep the first cause.
    pub fn end(&mut self, outcome: Outcome, cause: impl Into<String>, side: Side) {
        if self.ended.is_none() {
            self.ended = Some((outcome, cause.into(), side));
        }
    }

    /// The CDR row of an agent's leg released by transfer `n` of this call (`<id>-t<n>`, cause
    /// `transferred`), and names `target` in this call's CDR too.
    pub fn transfer_segment(
        &mut self,
        n: u32,
        leg_call_id: &str,
        agent: &str,
        target: &str,
    ) -> CdrRecord {
        self.transferred_to = Some(target.to_owned());
        CdrDraft {
            id: format!("{}-t{n}", self.id),
            call_id: leg_call_id.to_owned(),
            caller: self.caller.clone(),
            callee: agent.to_owned(),
            origin: self.origin.clone(),
            started_at_ms: self.answered_at_ms.unwrap_or(self.started_at_ms),
            answered_at_ms: self.answered_at_ms,
            ended: Some((Outcome::Answered, "transferred".into(), Side::Callee)),
            transferred_to: Some(target.to_owned()),
        }
        .finish(None)
    }

    pub fn answered(&mut self) {
        self.answered_at_ms.get_or_insert_with(now_ms);
    }

    pub fn outcome(&self) -> Outcome {
        self.ended.as_ref().map_or(Outcome::Failed, |(o, _, _)| *o)
    }

    /// The record, with the media quality of both sides when the call had media.
    pub fn finish(self, media: Option<SessionStats>) -> CdrRecord {
        let (outcome, cause, side) =
            self.ended
                .unwrap_or((Outcome::Failed, "internal".into(), Side::System));
        CdrRecord {
            id: self.id,
            call_id: self.call_id,
            caller: self.caller,
            callee: self.callee,
            origin: self.origin,
            started_at_ms: self.started_at_ms,
            answered_at_ms: self.answered_at_ms,
            ended_at_ms: now_ms(),
            result: outcome.as_str().into(),
            hangup_cause: cause,
            hangup_side: match side {
                Side::Caller => "caller",
                Side::Callee => "callee",
                Side::System => "system",
            }
            .into(),
            transferred_to: self.transferred_to,
            caller_quality: media.map(|stats| quality(&stats.a)),
            callee_quality: media.map(|stats| quality(&stats.b)),
        }
    }
}

/// What Centrala received from one side, in the CDR's terms.
fn quality(side: &SideStats) -> MediaQuality {
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    MediaQuality {
        packets: clamp(side.packets_in),
        lost: clamp(side.lost),
        jitter_us: clamp(side.jitter_us),
        mos: (side.mos() * 100.0).round() / 100.0,
    }
}

pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
