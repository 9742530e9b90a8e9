//! Hold and transfers through the API, with SIPp as the customer (1001, sending a 1 kHz tone),
//! the agent (1002) and the transfer target (1003), both sending 440 Hz. Audio is checked on
//! the wire: tcpdump captures of what Centrala sends each phone, decoded.

use std::time::Duration;

use serde_json::Value;

use crate::common::capture::RtpStream;
use crate::common::sipp::SippHandle;
use crate::support::{Pbx, TOKEN, agent_token, enabled};

const AGENT: &str = "agent-1002-token";
const OUTSIDER: &str = "agent-1003-token";

/// A PBX with agent tokens for 1002 and 1003, phones 1002 (slot 1) and 1003 (slot 2)
/// registered and answering with `scenario`, and the customer 1001 (slot 0) calling 1002;
/// returns them with the call's id once it is answered.
fn customer_calls_agent(test: &str, scenario: &str) -> (Pbx, [SippHandle; 3], String) {
    customer_calls_agent_with(test, [scenario, scenario])
}

/// `customer_calls_agent` with the agent's and the target's scenarios.
fn customer_calls_agent_with(test: &str, scenarios: [&str; 2]) -> (Pbx, [SippHandle; 3], String) {
    let tokens = agent_token("1002") + &agent_token("1003");
    let pbx = Pbx::start_full(test, "", &tokens);
    let phone = |slot: u16, user: &str, scenario: &str| {
        pbx.register(slot, user);
        let sipp = pbx.sipp(slot, user, scenario);
        let sipp = match scenario {
            "uas_busy.xml" => sipp,
            "uas_refer.xml" => sipp
                .set("pt", 0)
                .set("codec", "PCMU")
                .set("refer_ms", 1500)
                .set("target", "1003"),
            "uas_consult_hangup.xml" => sipp
                .set("pt", 0)
                .set("codec", "PCMU")
                .set("hangup_ms", 2000),
            _ => sipp.set("pt", 0).set("codec", "PCMU"),
        };
        sipp.spawn().expect("sipp starts")
    };
    let agent = phone(1, "1002", scenarios[0]);
    let target = phone(2, "1003", scenarios[1]);
    let customer = pbx
        .sipp(0, "customer", "uac_wait_bye.xml")
        .service("1002")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .media_secs(30)
        .spawn()
        .expect("sipp starts");
    let id = pbx.listed_call(TOKEN)["id"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(1500));
    (pbx, [customer, agent, target], id)
}

fn post(pbx: &Pbx, token: &str, id: &str, action: &str, body: &str) -> (u16, Value) {
    pbx.api_post(token, &format!("/api/v1/calls/{id}/{action}"), body)
}

/// Music: loud enough to be heard, and not one of the phones' tones.
fn is_music(stream: &RtpStream) -> bool {
    let samples = &stream.pcm;
    let mean_square =
        samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len().max(1) as f64;
    stream.audio_seconds() >= 1.5
        && mean_square.sqrt() > 300.0
        && stream.tone_seconds(440.0) < 0.3
        && stream.tone_seconds(1000.0) < 0.3
}

/// The phone ended its call cleanly (a BYE it got or sent was answered).
fn ended_ok(phone: SippHandle) {
    let result = phone.wait().unwrap();
    assert!(result.check().is_ok(), "{}", result.describe());
}

fn cdr_of(pbx: &Pbx, id: &str, count: usize) -> Value {
    pbx.cdrs(count)
        .into_iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no CDR {id}"))
}

