//! The demo dialplan (`dialplans/demo.yaml`: 5000 and the trunk's DID) walked by SIPp callers
//! on the carrier trunk keying RFC 4733 digits, with the example CRM (`examples/crm.rs` on
//! `examples/crm-data.json`) answering the lookups. Business hours are pinned: each test runs
//! a copy of the demo whose calendar is always open or always closed.
//!
//! Checked on the wire and in the database: which queue's agent answers (menu 1 sales, 2
//! support, invalid keys support), the Polish amount due on the collections path and the
//! English order status (the exact prompt audio found in the caller's RTP), the survey's
//! answer, the callback task, and the voicemail (file, index row, task).

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use centrala::dialplan::model::SayForm;
use centrala::dialplan::say::{self, Currency};
use serde_json::json;

use crate::common::capture::{Capture, RtpStream};
use crate::common::ports::PortBlock;
use crate::common::process::{Proc, wait_until};
use crate::common::rtp_pcap::{RtpClock, Say, TELEPHONE_EVENT_PT, script_packets, write_pcap};
use crate::common::sipp::{Sipp, SippHandle};
use crate::common::wav;
use crate::support::{Pbx, dialplan_dir, enabled, repo};

const CARRIER_IP: &str = "127.0.0.2";
const DID: &str = "+48221234567";
/// Not in the CRM: the lookup fails and the caller goes straight to the menu.
const UNKNOWN: &str = "+48500000001";
/// Jan Kowalski: 120.50 PLN overdue for 45 days.
const JAN: &str = "+48221112233";
/// Anna Nowak: last order 4711, 249.99 PLN, shipped on 2026-04-29.
const ANNA: &str = "+48225556677";

/// When the first key goes in: after `welcome` (no barge-in), during `choose_language`.
const LANGUAGE_KEY_MS: u64 = 2500;
/// When the first menu key goes in: the CRM has answered and `main_menu` plays.
const MENU_KEY_MS: u64 = 4000;

/// A PBX running the demo with the example CRM; the CRM outlives the PBX (field order).
struct Demo {
    pbx: Pbx,
    _crm: Proc,
}

#[derive(Clone, Copy)]
enum Hours {
    Open,
    Closed,
}

fn demo(test: &str, hours: Hours) -> Demo {
    let ports = PortBlock::claim();
    let calendar = match hours {
        Hours::Open => "hours:\n      mon-sun: \"00:00-24:00\"\n    holidays: []",
        Hours::Closed => "hours: {}\n    holidays: []",
    };
    let plan = std::fs::read_to_string(repo("dialplans/demo.yaml")).unwrap();
    let start = plan.find("hours:\n").expect("the demo has a calendar");
    let end = start + plan[start..].find("holidays: [").unwrap();
    let end = end + plan[end..].find(']').unwrap() + 1;
    let plan = format!("{}{calendar}{}", &plan[..start], &plan[end..]);
    let dir = dialplan_dir(&format!("demo-{test}"), &[("demo.yaml", &plan)]);
    let crm_port = ports.port(5);
    let crm = start_crm(&dir, crm_port);
    let extra = format!(
        "[[trunks]]\nname = \"pstn\"\ninbound_ips = [\"{CARRIER_IP}\"]\n\
         [cti]\n[[cti.lookups]]\nname = \"customer_by_phone\"\n\
         url = \"http://127.0.0.1:{crm_port}/customers/by-phone/{{number}}\"\n\
         timeout_ms = 1000\n\
         mapping = {{ name = \"/name\", debt = \"/debt\", last_order = \"/last_order\" }}\n"
    );
    let pbx = Pbx::start_in(ports, test, "", &extra, &dir);
    Demo { pbx, _crm: crm }
}

