//! No call sticks: a bridged call whose media or signalling has gone silent ends by itself
//! with BYE to both legs and a CDR cause that says why (`[calls]` limits).

use crate::support::{Pbx, enabled};

/// Calls 1002 (a SIPp phone answering with `uas_secs` of tone) from 1001 with `scenario`
/// (`uac_secs` of tone), expects both SIPps to get a BYE from Centrala, and returns the CDR.
fn call_ended_by_centrala(
    pbx: &Pbx,
    scenario: &str,
    uac_secs: u32,
    uas_secs: u32,
) -> serde_json::Value {
    pbx.register(1, "1002");
    let uas = pbx
        .sipp(1, "uas", "uas_answer.xml")
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(uas_secs)
        .timeout(std::time::Duration::from_secs(130))
        .spawn()
        .unwrap();
    let uac = pbx
        .sipp(0, "uac", scenario)
        .service("1002")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .media_secs(uac_secs)
        .timeout(std::time::Duration::from_secs(130))
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    assert_eq!(
        uac.log_lines("HUNGUP_BY_REMOTE ").count(),
        1,
        "the caller got no BYE: {}",
        uac.describe()
    );
    let uas = uas.wait().unwrap();
    assert!(uas.check().is_ok(), "{}", uas.describe());
    assert_eq!(
        uas.log_lines("ENDED ").count(),
        1,
        "the callee got no BYE: {}",
        uas.describe()
    );
    pbx.cdrs(1)[0].clone()
}

fn cause_and_side(cdr: &serde_json::Value) -> (Option<&str>, Option<&str>, Option<&str>) {
    (
        cdr["result"].as_str(),
        cdr["hangup_cause"].as_str(),
        cdr["hangup_side"].as_str(),
    )
}

#[test]
fn a_caller_that_stops_sending_rtp_is_hung_up_with_cause_rtp_timeout() {
    if !enabled("rtp_timeout_ends_call") {
        return;
    }
    let pbx = Pbx::start_full(
        "rtp_timeout_ends_call",
        "",
        "[calls]\nrtp_timeout_secs = 3\n",
    );
    let started = std::time::Instant::now();
    let cdr = call_ended_by_centrala(&pbx, "uac_wait_bye.xml", 2, 40);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the silent call lasted {:?}",
        started.elapsed()
    );
    assert_eq!(
        cause_and_side(&cdr),
        (Some("answered"), Some("rtp_timeout"), Some("system"))
    );
}

#[test]
fn a_call_reaching_its_maximum_duration_is_hung_up_with_cause_max_duration() {
    if !enabled("max_duration_ends_call") {
        return;
    }
    let pbx = Pbx::start_full(
        "max_duration_ends_call",
        "",
        "[calls]\nmax_duration_secs = 3\n",
    );
    let cdr = call_ended_by_centrala(&pbx, "uac_wait_bye.xml", 30, 30);
    assert_eq!(
        cause_and_side(&cdr),
        (Some("answered"), Some("max_duration"), Some("system"))
    );
    let answered = cdr["answered_at_ms"].as_i64().unwrap();
    let ended = cdr["ended_at_ms"].as_i64().unwrap();
    assert!(
        (2_900..6_000).contains(&(ended - answered)),
        "ended {} ms after the answer",
        ended - answered
    );
}

#[test]
fn a_caller_that_never_refreshes_its_session_is_hung_up_before_it_expires() {
    if !enabled("session_timer_expires") {
        return;
    }
    let pbx = Pbx::start_full(
        "session_timer_expires",
        "",
        "[calls]\nrtp_timeout_secs = 0\n",
    );
    let cdr = call_ended_by_centrala(&pbx, "uac_session_timer.xml", 4, 90);
    assert_eq!(
        cause_and_side(&cdr),
        (Some("answered"), Some("session_expired"), Some("system"))
    );
    let answered = cdr["answered_at_ms"].as_i64().unwrap();
    let ended = cdr["ended_at_ms"].as_i64().unwrap();
    // RFC 4028 §10: BYE min(32 s, 90/3 s) before the 90 s session expires.
    assert!(
        (59_000..65_000).contains(&(ended - answered)),
        "ended {} ms after the answer",
        ended - answered
    );
}
