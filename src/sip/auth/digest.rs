//! Digest computation (RFC 7616 section 3.4.1 to 3.4.3, RFC 2617 section 3.2.2) and the client
//! side answer to a challenge.
//!
//! Owns: HA1, HA2 and request-digest for MD5, SHA-256 and their `-sess` variants, and the
//! printing of an `Authorization` value. Must not touch: nonce issuing or checking (`server`).

use md5::Md5;
use sha2::{Digest, Sha256};

use super::Algorithm;
use super::params::{Challenge, push_quoted};

/// HA1 = H(username ":" realm ":" password) in lowercase hex, for storing precomputed secrets
/// instead of passwords (pass it to [`super::DigestServer::verify_ha1`]).
///
/// For the `-sess` algorithms this is the inner hash; the nonce and cnonce are folded in per
/// request.
pub fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    hash_hex(algorithm, &[username, realm, password])
}

/// The `Authorization` (or `Proxy-Authorization`) value answering `challenge` for a request
/// with `method` and Request-URI `uri`.
///
/// When the challenge offers `qop=auth`, the answer uses it with `cnonce` and the nonce count
/// `nc` (printed as 8 hex digits); the caller passes a fresh random `cnonce` and counts `nc` up
/// from 1 for each reuse of the same nonce. Challenges offering only `auth-int` are answered
/// without qop (RFC 2069 style), which such a server will likely refuse.
pub fn authorization(
    challenge: &Challenge,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
    nc: u32,
) -> String {
    let nc = format!("{nc:08x}");
    let use_qop = challenge
        .qop
        .as_deref()
        .is_some_and(|q| q.split(',').any(|t| t.trim().eq_ignore_ascii_case("auth")));
    let uses_cnonce = use_qop || challenge.algorithm.is_session();
    let input = DigestInput {
        algorithm: challenge.algorithm,
        nonce: &challenge.nonce,
        method,
        uri,
        cnonce: uses_cnonce.then_some(cnonce),
        nc_qop: use_qop.then_some((nc.as_str(), "auth")),
    };
    let base = ha1(challenge.algorithm, username, &challenge.realm, password);
    let response = request_digest(&base, &input);

    let mut out = String::with_capacity(256);
    out.push_str("Digest username=");
    push_quoted(&mut out, username);
    out.push_str(", realm=");
    push_quoted(&mut out, &challenge.realm);
    out.push_str(", nonce=");
    push_quoted(&mut out, &challenge.nonce);
    out.push_str(", uri=");
    push_quoted(&mut out, uri);
    out.push_str(", response=\"");
    out.push_str(&response);
    out.push_str("\", algorithm=");
    out.push_str(challenge.algorithm.token());
    if uses_cnonce {
        out.push_str(", cnonce=");
        push_quoted(&mut out, cnonce);
    }
    if use_qop {
        out.push_str(", qop=auth, nc=");
        out.push_str(&nc);
    }
    if let Some(opaque) = &challenge.opaque {
        out.push_str(", opaque=");
        push_quoted(&mut out, opaque);
    }
    out
}

/// The per-request inputs of a request-digest, besides HA1.
pub(super) struct DigestInput<'a> {
    pub algorithm: Algorithm,
    pub nonce: &'a str,
    pub method: &'a str,
    pub uri: &'a str,
    /// The client nonce: used with qop and by the `-sess` algorithms.
    pub cnonce: Option<&'a str>,
    /// `(nc, qop)` when a qop was chosen.
    pub nc_qop: Option<(&'a str, &'a str)>,
}

/// The request-digest (the `response` parameter) in lowercase hex, from the base HA1.
pub(super) fn request_digest(ha1: &str, input: &DigestInput<'_>) -> String {
    let alg = input.algorithm;
    let cnonce = input.cnonce.unwrap_or("");
    let session_ha1;
    let ha1 = if alg.is_session() {
        session_ha1 = hash_hex(alg, &[ha1, input.nonce, cnonce]);
        session_ha1.as_str()
    } else {
        ha1
    };
    let ha2 = hash_hex(alg, &[input.method, input.uri]);
    match input.nc_qop {
        Some((nc, qop)) => hash_hex(alg, &[ha1, input.nonce, nc, cnonce, qop, &ha2]),
        None => hash_hex(alg, &[ha1, input.nonce, &ha2]),
    }
}

