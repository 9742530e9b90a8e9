//! The OpenAPI document against the running server: schemathesis (pinned, installed by
//! `scripts/install-test-deps.sh`) generates requests from `/api/v1/openapi.json` and checks
//! every answer against it (status codes, content types, schemas, rejection of invalid and
//! acceptance of valid input, no 5xx). Bounded and repeatable: at most 60 examples per
//! operation and phase (about 3,000 requests, ~40 s), loopback only, a fixed seed; no
//! `--max-time`, which would make fuzzing repeat until the budget is spent. Settings:
//! `tests/schemathesis.toml`.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{Pbx, TOKEN, enabled, repo};

/// The schemathesis executable: `$SCHEMATHESIS`, else the install script's virtualenv.
fn schemathesis() -> PathBuf {
    std::env::var_os("SCHEMATHESIS").map_or_else(
        || {
            let venv = std::env::var_os("CENTRALA_TEST_VENV")
                .map_or_else(|| PathBuf::from("/opt/centrala-test-venv"), PathBuf::from);
            venv.join("bin/schemathesis")
        },
        PathBuf::from,
    )
}

#[test]
fn the_running_server_answers_as_its_openapi_document_says() {
    if !enabled("openapi") {
        return;
    }
    let bin = schemathesis();
    assert!(
        bin.exists(),
        "{} is missing: run scripts/install-test-deps.sh",
        bin.display()
    );
    let pbx = Pbx::start("openapi", "");
    let http = pbx.centrala.http();
    let log = pbx.dir.join("schemathesis.log");
    let output = Command::new(&bin)
        .current_dir(pbx.dir.path())
        .arg("--config-file")
        .arg(repo("tests/schemathesis.toml"))
        .args(["--no-color", "run"])
        .arg(format!("http://{http}/api/v1/openapi.json"))
        .args(["--url", &format!("http://{http}")])
        .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
        .args(["--exclude-path", "/api/v1/events"])
        .args(["--max-examples", "60", "--workers", "1", "--seed", "1"])
        .args(["--request-timeout", "10"])
        .output()
        .expect("schemathesis runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(&log, &text).expect("log written");
    assert!(
        output.status.success(),
        "schemathesis found problems (log: {}):\n{}",
        log.display(),
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .take(120)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
