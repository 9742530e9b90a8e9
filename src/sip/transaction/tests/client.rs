//! Client transactions driven one message at a time.

use std::time::Instant;

use super::*;
use crate::sip::transaction::{TxnError, TxnState};

#[test]
fn invite_times_out_after_timer_b() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Invite, "z9hG4bKb"), udp(2));
    let mut sent: Vec<Duration> = transmits(&mut layer)
        .iter()
        .map(|_| Duration::ZERO)
        .collect();
    let (later, seen) = run_until(&mut layer, t0, t0 + secs(100.0));
    sent.extend(later.iter().map(|(at, _)| *at));
    let expected: Vec<Duration> = [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
        .into_iter()
        .map(secs)
        .collect();
    assert_eq!(sent, expected, "Timer A doubles without a cap at T2");
    assert_eq!(
        seen,
        vec![TxnEvent::Timeout { txn }, TxnEvent::Terminated { txn }]
    );
    assert!(
        later
            .iter()
            .all(|(_, t)| t.wire == request(Method::Invite, "z9hG4bKb").wire)
    );
    assert_eq!((layer.len(), layer.poll_timeout()), (0, None));
}

#[test]
fn timer_b_fires_exactly_64_t1_after_the_invite() {
    let (t0, mut layer) = (Instant::now(), layer());
    layer.send_request(t0, request(Method::Invite, "z9hG4bKb"), udp(2));
    let (_, seen) = run_until(&mut layer, t0, t0 + secs(31.999));
    assert!(seen.is_empty());
    let (_, seen) = run_until(&mut layer, t0, t0 + secs(32.0));
    assert!(matches!(seen[0], TxnEvent::Timeout { .. }));
}

#[test]
fn non_invite_retransmits_capped_at_t2() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Options, "z9hG4bKe"), udp(2));
    assert_eq!(transmits(&mut layer).len(), 1);
    let (sent, seen) = run_until(&mut layer, t0, t0 + secs(100.0));
    let times: Vec<Duration> = sent.iter().map(|(at, _)| *at).collect();
    let expected: Vec<Duration> = [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
        .into_iter()
        .map(secs)
        .collect();
    assert_eq!(times, expected);
    assert_eq!(
        seen,
        vec![TxnEvent::Timeout { txn }, TxnEvent::Terminated { txn }]
    );
}

#[test]
fn non_invite_proceeding_retransmits_every_t2() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Bye, "z9hG4bKp"), udp(2));
    transmits(&mut layer);
    layer.handle_message(
        t0 + secs(0.2),
        response(100, "z9hG4bKp", Method::Bye),
        udp(2),
    );
    assert_eq!(layer.state(txn), Some(TxnState::Proceeding));
    assert!(matches!(
        events(&mut layer)[..],
        [TxnEvent::Response { .. }]
    ));
    let (sent, _) = run_until(&mut layer, t0, t0 + secs(9.0));
    let times: Vec<Duration> = sent.iter().map(|(at, _)| *at).collect();
    assert_eq!(times, vec![secs(0.5), secs(4.5), secs(8.5)]);
}

#[test]
fn provisional_stops_timers_a_and_b() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Invite, "z9hG4bKq"), udp(2));
    layer.handle_message(
        t0 + secs(0.1),
        response(180, "z9hG4bKq", Method::Invite),
        udp(2),
    );
    assert_eq!(layer.state(txn), Some(TxnState::Proceeding));
    assert_eq!(layer.poll_timeout(), None);
    layer.handle_message(
        t0 + secs(0.2),
        response(183, "z9hG4bKq", Method::Invite),
        udp(2),
    );
    assert_eq!(
        events(&mut layer).len(),
        2,
        "every provisional response is passed up"
    );
}

#[test]
fn invite_non2xx_is_acked_and_ack_resent_on_retransmission() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Invite, "z9hG4bKn"), udp(2));
    transmits(&mut layer);
    let busy = response(486, "z9hG4bKn", Method::Invite);
    layer.handle_message(t0 + secs(0.1), busy.clone(), udp(2));
    let ack = wire("ACK z9hG4bKn uac.example:5060 ACK");
    assert_eq!(
        transmits(&mut layer),
        vec![Transmit {
            to: udp(2),
            wire: ack.clone(),
            txn: Some(txn)
        }]
    );
    assert_eq!(
        events(&mut layer),
        vec![TxnEvent::Response {
            txn,
            env: busy.clone(),
            from: udp(2)
        }]
    );
    assert_eq!(layer.state(txn), Some(TxnState::Completed));
    layer.handle_message(t0 + secs(0.6), busy, udp(2));
    assert_eq!(transmits(&mut layer).len(), 1, "ACK re-sent");
    assert!(
        events(&mut layer).is_empty(),
        "retransmitted final absorbed"
    );
    let (_, seen) = run_until(&mut layer, t0, t0 + secs(32.099));
    assert!(seen.is_empty());
    let (_, seen) = run_until(&mut layer, t0, t0 + secs(32.1));
    assert_eq!(seen, vec![TxnEvent::Terminated { txn }], "Timer D is 32 s");
}

