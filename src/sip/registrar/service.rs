//! The registrar shell: REGISTER handling on top of the `Registrar` core, with digest
//! authentication, persistence before the 200 is sent, restore at start-up, and expiry.
//!
//! Owns: the shared `Registrar` (behind a mutex: REGISTERs arrive on every shard) and the
//! expiry task.
//! Driven by: the endpoint's `RequestHandler` (REGISTER) and the call manager (`lookup`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{
    Binding, BindingChange, ContactArg, ContactsArg, RegisterOutcome, RegisterRequest, Registrar,
    RegistrarConfig,
};
use crate::sip::auth::{AuthGuard, Decision};
use crate::sip::endpoint::{Endpoint, IncomingRequest, new_tag};
use crate::sip::message::{Contacts, Message, MessageBuilder, unescape};
use crate::sip::peer::{Peer, Transport};
use crate::store::{Store, StoreError, StoredBinding};
use crate::telemetry::Metrics;

/// Called with `(aor, live contacts)` after a change of the AOR's bindings.
pub type BindingObserver = Box<dyn Fn(&str, usize) + Send + Sync>;

/// How often lapsed bindings are swept.
const EXPIRY_SWEEP: Duration = Duration::from_secs(5);

/// REGISTER handling and the location service.
pub struct RegistrarService {
    registrar: Mutex<Registrar>,
    /// Told `(aor, live contacts)` after every change of an AOR's bindings (agents log in to
    /// the ACD when their first phone registers and out when the last one goes).
    on_change: std::sync::OnceLock<BindingObserver>,
    guard: Arc<AuthGuard>,
    store: Store,
    metrics: Arc<Metrics>,
}

