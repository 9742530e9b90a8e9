//! Agent state is always true: every change is an `agent.state_changed` event with its cause
//! (registration, a call, the API), and a break survives a restart and the phone's next
//! REGISTER; an agent on a break is offered nothing.

use std::time::Duration;

use serde_json::Value;

use crate::queues::PLAN;
use crate::support::{Pbx, TOKEN, dialplan_dir, enabled};

/// A subscription whose receiver never answers: the events stay in the outbox, in order.
const HOOK: &str = "[cti]\nallow_private_webhooks = true\n[[cti.webhooks]]\nname = \"crm\"\n\
                    url = \"http://127.0.0.1:9/hook\"\nsecret = \"agent-state-secret-0123456789\"\n\
                    events = [\"agent.state_changed\"]\n";

/// `state/cause` of each `agent.state_changed` of `agent` in the outbox, in order.
fn changes(pbx: &Pbx, agent: &str) -> Vec<String> {
    pbx.query("SELECT body FROM outbox ORDER BY seq")
        .iter()
        .map(|body| serde_json::from_str::<Value>(body).expect("event JSON"))
        .filter(|event| event["agent_id"] == agent)
        .map(|event| {
            let data = &event["data"];
            format!(
                "{}/{}",
                data["state"].as_str().unwrap(),
                data["cause"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_break_survives_a_restart_and_every_change_is_an_event_with_its_cause() {
    if !enabled("agent_state_restart") {
        return;
    }
    let test = "agent_state_restart";
    let dir = dialplan_dir(test, &[("plan.yaml", PLAN)]);
    let mut pbx = Pbx::start_with_dialplan(test, "", HOOK, &dir);
    pbx.register(1, "1002");
    // 1001 calls agent 1002 directly for 2 s: busy, then available again.
    let phone = pbx.answering_phone(1, 10);
    pbx.call_from_1001("1002", 2);
    phone.wait().unwrap();
    let (status, agent) = pbx.api_send(
        TOKEN,
        "PUT",
        "/api/v1/agents/1002/state",
        r#"{"state":"break","reason":4}"#,
    );
    assert_eq!(status, 200, "{agent}");
    let since = agent["since_ms"].as_i64().expect("since_ms");
    pbx.query_until(
        "SELECT agent FROM agent_states WHERE presence = 'break' AND reason = 4",
        1,
    );
    let before = [
        "available/registration",
        "busy/busy",
        "available/busy",
        "break/api",
    ];
    assert_eq!(changes(&pbx, "1002"), before);

    pbx.centrala.kill9();
    pbx.centrala.restart().expect("centrala restarts");
    let agent = pbx.api("/api/v1/agents/1002");
    assert_eq!(
        (
            agent["state"].as_str(),
            agent["reason"].as_u64(),
            agent["since_ms"].as_i64()
        ),
        (Some("break"), Some(4), Some(since)),
        "the break and its start survive the restart: {agent}"
    );
    // The phone's next REGISTER is no login: the break stays.
    pbx.register(1, "1002");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(pbx.agent_state("1002"), "break");
    // A caller waits for support (1002's skill) 3 s: 1002 is offered nothing.
    let caller = pbx
        .sipp(2, "queued", "uac_call.xml")
        .service("8000")
        .key("caller", "1003")
        .auth("1003", "pw1003")
        .tone_secs(3)
        .run()
        .unwrap();
    assert!(caller.check().is_ok(), "{}", caller.describe());
    let offers = pbx.query("SELECT count(*) FROM queue_log WHERE event = 'offer'");
    assert_eq!(offers, ["0"], "an agent on a break was offered a call");
    assert_eq!(
        changes(&pbx, "1002"),
        before,
        "nothing changed after the restart"
    );
}
