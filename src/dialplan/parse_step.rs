//! YAML → one flow step.
//!
//! Owns: the syntax of each step kind. A step is either a bare word (`answer`, `hangup`,
//! `return`) or a mapping with one kind key plus optional `id` and `next`. Errors are
//! recorded with their line; references to other steps and flows are checked later.

use std::time::Duration;

use crate::dialplan::fields::Ctx;
use crate::dialplan::model::{CallbackStep, Origin, Step, StepKind, TransferTarget, VoicemailStep};
use crate::dialplan::parse_params::{branch, collect, lookup, menu, queue, say_form, survey};
use crate::dialplan::yaml::{Kind, Node};

const KINDS: [&str; 20] = [
    "answer",
    "play",
    "say",
    "menu",
    "collect",
    "set",
    "language",
    "branch",
    "lookup",
    "hours",
    "queue",
    "callback",
    "voicemail",
    "survey",
    "transfer",
    "dial",
    "goto",
    "call",
    "return",
    "hangup",
];

/// Parses one step; `None` when it is too broken to keep (errors are recorded).
pub(crate) fn parse_step(cx: &mut Ctx<'_>, n: &Node) -> Option<Step> {
    let origin = Origin {
        file: cx.file.to_owned(),
        line: n.line,
    };
    if let Kind::Str(word) = &n.kind {
        let kind = match word.as_str() {
            "answer" => StepKind::Answer,
            "hangup" => StepKind::HangUp,
            "return" => StepKind::Return,
            other => {
                cx.err(
                    n.line,
                    format!("unknown step '{other}' (bare steps: answer, hangup, return)"),
                );
                return None;
            }
        };
        return Some(Step {
            id: None,
            next: None,
            kind,
            origin,
        });
    }
    let mut allowed = vec!["id", "next"];
    allowed.extend(KINDS);
    let f = cx.fields(n, "a step", &allowed)?;
    let kinds: Vec<&(String, usize, Node)> = f
        .entries()
        .iter()
        .filter(|e| KINDS.contains(&e.0.as_str()))
        .collect();
    let [(key, _, value)] = kinds.as_slice() else {
        let found: Vec<&str> = kinds.iter().map(|e| e.0.as_str()).collect();
        cx.err(
            n.line,
            format!(
                "a step needs exactly one kind ({}), found: {}",
                KINDS.join(", "),
                found.join(", ")
            ),
        );
        return None;
    };
    let id = cx.opt_text(&f, "id", "a step id");
    let next = cx.opt_text(&f, "next", "a step id");
    let kind = parse_kind(cx, key, value)?;
    Some(Step {
        id,
        next,
        kind,
        origin,
    })
}

