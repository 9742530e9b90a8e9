//! Loading a `dialplans/` directory into a validated [`Dialplan`], and routing numbers.
//!
//! Owns: reading the `*.yaml`/`*.yml` files (sorted by name, so errors and route order are
//! stable), parsing them, validating the whole, and the route lookup. Every error of every
//! file is collected; the dialplan is returned only when there are none. The only I/O is
//! reading the directory; prompt existence is asked through a callback so that this module
//! never looks at `sounds/` itself.

use std::path::Path;

use crate::dialplan::DialplanError;
use crate::dialplan::fields::Ctx;
use crate::dialplan::model::{Dialplan, RouteMatch};
use crate::dialplan::parse::{Parts, parse_file};
use crate::dialplan::validate::validate;
use crate::dialplan::yaml;

impl Dialplan {
    /// Loads every `*.yaml`/`*.yml` file of `dir`. `prompt_exists(lang, prompt)` tells
    /// whether `sounds/<lang>/<prompt>` exists.
    pub fn load_dir(
        dir: &Path,
        prompt_exists: &dyn Fn(&str, &str) -> bool,
    ) -> Result<Dialplan, Vec<DialplanError>> {
        let io_err = |file: &Path, e: std::io::Error| {
            vec![DialplanError {
                file: file.display().to_string(),
                line: 0,
                message: format!("cannot read: {e}"),
            }]
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
            let path = entry.map_err(|e| io_err(dir, e))?.path();
            let ext = path.extension().and_then(|e| e.to_str());
            if matches!(ext, Some("yaml" | "yml")) && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
            files.push((path.display().to_string(), text));
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        Dialplan::load_sources(&refs, prompt_exists)
    }

    /// Loads from `(file name, text)` pairs, in the given order (tests, `centrala check`).
    pub fn load_sources(
        files: &[(&str, &str)],
        prompt_exists: &dyn Fn(&str, &str) -> bool,
    ) -> Result<Dialplan, Vec<DialplanError>> {
        let mut errors = Vec::new();
        let mut parts = Parts::default();
        for (file, text) in files {
            let mut cx = Ctx {
                file,
                errors: &mut errors,
            };
            match yaml::parse(text) {
                Ok(root) => parse_file(&mut cx, &root, &mut parts),
                Err(e) => cx.err(e.line, format!("YAML syntax error: {}", e.message)),
            }
        }
        let mut languages: Vec<String> = Vec::new();
        for (lang, origin) in &parts.languages {
            if languages.contains(lang) {
                errors.push(DialplanError {
                    file: origin.file.clone(),
                    line: origin.line,
                    message: format!("language '{lang}' is declared twice"),
                });
            } else {
                languages.push(lang.clone());
            }
        }
        if languages.is_empty() {
            languages.push("en".to_owned());
        }
        let dialplan = Dialplan {
            languages,
            routes: parts.routes,
            calendars: parts
                .calendars
                .into_iter()
                .map(|(k, (c, _))| (k, c))
                .collect(),
            flows: parts.flows,
        };
        validate(&dialplan, &parts.variables, prompt_exists, &mut errors);
        if errors.is_empty() {
            Ok(dialplan)
        } else {
            Err(errors)
        }
    }

    /// The flow for a dialled `number` arriving (optionally) on `trunk`: exact numbers and
    /// trunk DIDs first, then patterns in the order written.
    pub fn route(&self, number: &str, trunk: Option<&str>) -> Option<&str> {
        let exact = self.routes.iter().find(|r| match &r.matcher {
            RouteMatch::Numbers(numbers) => numbers.iter().any(|n| n == number),
            RouteMatch::Trunk { trunk: t, dids } => {
                Some(t.as_str()) == trunk && dids.iter().any(|d| d == number)
            }
            RouteMatch::Pattern(_) => false,
        });
        exact
            .or_else(|| {
                self.routes
                    .iter()
                    .find(|r| matches!(&r.matcher, RouteMatch::Pattern(p) if p.matches(number)))
            })
            .map(|r| r.flow.as_str())
    }

    /// The default language (the first declared).
    pub fn default_language(&self) -> &str {
        self.languages.first().map(String::as_str).unwrap_or("en")
    }
}
