//! What the carrier sees: calls out through a trunk present a configured number (the call's
//! own over its queue's over the trunk's), with P-Asserted-Identity where the trunk wants it,
//! and never the agent's extension. The carrier is SIPp on 127.0.0.2, whose scenario fails the
//! call when the INVITE's `From` or `P-Asserted-Identity` is not the expected one
//! (`Sipp::invite_header`).

use crate::common::sipp::Sipp;
use crate::support::{CARRIER_IP, TOKEN, enabled};
use crate::{callbacks, click_to_dial};

const TRUNK_NUMBER: &str = "+48221234567";
const QUEUE_NUMBER: &str = "+48221234500";
/// The trunk presents its number with a name and asserts it.
const TRUNK_WITH_PAI: &str =
    "caller_id = \"+48221234567\"\ncaller_name = \"Centrala\"\np_asserted_identity = true";
/// The sales queue of `callbacks::PLAN`, presenting its own number.
const SALES_WITH_NUMBER: &str = "[[queues]]\nname = \"sales\"\nskills = { sales = 1 }\n\
    caller_id = \"+48221234500\"\ncaller_name = \"Sales\"\n";

/// A regexp for the header value `"name" <sip:number@127.0.0.2:port>` (no name: `None`).
fn identity(name: Option<&str>, user: &str) -> String {
    let name = name.map(|n| format!("\"{n}\" ")).unwrap_or_default();
    let user = user.replace('+', "\\+");
    let host = CARRIER_IP.replace('.', "\\.");
    format!("^ *{name}<sip:{user}@{host}:[0-9]+>")
}

/// The carrier checks that `From` and `P-Asserted-Identity` both show `name` and `number`.
fn expects_asserted(carrier: Sipp, name: &str, number: &str) -> Sipp {
    let expected = identity(Some(name), number);
    carrier
        .invite_header("From", &expected)
        .invite_header("P-Asserted-Identity", &expected)
}

#[test]
fn a_callback_presents_the_trunk_number_with_pai() {
    if !enabled("caller_id_callback") {
        return;
    }
    let pbx = callbacks::pbx_with("caller_id_callback", TRUNK_WITH_PAI, "");
    callbacks::customer_keeps_place(&pbx);
    let carrier = expects_asserted(pbx.carrier_hanging_up(), "Centrala", TRUNK_NUMBER);
    callbacks::agent_and_customer_answer(&pbx, carrier);
}

#[test]
fn a_callback_presents_its_queue_number_over_the_trunks() {
    if !enabled("caller_id_queue") {
        return;
    }
    let pbx = callbacks::pbx_with("caller_id_queue", TRUNK_WITH_PAI, SALES_WITH_NUMBER);
    callbacks::customer_keeps_place(&pbx);
    let carrier = expects_asserted(pbx.carrier_hanging_up(), "Sales", QUEUE_NUMBER);
    callbacks::agent_and_customer_answer(&pbx, carrier);
}

#[test]
fn click_to_dial_presents_the_requested_number_over_the_queues() {
    if !enabled("caller_id_click_to_dial") {
        return;
    }
    let pbx = click_to_dial::pbx_with("caller_id_c2d", TRUNK_WITH_PAI, SALES_WITH_NUMBER);
    pbx.register(1, "1001");
    let agent = "agent-1001-token";
    for (body, status) in [
        (r#""caller_id":"+4822 555""#, 400),
        (r#""caller_id":"+48225550000","caller_name":"A\"B""#, 400),
        (r#""caller_name":"Anna""#, 400),
        (r#""queue":"nosuch""#, 400),
        // An agent may only present a number a trunk or a queue presents.
        (r#""caller_id":"+48225550000""#, 403),
    ] {
        let request = format!(r#"{{"agent":"1001","number":"555",{body}}}"#);
        let (got, answer) = pbx.api_post(agent, "/api/v1/calls", &request);
        assert_eq!(got, status, "{request}: {answer}");
    }
    let body = r#"{"agent":"1001","number":"555","queue":"sales",
                   "caller_id":"+48225550000","caller_name":"Anna"}"#;
    let carrier = expects_asserted(pbx.carrier_hanging_up(), "Anna", "+48225550000");
    click_to_dial::dial_and_answer(&pbx, TOKEN, body, carrier);
}

#[test]
fn a_trunk_without_a_number_or_pai_presents_its_account_not_the_extension() {
    if !enabled("caller_id_account") {
        return;
    }
    let pbx = click_to_dial::pbx_with("caller_id_account", "username = \"acct\"", "");
    pbx.register(1, "1001");
    let carrier = pbx
        .carrier_hanging_up()
        .invite_header("From", &identity(None, "acct"))
        .no_invite_header("P-Asserted-Identity")
        .no_invite_header("Privacy");
    let body = r#"{"agent":"1001","number":"555"}"#;
    click_to_dial::dial_and_answer(&pbx, "agent-1001-token", body, carrier);
}

#[test]
fn an_extension_dialling_out_presents_the_trunk_number() {
    if !enabled("caller_id_dial_out") {
        return;
    }
    let outbound = "dial_prefix = \"0\"\ncaller_id = \"+48221234567\"";
    let pbx = click_to_dial::pbx_with("caller_id_dial_out", outbound, "");
    let carrier = pbx
        .sipp(2, "carrier", "uas_answer.xml")
        .local_ip(CARRIER_IP)
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(2)
        .invite_header("From", &identity(None, TRUNK_NUMBER))
        .no_invite_header("P-Asserted-Identity")
        .spawn()
        .unwrap();
    pbx.call_from_1001("0555", 1);
    let carrier = carrier.wait().unwrap();
    assert!(carrier.check().is_ok(), "{}", carrier.describe());
}
