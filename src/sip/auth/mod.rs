//! SIP digest authentication (RFC 3261 section 22, RFC 7616, RFC 8760) and the failed-auth ban
//! list.
//!
//! Owns: parsing of `Authorization`/`Proxy-Authorization` credentials and
//! `WWW-Authenticate`/`Proxy-Authenticate` challenges, digest computation (MD5, SHA-256 and
//! their `-sess` variants), the stateless nonce scheme of [`DigestServer`], the client-side
//! [`authorization`] answer for trunks, and the per-IP [`BanList`].
//! Must not touch: sockets, clocks, tokio, the database, the user directory (the caller looks
//! up passwords and passes them in), the SIP message parser (inputs are header *values*).
//! Driven by: the registrar/INVITE handling shell, which asks [`DigestServer::verify`] for a
//! [`Verdict`], maps it to a response code, and feeds failures to the [`BanList`]; and the
//! trunk registration client, which answers challenges with [`authorization`].
//!
//! Verdict to response mapping (suggested, done by the shell):
//! - no credentials: 401/407 with [`DigestServer::challenges`]; not a failure.
//! - [`Verdict::Ok`] means proceed.
//! - [`Verdict::Stale`]: 401/407 with `challenges(.., stale = true, ..)`; not a failure.
//! - [`Verdict::BadNonce`]: 401/407 with fresh challenges; not a failure (a password guess needs
//!   a valid nonce, and a secret rotation turns every outstanding nonce into a bad one).
//! - [`Verdict::BadPassword`]: 403 (or a new 401), and [`BanList::record_failure`].
//! - [`Verdict::Malformed`] gets 400.
//!
//! Replay: nonces are stateless (signed), but [`AuthGuard`] remembers each nonce's used
//! nonce-counts ([`NonceCounts`]), requires `qop=auth`, and checks the digest `uri` against
//! the Request-URI; a replayed header is challenged again (`stale=true`).
//!
//! TODO: `qop=auth-int` and `userhash=true` (RFC 7616 section 3.4.4) are not implemented.

mod ban;
mod digest;
mod guard;
mod params;
mod replay;
mod server;

use std::fmt;

pub use ban::BanList;
pub use digest::{authorization, ha1};
pub use guard::{AuthGuard, Decision, GuardConfig};
pub use params::{Challenge, Credentials, parse_challenge, parse_credentials};
pub use replay::NonceCounts;
pub use server::{DigestServer, Verdict};

/// A digest algorithm (RFC 7616 section 3.3, RFC 8760).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5`, the RFC 2617 default when the parameter is absent.
    Md5,
    /// `MD5-sess`: HA1 also covers the nonce and cnonce.
    Md5Sess,
    /// `SHA-256` (RFC 8760 section 2).
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
}

impl Algorithm {
    /// Maps an `algorithm` token (case-insensitive) to an [`Algorithm`].
    ///
    /// Fails with [`AuthError::UnsupportedAlgorithm`] for anything else (e.g. `SHA-512-256`).
    pub fn from_token(token: &str) -> Result<Algorithm, AuthError> {
        const ALL: [Algorithm; 4] = [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ];
        ALL.into_iter()
            .find(|a| a.token().eq_ignore_ascii_case(token))
            .ok_or(AuthError::UnsupportedAlgorithm)
    }

    /// The token as it appears in the `algorithm` parameter.
    pub fn token(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Whether this is a `-sess` variant (HA1 is re-hashed with nonce and cnonce).
    pub fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// Why an authentication header value could not be used. The sender's fault in every case: the
/// shell answers 400 (credentials) or gives up on the challenge (trunk client).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The scheme is not `Digest` (e.g. `Basic`), or the value is empty.
    #[error("authentication scheme is not Digest")]
    NotDigest,
    /// The auth-param list does not follow RFC 3261 / RFC 7616 syntax.
    #[error("malformed auth-param list at byte {0}")]
    Syntax(usize),
    /// A parameter the scheme requires is absent.
    #[error("missing {0} parameter")]
    MissingParam(&'static str),
    /// The same parameter appears twice.
    #[error("duplicate {0} parameter")]
    DuplicateParam(&'static str),
    /// The `algorithm` parameter names an algorithm we do not implement.
    #[error("unsupported digest algorithm")]
    UnsupportedAlgorithm,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_tokens_are_case_insensitive_and_round_trip() {
        for a in [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ] {
            assert_eq!(Algorithm::from_token(a.token()), Ok(a));
            assert_eq!(Algorithm::from_token(&a.token().to_lowercase()), Ok(a));
        }
        assert_eq!(
            Algorithm::from_token("SHA-512-256"),
            Err(AuthError::UnsupportedAlgorithm)
        );
        assert!(Algorithm::Sha256Sess.is_session());
        assert!(!Algorithm::Md5.is_session());
    }
}
