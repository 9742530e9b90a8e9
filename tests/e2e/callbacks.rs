//! Callbacks, agent-first: a customer calling in through the carrier trunk keeps their place
//! in the queue (key 1) and is hung up on; when agent 1001's phone registers, the ACD offers
//! the callback, Centrala rings the agent first, and only once the agent answered (and heard
//! who is called) dials the customer through the trunk and bridges them. A callback stored
//! before a kill -9 is served after the restart.

use serde_json::Value;

use crate::common::capture::{Capture, Pcap};
use crate::common::ports::PortBlock;
use crate::common::sipp::Sipp;
use crate::support::{self, CARRIER_IP, Pbx, carrier_trunk, dialplan_dir, enabled};
/// The customer's number as the carrier presents it (short: the agent hears it digit by digit).
const CUSTOMER: &str = "555";

pub(crate) const PLAN: &str = r#"languages: [en]
routes:
  - number: "8000"
    flow: main
flows:
  main:
    steps:
      - answer
      - queue: { name: sales, skills: [sales] }
"#;

/// A PBX with the carrier trunk (in from 127.0.0.2, out to peer slot 2 there) and `PLAN`.
fn pbx(test: &str) -> Pbx {
    pbx_with(test, "", "")
}

/// `pbx` with more `[trunks.outbound]` keys (`outbound`) and more configuration (`extra_top`).
pub(crate) fn pbx_with(test: &str, outbound: &str, extra_top: &str) -> Pbx {
    let ports = PortBlock::claim();
    let config = carrier_trunk(ports.peer(2).sip, outbound) + extra_top;
    let dir = dialplan_dir(test, &[("plan.yaml", PLAN)]);
    Pbx::start_in(ports, test, "", &config, &dir)
}

/// The customer calls 8000 through the carrier while no agent is logged in, presses 1 after
/// 2 s and is hung up on after the confirmation.
pub(crate) fn customer_keeps_place(pbx: &Pbx) {
    let sipp = pbx
        .sipp(0, "customer-call", "uac_ivr_wait_bye.xml")
        .local_ip(CARRIER_IP)
        .key("caller", CUSTOMER);
    let uac = support::keying(sipp, "8000", "1", 2000).run().unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    assert_eq!(
        uac.log_lines("HUNGUP_BY_REMOTE").count(),
        1,
        "Centrala ended the call after keeping the place: {}",
        uac.describe()
    );
}

/// The one open task, the customer's callback.
fn the_open_callback(pbx: &Pbx) -> centrala::store::TaskRow {
    let stored = pbx.with_store(async |store| store.open_tasks().await.unwrap());
    let [callback] = &stored[..] else {
        panic!("one open task, the callback: {stored:?}")
    };
    assert_eq!(
        (callback.channel.as_str(), callback.customer.as_deref()),
        ("callback", Some(CUSTOMER))
    );
    callback.clone()
}

/// Agent 1001 registers at slot 1 and answers; the customer (`carrier`, usually
/// `Pbx::carrier_hanging_up`) answers and hangs up. Returns the capture of the whole exchange.
pub(crate) fn agent_and_customer_answer(pbx: &Pbx, carrier: Sipp) -> Pcap {
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    let customer = carrier.spawn().unwrap();
    // Registering logs the agent in and the callback is offered at once: the phone starts
    // right after (the INVITE's retransmission reaches it).
    pbx.register(1, "1001");
    let agent = pbx.answering_phone(1, 20);
    let customer = customer.wait().unwrap();
    assert!(customer.check().is_ok(), "{}", customer.describe());
    let agent = agent.wait().unwrap();
    assert_eq!(
        agent.log_lines("ANSWERED ").count(),
        1,
        "the agent answered the callback: {}",
        agent.describe()
    );
    capture.stop().unwrap()
}

/// Position in the capture of the first SIP datagram from `src_port` (0: any) to `dst_port`
/// (0: any) starting with `start`.
fn first_sip(pcap: &Pcap, src_port: u16, dst_port: u16, start: &str) -> Option<usize> {
    pcap.datagrams.iter().position(|d| {
        (src_port == 0 || d.src.port() == src_port)
            && (dst_port == 0 || d.dst.port() == dst_port)
            && d.payload.starts_with(start.as_bytes())
            && String::from_utf8_lossy(&d.payload).contains(" INVITE\r\n")
    })
}

