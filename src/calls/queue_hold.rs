//! What a queued caller hears and may press: music on hold (a looped prompt from
//! `sounds/moh/`), interrupted when the ACD sends `TaskNotice::Position` by an announcement in
//! the caller's language (position, estimated wait, the keep-place offer), and the keep-place
//! key, which turns the call's task into a callback and ends the call.
//!
//! Owns: `Hold` (one waiting call's settings and what is playing), `announcement` (the prompt
//! names of one position notice; pure) and the keep-place exchange with the ACD.
//! Must not touch: the ACD's decisions (it only reports the key); the dialplan run.
//! Driven by: `calls::queue` (notices and the keep-place answer) and `Call::flow_event`, which
//! hands digits and playback ends to `queue_consumes` first.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::call::{Call, Phase};
use super::cdr::{Outcome, Side, now_ms};
use crate::dialplan::Event;
use crate::dialplan::model::Announce;
use crate::dialplan::say::{self, Gender};
use crate::media::player::{PlayItem, Playback, Prompt, PromptCache};
use crate::media::relay::Side as MediaSide;
use crate::media::tone::ToneSpec;

/// The music class used when the queue step names none.
const DEFAULT_MUSIC: &str = "default";

/// A waiting call's hold settings and playback state.
pub(super) struct Hold {
    prompts: Arc<PromptCache>,
    language: String,
    /// The looped music; `None` (no such prompt) plays ring-back instead.
    music: Option<Arc<Prompt>>,
    announce: Announce,
    /// The key that keeps the caller's place (resolved from the step and the queue).
    keep_place: Option<char>,
    /// An announcement is playing; its end resumes the music.
    announcing: bool,
    /// The caller pressed the keep-place key; the ACD's answer is awaited.
    keeping: bool,
    /// The ACD kept the place: the caller hears the confirmation, then the call ends.
    leaving: bool,
}

impl Hold {
    /// The hold of a call queued with `announce` settings and `keep_place` key, speaking
    /// `language`.
    pub fn new(
        prompts: Arc<PromptCache>,
        language: &str,
        announce: Announce,
        keep_place: Option<char>,
    ) -> Hold {
        let class = announce.music.as_deref().unwrap_or(DEFAULT_MUSIC);
        let music = prompts.get(&format!("moh/{class}"));
        if music.is_none() {
            tracing::warn!(class, "no music-on-hold prompt; the caller hears ring-back");
        }
        Hold {
            prompts,
            language: language.to_owned(),
            music,
            announce,
            keep_place,
            announcing: false,
            keeping: false,
            leaving: false,
        }
    }

    /// How often the ACD should send positions: the step's period when anything is to be said.
    pub fn period(&self) -> Option<Duration> {
        let a = &self.announce;
        (a.position || a.wait_time || self.keep_place.is_some()).then_some(a.every)
    }

    /// Whether the ACD kept the caller's place (the task is a callback now).
    pub fn kept(&self) -> bool {
        self.leaving
    }

    /// The key that keeps the caller's place.
    pub fn keep_place_key(&self) -> Option<char> {
        self.keep_place
    }

    fn music(&self) -> Playback {
        match &self.music {
            Some(music) => Playback::prompt(music.clone()).looped(),
            None => Playback::tone(ToneSpec::ringback_eu()),
        }
    }

    fn speak(&self, names: &[String]) -> Option<Playback> {
        let items: Vec<PlayItem> = names
            .iter()
            .filter_map(|name| self.prompts.get(&format!("{}/{name}", self.language)))
            .map(PlayItem::Prompt)
            .collect();
        (!items.is_empty()).then(|| Playback::sequence(items))
    }
}

/// The prompt names (within the language directory) of one position announcement: "you are
/// number N in the queue", "the estimated waiting time is M minutes" (rounded up), and the
/// keep-place offer with its key, as `announce` and `keep_place` ask.
pub(super) fn announcement(
    announce: &Announce,
    keep_place: Option<char>,
    language: &str,
    ahead: usize,
    estimated_wait: Option<Duration>,
) -> Vec<String> {
    let mut names = Vec::new();
    let number = |n: u64, gender| say::number(n.min(999_999) as i64, language, gender);
    if announce.position
        && let Ok(spoken) = number(ahead as u64 + 1, Gender::Masculine)
    {
        names.push("queue_position".to_owned());
        names.extend(spoken);
        if language != "pl" {
            names.push("queue_in_line".to_owned());
        }
    }
    if announce.wait_time
        && let Some(wait) = estimated_wait
    {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        if let Ok(spoken) = number(minutes, Gender::Feminine) {
            names.push("queue_wait".to_owned());
            names.extend(spoken);
            names.push(minutes_word(language, minutes).to_owned());
        }
    }
    if let Some(key) = keep_place {
        names.push("queue_keep_place".to_owned());
        names.extend(say::digits(&key.to_string()));
    }
    names
}

/// "minute" in the grammatical number `n` needs.
fn minutes_word(language: &str, n: u64) -> &'static str {
    match (language, n) {
        ("pl", _) => ["words/minute", "words/minutes", "words/minutes_many"]
            [say::pl_plural(n.min(u64::from(u32::MAX)) as u32)],
        (_, 1) => "words/minute",
        _ => "words/minutes",
    }
}

