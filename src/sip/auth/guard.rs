//! The authentication gate in front of REGISTER and INVITE: digest verification against the
//! configured users, challenges, and the failed-authentication ban.
//!
//! Owns: the `DigestServer`, the `BanList`, the nonce-counts (`NonceCounts`) and the user
//! directory. A digest must name the request's own Request-URI, carry `qop=auth`, and use a
//! nonce-count not used before on its nonce, so a captured header cannot be sent again (to
//! place calls or to move someone's registration).
//! Must not touch: sockets or the clock (`now` and `unix_secs` are passed in).
//! Driven by: the registrar service and the call manager, which map `Decision` to responses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::replay::NonceCounts;
use super::{BanList, Credentials, DigestServer, Verdict, parse_credentials};
use crate::sip::message::{Message, MessageBuilder, Uri};

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The credentials are right; the authenticated user name.
    Authenticated(String),
    /// Answer 401/407 with fresh challenges (`stale` when the nonce only aged).
    Challenge {
        /// Whether to mark the challenges `stale=true`.
        stale: bool,
    },
    /// Answer 403: wrong password, unknown user, or a banned address.
    Forbidden,
    /// Answer 400: the credentials cannot be parsed.
    Malformed,
}

/// Settings of the gate.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// Digest realm.
    pub realm: String,
    /// How long a nonce is fresh.
    pub nonce_ttl: Duration,
    /// Failures that trigger a ban.
    pub max_failures: u32,
    /// Window in which they count.
    pub window: Duration,
    /// Ban length.
    pub ban_for: Duration,
    /// Challenge algorithms, most preferred first.
    pub algorithms: Vec<super::Algorithm>,
}

/// The authentication gate; shared by all shards.
pub struct AuthGuard {
    digest: DigestServer,
    bans: Mutex<BanList>,
    counts: Mutex<NonceCounts>,
    users: HashMap<String, String>,
}

impl AuthGuard {
    /// A gate for `users` (name -> password) with a random nonce secret.
    pub fn new(config: GuardConfig, users: HashMap<String, String>) -> AuthGuard {
        AuthGuard {
            counts: Mutex::new(NonceCounts::new(config.nonce_ttl.as_secs())),
            digest: DigestServer::new(config.realm, rand::random(), config.nonce_ttl)
                .with_algorithms(config.algorithms),
            bans: Mutex::new(BanList::new(
                config.max_failures,
                config.window,
                config.ban_for,
            )),
            users,
        }
    }

    /// Checks the credentials of `msg` from `source` in `header` (`Authorization` or
    /// `Proxy-Authorization`). A new ban is logged once, with the address.
    pub fn check(
        &self,
        now: Instant,
        unix_secs: u64,
        msg: &Message,
        source: IpAddr,
        header: &str,
    ) -> Decision {
        if self.is_banned(now, source) {
            return Decision::Forbidden;
        }
        let realm = self.digest.realm();
        let credentials = msg
            .headers(header)
            .filter_map(|value| parse_credentials(value).ok())
            .find(|c| c.realm == realm);
        let Some(credentials) = credentials else {
            let present = msg.headers(header).next().is_some();
            return if present && msg.headers(header).all(|v| parse_credentials(v).is_err()) {
                Decision::Malformed
            } else {
                Decision::Challenge { stale: false }
            };
        };
        if !names_request_uri(&credentials, msg) {
            return Decision::Malformed;
        }
        let method = msg.method().map(|m| m.as_str()).unwrap_or("");
        let password = self.users.get(credentials.username.as_ref());
        let verdict = match password {
            Some(password) => self
                .digest
                .verify(&credentials, method, password, unix_secs),
            None => Verdict::BadPassword,
        };
        match verdict {
            Verdict::Ok if !self.first_use(unix_secs, &credentials) => {
                tracing::warn!(address = %source, user = %credentials.username,
                    "digest credentials sent again (replayed nonce-count); challenging");
                Decision::Challenge { stale: true }
            }
            Verdict::Ok => {
                self.lock().record_success(source);
                Decision::Authenticated(credentials.username.into_owned())
            }
            Verdict::Stale => Decision::Challenge { stale: true },
            Verdict::BadNonce => Decision::Challenge { stale: false },
            Verdict::Malformed => Decision::Malformed,
            Verdict::BadPassword => {
                let mut bans = self.lock();
                bans.handle_timeout(now);
                if bans.record_failure(now, source) {
                    tracing::warn!(address = %source, "banning address after repeated failed authentication");
                }
                Decision::Forbidden
            }
        }
    }

    /// Whether `source` is banned now.
    pub fn is_banned(&self, now: Instant, source: IpAddr) -> bool {
        self.lock().is_banned(now, source)
    }

    /// Addresses banned now with the time each ban has left (the ban API).
    pub fn bans(&self, now: Instant) -> Vec<(IpAddr, Duration)> {
        self.lock().banned(now)
    }

    /// Lifts the ban of `ip`; `false` when it was not banned.
    pub fn lift_ban(&self, now: Instant, ip: IpAddr) -> bool {
        let lifted = self.lock().lift(now, ip);
        if lifted {
            tracing::info!(address = %ip, "ban lifted through the API");
        }
        lifted
    }

    /// Addresses banned now (metric).
    pub fn banned_count(&self, now: Instant) -> usize {
        self.lock().banned_count(now)
    }

    /// A 401 (REGISTER) or 407 (other requests) carrying our challenges.
    pub fn challenge(
        &self,
        unix_secs: u64,
        request: &Message,
        status: u16,
        stale: bool,
        to_tag: &str,
    ) -> MessageBuilder {
        let (reason, header) = if status == 401 {
            ("Unauthorized", "WWW-Authenticate")
        } else {
            ("Proxy Authentication Required", "Proxy-Authenticate")
        };
        let mut builder = MessageBuilder::response_to(request, status, reason, Some(to_tag));
        for value in self
            .digest
            .challenges(unix_secs, stale, &mut rand::thread_rng())
        {
            builder = builder.header(header, value);
        }
        builder
    }

    /// Whether this is the first use of the credentials' nonce-count on their nonce.
    fn first_use(&self, unix_secs: u64, creds: &Credentials<'_>) -> bool {
        let (Some(issued), Some(nc)) = (self.digest.nonce_issued(&creds.nonce), &creds.nc) else {
            return false;
        };
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .accept(unix_secs, &creds.nonce, issued, nc)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BanList> {
        self.bans
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether the digest's `uri` is the request's Request-URI (RFC 7616 section 3.4.6), so a
/// header made for one target does not authenticate a request for another. One relaxation:
/// a `uri` without a user part naming the Request-URI's own host and port is accepted,
/// because SIPp 3.6 (our test peer, and a common load tester) sends `sip:host:port` for every
/// request. Replays are stopped by the nonce-count either way; an on-path attacker who
/// rewrites a request before it arrives is TLS's job (digest does not cover the message).
fn names_request_uri(creds: &Credentials<'_>, msg: &Message) -> bool {
    let Some(target) = msg.request_uri() else {
        return false;
    };
    let uri: &str = &creds.uri;
    if uri == target || uri.eq_ignore_ascii_case(target) {
        return true;
    }
    let (Ok(digest), Ok(request)) = (Uri::parse(uri), Uri::parse(target)) else {
        return false;
    };
    digest.user.is_none()
        && digest.scheme == request.scheme
        && digest.host.eq_ignore_ascii_case(request.host)
        && digest.port == request.port
}

#[cfg(test)]
mod tests;
