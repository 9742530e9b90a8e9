//! Click-to-dial through the API: agent 1001's token asks for a call to a customer; Centrala
//! rings the agent's phone (SIPp), then dials the customer through the carrier trunk (SIPp on
//! 127.0.0.2) and bridges them. An agent cannot dial from another agent's phone.

use serde_json::Value;

use crate::common::ports::PortBlock;
use crate::common::sipp::Sipp;
use crate::support::{Pbx, agent_token, carrier_trunk, enabled, repo};

const CUSTOMER: &str = "555";
const AGENT_TOKEN: &str = "agent-1001-token";

/// `POST /api/v1/calls` with `body` as agent 1001: (status, JSON answer).
fn dial(pbx: &Pbx, body: &str) -> (u16, Value) {
    pbx.api_post(AGENT_TOKEN, "/api/v1/calls", body)
}

/// A PBX with the carrier trunk (more `[trunks.outbound]` keys in `outbound`), agent 1001's
/// token and `extra_top`.
pub(crate) fn pbx_with(test: &str, outbound: &str, extra_top: &str) -> Pbx {
    let ports = PortBlock::claim();
    let config = carrier_trunk(ports.peer(2).sip, outbound) + &agent_token("1001") + extra_top;
    Pbx::start_in(ports, test, "", &config, &repo("dialplans"))
}

/// Agent 1001 (registered at slot 1 before) answers the click-to-dial call `body` placed with
/// `token`, then the customer answers at `carrier` and hangs up; both SIPp runs must pass.
/// Returns the call's id.
pub(crate) fn dial_and_answer(pbx: &Pbx, token: &str, body: &str, carrier: Sipp) -> String {
    let customer = carrier.spawn().unwrap();
    let agent = pbx.answering_phone(1, 20);
    let (status, placed) = pbx.api_post(token, "/api/v1/calls", body);
    assert_eq!(status, 201, "{placed}");
    let customer = customer.wait().unwrap();
    assert!(customer.check().is_ok(), "{}", customer.describe());
    let agent = agent.wait().unwrap();
    assert_eq!(
        agent.log_lines("ANSWERED ").count(),
        1,
        "the agent answered: {}",
        agent.describe()
    );
    placed["call_id"].as_str().unwrap().to_string()
}

#[test]
fn click_to_dial_rings_the_agent_then_the_customer_through_the_trunk() {
    if !enabled("click_to_dial") {
        return;
    }
    let wrap_up = "[calls]\nclick_to_dial_wrap_up_secs = 3\n";
    let pbx = pbx_with("click_to_dial", "", wrap_up);
    let (status, answer) = dial(&pbx, r#"{"agent":"1002","number":"555"}"#);
    assert_eq!(
        (status, &answer["error"]["code"]),
        (403, &Value::from("forbidden"))
    );
    let (status, _) = dial(&pbx, r#"{"agent":"1001","number":"555"}"#);
    assert_eq!(status, 409, "no phone of 1001 is registered yet");
    pbx.register(1, "1001");
    let (status, _) = dial(&pbx, r#"{"agent":"1001","number":"five"}"#);
    assert_eq!(status, 400);

    let body = format!(r#"{{"agent":"1001","number":"{CUSTOMER}"}}"#);
    let call_id = dial_and_answer(&pbx, AGENT_TOKEN, &body, pbx.carrier_hanging_up());
    let cdr = pbx
        .cdrs(1)
        .into_iter()
        .find(|c| c["id"] == call_id.as_str())
        .expect("the call's CDR");
    assert_eq!(
        (
            cdr["origin"].as_str(),
            cdr["caller"].as_str(),
            cdr["callee"].as_str(),
            cdr["result"].as_str()
        ),
        (
            Some("click_to_dial"),
            Some("1001"),
            Some(CUSTOMER),
            Some("answered")
        ),
        "{cdr}"
    );
    // After-call work, as after a queue call: wrap-up (3 s here), then available.
    assert_eq!(pbx.agent_state("1001"), "wrap_up");
    let available = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        pbx.agent_state("1001") == "available"
    });
    assert!(
        available,
        "1001 still {} 5 s after the call",
        pbx.agent_state("1001")
    );
}
