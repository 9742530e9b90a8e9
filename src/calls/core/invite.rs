//! `InviteDialog`: the INVITE rules of one leg's dialog, sans-IO.
//!
//! Owns: the leg's dialog state (early, cancelled, awaiting the ACK of our 2xx, confirmed,
//! terminated), the 2xx retransmission schedule (T1 doubling to T2, given up after 64*T1),
//! which re-INVITE is in progress in each direction (glare → 491, a second one → 500), the
//! §14.1 back-off after a 491, and the leg's RFC 4028 session timer.
//! Must not touch: messages, transactions, media, clocks. The shell says what happened
//! (`handle_*`), and acts on what `poll_action` returns.
//! Driven by: the call task, one `InviteDialog` per leg.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::glare::Backoff;
use super::session_timer::{Negotiated, Refresher, SessionTimer};
use super::{EndCause, Reason, Timers};

/// Which side sent the dialog's first INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The peer did; we answered (the caller's leg).
    Uas,
    /// We did (a leg toward a callee); we own the Call-ID.
    Uac,
}

/// What the shell must do for this leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send our 2xx to the initial INVITE again.
    Retransmit2xx,
    /// Send an ACK for the 2xx just received.
    SendAck,
    /// Send BYE on this leg. With a cause, the call ends for it; without, a dialog we no
    /// longer want is torn down (a 200 that crossed our CANCEL).
    Bye(Option<EndCause>),
    /// Send a session refresh now: UPDATE when `update`, else a re-INVITE with the current
    /// SDP. Its response goes to `handle_reinvite_response`.
    Refresh {
        /// UPDATE (the peer allows it) rather than re-INVITE.
        update: bool,
    },
    /// Send again our own re-INVITE that met a 491.
    RetryReinvite,
}

/// How to answer a CANCEL of the initial INVITE (the CANCEL itself always gets 200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelAnswer {
    /// Answer the INVITE 487; the leg is over.
    Terminate,
    /// Our 2xx went first (CANCEL crossed it): the call goes on, nothing else to send.
    TooLate,
}

/// How to answer a re-INVITE (or an UPDATE with an offer) from the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReinviteAnswer {
    /// Handle it; report the final answer with `handle_reinvite_answered`.
    Accept,
    /// 491 Request Pending: ours is in progress (glare).
    Glare,
    /// 500 with Retry-After: an earlier one of theirs is still unanswered (RFC 3261 §14.2).
    Pending,
    /// 481: the dialog is over.
    NoDialog,
}

/// Who started the re-INVITE of ours that is in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The core: a session refresh.
    Refresh,
    /// The shell, for its own reasons (a transfer moving the agent); retried after a 491.
    Own,
    /// The shell, relaying the other leg's re-INVITE; a 491 is relayed back, not retried.
    Relay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Early,
    /// UAC: we sent CANCEL; a 2xx that still comes is ACKed and BYEd.
    Cancelled,
    /// UAS: our 2xx is out, retransmitted until the ACK.
    AwaitingAck {
        next: Instant,
        interval: Duration,
        give_up: Instant,
    },
    Confirmed,
    Terminated,
}

/// The INVITE dialog rules of one leg. See the module docs.
#[derive(Debug, Clone)]
pub struct InviteDialog {
    role: Role,
    timers: Timers,
    state: State,
    ours: Option<Purpose>,
    theirs: bool,
    retry: Option<(Instant, Purpose)>,
    session: Option<SessionTimer>,
    refresh_with_update: bool,
    backoff: Backoff,
    actions: VecDeque<Action>,
}

impl InviteDialog {
    /// A leg in its early state; `seed` feeds the glare back-off.
    pub fn new(role: Role, timers: Timers, seed: u64) -> InviteDialog {
        InviteDialog {
            role,
            timers,
            state: State::Early,
            ours: None,
            theirs: false,
            retry: None,
            session: None,
            refresh_with_update: false,
            backoff: Backoff::new(seed),
            actions: VecDeque::new(),
        }
    }

    /// The leg's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the dialog is over (BYE sent or received, cancelled, failed).
    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// Whether the ACK of our 2xx is still awaited.
    pub fn awaiting_ack(&self) -> bool {
        matches!(self.state, State::AwaitingAck { .. })
    }