/// H(parts joined by ":") in lowercase hex.
fn hash_hex(algorithm: Algorithm, parts: &[&str]) -> String {
    match algorithm {
        Algorithm::Md5 | Algorithm::Md5Sess => hex::encode(joined::<Md5>(parts)),
        Algorithm::Sha256 | Algorithm::Sha256Sess => hex::encode(joined::<Sha256>(parts)),
    }
}

fn joined<D: Digest>(parts: &[&str]) -> Vec<u8> {
    let mut h = D::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b":");
        }
        h.update(part.as_bytes());
    }
    h.finalize().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7616_NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    fn rfc7616_challenge(algorithm: Algorithm) -> Challenge {
        Challenge {
            realm: "http-auth@example.org".into(),
            nonce: RFC7616_NONCE.into(),
            algorithm,
            qop: Some("auth, auth-int".into()),
            opaque: Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS".into()),
            stale: false,
        }
    }

    fn response_of(header: &str) -> &str {
        let start = header.find("response=\"").map(|i| i + 10).unwrap_or(0);
        &header[start..start + header[start..].find('"').unwrap_or(0)]
    }

    // RFC 7616 section 3.9.1: the same request answered with MD5 and with SHA-256.
    #[test]
    fn rfc7616_md5_example() {
        let c = rfc7616_challenge(Algorithm::Md5);
        let h = authorization(
            &c,
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            RFC7616_CNONCE,
            1,
        );
        assert_eq!(response_of(&h), "8ca523f5e9506fed4657c9700eebdbec");
        assert!(h.contains("qop=auth, nc=00000001"), "{h}");
        assert!(
            h.contains("opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""),
            "{h}"
        );
    }

    #[test]
    fn rfc7616_sha256_example() {
        let c = rfc7616_challenge(Algorithm::Sha256);
        let h = authorization(
            &c,
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            RFC7616_CNONCE,
            1,
        );
        assert_eq!(
            response_of(&h),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        assert!(h.contains("algorithm=SHA-256"), "{h}");
    }

    // RFC 2617 section 3.5.
    #[test]
    fn rfc2617_md5_example() {
        let c = Challenge {
            realm: "testrealm@host.com".into(),
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093".into(),
            algorithm: Algorithm::Md5,
            qop: Some("auth,auth-int".into()),
            opaque: Some("5ccc069c403ebaf9f0171e9517f40e41".into()),
            stale: false,
        };
        let h = authorization(
            &c,
            "Mufasa",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "0a4f113b",
            1,
        );
        assert_eq!(response_of(&h), "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn without_qop_uses_rfc2069_digest_and_omits_cnonce() {
        let mut c = rfc7616_challenge(Algorithm::Md5);
        c.qop = None;
        let h = authorization(&c, "u", "p", "REGISTER", "sip:example.org", "cn", 1);
        let base = ha1(Algorithm::Md5, "u", &c.realm, "p");
        let ha2 = hash_hex(Algorithm::Md5, &["REGISTER", "sip:example.org"]);
        let expected = hash_hex(Algorithm::Md5, &[&base, &c.nonce, &ha2]);
        assert_eq!(response_of(&h), expected);
        assert!(!h.contains("cnonce") && !h.contains("qop"), "{h}");
    }

    #[test]
    fn session_variant_folds_nonce_and_cnonce_into_ha1() {
        let c = Challenge {
            qop: Some("auth".into()),
            ..rfc7616_challenge(Algorithm::Sha256Sess)
        };
        let h = authorization(&c, "u", "p", "INVITE", "sip:1@x", "cn", 2);
        let inner = ha1(Algorithm::Sha256, "u", &c.realm, "p");
        let sess = hash_hex(Algorithm::Sha256, &[&inner, &c.nonce, "cn"]);
        let ha2 = hash_hex(Algorithm::Sha256, &["INVITE", "sip:1@x"]);
        let expected = hash_hex(
            Algorithm::Sha256,
            &[&sess, &c.nonce, "00000002", "cn", "auth", &ha2],
        );
        assert_eq!(response_of(&h), expected);
        assert!(h.contains("algorithm=SHA-256-sess"), "{h}");
    }

    #[test]
    fn quoted_values_are_escaped() {
        let mut c = rfc7616_challenge(Algorithm::Md5);
        c.realm = "we \"quote\" \\ here".into();
        let h = authorization(&c, "u", "p", "GET", "/", "cn", 1);
        assert!(h.contains(r#"realm="we \"quote\" \\ here""#), "{h}");
    }
}
