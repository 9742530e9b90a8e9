//! Parsing of `Digest` header values: credentials (`Authorization`, `Proxy-Authorization`) and
//! challenges (`WWW-Authenticate`, `Proxy-Authenticate`), RFC 3261 section 25.1 and RFC 7616
//! section 3.
//!
//! Owns: the auth-param list syntax (tokens, quoted strings with `\` escapes, any order,
//! unknown parameters ignored). Values are borrowed from the input unless an escape had to be
//! removed. Must not touch: digest computation or nonce checks (`server`, `digest`).

use std::borrow::Cow;

use super::{Algorithm, AuthError};

/// Parsed `Digest k=v, k="v", ...` credentials (an `Authorization` or `Proxy-Authorization`
/// header value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// `username`: the user to authenticate (the directory key).
    pub username: Cow<'a, str>,
    /// `realm`: the protection space the client answered.
    pub realm: Cow<'a, str>,
    /// `nonce`: echoed from our challenge.
    pub nonce: Cow<'a, str>,
    /// `uri`: the Request-URI as the client saw it (digest-uri).
    pub uri: Cow<'a, str>,
    /// `response`: the hex request digest.
    pub response: Cow<'a, str>,
    /// `algorithm`; [`Algorithm::Md5`] when absent.
    pub algorithm: Algorithm,
    /// `cnonce`: the client nonce, required with `qop`.
    pub cnonce: Option<Cow<'a, str>>,
    /// `qop`: the quality of protection chosen by the client (`auth`).
    pub qop: Option<Cow<'a, str>>,
    /// `nc`: the nonce count, 8 hex digits, required with `qop`.
    pub nc: Option<Cow<'a, str>>,
    /// `opaque`: echoed from the challenge.
    pub opaque: Option<Cow<'a, str>>,
}

/// A parsed `Digest` challenge (a `WWW-Authenticate` or `Proxy-Authenticate` value), used by
/// our client side (trunk registration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `realm`: the protection space.
    pub realm: String,
    /// `nonce`: the server nonce to hash.
    pub nonce: String,
    /// `algorithm`; [`Algorithm::Md5`] when absent.
    pub algorithm: Algorithm,
    /// `qop`: the raw list of offered qop values (e.g. `auth,auth-int`), if any.
    pub qop: Option<String>,
    /// `opaque`: to be echoed back unchanged.
    pub opaque: Option<String>,
    /// `stale=true`: the previous nonce expired but the credentials were right.
    pub stale: bool,
}

/// Parses `Digest` credentials.
///
/// Fails when the scheme is not `Digest`, the syntax is broken, a parameter is repeated, the
/// algorithm is unknown, or one of `username`, `realm`, `nonce`, `uri`, `response` is absent.
pub fn parse_credentials(value: &str) -> Result<Credentials<'_>, AuthError> {
    let mut username = None;
    let mut realm = None;
    let mut nonce = None;
    let mut uri = None;
    let mut response = None;
    let mut algorithm = None;
    let mut cnonce = None;
    let mut qop = None;
    let mut nc = None;
    let mut opaque = None;
    for param in digest_params(value)? {
        let (name, v) = param?;
        let slot = match name.to_ascii_lowercase().as_str() {
            "username" => (&mut username, "username"),
            "realm" => (&mut realm, "realm"),
            "nonce" => (&mut nonce, "nonce"),
            "uri" => (&mut uri, "uri"),
            "response" => (&mut response, "response"),
            "algorithm" => (&mut algorithm, "algorithm"),
            "cnonce" => (&mut cnonce, "cnonce"),
            "qop" => (&mut qop, "qop"),
            "nc" => (&mut nc, "nc"),
            "opaque" => (&mut opaque, "opaque"),
            _ => continue,
        };
        store(slot, v)?;
    }
    Ok(Credentials {
        username: username.ok_or(AuthError::MissingParam("username"))?,
        realm: realm.ok_or(AuthError::MissingParam("realm"))?,
        nonce: nonce.ok_or(AuthError::MissingParam("nonce"))?,
        uri: uri.ok_or(AuthError::MissingParam("uri"))?,
        response: response.ok_or(AuthError::MissingParam("response"))?,
        algorithm: algorithm.map_or(Ok(Algorithm::Md5), |a| Algorithm::from_token(&a))?,
        cnonce,
        qop,
        nc,
        opaque,
    })
}

