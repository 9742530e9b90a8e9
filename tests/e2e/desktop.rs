//! The agent desktop: a real agent's day in headless Chromium (Debian's, driven by
//! playwright-core from `tests/browser/desktop.js`) against the real binary, with the call
//! made and answered by SIPp (the agent's desk phone), and the session rules of the sign-in
//! (cookie, CSRF, per-account lockout) checked over plain HTTP.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::centrala::http_exchange;
use crate::queues::PLAN;
use crate::support::{Pbx, dialplan_dir, enabled, repo};

fn pbx(test: &str) -> Pbx {
    let dir = dialplan_dir(test, &[("plan.yaml", PLAN)]);
    Pbx::start_with_dialplan(test, "", "", &dir)
}

#[test]
fn an_agent_takes_a_queued_call_on_the_desktop_and_wraps_it_up() {
    if !enabled("desktop_agent") {
        return;
    }
    let pbx = pbx("desktop_agent");
    pbx.register(1, "1002");
    let out = pbx.dir.join("browser");
    let base = format!("http://{}", pbx.centrala.http());
    let mut driver = Command::new("node")
        .arg(repo("tests/browser/desktop.js"))
        .args([base.as_str(), "1002", "pw1002"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (scripts/install-test-deps.sh installs it)");
    wait_for_file(&out.join("ready"), &mut driver);

    let phone = pbx.answering_phone(1, 30);
    let caller = pbx
        .sipp(0, "uac", "uac_call.xml")
        .service("8000")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .tone_secs(30)
        .timeout(Duration::from_secs(60))
        .spawn()
        .expect("sipp starts");
    let output = driver.wait_with_output().expect("the driver ends");
    let report = String::from_utf8_lossy(&output.stdout);
    keep_screenshots(&out);
    assert!(
        output.status.success(),
        "the desktop run failed: {report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = (caller.wait(), phone.wait());

    let report: serde_json::Value = serde_json::from_str(report.trim()).expect("the driver's JSON");
    let seen = report["offer_text"].as_str().unwrap_or_default();
    assert!(seen.contains("1001"), "the page showed the caller: {seen}");
    let cdr = &pbx.cdrs(1)[0];
    assert_eq!(
        cdr["hangup_cause"].as_str(),
        Some("api_hangup"),
        "hung up from the page: {cdr}"
    );
    let dispositions = pbx.query_until(
        "SELECT code || '|' || agent || '|' || note FROM dispositions",
        1,
    );
    assert_eq!(dispositions, ["resolved|1002|asked about the invoice"]);
}

#[test]
fn sessions_need_their_cookie_and_csrf_token_and_lock_per_account() {
    if !enabled("desktop_session") {
        return;
    }
    let pbx = pbx("desktop_session");
    let http = pbx.centrala.http();
    let login = |ext: &str, pw: &str| {
        exchange(
            http,
            "POST",
            "/auth/login",
            &[("Content-Type", "application/json")],
            &format!(r#"{{"extension":"{ext}","password":"{pw}"}}"#),
        )
    };

    let (status, head, body) = login("1002", "pw1002");
    assert_eq!(status, 200, "{body}");
    let cookie = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .expect("a session cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let csrf = serde_json::from_str::<serde_json::Value>(&body).unwrap()["csrf"]
        .as_str()
        .unwrap()
        .to_string();

    let me = "/api/v1/agents/1002";
    let (status, _, _) = exchange(http, "GET", me, &[("Cookie", &pair)], "");
    assert_eq!(status, 200, "the cookie signs API reads in");
    let forged = "centrala_session=ctk_forged";
    assert_eq!(exchange(http, "GET", me, &[("Cookie", forged)], "").0, 401);
    let log_in = "/api/v1/agents/1002/login";
    let (status, _, answer) = exchange(http, "POST", log_in, &[("Cookie", &pair)], "");
    assert_eq!(status, 403, "a change without the CSRF token: {answer}");
    let with_csrf = [("Cookie", pair.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let (status, _, answer) = exchange(http, "POST", log_in, &with_csrf, "");
    assert_eq!(status, 200, "{answer}");
    let other = "/api/v1/agents/1003/login";
    let (status, _, _) = exchange(http, "POST", other, &with_csrf, "");
    assert_eq!(status, 403, "only its own agent");

    for _ in 0..5 {
        assert_eq!(login("1003", "wrong").0, 401);
    }
    assert_eq!(
        login("1003", "wrong").0,
        429,
        "the sixth failure locks 1003"
    );
    assert_eq!(
        login("1003", "pw1003").0,
        429,
        "even with the right password, for a while"
    );
    assert_eq!(
        login("1001", "pw1001").0,
        200,
        "others on the same address are not"
    );

    let out = [("Cookie", pair.as_str()), ("X-CSRF-Token", csrf.as_str())];
    assert_eq!(exchange(http, "DELETE", "/auth/session", &out, "").0, 204);
    assert_eq!(
        exchange(http, "GET", me, &[("Cookie", &pair)], "").0,
        401,
        "signed out"
    );
    let (status, _, page) = exchange(http, "GET", "/", &[], "");
    assert!(
        status == 200 && page.contains("/assets/signin.js"),
        "{status}"
    );
}

/// Waits for `file` (the driver's "ready"), failing early if the driver died.
fn wait_for_file(file: &Path, driver: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !file.exists() {
        if let Ok(Some(status)) = driver.try_wait() {
            let mut out = String::new();
            if let Some(mut s) = driver.stdout.take() {
                let _ = s.read_to_string(&mut out);
            }
            panic!("the desktop driver ended early ({status}): {out}");
        }
        assert!(
            Instant::now() < deadline,
            "the desktop was not ready within 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Copies the run's screenshots to `target/e2e-artifacts/desktop/` (kept after the test).
fn keep_screenshots(from: &Path) {
    let to = repo("target/e2e-artifacts/desktop");
    let _ = std::fs::create_dir_all(&to);
    for name in ["signin.png", "desktop.png", "screen-pop.png", "wrap-up.png"] {
        let _ = std::fs::copy(from.join(name), to.join(name));
    }
}

/// One HTTP/1.1 request: (status, head, body).
fn exchange(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    http_exchange(addr, method, path, headers, body).expect("the HTTP exchange")
}
