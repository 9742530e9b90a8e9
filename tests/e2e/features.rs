//! Agent feature codes dialled from a phone: 1001 logs in (`*11`), takes a break with reason 2
//! (`*132`), comes back (`*14`) and logs out (`*12`), each answered with a confirmation prompt
//! and a BYE from Centrala; a break while logged out is refused (409), an unknown code gets
//! 404 and an extension that is no agent 403. The agent's state changes are in the queue log.

use crate::support::{Pbx, enabled};

/// 1001 dials `code` and expects Centrala to answer and hang up.
fn confirmed(pbx: &Pbx, code: &str) {
    let uac = pbx
        .sipp(
            0,
            &format!("code-{}", code.replace('*', "s")),
            "uac_wait_bye.xml",
        )
        .service(code)
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .media_secs(1)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{code}: {}", uac.describe());
    assert_eq!(
        uac.log_lines("HUNGUP_BY_REMOTE ").count(),
        1,
        "{code} was confirmed and hung up: {}",
        uac.describe()
    );
}

/// `user` dials `code` and expects the final `status`.
fn refused(pbx: &Pbx, user: &str, code: &str, status: u16) {
    let uac = pbx
        .sipp(
            0,
            &format!("refused-{user}-{}", code.replace('*', "s")),
            "uac_expect.xml",
        )
        .service(code)
        .key("caller", user)
        .auth(user, &format!("pw{user}"))
        .set("expect", status)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{user} {code}: {}", uac.describe());
}

#[test]
fn feature_codes_change_the_dialling_agents_own_state() {
    if !enabled("feature_codes") {
        return;
    }
    let pbx = Pbx::start_full(
        "feature_codes",
        "",
        "[[extensions]]\nnumber = \"1004\"\npassword = \"pw1004\"\n",
    );
    refused(&pbx, "1001", "*13", 409);
    for code in ["*11", "*132", "*14", "*12"] {
        confirmed(&pbx, code);
    }
    refused(&pbx, "1001", "*99", 404);
    refused(&pbx, "1004", "*11", 403);
    let log = pbx.with_store(async |store| store.task_log(0).await.unwrap());
    let agent_events: Vec<(&str, Option<&str>)> = log
        .iter()
        .filter(|r| r.agent.as_deref() == Some("1001"))
        .map(|r| (r.event.as_str(), r.detail.as_deref()))
        .collect();
    assert_eq!(
        agent_events,
        [
            ("login", None),
            ("break", Some("2")),
            ("ready", None),
            ("logout", None)
        ]
    );
    let cdr = &pbx.cdrs(4)[0];
    assert_eq!(
        (cdr["callee"].as_str(), cdr["result"].as_str()),
        (Some("*12"), Some("answered")),
        "{cdr}"
    );
}
