//! The first run: the demo from a folder that has no `dialplans/` or `sounds/` (its dialplan
//! and prompts come from the binary), and `centrala check` naming the `file:line` of a missing
//! dialplan directory or prompt.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::capture::Capture;
use crate::common::centrala::Centrala;
use crate::common::ports::PortBlock;
use crate::common::process::TestDir;
use crate::common::sipp::Sipp;
use crate::demo::heard;
use crate::support::{enabled, repo};

/// The network settings of a port block, and nothing about dialplans or prompts.
fn bare_config(ports: &PortBlock) -> String {
    let (rtp_min, rtp_max) = ports.rtp_range();
    format!(
        "[sip]\nlisten = \"127.0.0.1:{}\"\n[http]\nlisten = \"127.0.0.1:{}\"\n\
         [media]\nbind_ip = \"127.0.0.1\"\nrtp_port_min = {rtp_min}\nrtp_port_max = {rtp_max}\n",
        ports.sip(),
        ports.http()
    )
}

fn check(dir: &Path, config: &str) -> Output {
    std::fs::write(dir.join("centrala.toml"), config).unwrap();
    Command::new(crate::common::centrala::centrala_bin())
        .current_dir(dir)
        .args(["check", "--config", "centrala.toml"])
        .output()
        .unwrap()
}

#[test]
fn the_demo_started_in_an_empty_folder_answers_5000_with_its_prompts() {
    if !enabled("first_run_empty_folder") {
        return;
    }
    let ports = PortBlock::claim();
    let dir = TestDir::new("first_run_empty_folder").unwrap();
    assert!(!dir.join("dialplans").exists() && !dir.join("sounds").exists());
    let http = format!("127.0.0.1:{}", ports.http()).parse().unwrap();
    // A config file brings no demo extension (security): the caller is configured here.
    let config = bare_config(&ports)
        + "[[extensions]]\nnumber = \"1001\"\npassword = \"first-run-pw-1001\"\n";
    let centrala = Centrala::start(&dir, config, http).unwrap();
    assert!(dir.join("data/demo/dialplans/demo.yaml").is_file());

    let capture = Capture::start(dir.path(), "lo", "lo", &ports.capture_filter()).unwrap();
    let peer = ports.peer(0);
    let call = Sipp::new(dir.path(), "caller", "uac_call.xml")
        .remote(format!("127.0.0.1:{}", ports.sip()))
        .peer_ports(peer)
        .timeout(Duration::from_secs(30))
        .calls(1)
        .service("5000")
        .auth("1001", "first-run-pw-1001")
        .key("caller", "1001")
        .set("secs", 5)
        .run()
        .unwrap();
    let to_caller = capture.stop().unwrap().rtp_to(peer.media);
    assert!(call.check().is_ok(), "{}", call.describe());
    assert!(
        heard(&to_caller, "pl", "welcome"),
        "the caller heard the demo's welcome from the built-in prompts"
    );
    drop(centrala);
}

#[test]
fn check_names_the_line_of_a_missing_dialplan_dir_and_of_a_missing_prompt() {
    if !enabled("first_run_check") {
        return;
    }
    let ports = PortBlock::claim();
    let dir = TestDir::new("first_run_check").unwrap();
    let base = bare_config(&ports);

    let out = check(
        dir.path(),
        &format!("{base}[dialplan]\ndir = \"no-such-dir\"\n"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a missing dialplan dir fails");
    assert!(
        err.contains("centrala.toml:10: dialplan.dir 'no-such-dir' is not a directory"),
        "{err}"
    );

    let plans = dir.join("plans");
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::write(
        plans.join("ivr.yaml"),
        "languages: [en]\nroutes:\n  - number: \"6000\"\n    flow: main\nflows:\n  main:\n\
         \x20   steps:\n      - answer\n      - play: [no_such_prompt]\n      - hangup\n",
    )
    .unwrap();
    let config = format!(
        "{base}sounds_dir = \"{}\"\n[dialplan]\ndir = \"plans\"\n",
        repo("sounds").display()
    );
    let out = check(dir.path(), &config);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a missing prompt fails");
    assert!(
        err.contains("ivr.yaml:9:") && err.contains("no_such_prompt"),
        "{err}"
    );

    let out = check(dir.path(), &base);
    assert!(
        out.status.success(),
        "no dialplan configured: the built-in demo, which is valid: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
