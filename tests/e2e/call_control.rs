//! Live-call control through the API: SIPp 1001 calls SIPp 1002; the API lists the call,
//! refuses an agent who is no party of it, hangs it up (both phones get BYE), and records it on
//! demand with a pause (the paused span is silence in the file).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::sipp::SippHandle;
use crate::common::{media, wav};
use crate::queues::PLAN;
use crate::support::{Pbx, TOKEN, agent_token, dialplan_dir, enabled};

/// An agent token of 1003, who is no party of the calls below.
const OTHER_AGENT: &str = "agent-1003-token";
/// An agent token of 1002, who answers the queued call below.
const QUEUE_AGENT: &str = "agent-1002-token";

/// Starts a call 1001 -> `number` whose phones both wait for a BYE (tones for 30 s), with
/// the callee's phone (registered as `callee`) at slot 1; returns (caller, callee) and the
/// call as `token` sees it once listed.
fn live_call(
    pbx: &Pbx,
    number: &str,
    callee: &str,
    token: &str,
) -> (SippHandle, SippHandle, Value) {
    pbx.register(1, callee);
    let callee = pbx.answering_phone(1, 30);
    let caller = pbx
        .sipp(0, "uac", "uac_wait_bye.xml")
        .service(number)
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .media_secs(30)
        .spawn()
        .unwrap();
    (caller, callee, pbx.listed_call(token))
}

fn recording(pbx: &Pbx, id: &str, action: &str) -> u16 {
    let path = format!("/api/v1/calls/{id}/recording");
    pbx.api_post(TOKEN, &path, &format!(r#"{{"action":"{action}"}}"#))
        .0
}

fn hang_up(pbx: &Pbx, token: &str, id: &str) -> (u16, Value) {
    pbx.api_post(token, &format!("/api/v1/calls/{id}/hangup"), "")
}

/// Both phones got the PBX's BYE and ended cleanly.
fn assert_both_got_bye(caller: SippHandle, callee: SippHandle) {
    for phone in [caller.wait().unwrap(), callee.wait().unwrap()] {
        assert!(phone.check().is_ok(), "{}", phone.describe());
    }
}

#[test]
fn the_api_hangs_up_a_live_call_but_not_for_an_outside_agent() {
    if !enabled("api_hangs_up") {
        return;
    }
    let pbx = Pbx::start_full("api_hangs_up", "", &agent_token("1003"));
    let (caller, callee, call) = live_call(&pbx, "1002", "1002", TOKEN);
    assert_eq!(
        (&call["caller"], &call["callee"]),
        (&"1001".into(), &"1002".into())
    );
    let id = call["id"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_secs(2));

    let (status, answer) = hang_up(&pbx, OTHER_AGENT, &id);
    assert_eq!(
        (status, &answer["error"]["code"]),
        (403, &"forbidden".into())
    );
    let auth = format!("Bearer {OTHER_AGENT}");
    let (status, listed) = crate::common::centrala::http_get_with(
        pbx.centrala.http(),
        "/api/v1/calls",
        &[("Authorization", &auth)],
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(
        listed.contains(r#""items":[]"#),
        "1003 sees no call: {listed}"
    );
    assert_eq!(hang_up(&pbx, TOKEN, "no-such-call").0, 404);

    let (status, answer) = hang_up(&pbx, TOKEN, &id);
    assert_eq!(status, 204, "{answer}");
    assert_both_got_bye(caller, callee);
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(
        (&cdr["id"], &cdr["hangup_cause"], &cdr["hangup_side"]),
        (&id.as_str().into(), &"api_hangup".into(), &"system".into()),
        "{cdr}"
    );
    assert_eq!(pbx.api("/api/v1/calls")["items"], Value::Array(vec![]));
    assert_eq!(hang_up(&pbx, TOKEN, &id).0, 404, "the call is gone");
}

#[test]
fn the_api_records_a_call_on_demand_and_a_pause_is_silence() {
    if !enabled("api_records") {
        return;
    }
    let pbx = Pbx::start("api_records", "");
    let (caller, callee, call) = live_call(&pbx, "1002", "1002", TOKEN);
    let id = call["id"].as_str().unwrap().to_owned();
    assert_eq!(recording(&pbx, &id, "pause"), 409, "not recording yet");
    let deadline = Instant::now() + Duration::from_secs(10);
    while recording(&pbx, &id, "start") != 204 {
        assert!(Instant::now() < deadline, "the recording never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(recording(&pbx, &id, "start"), 409, "already recording");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(recording(&pbx, &id, "pause"), 204);
    assert_eq!(recording(&pbx, &id, "pause"), 409, "already paused");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(recording(&pbx, &id, "resume"), 204);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(recording(&pbx, &id, "stop"), 204);
    assert_eq!(hang_up(&pbx, TOKEN, &id).0, 204);
    assert_both_got_bye(caller, callee);

    let row = pbx.done_recording();
    assert_eq!(
        (&row["id"], &row["call_id"]),
        (&id.as_str().into(), &id.as_str().into())
    );
    let file = pbx.dir.join("data/recordings").join(format!("{id}.wav"));
    let audio = wav::read(&file).unwrap();
    assert_eq!((audio.channels, audio.rate), (2, 8000));
    let left: Vec<i16> = audio.samples.iter().step_by(2).copied().collect();
    let span = |from: f64, to: f64| &left[(from * 8000.0) as usize..(to * 8000.0) as usize];
    assert!(
        media::tone_seconds(span(0.3, 1.7), 8000, 1000.0) >= 1.0,
        "tone before the pause"
    );
    let paused_peak = span(2.4, 3.6).iter().map(|s| s.unsigned_abs()).max();
    assert!(
        paused_peak.unwrap_or(0) < 100,
        "silence while paused: {paused_peak:?}"
    );
    assert!(
        media::tone_seconds(span(4.4, 5.6), 8000, 1000.0) >= 1.0,
        "tone after the resume"
    );
}

#[test]
fn the_agent_who_answered_a_queued_call_may_hang_it_up() {
    if !enabled("api_agent_hangs_up") {
        return;
    }
    let dir = dialplan_dir("api_agent_hangs_up", &[("plan.yaml", PLAN)]);
    let pbx = Pbx::start_with_dialplan("api_agent_hangs_up", "", &agent_token("1002"), &dir);
    let (caller, agent, call) = live_call(&pbx, "8000", "1002", QUEUE_AGENT);
    assert_eq!(
        (&call["callee"], &call["agent"]),
        (&"8000".into(), &"1002".into()),
        "{call}"
    );
    std::thread::sleep(Duration::from_secs(2));
    let id = call["id"].as_str().unwrap();
    assert_eq!(hang_up(&pbx, QUEUE_AGENT, id).0, 204);
    assert_both_got_bye(caller, agent);
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(
        (&cdr["hangup_cause"], &cdr["result"]),
        (&"api_hangup".into(), &"answered".into()),
        "{cdr}"
    );
}
