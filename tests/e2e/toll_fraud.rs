//! Toll fraud end to end: 1001 (an agent, default outbound policy) dials out through the
//! carrier trunk. A premium-rate number gets 403 before anything reaches the carrier; with a
//! cap of one outbound call per extension, a second call while the first talks gets 403. The
//! log names neither number in full.

use std::time::Duration;

use crate::common::ports::PortBlock;
use crate::support::{Pbx, enabled, repo};

const CARRIER_IP: &str = "127.0.0.2";

fn pbx(test: &str) -> Pbx {
    let ports = PortBlock::claim();
    let trunk = format!(
        "[[trunks]]\nname = \"carrier\"\ninbound_ips = [\"{CARRIER_IP}\"]\n\
         [trunks.outbound]\nproxy = \"{CARRIER_IP}:{}\"\ndial_prefix = \"0\"\n\
         [outbound]\nmax_concurrent_per_extension = 1\n",
        ports.peer(2).sip
    );
    Pbx::start_in(ports, test, "", &trunk, &repo("dialplans"))
}

fn log_of(pbx: &Pbx) -> String {
    ["centrala-1.out", "centrala-1.err"]
        .iter()
        .map(|f| std::fs::read_to_string(pbx.centrala.dir().join(f)).unwrap_or_default())
        .collect()
}

#[test]
fn a_premium_number_is_refused_with_403() {
    if !enabled("toll_premium") {
        return;
    }
    let pbx = pbx("toll_premium");
    let uac = pbx
        .sipp(0, "premium", "uac_expect.xml")
        .service("0701234567")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .set("expect", 403)
        .timeout(Duration::from_secs(15))
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    assert_eq!(pbx.cdrs(0).len(), 0, "no call reached the carrier");
    let log = log_of(&pbx);
    assert!(log.contains("outbound call refused"), "{log}");
    assert!(
        !log.contains("701234567"),
        "the number is masked in the log:\n{log}"
    );
}

#[test]
fn a_second_call_over_the_extensions_cap_is_refused() {
    if !enabled("toll_cap") {
        return;
    }
    let pbx = pbx("toll_cap");
    let carrier = pbx
        .sipp(2, "carrier", "uas_answer.xml")
        .local_ip(CARRIER_IP)
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(4)
        .spawn()
        .unwrap();
    let first = pbx
        .sipp(0, "first", "uac_call.xml")
        .service("0221234567")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .tone_secs(4)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2000)); // the first call talks now
    let second = pbx
        .sipp(1, "second", "uac_expect.xml")
        .service("0221234568")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .set("expect", 403)
        .timeout(Duration::from_secs(15))
        .run()
        .unwrap();
    assert!(second.check().is_ok(), "{}", second.describe());
    let first = first.wait().unwrap();
    assert!(first.check().is_ok(), "{}", first.describe());
    let _ = carrier.stop(Duration::from_millis(500));
    let log = log_of(&pbx);
    assert!(
        !log.contains("221234567"),
        "numbers are masked in the log:\n{log}"
    );
}