    /// Whether a session refresh would go out as UPDATE (the peer allows it) rather than a
    /// re-INVITE.
    pub fn set_refresh_with_update(&mut self, update: bool) {
        self.refresh_with_update = update;
    }

    /// The agreed session timer starts at `now` (at the 2xx of the initial INVITE).
    pub fn set_session_timer(&mut self, now: Instant, negotiated: Negotiated) {
        let we_refresh = matches!(
            (negotiated.refresher, self.role),
            (Refresher::Uac, Role::Uac) | (Refresher::Uas, Role::Uas)
        );
        self.session = Some(SessionTimer::new(now, negotiated.interval, we_refresh));
    }

    /// The session timer, if one is running.
    pub fn session_timer(&self) -> Option<&SessionTimer> {
        self.session.as_ref()
    }

    /// UAS: our 2xx to the initial INVITE went out at `now`.
    pub fn handle_2xx_sent(&mut self, now: Instant) {
        if self.state == State::Early {
            self.state = State::AwaitingAck {
                next: now + self.timers.t1,
                interval: self.timers.t1,
                give_up: now + 64 * self.timers.t1,
            };
        }
    }

    /// UAS: the ACK of our 2xx arrived.
    pub fn handle_ack(&mut self, _now: Instant) {
        if self.awaiting_ack() {
            self.state = State::Confirmed;
        }
    }

    /// UAS: a CANCEL of the initial INVITE arrived.
    pub fn handle_cancel(&mut self, _now: Instant) -> CancelAnswer {
        if self.state == State::Early {
            self.state = State::Terminated;
            CancelAnswer::Terminate
        } else {
            CancelAnswer::TooLate
        }
    }

    /// UAC: we CANCEL the initial INVITE (or give up on it).
    pub fn cancel(&mut self, _now: Instant) {
        if self.state == State::Early {
            self.state = State::Cancelled;
        }
    }

    /// UAC: a 2xx to the initial INVITE arrived (first or retransmitted). Always ACKed; when
    /// it crossed our CANCEL, the dialog it made is also torn down with BYE.
    pub fn handle_2xx_received(&mut self, _now: Instant) {
        self.actions.push_back(Action::SendAck);
        match self.state {
            State::Early => self.state = State::Confirmed,
            State::Cancelled => {
                self.actions.push_back(Action::Bye(None));
                self.state = State::Terminated;
            }
            _ => {}
        }
    }

    /// UAC: the initial INVITE failed (a final error, or no answer at all).
    pub fn handle_invite_failed(&mut self, _now: Instant) {
        if matches!(self.state, State::Early | State::Cancelled) {
            self.state = State::Terminated;
        }
    }

    /// A BYE from the peer. Returns whether a re-INVITE of theirs is still unanswered (the
    /// shell answers it 487). A response to ours that still comes is only ACKed.
    pub fn handle_bye(&mut self, _now: Instant) -> bool {
        let unanswered = self.theirs;
        self.end();
        unanswered
    }

    /// We hang this leg up (the shell sends the BYE).
    pub fn hang_up(&mut self, _now: Instant) {
        self.end();
    }

    fn end(&mut self) {
        self.state = State::Terminated;
        self.theirs = false;
        self.ours = None;
        self.retry = None;
        self.session = None;
    }

    /// A re-INVITE (or an UPDATE carrying an offer) from the peer.
    pub fn handle_reinvite(&mut self, _now: Instant) -> ReinviteAnswer {
        if self.state == State::Terminated {
            ReinviteAnswer::NoDialog
        } else if self.theirs {
            ReinviteAnswer::Pending
        } else if self.ours.is_some() {
            ReinviteAnswer::Glare
        } else {
            self.theirs = true;
            ReinviteAnswer::Accept
        }
    }

    /// We answered their re-INVITE with `status`; a 2xx refreshes the session, with the
    /// interval of its `Session-Expires` when given.
    pub fn handle_reinvite_answered(&mut self, now: Instant, status: u16, interval: Option<u32>) {
        self.theirs = false;
        if (200..300).contains(&status) {
            self.refreshed(now, interval);
        }
    }

    /// An UPDATE without an offer (a pure session refresh) from the peer, answered 200.
    pub fn handle_update_refresh(&mut self, now: Instant, interval: Option<u32>) {
        if self.state != State::Terminated {
            self.refreshed(now, interval);
        }
    }