#[test]
fn accepted_state_passes_2xx_retransmissions() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Invite, "z9hG4bKa"), udp(2));
    transmits(&mut layer);
    let ok = response(200, "z9hG4bKa", Method::Invite);
    for n in 1..=3 {
        layer.handle_message(t0 + secs(f64::from(n)), ok.clone(), udp(2));
        assert_eq!(
            events(&mut layer),
            vec![TxnEvent::Response {
                txn,
                env: ok.clone(),
                from: udp(2)
            }]
        );
    }
    assert_eq!(layer.state(txn), Some(TxnState::Accepted));
    assert!(
        transmits(&mut layer).is_empty(),
        "the ACK for 2xx is the TU's"
    );
    layer.handle_message(
        t0 + secs(4.0),
        response(486, "z9hG4bKa", Method::Invite),
        udp(2),
    );
    assert!(
        events(&mut layer).is_empty(),
        "non-2xx in Accepted is absorbed"
    );
    let (_, seen) = run_until(&mut layer, t0, t0 + secs(33.0));
    assert_eq!(
        seen,
        vec![TxnEvent::Terminated { txn }],
        "Timer M = 64*T1 after the first 2xx"
    );
    layer.handle_message(t0 + secs(34.0), ok.clone(), udp(2));
    assert_eq!(
        events(&mut layer),
        vec![TxnEvent::StrayResponse {
            env: ok,
            from: udp(2)
        }]
    );
}

#[test]
fn responses_match_by_branch_and_cseq_method() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Invite, "z9hG4bKm"), udp(2));
    let cancel_ok = response(200, "z9hG4bKm", Method::Cancel);
    layer.handle_message(t0, cancel_ok.clone(), udp(2));
    let other = response(200, "z9hG4bKother", Method::Invite);
    layer.handle_message(t0, other.clone(), udp(2));
    assert_eq!(
        events(&mut layer),
        vec![
            TxnEvent::StrayResponse {
                env: cancel_ok,
                from: udp(2)
            },
            TxnEvent::StrayResponse {
                env: other,
                from: udp(2)
            }
        ]
    );
    assert_eq!(layer.state(txn), Some(TxnState::Calling));
}

#[test]
fn non_invite_final_absorbs_retransmissions_until_timer_k() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Register, "z9hG4bKr"), udp(2));
    let ok = response(200, "z9hG4bKr", Method::Register);
    layer.handle_message(t0 + secs(0.1), ok.clone(), udp(2));
    layer.handle_message(t0 + secs(0.7), ok, udp(2));
    assert_eq!(events(&mut layer).len(), 1);
    assert_eq!(layer.state(txn), Some(TxnState::Completed));
    assert_eq!(
        layer.poll_timeout(),
        Some(t0 + secs(5.1)),
        "Timer K = T4, E and F stopped"
    );
}

#[test]
fn transport_error_ends_a_calling_transaction() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Invite, "z9hG4bKt"), tcp(2));
    layer.handle_transport_error(t0, txn);
    assert_eq!(
        events(&mut layer),
        vec![
            TxnEvent::TransportError { txn },
            TxnEvent::Terminated { txn }
        ]
    );
    assert_eq!((layer.len(), layer.poll_timeout()), (0, None));
    layer.handle_transport_error(t0, txn);
    assert!(events(&mut layer).is_empty(), "unknown ids are ignored");
}

#[test]
fn transport_error_after_a_final_keeps_the_transaction_until_its_timer() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Invite, "z9hG4bKt"), udp(2));
    layer.handle_message(t0, response(503, "z9hG4bKt", Method::Invite), udp(2));
    events(&mut layer);
    layer.handle_transport_error(t0, txn);
    assert_eq!(events(&mut layer), vec![TxnEvent::TransportError { txn }]);
    assert_eq!(layer.state(txn), Some(TxnState::Completed));
}

#[test]
fn timeout_reason_names_timer_and_branch() {
    let (t0, mut layer) = (Instant::now(), layer());
    assert_eq!(layer.timeout_reason(), None);
    layer.send_request(t0, request(Method::Invite, "z9hG4bKabc"), tcp(2));
    assert_eq!(
        layer.timeout_reason().as_deref(),
        Some("Timer B on branch z9hG4bKabc (INVITE client, Calling)")
    );
}

#[test]
fn ack_request_creates_no_transaction() {
    let (t0, mut layer) = (Instant::now(), layer());
    let ack = request(Method::Ack, "z9hG4bKack");
    let txn = layer.send_request(t0, ack.clone(), udp(2));
    assert_eq!(
        transmits(&mut layer),
        vec![Transmit {
            to: udp(2),
            wire: ack.wire,
            txn: Some(txn)
        }]
    );
    assert_eq!(events(&mut layer), vec![TxnEvent::Terminated { txn }]);
    assert_eq!((layer.len(), layer.poll_timeout()), (0, None));
}

#[test]
fn invalid_status_codes_are_dropped() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Invite, "z9hG4bKz"), udp(2));
    for code in [0, 99, 700, 999] {
        layer.handle_message(t0, response(code, "z9hG4bKz", Method::Invite), udp(2));
    }
    assert!(events(&mut layer).is_empty());
    assert_eq!(layer.state(txn), Some(TxnState::Calling));
}

#[test]
fn terminate_removes_a_hanging_invite_and_rejects_unknown_ids() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = layer.send_request(t0, request(Method::Invite, "z9hG4bKh"), udp(2));
    layer.handle_message(t0, response(180, "z9hG4bKh", Method::Invite), udp(2));
    events(&mut layer);
    assert_eq!(layer.terminate(txn), Ok(()));
    assert_eq!(events(&mut layer), vec![TxnEvent::Terminated { txn }]);
    assert_eq!(layer.terminate(txn), Err(TxnError::Unknown(txn)));
    assert!(layer.is_empty());
}
