//! Server transactions: the INVITE state machine of RFC 3261 17.2.1 as amended by RFC 6026
//! (`Proceeding`, `Completed`, `Confirmed`, `Accepted`) and the non-INVITE one of 17.2.2
//! (`Trying`, `Proceeding`, `Completed`).
//!
//! Owns: the last response sent (re-sent on request retransmissions and by Timer G) and the
//! Timer G interval. The TU sends 100 Trying itself. Driven by `layer` through [`Cx`].

use std::time::Duration;

use bytes::Bytes;

use super::envelope::Envelope;
use super::error::TxnError;
use super::event::{TxnEvent, TxnState};
use super::timer::TimerKind;
use super::txn::{Cx, StatusClass, Step};
use crate::sip::peer::Peer;

/// One server transaction.
#[derive(Debug)]
pub(super) struct ServerTxn {
    invite: bool,
    state: TxnState,
    /// The last response the TU sent through this transaction.
    last_response: Option<Bytes>,
    /// The interval Timer G was last armed with.
    interval: Duration,
}

impl ServerTxn {
    /// A new request created the transaction.
    pub(super) fn new(invite: bool) -> ServerTxn {
        let state = if invite {
            TxnState::Proceeding
        } else {
            TxnState::Trying
        };
        ServerTxn {
            invite,
            state,
            last_response: None,
            interval: Duration::ZERO,
        }
    }

    /// The current state.
    pub(super) fn state(&self) -> TxnState {
        self.state
    }

    /// The request was retransmitted: re-send the last response in `Proceeding` and
    /// `Completed` (17.2.1, 17.2.2); absorb it otherwise (RFC 6026 in `Accepted`).
    pub(super) fn on_retransmission(&mut self, cx: &mut Cx<'_>) {
        let answering = matches!(self.state, TxnState::Proceeding | TxnState::Completed);
        if let (true, Some(response)) = (answering, &self.last_response) {
            cx.transmit(response.clone());
        }
    }

    /// An ACK matched this (INVITE) transaction.
    pub(super) fn on_ack(&mut self, cx: &mut Cx<'_>, env: Envelope, from: Peer) -> Step {
        match self.state {
            TxnState::Completed => {
                cx.stop(TimerKind::G);
                cx.stop(TimerKind::H);
                self.state = TxnState::Confirmed;
                cx.linger(TimerKind::I, cx.config().t4)
            }
            TxnState::Accepted => {
                cx.emit(TxnEvent::StrayAck { env, from });
                Step::Keep
            }
            _ => Step::Keep,
        }
    }

    /// The TU sends a response (`class` already validated by the layer).
    pub(super) fn send_response(
        &mut self,
        cx: &mut Cx<'_>,
        env: Envelope,
        class: StatusClass,
    ) -> Result<Step, TxnError> {
        let wire = env.wire;
        match (self.state, class) {
            (TxnState::Trying | TxnState::Proceeding, StatusClass::Provisional) => {
                self.state = TxnState::Proceeding;
                self.send(cx, wire);
                Ok(Step::Keep)
            }
            (TxnState::Proceeding, StatusClass::Success) if self.invite => {
                self.state = TxnState::Accepted;
                self.send(cx, wire);
                cx.start(TimerKind::L, cx.config().t1x64());
                Ok(Step::Keep)
            }
            (TxnState::Proceeding, StatusClass::Failure) if self.invite => {
                self.state = TxnState::Completed;
                self.send(cx, wire);
                if !cx.reliable() {
                    self.interval = cx.config().t1;
                    cx.start(TimerKind::G, self.interval);
                }
                cx.start(TimerKind::H, cx.config().t1x64());
                Ok(Step::Keep)
            }
            (TxnState::Trying | TxnState::Proceeding, _) => {
                self.state = TxnState::Completed;
                self.send(cx, wire);
                Ok(cx.linger(TimerKind::J, cx.config().t1x64()))
            }
            (TxnState::Accepted, StatusClass::Success) => {
                // RFC 6026 7.1: the TU's 2xx retransmissions pass through to the transport.
                cx.transmit(wire);
                Ok(Step::Keep)
            }
            _ => Err(TxnError::AlreadyFinal(cx.id())),
        }
    }

    /// Timer `kind` fired.
    pub(super) fn on_timer(&mut self, cx: &mut Cx<'_>, kind: TimerKind) -> Step {
        match (kind, self.state) {
            (TimerKind::G, TxnState::Completed) => {
                self.interval = (self.interval * 2).min(cx.config().t2);
                if let Some(response) = &self.last_response {
                    cx.transmit(response.clone());
                }
                cx.start(TimerKind::G, self.interval);
                Step::Keep
            }
            (TimerKind::H, TxnState::Completed) => {
                cx.emit(TxnEvent::Timeout { txn: cx.id() });
                Step::Terminate
            }
            (TimerKind::I, TxnState::Confirmed)
            | (TimerKind::J, TxnState::Completed)
            | (TimerKind::L, TxnState::Accepted) => Step::Terminate,
            // Every transition disarms the timers it leaves behind, so nothing else can fire.
            _ => Step::Keep,
        }
    }

    fn send(&mut self, cx: &mut Cx<'_>, wire: Bytes) {
        cx.transmit(wire.clone());
        self.last_response = Some(wire);
    }
}
