//! Cross-reference checks on a parsed dialplan.
//!
//! Owns: the checks that need the whole dialplan: unknown step, flow and calendar
//! references, prompts missing for a language, expressions reading unknown variables,
//! unreachable steps and loops in which no step waits. Must not touch: parsing or I/O
//! (prompt existence is asked through the callback the loader was given).

use std::collections::BTreeSet;

use crate::dialplan::DialplanError;
use crate::dialplan::expr::Expr;
use crate::dialplan::model::{Dialplan, Flow, Origin, Step, StepKind};
use crate::dialplan::say;

/// Variables every call has (see `interpreter.rs`).
pub const BUILTIN_VARIABLES: [&str; 8] = [
    "caller",
    "called",
    "channel",
    "trunk",
    "language",
    "digits",
    "time",
    "lookup_error",
];

/// Runs every check, appending errors.
pub(crate) fn validate(
    dp: &Dialplan,
    extra_vars: &[String],
    prompt_exists: &dyn Fn(&str, &str) -> bool,
    errors: &mut Vec<DialplanError>,
) {
    let mut err = |o: &Origin, message: String| {
        errors.push(DialplanError {
            file: o.file.clone(),
            line: o.line,
            message,
        })
    };
    for route in &dp.routes {
        if !dp.flows.contains_key(&route.flow) {
            err(
                &route.origin,
                format!("route goes to unknown flow '{}'", route.flow),
            );
        }
    }
    let mut known: BTreeSet<String> = BUILTIN_VARIABLES.iter().map(|s| (*s).to_owned()).collect();
    known.extend(extra_vars.iter().cloned());
    for flow in dp.flows.values() {
        for step in &flow.steps {
            known.extend(defined_vars(&step.kind));
        }
    }
    for flow in dp.flows.values() {
        if let Some(lang) = &flow.language
            && !dp.languages.contains(lang)
        {
            err(
                &flow.origin,
                format!("flow '{}' uses undeclared language '{lang}'", flow.name),
            );
        }
        for (i, step) in flow.steps.iter().enumerate() {
            let label = step.label(i);
            let o = &step.origin;
            for target in step_targets(step) {
                if flow.step_index(target).is_none() {
                    err(
                        o,
                        format!(
                            "step {label} jumps to unknown step '{target}' in flow '{}'",
                            flow.name
                        ),
                    );
                }
            }
            match &step.kind {
                StepKind::Goto(f) | StepKind::Call(f) if !dp.flows.contains_key(f) => {
                    err(o, format!("step {label} goes to unknown flow '{f}'"));
                }
                StepKind::Hours { calendar, .. } if !dp.calendars.contains_key(calendar) => {
                    err(
                        o,
                        format!("step {label} uses unknown calendar '{calendar}'"),
                    );
                }
                StepKind::Language(lang) if !dp.languages.contains(lang) => {
                    err(o, format!("step {label} sets undeclared language '{lang}'"));
                }
                _ => {}
            }
            for expr in exprs(&step.kind) {
                for var in expr.variables() {
                    if !known.contains(&var) {
                        err(
                            o,
                            format!(
                                "expression `{}` uses unknown variable '{var}'",
                                expr.source()
                            ),
                        );
                    }
                }
            }
            if let StepKind::Queue(q) = &step.kind
                && let Some(class) = &q.announce.music
                && !prompt_exists("moh", class)
            {
                err(
                    o,
                    format!("music class '{class}' has no file (sounds/moh/{class}.wav)"),
                );
            }
            for lang in &dp.languages {
                for prompt in step_prompts(&step.kind) {
                    if !prompt_exists(lang, prompt) {
                        err(
                            o,
                            format!(
                                "prompt '{prompt}' is missing for language '{lang}' (sounds/{lang}/{prompt})"
                            ),
                        );
                    }
                }
                if let StepKind::Say { form, .. } = &step.kind {
                    if !say::LANGUAGES.contains(&lang.as_str()) {
                        err(
                            o,
                            format!("step {label}: 'say' has no grammar for language '{lang}'"),
                        );
                        continue;
                    }
                    let missing: Vec<String> = say::prompts(*form, lang)
                        .into_iter()
                        .filter(|p| !prompt_exists(lang, p))
                        .collect();
                    if let Some(first) = missing.first() {
                        err(
                            o,
                            format!(
                                "step {label}: 'say' needs {} prompt(s) missing for language '{lang}', e.g. '{first}'",
                                missing.len()
                            ),
                        );
                    }
                }
            }
        }
        for i in unreachable(flow) {
            let step = &flow.steps[i];
            err(
                &step.origin,
                format!(
                    "step {} in flow '{}' is unreachable",
                    step.label(i),
                    flow.name
                ),
            );
        }
    }
    for (flow, i) in loops_without_wait(dp) {
        let step = &dp.flows[&flow].steps[i];
        err(
            &step.origin,
            format!(
                "step {} in flow '{flow}' starts a loop in which no step waits for the caller",
                step.label(i)
            ),
        );
    }
}

