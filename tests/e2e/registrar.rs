//! The registrar: digest authentication (right and wrong password), removal with Expires 0,
//! the ban after repeated failures, and bindings that survive a crash of the PBX.

use std::time::Duration;

use crate::support::{Pbx, enabled};

fn registered_aors(pbx: &Pbx) -> Vec<String> {
    pbx.api("/api/v1/registrations")["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["aor"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn register_with_right_and_wrong_password() {
    if !enabled("register_passwords") {
        return;
    }
    let pbx = Pbx::start("register_passwords", "");
    pbx.register(0, "1001");
    assert_eq!(registered_aors(&pbx), ["1001"]);
    assert_eq!(pbx.metric("centrala_registrations"), 1.0);
    let bad = pbx
        .sipp(1, "register_bad", "register_bad.xml")
        .service("1002")
        .auth("1002", "wrong");
    let bad = bad.run().unwrap();
    assert!(bad.check().is_ok(), "{}", bad.describe());
    assert_eq!(
        bad.log_lines("REJECTED 403").count(),
        1,
        "{}",
        bad.describe()
    );
    assert_eq!(registered_aors(&pbx), ["1001"]);
    let gone = pbx
        .sipp(0, "unregister", "register.xml")
        .service("1001")
        .auth("1001", "pw1001");
    let gone = gone.set("expires", 0).run().unwrap();
    assert!(gone.check().is_ok(), "{}", gone.describe());
    assert!(registered_aors(&pbx).is_empty());
}

#[test]
fn repeated_failed_authentication_bans_the_address() {
    if !enabled("ban_after_failures") {
        return;
    }
    let pbx = Pbx::start(
        "ban_after_failures",
        "[sip.ban]\nmax_failures = 3\nwindow_secs = 60\nban_secs = 600",
    );
    for attempt in 0..3 {
        let bad = pbx
            .sipp(0, &format!("bad-{attempt}"), "register_bad.xml")
            .service("1001")
            .auth("1001", "nope");
        let bad = bad.run().unwrap();
        assert_eq!(
            bad.log_lines("REJECTED 403").count(),
            1,
            "{}",
            bad.describe()
        );
    }
    // Now even the right password is refused, before any challenge.
    let banned = pbx
        .sipp(1, "uac", "uac_expect.xml")
        .service("1002")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .set("expect", 403)
        .timeout(Duration::from_secs(15))
        .run()
        .unwrap();
    assert!(banned.check().is_ok(), "{}", banned.describe());
    assert_eq!(pbx.metric("centrala_banned_addresses"), 1.0);
    let log = std::fs::read_to_string(pbx.dir.join("centrala-1.err")).unwrap_or_default();
    assert!(
        log.contains("banning address") && log.contains("127.0.0.1"),
        "ban not logged:\n{log}"
    );
}

#[test]
fn registrations_survive_a_crash() {
    if !enabled("registrations_survive_a_crash") {
        return;
    }
    let mut pbx = Pbx::start("registrations_survive_a_crash", "");
    pbx.register(1, "1002");
    pbx.centrala.kill9();
    pbx.centrala.restart().unwrap();
    assert_eq!(registered_aors(&pbx), ["1002"]);
    // The restored binding is used: a call reaches the phone.
    let uas = pbx.answering_phone(1, 1);
    pbx.call_from_1001("1002", 1);
    assert!(uas.wait().unwrap().check().is_ok());
}
