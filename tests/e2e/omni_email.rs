//! E-mail end to end: Python's `smtplib` sends into Centrala's SMTP listener; the mail
//! becomes a conversation and a task in the support queue; the agent replies through the
//! API and the reply is written as a threaded `.eml` (Message-ID, In-Reply-To, References,
//! subject tag, quote); the customer's answer to it joins the same conversation; an
//! auto-reply and a bounce are recorded but not routed; an oversized attachment, a malformed
//! message and an unknown mailbox are refused with clear SMTP errors.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::centrala::{http_get, http_request};
use crate::common::ports::PortBlock;
use crate::support::{Pbx, TOKEN, agent_token, enabled, repo};

/// Sends `message` (RFC 5322 text) from `from` to `to` with smtplib; prints
/// `{"ok": true}` or `{"code": N, "message": "..."}`.
const SEND_PY: &str = r#"
import json, smtplib, sys
port, sender, rcpt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
data = open(path, "rb").read()
try:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.sendmail(sender, [rcpt], data)
    print(json.dumps({"ok": True}))
except smtplib.SMTPRecipientsRefused as e:
    code, msg = list(e.recipients.values())[0]
    print(json.dumps({"code": code, "message": msg.decode()}))
except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as e:
    print(json.dumps({"code": e.smtp_code, "message": e.smtp_error.decode()}))
"#;

