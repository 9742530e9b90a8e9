//! The rules of call control, free of SIP and media: what a transfer target names, which
//! party a command acts on, and the steps of an attended transfer's consultation.
//!
//! Owns: `TransferTarget` parsing, `party_acted_on`, `ConsultStage` and its transitions.
//! Must not touch: the call's legs or media (the call task carries out the `ConsultStep`s).
//! Driven by: the API (parsing) and `control::{hold, transfer, consult}`.

use super::super::call::Leg;

/// Where a transfer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTarget {
    /// A configured extension's registered phones.
    Extension(String),
    /// A routing queue: the caller becomes a voice task there.
    Queue(String),
    /// A phone number dialled through the outbound trunk.
    External(String),
}

/// How a transfer is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferMode {
    /// The agent is released at once; the caller hears ring-back until the target answers.
    Blind,
    /// The caller hears music while the agent consults the target, then completes or cancels.
    Attended,
}

impl TransferTarget {
    /// Reads `text`: `queue:<name>`, an extension (`is_extension` says which numbers are), or
    /// an external number (digits, optionally a leading `+`). The error says what is wrong.
    pub fn parse(text: &str, is_extension: impl Fn(&str) -> bool) -> Result<Self, String> {
        let text = text.trim();
        if let Some(queue) = text.strip_prefix("queue:") {
            let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
            if queue.is_empty() || !queue.chars().all(valid) {
                return Err(format!("invalid queue name {queue:?}"));
            }
            return Ok(TransferTarget::Queue(queue.to_owned()));
        }
        if is_extension(text) {
            return Ok(TransferTarget::Extension(text.to_owned()));
        }
        let digits = text.strip_prefix('+').unwrap_or(text);
        if digits.is_empty() || digits.len() > 32 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "invalid target {text:?}: an extension, queue:<name> or a phone number"
            ));
        }
        Ok(TransferTarget::External(text.to_owned()))
    }

    /// The target as the API and the CDR write it.
    pub fn describe(&self) -> String {
        match self {
            TransferTarget::Extension(number) | TransferTarget::External(number) => number.clone(),
            TransferTarget::Queue(name) => format!("queue:{name}"),
        }
    }
}

/// The leg a hold or transfer acts on: the other party than the agent asking. The caller's
/// side when the agent is the callee, or when a supervisor, admin or integration asks (`by`
/// is `None`); the callee's side when the agent asking placed the call.
pub(in crate::calls) fn party_acted_on(by: Option<&str>, origin: &str, caller: &str) -> Leg {
    match by {
        Some(agent) if caller_identity(origin, caller) == Some(agent) => Leg::B,
        _ => Leg::A,
    }
}

/// Security (owned by `security`): the caller as an agent identity. Only a call from an
/// extension (`origin` "extension": the phone passed digest authentication) has one; a
/// trunk's caller number is whatever the far end presented, so a trunk call showing "1003"
/// is never agent 1003's call.
pub(in crate::calls) fn caller_identity<'a>(origin: &str, caller: &'a str) -> Option<&'a str> {
    (origin == "extension").then_some(caller)
}

/// Where an attended transfer's consultation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::calls) enum ConsultStage {
    /// The target rings; the agent hears ring-back, the caller music.
    Ringing,
    /// The agent talks to the target (fork `fork` of the call).
    Talking {
        /// The target's answered fork.
        fork: usize,
    },
    /// Completed: the target's media is being moved onto the caller's session.
    Joining,
    /// Cancelled: the agent's media is being moved back to the caller's session.
    Returning,
}

/// What happens to a consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::calls) enum ConsultInput {
    /// The target answered on `fork`.
    TargetAnswered(usize),
    /// The target failed (busy, no answer) or hung up.
    TargetGone,
    /// The API completes the transfer.
    Complete,
    /// The API cancels the transfer.
    Cancel,
    /// The agent hung up.
    AgentGone,
}

/// What the call must do for an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::calls) enum ConsultStep {
    /// Bridge the agent with the target (stop the agent's ring-back).
    Talk,
    /// Move the target onto the caller's session and release the agent.
    Join {
        /// The target's fork.
        fork: usize,
    },
    /// Drop the target; the agent returns to the caller.
    Return,
    /// Keep ringing; the caller now hears ring-back (the agent left before the answer, so
    /// the transfer goes on as a blind one).
    RingOn,
    /// Nobody is left for the caller: end the call (cause `transfer_failed`).
    Fail,
    /// Nothing to do (e.g. a late event while moving media).
    Ignore,
}

