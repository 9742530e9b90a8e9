//! Server transactions driven one message at a time, and reliability on both sides.

use std::time::Instant;

use super::*;
use crate::sip::transaction::{TxnError, TxnId, TxnState};

/// Feeds a new request and returns its server transaction.
fn receive(layer: &mut TransactionLayer, now: Instant, env: Envelope, from: Peer) -> TxnId {
    layer.handle_message(now, env, from);
    match events(layer).as_slice() {
        [TxnEvent::Request { txn, .. }] | [TxnEvent::Cancel { cancel: txn, .. }] => *txn,
        other => panic!("expected one new request, got {other:?}"),
    }
}

#[test]
fn request_retransmission_resends_last_response() {
    let (t0, mut layer) = (Instant::now(), layer());
    let invite = request(Method::Invite, "z9hG4bK1");
    let txn = receive(&mut layer, t0, invite.clone(), udp(1));
    layer.handle_message(t0, invite.clone(), udp(1));
    assert!(
        transmits(&mut layer).is_empty(),
        "nothing to re-send before the TU answers"
    );
    assert!(events(&mut layer).is_empty(), "retransmission absorbed");

    let ringing = response(180, "z9hG4bK1", Method::Invite);
    layer.send_response(t0, txn, ringing.clone()).unwrap();
    layer.handle_message(t0, invite.clone(), udp(1));
    let sent: Vec<Bytes> = transmits(&mut layer).into_iter().map(|t| t.wire).collect();
    assert_eq!(sent, vec![ringing.wire.clone(), ringing.wire]);

    let busy = response(486, "z9hG4bK1", Method::Invite);
    layer.send_response(t0, txn, busy.clone()).unwrap();
    layer.handle_message(t0 + secs(0.1), invite, udp(1));
    let sent: Vec<Transmit> = transmits(&mut layer);
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter()
            .all(|t| t.wire == busy.wire && t.to == udp(1) && t.txn == Some(txn))
    );
    assert!(events(&mut layer).is_empty());

    let bye = request(Method::Bye, "z9hG4bK2");
    let txn = receive(&mut layer, t0, bye.clone(), udp(1));
    layer.handle_message(t0, bye.clone(), udp(1));
    assert!(
        transmits(&mut layer).is_empty(),
        "Trying absorbs retransmissions"
    );
    layer
        .send_response(t0, txn, response(200, "z9hG4bK2", Method::Bye))
        .unwrap();
    layer.handle_message(t0, bye, udp(1));
    assert_eq!(transmits(&mut layer).len(), 2);
    assert!(events(&mut layer).is_empty());
}

#[test]
fn ack_for_non2xx_is_absorbed_by_server_txn() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = receive(&mut layer, t0, request(Method::Invite, "z9hG4bK3"), udp(1));
    layer
        .send_response(t0, txn, response(603, "z9hG4bK3", Method::Invite))
        .unwrap();
    transmits(&mut layer);
    layer.handle_message(t0 + secs(0.2), request(Method::Ack, "z9hG4bK3"), udp(1));
    assert!(events(&mut layer).is_empty(), "the ACK is not passed up");
    assert_eq!(layer.state(txn), Some(TxnState::Confirmed));
    layer.handle_message(t0 + secs(0.3), request(Method::Ack, "z9hG4bK3"), udp(1));
    let (sent, seen) = run_until(&mut layer, t0, t0 + secs(60.0));
    assert!(sent.is_empty(), "Timer G stopped");
    assert_eq!(seen, vec![TxnEvent::Terminated { txn }]);
    assert_eq!(layer.len(), 0);
}

#[test]
fn timer_g_retransmits_final_response_capped_at_t2() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = receive(&mut layer, t0, request(Method::Invite, "z9hG4bK4"), udp(1));
    layer
        .send_response(t0, txn, response(480, "z9hG4bK4", Method::Invite))
        .unwrap();
    transmits(&mut layer);
    let (sent, _) = run_until(&mut layer, t0, t0 + secs(16.0));
    let times: Vec<Duration> = sent.iter().map(|(at, _)| *at).collect();
    assert_eq!(
        times,
        [0.5, 1.5, 3.5, 7.5, 11.5, 15.5]
            .into_iter()
            .map(secs)
            .collect::<Vec<_>>()
    );
}

