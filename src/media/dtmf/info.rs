//! DTMF carried in SIP INFO bodies.
//!
//! Owns the parsing of the two de-facto body formats: `application/dtmf-relay`
//! (`Signal=5\r\nDuration=160`, duration in ms) and `application/dtmf` (the key alone).
//! Pure; the SIP dialog layer hands in the Content-Type and the body of an INFO request and
//! answers it (200 on success, 415 for an unsupported type, 400 for a bad body).

use crate::media::dtmf::{DtmfDigit, DtmfError};

/// A digit from a SIP INFO request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoDigit {
    /// The key.
    pub digit: DtmfDigit,
    /// Duration in ms when the body gives one.
    pub duration_ms: Option<u32>,
}

/// Parse an INFO body given its Content-Type (parameters and case are ignored).
pub fn parse_info(content_type: &str, body: &[u8]) -> Result<InfoDigit, DtmfError> {
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let text = String::from_utf8_lossy(body);
    match media_type.as_str() {
        "application/dtmf-relay" => parse_dtmf_relay(&text),
        "application/dtmf" => Ok(InfoDigit {
            digit: parse_signal(text.trim())?,
            duration_ms: None,
        }),
        _ => Err(DtmfError::UnsupportedContentType(media_type)),
    }
}

/// Parse an `application/dtmf-relay` body: `Signal=` and optional `Duration=` lines.
pub fn parse_dtmf_relay(body: &str) -> Result<InfoDigit, DtmfError> {
    let mut digit = None;
    let mut duration_ms = None;
    for line in body.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "signal" => digit = Some(parse_signal(value)?),
            "duration" => {
                duration_ms = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| DtmfError::InvalidDuration(value.to_owned()))?,
                );
            }
            _ => {}
        }
    }
    Ok(InfoDigit {
        digit: digit.ok_or(DtmfError::NoSignal)?,
        duration_ms,
    })
}

/// A signal value: one key character, or the event number 10-15 some phones send for
/// `*`, `#`, `A`-`D`.
fn parse_signal(value: &str) -> Result<DtmfDigit, DtmfError> {
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Err(DtmfError::NoSignal),
        (Some(c), None) => {
            DtmfDigit::from_char(c).ok_or_else(|| DtmfError::InvalidSignal(value.to_owned()))
        }
        _ => value
            .parse::<u8>()
            .ok()
            .and_then(DtmfDigit::from_event_code)
            .ok_or_else(|| DtmfError::InvalidSignal(value.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_relay_bodies() {
        let d = parse_info("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n").unwrap();
        assert_eq!(
            d,
            InfoDigit {
                digit: DtmfDigit::D5,
                duration_ms: Some(160)
            }
        );
        let d = parse_info(
            "Application/DTMF-Relay; charset=x",
            b"signal= #\nduration = 250",
        )
        .unwrap();
        assert_eq!(d.digit, DtmfDigit::Pound);
        assert_eq!(d.duration_ms, Some(250));
        let d = parse_dtmf_relay("Signal=11").unwrap();
        assert_eq!(d.digit, DtmfDigit::Pound);
        assert_eq!(d.duration_ms, None);
        let d = parse_dtmf_relay("Signal=*\r\n").unwrap();
        assert_eq!(d.digit, DtmfDigit::Star);
    }

    #[test]
    fn plain_dtmf_bodies() {
        let d = parse_info("application/dtmf", b"7\r\n").unwrap();
        assert_eq!(d.digit, DtmfDigit::D7);
        assert_eq!(d.duration_ms, None);
        assert_eq!(
            parse_info("application/dtmf", b"d").unwrap().digit,
            DtmfDigit::D
        );
    }

    #[test]
    fn bad_bodies_are_errors() {
        assert_eq!(
            parse_info("application/dtmf-relay", b"Duration=160"),
            Err(DtmfError::NoSignal)
        );
        assert_eq!(
            parse_info("application/dtmf-relay", b"Signal=X"),
            Err(DtmfError::InvalidSignal("X".into()))
        );
        assert_eq!(
            parse_info("application/dtmf-relay", b"Signal=5\nDuration=abc"),
            Err(DtmfError::InvalidDuration("abc".into()))
        );
        assert_eq!(
            parse_info("application/dtmf-relay", b"Signal=16"),
            Err(DtmfError::InvalidSignal("16".into()))
        );
        assert_eq!(
            parse_info("application/dtmf", b"  "),
            Err(DtmfError::NoSignal)
        );
        assert_eq!(
            parse_info("text/plain", b"5"),
            Err(DtmfError::UnsupportedContentType("text/plain".into()))
        );
        assert!(parse_info("application/dtmf", &[0xFF, 0xFE]).is_err());
    }
}
