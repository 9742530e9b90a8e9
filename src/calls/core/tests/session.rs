//! RFC 4028 session timers as UAS and UAC: negotiation, refreshes, expiry.

use std::time::Instant;

use super::{confirmed, drain, run, secs};
use crate::calls::core::invite::Purpose;
use crate::calls::core::session_timer::{
    SessionExpires, UasDecision, names_timer, negotiate_uac, negotiate_uas, parse_min_se,
    parse_session_expires, retry_after_422, uac_headers,
};
use crate::calls::core::{
    Action, EndCause, Negotiated, Reason, Refresher, ReinviteAnswer, Role, SessionTimerConfig,
};

fn config() -> SessionTimerConfig {
    SessionTimerConfig::default()
}

fn se(delta: u32, refresher: Option<Refresher>) -> Option<SessionExpires> {
    Some(SessionExpires { delta, refresher })
}

fn negotiated(interval: u32, refresher: Refresher) -> Negotiated {
    Negotiated {
        interval,
        refresher,
        require: true,
    }
}

#[test]
fn session_expires_and_min_se_parse() {
    assert_eq!(
        parse_session_expires("1800;refresher=uac"),
        se(1800, Some(Refresher::Uac))
    );
    assert_eq!(
        parse_session_expires(" 600 ; Refresher = UAS"),
        se(600, Some(Refresher::Uas))
    );
    assert_eq!(parse_session_expires("90"), se(90, None));
    assert_eq!(parse_session_expires("soon"), None);
    assert_eq!(parse_min_se("120;x=y"), Some(120));
    assert!(names_timer(["100rel, Timer", "replaces"]));
    assert!(!names_timer(["100rel", "timers"]));
}

#[test]
fn an_interval_below_our_min_se_is_answered_422() {
    let decision = negotiate_uas(&config(), se(60, None), None, true);
    assert_eq!(decision, UasDecision::TooSmall { min_se: 90 });
}

#[test]
fn the_uas_caps_the_interval_at_its_own_and_keeps_the_min_se() {
    let decision = negotiate_uas(&config(), se(7200, Some(Refresher::Uas)), None, true);
    assert_eq!(decision, UasDecision::Use(negotiated(1800, Refresher::Uas)));
    let floor = negotiate_uas(&config(), se(100, None), Some(300), true);
    assert_eq!(floor, UasDecision::Use(negotiated(300, Refresher::Uac)));
    assert_eq!(
        negotiated(300, Refresher::Uac).header_value(),
        "300;refresher=uac"
    );
}

#[test]
fn a_uac_without_the_extension_leaves_the_refreshing_to_us() {
    let decision = negotiate_uas(&config(), None, None, false);
    assert_eq!(
        decision,
        UasDecision::Use(Negotiated {
            interval: 1800,
            refresher: Refresher::Uas,
            require: false
        })
    );
}

#[test]
fn session_timers_off_negotiate_nothing() {
    let off = SessionTimerConfig {
        enabled: false,
        ..config()
    };
    assert_eq!(
        negotiate_uas(&off, se(60, None), None, true),
        UasDecision::Off
    );
    assert!(uac_headers(&off).is_empty());
    let names: Vec<_> = uac_headers(&config()).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Supported", "Session-Expires", "Min-SE"]);
}

#[test]
fn as_uac_we_take_the_interval_of_the_2xx_or_none() {
    assert_eq!(
        negotiate_uac(se(900, Some(Refresher::Uas))),
        Some(negotiated(900, Refresher::Uas))
    );
    assert_eq!(
        negotiate_uac(se(900, None)).map(|n| n.refresher),
        Some(Refresher::Uac)
    );
    assert_eq!(negotiate_uac(None), None);
}

#[test]
fn after_422_we_retry_only_with_a_larger_interval() {
    assert_eq!(retry_after_422(90, Some(300)), Some(300));
    assert_eq!(retry_after_422(300, Some(300)), None);
    assert_eq!(retry_after_422(300, None), None);
}

#[test]
fn as_uas_with_the_caller_refreshing_no_refresh_means_bye_before_expiry() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uas, t0);
    d.set_session_timer(t0, negotiated(1800, Refresher::Uac));
    assert_eq!(
        d.poll_timeout(),
        Some((t0 + secs(1768.0), Reason::SessionExpiry))
    );
    let actions = run(&mut d, t0, secs(4000.0));
    assert_eq!(
        actions,
        vec![(secs(1768.0), Action::Bye(Some(EndCause::SessionExpired)))]
    );
    assert!(d.is_terminated());
}

#[test]
fn a_short_interval_ends_a_third_early() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uas, t0);
    d.set_session_timer(t0, negotiated(90, Refresher::Uac));
    assert_eq!(
        d.poll_timeout(),
        Some((t0 + secs(60.0), Reason::SessionExpiry))
    );
}

#[test]
fn a_refreshing_reinvite_from_the_caller_keeps_the_session() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uas, t0);
    d.set_session_timer(t0, negotiated(600, Refresher::Uac));
    let at = t0 + secs(300.0);
    assert_eq!(d.handle_reinvite(at), ReinviteAnswer::Accept);
    d.handle_reinvite_answered(at, 200, Some(600));
    assert!(run(&mut d, t0, secs(700.0)).is_empty());
    assert_eq!(
        d.poll_timeout(),
        Some((at + secs(600.0 - 32.0), Reason::SessionExpiry))
    );
}

#[test]
fn a_refreshing_update_from_the_caller_keeps_the_session() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uas, t0);
    d.set_session_timer(t0, negotiated(600, Refresher::Uac));
    d.handle_update_refresh(t0 + secs(290.0), None);
    d.handle_update_refresh(t0 + secs(580.0), Some(1200));
    assert!(run(&mut d, t0, secs(1000.0)).is_empty());
    assert!(!d.is_terminated());
}

