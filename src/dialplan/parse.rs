//! YAML → dialplan model, file by file: the top level, routes, calendars and flows.
//!
//! Owns: the file format's top level (see the module docs of `crate::dialplan`). Every
//! error is recorded with its line and parsing goes on, so one run reports them all.
//! Steps are parsed in `parse_step.rs`; cross-references are checked in `validate.rs`.

use std::collections::BTreeMap;

use crate::dialplan::calendar::{self, Calendar, WEEKDAYS};
use crate::dialplan::fields::Ctx;
use crate::dialplan::model::{Flow, Origin, Route, RouteMatch};
use crate::dialplan::parse_step::parse_step;
use crate::dialplan::pattern::Pattern;
use crate::dialplan::yaml::{Kind, Node};

/// What the files parsed so far declare.
#[derive(Default)]
pub(crate) struct Parts {
    pub languages: Vec<(String, Origin)>,
    pub variables: Vec<String>,
    pub routes: Vec<Route>,
    pub calendars: BTreeMap<String, (Calendar, Origin)>,
    pub flows: BTreeMap<String, Flow>,
}

/// Parses one file's root node into `parts`.
pub(crate) fn parse_file(cx: &mut Ctx<'_>, root: &Node, parts: &mut Parts) {
    if root.kind == Kind::Null {
        return;
    }
    let allowed = ["languages", "variables", "routes", "calendars", "flows"];
    let Some(top) = cx.fields(root, "a dialplan file", &allowed) else {
        return;
    };
    if let Some(n) = top.get("languages") {
        for lang in cx.names(n, "a language") {
            parts.languages.push((lang, origin(cx, n.line)));
        }
    }
    if let Some(n) = top.get("variables") {
        let names = cx.names(n, "a variable name");
        parts.variables.extend(names);
    }
    if let Some(n) = top.get("routes") {
        match &n.kind {
            Kind::Seq(items) => {
                for item in items {
                    if let Some(r) = parse_route(cx, item) {
                        parts.routes.push(r);
                    }
                }
            }
            _ => cx.err(n.line, "'routes' must be a list"),
        }
    }
    if let Some(n) = top.get("calendars") {
        let Kind::Map(entries) = &n.kind else {
            return cx.err(n.line, "'calendars' must be a mapping of name → calendar");
        };
        for (name, line, node) in entries {
            if let Some(cal) = parse_calendar(cx, name, node) {
                if parts.calendars.contains_key(name) {
                    cx.err(*line, format!("calendar '{name}' is defined twice"));
                } else {
                    parts
                        .calendars
                        .insert(name.clone(), (cal, origin(cx, *line)));
                }
            }
        }
    }
    if let Some(n) = top.get("flows") {
        let Kind::Map(entries) = &n.kind else {
            return cx.err(n.line, "'flows' must be a mapping of name → flow");
        };
        for (name, line, node) in entries {
            let flow = parse_flow(cx, name, *line, node);
            if let Some(prev) = parts.flows.get(name) {
                let at = format!("{}:{}", prev.origin.file, prev.origin.line);
                cx.err(*line, format!("flow '{name}' is already defined at {at}"));
            } else {
                parts.flows.insert(name.clone(), flow);
            }
        }
    }
}

fn origin(cx: &Ctx<'_>, line: usize) -> Origin {
    Origin {
        file: cx.file.to_owned(),
        line,
    }
}

fn parse_route(cx: &mut Ctx<'_>, n: &Node) -> Option<Route> {
    let allowed = ["number", "numbers", "pattern", "trunk", "dids", "flow"];
    let f = cx.fields(n, "a route", &allowed)?;
    let flow = cx
        .need(&f, "flow", "a route")
        .and_then(|n| cx.text(n, "a flow name"));
    let matcher = if let Some(trunk) = cx.opt_text(&f, "trunk", "a trunk name") {
        let dids = f
            .get("dids")
            .map(|n| cx.names(n, "a DID"))
            .unwrap_or_default();
        if dids.is_empty() {
            cx.err(f.line, format!("route for trunk '{trunk}' needs 'dids'"));
        }
        RouteMatch::Trunk { trunk, dids }
    } else if let Some(p) = f.get("pattern") {
        let text = cx.text(p, "a pattern")?;
        match Pattern::parse(&text) {
            Ok(pattern) => RouteMatch::Pattern(pattern),
            Err(e) => {
                cx.err(p.line, e);
                return None;
            }
        }
    } else if let Some(n) = f.get("number").or_else(|| f.get("numbers")) {
        RouteMatch::Numbers(cx.names(n, "a number"))
    } else {
        cx.err(
            f.line,
            "a route needs 'number', 'numbers', 'pattern' or 'trunk' with 'dids'",
        );
        return None;
    };
    Some(Route {
        matcher,
        flow: flow?,
        origin: origin(cx, f.line),
    })
}

