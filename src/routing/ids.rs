//! Identifier newtypes for the routing engine.
//!
//! Owns: `TaskId`, `AgentId`, `QueueId`, `SkillId`, `CustomerId` and `ReasonCode`.
//! Must not touch: anything else; these are plain values chosen by the caller (the store or
//! the `calls`/`channels` modules), the engine never invents them.
//! Driven by: every other file in `routing`.

use std::fmt;

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident($inner:ty), $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_newtype!(
    /// One contact to route: a call, callback, chat, e-mail, SMS, voicemail or follow-up.
    TaskId(u64),
    "task-"
);
id_newtype!(
    /// One agent (a person who handles tasks).
    AgentId(u32),
    "agent-"
);
id_newtype!(
    /// One queue (a routing target with its own configuration and calendar).
    QueueId(u32),
    "queue-"
);
id_newtype!(
    /// One skill (language, product, ...); agents hold it at a level, tasks require a minimum.
    SkillId(u32),
    "skill-"
);
id_newtype!(
    /// One customer, used for relationship continuity (the sticky agent).
    CustomerId(u64),
    "customer-"
);
id_newtype!(
    /// Why an agent is not ready (a break reason code chosen by the operator).
    ReasonCode(u16),
    "reason-"
);

impl ReasonCode {
    /// Set by the engine when an agent let an offer ring out (ring-no-answer).
    pub const RING_NO_ANSWER: ReasonCode = ReasonCode(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_display_with_prefix() {
        assert_eq!(TaskId(7).to_string(), "task-7");
        assert_eq!(AgentId(3).to_string(), "agent-3");
        assert_eq!(ReasonCode::RING_NO_ANSWER.to_string(), "reason-0");
    }
}