#[test]
fn timer_h_vs_timer_k() {
    let (t0, mut server) = (Instant::now(), layer());
    let txn = receive(&mut server, t0, request(Method::Invite, "z9hG4bK5"), udp(1));
    server
        .send_response(t0, txn, response(486, "z9hG4bK5", Method::Invite))
        .unwrap();
    let (_, seen) = run_until(&mut server, t0, t0 + secs(31.9));
    assert!(seen.is_empty());
    let (_, seen) = run_until(&mut server, t0, t0 + secs(32.0));
    assert_eq!(
        seen,
        vec![TxnEvent::Timeout { txn }, TxnEvent::Terminated { txn }],
        "H: 64*T1, no ACK"
    );

    let mut client = layer();
    let txn = client.send_request(t0, request(Method::Options, "z9hG4bK6"), udp(2));
    client.handle_message(t0, response(200, "z9hG4bK6", Method::Options), udp(2));
    events(&mut client);
    let (_, seen) = run_until(&mut client, t0, t0 + secs(4.9));
    assert!(seen.is_empty());
    let (_, seen) = run_until(&mut client, t0, t0 + secs(5.0));
    assert_eq!(seen, vec![TxnEvent::Terminated { txn }], "K: T4, silently");
}

#[test]
fn accepted_server_absorbs_invite_and_passes_ack_up() {
    let (t0, mut layer) = (Instant::now(), layer());
    let invite = request(Method::Invite, "z9hG4bK7");
    let txn = receive(&mut layer, t0, invite.clone(), udp(1));
    let ok = response(200, "z9hG4bK7", Method::Invite);
    layer.send_response(t0, txn, ok.clone()).unwrap();
    assert_eq!(layer.state(txn), Some(TxnState::Accepted));
    layer.handle_message(t0 + secs(0.5), invite, udp(1));
    assert_eq!(
        transmits(&mut layer).len(),
        1,
        "only the TU's 2xx, never a retransmission by us"
    );
    assert!(events(&mut layer).is_empty());
    layer
        .send_response(t0 + secs(0.5), txn, ok.clone())
        .unwrap();
    assert_eq!(
        transmits(&mut layer).len(),
        1,
        "the TU's 2xx retransmission passes through"
    );
    let ack = request(Method::Ack, "z9hG4bK7");
    layer.handle_message(t0 + secs(0.6), ack.clone(), udp(1));
    assert_eq!(
        events(&mut layer),
        vec![TxnEvent::StrayAck {
            env: ack,
            from: udp(1)
        }]
    );
    let (_, seen) = run_until(&mut layer, t0, t0 + secs(32.0));
    assert_eq!(seen, vec![TxnEvent::Terminated { txn }], "Timer L = 64*T1");
}

#[test]
fn ack_for_2xx_is_stray() {
    let (t0, mut layer) = (Instant::now(), layer());
    let ack = request(Method::Ack, "z9hG4bKnew");
    layer.handle_message(t0, ack.clone(), udp(1));
    assert_eq!(
        events(&mut layer),
        vec![TxnEvent::StrayAck {
            env: ack,
            from: udp(1)
        }]
    );
    assert!(layer.is_empty());
}

#[test]
fn cancel_matches_invite_server_txn() {
    let (t0, mut layer) = (Instant::now(), layer());
    let invite = receive(&mut layer, t0, request(Method::Invite, "z9hG4bK8"), udp(1));
    let cancel = request(Method::Cancel, "z9hG4bK8");
    layer.handle_message(t0, cancel.clone(), udp(1));
    let [
        TxnEvent::Cancel {
            cancel: cancel_txn,
            invite: Some(target),
            env,
            from,
        },
    ] = &events(&mut layer)[..]
    else {
        panic!("expected a Cancel event");
    };
    assert_eq!((*target, env, *from), (invite, &cancel, udp(1)));
    assert_ne!(*cancel_txn, invite);
    layer.handle_message(t0, cancel.clone(), udp(1));
    assert!(
        events(&mut layer).is_empty(),
        "CANCEL retransmission absorbed"
    );
    layer
        .send_response(t0, *cancel_txn, response(200, "z9hG4bK8", Method::Cancel))
        .unwrap();
    layer
        .send_response(t0, invite, response(487, "z9hG4bK8", Method::Invite))
        .unwrap();
    assert_eq!(layer.state(invite), Some(TxnState::Completed));

    layer.handle_message(t0, request(Method::Cancel, "z9hG4bKnone"), udp(1));
    assert!(matches!(
        events(&mut layer)[..],
        [TxnEvent::Cancel { invite: None, .. }]
    ));
}