fn parse_kind(cx: &mut Ctx<'_>, key: &str, n: &Node) -> Option<StepKind> {
    let what = format!("step '{key}'");
    Some(match key {
        "answer" => StepKind::Answer,
        "hangup" => StepKind::HangUp,
        "return" => StepKind::Return,
        "goto" => StepKind::Goto(cx.text(n, "a flow name")?),
        "call" => StepKind::Call(cx.text(n, "a flow name")?),
        "language" => StepKind::Language(cx.text(n, "a language")?),
        "play" => match &n.kind {
            Kind::Map(_) => {
                let f = cx.fields(n, &what, &["prompts", "barge_in"])?;
                let prompts = cx.prompts(&f);
                StepKind::Play {
                    prompts,
                    barge_in: cx.flag(&f, "barge_in", false),
                }
            }
            _ => StepKind::Play {
                prompts: cx.names(n, "a prompt"),
                barge_in: false,
            },
        },
        "say" => {
            let f = cx.fields(n, &what, &["value", "as", "currency", "gender", "barge_in"])?;
            let value = cx
                .need(&f, "value", &what)
                .and_then(|v| cx.expr(v, "'value'"));
            let form = say_form(cx, &f)?;
            StepKind::Say {
                value: value?,
                form,
                barge_in: cx.flag(&f, "barge_in", false),
            }
        }
        "menu" => StepKind::Menu(menu(cx, n, &what)?),
        "collect" => StepKind::Collect(collect(cx, n, &what)?),
        "set" => {
            let Kind::Map(entries) = &n.kind else {
                cx.err(n.line, "'set' must map variable names to expressions");
                return None;
            };
            let mut out = Vec::new();
            for (name, _, v) in entries {
                if let Some(e) = cx.expr(v, &format!("set '{name}'")) {
                    out.push((name.clone(), e));
                }
            }
            StepKind::Set(out)
        }
        "branch" => branch(cx, n)?,
        "lookup" => StepKind::Lookup(lookup(cx, n, &what)?),
        "hours" => {
            let f = cx.fields(n, &what, &["calendar", "open", "closed"])?;
            let calendar = cx
                .need(&f, "calendar", &what)
                .and_then(|v| cx.text(v, "a calendar"));
            let closed = cx
                .need(&f, "closed", &what)
                .and_then(|v| cx.text(v, "a step id"));
            StepKind::Hours {
                calendar: calendar?,
                open: cx.opt_text(&f, "open", "a step id"),
                closed: closed?,
            }
        }
        "queue" => StepKind::Queue(queue(cx, n, &what)?),
        "callback" => {
            let allowed = [
                "queue",
                "prompts",
                "accept",
                "timeout",
                "keep_position",
                "number",
                "on_decline",
                "on_failure",
            ];
            let f = cx.fields(n, &what, &allowed)?;
            let queue = cx
                .need(&f, "queue", &what)
                .and_then(|v| cx.text(v, "a queue"));
            let number = match f.get("number") {
                Some(v) => cx.expr(v, "'number'")?,
                None => crate::dialplan::expr::Expr::compile("caller.number").ok()?,
            };
            StepKind::Callback(CallbackStep {
                queue: queue?,
                prompts: cx.prompts(&f),
                accept: f
                    .get("accept")
                    .and_then(|v| cx.key(v, "'accept'"))
                    .unwrap_or('1'),
                timeout: cx.duration(&f, "timeout", Duration::from_secs(5)),
                keep_position: cx.flag(&f, "keep_position", true),
                number,
                on_decline: cx.opt_text(&f, "on_decline", "a step id"),
                on_failure: cx.opt_text(&f, "on_failure", "a step id"),
            })
        }
        "voicemail" => {
            let f = cx.fields(
                n,
                &what,
                &["queue", "prompts", "max_duration", "max_silence"],
            )?;
            let queue = cx
                .need(&f, "queue", &what)
                .and_then(|v| cx.text(v, "a queue"));
            StepKind::Voicemail(VoicemailStep {
                queue: queue?,
                prompts: cx.prompts(&f),
                max_duration: cx.duration(&f, "max_duration", Duration::from_secs(120)),
                max_silence: cx.duration(&f, "max_silence", Duration::from_secs(5)),
            })
        }
        "survey" => StepKind::Survey(survey(cx, n, &what)?),
        "transfer" => {
            let allowed = ["extension", "queue", "number", "trunk", "on_failure"];
            let f = cx.fields(n, &what, &allowed)?;
            let target = if let Some(e) = cx.opt_text(&f, "extension", "an extension") {
                TransferTarget::Extension(e)
            } else if let Some(q) = cx.opt_text(&f, "queue", "a queue") {
                TransferTarget::Queue(q)
            } else if let Some(number) = cx.opt_text(&f, "number", "a number") {
                let trunk = cx.need(&f, "trunk", "a transfer to a number")?;
                TransferTarget::External {
                    number,
                    trunk: cx.text(trunk, "a trunk")?,
                }
            } else {
                cx.err(
                    n.line,
                    "a transfer needs 'extension', 'queue' or 'number' with 'trunk'",
                );
                return None;
            };
            StepKind::Transfer {
                target,
                on_failure: cx.opt_text(&f, "on_failure", "a step id"),
            }
        }
        "dial" => match &n.kind {
            Kind::Map(_) => {
                let f = cx.fields(n, &what, &["extension", "timeout", "on_failure"])?;
                let ext = cx
                    .need(&f, "extension", &what)
                    .and_then(|v| cx.text(v, "an extension"));
                StepKind::Dial {
                    extension: ext?,
                    timeout: cx.duration(&f, "timeout", Duration::from_secs(30)),
                    on_failure: cx.opt_text(&f, "on_failure", "a step id"),
                }
            }
            _ => StepKind::Dial {
                extension: cx.text(n, "an extension")?,
                timeout: Duration::from_secs(30),
                on_failure: None,
            },
        },
        _ => return None,
    })
}