    fn refreshed(&mut self, now: Instant, interval: Option<u32>) {
        if let Some(timer) = self.session.as_mut() {
            timer.refreshed(now, interval);
        }
    }

    /// The shell wants to send a re-INVITE of its own: true when it may now (the re-INVITE
    /// is then in progress until `handle_reinvite_response` with a final status).
    pub fn start_reinvite(&mut self, _now: Instant, purpose: Purpose) -> bool {
        let idle = self.ours.is_none() && !self.theirs && self.retry.is_none();
        let confirmed = matches!(self.state, State::Confirmed | State::AwaitingAck { .. });
        if idle && confirmed {
            self.ours = Some(purpose);
        }
        idle && confirmed
    }

    /// A response to our re-INVITE or refresh (`None`: no response at all, timeout).
    pub fn handle_reinvite_response(&mut self, now: Instant, status: Option<u16>) {
        if status.is_some_and(|s| s < 200) {
            return;
        }
        if self.state == State::Terminated {
            if status.is_some_and(|s| (200..300).contains(&s)) {
                self.actions.push_back(Action::SendAck);
            }
            return;
        }
        let Some(purpose) = self.ours.take() else {
            return;
        };
        match status {
            Some(200..=299) => {
                // A relayed re-INVITE's 2xx is ACKed by the relay; an UPDATE has no ACK.
                let update = purpose == Purpose::Refresh && self.refresh_with_update;
                if purpose != Purpose::Relay && !update {
                    self.actions.push_back(Action::SendAck);
                }
                self.refreshed(now, None);
            }
            Some(491) if purpose != Purpose::Relay => {
                let wait = self.backoff.after_491(self.role == Role::Uac);
                self.retry = Some((now + wait, purpose));
            }
            None | Some(408) | Some(481) => {
                let cause = if purpose == Purpose::Refresh {
                    EndCause::RefreshFailed
                } else {
                    EndCause::DialogGone
                };
                self.actions.push_back(Action::Bye(Some(cause)));
                self.end();
            }
            // Another failure leaves the session as it was, until it expires.
            Some(_) => {}
        }
    }

    /// Acts on every deadline that is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let State::AwaitingAck {
            next,
            interval,
            give_up,
        } = self.state
        {
            if give_up <= now {
                self.actions.push_back(Action::Bye(Some(EndCause::NoAck)));
                self.end();
                return;
            }
            if next <= now {
                self.actions.push_back(Action::Retransmit2xx);
                let interval = (interval * 2).min(self.timers.t2);
                self.state = State::AwaitingAck {
                    next: now + interval,
                    interval,
                    give_up,
                };
            }
        }
        if let Some((at, purpose)) = self.retry
            && at <= now
        {
            self.retry = None;
            if self.start_reinvite(now, purpose) {
                self.actions.push_back(match purpose {
                    Purpose::Refresh => Action::Refresh {
                        update: self.refresh_with_update,
                    },
                    _ => Action::RetryReinvite,
                });
            }
        }
        let Some(timer) = self.session else {
            return;
        };
        let busy = self.ours.is_some() || self.theirs || self.retry.is_some();
        let (at, reason) = timer.next(busy);
        if at > now {
            return;
        }
        if reason == Reason::SessionExpiry {
            self.actions
                .push_back(Action::Bye(Some(EndCause::SessionExpired)));
            self.end();
        } else if self.start_reinvite(now, Purpose::Refresh) {
            self.actions.push_back(Action::Refresh {
                update: self.refresh_with_update,
            });
        }
    }

    /// The next thing the shell must do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next deadline and why it is due.
    pub fn poll_timeout(&self) -> Option<(Instant, Reason)> {
        let ack = match self.state {
            State::AwaitingAck { next, give_up, .. } if give_up <= next => {
                Some((give_up, Reason::AckTimeout))
            }
            State::AwaitingAck { next, .. } => Some((next, Reason::Retransmit2xx)),
            _ => None,
        };
        let retry = self.retry.map(|(at, _)| (at, Reason::GlareRetry));
        let busy = self.ours.is_some() || self.theirs || self.retry.is_some();
        let session = self.session.map(|t| t.next(busy));
        [ack, retry, session]
            .into_iter()
            .flatten()
            .min_by_key(|(at, _)| *at)
    }
}
