//! Server side of digest authentication: stateless nonces, challenges and the verification of
//! credentials (RFC 3261 section 22.4, RFC 7616 section 3.3 and 3.4, RFC 8760).
//!
//! Owns: the nonce format and the HMAC secret. A nonce is the lowercase hex of
//! `issue time (u64 BE) | 8 random bytes | HMAC-SHA256(secret, time | random)[..16]`, so any
//! node holding the secret can check it without shared state, and its age is known.
//! Must not touch: clocks (the caller passes `unix_secs`), the user directory, the ban list.

use std::time::Duration;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::digest::{DigestInput, request_digest};
use super::params::{Credentials, push_quoted};
use super::{Algorithm, ha1};

/// How far in the future a nonce's issue time may lie (clock skew between nodes) before it is
/// treated as stale.
const MAX_CLOCK_SKEW_SECS: u64 = 30;
/// Bytes of issue time, random and truncated MAC in a nonce.
const TIME_LEN: usize = 8;
const RANDOM_LEN: usize = 8;
const MAC_LEN: usize = 16;
const NONCE_LEN: usize = TIME_LEN + RANDOM_LEN + MAC_LEN;

/// The outcome of [`DigestServer::verify`]. The module docs of `sip::auth` map each to a
/// response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The credentials are valid for this request.
    Ok,
    /// The password was right but the nonce is older than the TTL (or too far in the future):
    /// challenge again with `stale=true`.
    Stale,
    /// The response does not match the password: a failed authentication.
    BadPassword,
    /// The nonce was not issued with our secret, or the realm is not ours: challenge again.
    BadNonce,
    /// The credentials are inconsistent (empty uri, no or unsupported qop, missing cnonce or
    /// nc, response of the wrong length): answer 400.
    Malformed,
}

/// Issues and checks digest nonces statelessly, and verifies credentials for one realm.
#[derive(Clone)]
pub struct DigestServer {
    /// The realm we challenge with and accept.
    realm: String,
    /// HMAC-SHA256 keyed with the cluster-wide secret; cloned per nonce.
    mac: Hmac<Sha256>,
    /// Nonces older than this are stale.
    nonce_ttl: Duration,
    /// Algorithms offered, one challenge each, most preferred first.
    algorithms: Vec<Algorithm>,
}

impl DigestServer {
    /// A server for `realm`, signing nonces with `secret` (shared by all nodes), whose nonces
    /// turn stale after `nonce_ttl`.
    pub fn new(realm: String, secret: [u8; 32], nonce_ttl: Duration) -> Self {
        // HMAC accepts keys of any length, so this cannot fail.
        let mac = Hmac::<Sha256>::new_from_slice(&secret).expect("HMAC takes any key length");
        DigestServer {
            realm,
            mac,
            nonce_ttl,
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
        }
    }

    /// Offers `algorithms` in this order instead of SHA-256 then MD5. Clients that read only the
    /// first challenge and know only MD5 (SIPp 3.6, many desk phones) need MD5 first.
    pub fn with_algorithms(mut self, algorithms: Vec<Algorithm>) -> Self {
        if !algorithms.is_empty() {
            self.algorithms = algorithms;
        }
        self
    }

    /// The realm this server challenges with.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Challenge header values (`WWW-Authenticate` or `Proxy-Authenticate`) to send, one per
    /// algorithm, by default SHA-256 first then MD5 (RFC 8760 section 2.4; see
    /// [`DigestServer::with_algorithms`]), with `qop="auth"` and a fresh
    /// nonce; `stale=true` is added when `stale`.
    pub fn challenges(&self, unix_secs: u64, stale: bool, rng: &mut impl RngCore) -> Vec<String> {
        let nonce = self.issue_nonce(unix_secs, rng);
        self.algorithms
            .iter()
            .map(|algorithm| {
                let mut out = String::with_capacity(160);
                out.push_str("Digest realm=");
                push_quoted(&mut out, &self.realm);
                out.push_str(", nonce=\"");
                out.push_str(&nonce);
                out.push_str("\", algorithm=");
                out.push_str(algorithm.token());
                out.push_str(", qop=\"auth\"");
                if stale {
                    out.push_str(", stale=true");
                }
                out
            })
            .collect()
    }

    /// Verifies `creds` for a request with `method` against the user's plain `password` (the
    /// caller looked it up by `creds.username`).
    ///
    /// Checks the credentials' consistency (`qop=auth` is required), the realm, the nonce's
    /// MAC, the response, then the nonce's age: a stale nonce with a wrong password is
    /// [`Verdict::BadPassword`], with the right one [`Verdict::Stale`] (RFC 7616 section 3.3).
    pub fn verify(
        &self,
        creds: &Credentials<'_>,
        method: &str,
        password: &str,
        unix_secs: u64,
    ) -> Verdict {
        let base = ha1(creds.algorithm, &creds.username, &self.realm, password);
        self.verify_ha1(creds, method, &base, unix_secs)
    }

