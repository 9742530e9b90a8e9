//! Voice queues: a dialplan hands the caller to the skill-based ACD, which offers the call to a
//! logged-in agent with the skill (agents log in when their phone registers); the agent's phone
//! rings and the call is bridged with audio both ways. With no agent, the caller waits (ring-back)
//! and hanging up is an abandon.

use crate::common::capture::Capture;
use crate::support::{Pbx, enabled};

const PLAN: &str = r#"languages: [en]
routes:
  - number: "8000"
    flow: main
flows:
  main:
    steps:
      - answer
      - queue: { name: support, skills: [support], priority: 1 }
"#;

fn pbx(test: &str) -> Pbx {
    let dir = std::env::temp_dir().join(format!("centrala-queue-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plan.yaml"), PLAN).unwrap();
    Pbx::start_with_dialplan(test, "", "", &dir)
}

#[test]
fn queued_call_reaches_the_agent_with_the_skill() {
    if !enabled("queue_to_agent") {
        return;
    }
    let pbx = pbx("queue_to_agent");
    let (caller, agent) = (pbx.peer(0), pbx.peer(1));
    pbx.register(1, "1002");
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    let uas = pbx.answering_phone(1, 6);
    pbx.call_from_1001("8000", 5);
    let uas = uas.wait().unwrap();
    assert_eq!(
        uas.log_lines("ANSWERED ").count(),
        1,
        "the agent answered: {}",
        uas.describe()
    );
    let pcap = capture.stop().unwrap();
    let heard_by_caller = pcap.rtp_to(caller.media).tone_seconds(440.0);
    let heard_by_agent = pcap.rtp_to(agent.media).tone_seconds(1000.0);
    assert!(
        heard_by_caller >= 2.0,
        "the caller heard the agent for {heard_by_caller} s"
    );
    assert!(
        heard_by_agent >= 2.0,
        "the agent heard the caller for {heard_by_agent} s"
    );
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(
        (cdr["callee"].as_str(), cdr["result"].as_str()),
        (Some("8000"), Some("answered")),
        "{cdr}"
    );
}

#[test]
fn with_no_agent_the_caller_waits_and_can_hang_up() {
    if !enabled("queue_no_agent") {
        return;
    }
    let pbx = pbx("queue_no_agent");
    let caller = pbx.peer(0);
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    let uac = pbx
        .sipp(0, "caller", "uac_call.xml")
        .service("8000")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .tone_secs(3)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    let pcap = capture.stop().unwrap();
    // While waiting the caller hears the queue's ring-back (425 Hz), not silence.
    let waiting = pcap.rtp_to(caller.media).tone_seconds(425.0);
    assert!(waiting >= 1.0, "ring-back while queued: {waiting} s");
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(cdr["hangup_side"], "caller", "{cdr}");
    assert_eq!(pbx.metric("centrala_active_calls"), 0.0);
}

/// Sales with a 3 s ring-no-answer, for the re-queue test.
const SALES: &str =
    "[[queues]]\nname = \"sales\"\nskills = { sales = 1 }\nring_no_answer_secs = 3\n";

#[test]
fn ring_no_answer_requeues_the_call_to_the_next_agent() {
    if !enabled("queue_ring_no_answer") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("centrala-queue-rna-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plan.yaml"),
        PLAN.replace(
            "name: support, skills: [support]",
            "name: sales, skills: [sales]",
        ),
    )
    .unwrap();
    let pbx = Pbx::start_with_dialplan("queue_ring_no_answer", "", SALES, &dir);
    // 1003 logs in first (longest idle, offered first) but never answers; 1001 answers.
    pbx.register(1, "1003");
    std::thread::sleep(std::time::Duration::from_millis(300));
    pbx.register(2, "1001");
    let silent = pbx.sipp(1, "silent-agent", "uas_ring.xml").spawn().unwrap();
    let answering = pbx
        .sipp(2, "agent", "uas_answer.xml")
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(8);
    let answering = answering.spawn().unwrap();
    let uac = pbx
        .sipp(0, "caller", "uac_call.xml")
        .service("8000")
        .key("caller", "1002")
        .auth("1002", "pw1002")
        .tone_secs(3)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    let silent = silent.wait().unwrap();
    assert_eq!(
        silent.log_lines("RINGING ").count(),
        1,
        "1003 rang first: {}",
        silent.describe()
    );
    assert_eq!(
        silent.log_lines("CANCELLED ").count(),
        1,
        "then was cancelled: {}",
        silent.describe()
    );
    let answering = answering.wait().unwrap();
    assert_eq!(
        answering.log_lines("ANSWERED ").count(),
        1,
        "1001 took the call: {}",
        answering.describe()
    );
}