impl RegistrarService {
    /// Restores the stored bindings and starts the expiry sweep.
    pub async fn start(
        config: RegistrarConfig,
        guard: Arc<AuthGuard>,
        store: Store,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<RegistrarService>, StoreError> {
        let now = unix_now();
        let stored = store.live_bindings(now as i64).await?;
        let mut registrar = Registrar::new(config);
        registrar.restore(stored.iter().filter_map(from_stored), now);
        while registrar.poll_change().is_some() {}
        tracing::info!(bindings = registrar.count(), "registrations restored");
        metrics.registrations.set(registrar.count() as i64);
        let service = Arc::new(RegistrarService {
            registrar: Mutex::new(registrar),
            on_change: std::sync::OnceLock::new(),
            guard,
            store,
            metrics,
        });
        tokio::spawn(expiry_loop(Arc::downgrade(&service)));
        Ok(service)
    }

    /// Installs the observer of binding changes (once).
    pub fn observe(&self, observer: BindingObserver) {
        let _ = self.on_change.set(observer);
    }

    /// The live contacts of `aor`, best first.
    pub fn lookup(&self, aor: &str) -> Vec<Binding> {
        self.lock().lookup(unix_now(), aor)
    }

    /// Handles one REGISTER: authenticate, update, persist, then answer.
    pub fn handle(self: &Arc<Self>, endpoint: &Endpoint, request: IncomingRequest) {
        let IncomingRequest { msg, txn, from } = request;
        let tag = new_tag();
        let unix = unix_now();
        let user =
            match self
                .guard
                .check(Instant::now(), unix, &msg, from.addr.ip(), "Authorization")
            {
                Decision::Authenticated(user) => user,
                Decision::Challenge { stale } => {
                    return endpoint.reply(txn, self.guard.challenge(unix, &msg, 401, stale, &tag));
                }
                Decision::Forbidden => {
                    self.metrics
                        .banned_addresses
                        .set(self.guard.banned_count(Instant::now()) as i64);
                    return endpoint.reply(
                        txn,
                        MessageBuilder::response_to(&msg, 403, "Forbidden", Some(&tag)),
                    );
                }
                Decision::Malformed => {
                    return endpoint.reply(
                        txn,
                        MessageBuilder::response_to(&msg, 400, "Bad Credentials", Some(&tag)),
                    );
                }
            };
        let outcome = match register_request(&msg, from) {
            Ok(req) if req.aor == user => self.lock().register(unix, req),
            Ok(_) => RegisterOutcome::BadRequest("credentials do not match the address of record"),
            Err(reason) => RegisterOutcome::BadRequest(reason),
        };
        let changes = self.drain_changes();
        let service = self.clone();
        let endpoint = endpoint.clone();
        tokio::spawn(async move {
            if let Err(err) = service.persist(changes).await {
                tracing::error!(%err, "could not store a registration");
                let response =
                    MessageBuilder::response_to(&msg, 500, "Server Internal Error", Some(&tag));
                return endpoint.reply(txn, response);
            }
            endpoint.reply(txn, response(&msg, &tag, outcome, unix));
        });
    }

    async fn persist(&self, changes: Vec<BindingChange>) -> Result<(), StoreError> {
        for change in changes {
            match change {
                BindingChange::Upsert(binding) => {
                    self.store.upsert_binding(&to_stored(&binding)).await?
                }
                BindingChange::Remove { aor, contact } => {
                    self.store.remove_binding(&aor, &contact).await?
                }
            }
        }
        Ok(())
    }

    fn drain_changes(&self) -> Vec<BindingChange> {
        let mut registrar = self.lock();
        let mut changes = Vec::new();
        while let Some(change) = registrar.poll_change() {
            changes.push(change);
        }
        self.metrics.registrations.set(registrar.count() as i64);
        if let Some(observer) = self.on_change.get() {
            let mut aors: Vec<&str> = changes
                .iter()
                .map(|c| match c {
                    BindingChange::Upsert(b) => b.aor.as_str(),
                    BindingChange::Remove { aor, .. } => aor.as_str(),
                })
                .collect();
            aors.dedup();
            let now = unix_now();
            for aor in aors {
                observer(aor, registrar.lookup(now, aor).len());
            }
        }
        changes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registrar> {
        self.registrar
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

async fn expiry_loop(service: std::sync::Weak<RegistrarService>) {
    let mut tick = tokio::time::interval(EXPIRY_SWEEP);
    loop {
        tick.tick().await;
        let Some(service) = service.upgrade() else {
            return;
        };
        service.lock().expire(unix_now());
        let changes = service.drain_changes();
        if let Err(err) = service.persist(changes).await {
            tracing::error!(%err, "could not remove lapsed registrations");
        }
    }
}

/// Reads what the registrar core needs out of a REGISTER.
fn register_request(msg: &Message, source: Peer) -> Result<RegisterRequest<'_>, &'static str> {
    let to = msg.to().map_err(|_| "bad To")?;
    let to_uri = to.uri().map_err(|_| "bad To URI")?;
    let aor = to_uri.user.ok_or("To has no user part")?;
    let contacts = match msg.contacts().map_err(|_| "bad Contact")? {
        Contacts::Star => ContactsArg::Star,
        Contacts::List(list) => ContactsArg::List(
            list.iter()
                .map(|c| ContactArg {
                    uri: c.uri,
                    expires: c
                        .params
                        .get("expires")
                        .flatten()
                        .and_then(|v| v.parse().ok()),
                    q: c.params.get("q").flatten().and_then(|v| v.parse().ok()),
                    instance: c
                        .params
                        .get("+sip.instance")
                        .flatten()
                        .map(|v| v.trim_matches('"')),
                })
                .collect(),
        ),
    };
    let cseq = msg.cseq().map_err(|_| "bad CSeq")?;
    Ok(RegisterRequest {
        aor: match unescape(aor) {
            std::borrow::Cow::Borrowed(user) => user,
            std::borrow::Cow::Owned(_) => return Err("escaped user names are not supported"),
        },
        contacts,
        expires_header: msg.expires().map_err(|_| "bad Expires")?,
        call_id: msg.call_id().map_err(|_| "bad Call-ID")?,
        cseq: cseq.seq,
        source,
        user_agent: msg.header("User-Agent"),
    })
}

fn response(msg: &Message, tag: &str, outcome: RegisterOutcome, unix: u64) -> MessageBuilder {
    match outcome {
        RegisterOutcome::Ok { bindings } => {
            let mut builder = MessageBuilder::response_to(msg, 200, "OK", Some(tag));
            for b in bindings {
                let left = b.expires_at_unix.saturating_sub(unix);
                builder = builder.header("Contact", format!("<{}>;expires={left}", b.contact));
            }
            builder.header("Date", httpdate::fmt_http_date(SystemTime::now()))
        }
        RegisterOutcome::IntervalTooBrief { min_expires } => {
            MessageBuilder::response_to(msg, 423, "Interval Too Brief", Some(tag))
                .header("Min-Expires", min_expires)
        }
        RegisterOutcome::BadRequest(reason) => {
            MessageBuilder::response_to(msg, 400, reason, Some(tag))
        }
        RegisterOutcome::OutOfOrder => {
            MessageBuilder::response_to(msg, 500, "Out Of Order", Some(tag))
        }
        RegisterOutcome::TooManyContacts => {
            MessageBuilder::response_to(msg, 403, "Too Many Contacts", Some(tag))
        }
    }
}

fn to_stored(b: &Binding) -> StoredBinding {
    StoredBinding {
        aor: b.aor.clone(),
        contact: b.contact.clone(),
        expires_at: b.expires_at_unix as i64,
        call_id: b.call_id.clone(),
        cseq: i64::from(b.cseq),
        q_milli: b.q.map(|q| (q * 1000.0).round() as i64),
        transport: b.source.transport.token().to_ascii_lowercase(),
        source: b.source.addr.to_string(),
        instance: b.instance.clone(),
        user_agent: b.user_agent.clone(),
    }
}

fn from_stored(s: &StoredBinding) -> Option<Binding> {
    let addr: SocketAddr = s.source.parse().ok()?;
    let transport = match s.transport.as_str() {
        "tcp" => Transport::Tcp { conn: None },
        _ => Transport::Udp,
    };
    Some(Binding {
        aor: s.aor.clone(),
        contact: s.contact.clone(),
        expires_at_unix: u64::try_from(s.expires_at).ok()?,
        call_id: s.call_id.clone(),
        cseq: u32::try_from(s.cseq).ok()?,
        q: s.q_milli.map(|q| q as f32 / 1000.0),
        source: Peer { transport, addr },
        instance: s.instance.clone(),
        user_agent: s.user_agent.clone(),
    })
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_bindings_round_trip() {
        let binding = Binding {
            aor: "1001".into(),
            contact: "sip:1001@127.0.0.1:5062".into(),
            expires_at_unix: 100,
            call_id: "c".into(),
            cseq: 7,
            q: Some(0.5),
            source: Peer {
                transport: Transport::Tcp { conn: None },
                addr: "127.0.0.1:5062".parse().unwrap(),
            },
            instance: None,
            user_agent: Some("baresip".into()),
        };
        assert_eq!(from_stored(&to_stored(&binding)), Some(binding));
    }
}
