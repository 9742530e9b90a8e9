//! CDRs say what happened in the queue: a caller who hangs up while waiting is `abandoned`
//! and the CDR names the queue and the wait until the hang-up; a call an agent answers names
//! the queue, the agent's extension and the wait until the answer. Checked through
//! `/api/v1/cdrs` and the `call.ended` events, on SQLite and (with
//! `CENTRALA_TEST_POSTGRES`) PostgreSQL.

use serde_json::Value;

use crate::queues::PLAN;
use crate::support::{self, Pbx, dialplan_dir, enabled};

/// The CDR whose result is `result` (waiting for `count` CDRs in all).
fn cdr_with(pbx: &Pbx, count: usize, result: &str) -> Value {
    let cdrs = pbx.cdrs(count);
    cdrs.iter()
        .find(|c| c["result"] == result)
        .unwrap_or_else(|| panic!("a CDR with result {result}: {cdrs:#?}"))
        .clone()
}

fn ms(value: &Value) -> i64 {
    value
        .as_i64()
        .unwrap_or_else(|| panic!("{value} is no number"))
}

#[test]
fn cdr_names_the_queue_the_agent_and_the_wait() {
    if !enabled("cdr_queue_path") {
        return;
    }
    let test = "cdr_queue_path";
    let dir = dialplan_dir(test, &[("plan.yaml", PLAN)]);
    let pbx = Pbx::start_with_dialplan(test, "", "", &dir);
    pbx.subscribe_outbox(&["call.ended"]);

    // No agent is logged in: 1001 waits in `support`, keys 5 (no keep-place key) after 3 s,
    // and hangs up 3 s later.
    let caller = pbx.sipp(0, "abandoning", "uac_ivr.xml").set("talk_ms", 0);
    let caller = support::with_keys(caller, "8000", "5", 3000).run().unwrap();
    assert!(caller.check().is_ok(), "{}", caller.describe());
    let abandoned = cdr_with(&pbx, 1, "abandoned");
    let wait = ms(&abandoned["wait_ms"]);
    let answered_ms = ms(&abandoned["answered_at_ms"]);
    let ended_ms = ms(&abandoned["ended_at_ms"]);
    assert_eq!(
        (&abandoned["queue"], &abandoned["agent"]),
        (&Value::from("support"), &Value::Null),
        "{abandoned}"
    );
    assert!(
        (5_000..9_000).contains(&wait) && wait <= ended_ms - answered_ms,
        "waited from entering the queue (right after the answer) to the hang-up: {abandoned}"
    );

    // Agent 1002 (support) logs in by registering and answers the next caller.
    pbx.register(1, "1002");
    let agent = pbx.answering_phone(1, 5);
    pbx.call_from_1001("8000", 4);
    let agent = agent.wait().unwrap();
    assert_eq!(
        agent.log_lines("ANSWERED ").count(),
        1,
        "{}",
        agent.describe()
    );
    let answered = cdr_with(&pbx, 2, "answered");
    assert_eq!(
        (&answered["queue"], &answered["agent"]),
        (&Value::from("support"), &Value::from("1002")),
        "{answered}"
    );
    let wait = ms(&answered["wait_ms"]);
    assert!(
        (0..3_000).contains(&wait),
        "the agent answered at once: {answered}"
    );

    let events = pbx.outbox_events("call.ended", 2);
    for cdr in [&abandoned, &answered] {
        let event = events
            .iter()
            .find(|e| e["call_id"] == cdr["id"])
            .unwrap_or_else(|| panic!("call.ended of {cdr}: {events:#?}"));
        for field in ["queue", "agent", "wait_ms", "result"] {
            assert_eq!(event["data"][field], cdr[field], "{field}: {event}");
        }
    }
}