impl ConsultStage {
    /// The next stage and the step for `input`, with `agent_gone` saying whether the agent
    /// already hung up; `Err` says why an API command does not fit now (409).
    pub fn next(
        self,
        input: ConsultInput,
        agent_gone: bool,
    ) -> Result<(ConsultStage, ConsultStep), &'static str> {
        use ConsultInput as In;
        use ConsultStage as S;
        use ConsultStep as Do;
        Ok(match (self, input) {
            (S::Ringing, In::TargetAnswered(fork)) if agent_gone => (S::Joining, Do::Join { fork }),
            (S::Ringing, In::TargetAnswered(fork)) => (S::Talking { fork }, Do::Talk),
            (S::Ringing, In::TargetGone) if agent_gone => (S::Ringing, Do::Fail),
            (S::Ringing | S::Talking { .. }, In::TargetGone | In::Cancel) => {
                (S::Returning, Do::Return)
            }
            (S::Ringing, In::Complete) => return Err("the transfer target has not answered yet"),
            (S::Ringing, In::AgentGone) => (S::Ringing, Do::RingOn),
            (S::Talking { fork }, In::Complete | In::AgentGone) => (S::Joining, Do::Join { fork }),
            (S::Joining | S::Returning, In::Complete | In::Cancel) => {
                return Err("the transfer is already being completed or cancelled");
            }
            (S::Returning, In::AgentGone) => (S::Returning, Do::Fail),
            (stage, _) => (stage, Do::Ignore),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extensions(number: &str) -> bool {
        ["1001", "1002", "1003"].contains(&number)
    }

    #[test]
    fn targets_are_queues_extensions_or_numbers() {
        let parse = |text| TransferTarget::parse(text, extensions);
        assert_eq!(parse("1003"), Ok(TransferTarget::Extension("1003".into())));
        assert_eq!(
            parse("queue:sales"),
            Ok(TransferTarget::Queue("sales".into()))
        );
        assert_eq!(
            parse("+48221234567"),
            Ok(TransferTarget::External("+48221234567".into()))
        );
        assert_eq!(parse("555"), Ok(TransferTarget::External("555".into())));
        let long = "1".repeat(40);
        for bad in [
            "",
            "queue:",
            "queue:a b",
            "+",
            "12a",
            "sip:1003@x",
            long.as_str(),
        ] {
            assert!(parse(bad).is_err(), "{bad:?} is refused");
        }
        assert_eq!(parse("queue:sales").unwrap().describe(), "queue:sales");
    }

    #[test]
    fn the_party_acted_on_is_the_other_side_of_the_agent() {
        assert_eq!(
            party_acted_on(Some("1002"), "extension", "1001"),
            Leg::A,
            "agent is the callee"
        );
        assert_eq!(
            party_acted_on(Some("1001"), "extension", "1001"),
            Leg::B,
            "agent placed the call"
        );
        assert_eq!(
            party_acted_on(None, "extension", "1001"),
            Leg::A,
            "a supervisor holds the caller"
        );
        assert_eq!(
            party_acted_on(Some("1003"), "trunk:pstn", "1003"),
            Leg::A,
            "a trunk caller presenting 1003 is not agent 1003"
        );
    }

    #[test]
    fn a_consultation_completes_only_once_the_target_answered() {
        let ringing = ConsultStage::Ringing;
        assert!(ringing.next(ConsultInput::Complete, false).is_err());
        let (talking, step) = ringing
            .next(ConsultInput::TargetAnswered(4), false)
            .unwrap();
        assert_eq!(
            (talking, step),
            (ConsultStage::Talking { fork: 4 }, ConsultStep::Talk)
        );
        let (joining, step) = talking.next(ConsultInput::Complete, false).unwrap();
        assert_eq!(
            (joining, step),
            (ConsultStage::Joining, ConsultStep::Join { fork: 4 })
        );
        assert!(joining.next(ConsultInput::Cancel, false).is_err());
        assert!(joining.next(ConsultInput::Complete, false).is_err());
        assert_eq!(
            joining.next(ConsultInput::TargetGone, false),
            Ok((ConsultStage::Joining, ConsultStep::Ignore))
        );
    }

    #[test]
    fn cancel_or_a_failing_target_returns_the_agent() {
        for stage in [ConsultStage::Ringing, ConsultStage::Talking { fork: 1 }] {
            for input in [ConsultInput::Cancel, ConsultInput::TargetGone] {
                assert_eq!(
                    stage.next(input, false),
                    Ok((ConsultStage::Returning, ConsultStep::Return)),
                    "{stage:?} {input:?}"
                );
            }
        }
        let returning = ConsultStage::Returning;
        assert!(returning.next(ConsultInput::Cancel, false).is_err());
        assert_eq!(
            returning.next(ConsultInput::AgentGone, false),
            Ok((ConsultStage::Returning, ConsultStep::Fail))
        );
    }

    #[test]
    fn the_agent_hanging_up_completes_the_transfer() {
        let talking = ConsultStage::Talking { fork: 2 };
        assert_eq!(
            talking.next(ConsultInput::AgentGone, false),
            Ok((ConsultStage::Joining, ConsultStep::Join { fork: 2 }))
        );
        // While the target still rings, the transfer goes on blind.
        let ringing = ConsultStage::Ringing;
        assert_eq!(
            ringing.next(ConsultInput::AgentGone, false),
            Ok((ConsultStage::Ringing, ConsultStep::RingOn))
        );
        assert_eq!(
            ringing.next(ConsultInput::TargetAnswered(3), true),
            Ok((ConsultStage::Joining, ConsultStep::Join { fork: 3 }))
        );
        assert_eq!(
            ringing.next(ConsultInput::TargetGone, true),
            Ok((ConsultStage::Ringing, ConsultStep::Fail))
        );
    }
}
