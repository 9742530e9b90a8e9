//! Personal data in logs: phone numbers and e-mail addresses print masked unless debug
//! logging is on.
//!
//! Owns: `Masked` (made by `masked`), a `Display` wrapper. Must not touch: what is stored or sent (only log
//! output is masked). Driven by: every log line that names a caller, a callee or an address
//! (`number = %masked(&n)`).
//!
//! Masking keeps what an operator needs to correlate lines without the full value: a phone
//! number keeps its first three and last two characters (`+48*******33`), an e-mail address
//! its first letter and domain (`a***@example.com`). Short values (extensions, up to five
//! characters) are not personal data and print as they are. When the `debug` level is enabled
//! for the logging module (`RUST_LOG=debug`), values print in full.

use std::fmt;

/// A value printed masked, or in full when debug logging was enabled where it was made.
#[derive(Debug, Clone, Copy)]
pub struct Masked<'a> {
    value: &'a str,
    full: bool,
}

/// `value` for a log field: `number = %masked(&n)`. The level is checked here, where the
/// field is built, because inside the subscriber (while it formats the line) tracing reports
/// every level as disabled.
pub fn masked(value: &str) -> Masked<'_> {
    Masked {
        value,
        full: tracing::enabled!(target: "centrala::pii", tracing::Level::DEBUG),
    }
}

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.full {
            return f.write_str(self.value);
        }
        f.write_str(&mask(self.value))
    }
}

/// The masked form of `value` (see the module docs).
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if let Some(at) = value.find('@') {
        let (user, domain) = value.split_at(at);
        let first: String = user.chars().take(1).collect();
        return format!("{first}***{domain}");
    }
    if chars.len() <= 5 {
        return value.to_string();
    }
    let keep_head = 3.min(chars.len() - 4);
    let head: String = chars[..keep_head].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - keep_head - 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_addresses_are_masked_and_extensions_are_not() {
        assert_eq!(mask("+48221112233"), "+48*******33");
        assert_eq!(mask("anna.nowak@example.com"), "a***@example.com");
        assert_eq!(mask("1001"), "1001");
        assert_eq!(mask("123456"), "12**56");
    }

    #[test]
    fn an_info_level_log_line_carries_no_raw_number() {
        let lines = capture(tracing::Level::INFO, || {
            tracing::info!(caller = %masked("+48221112233"), email = %masked("a.b@example.com"),
                "call");
        });
        assert!(lines.contains("+48*******33"), "{lines}");
        assert!(!lines.contains("+48221112233"), "{lines}");
        assert!(!lines.contains("a.b@example.com"), "{lines}");
    }

    #[test]
    fn debug_level_shows_the_full_value() {
        let lines = capture(tracing::Level::DEBUG, || {
            tracing::debug!(caller = %masked("+48221112233"), "call");
        });
        assert!(lines.contains("+48221112233"), "{lines}");
    }

    /// The formatted log output of `f` with the subscriber at `level`.
    fn capture(level: tracing::Level, f: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }
}
