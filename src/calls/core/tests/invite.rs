//! The INVITE dialog rules: 2xx/ACK, CANCEL races, re-INVITE glare, BYE crossings.

use std::time::Instant;

use super::{confirmed, drain, leg, run, secs};
use crate::calls::core::invite::Purpose;
use crate::calls::core::{
    Action, CancelAnswer, EndCause, InviteDialog, Reason, ReinviteAnswer, Role, Timers,
};

#[test]
fn uas_retransmits_its_2xx_with_t1_doubling_up_to_t2() {
    let t0 = Instant::now();
    let mut d = leg(Role::Uas);
    d.handle_2xx_sent(t0);
    let sent: Vec<_> = run(&mut d, t0, secs(16.0))
        .into_iter()
        .map(|(at, _)| at)
        .collect();
    let expected: Vec<_> = [0.5, 1.5, 3.5, 7.5, 11.5, 15.5].map(secs).to_vec();
    assert_eq!(sent, expected);
}

#[test]
fn the_ack_stops_the_2xx_retransmission() {
    let t0 = Instant::now();
    let mut d = leg(Role::Uas);
    d.handle_2xx_sent(t0);
    assert_eq!(
        d.poll_timeout(),
        Some((t0 + secs(0.5), Reason::Retransmit2xx))
    );
    d.handle_ack(t0 + secs(0.2));
    assert_eq!(d.poll_timeout(), None);
    assert!(!d.awaiting_ack());
}

#[test]
fn a_lost_2xx_is_retransmitted_until_the_ack_comes() {
    let t0 = Instant::now();
    let mut d = leg(Role::Uas);
    d.handle_2xx_sent(t0);
    let actions = run(&mut d, t0, secs(2.0));
    assert_eq!(
        actions,
        vec![
            (secs(0.5), Action::Retransmit2xx),
            (secs(1.5), Action::Retransmit2xx)
        ]
    );
    d.handle_ack(t0 + secs(1.6));
    assert!(run(&mut d, t0, secs(60.0)).is_empty());
}

#[test]
fn an_ack_that_never_comes_ends_the_leg_with_bye_after_64_t1() {
    let t0 = Instant::now();
    let mut d = leg(Role::Uas);
    d.handle_2xx_sent(t0);
    let actions = run(&mut d, t0, secs(120.0));
    let last = actions.last().copied();
    assert_eq!(last, Some((secs(32.0), Action::Bye(Some(EndCause::NoAck)))));
    assert!(d.is_terminated());
    assert_eq!(d.poll_timeout(), None);
}

#[test]
fn the_ack_timeout_scales_with_t1() {
    let t0 = Instant::now();
    let mut d = InviteDialog::new(Role::Uas, Timers::with_t1(secs(0.1)), 1);
    d.handle_2xx_sent(t0);
    let last = run(&mut d, t0, secs(60.0)).last().copied();
    assert_eq!(last, Some((secs(6.4), Action::Bye(Some(EndCause::NoAck)))));
}

#[test]
fn a_cancel_before_the_answer_ends_the_leg_with_487() {
    let t0 = Instant::now();
    let mut d = leg(Role::Uas);
    assert_eq!(d.handle_cancel(t0), CancelAnswer::Terminate);
    assert!(d.is_terminated());
}

#[test]
fn a_cancel_crossing_our_200_is_too_late_and_the_call_goes_on() {
    let t0 = Instant::now();
    let mut d = leg(Role::Uas);
    d.handle_2xx_sent(t0);
    assert_eq!(d.handle_cancel(t0 + secs(0.01)), CancelAnswer::TooLate);
    assert!(!d.is_terminated());
    d.handle_ack(t0 + secs(0.05));
    assert!(!d.is_terminated());
    assert_eq!(d.handle_reinvite(t0 + secs(1.0)), ReinviteAnswer::Accept);
}

#[test]
fn a_uac_acks_every_2xx_including_retransmissions() {
    let t0 = Instant::now();
    let mut d = leg(Role::Uac);
    d.handle_2xx_received(t0);
    d.handle_2xx_received(t0 + secs(0.5));
    assert_eq!(drain(&mut d), vec![Action::SendAck, Action::SendAck]);
    assert!(!d.is_terminated());
}

#[test]
fn a_200_crossing_our_cancel_is_acked_then_hung_up() {
    let t0 = Instant::now();
    let mut d = leg(Role::Uac);
    d.cancel(t0);
    d.handle_2xx_received(t0 + secs(0.01));
    assert_eq!(drain(&mut d), vec![Action::SendAck, Action::Bye(None)]);
    assert!(d.is_terminated());
    d.handle_2xx_received(t0 + secs(0.5));
    assert_eq!(
        drain(&mut d),
        vec![Action::SendAck],
        "a retransmitted 2xx is only ACKed"
    );
}

#[test]
fn a_failed_invite_ends_the_uac_leg() {
    let t0 = Instant::now();
    let mut d = leg(Role::Uac);
    d.cancel(t0);
    d.handle_invite_failed(t0 + secs(0.1));
    assert!(d.is_terminated());
    assert!(drain(&mut d).is_empty());
}

#[test]
fn a_reinvite_on_an_idle_dialog_is_accepted() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uas, t0);
    assert_eq!(d.handle_reinvite(t0), ReinviteAnswer::Accept);
    d.handle_reinvite_answered(t0, 200, None);
    assert_eq!(d.handle_reinvite(t0), ReinviteAnswer::Accept);
}

#[test]
fn their_reinvite_crossing_ours_gets_491() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uac, t0);
    assert!(d.start_reinvite(t0, Purpose::Own));
    assert_eq!(d.handle_reinvite(t0 + secs(0.01)), ReinviteAnswer::Glare);
}

