//! Dialplans on real calls: a SIPp caller walks a menu with RFC 4733 digits, reaches the
//! extension its key dials, or is hung up on after an invalid key or silence; a broken
//! dialplan is refused by `centrala check` with file:line, and a broken reload changes nothing;
//! a `transfer` to an external number goes out through the carrier trunk (or, refused, takes
//! its failure branch). The demo dialplan itself is walked in `demo.rs`.

use std::path::PathBuf;
use std::time::Duration;

use crate::common::capture::Capture;
use crate::common::sipp::Sipp;
use crate::support::{self, Pbx, dialplan_dir, enabled, repo};

/// Menu on 6000: 1 dials 1002, anything else or silence says goodbye and hangs up.
const MENU: &str = r#"languages: [en]
routes:
  - number: "6000"
    flow: main
flows:
  main:
    steps:
      - answer
      - id: menu
        menu:
          prompts: [main_menu]
          options: { "1": agent }
          timeout: 2s
          retries: 1
          on_invalid: bye
          on_timeout: bye
      - id: agent
        dial: { extension: "1002", timeout: 10s, on_failure: bye }
      - id: bye
        play: [goodbye]
      - hangup
"#;

/// A PBX whose dialplan directory holds `MENU`, with the project's prompts.
pub(crate) fn pbx_with_menu(test: &str) -> (Pbx, PathBuf) {
    let dir = dialplan_dir(test, &[("menu.yaml", MENU)]);
    let pbx = Pbx::start_with_dialplan(test, "", "", &dir);
    (pbx, dir)
}

/// An IVR caller (1001) to 6000 that keys `digits` after `wait_ms`, talks for `talk_ms`
/// and hangs up.
fn ivr_caller(pbx: &Pbx, digits: &str, wait_ms: u32, talk_ms: u32) -> Sipp {
    let sipp = pbx
        .sipp(0, "caller", "uac_ivr.xml")
        .set("talk_ms", talk_ms)
        .media_secs(talk_ms / 1000 + 1);
    with_keys(sipp, digits, wait_ms)
}

/// An IVR caller that keys `digits` after `wait_ms` and then waits to be hung up on.
fn ivr_caller_hung_up(pbx: &Pbx, digits: &str, wait_ms: u32) -> Sipp {
    with_keys(
        pbx.sipp(0, "caller", "uac_ivr_wait_bye.xml"),
        digits,
        wait_ms,
    )
}

fn with_keys(sipp: Sipp, digits: &str, wait_ms: u32) -> Sipp {
    support::with_keys(sipp, "6000", digits, wait_ms)
}

#[test]
fn menu_key_1_reaches_the_extension_and_bridges_audio() {
    if !enabled("ivr_menu_dial") {
        return;
    }
    let (pbx, _dir) = pbx_with_menu("ivr_menu_dial");
    let (caller, callee) = (pbx.peer(0), pbx.peer(1));
    pbx.register(1, "1002");
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    let uas = pbx
        .sipp(1, "uas", "uas_answer.xml")
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(8);
    let uas = uas.spawn().unwrap();
    let uac = ivr_caller(&pbx, "1", 1500, 4000).run().unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    assert!(uas.wait().unwrap().check().is_ok());
    let pcap = capture.stop().unwrap();
    let to_caller = pcap.rtp_to(caller.media);
    let to_callee = pcap.rtp_to(callee.media);
    assert!(
        to_caller.audio_seconds() >= 1.0,
        "the caller heard the menu: {:?}",
        to_caller.packets_by_pt
    );
    assert!(
        to_caller.tone_seconds(440.0) >= 2.0,
        "the caller heard the agent: {}",
        to_caller.tone_seconds(440.0)
    );
    assert!(
        to_callee.tone_seconds(1000.0) >= 2.0,
        "the agent heard the caller: {}",
        to_callee.tone_seconds(1000.0)
    );
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(
        (cdr["callee"].as_str(), cdr["result"].as_str()),
        (Some("6000"), Some("answered")),
        "{cdr}"
    );
}

#[test]
fn invalid_key_and_silence_end_in_goodbye_and_hang_up() {
    if !enabled("ivr_menu_invalid") {
        return;
    }
    let (pbx, _dir) = pbx_with_menu("ivr_menu_invalid");
    // An invalid key: goodbye, then Centrala hangs up (the caller gets a BYE).
    let invalid = ivr_caller_hung_up(&pbx, "7", 1500).run().unwrap();
    assert!(
        invalid.check().is_ok(),
        "invalid key: {}",
        invalid.describe()
    );
    assert_eq!(
        invalid.log_lines("HUNGUP_BY_REMOTE ").count(),
        1,
        "{}",
        invalid.describe()
    );
    // Silence: the menu times out twice, then goodbye and a hang-up.
    let silent = pbx
        .sipp(1, "silent", "uac_wait_bye.xml")
        .service("6000")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .media_secs(20)
        .timeout(Duration::from_secs(30));
    let silent = silent.run().unwrap();
    assert!(silent.check().is_ok(), "silence: {}", silent.describe());
    assert_eq!(
        silent.log_lines("HUNGUP_BY_REMOTE ").count(),
        1,
        "{}",
        silent.describe()
    );
    for cdr in pbx.cdrs(2) {
        assert_eq!(
            (cdr["hangup_cause"].as_str(), cdr["hangup_side"].as_str()),
            (Some("dialplan_hangup"), Some("system"))
        );
    }
}

