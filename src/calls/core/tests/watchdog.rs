//! The watchdog: RTP inactivity (not while held) and the maximum call duration.

use std::time::{Duration, Instant};

use super::secs;
use crate::calls::core::{EndCause, Reason, Watchdog, WatchdogConfig};

fn dog(rtp: Option<f64>, max: Option<f64>) -> Watchdog {
    Watchdog::new(WatchdogConfig {
        rtp_timeout: rtp.map(secs),
        max_duration: max.map(secs),
    })
}

/// Steps through the watchdog's deadlines up to `until`, feeding `packets(leg, t)` at each,
/// and returns when and why it fired.
fn drive(
    w: &mut Watchdog,
    t0: Instant,
    until: f64,
    packets: impl Fn(usize, Duration) -> u64,
) -> Option<(Duration, EndCause)> {
    while let Some((at, _)) = w.poll_timeout() {
        if at > t0 + secs(until) {
            return None;
        }
        for leg in 0..2 {
            w.handle_rtp_count(at, leg, packets(leg, at - t0));
        }
        if let Some(cause) = w.handle_timeout(at) {
            return Some((at - t0, cause));
        }
    }
    None
}

fn flowing(_leg: usize, t: Duration) -> u64 {
    (t.as_millis() / 20) as u64
}

fn answered(w: &mut Watchdog, t0: Instant) {
    w.handle_answered(t0);
    w.watch(t0, 0, true);
    w.watch(t0, 1, true);
}

#[test]
fn a_leg_that_stops_sending_rtp_ends_the_call() {
    let t0 = Instant::now();
    let mut w = dog(Some(20.0), None);
    answered(&mut w, t0);
    let fired = drive(&mut w, t0, 600.0, |leg, t| {
        if leg == 1 && t > secs(30.0) {
            1500
        } else {
            flowing(leg, t)
        }
    });
    let (at, cause) = fired.expect("the silent leg is caught");
    assert_eq!(cause, EndCause::RtpTimeout);
    assert!(at >= secs(50.0) && at <= secs(55.0), "{at:?}");
}

#[test]
fn flowing_rtp_never_times_out() {
    let t0 = Instant::now();
    let mut w = dog(Some(20.0), None);
    answered(&mut w, t0);
    assert_eq!(drive(&mut w, t0, 3600.0, flowing), None);
}

#[test]
fn no_rtp_timeout_while_a_leg_is_held() {
    let t0 = Instant::now();
    let mut w = dog(Some(20.0), None);
    answered(&mut w, t0);
    w.handle_hold(t0 + secs(10.0), 1, true);
    let silent_b = |leg, t| if leg == 1 { 0 } else { flowing(leg, t) };
    assert_eq!(drive(&mut w, t0, 600.0, silent_b), None);
    assert_eq!(w.poll_timeout().map(|(_, r)| r), Some(Reason::RtpCheck));
}

#[test]
fn an_rtp_timeout_after_hold_counts_from_the_unhold() {
    let t0 = Instant::now();
    let mut w = dog(Some(20.0), None);
    answered(&mut w, t0);
    w.handle_hold(t0 + secs(1.0), 1, true);
    let silent_b = |leg, t| if leg == 1 { 0 } else { flowing(leg, t) };
    assert_eq!(drive(&mut w, t0, 300.0, silent_b), None);
    w.handle_hold(t0 + secs(300.0), 1, false);
    let (at, cause) = drive(&mut w, t0, 600.0, silent_b).expect("fires after the unhold");
    assert_eq!(cause, EndCause::RtpTimeout);
    assert!(at >= secs(320.0) && at <= secs(325.0), "{at:?}");
}

#[test]
fn unwatched_legs_are_not_judged() {
    let t0 = Instant::now();
    let mut w = dog(Some(20.0), None);
    w.handle_answered(t0);
    w.watch(t0, 0, true);
    let only_a = |leg, t| if leg == 0 { flowing(leg, t) } else { 0 };
    assert_eq!(drive(&mut w, t0, 600.0, only_a), None);
    assert!(!dog(Some(20.0), None).wants_rtp());
}

#[test]
fn the_maximum_duration_ends_the_call_once() {
    let t0 = Instant::now();
    let mut w = dog(None, Some(3600.0));
    answered(&mut w, t0);
    assert_eq!(
        w.poll_timeout(),
        Some((t0 + secs(3600.0), Reason::MaxDuration))
    );
    assert_eq!(
        drive(&mut w, t0, 7200.0, flowing),
        Some((secs(3600.0), EndCause::MaxDuration))
    );
    assert_eq!(w.handle_timeout(t0 + secs(7200.0)), None);
    assert_eq!(w.poll_timeout(), None);
}

#[test]
fn no_limits_means_no_deadline() {
    let t0 = Instant::now();
    let mut w = dog(None, None);
    answered(&mut w, t0);
    assert_eq!(w.poll_timeout(), None);
    let mut unanswered = dog(Some(20.0), Some(60.0));
    assert_eq!(unanswered.poll_timeout(), None);
    assert_eq!(unanswered.handle_timeout(t0 + secs(1000.0)), None);
}
