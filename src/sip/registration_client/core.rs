//! The registration state machine, fed responses and the time.

use std::time::{Duration, Instant};

use crate::sip::auth::{authorization, parse_challenge};
use crate::sip::message::{Message, MessageBuilder};
use crate::sip::method::Method;

/// What to register where.
#[derive(Debug, Clone)]
pub struct RegistrationConfig {
    /// The registrar's domain: Request-URI `sip:<domain>`, AOR `sip:<user>@<domain>`.
    pub domain: String,
    /// The account (user part of the AOR, digest user name).
    pub username: String,
    /// The digest password.
    pub password: String,
    /// Requested registration time.
    pub expires: Duration,
    /// Wait after a failure before trying again.
    pub retry_after: Duration,
}

/// Where the registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationState {
    /// Nothing sent yet, or waiting to retry.
    Idle,
    /// A REGISTER is outstanding.
    Registering,
    /// Registered until the given instant.
    Registered {
        /// When the binding lapses.
        until: Instant,
    },
    /// The last attempt failed (rejected, wrong password, or no answer).
    Failed,
}

/// The core: builds REGISTERs, reads responses, and says when to act next.
#[derive(Debug)]
pub struct Registration {
    config: RegistrationConfig,
    call_id: String,
    from_tag: String,
    cseq: u32,
    state: RegistrationState,
    next_attempt: Option<Instant>,
    /// Challenge answer to include in the next REGISTER (one try per challenge).
    authorization: Option<(&'static str, String)>,
    challenged: bool,
}

impl Registration {
    /// A registration that starts at once (`poll_timeout` is `now`).
    pub fn new(
        config: RegistrationConfig,
        call_id: String,
        from_tag: String,
        now: Instant,
    ) -> Registration {
        Registration {
            config,
            call_id,
            from_tag,
            cseq: 0,
            state: RegistrationState::Idle,
            next_attempt: Some(now),
            authorization: None,
            challenged: false,
        }
    }

    /// Current state.
    pub fn state(&self) -> RegistrationState {
        self.state
    }

    /// When `handle_timeout` is due next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_attempt
    }

    /// Returns the REGISTER to send now, if one is due; `via` and `contact` come from the shell.
    pub fn handle_timeout(
        &mut self,
        now: Instant,
        via: &str,
        contact: &str,
    ) -> Option<MessageBuilder> {
        if self.next_attempt.is_none_or(|at| at > now)
            || self.state == RegistrationState::Registering
        {
            return None;
        }
        self.next_attempt = None;
        self.state = RegistrationState::Registering;
        Some(self.request(via, contact))
    }

    /// A final response to our REGISTER; returns a new REGISTER when a challenge must be
    /// answered at once.
    pub fn handle_response(
        &mut self,
        now: Instant,
        response: &Message,
        via: &str,
        contact: &str,
    ) -> Option<MessageBuilder> {
        let status = response.status().unwrap_or(500);
        match status {
            100..=199 => None,
            200..=299 => {
                let granted = granted_expiry(response).unwrap_or(self.config.expires);
                self.state = RegistrationState::Registered {
                    until: now + granted,
                };
                self.challenged = false;
                // Refresh ten minutes before the end, but never before half-time.
                self.next_attempt = Some(
                    now + (granted / 2)
                        .max(granted.saturating_sub(Duration::from_secs(600)))
                        .min(granted),
                );
                None
            }
            401 | 407 if !self.challenged => {
                self.challenged = true;
                let header = if status == 401 {
                    "WWW-Authenticate"
                } else {
                    "Proxy-Authenticate"
                };
                let answer = if status == 401 {
                    "Authorization"
                } else {
                    "Proxy-Authorization"
                };
                let challenge = response
                    .headers(header)
                    .find_map(|v| parse_challenge(v).ok())?;
                let uri = format!("sip:{}", self.config.domain);
                let cnonce = format!("{:016x}", rand::random::<u64>());
                let value = authorization(
                    &challenge,
                    &self.config.username,
                    &self.config.password,
                    "REGISTER",
                    &uri,
                    &cnonce,
                    1,
                );
                self.authorization = Some((answer, value));
                Some(self.request(via, contact))
            }
            _ => {
                self.fail(now);
                None
            }
        }
    }

    /// The REGISTER got no response.
    pub fn handle_failure(&mut self, now: Instant) {
        self.fail(now);
    }

    fn fail(&mut self, now: Instant) {
        tracing::warn!(domain = %self.config.domain, "trunk registration failed; will retry");
        self.state = RegistrationState::Failed;
        self.challenged = false;
        self.authorization = None;
        self.next_attempt = Some(now + self.config.retry_after);
    }

