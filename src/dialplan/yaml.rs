//! A small owned YAML tree with line numbers, built from `saphyr`'s marked nodes.
//!
//! Owns: turning YAML text into [`Node`]s that remember the line they start on, so that
//! every later check can say `file:line`. Must not touch: anything dialplan-specific; the
//! parser of the dialplan model (`parse.rs`) walks these nodes. Driven by `load.rs`.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// One YAML node and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub line: usize,
    pub kind: Kind,
}

/// What a [`Node`] holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys are scalars rendered as text, in document order, each with its own line.
    Map(Vec<(String, usize, Node)>),
}

/// A YAML syntax error with its 1-based line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub message: String,
}

/// Parses the first document of `text`; an empty text is a `Null` node on line 1.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| SyntaxError {
        line: e.marker().line(),
        message: e.info().to_owned(),
    })?;
    match docs.into_iter().next() {
        Some(doc) => Ok(convert(&doc)),
        None => Ok(Node {
            line: 1,
            kind: Kind::Null,
        }),
    }
}

impl Node {
    /// The node as text if it is a scalar (numbers and booleans are rendered).
    pub fn as_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            Kind::Float(f) => Some(f.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }

    /// A short name of the node's type for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

fn convert(y: &MarkedYaml<'_>) -> Node {
    let line = y.span.start.line();
    let kind = match &y.data {
        YamlData::Value(s) => scalar(s),
        YamlData::Representation(text, _, _) => Kind::Str(text.to_string()),
        YamlData::Sequence(items) => Kind::Seq(items.iter().map(convert).collect()),
        YamlData::Mapping(map) => Kind::Map(
            map.iter()
                .map(|(k, v)| {
                    let key = convert(k);
                    let text = key.as_text().unwrap_or_default();
                    (text, key.line, convert(v))
                })
                .collect(),
        ),
        YamlData::Tagged(_, inner) => convert(inner).kind,
        YamlData::Alias(_) | YamlData::BadValue => Kind::Null,
    };
    Node { line, kind }
}

fn scalar(s: &Scalar<'_>) -> Kind {
    match s {
        Scalar::Null => Kind::Null,
        Scalar::Boolean(b) => Kind::Bool(*b),
        Scalar::Integer(i) => Kind::Int(*i),
        Scalar::FloatingPoint(f) => Kind::Float(f.into_inner()),
        Scalar::String(s) => Kind::Str(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_and_per_node() {
        let n = parse("a: 1\nb:\n  - x\n  - 2.5\n").expect("valid yaml");
        let Kind::Map(entries) = n.kind else {
            panic!("expected a map")
        };
        assert_eq!(entries[0].0, "a");
        assert_eq!(entries[0].1, 1);
        assert_eq!(entries[0].2.kind, Kind::Int(1));
        let Kind::Seq(items) = &entries[1].2.kind else {
            panic!("expected a list")
        };
        assert_eq!(items[0].line, 3);
        assert_eq!(items[1].kind, Kind::Float(2.5));
        assert_eq!(items[1].line, 4);
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let e = parse("a: [1, 2\nb: 3\n").expect_err("unclosed list");
        assert!(e.line >= 1, "{e:?}");
        let e = parse("a: 1\na: 2\n").expect_err("duplicate key");
        assert_eq!(e.line, 2, "{e:?}");
    }

    #[test]
    fn quoted_numbers_stay_strings() {
        let n = parse("\"1\": x\n").expect("valid");
        let Kind::Map(entries) = n.kind else {
            panic!("expected a map")
        };
        assert_eq!(entries[0].0, "1");
    }
}
