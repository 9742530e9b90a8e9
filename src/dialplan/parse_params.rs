//! Parameters of the larger step kinds (`say`, `menu`, `collect`, `branch`, `lookup`,
//! `queue`, `survey`), split from `parse_step.rs` to keep files short.

use std::time::Duration;

use crate::dialplan::fields::{Ctx, Fields};
use crate::dialplan::model::{
    Announce, Collect, KeepPlace, Lookup, Menu, Question, QueueStep, SayForm, StepKind, Survey,
};
use crate::dialplan::say::{Currency, Gender};
use crate::dialplan::yaml::{Kind, Node};

pub(crate) fn say_form(cx: &mut Ctx<'_>, f: &Fields<'_>) -> Option<SayForm> {
    let form = cx
        .opt_text(f, "as", "'as'")
        .unwrap_or_else(|| "number".to_owned());
    Some(match form.as_str() {
        "digits" => SayForm::Digits,
        "date" => SayForm::Date,
        "number" => {
            let gender = cx.opt_text(f, "gender", "'gender'");
            match gender.as_deref() {
                None | Some("masculine") => SayForm::Number(Gender::Masculine),
                Some("feminine") => SayForm::Number(Gender::Feminine),
                Some(other) => {
                    cx.err(
                        f.line,
                        format!("gender '{other}' is not masculine or feminine"),
                    );
                    return None;
                }
            }
        }
        "amount" => {
            let code = cx
                .opt_text(f, "currency", "'currency'")
                .unwrap_or_else(|| "PLN".into());
            match Currency::from_code(&code) {
                Some(c) => SayForm::Amount(c),
                None => {
                    cx.err(f.line, format!("currency '{code}' is not PLN, EUR or USD"));
                    return None;
                }
            }
        }
        other => {
            cx.err(
                f.line,
                format!("'as: {other}' is not digits, number, amount or date"),
            );
            return None;
        }
    })
}

pub(crate) fn menu(cx: &mut Ctx<'_>, n: &Node, what: &str) -> Option<Menu> {
    let allowed = [
        "prompts",
        "options",
        "timeout",
        "retries",
        "invalid_prompt",
        "timeout_prompt",
        "on_invalid",
        "on_timeout",
    ];
    let f = cx.fields(n, what, &allowed)?;
    let mut options = Vec::new();
    if let Some(o) = cx.need(&f, "options", what) {
        let Kind::Map(entries) = &o.kind else {
            cx.err(o.line, "'options' must map keys to step ids");
            return None;
        };
        for (key, line, target) in entries {
            let key_node = Node {
                line: *line,
                kind: Kind::Str(key.clone()),
            };
            if let (Some(k), Some(t)) =
                (cx.key(&key_node, "menu key"), cx.text(target, "a step id"))
            {
                options.push((k, t));
            }
        }
    }
    Some(Menu {
        prompts: cx.prompts(&f),
        options,
        timeout: cx.duration(&f, "timeout", Duration::from_secs(5)),
        retries: cx.count(&f, "retries", 2),
        invalid_prompt: cx.opt_text(&f, "invalid_prompt", "a prompt"),
        timeout_prompt: cx.opt_text(&f, "timeout_prompt", "a prompt"),
        on_invalid: cx.opt_text(&f, "on_invalid", "a step id"),
        on_timeout: cx.opt_text(&f, "on_timeout", "a step id"),
    })
}

pub(crate) fn collect(cx: &mut Ctx<'_>, n: &Node, what: &str) -> Option<Collect> {
    let allowed = [
        "prompts",
        "into",
        "min",
        "max",
        "terminator",
        "timeout",
        "inter_digit",
        "retries",
        "invalid_prompt",
        "on_invalid",
    ];
    let f = cx.fields(n, what, &allowed)?;
    let into = cx
        .need(&f, "into", what)
        .and_then(|v| cx.text(v, "a variable name"));
    let min = cx.count(&f, "min", 1) as usize;
    let max = cx.count(&f, "max", 20) as usize;
    if min > max || max == 0 {
        cx.err(
            f.line,
            format!("collect needs 0 < max and min ≤ max (min {min}, max {max})"),
        );
    }
    Some(Collect {
        prompts: cx.prompts(&f),
        into: into?,
        min,
        max,
        terminator: f.get("terminator").and_then(|v| cx.key(v, "'terminator'")),
        timeout: cx.duration(&f, "timeout", Duration::from_secs(5)),
        inter_digit: cx.duration(&f, "inter_digit", Duration::from_secs(3)),
        retries: cx.count(&f, "retries", 2),
        invalid_prompt: cx.opt_text(&f, "invalid_prompt", "a prompt"),
        on_invalid: cx.opt_text(&f, "on_invalid", "a step id"),
    })
}