/// The agent's phone rang and answered before the customer's INVITE left, and the customer
/// heard the agent (and the other way round).
fn assert_agent_first(pbx: &Pbx, pcap: &Pcap) {
    let (agent, customer) = (pbx.peer(1), pbx.peer(2));
    let agent_invite = first_sip(pcap, 0, agent.sip, "INVITE ").expect("INVITE to the agent");
    let agent_ok = first_sip(pcap, agent.sip, 0, "SIP/2.0 200").expect("the agent's 200");
    let customer_invite =
        first_sip(pcap, 0, customer.sip, "INVITE ").expect("INVITE to the customer");
    assert!(
        agent_invite < agent_ok && agent_ok < customer_invite,
        "agent first: INVITE #{agent_invite}, 200 #{agent_ok}, customer INVITE #{customer_invite}"
    );
    let heard_by_agent = pcap.rtp_to(agent.media).tone_seconds(440.0);
    assert!(
        heard_by_agent >= 1.0,
        "the agent heard the customer for {heard_by_agent} s"
    );
    let cdr = pbx
        .cdrs(2)
        .into_iter()
        .find(|c| c["origin"] == "callback")
        .expect("a callback CDR");
    assert_eq!(
        (
            cdr["caller"].as_str(),
            cdr["callee"].as_str(),
            cdr["result"].as_str()
        ),
        (Some("1001"), Some(CUSTOMER), Some("answered")),
        "{cdr}"
    );
}

#[test]
fn kept_place_rings_the_agent_first_then_the_customer_on_the_trunk() {
    if !enabled("callback_agent_first") {
        return;
    }
    let pbx = pbx("callback_agent_first");
    customer_keeps_place(&pbx);
    let pcap = agent_and_customer_answer(&pbx, pbx.carrier_hanging_up());
    assert_agent_first(&pbx, &pcap);
}

#[test]
fn a_kept_place_survives_kill_9_and_is_served_after_restart() {
    if !enabled("callback_kill9") {
        return;
    }
    let mut pbx = pbx("callback_kill9");
    customer_keeps_place(&pbx);
    let callback = the_open_callback(&pbx);
    // The kept-place call's CDR is group-committed a few ms after its end: the crash under
    // test comes after it (the callback task, not the CDR writer's window, is what must
    // survive here).
    pbx.cdrs(1);
    pbx.centrala.kill9();
    pbx.centrala.restart().unwrap();
    let pcap = agent_and_customer_answer(&pbx, pbx.carrier_hanging_up());
    assert_agent_first(&pbx, &pcap);
    let (row, log) = pbx.with_store(async |store| {
        let row = store.task(callback.id).await.unwrap().expect("the task");
        (row, store.task_log(callback.id).await.unwrap())
    });
    assert_eq!(row.state, "done", "{row:?}");
    assert_eq!(
        (row.arrived_at_ms, row.deadline_ms),
        (callback.arrived_at_ms, callback.deadline_ms),
        "arrival and deadline survive the crash"
    );
    let events: Vec<&str> = log.iter().map(|r| r.event.as_str()).collect();
    for event in [
        "callback_requested",
        "offer",
        "answer",
        "callback_attempt",
        "complete",
    ] {
        assert!(
            events.contains(&event),
            "{event} in the queue log: {events:?}"
        );
    }
}

#[test]
fn a_call_to_a_closed_queue_leaves_a_callback_and_ends() {
    if !enabled("callback_closed") {
        return;
    }
    // Sales with a calendar that has no opening hours at all.
    let closed = "[[queues]]\nname = \"sales\"\nskills = { sales = 1 }\n\
                  [queues.calendar]\nutc_offset = \"Z\"\n";
    let pbx = pbx_with("callback_closed", "", closed);
    let uac = pbx
        .sipp(0, "customer-call", "uac_wait_bye.xml")
        .local_ip(CARRIER_IP)
        .service("8000")
        .key("caller", CUSTOMER)
        .media_secs(1)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    assert_eq!(
        uac.log_lines("HUNGUP_BY_REMOTE ").count(),
        1,
        "{}",
        uac.describe()
    );
    let callback = the_open_callback(&pbx);
    assert!(
        callback.attributes.contains("outside_hours"),
        "{callback:?}"
    );
}