    /// Like [`DigestServer::verify`], with the precomputed base HA1 (see [`super::ha1`]) for
    /// `creds.algorithm` instead of the password.
    pub fn verify_ha1(
        &self,
        creds: &Credentials<'_>,
        method: &str,
        ha1: &str,
        unix_secs: u64,
    ) -> Verdict {
        let Some(input) = digest_input(creds, method) else {
            return Verdict::Malformed;
        };
        if creds.realm != self.realm.as_str() {
            return Verdict::BadNonce;
        }
        let Some(issued) = self.check_nonce(&creds.nonce) else {
            return Verdict::BadNonce;
        };
        let expected = request_digest(&ha1.to_ascii_lowercase(), &input);
        if !constant_time_eq(
            expected.as_bytes(),
            creds.response.to_ascii_lowercase().as_bytes(),
        ) {
            return Verdict::BadPassword;
        }
        let too_old = issued.saturating_add(self.nonce_ttl.as_secs()) < unix_secs;
        let from_future = issued > unix_secs.saturating_add(MAX_CLOCK_SKEW_SECS);
        if too_old || from_future {
            return Verdict::Stale;
        }
        Verdict::Ok
    }

    /// The issue time (unix seconds) of `nonce` if we signed it.
    pub fn nonce_issued(&self, nonce: &str) -> Option<u64> {
        self.check_nonce(nonce)
    }

    /// A fresh nonce stamped with `unix_secs`.
    fn issue_nonce(&self, unix_secs: u64, rng: &mut impl RngCore) -> String {
        let mut raw = [0u8; NONCE_LEN];
        raw[..TIME_LEN].copy_from_slice(&unix_secs.to_be_bytes());
        rng.fill_bytes(&mut raw[TIME_LEN..TIME_LEN + RANDOM_LEN]);
        let mut mac = self.mac.clone();
        mac.update(&raw[..TIME_LEN + RANDOM_LEN]);
        let tag = mac.finalize().into_bytes();
        raw[TIME_LEN + RANDOM_LEN..].copy_from_slice(&tag[..MAC_LEN]);
        hex::encode(raw)
    }

    /// The issue time of `nonce` if we signed it.
    fn check_nonce(&self, nonce: &str) -> Option<u64> {
        let mut raw = [0u8; NONCE_LEN];
        hex::decode_to_slice(nonce, &mut raw).ok()?;
        let (signed, tag) = raw.split_at(TIME_LEN + RANDOM_LEN);
        let mut mac = self.mac.clone();
        mac.update(signed);
        mac.verify_truncated_left(tag).ok()?;
        let mut time = [0u8; TIME_LEN];
        time.copy_from_slice(&signed[..TIME_LEN]);
        Some(u64::from_be_bytes(time))
    }
}

/// The digest inputs of `creds`, or `None` when they are inconsistent.
fn digest_input<'a>(creds: &'a Credentials<'_>, method: &'a str) -> Option<DigestInput<'a>> {
    let digest_len = match creds.algorithm {
        Algorithm::Md5 | Algorithm::Md5Sess => 32,
        Algorithm::Sha256 | Algorithm::Sha256Sess => 64,
    };
    let hex_ok =
        creds.response.len() == digest_len && creds.response.bytes().all(|b| b.is_ascii_hexdigit());
    if creds.uri.is_empty() || !hex_ok {
        return None;
    }
    let cnonce = creds.cnonce.as_deref().filter(|c| !c.is_empty());
    let nc_qop = match creds.qop.as_deref() {
        // RFC 2069 digests (no qop, no nonce-count) could be replayed: we challenge with
        // qop="auth" and require it.
        None => return None,
        Some(qop) if qop.eq_ignore_ascii_case("auth") => {
            let nc = creds.nc.as_deref()?;
            let nc_ok = nc.len() == 8 && nc.bytes().all(|b| b.is_ascii_hexdigit());
            if !nc_ok || cnonce.is_none() {
                return None;
            }
            Some((nc, qop))
        }
        Some(_) => return None,
    };
    if creds.algorithm.is_session() && cnonce.is_none() {
        return None;
    }
    Some(DigestInput {
        algorithm: creds.algorithm,
        nonce: &creds.nonce,
        method,
        uri: &creds.uri,
        cnonce,
        nc_qop,
    })
}

/// Compares two byte strings in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