#[test]
fn server_key_includes_sent_by() {
    let (t0, mut layer) = (Instant::now(), layer());
    let first = receive(&mut layer, t0, request(Method::Invite, "z9hG4bK9"), udp(1));
    let mut other = request(Method::Invite, "z9hG4bK9");
    other.sent_by = "other.example:5060".into();
    let second = receive(&mut layer, t0, other, udp(3));
    assert_ne!(first, second);
    assert_eq!(layer.len(), 2);
}

#[test]
fn send_response_rejects_misuse() {
    let (t0, mut layer) = (Instant::now(), layer());
    let txn = receive(&mut layer, t0, request(Method::Message, "z9hG4bKx"), udp(1));
    let ok = response(200, "z9hG4bKx", Method::Message);
    assert_eq!(
        layer.send_response(t0, txn, request(Method::Message, "z9hG4bKx")),
        Err(TxnError::NotAResponse(txn))
    );
    assert_eq!(
        layer.send_response(t0, txn, response(99, "z9hG4bKx", Method::Message)),
        Err(TxnError::InvalidStatus(99))
    );
    assert_eq!(
        layer.send_response(t0, TxnId(999), ok.clone()),
        Err(TxnError::Unknown(TxnId(999)))
    );
    layer.send_response(t0, txn, ok.clone()).unwrap();
    assert_eq!(
        layer.send_response(t0, txn, ok.clone()),
        Err(TxnError::AlreadyFinal(txn))
    );
    let client = layer.send_request(t0, request(Method::Options, "z9hG4bKy"), udp(2));
    assert_eq!(
        layer.send_response(t0, client, ok),
        Err(TxnError::NotServer(client))
    );
}

#[test]
fn reliable_transport_does_not_retransmit() {
    let (t0, mut layer) = (Instant::now(), layer());
    let invite = layer.send_request(t0, request(Method::Invite, "z9hG4bKc1"), tcp(2));
    let options = layer.send_request(t0, request(Method::Options, "z9hG4bKc2"), tcp(2));
    let server = receive(&mut layer, t0, request(Method::Invite, "z9hG4bKs1"), tcp(1));
    layer
        .send_response(t0, server, response(486, "z9hG4bKs1", Method::Invite))
        .unwrap();
    assert_eq!(transmits(&mut layer).len(), 3);
    let (sent, seen) = run_until(&mut layer, t0, t0 + secs(31.9));
    assert!(
        sent.is_empty() && seen.is_empty(),
        "no Timer A, E or G over TCP"
    );

    layer.handle_message(
        t0 + secs(1.0),
        response(200, "z9hG4bKc2", Method::Options),
        tcp(2),
    );
    assert_eq!(
        events(&mut layer)[1],
        TxnEvent::Terminated { txn: options },
        "Timer K = 0"
    );
    layer.handle_message(
        t0 + secs(1.0),
        response(404, "z9hG4bKc1", Method::Invite),
        tcp(2),
    );
    assert_eq!(transmits(&mut layer).len(), 1, "the ACK");
    assert_eq!(
        events(&mut layer)[1],
        TxnEvent::Terminated { txn: invite },
        "Timer D = 0"
    );
    layer.handle_message(t0 + secs(1.0), request(Method::Ack, "z9hG4bKs1"), tcp(1));
    assert_eq!(
        events(&mut layer),
        vec![TxnEvent::Terminated { txn: server }],
        "Timer I = 0"
    );

    let bye = receive(&mut layer, t0, request(Method::Bye, "z9hG4bKs2"), tcp(1));
    layer
        .send_response(t0, bye, response(200, "z9hG4bKs2", Method::Bye))
        .unwrap();
    assert_eq!(
        events(&mut layer),
        vec![TxnEvent::Terminated { txn: bye }],
        "Timer J = 0"
    );
    assert_eq!((layer.len(), layer.poll_timeout()), (0, None));
}