impl Call {
    /// Music on hold toward the caller (again).
    pub(super) fn hold_music(&mut self) {
        let Some(hold) = self.queued.as_mut().map(|q| &mut q.hold) else {
            return;
        };
        hold.announcing = false;
        let music = hold.music();
        if let Some(media) = &self.media {
            media.play(MediaSide::A, music);
        }
    }

    /// A position notice: the announcement interrupts the music (not while an agent rings).
    pub(super) fn announce_position(&mut self, ahead: usize, estimated_wait: Option<Duration>) {
        if self.phase != Phase::Ivr {
            return;
        }
        let Some(hold) = self.queued.as_mut().map(|q| &mut q.hold) else {
            return;
        };
        if hold.keeping || hold.leaving {
            return;
        }
        let names = announcement(
            &hold.announce,
            hold.keep_place,
            &hold.language,
            ahead,
            estimated_wait,
        );
        let Some(playback) = hold.speak(&names) else {
            return;
        };
        hold.announcing = true;
        tracing::debug!(ahead, "position announced");
        if let Some(media) = &self.media {
            media.play(MediaSide::A, playback);
        }
    }

    /// Digits and playback ends of a waiting caller belong to the queue, not to the (ended)
    /// flow: true when `event` was taken here.
    pub(super) fn queue_consumes(&mut self, event: &Event) -> bool {
        let waiting = matches!(self.phase, Phase::Ivr | Phase::Dialing);
        let Some(q) = self.queued.as_mut().filter(|_| waiting) else {
            return false;
        };
        match event {
            Event::Digit(digit) if Some(*digit) == q.hold.keep_place_key() => {
                self.keep_place();
                true
            }
            Event::Digit(_) => true,
            Event::PlaybackFinished if q.hold.leaving => {
                self.cdr
                    .end(Outcome::KeptPlace, "kept_place_callback", Side::Caller);
                self.hang_up_caller();
                true
            }
            Event::PlaybackFinished => {
                if q.hold.announcing {
                    self.hold_music();
                }
                true
            }
            _ => false,
        }
    }

    /// The caller pressed the keep-place key: ask the ACD (only while no agent rings).
    fn keep_place(&mut self) {
        let ringing = self.phase != Phase::Ivr;
        let Some(q) = self.queued.as_mut() else {
            return;
        };
        let Some(task) = q.task.filter(|_| !ringing && !q.hold.keeping) else {
            return;
        };
        q.hold.keeping = true;
        let (tx, rx) = oneshot::channel();
        q.kept = Some(rx);
        let acd = q.acd.clone();
        tokio::spawn(async move {
            let _ = tx.send(acd.keep_place(task).await.map_err(|err| err.to_string()));
        });
        tracing::info!(%task, "caller asked to keep their place");
    }

    /// The ACD's answer to keep-place: the caller hears the confirmation and the call ends
    /// (the task lives on as a callback), or waits on when it was refused.
    pub(super) fn on_kept_place(&mut self, answer: Result<(), String>) {
        let Some(q) = self.queued.as_mut() else {
            return;
        };
        q.hold.keeping = false;
        if let Err(err) = answer {
            tracing::info!(%err, "place not kept; the caller waits on");
            return;
        }
        q.hold.leaving = true;
        tracing::info!("place kept; the caller will be called back");
        self.cdr.queue.wait_ended(now_ms());
        self.cdr
            .end(Outcome::KeptPlace, "kept_place_callback", Side::Caller);
        let confirmation = q.hold.speak(&["callback_confirmed".to_owned()]);
        match (&self.media, confirmation) {
            (Some(media), Some(playback)) => media.play(MediaSide::A, playback),
            _ => {
                self.cdr
                    .end(Outcome::KeptPlace, "kept_place_callback", Side::Caller);
                self.hang_up_caller();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(position: bool, wait_time: bool) -> Announce {
        Announce {
            position,
            wait_time,
            every: Duration::from_secs(30),
            music: None,
            keep_place: crate::dialplan::model::KeepPlace::Queue,
        }
    }

    #[test]
    fn english_position_wait_and_keep_place() {
        let names = announcement(
            &settings(true, true),
            Some('1'),
            "en",
            2,
            Some(Duration::from_secs(61)),
        );
        assert_eq!(
            names,
            [
                "queue_position",
                "digits/3",
                "queue_in_line",
                "queue_wait",
                "digits/2",
                "words/minutes",
                "queue_keep_place",
                "digits/1"
            ]
        );
    }

    #[test]
    fn polish_minutes_follow_the_plural_rules() {
        let wait = |secs| {
            announcement(
                &settings(false, true),
                None,
                "pl",
                0,
                Some(Duration::from_secs(secs)),
            )
        };
        assert_eq!(wait(30), ["queue_wait", "num/1f", "words/minute"]);
        assert_eq!(wait(120), ["queue_wait", "num/2f", "words/minutes"]);
        assert_eq!(wait(300), ["queue_wait", "digits/5", "words/minutes_many"]);
        assert_eq!(
            wait(22 * 60),
            ["queue_wait", "num/20", "num/2f", "words/minutes"]
        );
    }

    #[test]
    fn unknown_wait_and_disabled_parts_say_nothing() {
        let names = announcement(&settings(false, true), None, "en", 4, None);
        assert!(names.is_empty());
        let names = announcement(&settings(true, false), None, "pl", 0, None);
        assert_eq!(names, ["queue_position", "digits/1"]);
    }
}
