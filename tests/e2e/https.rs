//! HTTPS to the CRM and to webhooks end to end: the real binary against a real TLS server
//! (Python's `http.server` + `ssl`, `tests/stubs/https_stub.py`) whose certificate a test CA
//! signed (made with the `openssl` command line). Trusted through `[cti] ca_file`, the lookup
//! answers and the webhook arrives; signed by a CA nobody trusts, the lookup fails at once
//! with a logged certificate error (the fallback) and the webhook is retried with backoff,
//! never delivered, while the PBX keeps answering.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::centrala::http_get_with;
use crate::common::ports::PortBlock;
use crate::common::process::{Proc, TestDir};
use crate::support::{Pbx, TOKEN, enabled, repo};

/// A CA (`<name>.pem`, `<name>.key`) and a server certificate for 127.0.0.1 it signed
/// (`<name>-server.pem`, `<name>-server.key`), in `dir`.
fn make_ca(dir: &Path, name: &str) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let (ca, ca_key) = (format!("{name}.pem"), format!("{name}.key"));
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend(["-keyout", &ca_key, "-out", &ca, "-days", "2"]);
    let subject = format!("/CN=centrala e2e {name}");
    args.extend(["-subj", &subject]);
    args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    args.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    run(&args);
    let (csr, key, cert) = (
        format!("{name}-server.csr"),
        format!("{name}-server.key"),
        format!("{name}-server.pem"),
    );
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=127.0.0.1"]);
    run(&args);
    let ext = format!("{name}-ext.cnf");
    std::fs::write(
        dir.join(&ext),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         extendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-out",
        &cert,
        "-days",
        "2",
        "-extfile",
        &ext,
    ]);
}

/// The HTTPS stub on `port` with the server certificate of CA `name`; POST bodies go to the
/// returned file.
fn https_stub(dir: &TestDir, port: u16, name: &str) -> (Proc, PathBuf) {
    let received = dir.join("received.jsonl");
    let mut cmd = Command::new("python3");
    cmd.arg(repo("tests/stubs/https_stub.py"))
        .arg(port.to_string())
        .arg(dir.join(format!("{name}-server.pem")))
        .arg(dir.join(format!("{name}-server.key")))
        .arg(&received);
    let proc = Proc::spawn(dir.path(), "https-stub", cmd).expect("python3 starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the HTTPS stub did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (proc, received)
}

/// A PBX whose CRM lookup and webhook point at `https://127.0.0.1:<port>`, trusting CA
/// `trusted` through `[cti] ca_file`, with the stub serving CA `served`'s certificate.
fn setup(test: &str, trusted: &str, served: &str) -> (Pbx, Proc, PathBuf) {
    let ports = PortBlock::claim();
    let certs = TestDir::new(&format!("{test}-certs")).unwrap();
    make_ca(certs.path(), "trusted");
    make_ca(certs.path(), "rogue");
    let port = ports.port(6);
    let (stub, received) = https_stub(&certs, port, served);
    let extra = format!(
        "[cti]\nca_file = \"{ca}\"\nallow_private_webhooks = true\n\
         [[cti.lookups]]\nname = \"crm\"\n\
         url = \"https://127.0.0.1:{port}/customers/by-phone/{{number}}\"\n\
         timeout_ms = 3000\nmapping = {{ name = \"/name\" }}\n\
         [[cti.webhooks]]\nname = \"crm\"\nurl = \"https://127.0.0.1:{port}/hook\"\n\
         secret = \"e2e-webhook-secret-0123456789\"\nevents = [\"agent.state_changed\"]\n\
         [cti.delivery]\ninitial_backoff_ms = 200\nmax_backoff_secs = 1\ntimeout_ms = 2000\n",
        ca = certs.join(format!("{trusted}.pem")).display(),
    );
    let pbx = Pbx::start_in(ports, test, "", &extra, &repo("dialplans"));
    (pbx, stub, received)
}

/// `GET /api/v1/customers/lookup?number=...` with the admin token: status, body, duration.
fn lookup(pbx: &Pbx) -> (u16, String, Duration) {
    let auth = format!("Bearer {TOKEN}");
    let started = Instant::now();
    let (status, body) = http_get_with(
        pbx.centrala.http(),
        "/api/v1/customers/lookup?number=%2B48221112233",
        &[("Authorization", &auth)],
    )
    .expect("API answers");
    (status, body, started.elapsed())
}

fn login_1001(pbx: &Pbx) {
    let (status, body) = pbx.api_post(TOKEN, "/api/v1/agents/1001/login", "");
    assert_eq!(status, 200, "{body}");
}

fn log_of(pbx: &Pbx) -> String {
    let dir = pbx.centrala.dir();
    ["centrala-1.out", "centrala-1.err"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap_or_default())
        .collect()
}

#[test]
fn https_crm_and_webhook_behind_a_trusted_ca_answer() {
    if !enabled("https_trusted") {
        return;
    }
    let (pbx, mut stub, received) = setup("https_trusted", "trusted", "trusted");
    let (status, body, _) = lookup(&pbx);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Anna Nowak"), "{body}");

    login_1001(&pbx);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = std::fs::read_to_string(&received).unwrap_or_default();
        if got.contains("agent.state_changed") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no webhook over HTTPS within 15 s:\n{}",
            log_of(&pbx)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    stub.kill9();
}

#[test]
fn an_untrusted_certificate_is_a_logged_error_and_the_fallback_never_a_hang() {
    if !enabled("https_untrusted") {
        return;
    }
    let (pbx, mut stub, received) = setup("https_untrusted", "trusted", "rogue");
    let (status, body, took) = lookup(&pbx);
    assert_eq!(status, 503, "the lookup fails: {body}");
    assert!(
        body.contains("certificate"),
        "the error names the cause: {body}"
    );
    assert!(took < Duration::from_secs(2), "failed fast, took {took:?}");

    login_1001(&pbx);
    // Retried with backoff (200 ms doubling to 1 s) and never delivered; the PBX still answers.
    std::thread::sleep(Duration::from_secs(4));
    let attempts = pbx.query("SELECT attempts FROM outbox WHERE delivered_at_ms IS NULL");
    assert!(
        attempts.iter().any(|a| a.parse::<u32>().unwrap_or(0) >= 2),
        "the delivery is retried: {attempts:?}"
    );
    assert!(
        std::fs::read_to_string(&received)
            .unwrap_or_default()
            .is_empty()
    );
    let (status, _, _) = lookup(&pbx);
    assert_eq!(status, 503);
    let log = log_of(&pbx);
    assert!(
        log.contains("CRM certificate not trusted"),
        "the lookup's error is logged:\n{log}"
    );
    assert_eq!(
        log.matches("webhook receiver's certificate not trusted")
            .count(),
        1,
        "the webhook's error is logged once:\n{log}"
    );
    stub.kill9();
}
