//! Turning a lookup's parameters into a request, and the CRM's answer into variables. Pure.
//!
//! Owns: parameter canonicalisation (`number` to E.164, `email` trimmed and lower-cased), URL
//! template rendering with percent-encoding, and the JSON-pointer mapping of the answer.
//! Must not touch: sockets, clocks. Driven by: `LookupService`.

use serde_json::{Map, Value};

use super::LookupError;
use super::e164::{E164Rules, normalize_e164};

/// Canonical forms of the well-known parameters; others pass unchanged.
pub(crate) fn canonical_params(
    lookup: &str,
    mut params: Map<String, Value>,
    rules: &E164Rules,
) -> Result<Map<String, Value>, LookupError> {
    if let Some(Value::String(raw)) = params.get("number") {
        let number = normalize_e164(raw, rules).map_err(|source| LookupError::BadNumber {
            lookup: lookup.to_string(),
            source,
        })?;
        params.insert("number".into(), Value::String(number));
    }
    if let Some(Value::String(raw)) = params.get("email") {
        let email = raw.trim().to_lowercase();
        params.insert("email".into(), Value::String(email));
    }
    Ok(params)
}

/// The URL with each `{name}` replaced by the percent-encoded parameter.
pub(crate) fn render_url(
    lookup: &str,
    template: &str,
    params: &Map<String, Value>,
) -> Result<String, LookupError> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = &rest[open + 1..close];
        let value = match params.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
            _ => {
                return Err(LookupError::MissingParam {
                    lookup: lookup.to_string(),
                    param: name.to_string(),
                });
            }
        };
        percent_encode_into(&mut out, &value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The variables named by `mapping` (variable -> JSON pointer). A pointer that finds nothing
/// or `null` leaves its variable out, so a dialplan's `has(customer.debt)` means "the CRM
/// reported a debt". An empty mapping returns the whole answer.
pub(crate) fn apply_mapping(
    mapping: &std::collections::BTreeMap<String, String>,
    answer: Value,
) -> Value {
    if mapping.is_empty() {
        return answer;
    }
    let vars = mapping
        .iter()
        .filter_map(|(var, pointer)| match answer.pointer(pointer) {
            None | Some(Value::Null) => None,
            Some(value) => Some((var.clone(), value.clone())),
        })
        .collect();
    Value::Object(vars)
}

/// RFC 3986 percent-encoding of everything but the unreserved characters, so a value is safe in
/// a path segment and in a query (`+` becomes `%2B`, `@` becomes `%40`).
fn percent_encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0xf)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("tests pass objects"),
        }
    }

    #[test]
    fn url_gets_encoded_canonical_params() {
        let rules = E164Rules {
            country_code: "48".into(),
            national_digits: Some(9),
        };
        let params = canonical_params(
            "x",
            map(json!({"number": "22 111 22 33", "email": " Jan@Example.COM ", "n": 7})),
            &rules,
        )
        .unwrap();
        let url = render_url(
            "x",
            "http://crm/by-phone/{number}?e={email}&n={n}&k=1",
            &params,
        )
        .unwrap();
        assert_eq!(
            url,
            "http://crm/by-phone/%2B48221112233?e=jan%40example.com&n=7&k=1"
        );
    }

    #[test]
    fn missing_param_and_bad_number_are_errors() {
        let err = render_url("x", "http://crm/{email}", &Map::new()).unwrap_err();
        assert!(matches!(err, LookupError::MissingParam { ref param, .. } if param == "email"));
        let rules = E164Rules {
            country_code: "48".into(),
            national_digits: None,
        };
        let err = canonical_params("x", map(json!({"number": "anonymous"})), &rules).unwrap_err();
        assert!(matches!(err, LookupError::BadNumber { .. }));
    }

    #[test]
    fn mapping_picks_pointers_and_leaves_out_the_missing() {
        let answer = json!({"name": "Jan", "debt": {"balance": -120.5}, "x": 1, "order": null});
        let mapping: BTreeMap<String, String> = [
            ("name", "/name"),
            ("balance", "/debt/balance"),
            ("vip", "/vip"),
            ("order", "/order"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            apply_mapping(&mapping, answer.clone()),
            json!({"name": "Jan", "balance": -120.5})
        );
        assert_eq!(apply_mapping(&BTreeMap::new(), answer.clone()), answer);
    }
}
