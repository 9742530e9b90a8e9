//! Browser sessions as API credentials: the pages' sign-in (`web::signin`) mints an ordinary
//! API token for the signed-in account and hands it to the browser as an HttpOnly,
//! `SameSite=Strict` cookie instead of a header. This module is what the API needs to accept
//! that cookie safely.
//!
//! Owns: the cookie's name and parsing, the CSRF token derived from the session secret, and
//! the rule that a state-changing request authenticated by the cookie must carry that token in
//! `X-CSRF-Token` (double submit: a page of another origin can make the browser send the
//! cookie, but cannot read the token).
//! Must not touch: passwords, the store (the token behind the cookie is checked like any
//! bearer token by `api::auth`).

use axum::http::{HeaderMap, Method, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::ApiError;

/// The session cookie's name.
pub const COOKIE: &str = "centrala_session";
/// The header a cookie-authenticated, state-changing request carries.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of the session whose secret is `secret` (hex HMAC-SHA256).
pub fn csrf_token(secret: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"centrala csrf v1");
    hex::encode(mac.finalize().into_bytes())
}

/// The session secret in a request's `Cookie` header, if any.
pub fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then(|| value.to_string())
        })
}

/// Fails with 403 when a request (`method`, `headers`) changes state without the session's
/// CSRF token.
pub fn require_csrf(method: &Method, headers: &HeaderMap, secret: &str) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let presented = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if presented
        .is_some_and(|token| constant_time_eq(token.as_bytes(), csrf_token(secret).as_bytes()))
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "a request signed in by the session cookie needs its X-CSRF-Token".into(),
        ))
    }
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Set-Cookie` value that stores `secret` (`None`: clears the cookie).
pub fn set_cookie(secret: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match secret {
        Some(secret) => format!("{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                *name,
                HeaderValue::from_str(value).expect("a valid test header"),
            );
        }
        map
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let found = headers(&[("cookie", "a=1; centrala_session=s3cret; b=2")]);
        assert_eq!(cookie_secret(&found).as_deref(), Some("s3cret"));
        assert_eq!(
            cookie_secret(&headers(&[("cookie", "centrala_session=")])),
            None
        );
    }

    #[test]
    fn a_state_change_needs_the_sessions_csrf_token() {
        let token = csrf_token("s3cret");
        assert!(require_csrf(&Method::GET, &headers(&[]), "s3cret").is_ok());
        assert!(require_csrf(&Method::POST, &headers(&[]), "s3cret").is_err());
        let forged = headers(&[("x-csrf-token", "00")]);
        assert!(require_csrf(&Method::POST, &forged, "s3cret").is_err());
        let right = headers(&[("x-csrf-token", token.as_str())]);
        assert!(require_csrf(&Method::DELETE, &right, "s3cret").is_ok());
        assert!(
            require_csrf(&Method::POST, &right, "other").is_err(),
            "bound to the session"
        );
    }
}
