//! CEL expressions over call variables.
//!
//! Owns: compiling an expression once at load time ([`Expr::compile`]) and evaluating it
//! against the call's variables (a JSON object: `caller.number`, `debt.overdue_days`, …).
//! Must not touch: I/O; it does not know the flow or the interpreter.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Number, Value};

/// A compiled CEL expression with its source text.
#[derive(Clone)]
pub struct Expr {
    source: String,
    program: Arc<cel::Program>,
}

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The CEL interpreter failed (missing variable or key, type mismatch …).
    #[error("`{expr}`: {reason}")]
    Execution {
        /// The expression.
        expr: String,
        /// The interpreter's message.
        reason: String,
    },
    /// The result has no JSON form (e.g. a function value).
    #[error("`{0}`: the result cannot be stored as a variable")]
    NotData(String),
}

impl Expr {
    /// Compiles `source`; the error is the parser's message.
    pub fn compile(source: &str) -> Result<Expr, String> {
        let program = cel::Program::compile(source).map_err(|e| {
            e.to_string()
                .lines()
                .next()
                .unwrap_or("syntax error")
                .replace("ERROR: <input>:", "at ")
        })?;
        Ok(Expr {
            source: source.to_owned(),
            program: Arc::new(program),
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Top-level variable names the expression reads.
    pub fn variables(&self) -> Vec<String> {
        self.program
            .references()
            .variables()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// Evaluates against `vars` and converts the result to JSON.
    pub fn eval(&self, vars: &Map<String, Value>) -> Result<Value, EvalError> {
        let mut ctx = cel::Context::default();
        for (name, value) in vars {
            ctx.add_variable_from_value(name.clone(), from_json(value));
        }
        let out = self
            .program
            .execute(&ctx)
            .map_err(|e| EvalError::Execution {
                expr: self.source.clone(),
                reason: e.to_string(),
            })?;
        to_json(&out).ok_or_else(|| EvalError::NotData(self.source.clone()))
    }

    /// Evaluates and requires a boolean.
    pub fn eval_bool(&self, vars: &Map<String, Value>) -> Result<bool, EvalError> {
        match self.eval(vars)? {
            Value::Bool(b) => Ok(b),
            other => Err(EvalError::Execution {
                expr: self.source.clone(),
                reason: format!("expected a boolean, got {other}"),
            }),
        }
    }
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

/// JSON → CEL; integers become `int` whenever they fit, so `n * 3` works on JSON numbers
/// (serde's own mapping gives `uint` for positive numbers, which CEL will not mix with `int`).
fn from_json(v: &Value) -> cel::Value {
    match v {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => cel::Value::Int(i),
            (None, Some(u)) => cel::Value::UInt(u),
            _ => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        Value::Array(items) => cel::Value::List(Arc::new(items.iter().map(from_json).collect())),
        Value::Object(m) => {
            let map: HashMap<cel::objects::Key, cel::Value> = m
                .iter()
                .map(|(k, v)| (cel::objects::Key::String(Arc::new(k.clone())), from_json(v)))
                .collect();
            cel::Value::Map(cel::objects::Map { map: Arc::new(map) })
        }
    }
}

fn to_json(v: &cel::Value) -> Option<Value> {
    Some(match v {
        cel::Value::Null => Value::Null,
        cel::Value::Bool(b) => Value::Bool(*b),
        cel::Value::Int(i) => Value::Number((*i).into()),
        cel::Value::UInt(u) => Value::Number((*u).into()),
        cel::Value::Float(f) => Value::Number(Number::from_f64(*f)?),
        cel::Value::String(s) => Value::String(s.as_str().to_owned()),
        cel::Value::List(items) => Value::Array(items.iter().map(to_json).collect::<Option<_>>()?),
        cel::Value::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m.map.iter() {
                let key = match k {
                    cel::objects::Key::String(s) => s.as_str().to_owned(),
                    cel::objects::Key::Int(i) => i.to_string(),
                    cel::objects::Key::Uint(u) => u.to_string(),
                    cel::objects::Key::Bool(b) => b.to_string(),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn nested_fields_and_string_functions() {
        let v = vars(json!({
            "debt": {"overdue_days": 45, "balance": -120.5},
            "caller": {"number": "+48601000000"}
        }));
        let e = Expr::compile("debt.overdue_days > 30 && debt.balance < 0").expect("valid");
        assert_eq!(e.eval_bool(&v), Ok(true));
        let e = Expr::compile("caller.number.startsWith(\"+48\")").expect("valid");
        assert_eq!(e.eval_bool(&v), Ok(true));
        let e = Expr::compile("caller.number.startsWith('+44')").expect("valid");
        assert_eq!(e.eval_bool(&v), Ok(false));
    }

    #[test]
    fn results_convert_to_json() {
        let v = vars(json!({"a": 2}));
        let e = Expr::compile("{'x': [a * 3, 'y', true, null]}").expect("valid");
        assert_eq!(e.eval(&v), Ok(json!({"x": [6, "y", true, null]})));
    }

    #[test]
    fn bad_syntax_is_reported_at_compile_time() {
        let err = Expr::compile("a +").expect_err("incomplete");
        assert!(err.contains("at 1:"), "{err}");
    }

    #[test]
    fn missing_variable_is_an_eval_error_and_references_are_listed() {
        let e = Expr::compile("nope.x == 1 || caller.number == ''").expect("valid");
        assert!(e.eval_bool(&Map::new()).is_err());
        let mut names = e.variables();
        names.sort();
        assert_eq!(names, vec!["caller".to_owned(), "nope".to_owned()]);
        let e = Expr::compile("1 + 1").expect("valid");
        assert!(e.eval_bool(&Map::new()).is_err(), "not a boolean");
    }
}
