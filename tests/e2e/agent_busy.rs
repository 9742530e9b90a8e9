//! An agent whose phone is on any call is busy in the ACD: on a direct call between
//! extensions the agent is `busy` and offered no queue call; once it ends the agent is
//! offered the waiting work.

use std::time::Duration;

use crate::queues::PLAN;
use crate::support::{Pbx, dialplan_dir, enabled};

#[test]
fn an_agent_on_a_direct_call_is_busy_and_offered_no_queue_call() {
    if !enabled("agent_busy_direct_call") {
        return;
    }
    let test = "agent_busy_direct_call";
    let dir = dialplan_dir(test, &[("plan.yaml", PLAN)]);
    let pbx = Pbx::start_with_dialplan(test, "", "", &dir);
    pbx.register(1, "1002");
    assert_eq!(pbx.agent_state("1002"), "available");
    // 1001 calls agent 1002 directly; the call lasts 8 s.
    let phone = pbx.answering_phone(1, 20);
    let direct = pbx
        .sipp(0, "direct", "uac_call.xml")
        .service("1002")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .tone_secs(8)
        .spawn()
        .unwrap();
    let busy = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        pbx.agent_state("1002") == "busy"
    });
    assert!(busy, "1002 on a direct call is {}", pbx.agent_state("1002"));
    // A caller queues for support (1002's skill) meanwhile and hangs up after 3 s (its
    // digits keep its place: the callback is offered to 1002 only after the direct call).
    let queued = pbx
        .sipp(2, "queued", "uac_call.xml")
        .service("8000")
        .key("caller", "1003")
        .auth("1003", "pw1003")
        .tone_secs(3)
        .run()
        .unwrap();
    assert!(queued.check().is_ok(), "{}", queued.describe());
    let direct = direct.wait().unwrap();
    assert!(direct.check().is_ok(), "{}", direct.describe());
    let phone = phone.wait().unwrap();
    assert_eq!(
        phone.log_lines("ANSWERED ").count(),
        1,
        "1002's phone rang only for the direct call: {}",
        phone.describe()
    );
    let offers =
        pbx.query("SELECT count(*) FROM queue_log WHERE event = 'offer' AND channel = 'voice'");
    assert_eq!(offers, ["0"], "no queue call was offered to the busy agent");
    // Released by the call's end: the kept place is offered to 1002 now.
    pbx.query_until(
        "SELECT task FROM queue_log WHERE event = 'offer' AND channel = 'callback'",
        1,
    );
}
