//! Carrier trunks: a carrier (SIPp on 127.0.0.2) calls in without digest, an extension dials
//! out through the trunk (answering the carrier's challenge), and Centrala keeps a
//! registration with the carrier.

use std::time::{Duration, Instant};

use crate::support::{Pbx, enabled};

const CARRIER_IP: &str = "127.0.0.2";

/// The trunk section; the carrier listens on `proxy_port` of 127.0.0.2.
fn trunk_config(proxy_port: u16, register: bool) -> String {
    format!(
        "[[trunks]]\nname = \"carrier\"\ninbound_ips = [\"{CARRIER_IP}\"]\n\
         [trunks.outbound]\nproxy = \"{CARRIER_IP}:{proxy_port}\"\nusername = \"acct\"\n\
         password = \"trunkpw\"\ndial_prefix = \"0\"\nregister = {register}\n"
    )
}

/// The carrier's SIP port: peer slot 2 of the PBX's port block.
fn carrier_port(pbx: &Pbx) -> u16 {
    pbx.peer(2).sip
}

#[test]
fn carrier_calls_in_without_digest() {
    if !enabled("trunk_inbound") {
        return;
    }
    // Inbound needs no proxy; the port is a placeholder.
    let pbx = Pbx::start_full("trunk_inbound", "", &trunk_config(9, false));
    pbx.register(1, "1002");
    let uas = pbx.answering_phone(1, 1);
    let uac = pbx
        .sipp(0, "carrier", "uac_call.xml")
        .local_ip(CARRIER_IP)
        .service("1002")
        .key("caller", "48221234567")
        .tone_secs(1)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    assert!(uas.wait().unwrap().check().is_ok());
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(
        (cdr["origin"].as_str(), cdr["caller"].as_str()),
        (Some("trunk:carrier"), Some("48221234567"))
    );
}

#[test]
fn extension_dials_out_through_the_trunk_with_digest() {
    if !enabled("trunk_outbound") {
        return;
    }
    // The trunk's proxy port must be in the config before the PBX starts: start once to
    // learn the block, then restart with the real config.
    let mut pbx = Pbx::start_full("trunk_outbound", "", "");
    let carrier = carrier_port(&pbx);
    let config = std::fs::read_to_string(pbx.dir.join("centrala.toml")).unwrap()
        + &trunk_config(carrier, false);
    std::fs::write(pbx.dir.join("centrala.toml"), config).unwrap();
    pbx.centrala.restart().unwrap();
    let uas = pbx
        .sipp(2, "carrier", "uas_challenge.xml")
        .local_ip(CARRIER_IP)
        .set("pt", 0)
        .set("codec", "PCMU")
        .set("user", "acct")
        .set("pass", "trunkpw")
        .media_secs(1)
        .spawn()
        .unwrap();
    let uac = pbx
        .sipp(0, "uac", "uac_call.xml")
        .service("0221234567")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .tone_secs(1)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    let uas = uas.wait().unwrap();
    assert_eq!(uas.log_lines("AUTH-OK").count(), 1, "{}", uas.describe());
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(
        (cdr["callee"].as_str(), cdr["result"].as_str()),
        (Some("221234567"), Some("answered"))
    );
}

#[test]
fn centrala_registers_with_the_carrier() {
    if !enabled("trunk_registration") {
        return;
    }
    let mut pbx = Pbx::start_full("trunk_registration", "", "");
    let carrier = carrier_port(&pbx);
    let registrar = pbx
        .sipp(2, "carrier", "registrar.xml")
        .local_ip(CARRIER_IP)
        .set("user", "acct")
        .set("pass", "trunkpw")
        .timeout(Duration::from_secs(20))
        .spawn()
        .unwrap();
    let config = std::fs::read_to_string(pbx.dir.join("centrala.toml")).unwrap()
        + &trunk_config(carrier, true);
    std::fs::write(pbx.dir.join("centrala.toml"), config).unwrap();
    pbx.centrala.restart().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !registrar.log_so_far().contains("AUTH-OK") {
        assert!(
            Instant::now() < deadline,
            "no authenticated REGISTER at the carrier:\n{}",
            registrar.log_so_far()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(registrar);
}