#[test]
fn check_reports_a_broken_dialplan_with_file_and_line() {
    if !enabled("dialplan_check") {
        return;
    }
    let broken = MENU.replace("on_invalid: bye", "on_invalid: nowhere");
    let dir = dialplan_dir("check", &[("menu.yaml", &broken)]);
    let config = dir.join("centrala.toml");
    let sounds = repo("sounds");
    std::fs::write(
        &config,
        format!(
            "[dialplan]\ndir = \"{}\"\n[media]\nsounds_dir = \"{}\"\n",
            dir.display(),
            sounds.display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_centrala"))
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "check accepted a broken dialplan: {stderr}"
    );
    let line = MENU.lines().position(|l| l.contains("on_invalid")).unwrap();
    assert!(stderr.contains("menu.yaml:"), "{stderr}");
    assert!(
        stderr.contains("nowhere"),
        "the message names the bad target: {stderr} (line ~{line})"
    );
    let good = std::process::Command::new(env!("CARGO_BIN_EXE_centrala"))
        .args(["check", "--config"])
        .arg(repo("docs/centrala.example.toml"))
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert!(
        good.status.success(),
        "the demo fails check: {}",
        String::from_utf8_lossy(&good.stderr)
    );
}

#[test]
fn a_broken_reload_keeps_the_running_dialplan() {
    if !enabled("dialplan_reload") {
        return;
    }
    let (pbx, dir) = pbx_with_menu("dialplan_reload");
    std::fs::write(dir.join("menu.yaml"), "flows: [this is not a dialplan\n").unwrap();
    let log = pbx.dir.join("centrala-1.err");
    for _ in 0..60 {
        if std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("dialplan reload refused")
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("dialplan reload refused") && text.contains("menu.yaml:"),
        "{text}"
    );
    // New calls still get the old menu: silence leads to goodbye and a hang-up.
    let call = pbx
        .sipp(0, "after-reload", "uac_wait_bye.xml")
        .service("6000")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .media_secs(20)
        .timeout(Duration::from_secs(30))
        .run()
        .unwrap();
    assert!(call.check().is_ok(), "{}", call.describe());
    assert_eq!(
        call.log_lines("HUNGUP_BY_REMOTE ").count(),
        1,
        "{}",
        call.describe()
    );
}

/// 7000 transfers to an external number through the carrier trunk; a failed transfer says
/// goodbye and hangs up.
const TRANSFER: &str = r#"languages: [en]
routes:
  - number: "7000"
    flow: main
flows:
  main:
    steps:
      - answer
      - transfer: { number: "+48227654321", trunk: carrier, on_failure: bye }
      - hangup
      - id: bye
        play: [goodbye]
      - hangup
"#;

const CARRIER_IP: &str = "127.0.0.2";

/// A PBX with `TRANSFER` whose carrier trunk sends to peer slot 2 on 127.0.0.2.
fn pbx_with_transfer(test: &str) -> Pbx {
    let ports = crate::common::ports::PortBlock::claim();
    let dir = dialplan_dir(test, &[("transfer.yaml", TRANSFER)]);
    let trunk = format!(
        "[[trunks]]\nname = \"carrier\"\ninbound_ips = [\"{CARRIER_IP}\"]\n\
         [trunks.outbound]\nproxy = \"{CARRIER_IP}:{}\"\n",
        ports.peer(2).sip
    );
    Pbx::start_in(ports, test, "", &trunk, &dir)
}

#[test]
fn transfer_to_an_external_number_goes_out_through_the_trunk() {
    if !enabled("ivr_transfer_trunk") {
        return;
    }
    let pbx = pbx_with_transfer("ivr_transfer_trunk");
    let capture = Capture::start(pbx.dir.path(), "lo", "lo", &pbx.ports.capture_filter()).unwrap();
    let carrier = pbx
        .sipp(2, "carrier", "uas_answer.xml")
        .local_ip(CARRIER_IP)
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(8)
        .spawn()
        .unwrap();
    pbx.call_from_1001("7000", 4);
    let carrier = carrier.wait().unwrap();
    assert!(carrier.check().is_ok(), "{}", carrier.describe());
    let pcap = capture.stop().unwrap();
    let heard = pcap.rtp_to(pbx.peer(0).media).tone_seconds(440.0);
    assert!(heard >= 2.0, "the caller heard the far end: {heard} s");
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(cdr["result"], "answered", "{cdr}");
}

#[test]
fn a_failed_transfer_takes_the_failure_branch() {
    if !enabled("ivr_transfer_busy") {
        return;
    }
    let pbx = pbx_with_transfer("ivr_transfer_busy");
    let carrier = pbx
        .sipp(2, "carrier", "uas_busy.xml")
        .local_ip(CARRIER_IP)
        .spawn()
        .unwrap();
    let call = pbx
        .sipp(0, "caller", "uac_wait_bye.xml")
        .service("7000")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .media_secs(10)
        .timeout(Duration::from_secs(30))
        .run()
        .unwrap();
    assert!(call.check().is_ok(), "{}", call.describe());
    assert_eq!(
        call.log_lines("HUNGUP_BY_REMOTE ").count(),
        1,
        "{}",
        call.describe()
    );
    assert!(carrier.wait().unwrap().check().is_ok());
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(cdr["hangup_cause"], "dialplan_hangup", "{cdr}");
}
