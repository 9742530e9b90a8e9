//! Typed access to YAML nodes for the dialplan parser, recording every error with its line.
//!
//! Owns: the small vocabulary the parser uses (`text`, `prompts`, `duration`, `expr`, …)
//! and the collection of [`DialplanError`]s for one file. Must not touch: the model's
//! semantics; `parse.rs` and `parse_step.rs` decide what each field means.

use std::time::Duration;

use crate::dialplan::DialplanError;
use crate::dialplan::expr::Expr;
use crate::dialplan::yaml::{Kind, Node};

/// Error sink for one file.
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub errors: &'a mut Vec<DialplanError>,
}

/// The entries of one mapping, after unknown keys were reported.
pub(crate) struct Fields<'n> {
    pub line: usize,
    entries: &'n [(String, usize, Node)],
}

impl<'n> Fields<'n> {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|e| e.0 == key).map(|e| &e.2)
    }

    /// All entries in document order.
    pub fn entries(&self) -> &'n [(String, usize, Node)] {
        self.entries
    }
}

impl Ctx<'_> {
    /// Records an error at `line`.
    pub fn err(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(DialplanError {
            file: self.file.to_owned(),
            line,
            message: message.into(),
        });
    }

    /// The node as a mapping whose keys are all in `allowed` (unknown keys are reported).
    pub fn fields<'n>(&mut self, n: &'n Node, what: &str, allowed: &[&str]) -> Option<Fields<'n>> {
        let Kind::Map(entries) = &n.kind else {
            self.err(
                n.line,
                format!("{what} must be a mapping, not {}", n.type_name()),
            );
            return None;
        };
        for (key, line, _) in entries {
            if !allowed.contains(&key.as_str()) {
                self.err(
                    *line,
                    format!(
                        "unknown key '{key}' in {what} (expected one of: {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
        Some(Fields {
            line: n.line,
            entries,
        })
    }

    /// A required field.
    pub fn need<'n>(&mut self, f: &Fields<'n>, key: &str, what: &str) -> Option<&'n Node> {
        let v = f.get(key);
        if v.is_none() {
            self.err(f.line, format!("{what} needs '{key}'"));
        }
        v
    }

    /// A scalar as text.
    pub fn text(&mut self, n: &Node, what: &str) -> Option<String> {
        let t = n.as_text();
        if t.is_none() {
            self.err(
                n.line,
                format!("{what} must be a text, not {}", n.type_name()),
            );
        }
        t
    }

    /// One name or a list of names.
    pub fn names(&mut self, n: &Node, what: &str) -> Vec<String> {
        match &n.kind {
            Kind::Seq(items) => items.iter().filter_map(|i| self.text(i, what)).collect(),
            _ => self.text(n, what).into_iter().collect(),
        }
    }

    /// An optional text field.
    pub fn opt_text(&mut self, f: &Fields<'_>, key: &str, what: &str) -> Option<String> {
        f.get(key).and_then(|n| self.text(n, what))
    }

    /// An optional list of prompt names (empty when absent).
    pub fn prompts(&mut self, f: &Fields<'_>) -> Vec<String> {
        f.get("prompts")
            .map(|n| self.names(n, "a prompt"))
            .unwrap_or_default()
    }

    /// A boolean with a default.
    pub fn flag(&mut self, f: &Fields<'_>, key: &str, default: bool) -> bool {
        match f.get(key) {
            None => default,
            Some(Node {
                kind: Kind::Bool(b),
                ..
            }) => *b,
            Some(n) => {
                self.err(n.line, format!("'{key}' must be true or false"));
                default
            }
        }
    }

    /// A non-negative integer with a default.
    pub fn count(&mut self, f: &Fields<'_>, key: &str, default: u32) -> u32 {
        match f.get(key) {
            None => default,
            Some(n) => match n.kind {
                Kind::Int(i) if (0..=i64::from(u32::MAX)).contains(&i) => i as u32,
                _ => {
                    self.err(n.line, format!("'{key}' must be a whole number ≥ 0"));
                    default
                }
            },
        }
    }

    /// A duration (`5`, `5s`, `500ms`, `2m`) with a default.
    pub fn duration(&mut self, f: &Fields<'_>, key: &str, default: Duration) -> Duration {
        let Some(n) = f.get(key) else {
            return default;
        };
        let parsed = match &n.kind {
            Kind::Int(i) if *i >= 0 => Some(Duration::from_secs(*i as u64)),
            Kind::Str(s) => parse_duration(s),
            _ => None,
        };
        parsed.unwrap_or_else(|| {
            self.err(
                n.line,
                format!("'{key}' must be a duration like 5s, 500ms or 2m"),
            );
            default
        })
    }

    /// A single DTMF key.
    pub fn key(&mut self, n: &Node, what: &str) -> Option<char> {
        let text = self.text(n, what)?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if is_dtmf(c) => Some(c),
            _ => {
                self.err(
                    n.line,
                    format!("{what} '{text}' is not one DTMF key (0-9, *, #)"),
                );
                None
            }
        }
    }

    /// A CEL expression, compiled now; non-text scalars are taken as literals.
    pub fn expr(&mut self, n: &Node, what: &str) -> Option<Expr> {
        let source = self.text(n, what)?;
        match Expr::compile(&source) {
            Ok(e) => Some(e),
            Err(reason) => {
                self.err(
                    n.line,
                    format!("bad expression in {what} `{source}`: {reason}"),
                );
                None
            }
        }
    }
}

/// Whether `c` is a DTMF key.
pub(crate) fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')
}

/// `5`, `5s`, `500ms`, `2m`, `1h` (whole numbers); `None` for anything else.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let value: u64 = s[..split].parse().ok()?;
    match &s[split..] {
        "" | "s" => Some(Duration::from_secs(value)),
        "ms" => Some(Duration::from_millis(value)),
        "m" | "min" => Some(Duration::from_secs(value.checked_mul(60)?)),
        "h" => Some(Duration::from_secs(value.checked_mul(3600)?)),
        _ => None,
    }
}