/// The example CRM on `port`, once it accepts connections.
fn start_crm(dir: &std::path::Path, port: u16) -> Proc {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let crm = bin.join("examples").join("crm");
    assert!(
        crm.exists(),
        "{} is missing: build it with `cargo build --example crm` (scripts/test.sh does)",
        crm.display()
    );
    let mut cmd = Command::new(crm);
    cmd.args(["--port", &port.to_string(), "--data"])
        .arg(repo("examples/crm-data.json"));
    let proc = Proc::spawn(dir, "crm", cmd).unwrap();
    let listening = wait_until(Duration::from_secs(10), || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    assert!(
        listening.is_some(),
        "the CRM listens: {}",
        proc.log_tail(20)
    );
    proc
}

/// How a scripted call ends.
enum Ending {
    /// The caller hangs up this long after the answer.
    CallerAfterMs(u64),
    /// Centrala hangs up (the caller waits for its BYE).
    ByPbx,
}

/// A carrier call from `number` to the DID whose caller sends `script` (offsets from the
/// answer): keys as RFC 4733 events, tones as PCMU.
fn caller(pbx: &Pbx, name: &str, number: &str, script: &[(u64, Say)], ending: Ending) -> Sipp {
    let scenario = match ending {
        Ending::CallerAfterMs(_) => "uac_ivr.xml",
        Ending::ByPbx => "uac_ivr_wait_bye.xml",
    };
    // SIPp replays a pcap from its first packet: the scenario waits for the first offset.
    let first = script.first().map_or(0, |(at, _)| *at);
    let script: Vec<(u64, Say)> = script.iter().map(|&(at, say)| (at - first, say)).collect();
    let mut sipp = pbx
        .sipp(0, name, scenario)
        .local_ip(CARRIER_IP)
        .service(DID)
        .key("caller", number)
        .set("wait_ms", first)
        .media_secs(1)
        .timeout(Duration::from_secs(120));
    if let Ending::CallerAfterMs(ms) = ending {
        // uac_ivr.xml: `keys_ms` after the keys start, 1 s of tone, then `talk_ms`, then BYE.
        let keys = script.last().map_or(0, |(at, _)| *at) + 500;
        sipp = sipp
            .set("keys_ms", keys)
            .set("talk_ms", ms.saturating_sub(first + keys).max(1));
    }
    std::fs::create_dir_all(sipp.dir()).unwrap();
    let packets = script_packets(&mut RtpClock::random(), 0, TELEPHONE_EVENT_PT, &script).unwrap();
    write_pcap(&sipp.dir().join("dtmf_keys.pcap"), &packets).unwrap();
    sipp
}

/// Agents 1003 (sales, collections) on slot 1 and 1002 (support, collections) on slot 2,
/// registered (logged in) and each answering one call.
fn agents(pbx: &Pbx) -> (SippHandle, SippHandle) {
    let phone = |slot: u16, number: &str| {
        pbx.register(slot, number);
        let uas = pbx.sipp(slot, &format!("agent-{number}"), "uas_answer.xml");
        let uas = uas.set("pt", 0).set("codec", "PCMU").media_secs(30);
        uas.spawn().expect("sipp starts")
    };
    (phone(1, "1003"), phone(2, "1002"))
}

/// Whether `agent` answered a call before `grace` passed.
fn answered(agent: SippHandle) -> bool {
    let result = agent.stop(Duration::from_millis(500)).unwrap();
    result.log_lines("ANSWERED ").count() == 1
}

/// Seconds of the prompts `names` in `lang`.
fn secs(lang: &str, names: &[String]) -> f64 {
    names.iter().map(|n| prompt(lang, n).seconds()).sum()
}

fn prompt(lang: &str, name: &str) -> wav::Wav {
    let path: PathBuf = repo(&format!("sounds/{lang}/{name}.wav"));
    wav::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Whether the caller received the prompt: its loudest 20 ms appear in what the caller
/// decoded, each sample within the G.711 µ-law quantisation of the original.
pub(crate) fn heard(stream: &RtpStream, lang: &str, name: &str) -> bool {
    let samples = prompt(lang, name).mono();
    let energy = |w: &[i16]| w.iter().map(|&s| i64::from(s).pow(2)).sum::<i64>();
    let Some(loudest) = samples.windows(160).step_by(40).max_by_key(|w| energy(w)) else {
        return false;
    };
    let close = |got: i16, want: i16| {
        (i32::from(got) - i32::from(want)).abs() <= i32::from(want).abs() / 8 + 64
    };
    stream
        .pcm
        .windows(loudest.len())
        .any(|w| w.iter().zip(loudest).all(|(&got, &want)| close(got, want)))
}

fn ms(secs: f64) -> u64 {
    (secs * 1000.0) as u64
}

#[test]
fn demo_menu_keys_reach_the_sales_and_support_queues() {
    if !enabled("demo_menu") {
        return;
    }
    let Demo { pbx, _crm } = demo("demo_menu", Hours::Open);
    let (sales, support) = agents(&pbx);
    for (name, key) in [("sales-caller", '1'), ("support-caller", '2')] {
        let script = [
            (LANGUAGE_KEY_MS, Say::Key('2')),
            (MENU_KEY_MS, Say::Key(key)),
        ];
        let call = caller(&pbx, name, UNKNOWN, &script, Ending::CallerAfterMs(12_000));
        let call = call.run().unwrap();
        assert!(call.check().is_ok(), "{name}: {}", call.describe());
    }
    assert!(
        answered(sales),
        "1003 (sales) answered the caller who keyed 1"
    );
    assert!(
        answered(support),
        "1002 (support) answered the caller who keyed 2"
    );
    let queues = pbx.query_until(
        "SELECT queue FROM queue_log WHERE event = 'enqueue' ORDER BY ts_ms",
        2,
    );
    assert_eq!(queues, ["sales", "support"]);
}

#[test]
fn demo_invalid_keys_go_to_support_and_silence_says_goodbye() {
    if !enabled("demo_invalid") {
        return;
    }
    let Demo { pbx, _crm } = demo("demo_invalid", Hours::Open);
    let (sales, support) = agents(&pbx);
    // Three invalid keys (two retries), each barging into the repeated menu: support.
    let script = [
        (LANGUAGE_KEY_MS, Say::Key('2')),
        (MENU_KEY_MS, Say::Key('7')),
        (MENU_KEY_MS + 1000, Say::Key('8')),
        (MENU_KEY_MS + 2000, Say::Key('6')),
    ];
    let call = caller(
        &pbx,
        "invalid",
        UNKNOWN,
        &script,
        Ending::CallerAfterMs(12_000),
    );
    let call = call.run().unwrap();
    assert!(call.check().is_ok(), "{}", call.describe());
    assert!(!answered(sales), "sales was not offered the call");
    assert!(answered(support), "invalid keys lead to support");
    // No key at the menu: three timeouts, goodbye, and Centrala hangs up.
    let script = [(LANGUAGE_KEY_MS, Say::Key('2'))];
    let silent = caller(&pbx, "silent", UNKNOWN, &script, Ending::ByPbx);
    let silent = silent.run().unwrap();
    assert!(silent.check().is_ok(), "{}", silent.describe());
    let cdr = &pbx.cdrs(2)[0];
    assert_eq!(
        (cdr["hangup_cause"].as_str(), cdr["hangup_side"].as_str()),
        (Some("dialplan_hangup"), Some("system")),
        "{cdr}"
    );
}

#[test]
fn demo_overdue_caller_hears_the_amount_due_in_polish_and_reaches_collections() {
    if !enabled("demo_collections") {
        return;
    }
    let Demo { pbx, _crm } = demo("demo_collections", Hours::Open);
    let (_sales, support) = agents(&pbx);
    let amount = say::value(SayForm::Amount(Currency::Pln), &json!(120.5), "pl").unwrap();
    assert_eq!(
        amount,
        [
            "num/100",
            "num/20",
            "currency/zlotych",
            "num/50",
            "currency/groszy"
        ],
        "sto dwadzieścia złotych pięćdziesiąt groszy"
    );
    let before_queue =
        secs("pl", &names(&["collections_notice", "amount_due"])) + secs("pl", &amount);
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    let script = [(LANGUAGE_KEY_MS, Say::Key('1'))];
    let hang_up = LANGUAGE_KEY_MS + ms(before_queue) + 6000;
    let call = caller(&pbx, "jan", JAN, &script, Ending::CallerAfterMs(hang_up));
    let call = call.run().unwrap();
    assert!(call.check().is_ok(), "{}", call.describe());
    let to_caller = capture.stop().unwrap().rtp_to(pbx.peer(0).media);
    for name in ["collections_notice", "amount_due"]
        .into_iter()
        .chain(amount.iter().map(String::as_str))
    {
        assert!(heard(&to_caller, "pl", name), "the caller heard pl/{name}");
    }
    assert!(
        !heard(&to_caller, "pl", "main_menu"),
        "collections come before the menu"
    );
    let queues = pbx.query_until("SELECT queue FROM queue_log WHERE event = 'enqueue'", 1);
    assert_eq!(queues, ["collections"]);
    drop(support);
}

#[test]
fn demo_order_status_is_read_out_and_the_survey_answer_stored() {
    if !enabled("demo_order_status") {
        return;
    }
    let Demo { pbx, _crm } = demo("demo_order_status", Hours::Open);
    let order = [
        say::value(SayForm::Digits, &json!("4711"), "en").unwrap(),
        say::value(SayForm::Amount(Currency::Pln), &json!(249.99), "en").unwrap(),
        say::value(SayForm::Date, &json!("2026-04-29"), "en").unwrap(),
    ];
    let spoken: Vec<String> = [
        names(&["order_intro"]),
        order[0].clone(),
        names(&["order_total"]),
    ]
    .into_iter()
    .chain([
        order[1].clone(),
        names(&["order_shipped"]),
        order[2].clone(),
    ])
    .flatten()
    .collect();
    // The survey question starts when the order status ends; answer it halfway through.
    let survey_at = MENU_KEY_MS
        + ms(secs("en", &spoken))
        + ms(prompt("en", "survey_helpful").seconds() / 2.0)
        + 300;
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    let script = [
        (LANGUAGE_KEY_MS, Say::Key('2')),
        (MENU_KEY_MS, Say::Key('3')),
        (survey_at, Say::Key('1')),
    ];
    let call = caller(
        &pbx,
        "anna",
        ANNA,
        &script,
        Ending::CallerAfterMs(survey_at + 3000),
    );
    let call = call.run().unwrap();
    assert!(call.check().is_ok(), "{}", call.describe());
    let to_caller = capture.stop().unwrap().rtp_to(pbx.peer(0).media);
    for name in &spoken {
        assert!(heard(&to_caller, "en", name), "the caller heard en/{name}");
    }
    let cdr = &pbx.cdrs(1)[0];
    let rows = pbx.query_until(
        "SELECT call_id, survey, position, question, answer_key FROM survey_answers",
        1,
    );
    let call_id = cdr["id"].as_str().unwrap();
    assert_eq!(rows, [format!("{call_id}|self_service|0|helpful|1")]);
}

#[test]
fn demo_callback_request_becomes_a_stored_callback_task() {
    if !enabled("demo_callback") {
        return;
    }
    let Demo { pbx, _crm } = demo("demo_callback", Hours::Open);
    let offer = ms(prompt("en", "callback_offer").seconds() / 2.0);
    let script = [
        (LANGUAGE_KEY_MS, Say::Key('2')),
        (MENU_KEY_MS, Say::Key('9')),
        (MENU_KEY_MS + offer, Say::Key('1')),
    ];
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    let call = caller(&pbx, "callback", UNKNOWN, &script, Ending::ByPbx);
    let call = call.run().unwrap();
    assert!(call.check().is_ok(), "{}", call.describe());
    let to_caller = capture.stop().unwrap().rtp_to(pbx.peer(0).media);
    assert!(
        heard(&to_caller, "en", "callback_confirmed"),
        "confirmed once stored"
    );
    assert!(!heard(&to_caller, "en", "callback_failed"));
    let tasks = pbx.query_until(
        "SELECT channel, queue, customer, state, \
         CASE WHEN deadline_ms IS NULL THEN 0 ELSE 1 END FROM tasks",
        1,
    );
    assert_eq!(tasks, [format!("callback|sales|{UNKNOWN}|waiting|1")]);
    let attributes = pbx.query("SELECT attributes FROM tasks");
    let attributes: serde_json::Value = serde_json::from_str(&attributes[0]).unwrap();
    assert_eq!(attributes["reason"], "ivr_request", "{attributes}");
    assert_eq!(
        attributes["language"], "en",
        "the call's variables: {attributes}"
    );
}

/// When an after-hours caller who keys English and waits is being recorded: the closed
/// announcement, the callback offer (no key: its 5 s timeout), the intro and the beep.
fn voicemail_recording_at() -> u64 {
    let before = secs(
        "en",
        &names(&[
            "closed_announcement",
            "callback_offer_closed",
            "voicemail_intro",
        ]),
    );
    LANGUAGE_KEY_MS + ms(before) + 5000 + 500
}

/// An after-hours caller (unknown number) who keys English, leaves `message_secs` of a
/// 1 kHz tone as a voicemail (then `more`, offsets from the answer) and ends as `ending`;
/// asserts the call went through.
fn leave_voicemail(pbx: &Pbx, name: &str, message_secs: f64, more: &[(u64, Say)], ending: Ending) {
    let recording_at = voicemail_recording_at();
    let mut script = vec![
        (LANGUAGE_KEY_MS, Say::Key('2')),
        (
            recording_at + 500,
            Say::Tone {
                freq: 1000.0,
                secs: message_secs,
            },
        ),
    ];
    script.extend_from_slice(more);
    let call = caller(pbx, name, UNKNOWN, &script, ending).run().unwrap();
    assert!(call.check().is_ok(), "{}", call.describe());
}

#[test]
fn demo_after_hours_voicemail_is_recorded_and_becomes_a_task() {
    if !enabled("demo_voicemail") {
        return;
    }
    let Demo { pbx, _crm } = demo("demo_voicemail", Hours::Closed);
    let recording_at = voicemail_recording_at();
    leave_voicemail(
        &pbx,
        "voicemail",
        3.0,
        &[(recording_at + 4000, Say::Key('#'))],
        Ending::ByPbx,
    );
    let recordings = pbx.query_until(
        "SELECT id, path, state, duration_ms FROM recordings WHERE state = 'done'",
        1,
    );
    let fields: Vec<&str> = recordings[0].split('|').collect();
    let (id, path) = (fields[0], pbx.dir.join(fields[1]));
    let duration_ms: i64 = fields[3].parse().unwrap();
    assert!(
        (3000..9000).contains(&duration_ms),
        "ended by '#' after the message: {duration_ms} ms"
    );
    let audio = wav::read(&path).unwrap();
    let caller_side = audio.mono();
    let tone = crate::common::media::tone_seconds(&caller_side, audio.rate, 1000.0);
    assert!(tone >= 2.0, "the caller's message is in the file: {tone} s");
    let tasks = pbx.query_until("SELECT id, channel, queue, customer, state FROM tasks", 1);
    let (task, rest) = tasks[0].split_once('|').unwrap();
    assert_eq!(rest, format!("voicemail|support|{UNKNOWN}|waiting"));
    let attributes = pbx.query("SELECT attributes FROM tasks");
    let attributes: serde_json::Value = serde_json::from_str(&attributes[0]).unwrap();
    assert_eq!(attributes["recording_id"], id, "{attributes}");
    // The task survives a restart: the ACD queues it again from the store.
    let mut pbx = pbx;
    pbx.centrala.restart().unwrap();
    let requeued = format!("SELECT task FROM queue_log WHERE event = 'requeue' AND task = {task}");
    assert_eq!(pbx.query_until(&requeued, 1), [task]);
}

#[test]
fn demo_voicemail_ends_after_five_seconds_of_silence() {
    if !enabled("demo_voicemail_silence") {
        return;
    }
    let Demo { pbx, _crm } = demo("demo_voicemail_silence", Hours::Closed);
    leave_voicemail(&pbx, "quiet", 2.0, &[], Ending::ByPbx);
    let recordings = pbx.query_until("SELECT duration_ms FROM recordings WHERE state = 'done'", 1);
    let duration_ms: i64 = recordings[0].parse().unwrap();
    // 0.5 s before the message, 2 s of it, then 5 s of silence end it (not the 120 s limit).
    assert!(
        (6500..10_000).contains(&duration_ms),
        "ended by silence: {duration_ms} ms"
    );
    pbx.query_until("SELECT id FROM tasks WHERE channel = 'voicemail'", 1);
}

#[test]
fn demo_voicemail_is_kept_when_the_caller_hangs_up() {
    if !enabled("demo_voicemail_hang_up") {
        return;
    }
    let Demo { pbx, _crm } = demo("demo_voicemail_hang_up", Hours::Closed);
    let recording_at = voicemail_recording_at();
    let hang_up = Ending::CallerAfterMs(recording_at + 3500);
    leave_voicemail(&pbx, "hang-up", 2.5, &[], hang_up);
    let recordings = pbx.query_until(
        "SELECT id, duration_ms FROM recordings WHERE state = 'done'",
        1,
    );
    let (id, duration_ms) = recordings[0].split_once('|').unwrap();
    let duration_ms: i64 = duration_ms.parse().unwrap();
    assert!(
        (2000..6000).contains(&duration_ms),
        "ended by the hang-up: {duration_ms} ms"
    );
    let attributes = pbx.query_until(
        "SELECT attributes FROM tasks WHERE channel = 'voicemail'",
        1,
    );
    let attributes: serde_json::Value = serde_json::from_str(&attributes[0]).unwrap();
    assert_eq!(attributes["recording_id"], id, "{attributes}");
}