fn parse_calendar(cx: &mut Ctx<'_>, name: &str, n: &Node) -> Option<Calendar> {
    let what = format!("calendar '{name}'");
    let f = cx.fields(n, &what, &["time_zone", "utc_offset", "hours", "holidays"])?;
    let mut cal = Calendar {
        zone: crate::civil::TimeZone::UTC,
        hours: Default::default(),
        holidays: Vec::new(),
    };
    if let Some(n) = f.get("utc_offset") {
        let text = cx.text(n, "'utc_offset'").unwrap_or_default();
        match crate::civil::parse_offset_minutes(&text).map(|m| crate::civil::fixed_offset(m * 60))
        {
            Some(Ok(zone)) => cal.zone = zone,
            _ => cx.err(n.line, format!("'utc_offset' '{text}' is not like +01:00")),
        }
    }
    if let Some(n) = f.get("time_zone") {
        let text = cx.text(n, "'time_zone'").unwrap_or_default();
        match crate::civil::parse_zone(&text) {
            Ok(zone) => cal.zone = zone,
            Err(message) => cx.err(n.line, format!("'time_zone': {message}")),
        }
    }
    if let Some(hours) = cx.need(&f, "hours", &what) {
        let Kind::Map(entries) = &hours.kind else {
            cx.err(
                hours.line,
                "'hours' must map days (mon, mon-fri, …) to HH:MM-HH:MM",
            );
            return None;
        };
        for (days, line, value) in entries {
            let Some(range) = weekday_range(days) else {
                cx.err(
                    *line,
                    format!("'{days}' is not a weekday or range like mon-fri"),
                );
                continue;
            };
            for text in cx.names(value, "an interval") {
                match calendar::parse_interval(&text) {
                    Ok(iv) => range.clone().for_each(|d| cal.hours[d].push(iv)),
                    Err(e) => cx.err(value.line, e),
                }
            }
        }
    }
    if let Some(n) = f.get("holidays") {
        let items: Vec<&Node> = match &n.kind {
            Kind::Seq(items) => items.iter().collect(),
            _ => vec![n],
        };
        for item in items {
            let text = cx.text(item, "a holiday").unwrap_or_default();
            match calendar::parse_date(&text) {
                Some(d) => cal.holidays.push(d),
                None => cx.err(
                    item.line,
                    format!("holiday '{text}' is not a date YYYY-MM-DD"),
                ),
            }
        }
    }
    Some(cal)
}

fn weekday_range(text: &str) -> Option<std::ops::RangeInclusive<usize>> {
    let day = |d: &str| WEEKDAYS.iter().position(|w| *w == d.trim());
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (day(a)?, day(b)?);
            (a <= b).then_some(a..=b)
        }
        None => day(text).map(|d| d..=d),
    }
}

fn parse_flow(cx: &mut Ctx<'_>, name: &str, line: usize, n: &Node) -> Flow {
    let mut flow = Flow {
        name: name.to_owned(),
        language: None,
        steps: Vec::new(),
        origin: origin(cx, line),
    };
    let steps = match &n.kind {
        Kind::Seq(_) => Some(n),
        _ => {
            let what = format!("flow '{name}'");
            let f = cx.fields(n, &what, &["language", "steps"]);
            flow.language = f
                .as_ref()
                .and_then(|f| cx.opt_text(f, "language", "a language"));
            f.and_then(|f| cx.need(&f, "steps", &what))
        }
    };
    match steps.map(|s| &s.kind) {
        Some(Kind::Seq(items)) => {
            for item in items {
                if let Some(step) = parse_step(cx, item) {
                    if let Some(id) = &step.id
                        && flow.step_index(id).is_some()
                    {
                        cx.err(
                            item.line,
                            format!("step id '{id}' is used twice in flow '{name}'"),
                        );
                    }
                    flow.steps.push(step);
                }
            }
        }
        Some(_) => cx.err(line, format!("the steps of flow '{name}' must be a list")),
        None => {}
    }
    if flow.steps.is_empty() && steps.is_some() {
        cx.err(line, format!("flow '{name}' has no steps"));
    }
    flow
}