pub(crate) fn branch(cx: &mut Ctx<'_>, n: &Node) -> Option<StepKind> {
    let Kind::Seq(items) = &n.kind else {
        cx.err(
            n.line,
            "'branch' must be a list of {if, goto} cases and an optional {else}",
        );
        return None;
    };
    let mut cases = Vec::new();
    let mut otherwise = None;
    for item in items {
        let f = cx.fields(item, "a branch case", &["if", "goto", "else"])?;
        if let Some(e) = f.get("else") {
            otherwise = cx.text(e, "a step id");
            continue;
        }
        let cond = cx
            .need(&f, "if", "a branch case")
            .and_then(|c| cx.expr(c, "'if'"));
        let target = cx
            .need(&f, "goto", "a branch case")
            .and_then(|t| cx.text(t, "a step id"));
        if let (Some(c), Some(t)) = (cond, target) {
            cases.push((c, t));
        }
    }
    Some(StepKind::Branch { cases, otherwise })
}

pub(crate) fn lookup(cx: &mut Ctx<'_>, n: &Node, what: &str) -> Option<Lookup> {
    let f = cx.fields(n, what, &["name", "params", "into", "timeout", "on_error"])?;
    let name = cx
        .need(&f, "name", what)
        .and_then(|v| cx.text(v, "a lookup name"));
    let into = cx
        .need(&f, "into", what)
        .and_then(|v| cx.text(v, "a variable name"));
    let mut params = Vec::new();
    if let Some(p) = f.get("params") {
        match &p.kind {
            Kind::Map(entries) => {
                for (key, _, v) in entries {
                    if let Some(e) = cx.expr(v, &format!("param '{key}'")) {
                        params.push((key.clone(), e));
                    }
                }
            }
            _ => cx.err(p.line, "'params' must map names to expressions"),
        }
    }
    Some(Lookup {
        name: name?,
        params,
        into: into?,
        timeout: cx.duration(&f, "timeout", Duration::from_secs(3)),
        on_error: cx.opt_text(&f, "on_error", "a step id"),
    })
}

pub(crate) fn queue(cx: &mut Ctx<'_>, n: &Node, what: &str) -> Option<QueueStep> {
    let mut announce = Announce {
        position: true,
        wait_time: false,
        every: Duration::from_secs(60),
        music: None,
        keep_place: KeepPlace::Queue,
    };
    if let Kind::Str(name) = &n.kind {
        return Some(QueueStep {
            queue: name.clone(),
            skills: Vec::new(),
            priority: 0,
            announce,
        });
    }
    let f = cx.fields(n, what, &["name", "skills", "priority", "announce"])?;
    let queue = cx
        .need(&f, "name", what)
        .and_then(|v| cx.text(v, "a queue"));
    let skills = f
        .get("skills")
        .map(|s| cx.names(s, "a skill"))
        .unwrap_or_default();
    if let Some(a) = f.get("announce") {
        let a = cx.fields(
            a,
            "'announce'",
            &["position", "wait_time", "every", "music", "keep_place"],
        )?;
        announce.position = cx.flag(&a, "position", true);
        announce.wait_time = cx.flag(&a, "wait_time", false);
        announce.every = cx.duration(&a, "every", announce.every);
        announce.music = cx.opt_text(&a, "music", "a music class");
        announce.keep_place = match a.get("keep_place") {
            None => announce.keep_place,
            Some(Node {
                kind: Kind::Bool(false),
                ..
            }) => KeepPlace::Off,
            Some(key) => cx
                .key(key, "'keep_place'")
                .map_or(KeepPlace::Queue, KeepPlace::Key),
        };
    }
    Some(QueueStep {
        queue: queue?,
        skills,
        priority: cx.count(&f, "priority", 0).min(i32::MAX as u32) as i32,
        announce,
    })
}

pub(crate) fn survey(cx: &mut Ctx<'_>, n: &Node, what: &str) -> Option<Survey> {
    let f = cx.fields(n, what, &["name", "questions", "timeout"])?;
    let name = cx
        .need(&f, "name", what)
        .and_then(|v| cx.text(v, "a survey name"));
    let mut questions = Vec::new();
    if let Some(q) = cx.need(&f, "questions", what) {
        let Kind::Seq(items) = &q.kind else {
            cx.err(q.line, "'questions' must be a list");
            return None;
        };
        for item in items {
            let qf = cx.fields(item, "a question", &["name", "prompts", "keys"])?;
            let qname = cx
                .need(&qf, "name", "a question")
                .and_then(|v| cx.text(v, "a name"));
            let keys = cx
                .need(&qf, "keys", "a question")
                .and_then(|v| cx.text(v, "keys"));
            let keys: Vec<char> = keys.unwrap_or_default().chars().collect();
            if keys.iter().any(|c| !crate::dialplan::fields::is_dtmf(*c)) {
                cx.err(
                    item.line,
                    "question 'keys' must be DTMF keys, e.g. \"12345\"",
                );
            }
            questions.push(Question {
                name: qname?,
                prompts: cx.prompts(&qf),
                keys,
            });
        }
    }
    Some(Survey {
        name: name?,
        questions,
        timeout: cx.duration(&f, "timeout", Duration::from_secs(5)),
    })
}
