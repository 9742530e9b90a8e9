//! An agent whose phone is on any call is busy in the ACD: a direct call between extensions,
//! a call the agent placed, a click-to-dial leg, a call transferred to the agent. Queue calls
//! and callbacks are already busy through their routing task and are not marked again.
//!
//! Owns: which agents a call marked busy (`AcdHandle::agent_on_call`), so that exactly the
//! same agents are released when the call ends, into wrap-up when the call is one that has
//! after-call work (click-to-dial). Must not touch: routing decisions (the ACD's
//! capacity model decides what "busy" excludes). Driven by: `Call` and `Originated`.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::routing::{AcdHandle, AgentId};

/// The agents a call holds busy.
pub(super) struct PhoneBusy {
    acd: AcdHandle,
    /// After-call work of the released agents (zero: none).
    wrap_up: Duration,
    /// Each marked agent, with the task telling the ACD (awaited before the release, so the
    /// two never cross).
    marked: Vec<(AgentId, JoinHandle<()>)>,
}

impl PhoneBusy {
    /// Agents released with no wrap-up (direct calls, transfers).
    pub fn new(acd: AcdHandle) -> PhoneBusy {
        PhoneBusy::wrapping_up(acd, Duration::ZERO)
    }

    /// Agents released into `wrap_up` of after-call work.
    pub fn wrapping_up(acd: AcdHandle, wrap_up: Duration) -> PhoneBusy {
        PhoneBusy {
            acd,
            wrap_up,
            marked: Vec::new(),
        }
    }

    /// The phone of extension `number` is on this call: if it is an agent's, the agent is
    /// busy until `release`.
    pub fn mark(&mut self, number: &str) {
        let Some(agent) = self.acd.agent_id(number) else {
            return;
        };
        if self.marked.iter().any(|(a, _)| *a == agent) {
            return;
        }
        let acd = self.acd.clone();
        let task = tokio::spawn(async move {
            if let Err(err) = acd.agent_on_call(agent, true).await {
                tracing::debug!(%err, %agent, "agent not marked busy");
            }
        });
        tracing::debug!(%number, "agent busy on a call");
        self.marked.push((agent, task));
    }

    /// The call ended: every agent it marked is free again.
    pub async fn release(&mut self) {
        for (agent, marking) in std::mem::take(&mut self.marked) {
            let _ = marking.await;
            if let Err(err) = self.acd.agent_call_ended(agent, self.wrap_up).await {
                tracing::debug!(%err, %agent, "agent not released");
            }
        }
    }
}

/// The user part of a `<sip:user@host>` URI in a dialog's remote URI.
pub(super) fn user_of(uri: &str) -> Option<&str> {
    let rest = uri.split_once("sip:")?.1;
    let end = rest.find(['@', '>', ';'])?;
    Some(&rest[..end]).filter(|u| !u.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_user_of_a_dialog_uri() {
        assert_eq!(super::user_of("<sip:1002@centrala>"), Some("1002"));
        assert_eq!(
            super::user_of("\"A\" <sip:1001@10.0.0.1;x=y>"),
            Some("1001")
        );
        assert_eq!(super::user_of("<sip:@h>"), None);
    }
}
