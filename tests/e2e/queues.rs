//! Voice queues: a dialplan hands the caller to the skill-based ACD, which offers the call to a
//! logged-in agent with the skill (agents log in when their phone registers); the agent's phone
//! rings and the call is bridged with audio both ways. With no agent, the caller waits with
//! music on hold, interrupted by position announcements, and hanging up is an abandon.

use crate::common::capture::Capture;
use crate::common::media::tone_share;
use crate::support::{self, Pbx, dialplan_dir, enabled};

/// The notes of `sounds/moh/default.wav`.
const MUSIC_HZ: [f64; 3] = [523.25, 659.25, 783.99];

/// What the caller heard, one letter per 200 ms: `m` music on hold, `s` other sound (speech),
/// `.` silence.
fn heard(pcm: &[i16]) -> String {
    pcm.chunks_exact(1600)
        .map(|w| {
            let rms = (w.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / w.len() as f64)
                .sqrt()
                / 32768.0;
            let music = MUSIC_HZ.iter().any(|&f| tone_share(w, 8000, f) >= 0.5);
            match (music, 20.0 * rms.max(1e-9).log10() > -45.0) {
                (true, _) => 'm',
                (false, true) => 's',
                (false, false) => '.',
            }
        })
        .collect()
}

pub(crate) const PLAN: &str = r#"languages: [en]
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
    let dir = dialplan_dir(test, &[("plan.yaml", PLAN)]);
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
        .tone_secs(9)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    let pcap = capture.stop().unwrap();
    // While waiting the caller hears its position at once, then music on hold, not silence.
    let timeline = heard(&pcap.rtp_to(caller.media).pcm);
    let first_music = timeline.find("mmm").expect("music on hold");
    assert!(
        timeline[..first_music].contains("sss"),
        "the position announcement before the music: {timeline}"
    );
    assert!(
        timeline.matches('m').count() >= 5,
        "music on hold while queued: {timeline}"
    );
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
    let plan = PLAN.replace(
        "name: support, skills: [support]",
        "name: sales, skills: [sales]",
    );
    let dir = dialplan_dir("queue-rna", &[("plan.yaml", &plan)]);
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

#[test]
fn queued_caller_hears_the_position_at_once_then_music_and_again_each_period() {
    if !enabled("queue_announce") {
        return;
    }
    let plan = PLAN.replace(
        "priority: 1 }",
        "priority: 1, announce: { every: 5s, keep_place: false } }",
    );
    let dir = dialplan_dir("queue-announce", &[("plan.yaml", &plan)]);
    let pbx = Pbx::start_with_dialplan("queue_announce", "", "", &dir);
    let caller = pbx.peer(0);
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    // No agent: the caller waits 11 s, keys an unused digit, and hangs up 4 s later.
    let sipp = pbx
        .sipp(0, "caller", "uac_ivr.xml")
        .set("talk_ms", 1000)
        .media_secs(2);
    let uac = support::with_keys(sipp, "8000", "5", 11_000).run().unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    let pcap = capture.stop().unwrap();
    let timeline = heard(&pcap.rtp_to(caller.media).pcm);
    // 200 ms per letter: "you are number one in the queue" (~2 s) right after entering the
    // queue, then music, and the announcement again at 5 s and 10 s.
    let first_speech = timeline.find("sss").expect("an announcement");
    assert!(
        first_speech <= 8,
        "the first announcement came right away: {timeline}"
    );
    let after = &timeline[first_speech..];
    let music_again = after.find("mmm").expect("music after the announcement");
    assert!(
        (5..=20).contains(&music_again),
        "the announcement lasted ~2 s and the music resumed: {timeline}"
    );
    let second = after[music_again..]
        .find("sss")
        .map(|i| first_speech + music_again + i);
    assert!(
        second.is_some_and(|at| (22..=32).contains(&(at - first_speech))),
        "a second announcement 5 s later: {timeline}"
    );
}

/// Sales with 5 s of wrap-up, for the wrap-up test.
const SALES_WRAP_UP: &str =
    "[[queues]]\nname = \"sales\"\nskills = { sales = 1 }\nwrap_up_secs = 5\n";

#[test]
fn after_a_queue_call_the_agent_wraps_up_before_the_next_offer() {
    if !enabled("queue_wrap_up") {
        return;
    }
    let plan = PLAN.replace(
        "name: support, skills: [support]",
        "name: sales, skills: [sales]",
    );
    let dir = dialplan_dir("queue-wrap", &[("plan.yaml", &plan)]);
    let pbx = Pbx::start_with_dialplan("queue_wrap_up", "", SALES_WRAP_UP, &dir);
    pbx.register(1, "1001");
    let agent_sip = pbx.peer(1).sip;
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    let agent = pbx
        .sipp(1, "agent", "uas_answer.xml")
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(20)
        .calls(2)
        .timeout(std::time::Duration::from_secs(40))
        .spawn()
        .unwrap();
    // The first caller talks ~3 s; the second arrives meanwhile and waits through wrap-up.
    let first = pbx
        .sipp(0, "first", "uac_call.xml")
        .service("8000")
        .key("caller", "1002")
        .auth("1002", "pw1002")
        .tone_secs(2)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(1));
    let second = pbx
        .sipp(2, "second", "uac_call.xml")
        .service("8000")
        .key("caller", "1003")
        .auth("1003", "pw1003")
        .tone_secs(12)
        .run()
        .unwrap();
    assert!(second.check().is_ok(), "{}", second.describe());
    assert!(first.wait().unwrap().check().is_ok());
    let agent = agent.wait().unwrap();
    assert_eq!(
        agent.log_lines("ANSWERED ").count(),
        2,
        "the agent took both calls: {}",
        agent.describe()
    );
    let pcap = capture.stop().unwrap();
    let to_agent = |method: &str| -> Vec<f64> {
        pcap.to_port(agent_sip)
            .filter(|d| d.payload.starts_with(method.as_bytes()))
            .map(|d| d.time)
            .collect()
    };
    let first_bye = to_agent("BYE ")[0];
    let invites = to_agent("INVITE ");
    let second_offer = invites
        .iter()
        .copied()
        .find(|&t| t > first_bye)
        .expect("an INVITE after the first call ended");
    let gap = second_offer - first_bye;
    assert!(
        (4.8..8.0).contains(&gap),
        "the second offer came {gap:.1} s after the first call ended (wrap-up 5 s)"
    );
}