    fn request(&mut self, via: &str, contact: &str) -> MessageBuilder {
        self.cseq += 1;
        let domain = &self.config.domain;
        let aor = format!("<sip:{}@{domain}>", self.config.username);
        let mut builder = MessageBuilder::request(&Method::Register, &format!("sip:{domain}"))
            .header("Via", via)
            .header("Max-Forwards", 70)
            .header("From", format!("{aor};tag={}", self.from_tag))
            .header("To", &aor)
            .header("Call-ID", &self.call_id)
            .header("CSeq", format!("{} REGISTER", self.cseq))
            .header("Contact", contact)
            .header("Expires", self.config.expires.as_secs());
        if let Some((name, value)) = self.authorization.take() {
            builder = builder.header(name, value);
        }
        builder
    }
}

/// The expiry the registrar granted to our contact (Contact `expires`, else Expires).
fn granted_expiry(response: &Message) -> Option<Duration> {
    let from_contact = match response.contacts().ok()? {
        crate::sip::message::Contacts::List(list) => list.iter().find_map(|c| {
            c.params
                .get("expires")
                .flatten()
                .and_then(|v| v.parse::<u64>().ok())
        }),
        crate::sip::message::Contacts::Star => None,
    };
    let secs = from_contact.or_else(|| response.expires().ok().flatten().map(u64::from))?;
    Some(Duration::from_secs(secs.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn config() -> RegistrationConfig {
        RegistrationConfig {
            domain: "carrier.test".into(),
            username: "acct".into(),
            password: "secret".into(),
            expires: Duration::from_secs(600),
            retry_after: Duration::from_secs(30),
        }
    }

    fn response(request: &Message, status: u16, extra: &str) -> Message {
        let mut text = format!("SIP/2.0 {status} X\r\n");
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            text.push_str(&format!("{name}: {}\r\n", request.header(name).unwrap()));
        }
        text.push_str(extra);
        text.push_str("Content-Length: 0\r\n\r\n");
        Message::parse(Bytes::from(text), true).unwrap()
    }

    #[test]
    fn answers_a_challenge_then_refreshes_at_half_time() {
        let t0 = Instant::now();
        let mut reg = Registration::new(config(), "cid".into(), "ft".into(), t0);
        let first = Message::parse(
            reg.handle_timeout(t0, "SIP/2.0/UDP h;branch=z9hG4bK1", "<sip:c@h>")
                .unwrap()
                .build(),
            true,
        )
        .unwrap();
        assert!(first.header("Authorization").is_none());
        let challenge = "WWW-Authenticate: Digest realm=\"carrier\", nonce=\"abc\", algorithm=MD5, qop=\"auth\"\r\n";
        let second = reg
            .handle_response(
                t0,
                &response(&first, 401, challenge),
                "SIP/2.0/UDP h;branch=z9hG4bK2",
                "<sip:c@h>",
            )
            .unwrap();
        let second = Message::parse(second.build(), true).unwrap();
        assert!(
            second
                .header("Authorization")
                .unwrap()
                .contains("username=\"acct\"")
        );
        assert_eq!(second.cseq().unwrap().seq, 2);
        reg.handle_response(
            t0,
            &response(&second, 200, "Contact: <sip:c@h>;expires=300\r\n"),
            "v",
            "c",
        );
        assert_eq!(
            reg.state(),
            RegistrationState::Registered {
                until: t0 + Duration::from_secs(300)
            }
        );
        assert_eq!(reg.poll_timeout(), Some(t0 + Duration::from_secs(150)));
    }

    #[test]
    fn a_second_challenge_is_a_failure_and_retries_later() {
        let t0 = Instant::now();
        let mut reg = Registration::new(config(), "cid".into(), "ft".into(), t0);
        let first = Message::parse(
            reg.handle_timeout(t0, "SIP/2.0/UDP h;branch=z9hG4bK1", "<sip:c@h>")
                .unwrap()
                .build(),
            true,
        )
        .unwrap();
        let challenge = "WWW-Authenticate: Digest realm=\"carrier\", nonce=\"abc\"\r\n";
        let second = reg
            .handle_response(
                t0,
                &response(&first, 401, challenge),
                "SIP/2.0/UDP h;branch=z9hG4bK2",
                "c",
            )
            .unwrap();
        let second = Message::parse(second.build(), true).unwrap();
        assert!(
            reg.handle_response(t0, &response(&second, 401, challenge), "v", "c")
                .is_none()
        );
        assert_eq!(reg.state(), RegistrationState::Failed);
        assert_eq!(reg.poll_timeout(), Some(t0 + Duration::from_secs(30)));
    }
}
