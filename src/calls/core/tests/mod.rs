//! Virtual-time tests of the call core: each scripts inputs at chosen instants, jumps straight
//! to the core's deadlines, and asserts the actions and when they came.

mod invite;
mod session;
mod watchdog;

use std::time::{Duration, Instant};

use super::{Action, InviteDialog, Role, Timers};

pub(super) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

pub(super) fn timers() -> Timers {
    Timers::with_t1(Duration::from_millis(500))
}

pub(super) fn leg(role: Role) -> InviteDialog {
    InviteDialog::new(role, timers(), 7)
}

/// A confirmed leg: the UAS got its ACK, the UAC got its 2xx.
pub(super) fn confirmed(role: Role, t0: Instant) -> InviteDialog {
    let mut d = leg(role);
    match role {
        Role::Uas => {
            d.handle_2xx_sent(t0);
            d.handle_ack(t0);
        }
        Role::Uac => {
            d.handle_2xx_received(t0);
            assert_eq!(drain(&mut d), vec![Action::SendAck]);
        }
    }
    d
}

pub(super) fn drain(d: &mut InviteDialog) -> Vec<Action> {
    std::iter::from_fn(|| d.poll_action()).collect()
}

/// Jumps from deadline to deadline up to `until`, returning each action with the virtual time
/// (since `t0`) it came at.
pub(super) fn run(d: &mut InviteDialog, t0: Instant, until: Duration) -> Vec<(Duration, Action)> {
    let mut out = Vec::new();
    while let Some((at, _)) = d.poll_timeout() {
        if at > t0 + until {
            break;
        }
        d.handle_timeout(at);
        out.extend(drain(d).into_iter().map(|a| (at - t0, a)));
    }
    out
}