#[test]
fn a_second_reinvite_before_the_first_is_answered_gets_500() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uas, t0);
    assert_eq!(d.handle_reinvite(t0), ReinviteAnswer::Accept);
    assert_eq!(d.handle_reinvite(t0 + secs(0.1)), ReinviteAnswer::Pending);
}

#[test]
fn we_do_not_start_a_reinvite_while_theirs_is_pending_or_before_the_answer() {
    let t0 = Instant::now();
    let mut early = leg(Role::Uac);
    assert!(!early.start_reinvite(t0, Purpose::Own));
    let mut d = confirmed(Role::Uas, t0);
    assert_eq!(d.handle_reinvite(t0), ReinviteAnswer::Accept);
    assert!(!d.start_reinvite(t0, Purpose::Own));
    d.handle_reinvite_answered(t0, 200, None);
    assert!(d.start_reinvite(t0, Purpose::Own));
    assert!(!d.start_reinvite(t0, Purpose::Own), "one of ours at a time");
}

/// Runs a 491 on our re-INVITE and returns when it may be sent again.
fn retry_after_491(role: Role, seed: u64) -> std::time::Duration {
    let t0 = Instant::now();
    let mut d = InviteDialog::new(role, super::timers(), seed);
    d.handle_2xx_received(t0);
    d.handle_2xx_sent(t0);
    d.handle_ack(t0);
    drain(&mut d);
    assert!(d.start_reinvite(t0, Purpose::Own));
    d.handle_reinvite_response(t0, Some(491));
    let (at, reason) = d.poll_timeout().expect("a retry is scheduled");
    assert_eq!(reason, Reason::GlareRetry);
    assert!(
        !d.start_reinvite(t0, Purpose::Own),
        "not before the back-off"
    );
    d.handle_timeout(at);
    assert_eq!(drain(&mut d), vec![Action::RetryReinvite]);
    at - t0
}

#[test]
fn after_491_the_call_id_owner_waits_2_1_to_4_seconds() {
    for seed in 0..200 {
        let wait = retry_after_491(Role::Uac, seed);
        assert!(wait >= secs(2.1) && wait <= secs(4.0), "{wait:?}");
        assert_eq!(wait.as_millis() % 10, 0, "in units of 10 ms");
    }
}

#[test]
fn after_491_the_other_side_waits_at_most_2_seconds() {
    let waits: Vec<_> = (0..200)
        .map(|seed| retry_after_491(Role::Uas, seed))
        .collect();
    assert!(waits.iter().all(|w| *w <= secs(2.0)));
    assert!(waits.iter().any(|w| *w < secs(1.0)) && waits.iter().any(|w| *w > secs(1.0)));
}

#[test]
fn the_glare_back_off_is_the_same_for_the_same_seed() {
    assert_eq!(
        retry_after_491(Role::Uac, 42),
        retry_after_491(Role::Uac, 42)
    );
}

#[test]
fn a_relayed_reinvite_meeting_491_is_not_retried() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uac, t0);
    assert!(d.start_reinvite(t0, Purpose::Relay));
    d.handle_reinvite_response(t0, Some(491));
    assert_eq!(d.poll_timeout(), None);
    assert!(
        d.start_reinvite(t0, Purpose::Relay),
        "the dialog is idle again"
    );
}

#[test]
fn a_bye_crossing_our_reinvite_ends_the_leg_and_a_late_200_is_only_acked() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uac, t0);
    assert!(d.start_reinvite(t0, Purpose::Own));
    assert!(!d.handle_bye(t0 + secs(0.01)));
    assert!(d.is_terminated());
    d.handle_reinvite_response(t0 + secs(0.02), Some(200));
    assert_eq!(drain(&mut d), vec![Action::SendAck]);
    d.handle_reinvite_response(t0 + secs(0.03), Some(481));
    assert!(drain(&mut d).is_empty(), "no BYE for a dialog already over");
}

#[test]
fn a_bye_while_their_reinvite_is_unanswered_says_so() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uas, t0);
    assert_eq!(d.handle_reinvite(t0), ReinviteAnswer::Accept);
    assert!(
        d.handle_bye(t0 + secs(0.1)),
        "the re-INVITE is to be answered 487"
    );
    assert_eq!(d.handle_reinvite(t0 + secs(0.2)), ReinviteAnswer::NoDialog);
}

#[test]
fn a_reinvite_answered_408_or_481_ends_the_dialog() {
    for status in [Some(408), Some(481), None] {
        let t0 = Instant::now();
        let mut d = confirmed(Role::Uac, t0);
        assert!(d.start_reinvite(t0, Purpose::Own));
        d.handle_reinvite_response(t0, status);
        assert_eq!(drain(&mut d), vec![Action::Bye(Some(EndCause::DialogGone))]);
        assert!(d.is_terminated());
    }
}

#[test]
fn a_reinvite_rejected_otherwise_leaves_the_dialog_as_it_was() {
    let t0 = Instant::now();
    let mut d = confirmed(Role::Uac, t0);
    assert!(d.start_reinvite(t0, Purpose::Own));
    d.handle_reinvite_response(t0, Some(183));
    assert!(!d.start_reinvite(t0, Purpose::Own), "a 1xx is not final");
    d.handle_reinvite_response(t0, Some(488));
    assert!(drain(&mut d).is_empty());
    assert!(!d.is_terminated());
    assert!(d.start_reinvite(t0, Purpose::Own));
}

#[test]
fn hanging_up_clears_every_deadline() {
    let t0 = Instant::now();
    let mut d = leg(Role::Uas);
    d.handle_2xx_sent(t0);
    d.hang_up(t0 + secs(0.1));
    assert_eq!(d.poll_timeout(), None);
    assert!(run(&mut d, t0, secs(60.0)).is_empty());
}
