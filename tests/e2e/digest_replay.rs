//! Digest replay end to end: 1001 registers with SIPp (a real digest exchange); an attacker
//! who captured that REGISTER's `Authorization` header sends it again from another address
//! with their own Contact. Centrala refuses it (the nonce-count was used), and 1001's
//! registration still points at 1001's phone.

use std::time::Duration;

use crate::support::{Pbx, enabled};

/// The `Authorization` header line of the last REGISTER in SIPp's message trace.
fn captured_authorization(messages: &str) -> String {
    messages
        .lines()
        .map(str::trim)
        .rfind(|l| l.starts_with("Authorization:"))
        .expect("the REGISTER carried credentials")
        .to_string()
}

#[test]
fn a_captured_register_authorization_cannot_be_replayed() {
    if !enabled("digest_replay") {
        return;
    }
    let pbx = Pbx::start("digest_replay", "");
    let victim = pbx
        .sipp(0, "victim", "register.xml")
        .service("1001")
        .auth("1001", "pw1001")
        .set("expires", 300)
        .run()
        .unwrap();
    assert!(victim.check().is_ok(), "{}", victim.describe());
    let trace = victim_trace(&pbx);
    let header = captured_authorization(&trace);

    let attacker = pbx
        .sipp(1, "attacker", "register_replay.xml")
        .service("1001")
        .key("captured", &header)
        .timeout(Duration::from_secs(20))
        .run()
        .unwrap();
    assert!(attacker.check().is_ok(), "{}", attacker.describe());
    assert_eq!(
        attacker.log_lines("REFUSED ").count(),
        1,
        "{}",
        attacker.describe()
    );

    let victim_port = pbx.peer(0).sip;
    let registrations = pbx.api("/api/v1/registrations");
    let contacts: Vec<&str> = registrations["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["contact"].as_str().unwrap())
        .collect();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert!(
        contacts[0].contains(&format!(":{victim_port}")),
        "1001 still rings the victim's phone: {contacts:?}"
    );
}

fn victim_trace(pbx: &Pbx) -> String {
    let path = pbx.dir.join("victim").join("victim.messages.log");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
