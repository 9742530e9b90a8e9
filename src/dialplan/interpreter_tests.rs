//! Interpreter runs in virtual time, driven by scripted events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::FlowRun;
use crate::dialplan::Dialplan;
use crate::dialplan::action::{Action, Event};
use crate::dialplan::model::TransferTarget;

/// Monday 2025-01-06 10:00 local (UTC+1).
const OPEN: i64 = 1_736_121_600 + 9 * 3600;
/// Sunday 2025-01-12 10:00 local.
const CLOSED: i64 = OPEN + 6 * 86_400;

fn demo() -> Arc<Dialplan> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplans");
    Arc::new(Dialplan::load_dir(&dir, &|_, _| true).expect("demo is valid"))
}

fn vars(unix: i64) -> Map<String, Value> {
    match json!({"caller": {"number": "+48601000000", "name": "Jan"}, "channel": "sip", "time": {"unix": unix}})
    {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

struct Sim {
    run: FlowRun,
    now: Instant,
}

impl Sim {
    fn start(dp: Arc<Dialplan>, number: &str, unix: i64) -> (Sim, Vec<Action>) {
        let now = Instant::now();
        let run = FlowRun::start(dp, now, number, None, vars(unix));
        let mut sim = Sim { run, now };
        let out = sim.drain();
        (sim, out)
    }

    fn drain(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.run.poll_action()).collect()
    }

    fn send(&mut self, event: Event) -> Vec<Action> {
        self.run.handle_event(self.now, event);
        self.drain()
    }

    /// Jumps virtual time to the run's deadline and fires it.
    fn expire(&mut self) -> Vec<Action> {
        self.now = self.run.poll_timeout().expect("a deadline is set");
        self.send(Event::Timeout)
    }

    /// Answers, finishes the welcome, picks a language, answers the lookup.
    fn to_menu(dp: Arc<Dialplan>, key: char, customer: Value) -> (Sim, Vec<Action>) {
        let (mut sim, out) = Sim::start(dp, "5000", OPEN);
        assert_eq!(out, [Action::Answer]);
        assert_eq!(played(&sim.send(Event::Answered)), ["welcome"]);
        assert_eq!(
            played(&sim.send(Event::PlaybackFinished)),
            ["choose_language"]
        );
        let out = sim.send(Event::Digit(key));
        assert_eq!(out[0], Action::StopPlayback);
        assert!(
            matches!(&out[1], Action::Lookup { name, .. } if name == "customer_by_phone"),
            "{out:?}"
        );
        let out = sim.send(Event::LookupResult(Ok(customer)));
        (sim, out)
    }
}

fn played(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .find_map(|a| match a {
            Action::Play { prompts, .. } => Some(prompts.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn language_of(actions: &[Action]) -> Option<String> {
    actions.iter().find_map(|a| match a {
        Action::Play { language, .. } => Some(language.clone()),
        _ => None,
    })
}

fn queued(actions: &[Action]) -> Option<(String, i32, Value)> {
    actions.iter().find_map(|a| match a {
        Action::Queue {
            queue,
            priority,
            vars,
            ..
        } => Some((queue.clone(), *priority, vars.clone())),
        _ => None,
    })
}

#[test]
fn language_choice_sets_language_and_lookup_params() {
    let (mut sim, out) = Sim::start(demo(), "5000", OPEN);
    assert_eq!(out, [Action::Answer]);
    let out = sim.send(Event::Answered);
    assert_eq!(
        language_of(&out).as_deref(),
        Some("pl"),
        "default language first"
    );
    sim.send(Event::PlaybackFinished);
    let out = sim.send(Event::Digit('2'));
    assert_eq!(sim.run.language(), "en");
    assert_eq!(
        out[1],
        Action::Lookup {
            name: "customer_by_phone".into(),
            params: json!({"number": "+48601000000"}),
            timeout: Duration::from_secs(3),
        }
    );
    let out = sim.send(Event::LookupResult(Ok(json!({"name": "Jan"}))));
    assert_eq!(played(&out), ["main_menu"]);
    assert_eq!(language_of(&out).as_deref(), Some("en"));
}

#[test]
fn language_menu_timeout_defaults_to_polish() {
    let (mut sim, _) = Sim::start(demo(), "5000", OPEN);
    sim.send(Event::Answered);
    sim.send(Event::PlaybackFinished);
    sim.send(Event::PlaybackFinished);
    let start = sim.now;
    assert_eq!(played(&sim.expire()), ["choose_language"], "one retry");
    assert_eq!(sim.now - start, Duration::from_secs(4));
    sim.send(Event::PlaybackFinished);
    let out = sim.expire();
    assert!(matches!(&out[0], Action::Lookup { .. }), "{out:?}");
    assert_eq!(sim.run.language(), "pl");
}

#[test]
fn menu_branches_queue_with_vars() {
    for (key, queue) in [('1', "sales"), ('2', "support")] {
        let (mut sim, out) = Sim::to_menu(demo(), '1', json!({"name": "Jan", "vip": true}));
        assert_eq!(played(&out), ["main_menu"]);
        let out = sim.send(Event::Digit(key));
        let (q, _, vars) = queued(&out).expect("queued");
        assert_eq!(q, queue);
        assert_eq!(
            vars["customer"]["vip"],
            json!(true),
            "lookup result attached"
        );
        assert_eq!(vars["caller"]["number"], json!("+48601000000"));
        assert_eq!(vars["language"], json!("pl"));
        assert!(sim.run.is_finished());
        assert_eq!(sim.run.poll_timeout(), None);
    }
}

#[test]
fn callback_request_from_menu() {
    let (mut sim, _) = Sim::to_menu(demo(), '1', json!({}));
    sim.send(Event::PlaybackFinished);
    assert_eq!(played(&sim.send(Event::Digit('9'))), ["callback_offer"]);
    let out = sim.send(Event::Digit('1'));
    assert!(
        out.iter().any(|a| matches!(a, Action::Callback { queue, number, .. } if queue == "sales" && number == "+48601000000")),
        "{out:?}"
    );
    assert!(played(&out).is_empty(), "confirmed only once stored");
    assert!(sim.send(Event::PlaybackFinished).is_empty());
    let out = sim.send(Event::CallbackResult(Ok(())));
    assert_eq!(played(&out), ["callback_confirmed"]);
    assert_eq!(played(&sim.send(Event::PlaybackFinished)), ["goodbye"]);
    assert_eq!(sim.send(Event::PlaybackFinished), [Action::HangUp]);
    assert!(sim.run.is_finished());
}

#[test]
fn order_status_is_read_out_and_returns_to_menu() {
    let customer = json!({"last_order": {"id": "4711", "total": 2, "status": "shipped", "shipped_on": "2025-05-05"}});
    let (mut sim, _) = Sim::to_menu(demo(), '1', customer);
    assert_eq!(played(&sim.send(Event::Digit('3'))), ["order_intro"]);
    let digits = played(&sim.send(Event::PlaybackFinished));
    assert_eq!(digits, ["digits/4", "digits/7", "digits/1", "digits/1"]);
    assert_eq!(played(&sim.send(Event::PlaybackFinished)), ["order_total"]);
    assert_eq!(
        played(&sim.send(Event::PlaybackFinished)),
        ["digits/2", "currency/zlote"],
        "dwa złote"
    );
    assert_eq!(
        played(&sim.send(Event::PlaybackFinished)),
        ["order_shipped"]
    );
    let date = played(&sim.send(Event::PlaybackFinished));
    assert_eq!(date[..2], ["ord/5".to_owned(), "month/5".to_owned()]);
    assert_eq!(
        played(&sim.send(Event::PlaybackFinished)),
        ["survey_helpful"],
        "the self-service survey"
    );
    let out = sim.send(Event::Digit('1'));
    let helpful = vec![("helpful".to_owned(), Some('1'))];
    assert!(
        out.iter().any(|a| matches!(a, Action::StoreSurvey { survey, answers, .. } if survey == "self_service" && *answers == helpful)),
        "{out:?}"
    );
    assert_eq!(played(&out), ["main_menu"], "back in the menu");
}

#[test]
fn order_status_without_an_order() {
    let (mut sim, _) = Sim::to_menu(demo(), '1', json!({"name": "Jan"}));
    assert_eq!(played(&sim.send(Event::Digit('3'))), ["order_none"]);
    assert_eq!(
        played(&sim.send(Event::PlaybackFinished)),
        ["survey_helpful"]
    );
    sim.send(Event::PlaybackFinished);
    let out = sim.expire();
    let unanswered = vec![("helpful".to_owned(), None)];
    assert!(
        out.iter()
            .any(|a| matches!(a, Action::StoreSurvey { answers, .. } if *answers == unanswered)),
        "{out:?}"
    );
    assert_eq!(played(&out), ["main_menu"]);
}

#[test]
fn invalid_keys_retry_then_go_to_support() {
    let (mut sim, _) = Sim::to_menu(demo(), '1', json!({}));
    sim.send(Event::PlaybackFinished);
    assert_eq!(
        played(&sim.send(Event::Digit('7'))),
        ["invalid_option", "main_menu"]
    );
    let out = sim.send(Event::Digit('8'));
    assert_eq!(
        out[0],
        Action::StopPlayback,
        "barge-in during the repeated menu"
    );
    assert_eq!(played(&out), ["invalid_option", "main_menu"]);
    let out = sim.send(Event::Digit('6'));
    assert_eq!(queued(&out).map(|q| q.0).as_deref(), Some("support"));
}

#[test]
fn timeouts_retry_then_say_goodbye() {
    let (mut sim, _) = Sim::to_menu(demo(), '1', json!({}));
    sim.send(Event::PlaybackFinished);
    let deadline = sim.run.poll_timeout().expect("deadline");
    assert_eq!(deadline - sim.now, Duration::from_secs(5));
    assert!(sim.send(Event::Timeout).is_empty(), "early timeout ignored");
    assert_eq!(played(&sim.expire()), ["no_input", "main_menu"]);
    sim.send(Event::PlaybackFinished);
    assert_eq!(played(&sim.expire()), ["no_input", "main_menu"]);
    sim.send(Event::PlaybackFinished);
    assert_eq!(played(&sim.expire()), ["goodbye"]);
    assert_eq!(sim.send(Event::PlaybackFinished), [Action::HangUp]);
}

#[test]
fn overdue_balance_goes_to_collections_before_the_menu() {
    let customer = json!({"debt": {"overdue_days": 45, "balance": -300.5}});
    let (mut sim, out) = Sim::to_menu(demo(), '1', customer);
    assert_eq!(played(&out), ["collections_notice"]);
    assert_eq!(played(&sim.send(Event::PlaybackFinished)), ["amount_due"]);
    assert_eq!(
        played(&sim.send(Event::PlaybackFinished)),
        ["num/300", "currency/zlotych", "num/50", "currency/groszy"],
        "trzysta złotych pięćdziesiąt groszy"
    );
    let (queue, priority, vars) = queued(&sim.send(Event::PlaybackFinished)).expect("queued");
    assert_eq!((queue.as_str(), priority), ("collections", 5));
    assert_eq!(vars["customer"]["debt"]["overdue_days"], json!(45));
    let paid = json!({"debt": {"overdue_days": 45, "balance": 0}});
    let (_, out) = Sim::to_menu(demo(), '1', paid);
    assert_eq!(played(&out), ["main_menu"], "no balance due");
}

#[test]
fn lookup_failure_and_timeout_fall_back_to_menu() {
    let (sim, out) = Sim::to_menu(demo(), '1', json!(null));
    assert_eq!(played(&out), ["main_menu"], "null customer: has() is false");
    drop(sim);
    let (mut sim, _) = Sim::start(demo(), "5000", OPEN);
    sim.send(Event::Answered);
    sim.send(Event::PlaybackFinished);
    sim.send(Event::Digit('1'));
    assert_eq!(
        sim.run.poll_timeout(),
        Some(sim.now + Duration::from_secs(3))
    );
    assert_eq!(played(&sim.expire()), ["main_menu"]);
    assert_eq!(sim.run.vars()["lookup_error"], json!("timeout"));
    let late = sim.send(Event::LookupResult(Ok(json!({"debt": {}}))));
    assert!(late.is_empty(), "a late answer is ignored");
}

#[test]
fn closed_hours_offer_callback_then_voicemail() {
    let (mut sim, _) = Sim::start(demo(), "5001", CLOSED);
    sim.send(Event::Answered);
    sim.send(Event::PlaybackFinished);
    assert_eq!(
        played(&sim.send(Event::Digit('2'))),
        ["closed_announcement"]
    );
    assert_eq!(
        played(&sim.send(Event::PlaybackFinished)),
        ["callback_offer_closed"]
    );
    let out = sim.send(Event::Digit('1'));
    assert!(
        out.iter()
            .any(|a| matches!(a, Action::Callback { queue, .. } if queue == "support")),
        "{out:?}"
    );
    let out = sim.send(Event::CallbackResult(Err("database down".into())));
    assert_eq!(
        played(&out),
        ["voicemail_intro"],
        "not stored: leave a message"
    );
    assert_eq!(sim.run.vars()["callback_error"], json!("database down"));

    let (mut sim, _) = Sim::start(demo(), "5001", CLOSED);
    sim.send(Event::Answered);
    sim.send(Event::PlaybackFinished);
    sim.send(Event::Digit('1'));
    sim.send(Event::PlaybackFinished);
    sim.send(Event::PlaybackFinished);
    assert_eq!(
        played(&sim.expire()),
        ["voicemail_intro"],
        "offer timed out"
    );
    let out = sim.send(Event::PlaybackFinished);
    assert!(
        matches!(&out[..], [Action::Voicemail { queue, max_duration, max_silence, .. }]
            if queue == "support"
                && *max_duration == Duration::from_secs(120)
                && *max_silence == Duration::from_secs(5)),
        "demo's 120 s and the default 5 s of silence: {out:?}"
    );
    assert_eq!(played(&sim.send(Event::RecordingFinished)), ["goodbye"]);
}

#[test]
fn demo_5000_takes_the_main_path_out_of_hours_and_5101_is_the_crm_debtor() {
    let (mut sim, _) = Sim::start(demo(), "5000", CLOSED);
    sim.send(Event::Answered);
    sim.send(Event::PlaybackFinished);
    let out = sim.send(Event::Digit('2'));
    assert!(
        out.iter()
            .any(|a| matches!(a, Action::Lookup { name, .. } if name == "customer_by_phone")),
        "5000 looks the caller up even when the office is closed: {out:?}"
    );

    let (mut sim, _) = Sim::start(demo(), "5101", CLOSED);
    sim.send(Event::Answered);
    sim.send(Event::PlaybackFinished);
    let out = sim.send(Event::Digit('2'));
    assert!(
        out.iter().any(|a| matches!(a, Action::Lookup { params, .. }
            if params["number"] == json!("+48221112233"))),
        "5101 presents the example CRM's debtor: {out:?}"
    );
}

#[test]
fn hang_up_mid_menu_ends_the_run() {
    let (mut sim, _) = Sim::to_menu(demo(), '1', json!({}));
    sim.send(Event::PlaybackFinished);
    assert!(sim.run.poll_timeout().is_some());
    assert!(sim.send(Event::HangUp).is_empty());
    assert!(sim.run.is_finished());
    assert_eq!(sim.run.poll_timeout(), None);
    assert!(sim.send(Event::Digit('1')).is_empty());
}

#[test]
fn calls_keep_their_dialplan_version() {
    let old = demo();
    let (sim, _) = Sim::start(Arc::clone(&old), "5000", OPEN);
    let reloaded = demo();
    assert!(Arc::ptr_eq(sim.run.dialplan(), &old));
    assert!(!Arc::ptr_eq(sim.run.dialplan(), &reloaded));
}

#[test]
fn unrouted_number_hangs_up() {
    let (sim, out) = Sim::start(demo(), "999", OPEN);
    assert_eq!(out, [Action::HangUp]);
    assert!(sim.run.is_finished());
}

fn small(yaml: &str) -> Arc<Dialplan> {
    Arc::new(Dialplan::load_sources(&[("t.yaml", yaml)], &|_, _| true).expect("valid fixture"))
}

#[test]
fn collect_min_max_terminator_and_inter_digit_timeout() {
    let dp = small(concat!(
        "routes: [{number: \"1\", flow: f}]\n",
        "flows:\n  f:\n",
        "    - collect: {prompts: [enter], into: account, min: 3, max: 6, terminator: \"#\", timeout: 5s, inter_digit: 2s, retries: 1, invalid_prompt: too_short, on_invalid: bad}\n",
        "    - say: {value: account, as: digits}\n",
        "    - hangup\n",
        "    - id: bad\n      play: [sorry]\n",
    ));
    let (mut sim, out) = Sim::start(Arc::clone(&dp), "1", OPEN);
    assert_eq!(played(&out), ["enter"]);
    sim.send(Event::Digit('4'));
    sim.send(Event::Digit('2'));
    assert_eq!(
        sim.run.poll_timeout(),
        Some(sim.now + Duration::from_secs(2))
    );
    assert_eq!(
        played(&sim.send(Event::Digit('#'))),
        ["too_short", "enter"],
        "2 < min"
    );
    sim.send(Event::PlaybackFinished);
    for d in "12345".chars() {
        sim.send(Event::Digit(d));
    }
    let out = sim.expire();
    assert_eq!(sim.run.vars()["account"], json!("12345"));
    assert_eq!(sim.run.vars()["digits"], json!("12345"));
    assert_eq!(played(&out).len(), 5);

    let (mut sim, _) = Sim::start(Arc::clone(&dp), "1", OPEN);
    for d in "9876543".chars() {
        sim.send(Event::Digit(d));
    }
    assert_eq!(
        sim.run.vars()["account"],
        json!("987654"),
        "max ends collection"
    );

    let (mut sim, _) = Sim::start(dp, "1", OPEN);
    sim.send(Event::PlaybackFinished);
    sim.expire();
    sim.send(Event::PlaybackFinished);
    assert_eq!(played(&sim.expire()), ["sorry"], "retries exhausted");
}

#[test]
fn barge_in_digit_is_kept_for_the_next_menu() {
    let dp = small(concat!(
        "routes: [{number: \"1\", flow: f}]\n",
        "flows:\n  f:\n",
        "    - play: {prompts: [long_intro], barge_in: true}\n",
        "    - menu: {prompts: [m], options: {\"5\": five}}\n",
        "    - hangup\n",
        "    - id: five\n      transfer: {number: \"+48221111111\", trunk: pstn, on_failure: failed}\n",
        "    - id: failed\n      dial: 1001\n",
    ));
    let (mut sim, _) = Sim::start(dp, "1", OPEN);
    let out = sim.send(Event::Digit('5'));
    assert_eq!(out[0], Action::StopPlayback);
    let target = TransferTarget::External {
        number: "+48221111111".into(),
        trunk: "pstn".into(),
    };
    assert!(
        matches!(&out[1], Action::Transfer { target: t, .. } if *t == target),
        "{out:?}"
    );
    let out = sim.send(Event::TransferResult(Err("busy".into())));
    assert!(
        matches!(&out[..], [Action::Dial { extension, .. }] if extension == "1001"),
        "{out:?}"
    );
    assert!(sim.send(Event::TransferResult(Ok(()))).is_empty());
    assert!(sim.run.is_finished());
}

#[test]
fn survey_set_branch_and_sub_flows() {
    let dp = small(concat!(
        "routes: [{number: \"1\", flow: f}]\n",
        "flows:\n  f:\n",
        "    - set: {score.base: \"2 * 3\", greeting: \"'hi ' + caller.name\"}\n",
        "    - call: sub\n",
        "    - branch:\n        - if: \"score.base > 5 && caller.number.startsWith('+48')\"\n          goto: ask\n",
        "    - hangup\n",
        "    - id: ask\n      survey:\n        name: csat\n        questions:\n",
        "          - {name: q1, prompts: [q1], keys: \"12345\"}\n",
        "          - {name: q2, prompts: [q2], keys: \"12\"}\n",
        "          - {name: q3, prompts: [q3], keys: \"12\"}\n",
        "  sub:\n    - language: en\n    - return\n",
    ));
    let (mut sim, out) = Sim::start(dp, "1", OPEN);
    assert_eq!(played(&out), ["q1"]);
    assert_eq!(sim.run.vars()["score"]["base"], json!(6));
    assert_eq!(sim.run.vars()["greeting"], json!("hi Jan"));
    assert_eq!(sim.run.language(), "en", "set by the called flow");
    assert_eq!(played(&sim.send(Event::Digit('4'))), ["q2"]);
    assert_eq!(
        played(&sim.send(Event::Digit('9'))),
        ["q3"],
        "invalid key: no answer"
    );
    sim.send(Event::PlaybackFinished);
    let out = sim.expire();
    let expected = vec![
        ("q1".to_owned(), Some('4')),
        ("q2".to_owned(), None),
        ("q3".to_owned(), None),
    ];
    assert!(
        matches!(&out[0], Action::StoreSurvey { survey, answers, .. } if survey == "csat" && *answers == expected),
        "{out:?}"
    );
    assert_eq!(out[1], Action::HangUp, "end of flow hangs up");
}

#[test]
fn a_hang_up_during_a_survey_stores_the_answers_given() {
    let dp = small(concat!(
        "routes: [{number: \"1\", flow: f}]\n",
        "flows:\n  f:\n",
        "    - survey:\n        name: csat\n        questions:\n",
        "          - {name: q1, prompts: [q1], keys: \"12345\"}\n",
        "          - {name: q2, prompts: [q2], keys: \"12\"}\n",
    ));
    let (mut sim, out) = Sim::start(dp, "1", OPEN);
    assert_eq!(played(&out), ["q1"]);
    assert_eq!(played(&sim.send(Event::Digit('4'))), ["q2"]);
    let out = sim.send(Event::HangUp);
    let given = vec![("q1".to_owned(), Some('4'))];
    assert!(
        matches!(&out[..], [Action::StoreSurvey { survey, answers, .. }] if survey == "csat" && *answers == given),
        "{out:?}"
    );
    assert!(sim.run.is_finished());
}

#[test]
fn a_callback_that_cannot_be_stored_says_so_and_returns_to_the_menu() {
    let (mut sim, _) = Sim::to_menu(demo(), '1', json!({}));
    sim.send(Event::PlaybackFinished);
    sim.send(Event::Digit('9'));
    sim.send(Event::Digit('1'));
    let out = sim.send(Event::CallbackResult(Err("routing engine stopped".into())));
    assert_eq!(played(&out), ["callback_failed"]);
    assert_eq!(played(&sim.send(Event::PlaybackFinished)), ["main_menu"]);
}