#[test]
fn hold_plays_music_to_the_customer_and_silence_to_the_agent() {
    if !enabled("transfer_hold") {
        return;
    }
    let (pbx, [customer, agent, target], id) =
        customer_calls_agent("transfer_hold", "uas_answer.xml");
    let (customer_port, agent_port) = (pbx.peer(0).media, pbx.peer(1).media);
    assert_eq!(
        post(&pbx, OUTSIDER, &id, "hold", "").0,
        403,
        "1003 is no party"
    );
    assert_eq!(post(&pbx, TOKEN, "no-such-call", "hold", "").0, 404);
    assert_eq!(post(&pbx, AGENT, &id, "unhold", "").0, 409, "not held yet");

    let before = pbx.capture_for("before", 2.0);
    assert!(before.rtp_to(customer_port).tone_seconds(440.0) >= 1.0);

    let (status, answer) = post(&pbx, AGENT, &id, "hold", "");
    assert_eq!(status, 204, "{answer}");
    let (status, answer) = post(&pbx, AGENT, &id, "hold", "");
    assert_eq!(
        (status, &answer["error"]["code"]),
        (409, &Value::from("conflict"))
    );
    let held = pbx.capture_for("held", 2.5);
    let to_customer = held.rtp_to(customer_port);
    assert!(
        is_music(&to_customer),
        "the customer hears music: {:.1} s of audio, {:.1} s of 440 Hz",
        to_customer.audio_seconds(),
        to_customer.tone_seconds(440.0)
    );
    let to_agent = held.rtp_to(agent_port);
    assert!(
        to_agent.tone_seconds(1000.0) < 0.2,
        "the agent hears silence: {:.1} s of the customer",
        to_agent.tone_seconds(1000.0)
    );

    assert_eq!(post(&pbx, AGENT, &id, "unhold", "").0, 204);
    let after = pbx.capture_for("after", 2.0);
    assert!(after.rtp_to(customer_port).tone_seconds(440.0) >= 1.0);
    assert!(after.rtp_to(agent_port).tone_seconds(1000.0) >= 1.0);

    assert_eq!(post(&pbx, TOKEN, &id, "hangup", "").0, 204);
    ended_ok(customer);
    ended_ok(agent);
    drop(target);
}

