//! What the transaction layer needs to know of a parsed message.

use std::hash::{Hash, Hasher};

use crate::sip::message::Message;
use crate::sip::transaction::{Envelope, Kind};

/// RFC 3261 branches start with this cookie; others come from RFC 2543 peers.
const MAGIC_COOKIE: &str = "z9hG4bK";

/// The envelope of `msg`, or `None` when it lacks a Via or CSeq (the ingress already refused
/// such requests, so this only drops broken responses).
pub(super) fn of(msg: &Message) -> Option<Envelope> {
    let via = msg.top_via().ok()?;
    let cseq = msg.cseq().ok()?;
    let kind = match (msg.method(), msg.status()) {
        (Some(method), _) => Kind::Request(method.clone()),
        (None, Some(status)) => Kind::Response(status),
        (None, None) => return None,
    };
    let branch = match via.branch() {
        Some(branch) if branch.starts_with(MAGIC_COOKIE) => branch.into(),
        _ => rfc2543_branch(msg, cseq.seq).into_boxed_str(),
    };
    Some(Envelope {
        kind,
        branch,
        sent_by: via.sent_by().into_boxed_str(),
        cseq_method: cseq.method,
        wire: msg.as_bytes().clone(),
    })
}

/// RFC 3261 17.2.3 for peers without a magic-cookie branch: a key from the Request-URI, the
/// From tag, the Call-ID, the CSeq number and the top Via, equal for an INVITE, its CANCEL and
/// the ACK of its non-2xx response.
fn rfc2543_branch(msg: &Message, cseq: u32) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    msg.request_uri().hash(&mut hasher);
    msg.from()
        .ok()
        .and_then(|f| f.tag().map(str::to_owned))
        .hash(&mut hasher);
    msg.call_id().ok().hash(&mut hasher);
    cseq.hash(&mut hasher);
    msg.header("Via").hash(&mut hasher);
    format!("rfc2543-{:016x}", hasher.finish())
}