#[test]
fn a_busy_customer_ends_the_agents_call_and_the_callback_waits_for_a_retry() {
    if !enabled("callback_busy") {
        return;
    }
    let pbx = pbx("callback_busy");
    customer_keeps_place(&pbx);
    let customer = pbx
        .sipp(2, "customer", "uas_busy.xml")
        .local_ip(CARRIER_IP)
        .spawn()
        .unwrap();
    pbx.register(1, "1001");
    let agent = pbx.answering_phone(1, 20).wait().unwrap();
    assert!(
        agent.check().is_ok() && agent.log_lines("ENDED ").count() == 1,
        "Centrala ended the agent's call after the busy customer: {}",
        agent.describe()
    );
    let customer = customer.wait().unwrap();
    assert_eq!(
        customer.log_lines("BUSY ").count(),
        1,
        "{}",
        customer.describe()
    );
    let stored = pbx.with_store(async |store| store.open_tasks().await.unwrap());
    let [callback] = &stored[..] else {
        panic!("the callback is still open: {stored:?}")
    };
    assert_eq!(
        (callback.state.as_str(), callback.attempts),
        ("retry", 1),
        "{callback:?}"
    );
    let log = pbx.with_store(async |store| store.task_log(callback.id).await.unwrap());
    let attempt = log.iter().find(|r| r.event == "callback_attempt");
    assert_eq!(
        attempt.and_then(|r| r.detail.as_deref()),
        Some("busy attempt 1"),
        "{log:?}"
    );
    let cdr = pbx
        .cdrs(2)
        .into_iter()
        .find(|c| c["origin"] == "callback")
        .expect("a callback CDR");
    assert_eq!(cdr["result"], "busy", "{cdr}");
}

/// The kept-place call's CDR names the queue and the wait until the key; the callback's CDR
/// names the callback's queue and its agent, `callback.attempted` names the callback's call,
/// and when that call ends the task completes and the agent wraps up (the queue's 10 s
/// default), like after a queue call.
#[test]
fn a_callback_names_its_call_queue_and_agent_then_the_agent_wraps_up() {
    if !enabled("callback_wrap_up") {
        return;
    }
    let pbx = pbx("callback_wrap_up");
    pbx.subscribe_outbox(&["callback.attempted", "call.ended"]);
    customer_keeps_place(&pbx);
    let callback = the_open_callback(&pbx);
    agent_and_customer_answer(&pbx, pbx.carrier_hanging_up());
    let wrapping = (0..30).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        pbx.agent_state("1001") == "wrap_up"
    });
    assert!(
        wrapping,
        "after the callback 1001 is {}",
        pbx.agent_state("1001")
    );
    let row = pbx.with_store(async |store| store.task(callback.id).await.unwrap());
    assert_eq!(row.map(|r| r.state), Some("done".to_owned()));

    let cdrs = pbx.cdrs(2);
    let kept = cdrs
        .iter()
        .find(|c| c["result"] == "kept_place")
        .expect("the kept-place CDR");
    assert_eq!(
        (&kept["queue"], &kept["agent"]),
        (&"sales".into(), &Value::Null),
        "{kept}"
    );
    let wait = kept["wait_ms"].as_i64().unwrap_or(-1);
    assert!(
        (1_500..6_000).contains(&wait),
        "waited from the queue to the key (2 s): {kept}"
    );
    let cdr = cdrs
        .iter()
        .find(|c| c["origin"] == "callback")
        .expect("a callback CDR");
    assert_eq!(
        (&cdr["result"], &cdr["queue"], &cdr["agent"]),
        (&"answered".into(), &"sales".into(), &"1001".into()),
        "{cdr}"
    );
    let attempted = pbx.outbox_events("callback.attempted", 1).remove(0);
    let expected: (&Value, Value, Value) = (
        &cdr["id"],
        callback.id.to_string().into(),
        "answered".into(),
    );
    assert_eq!(
        (
            &attempted["call_id"],
            attempted["task_id"].clone(),
            attempted["data"]["outcome"].clone()
        ),
        expected,
        "{attempted}"
    );
    let ended = pbx.outbox_events("call.ended", 2);
    let ended = ended
        .iter()
        .find(|e| e["call_id"] == cdr["id"])
        .expect("the callback's call.ended");
    assert_eq!(
        (&ended["data"]["queue"], &ended["data"]["agent"]),
        (&"sales".into(), &"1001".into()),
        "{ended}"
    );
}
