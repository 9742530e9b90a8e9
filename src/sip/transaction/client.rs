//! Client transactions: the INVITE state machine of RFC 3261 17.1.1 as amended by RFC 6026
//! (`Calling`, `Proceeding`, `Completed`, `Accepted`) and the non-INVITE one of 17.1.2
//! (`Trying`, `Proceeding`, `Completed`).
//!
//! Owns: the request to retransmit, the ACK for a non-2xx final response, and the current
//! retransmission interval. Driven by `layer` through [`Cx`].

use std::time::Duration;

use bytes::Bytes;

use super::envelope::Envelope;
use super::event::{TxnEvent, TxnState};
use super::timer::TimerKind;
use super::txn::{Cx, StatusClass, Step};
use crate::sip::peer::Peer;

/// One client transaction.
#[derive(Debug)]
pub(super) struct ClientTxn {
    invite: bool,
    state: TxnState,
    /// The request as first sent; Timers A and E retransmit it verbatim.
    request: Bytes,
    /// The ACK sent for a non-2xx final response, re-sent on each retransmission of it.
    ack: Option<Bytes>,
    /// The interval Timer A or E was last armed with.
    interval: Duration,
}

impl ClientTxn {
    /// Sends `request` and arms the initial timers (17.1.1.2, 17.1.2.2).
    pub(super) fn start(cx: &mut Cx<'_>, invite: bool, request: Bytes) -> ClientTxn {
        cx.transmit(request.clone());
        let t1 = cx.config().t1;
        let (state, retransmit, timeout) = if invite {
            (TxnState::Calling, TimerKind::A, TimerKind::B)
        } else {
            (TxnState::Trying, TimerKind::E, TimerKind::F)
        };
        if !cx.reliable() {
            cx.start(retransmit, t1);
        }
        cx.start(timeout, cx.config().t1x64());
        ClientTxn {
            invite,
            state,
            request,
            ack: None,
            interval: t1,
        }
    }

    /// The current state.
    pub(super) fn state(&self) -> TxnState {
        self.state
    }

    /// A response matched this transaction.
    pub(super) fn on_response(
        &mut self,
        cx: &mut Cx<'_>,
        env: Envelope,
        from: Peer,
        class: StatusClass,
    ) -> Step {
        if self.invite {
            self.invite_response(cx, env, from, class)
        } else {
            self.non_invite_response(cx, env, from, class)
        }
    }

    /// Timer `kind` fired.
    pub(super) fn on_timer(&mut self, cx: &mut Cx<'_>, kind: TimerKind) -> Step {
        match (kind, self.state) {
            (TimerKind::A, TxnState::Calling) => {
                // 17.1.1.2: A doubles on every firing, with no cap at T2.
                self.interval *= 2;
                self.retransmit(cx, TimerKind::A);
                Step::Keep
            }
            (TimerKind::E, TxnState::Trying) => {
                self.interval = (self.interval * 2).min(cx.config().t2);
                self.retransmit(cx, TimerKind::E);
                Step::Keep
            }
            (TimerKind::E, TxnState::Proceeding) => {
                self.interval = cx.config().t2;
                self.retransmit(cx, TimerKind::E);
                Step::Keep
            }
            (TimerKind::B, TxnState::Calling)
            | (TimerKind::F, TxnState::Trying | TxnState::Proceeding) => {
                cx.emit(TxnEvent::Timeout { txn: cx.id() });
                Step::Terminate
            }
            (TimerKind::D | TimerKind::K, TxnState::Completed)
            | (TimerKind::M, TxnState::Accepted) => Step::Terminate,
            // Every transition disarms the timers it leaves behind, so nothing else can fire.
            _ => Step::Keep,
        }
    }

    fn retransmit(&mut self, cx: &mut Cx<'_>, kind: TimerKind) {
        cx.transmit(self.request.clone());
        cx.start(kind, self.interval);
    }

    fn invite_response(
        &mut self,
        cx: &mut Cx<'_>,
        env: Envelope,
        from: Peer,
        class: StatusClass,
    ) -> Step {
        let txn = cx.id();
        match (self.state, class) {
            (TxnState::Calling | TxnState::Proceeding, StatusClass::Provisional) => {
                // 17.1.1.2: in Proceeding neither A nor B runs; the TU cancels if it waits too long.
                cx.stop(TimerKind::A);
                cx.stop(TimerKind::B);
                self.state = TxnState::Proceeding;
                cx.emit(TxnEvent::Response { txn, env, from });
                Step::Keep
            }
            (TxnState::Calling | TxnState::Proceeding, StatusClass::Success) => {
                cx.stop(TimerKind::A);
                cx.stop(TimerKind::B);
                self.state = TxnState::Accepted;
                cx.start(TimerKind::M, cx.config().t1x64());
                cx.emit(TxnEvent::Response { txn, env, from });
                Step::Keep
            }
            (TxnState::Calling | TxnState::Proceeding, StatusClass::Failure) => {
                cx.stop(TimerKind::A);
                cx.stop(TimerKind::B);
                self.state = TxnState::Completed;
                self.ack = cx.build_ack(&self.request, &env.wire);
                match &self.ack {
                    Some(ack) => cx.transmit(ack.clone()),
                    None => {
                        tracing::warn!(branch = %env.branch, "cannot build ACK for non-2xx response")
                    }
                }
                cx.emit(TxnEvent::Response { txn, env, from });
                cx.linger(TimerKind::D, cx.config().timer_d)
            }
            (TxnState::Accepted, StatusClass::Success) => {
                // RFC 6026 7.2: every 2xx retransmission goes up so the TU can re-send its ACK.
                cx.emit(TxnEvent::Response { txn, env, from });
                Step::Keep
            }
            (TxnState::Completed, StatusClass::Failure) => {
                if let Some(ack) = &self.ack {
                    cx.transmit(ack.clone());
                }
                Step::Keep
            }
            _ => Step::Keep,
        }
    }

    fn non_invite_response(
        &mut self,
        cx: &mut Cx<'_>,
        env: Envelope,
        from: Peer,
        class: StatusClass,
    ) -> Step {
        let txn = cx.id();
        match (self.state, class) {
            (TxnState::Trying | TxnState::Proceeding, StatusClass::Provisional) => {
                // Timer E keeps its deadline; from its next firing it runs at T2 (17.1.2.2).
                self.state = TxnState::Proceeding;
                cx.emit(TxnEvent::Response { txn, env, from });
                Step::Keep
            }
            (
                TxnState::Trying | TxnState::Proceeding,
                StatusClass::Success | StatusClass::Failure,
            ) => {
                cx.stop(TimerKind::E);
                cx.stop(TimerKind::F);
                self.state = TxnState::Completed;
                cx.emit(TxnEvent::Response { txn, env, from });
                cx.linger(TimerKind::K, cx.config().t4)
            }
            _ => Step::Keep,
        }
    }
}