fn send(dir: &Path, port: u16, name: &str, from: &str, to: &str, message: &str) -> Value {
    let script = dir.join("send.py");
    std::fs::write(&script, SEND_PY).unwrap();
    let file = dir.join(format!("{name}.eml"));
    std::fs::write(&file, message.replace('\n', "\r\n")).unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .arg(port.to_string())
        .args([from, to])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

fn request(pbx: &Pbx, token: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (status, answer) =
        http_request(pbx.centrala.http(), method, path, &headers, body).expect("API answers");
    (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
}

fn get(pbx: &Pbx, path: &str) -> Value {
    let (status, body) = request(pbx, TOKEN, "GET", path, "");
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

fn wait_for(pbx: &Pbx, path: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = get(pbx, path);
        if check(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "GET {path} never matched: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn mail_becomes_a_task_the_reply_threads_and_automatic_or_bad_mail_is_not_routed() {
    if !enabled("omni_email") {
        return;
    }
    let ports = PortBlock::claim();
    let smtp = ports.port(7);
    let extra = format!(
        "[email]\nlisten = \"127.0.0.1:{smtp}\"\nmax_attachment_bytes = 2000\n\
         signature = \"Centrala demo support\"\n{}",
        agent_token("1002")
    );
    let pbx = Pbx::start_in(ports, "omni_email", "", &extra, &repo("dialplans"));
    let dir = pbx.dir.path().to_path_buf();
    let agent = "agent-1002-token";
    assert_eq!(
        request(&pbx, agent, "POST", "/api/v1/agents/1002/login", "").0,
        200
    );

    // A customer writes to support: a conversation and a task in the support queue.
    let first = "From: Anna Nowak <anna@example.com>\nTo: support@centrala.test\n\
                 Subject: Order 17\nMessage-ID: <m1@example.com>\n\nWhere is my order 17?\n";
    let sent = send(
        &dir,
        smtp,
        "first",
        "anna@example.com",
        "support@centrala.test",
        first,
    );
    assert_eq!(sent["ok"], true, "{sent}");
    let listed = wait_for(&pbx, "/api/v1/conversations?channel=email", |l| {
        l["items"][0]["task_id"].is_string()
    });
    let conversation = listed["items"][0].clone();
    let id = conversation["id"].as_str().unwrap().to_string();
    assert_eq!(conversation["queue"], "support");
    assert_eq!(conversation["peer"], "anna@example.com");
    let task = conversation["task_id"].as_str().unwrap().to_string();
    let offered = wait_for(&pbx, &format!("/api/v1/tasks/{task}"), |t| {
        t["state"] == "offered"
    });
    assert_eq!(
        (offered["channel"].as_str(), offered["agent"].as_str()),
        (Some("email"), Some("1002"))
    );
    // First response due within 6 hours of the queue's business hours (always open here).
    let due = offered["deadline_ms"].as_i64().unwrap() - offered["arrived_at_ms"].as_i64().unwrap();
    assert!(
        (6 * 3600 - 1) * 1000 < due && due <= 6 * 3600 * 1000,
        "{offered}"
    ); // whole seconds
    assert_eq!(
        request(
            &pbx,
            agent,
            "POST",
            &format!("/api/v1/tasks/{task}/accept"),
            ""
        )
        .0,
        200
    );

    // The agent's reply: a threaded .eml in data/mail-out.
    let messages = format!("/api/v1/conversations/{id}/messages");
    let (status, reply) = request(
        &pbx,
        agent,
        "POST",
        &messages,
        r#"{"text":"It left today."}"#,
    );
    assert_eq!(
        (status, reply["status"].as_str()),
        (201, Some("sent")),
        "{reply}"
    );
    let reply_id = reply["external_id"].as_str().unwrap().to_string();
    let eml = dir
        .join("data/mail-out")
        .join(format!("{}.eml", reply["id"].as_str().unwrap()));
    let text = std::fs::read_to_string(&eml).expect("the reply is written as .eml");
    for wanted in [
        format!("Message-ID: <{reply_id}>"),
        "In-Reply-To: <m1@example.com>".to_string(),
        "References: <m1@example.com>".to_string(),
        format!("Subject: Re: Order 17 [#{id}]"),
        "To: <anna@example.com>".to_string(),
        "> Where is my order 17?".to_string(),
        "Centrala demo support".to_string(),
        "X-Centrala-Loop: centrala.test".to_string(),
    ] {
        assert!(text.contains(&wanted), "{wanted:?} missing from:\n{text}");
    }

    // The customer answers the reply: the same conversation, the same task.
    let answer = format!(
        "From: anna@example.com\nTo: support@centrala.test\nSubject: Re: Order 17 [#{id}]\n\
         Message-ID: <m2@example.com>\nIn-Reply-To: <{reply_id}>\nReferences: <m1@example.com> <{reply_id}>\n\n\
         Thank you!\n"
    );
    assert_eq!(
        send(
            &dir,
            smtp,
            "answer",
            "anna@example.com",
            "support@centrala.test",
            &answer
        )["ok"],
        true
    );
    let thread = wait_for(&pbx, &messages, |m| {
        m["items"].as_array().unwrap().len() == 3
    });
    assert_eq!(thread["items"][2]["body"], "Thank you!");
    let listed = get(&pbx, "/api/v1/conversations?channel=email");
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["task_id"], task.as_str());

    // An auto-reply and a bounce are recorded, not routed.
    let auto = "From: bob@example.com\nTo: sales@centrala.test\nSubject: Out of office\n\
                Auto-Submitted: auto-replied\nMessage-ID: <ooo@example.com>\n\nI am away.\n";
    assert_eq!(
        send(
            &dir,
            smtp,
            "auto",
            "bob@example.com",
            "sales@centrala.test",
            auto
        )["ok"],
        true
    );
    let bounce = "From: MAILER-DAEMON@example.com\nTo: support@centrala.test\nSubject: Undelivered\n\
                  Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n\
                  --b\nContent-Type: text/plain\n\nDelivery failed.\n\
                  --b\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--b--\n";
    assert_eq!(
        send(&dir, smtp, "bounce", "", "support@centrala.test", bounce)["ok"],
        true
    );
    let all = wait_for(&pbx, "/api/v1/conversations?channel=email", |l| {
        l["items"].as_array().unwrap().len() == 3
    });
    for c in all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] != id.as_str())
    {
        assert!(c["task_id"].is_null(), "automatic mail was routed: {c}");
        let m = get(
            &pbx,
            &format!(
                "/api/v1/conversations/{}/messages",
                c["id"].as_str().unwrap()
            ),
        );
        assert_eq!(m["items"][0]["status"], "recorded", "{m}");
    }

    // Refusals: an oversized attachment, a malformed message, an unknown mailbox.
    let big = format!(
        "From: anna@example.com\nTo: support@centrala.test\nSubject: photo\n\
         Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee\n\
         --b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=photo.bin\n\n{}\n--b--\n",
        "x".repeat(3000)
    );
    let refused = send(
        &dir,
        smtp,
        "big",
        "anna@example.com",
        "support@centrala.test",
        &big,
    );
    assert_eq!(refused["code"], 552, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("photo.bin"),
        "{refused}"
    );
    let malformed = send(
        &dir,
        smtp,
        "bad",
        "x@example.com",
        "support@centrala.test",
        "\u{1}\u{2}garbage\n",
    );
    assert_eq!(malformed["code"], 554, "{malformed}");
    let unknown = send(
        &dir,
        smtp,
        "nobody",
        "anna@example.com",
        "nobody@centrala.test",
        first,
    );
    assert_eq!(unknown["code"], 550, "{unknown}");
    assert_eq!(http_get(pbx.centrala.http(), "/healthz").unwrap().0, 200);
    assert_eq!(
        get(&pbx, "/api/v1/conversations?channel=email")["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