/// Parses a `Digest` challenge.
///
/// Fails when the scheme is not `Digest`, the syntax is broken, a parameter is repeated, the
/// algorithm is unknown, or `realm` or `nonce` is absent.
pub fn parse_challenge(value: &str) -> Result<Challenge, AuthError> {
    let mut realm = None;
    let mut nonce = None;
    let mut algorithm = None;
    let mut qop = None;
    let mut opaque = None;
    let mut stale = None;
    for param in digest_params(value)? {
        let (name, v) = param?;
        let slot = match name.to_ascii_lowercase().as_str() {
            "realm" => (&mut realm, "realm"),
            "nonce" => (&mut nonce, "nonce"),
            "algorithm" => (&mut algorithm, "algorithm"),
            "qop" => (&mut qop, "qop"),
            "opaque" => (&mut opaque, "opaque"),
            "stale" => (&mut stale, "stale"),
            _ => continue,
        };
        store(slot, v)?;
    }
    Ok(Challenge {
        realm: realm.ok_or(AuthError::MissingParam("realm"))?.into_owned(),
        nonce: nonce.ok_or(AuthError::MissingParam("nonce"))?.into_owned(),
        algorithm: algorithm.map_or(Ok(Algorithm::Md5), |a| Algorithm::from_token(&a))?,
        qop: qop.map(Cow::into_owned),
        opaque: opaque.map(Cow::into_owned),
        stale: stale.is_some_and(|s| s.eq_ignore_ascii_case("true")),
    })
}

/// Appends `value` to `out` as a quoted-string, escaping `"` and `\`.
pub(super) fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Puts a parameter value in its slot, refusing duplicates.
fn store<'a>(
    (slot, name): (&mut Option<Cow<'a, str>>, &'static str),
    value: Cow<'a, str>,
) -> Result<(), AuthError> {
    if slot.is_some() {
        return Err(AuthError::DuplicateParam(name));
    }
    *slot = Some(value);
    Ok(())
}

/// Checks the `Digest` scheme and returns an iterator over the auth-params after it.
fn digest_params(value: &str) -> Result<Params<'_>, AuthError> {
    let start = skip_ws(value.as_bytes(), 0);
    let rest = &value[start..];
    let end = rest.bytes().position(is_ws).unwrap_or(rest.len());
    if !rest[..end].eq_ignore_ascii_case("Digest") {
        return Err(AuthError::NotDigest);
    }
    Ok(Params {
        s: value,
        pos: start + end,
    })
}

/// Iterator over `name=value` auth-params, separated by commas.
struct Params<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<(&'a str, Cow<'a, str>), AuthError>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.s.as_bytes();
        // Skip whitespace and empty list elements.
        while self.pos < b.len() && (is_ws(b[self.pos]) || b[self.pos] == b',') {
            self.pos += 1;
        }
        if self.pos >= b.len() {
            return None;
        }
        let item = self.param();
        if item.is_err() {
            self.pos = b.len();
        }
        Some(item)
    }
}

impl<'a> Params<'a> {
    /// Parses one `name = value` at `self.pos`, then expects a comma or the end.
    fn param(&mut self) -> Result<(&'a str, Cow<'a, str>), AuthError> {
        let b = self.s.as_bytes();
        let name_start = self.pos;
        while self.pos < b.len() && is_token(b[self.pos]) {
            self.pos += 1;
        }
        let name = &self.s[name_start..self.pos];
        self.pos = skip_ws(b, self.pos);
        if name.is_empty() || b.get(self.pos) != Some(&b'=') {
            return Err(AuthError::Syntax(self.pos));
        }
        self.pos = skip_ws(b, self.pos + 1);
        let value = if b.get(self.pos) == Some(&b'"') {
            self.quoted()?
        } else {
            let start = self.pos;
            while self.pos < b.len() && !is_ws(b[self.pos]) && !matches!(b[self.pos], b',' | b'"') {
                self.pos += 1;
            }
            Cow::Borrowed(&self.s[start..self.pos])
        };
        self.pos = skip_ws(b, self.pos);
        match b.get(self.pos) {
            None | Some(b',') => Ok((name, value)),
            Some(_) => Err(AuthError::Syntax(self.pos)),
        }
    }

    /// Parses a quoted-string starting at the opening quote at `self.pos`.
    fn quoted(&mut self) -> Result<Cow<'a, str>, AuthError> {
        let b = self.s.as_bytes();
        let start = self.pos + 1;
        let mut i = start;
        let mut owned: Option<String> = None;
        let mut chunk = start;
        loop {
            match b.get(i) {
                None => return Err(AuthError::Syntax(i)),
                Some(b'"') => break,
                Some(b'\\') => {
                    let escaped = *b.get(i + 1).ok_or(AuthError::Syntax(i))?;
                    if !escaped.is_ascii() || escaped == b'\r' || escaped == b'\n' {
                        return Err(AuthError::Syntax(i));
                    }
                    let buf = owned.get_or_insert_with(String::new);
                    buf.push_str(&self.s[chunk..i]);
                    buf.push(char::from(escaped));
                    i += 2;
                    chunk = i;
                }
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        Ok(match owned {
            Some(mut buf) => {
                buf.push_str(&self.s[chunk..i]);
                Cow::Owned(buf)
            }
            None => Cow::Borrowed(&self.s[start..i]),
        })
    }
}

fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while pos < b.len() && is_ws(b[pos]) {
        pos += 1;
    }
    pos
}

/// Linear whitespace, including the CRLF of a folded header line.
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// RFC 3261 `token` characters.
fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

#[cfg(test)]
mod tests;
