//! Tests of the transaction layer, all in virtual time: helpers that build fake messages, then
//! the client and server state machines driven one message at a time, then whole client and
//! server layers wired through a lossy network emulator.

mod client;
mod netem;
mod server;
mod sim;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Envelope, Kind, TimerConfig, TransactionLayer, Transmit, TxnEvent};
use crate::sip::method::Method;
use crate::sip::peer::{ConnId, Peer, Transport};

/// The sent-by every test UAC puts in its Via.
const UAC_SENT_BY: &str = "uac.example:5060";

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn layer() -> TransactionLayer {
    TransactionLayer::new(TimerConfig::default(), test_ack_builder)
}

fn udp(host: u8) -> Peer {
    Peer::udp(SocketAddr::from((Ipv4Addr::new(10, 0, 0, host), 5060)))
}

fn tcp(host: u8) -> Peer {
    Peer {
        transport: Transport::Tcp {
            conn: Some(ConnId(u64::from(host))),
        },
        addr: SocketAddr::from((Ipv4Addr::new(10, 0, 0, host), 5060)),
    }
}

/// A fake request: its wire is "METHOD branch sent-by CSEQ-METHOD", which [`parse`] reads back.
fn request(method: Method, branch: &str) -> Envelope {
    let wire = format!("{method} {branch} {UAC_SENT_BY} {method}");
    Envelope {
        kind: Kind::Request(method.clone()),
        branch: branch.into(),
        sent_by: UAC_SENT_BY.into(),
        cseq_method: method,
        wire: Bytes::from(wire),
    }
}

/// A fake response with the same wire layout, the status code in front.
fn response(code: u16, branch: &str, cseq_method: Method) -> Envelope {
    let wire = format!("{code} {branch} {UAC_SENT_BY} {cseq_method}");
    Envelope {
        kind: Kind::Response(code),
        branch: branch.into(),
        sent_by: UAC_SENT_BY.into(),
        cseq_method,
        wire: Bytes::from(wire),
    }
}

/// Reads a fake wire back into an envelope (the network emulator carries bytes).
fn parse(wire: &Bytes) -> Option<Envelope> {
    let text = std::str::from_utf8(wire).ok()?;
    let mut tokens = text.split(' ');
    let (start, branch, sent_by, cseq) = (
        tokens.next()?,
        tokens.next()?,
        tokens.next()?,
        tokens.next()?,
    );
    let kind = match start.parse::<u16>() {
        Ok(code) => Kind::Response(code),
        Err(_) => Kind::Request(Method::from_token(start)),
    };
    Some(Envelope {
        kind,
        branch: branch.into(),
        sent_by: sent_by.into(),
        cseq_method: Method::from_token(cseq),
        wire: wire.clone(),
    })
}

/// The ACK for a non-2xx response: same branch and sent-by as the INVITE (RFC 3261 17.1.1.3).
/// Refuses responses that are not non-2xx finals, so a wrong call shows up in the tests.
fn test_ack_builder(invite: &[u8], response: &[u8]) -> Option<Bytes> {
    let invite = parse(&Bytes::copy_from_slice(invite))?;
    let response = parse(&Bytes::copy_from_slice(response))?;
    match response.kind {
        Kind::Response(300..=699) => {}
        _ => return None,
    }
    let wire = format!("ACK {} {} ACK", invite.branch, invite.sent_by);
    Some(Bytes::from(wire))
}

fn transmits(layer: &mut TransactionLayer) -> Vec<Transmit> {
    std::iter::from_fn(|| layer.poll_transmit()).collect()
}

fn events(layer: &mut TransactionLayer) -> Vec<TxnEvent> {
    std::iter::from_fn(|| layer.poll_event()).collect()
}

/// Fires timers up to `until` on one layer, returning each transmission with the time it was
/// sent (relative to `t0`) and every event.
fn run_until(
    layer: &mut TransactionLayer,
    t0: Instant,
    until: Instant,
) -> (Vec<(Duration, Transmit)>, Vec<TxnEvent>) {
    let (mut sent, mut seen) = (Vec::new(), Vec::new());
    while let Some(at) = layer.poll_timeout().filter(|at| *at <= until) {
        layer.handle_timeout(at);
        sent.extend(transmits(layer).into_iter().map(|t| (at - t0, t)));
        seen.extend(events(layer));
    }
    (sent, seen)
}

fn wire(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}
