//! Safe defaults end to end: a config file that sets only an admin token brings back nothing
//! of the demo (no demo API token, no demo SIP password), `/metrics` asks for its bearer token
//! when one is set, and `centrala check` warns about weak secrets and an open `/metrics`.

use std::process::Command;

use crate::common::centrala::{Centrala, centrala_bin, http_get_with};
use crate::common::ports::PortBlock;
use crate::common::process::TestDir;
use crate::common::sipp::Sipp;
use crate::support::{enabled, repo};

const ADMIN: &str = "e2e-admin-Zq8vT3mLp0x";
const METRICS: &str = "e2e-metrics-Hk29sQeVb4r";

#[test]
fn a_config_file_leaves_no_demo_credential_and_guards_metrics() {
    if !enabled("safe_defaults") {
        return;
    }
    let ports = PortBlock::claim();
    let dir = TestDir::new("safe_defaults").unwrap();
    let sip = format!("127.0.0.1:{}", ports.sip());
    let http: std::net::SocketAddr = format!("127.0.0.1:{}", ports.http()).parse().unwrap();
    let (rtp_min, rtp_max) = ports.rtp_range();
    let config = format!(
        "[sip]\nlisten = \"{sip}\"\n\
         [http]\nlisten = \"{http}\"\napi_token = \"{ADMIN}\"\nmetrics_token = \"{METRICS}\"\n\
         [media]\nbind_ip = \"127.0.0.1\"\nrtp_port_min = {rtp_min}\nrtp_port_max = {rtp_max}\n\
         sounds_dir = \"{sounds}\"\n[dialplan]\ndir = \"{plans}\"\n\
         [database]\nurl = \"sqlite://data/centrala.db\"\n",
        sounds = repo("sounds").display(),
        plans = repo("dialplans").display(),
    );
    let centrala = Centrala::start(&dir, config, http).expect("centrala starts");
    let get = |path: &str, token: &str| {
        let auth = format!("Bearer {token}");
        http_get_with(http, path, &[("Authorization", &auth)])
            .expect("HTTP answers")
            .0
    };
    assert_eq!(
        get("/api/v1/agents", ADMIN),
        200,
        "the configured token works"
    );
    for demo in [
        "demo-admin-token",
        "demo-supervisor-token",
        "demo-integration-token",
        "demo-agent-1001-token",
    ] {
        assert_eq!(get("/api/v1/agents", demo), 401, "{demo} must not exist");
    }
    assert_eq!(
        centrala.get("/metrics").unwrap().0,
        401,
        "no token, no metrics"
    );
    assert_eq!(get("/metrics", "wrong"), 401);
    assert_eq!(get("/metrics", METRICS), 200);

    // The demo's SIP password does not register 1001: there is no 1001.
    let bad = Sipp::new(dir.path(), "register_demo", "register_bad.xml")
        .remote(&sip)
        .peer_ports(ports.peer(0))
        .service("1001")
        .auth("1001", "demo1001")
        .timeout(std::time::Duration::from_secs(30))
        .calls(1)
        .run()
        .unwrap();
    assert!(bad.check().is_ok(), "{}", bad.describe());
    assert_eq!(bad.log_lines("ACCEPTED").count(), 0, "{}", bad.describe());
}

#[test]
fn check_warns_about_weak_secrets_and_an_open_metrics() {
    if !enabled("check_warnings") {
        return;
    }
    let dir = TestDir::new("check_warnings").unwrap();
    let config = dir.join("weak.toml");
    std::fs::write(
        &config,
        format!(
            "[http]\nlisten = \"0.0.0.0:8080\"\napi_token = \"admin\"\n\
             [[extensions]]\nnumber = \"1001\"\npassword = \"1001\"\n\
             [dialplan]\ndir = \"{}\"\n[media]\nsounds_dir = \"{}\"\n",
            repo("dialplans").display(),
            repo("sounds").display()
        ),
    )
    .unwrap();
    let out = Command::new(centrala_bin())
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "warnings do not fail the check: {stderr}"
    );
    assert!(
        stderr.contains("warning: http.api_token is easy to guess"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: extension 1001: the SIP password is easy to guess"),
        "{stderr}"
    );
    assert!(stderr.contains("warning: /metrics is open"), "{stderr}");
}