/// Step ids a step may jump to (not counting falling through).
pub(crate) fn step_targets(step: &Step) -> Vec<&str> {
    let mut out: Vec<&str> = step.next.iter().map(String::as_str).collect();
    match &step.kind {
        StepKind::Menu(m) => {
            out.extend(m.options.iter().map(|(_, t)| t.as_str()));
            out.extend(opt(&m.on_invalid));
            out.extend(opt(&m.on_timeout));
        }
        StepKind::Collect(c) => out.extend(opt(&c.on_invalid)),
        StepKind::Branch { cases, otherwise } => {
            out.extend(cases.iter().map(|(_, t)| t.as_str()));
            out.extend(opt(otherwise));
        }
        StepKind::Lookup(l) => out.extend(opt(&l.on_error)),
        StepKind::Hours { open, closed, .. } => {
            out.extend(opt(open));
            out.push(closed);
        }
        StepKind::Callback(c) => {
            out.extend(opt(&c.on_decline));
            out.extend(opt(&c.on_failure));
        }
        StepKind::Transfer { on_failure, .. } | StepKind::Dial { on_failure, .. } => {
            out.extend(opt(on_failure))
        }
        _ => {}
    }
    out
}

/// Whether execution can fall through to the next step in the list.
pub(crate) fn falls_through(step: &Step) -> bool {
    if step.kind.is_terminal() || step.next.is_some() {
        return false;
    }
    match &step.kind {
        StepKind::Branch { otherwise, .. } => otherwise.is_none(),
        StepKind::Hours { open, .. } => open.is_none(),
        _ => true,
    }
}

fn successors(flow: &Flow, i: usize) -> Vec<usize> {
    let step = &flow.steps[i];
    let mut out: Vec<usize> = step_targets(step)
        .into_iter()
        .filter_map(|t| flow.step_index(t))
        .collect();
    if falls_through(step) && i + 1 < flow.steps.len() {
        out.push(i + 1);
    }
    out
}

fn unreachable(flow: &Flow) -> Vec<usize> {
    let mut seen = vec![false; flow.steps.len()];
    let mut stack = vec![0];
    while let Some(i) = stack.pop() {
        if i >= seen.len() || seen[i] {
            continue;
        }
        seen[i] = true;
        stack.extend(successors(flow, i));
    }
    (0..seen.len()).filter(|&i| !seen[i]).collect()
}

/// One step per cycle of non-waiting steps (across `goto`/`call` too).
fn loops_without_wait(dp: &Dialplan) -> Vec<(String, usize)> {
    let nodes: Vec<(&str, usize)> = dp
        .flows
        .iter()
        .flat_map(|(name, f)| (0..f.steps.len()).map(move |i| (name.as_str(), i)))
        .collect();
    let index = |flow: &str, i: usize| nodes.iter().position(|n| *n == (flow, i));
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|&(name, i)| {
            let flow = &dp.flows[name];
            if flow.steps[i].kind.waits() {
                return Vec::new();
            }
            let mut out: Vec<usize> = successors(flow, i)
                .into_iter()
                .filter_map(|j| index(name, j))
                .collect();
            if let StepKind::Goto(f) | StepKind::Call(f) = &flow.steps[i].kind {
                out.extend(index(f, 0));
            }
            out
        })
        .collect();
    // Iterative DFS with colours: 0 new, 1 on the stack, 2 done.
    let mut colour = vec![0u8; nodes.len()];
    let mut found = Vec::new();
    for start in 0..nodes.len() {
        if colour[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        colour[start] = 1;
        while let Some((node, edge)) = stack.pop() {
            if let Some(&next) = edges[node].get(edge) {
                stack.push((node, edge + 1));
                match colour[next] {
                    0 => {
                        colour[next] = 1;
                        stack.push((next, 0));
                    }
                    1 => found.push((nodes[next].0.to_owned(), nodes[next].1)),
                    _ => {}
                }
            } else {
                colour[node] = 2;
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

fn defined_vars(kind: &StepKind) -> Vec<String> {
    let root = |name: &str| name.split('.').next().unwrap_or(name).to_owned();
    match kind {
        StepKind::Set(pairs) => pairs.iter().map(|(n, _)| root(n)).collect(),
        StepKind::Collect(c) => vec![root(&c.into)],
        StepKind::Lookup(l) => vec![root(&l.into)],
        _ => Vec::new(),
    }
}

fn exprs(kind: &StepKind) -> Vec<&Expr> {
    match kind {
        StepKind::Say { value, .. } => vec![value],
        StepKind::Set(pairs) => pairs.iter().map(|(_, e)| e).collect(),
        StepKind::Branch { cases, .. } => cases.iter().map(|(e, _)| e).collect(),
        StepKind::Lookup(l) => l.params.iter().map(|(_, e)| e).collect(),
        StepKind::Callback(c) => vec![&c.number],
        _ => Vec::new(),
    }
}

/// Every fixed prompt a step plays.
pub(crate) fn step_prompts(kind: &StepKind) -> Vec<&str> {
    match kind {
        StepKind::Play { prompts, .. } => list(prompts),
        StepKind::Menu(m) => {
            let mut out = list(&m.prompts);
            out.extend(m.invalid_prompt.as_deref());
            out.extend(m.timeout_prompt.as_deref());
            out
        }
        StepKind::Collect(c) => {
            let mut out = list(&c.prompts);
            out.extend(c.invalid_prompt.as_deref());
            out
        }
        StepKind::Callback(c) => list(&c.prompts),
        StepKind::Voicemail(v) => list(&v.prompts),
        StepKind::Survey(s) => s.questions.iter().flat_map(|q| list(&q.prompts)).collect(),
        _ => Vec::new(),
    }
}

fn opt(o: &Option<String>) -> Vec<&str> {
    o.as_deref().into_iter().collect()
}

fn list(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