#[test]
fn a_rejected_refresh_from_the_caller_does_not_refresh() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uas, t0);
    d.set_session_timer(t0, negotiated(600, Refresher::Uac));
    assert_eq!(d.handle_reinvite(t0 + secs(300.0)), ReinviteAnswer::Accept);
    d.handle_reinvite_answered(t0 + secs(300.0), 488, None);
    let actions = run(&mut d, t0, secs(1000.0));
    assert_eq!(
        actions,
        vec![(secs(568.0), Action::Bye(Some(EndCause::SessionExpired)))]
    );
}

/// A UAC leg where we refresh every `interval`, UPDATE allowed or not.
fn refreshing(t0: Instant, interval: u32, update: bool) -> crate::calls::core::InviteDialog {
    let mut d = confirmed(Role::Uac, t0);
    d.set_refresh_with_update(update);
    d.set_session_timer(t0, negotiated(interval, Refresher::Uac));
    d
}

#[test]
fn as_refresher_we_refresh_with_update_at_half_the_interval() {
    let t0 = Instant::now();
    let mut d = refreshing(t0, 1800, true);
    assert_eq!(
        d.poll_timeout(),
        Some((t0 + secs(900.0), Reason::SessionRefresh))
    );
    let actions = run(&mut d, t0, secs(900.0));
    assert_eq!(
        actions,
        vec![(secs(900.0), Action::Refresh { update: true })]
    );
    d.handle_reinvite_response(t0 + secs(900.1), Some(200));
    assert!(drain(&mut d).is_empty(), "an UPDATE's 2xx is not ACKed");
    assert_eq!(
        d.poll_timeout(),
        Some((t0 + secs(1800.1), Reason::SessionRefresh))
    );
}

#[test]
fn without_update_we_refresh_by_reinvite_and_ack_its_2xx() {
    let t0 = Instant::now();
    let mut d = refreshing(t0, 600, false);
    let actions = run(&mut d, t0, secs(300.0));
    assert_eq!(
        actions,
        vec![(secs(300.0), Action::Refresh { update: false })]
    );
    d.handle_reinvite_response(t0 + secs(300.2), Some(200));
    assert_eq!(drain(&mut d), vec![Action::SendAck]);
}

#[test]
fn as_uas_refresher_for_a_caller_without_timers_we_refresh() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uas, t0);
    d.set_session_timer(t0, negotiated(1800, Refresher::Uas));
    assert_eq!(
        d.poll_timeout(),
        Some((t0 + secs(900.0), Reason::SessionRefresh))
    );
}

#[test]
fn a_refresh_answered_408_or_481_or_timing_out_ends_the_call() {
    for status in [Some(408), Some(481), None] {
        let t0 = Instant::now();
        let mut d = refreshing(t0, 600, true);
        run(&mut d, t0, secs(300.0));
        d.handle_reinvite_response(t0 + secs(332.0), status);
        assert_eq!(
            drain(&mut d),
            vec![Action::Bye(Some(EndCause::RefreshFailed))]
        );
        assert!(d.is_terminated());
    }
}

#[test]
fn a_refresh_rejected_otherwise_lets_the_session_expire() {
    let t0 = Instant::now();
    let mut d = refreshing(t0, 600, true);
    run(&mut d, t0, secs(300.0));
    d.handle_reinvite_response(t0 + secs(300.1), Some(500));
    let actions = run(&mut d, t0, secs(700.0));
    assert_eq!(
        actions.last().copied(),
        Some((secs(600.0), Action::Bye(Some(EndCause::SessionExpired))))
    );
}

#[test]
fn a_refresh_meeting_491_is_retried_after_the_back_off() {
    let t0 = Instant::now();
    let mut d = refreshing(t0, 600, false);
    run(&mut d, t0, secs(300.0));
    d.handle_reinvite_response(t0 + secs(300.0), Some(491));
    let (at, reason) = d.poll_timeout().unwrap();
    assert_eq!(reason, Reason::GlareRetry);
    assert!(at >= t0 + secs(302.1) && at <= t0 + secs(304.0));
    d.handle_timeout(at);
    assert_eq!(drain(&mut d), vec![Action::Refresh { update: false }]);
}

#[test]
fn our_refresh_waits_while_their_reinvite_is_pending_and_theirs_refreshes() {
    let t0 = Instant::now();
    let mut d = refreshing(t0, 600, false);
    assert_eq!(d.handle_reinvite(t0 + secs(299.0)), ReinviteAnswer::Accept);
    assert_eq!(
        d.poll_timeout(),
        Some((t0 + secs(600.0), Reason::SessionExpiry)),
        "no refresh while theirs is in progress"
    );
    d.handle_timeout(t0 + secs(300.0));
    assert!(drain(&mut d).is_empty());
    d.handle_reinvite_answered(t0 + secs(301.0), 200, None);
    assert_eq!(
        d.poll_timeout(),
        Some((t0 + secs(601.0), Reason::SessionRefresh))
    );
}

#[test]
fn an_own_reinvite_refreshes_the_session() {
    let t0 = Instant::now();
    let mut d = refreshing(t0, 600, true);
    assert!(d.start_reinvite(t0 + secs(100.0), Purpose::Own));
    d.handle_reinvite_response(t0 + secs(100.0), Some(200));
    assert_eq!(drain(&mut d), vec![Action::SendAck]);
    assert_eq!(
        d.poll_timeout(),
        Some((t0 + secs(400.0), Reason::SessionRefresh))
    );
}
