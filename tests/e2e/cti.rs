//! Data-driven routing: the dialplan asks a CRM (a real HTTP server in the test) about the
//! caller and routes on the answer — an overdue balance reaches collections (1003), anyone
//! else support (1002); a failing CRM sends the caller down the fallback branch.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::common::ports::PortBlock;
use crate::support::{Pbx, dialplan_dir, enabled};

const CARRIER_IP: &str = "127.0.0.2";
const OVERDUE: &str = "+48221112233";
const GOOD_STANDING: &str = "+48225556677";

const PLAN: &str = r#"languages: [en]
routes:
  - trunk: carrier
    dids: ["+48221234567"]
    flow: main
flows:
  main:
    steps:
      - answer
      - lookup:
          name: customer_by_phone
          params: { number: caller.number }
          into: customer
          timeout: 2s
          on_error: support
      - branch:
          - if: "has(customer.debt) && customer.debt.overdue_days > 30"
            goto: collections
          - else: support
      - id: collections
        dial: { extension: "1003", timeout: 10s, on_failure: bye }
      - id: support
        dial: { extension: "1002", timeout: 10s, on_failure: bye }
      - id: bye
        play: [goodbye]
      - hangup
"#;

/// A CRM stub on the test's port block: `/customers/by-phone/<E.164>` answers the overdue
/// customer with a debt, everyone else with 404; a `failing` one answers 500 to everything.
/// It stops (and frees its port for the block's next user) when dropped.
struct Crm {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Crm {
    fn start(ports: &PortBlock, failing: bool) -> Crm {
        let port = ports.port(5);
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => answer(stream, failing),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Crm {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Crm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(stream: std::net::TcpStream, failing: bool) {
    let _ = stream.set_nonblocking(false);
    let mut line = String::new();
    let mut reader = BufReader::new(&stream);
    if reader.read_line(&mut line).is_err() {
        return;
    }
    while let Ok(n) = reader.read_line(&mut String::new()) {
        if n <= 2 {
            break;
        }
    }
    let (status, body) = if failing {
        ("500 Internal Server Error", r#"{"error":"database down"}"#)
    } else if line.contains("%2B48221112233") {
        (
            "200 OK",
            r#"{"name":"Jan Dłużnik","debt":{"overdue_days":45,"balance":-120.5}}"#,
        )
    } else {
        ("404 Not Found", r#"{"error":"no such customer"}"#)
    };
    let mut stream = &stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A PBX on its own port block whose CRM is a stub on the block's spare port. Keep the `Crm`
/// alive for the test (it is dropped before the PBX and its port block).
fn pbx(test: &str, failing_crm: bool) -> (Pbx, Crm) {
    let ports = PortBlock::claim();
    let crm = Crm::start(&ports, failing_crm);
    let dir = dialplan_dir(test, &[("plan.yaml", PLAN)]);
    let extra = format!(
        "[[trunks]]\nname = \"carrier\"\ninbound_ips = [\"{CARRIER_IP}\"]\n\
         [cti]\n[[cti.lookups]]\nname = \"customer_by_phone\"\n\
         url = \"http://127.0.0.1:{}/customers/by-phone/{{number}}\"\n\
         timeout_ms = 1000\nmapping = {{ debt = \"/debt\", name = \"/name\" }}\n",
        crm.port
    );
    (Pbx::start_in(ports, test, "", &extra, &dir), crm)
}

/// A carrier call from `number` to the DID; returns how many calls each agent answered.
fn call_from(pbx: &Pbx, number: &str) -> (usize, usize) {
    pbx.register(1, "1002");
    pbx.register(2, "1003");
    let support = pbx
        .sipp(1, "support", "uas_answer.xml")
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(3);
    let collections = pbx
        .sipp(2, "collections", "uas_answer.xml")
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(3);
    let (support, collections) = (support.spawn().unwrap(), collections.spawn().unwrap());
    let uac = pbx
        .sipp(0, "carrier", "uac_call.xml")
        .local_ip(CARRIER_IP)
        .service("+48221234567")
        .key("caller", number)
        .tone_secs(2)
        .run()
        .unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    let support = support.stop(Duration::from_millis(500)).unwrap();
    let collections = collections.stop(Duration::from_millis(500)).unwrap();
    (
        support.log_lines("ANSWERED ").count(),
        collections.log_lines("ANSWERED ").count(),
    )
}

#[test]
fn overdue_balance_reaches_collections() {
    if !enabled("cti_overdue") {
        return;
    }
    let (pbx, _crm) = pbx("cti_overdue", false);
    assert_eq!(
        call_from(&pbx, OVERDUE),
        (0, 1),
        "(support, collections) answered"
    );
}

#[test]
fn good_standing_reaches_support() {
    if !enabled("cti_good_standing") {
        return;
    }
    let (pbx, _crm) = pbx("cti_good_standing", false);
    assert_eq!(
        call_from(&pbx, GOOD_STANDING),
        (1, 0),
        "(support, collections) answered"
    );
}

#[test]
fn a_failing_crm_takes_the_fallback() {
    if !enabled("cti_crm_down") {
        return;
    }
    // The CRM answers 500 to everything.
    let (pbx, _crm) = pbx("cti_crm_down", true);
    assert_eq!(
        call_from(&pbx, OVERDUE),
        (1, 0),
        "(support, collections) answered"
    );
}

#[test]
fn a_crm_that_refuses_connections_is_logged_once_with_the_cause() {
    if !enabled("cti_crm_refused") {
        return;
    }
    // The CRM's port is closed before the call: connecting is refused.
    let (pbx, crm) = pbx("cti_crm_refused", false);
    drop(crm);
    assert_eq!(
        call_from(&pbx, OVERDUE),
        (1, 0),
        "(support, collections) answered"
    );
    let mut log = String::new();
    for file in ["centrala-1.out", "centrala-1.err"] {
        log += &std::fs::read_to_string(pbx.dir.path().join(file)).unwrap_or_default();
    }
    let failures: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"customer_by_phone\""))
        .collect();
    let [line] = &failures[..] else {
        panic!("one line about the failed lookup: {failures:#?}")
    };
    assert!(
        line.to_lowercase().contains("connection refused"),
        "the cause is named: {line}"
    );
    assert!(
        !line.contains(&OVERDUE[3..]),
        "the line carries no customer number: {line}"
    );
}
