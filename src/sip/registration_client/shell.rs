//! The task that drives one `Registration` through the endpoint.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::core::{Registration, RegistrationConfig};
use crate::sip::endpoint::{Endpoint, TuEvent, new_tag};
use crate::sip::message::MessageBuilder;
use crate::sip::peer::Peer;

/// Starts keeping a registration with the registrar at `peer`.
pub fn spawn(endpoint: Endpoint, config: RegistrationConfig, peer: Peer) {
    tokio::spawn(async move {
        let call_id = format!("{:016x}@centrala", rand::random::<u64>());
        let mut reg = Registration::new(config, call_id.clone(), new_tag(), Instant::now());
        let (tx, mut rx) = mpsc::unbounded_channel();
        endpoint.subscribe(&call_id, tx.clone());
        let mut tag = 0u64;
        loop {
            let deadline = reg
                .poll_timeout()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                event = rx.recv() => match event {
                    Some(TuEvent::Response { tag: t, msg }) if t == tag => {
                        let via = endpoint.via(peer.transport);
                        if let Some(next) = reg.handle_response(Instant::now(), &msg, &via, &endpoint.contact(peer.transport)) {
                            tag += 1;
                            send(&endpoint, next, peer, &tx, tag);
                        }
                    }
                    Some(TuEvent::Failed { tag: t }) if t == tag => reg.handle_failure(Instant::now()),
                    Some(_) => {}
                    None => return,
                },
                () = tokio::time::sleep_until(deadline.into()) => {
                    let via = endpoint.via(peer.transport);
                    if let Some(request) = reg.handle_timeout(Instant::now(), &via, &endpoint.contact(peer.transport)) {
                        tag += 1;
                        send(&endpoint, request, peer, &tx, tag);
                    }
                }
            }
        }
    });
}

fn send(
    endpoint: &Endpoint,
    request: MessageBuilder,
    peer: Peer,
    owner: &mpsc::UnboundedSender<TuEvent>,
    tag: u64,
) {
    match request.build_message() {
        Ok(msg) => endpoint.send_request(msg, peer, owner.clone(), tag),
        Err(err) => tracing::error!(%err, "we built an unparsable REGISTER"),
    }
}
