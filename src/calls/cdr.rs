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
    /// The queue step: where the call waited and who took it.
    pub queue: QueuePath,
}

/// Where a call waited and who answered it: the CDR's `queue`, `agent` and `wait_ms`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct QueuePath {
    /// The queue the call waits or waited in (the last one).
    pub queue: Option<String>,
    /// The extension of the agent who answered.
    pub agent: Option<String>,
    /// Unix ms when the call entered its (last) queue.
    pub entered_at_ms: Option<i64>,
    /// The wait, once it ended (an agent answered, the caller kept their place).
    pub wait_ms: Option<i64>,
}

impl QueuePath {
    /// An originated call's path: the callback's queue, if any, and its agent; no wait.
    pub fn originated(queue: Option<String>, agent: &str) -> QueuePath {
        QueuePath {
            queue,
            agent: Some(agent.to_owned()),
            ..QueuePath::default()
        }
    }

    /// The call entered `queue` at `at_ms` (again after a transfer: a new wait, no agent yet).
    pub fn entered(&mut self, queue: &str, at_ms: i64) {
        *self = QueuePath {
            queue: Some(queue.to_owned()),
            entered_at_ms: Some(at_ms),
            ..QueuePath::default()
        };
    }

    /// The call moved to `queue` while waiting (an overflow): the wait goes on.
    pub fn moved(&mut self, queue: &str) {
        self.queue = Some(queue.to_owned());
    }

    /// The wait ended at `at_ms` (an agent answered, the caller kept their place); later
    /// calls keep the first end.
    pub fn wait_ended(&mut self, at_ms: i64) {
        if let (None, Some(entered)) = (self.wait_ms, self.entered_at_ms) {
            self.wait_ms = Some((at_ms - entered).max(0));
        }
    }

    /// `agent` answered the queued call at `at_ms`.
    pub fn answered_by(&mut self, agent: &str, at_ms: i64) {
        self.agent = Some(agent.to_owned());
        self.wait_ended(at_ms);
    }
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
            queue: self.queue.clone(),
        }
        .finish(None)
    }

    pub fn answered(&mut self) {
        self.answered_at_ms.get_or_insert_with(now_ms);
    }

    pub fn outcome(&self) -> Outcome {
        self.ended.as_ref().map_or(Outcome::Failed, |(o, _, _)| *o)
    }

    /// The record, with the media quality of both sides when the call had media. A wait
    /// still running (the caller hung up in the queue) ends now.
    pub fn finish(mut self, media: Option<SessionStats>) -> CdrRecord {
        let (outcome, cause, side) =
            self.ended
                .unwrap_or((Outcome::Failed, "internal".into(), Side::System));
        let ended_at_ms = now_ms();
        self.queue.wait_ended(ended_at_ms);
        CdrRecord {
            id: self.id,
            call_id: self.call_id,
            caller: self.caller,
            callee: self.callee,
            origin: self.origin,
            started_at_ms: self.started_at_ms,
            answered_at_ms: self.answered_at_ms,
            ended_at_ms,
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
            queue: self.queue.queue,
            agent: self.queue.agent,
            wait_ms: self.queue.wait_ms,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> CdrDraft {
        CdrDraft {
            id: "c1".into(),
            call_id: "sip-1".into(),
            caller: "1001".into(),
            callee: "8000".into(),
            origin: "extension".into(),
            started_at_ms: now_ms(),
            answered_at_ms: None,
            ended: None,
            transferred_to: None,
            queue: QueuePath::default(),
        }
    }

    #[test]
    fn an_answered_queue_call_names_its_queue_agent_and_wait() {
        let mut cdr = draft();
        cdr.queue.entered("support", 1_000);
        cdr.queue.moved("overflow");
        cdr.queue.answered_by("1002", 4_500);
        cdr.queue.wait_ended(9_000);
        cdr.end(Outcome::Answered, "normal_clearing", Side::Caller);
        let record = cdr.finish(None);
        assert_eq!(
            (
                record.queue.as_deref(),
                record.agent.as_deref(),
                record.wait_ms
            ),
            (Some("overflow"), Some("1002"), Some(3_500))
        );
    }

    #[test]
    fn a_caller_hanging_up_in_the_queue_waited_until_the_end() {
        let mut cdr = draft();
        let entered = now_ms() - 2_000;
        cdr.queue.entered("sales", entered);
        cdr.end(Outcome::Abandoned, "normal_clearing", Side::Caller);
        let record = cdr.finish(None);
        let wait = record.wait_ms.expect("a wait");
        assert!((2_000..3_000).contains(&wait), "{wait}");
        assert_eq!(record.wait_ms, Some(record.ended_at_ms - entered));
        assert_eq!(
            (record.queue.as_deref(), record.agent),
            (Some("sales"), None)
        );
        assert_eq!(record.result, "abandoned");
    }

    #[test]
    fn a_transfer_to_a_queue_starts_a_new_wait_and_the_segment_keeps_the_first_agent() {
        let mut cdr = draft();
        cdr.queue.entered("sales", 1_000);
        cdr.queue.answered_by("1001", 1_200);
        let segment = cdr.transfer_segment(1, "leg-2", "1001", "queue:support");
        assert_eq!(
            (
                segment.queue.as_deref(),
                segment.agent.as_deref(),
                segment.wait_ms
            ),
            (Some("sales"), Some("1001"), Some(200))
        );
        cdr.queue.entered("support", 5_000);
        cdr.queue.answered_by("1002", 5_700);
        let record = cdr.finish(None);
        assert_eq!(
            (
                record.queue.as_deref(),
                record.agent.as_deref(),
                record.wait_ms
            ),
            (Some("support"), Some("1002"), Some(700))
        );
    }

    #[test]
    fn a_call_without_a_queue_has_no_wait_and_an_originated_one_names_its_agent() {
        let record = draft().finish(None);
        assert_eq!(
            (record.queue, record.agent, record.wait_ms),
            (None, None, None)
        );
        let mut originated = draft();
        originated.queue = QueuePath::originated(Some("sales".into()), "1001");
        let record = originated.finish(None);
        assert_eq!(
            (
                record.queue.as_deref(),
                record.agent.as_deref(),
                record.wait_ms
            ),
            (Some("sales"), Some("1001"), None)
        );
    }
}