#[test]
fn blind_transfer_releases_the_agent_and_bridges_the_customer_to_the_target() {
    if !enabled("transfer_blind") {
        return;
    }
    let (pbx, [customer, agent, target], id) =
        customer_calls_agent("transfer_blind", "uas_answer.xml");
    for (body, why) in [
        ("{not json", "malformed JSON"),
        (r#"{"target":"1003","mode":"sideways"}"#, "unknown mode"),
        (r#"{"target":"sip:x@y"}"#, "not a target"),
        (r#"{"target":"queue:nosuchqueue"}"#, "unknown queue"),
        (r#"{"target":"1003","extra":1}"#, "unknown field"),
    ] {
        let (status, answer) = post(&pbx, AGENT, &id, "transfer", body);
        assert_eq!(status, 400, "{why}: {answer}");
        assert!(answer["error"]["message"].is_string(), "{why}: {answer}");
    }
    let (status, _) = post(&pbx, OUTSIDER, &id, "transfer", r#"{"target":"1003"}"#);
    assert_eq!(status, 403, "1003 is no party of the call");

    let (status, started) = post(&pbx, AGENT, &id, "transfer", r#"{"target":"1003"}"#);
    assert_eq!(status, 202, "{started}");
    assert_eq!(
        (&started["target"], &started["mode"]),
        (&Value::from("1003"), &Value::from("blind"))
    );
    ended_ok(agent);
    std::thread::sleep(Duration::from_millis(1000));
    let bridged = pbx.capture_for("bridged", 2.5);
    let heard = bridged.rtp_to(pbx.peer(2).media).tone_seconds(1000.0);
    assert!(heard >= 1.5, "the target hears the customer: {heard:.1} s");
    let back = bridged.rtp_to(pbx.peer(0).media).tone_seconds(440.0);
    assert!(back >= 1.5, "the customer hears the target: {back:.1} s");
    assert_eq!(
        pbx.listed_call(OUTSIDER)["agent"],
        "1003",
        "1003 has the call now"
    );

    assert_eq!(post(&pbx, OUTSIDER, &id, "hangup", "").0, 204);
    ended_ok(customer);
    ended_ok(target);
    let call = cdr_of(&pbx, &id, 2);
    assert_eq!(
        (&call["transferred_to"], &call["hangup_cause"]),
        (&Value::from("1003"), &Value::from("api_hangup")),
        "{call}"
    );
    let leg = cdr_of(&pbx, &format!("{id}-t1"), 2);
    assert_eq!(
        (&leg["callee"], &leg["hangup_cause"], &leg["transferred_to"]),
        (&"1002".into(), &"transferred".into(), &"1003".into()),
        "{leg}"
    );
}

#[test]
fn attended_transfer_consults_the_target_then_completes() {
    if !enabled("transfer_attended") {
        return;
    }
    let (pbx, [customer, agent, target], id) =
        customer_calls_agent("transfer_attended", "uas_reinvite.xml");
    assert_eq!(post(&pbx, AGENT, &id, "transfer/complete", "").0, 409);
    let body = r#"{"target":"1003","mode":"attended"}"#;
    let (status, started) = post(&pbx, AGENT, &id, "transfer", body);
    assert_eq!(status, 202, "{started}");
    assert_eq!(post(&pbx, AGENT, &id, "transfer", body).0, 409, "already");
    assert_eq!(post(&pbx, AGENT, &id, "hold", "").0, 409, "transferring");
    std::thread::sleep(Duration::from_millis(1500));

    let consulting = pbx.capture_for("consulting", 2.5);
    let to_customer = consulting.rtp_to(pbx.peer(0).media);
    assert!(is_music(&to_customer), "the customer hears music on hold");
    let to_agent = consulting.rtp_to(pbx.peer(1).media);
    assert!(
        to_agent.tone_seconds(440.0) >= 1.5 && to_agent.tone_seconds(1000.0) < 0.2,
        "the agent hears the target, not the customer: {:.1} s / {:.1} s",
        to_agent.tone_seconds(440.0),
        to_agent.tone_seconds(1000.0)
    );
    let to_target = consulting.rtp_to(pbx.peer(2).media);
    assert!(
        to_target.tone_seconds(1000.0) < 0.2,
        "the target does not hear the customer yet"
    );

    assert_eq!(post(&pbx, AGENT, &id, "transfer/complete", "").0, 204);
    ended_ok(agent);
    std::thread::sleep(Duration::from_millis(500));
    let joined = pbx.capture_for("joined", 2.5);
    let heard = joined.rtp_to(pbx.peer(2).media).tone_seconds(1000.0);
    assert!(heard >= 1.5, "the target hears the customer: {heard:.1} s");
    let back = joined.rtp_to(pbx.peer(0).media).tone_seconds(440.0);
    assert!(back >= 1.5, "the customer hears the target: {back:.1} s");

    assert_eq!(post(&pbx, TOKEN, &id, "hangup", "").0, 204);
    ended_ok(customer);
    ended_ok(target);
    let call = cdr_of(&pbx, &id, 2);
    assert_eq!(call["transferred_to"], "1003", "{call}");
    let leg = cdr_of(&pbx, &format!("{id}-t1"), 2);
    assert_eq!(leg["hangup_cause"], "transferred", "{leg}");
}

#[test]
fn a_cancelled_attended_transfer_returns_the_agent_to_the_customer() {
    if !enabled("transfer_cancel") {
        return;
    }
    let (pbx, [customer, agent, target], id) =
        customer_calls_agent("transfer_cancel", "uas_reinvite.xml");
    assert_eq!(
        post(&pbx, AGENT, &id, "transfer/cancel", "").0,
        409,
        "none yet"
    );
    let body = r#"{"target":"1003","mode":"attended"}"#;
    assert_eq!(post(&pbx, AGENT, &id, "transfer", body).0, 202);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(post(&pbx, AGENT, &id, "transfer/cancel", "").0, 204);
    ended_ok(target);
    std::thread::sleep(Duration::from_millis(500));

    let back = pbx.capture_for("back", 2.0);
    let to_customer = back.rtp_to(pbx.peer(0).media).tone_seconds(440.0);
    let to_agent = back.rtp_to(pbx.peer(1).media).tone_seconds(1000.0);
    assert!(
        to_customer >= 1.0 && to_agent >= 1.0,
        "customer and agent hear each other again: {to_customer:.1} s / {to_agent:.1} s"
    );
    assert_eq!(post(&pbx, AGENT, &id, "transfer/cancel", "").0, 409);
    assert_eq!(post(&pbx, AGENT, &id, "hangup", "").0, 204);
    ended_ok(customer);
    ended_ok(agent);
    let call = cdr_of(&pbx, &id, 1);
    assert_eq!(call["transferred_to"], Value::Null, "{call}");
}

#[test]
fn blind_transfer_to_a_queue_makes_the_customer_a_task_there() {
    if !enabled("transfer_queue") {
        return;
    }
    let (pbx, [customer, agent, target], id) =
        customer_calls_agent("transfer_queue", "uas_answer.xml");
    let body = r#"{"target":"queue:sales"}"#;
    let (status, started) = post(&pbx, AGENT, &id, "transfer", body);
    assert_eq!(status, 202, "{started}");
    ended_ok(agent);
    // 1003 is the one agent with the sales skill: the ACD offers the call to its phone.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while pbx.listed_call(TOKEN)["agent"] != "1003" {
        assert!(
            std::time::Instant::now() < deadline,
            "never offered to 1003"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1000));
    let bridged = pbx.capture_for("bridged", 2.0);
    let heard = bridged.rtp_to(pbx.peer(2).media).tone_seconds(1000.0);
    assert!(
        heard >= 1.0,
        "the sales agent hears the customer: {heard:.1} s"
    );
    let tasks = pbx.api("/api/v1/tasks");
    let task = tasks["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["queue"] == "sales"))
        .unwrap_or_else(|| panic!("a sales task: {tasks}"));
    assert_eq!(
        (
            &task["attributes"]["transferred_by"],
            &task["attributes"]["caller.number"]
        ),
        (&"1002".into(), &"1001".into()),
        "the task keeps the call's CTI attributes: {task}"
    );
    assert_eq!(post(&pbx, TOKEN, &id, "hangup", "").0, 204);
    ended_ok(customer);
    ended_ok(target);
    let cdr = cdr_of(&pbx, &id, 2);
    assert_eq!(cdr["transferred_to"], "queue:sales");
    // The direct call had no queue; the transfer made it wait in sales until 1003 answered.
    assert_eq!(
        (&cdr["queue"], &cdr["agent"]),
        (&"sales".into(), &"1003".into()),
        "{cdr}"
    );
    assert!(cdr["wait_ms"].as_i64().is_some_and(|w| w < 10_000), "{cdr}");
}

#[test]
fn a_click_to_dial_call_is_held_recorded_and_transferred_through_the_api() {
    if !enabled("transfer_click_to_dial") {
        return;
    }
    let pbx = Pbx::start_full("transfer_click_to_dial", "", &agent_token("1001"));
    let phone = |slot: u16, user: &str| {
        pbx.register(slot, user);
        pbx.sipp(slot, user, "uas_answer.xml")
            .set("pt", 0)
            .set("codec", "PCMU")
            .spawn()
            .expect("sipp starts")
    };
    let (agent, customer) = (phone(1, "1001"), phone(2, "1002"));
    let (status, placed) = pbx.api_post(
        "agent-1001-token",
        "/api/v1/calls",
        r#"{"agent":"1001","number":"1002"}"#,
    );
    assert_eq!(status, 201, "{placed}");
    let id = placed["call_id"].as_str().unwrap().to_owned();
    let listed = pbx.listed_call("agent-1001-token");
    assert_eq!(
        (&listed["id"], &listed["agent"]),
        (&id.as_str().into(), &"1001".into())
    );
    std::thread::sleep(Duration::from_millis(1500));

    let token = "agent-1001-token";
    assert_eq!(post(&pbx, token, &id, "hold", "").0, 204);
    let held = pbx.capture_for("held", 2.5);
    assert!(
        is_music(&held.rtp_to(pbx.peer(2).media)),
        "the customer hears music"
    );
    assert!(
        held.rtp_to(pbx.peer(1).media).tone_seconds(440.0) < 0.2,
        "the agent: silence"
    );
    assert_eq!(post(&pbx, token, &id, "unhold", "").0, 204);
    let record = |action: &str| {
        let body = format!(r#"{{"action":"{action}"}}"#);
        post(&pbx, token, &id, "recording", &body).0
    };
    assert_eq!(record("stop"), 409, "not recording");
    assert_eq!(record("start"), 204);
    assert_eq!(record("start"), 409, "already recording");
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(record("stop"), 204);
    let recorded = pbx.done_recording();
    assert_eq!(recorded["call_id"], id.as_str(), "{recorded}");
    let attended = r#"{"target":"1003","mode":"attended"}"#;
    assert_eq!(
        post(&pbx, token, &id, "transfer", attended).0,
        409,
        "blind only"
    );

    let target = phone(3, "1003");
    let (status, answer) = post(&pbx, token, &id, "transfer", r#"{"target":"1003"}"#);
    assert_eq!(status, 202, "{answer}");
    ended_ok(agent);
    std::thread::sleep(Duration::from_millis(1000));
    let bridged = pbx.capture_for("bridged", 2.0);
    let heard = bridged.rtp_to(pbx.peer(3).media).tone_seconds(440.0);
    assert!(heard >= 1.0, "the target hears the customer: {heard:.1} s");
    assert_eq!(pbx.listed_call(TOKEN)["agent"], "1003");

    assert_eq!(post(&pbx, TOKEN, &id, "hangup", "").0, 204);
    ended_ok(customer);
    ended_ok(target);
    let cdr = cdr_of(&pbx, &id, 2);
    assert_eq!(
        (&cdr["origin"], &cdr["hangup_cause"], &cdr["transferred_to"]),
        (
            &"click_to_dial".into(),
            &"api_hangup".into(),
            &"1003".into()
        ),
        "{cdr}"
    );
    let leg = cdr_of(&pbx, &format!("{id}-t1"), 2);
    assert_eq!(
        (&leg["callee"], &leg["hangup_cause"]),
        (&"1001".into(), &"transferred".into())
    );
}

#[test]
fn a_busy_target_ends_a_blind_transfer_and_returns_an_attended_one() {
    if !enabled("transfer_busy") {
        return;
    }
    let scenarios = ["uas_reinvite.xml", "uas_busy.xml"];
    let (pbx, [customer, agent, target], id) =
        customer_calls_agent_with("transfer_busy", scenarios);
    let body = r#"{"target":"1003","mode":"attended"}"#;
    assert_eq!(post(&pbx, AGENT, &id, "transfer", body).0, 202);
    ended_ok(target);
    std::thread::sleep(Duration::from_millis(1000));
    let back = pbx.capture_for("back", 2.0);
    let heard = back.rtp_to(pbx.peer(0).media).tone_seconds(440.0);
    assert!(
        heard >= 1.0,
        "the agent is back with the customer: {heard:.1} s"
    );

    let target = pbx
        .sipp(2, "busy-again", "uas_busy.xml")
        .spawn()
        .expect("sipp starts");
    assert_eq!(
        post(&pbx, AGENT, &id, "transfer", r#"{"target":"1003"}"#).0,
        202
    );
    ended_ok(target);
    ended_ok(agent);
    ended_ok(customer);
    let call = cdr_of(&pbx, &id, 2);
    assert_eq!(
        (&call["hangup_cause"], &call["transferred_to"]),
        (&"transfer_failed: 486 Busy Here".into(), &"1003".into()),
        "{call}"
    );
}

#[test]
fn the_agent_hanging_up_during_the_consultation_completes_the_transfer() {
    if !enabled("transfer_agent_hangs_up") {
        return;
    }
    let scenarios = ["uas_consult_hangup.xml", "uas_reinvite.xml"];
    let (pbx, [customer, agent, target], id) =
        customer_calls_agent_with("transfer_agent_hangs_up", scenarios);
    let body = r#"{"target":"1003","mode":"attended"}"#;
    assert_eq!(post(&pbx, AGENT, &id, "transfer", body).0, 202);
    ended_ok(agent);
    std::thread::sleep(Duration::from_millis(1000));
    let joined = pbx.capture_for("joined", 2.0);
    let heard = joined.rtp_to(pbx.peer(2).media).tone_seconds(1000.0);
    assert!(heard >= 1.0, "the target hears the customer: {heard:.1} s");
    assert_eq!(post(&pbx, TOKEN, &id, "hangup", "").0, 204);
    ended_ok(customer);
    ended_ok(target);
    let leg = cdr_of(&pbx, &format!("{id}-t1"), 2);
    assert_eq!(leg["hangup_cause"], "transferred", "{leg}");
}

#[test]
fn a_refer_from_the_agents_phone_transfers_the_customer_blind() {
    if !enabled("transfer_refer") {
        return;
    }
    let scenarios = ["uas_refer.xml", "uas_answer.xml"];
    let (pbx, [customer, agent, target], id) =
        customer_calls_agent_with("transfer_refer", scenarios);
    // The agent's phone REFERs 1.5 s after answering: 202, NOTIFY (sipfrag 200 OK), BYE.
    let agent = agent.wait().unwrap();
    assert!(agent.check().is_ok(), "{}", agent.describe());
    assert_eq!(
        agent.log_lines("NOTIFIED ").count(),
        1,
        "{}",
        agent.describe()
    );
    std::thread::sleep(Duration::from_millis(1000));
    let bridged = pbx.capture_for("bridged", 2.0);
    let heard = bridged.rtp_to(pbx.peer(2).media).tone_seconds(1000.0);
    assert!(heard >= 1.0, "the target hears the customer: {heard:.1} s");
    assert_eq!(post(&pbx, TOKEN, &id, "hangup", "").0, 204);
    ended_ok(customer);
    ended_ok(target);
    let leg = cdr_of(&pbx, &format!("{id}-t1"), 2);
    assert_eq!(
        (&leg["hangup_cause"], &leg["transferred_to"]),
        (&"transferred".into(), &"1003".into()),
        "{leg}"
    );
}
