//! The screen pop comes before the ring: with a real CRM stub whose answers take a set time,
//! agent 1002's desktop (this test's WebSocket) gets the pop before their SIPp phone gets the
//! INVITE; a CRM slower than `cti.screen_pop_deadline_ms` delays the ring by the deadline at
//! most (the pop goes without the record); an agent with no desktop open is rung at once.
//!
//! Times: the pop's arrival is read from the wall clock here; the INVITE's from the SIPp
//! phone's message trace (local time, converted with `date`); the start of queueing from the
//! caller's trace (the 200 OK the dialplan's `answer` sent).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::common::ports::PortBlock;
use crate::queues::PLAN;
use crate::screen_pop::{Socket, agent_token, connect};
use crate::support::{Pbx, dialplan_dir, enabled};

const DEADLINE_MS: f64 = 1000.0;
/// How much later than the INVITE the pop may be seen here and still count as first: the two
/// travel different paths (WebSocket to this test, UDP to SIPp) on a loaded machine. A pop
/// sent in parallel with the INVITE comes the CRM's 400 ms later.
const TOLERANCE: f64 = 0.15;

/// A CRM answering every request with a customer record after `delay_ms`; stops when dropped.
struct SlowCrm {
    delay_ms: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl SlowCrm {
    fn start(port: u16) -> SlowCrm {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let (delay_ms, stop) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (delay, stopping) = (delay_ms.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let wait = Duration::from_millis(delay.load(Ordering::Relaxed));
                std::thread::spawn(move || {
                    let _ = stream.set_nonblocking(false);
                    let mut request = [0u8; 4096];
                    let _ = stream.read(&mut request);
                    std::thread::sleep(wait);
                    let body = r#"{"name":"Anna Nowak","vip":true}"#;
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        SlowCrm { delay_ms, stop }
    }

    fn answer_after(&self, ms: u64) {
        self.delay_ms.store(ms, Ordering::Relaxed);
    }
}

impl Drop for SlowCrm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What one call showed.
struct Ring {
    /// Unix seconds the agent's phone got the INVITE.
    invite: f64,
    /// Seconds from the caller's 200 OK (queued) to the agent's INVITE.
    queued_to_ring: f64,
    /// Unix seconds the pop reached the desktop, and the pop.
    pop: Option<(f64, Value)>,
}

/// One call from 1001 to the queue, answered by 1002's SIPp phone; the desktop's frames are
/// read (and timed) on the runtime meanwhile, from before the call starts.
fn ring_once(
    pbx: &Pbx,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    desktop: Option<Socket>,
) -> (Ring, Option<Socket>) {
    let reader = desktop.map(|mut socket| {
        runtime.spawn(async move {
            let pop = pop_of(&mut socket).await;
            (socket, pop)
        })
    });
    let agent = format!("agent-{name}");
    let phone = pbx
        .sipp(1, &agent, "uas_answer.xml")
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(1)
        .spawn()
        .expect("sipp starts");
    let caller = format!("caller-{name}");
    let uac = pbx
        .sipp(0, &caller, "uac_call.xml")
        .service("8000")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .tone_secs(1)
        .spawn()
        .expect("sipp starts");
    let uac = uac.wait().unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    let phone = phone.wait().unwrap();
    assert!(phone.check().is_ok(), "{}", phone.describe());
    let (desktop, pop) = match reader {
        Some(reader) => {
            let (socket, pop) = runtime.block_on(reader).unwrap();
            (Some(socket), pop)
        }
        None => (None, None),
    };
    let trace = |run: &str| {
        std::fs::read_to_string(pbx.dir.path().join(run).join(format!("{run}.messages.log")))
            .unwrap()
    };
    let invite = first_message(&trace(&agent), "received", "INVITE ");
    let answered = first_message(&trace(&caller), "received", "SIP/2.0 200 OK");
    let ring = Ring {
        invite: unix_seconds(&invite),
        queued_to_ring: seconds_of_day(&invite) - seconds_of_day(&answered),
        pop,
    };
    eprintln!(
        "{name}: queued to ring {:.3} s, pop {:.3} s before the INVITE",
        ring.queued_to_ring,
        ring.pop
            .as_ref()
            .map_or(f64::NAN, |(at, _)| ring.invite - at)
    );
    (ring, desktop)
}

/// The screen pop (with the wall-clock time it arrived), reading until `task.completed`.
async fn pop_of(socket: &mut Socket) -> Option<(f64, Value)> {
    let until = Instant::now() + Duration::from_secs(20);
    let mut pop = None;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(left, socket.next()).await
        else {
            return pop;
        };
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let frame: Value = serde_json::from_str(&text).unwrap();
        match frame["type"].as_str() {
            Some("screen_pop") => pop = Some((at, frame)),
            Some("task.completed") => return pop,
            _ => {}
        }
    }
}

/// The timestamp line of the first message `direction` ("sent"/"received") whose first line
/// starts with `start` in a SIPp message trace.
fn first_message(trace: &str, direction: &str, start: &str) -> String {
    let lines: Vec<&str> = trace.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(stamp) = line.strip_prefix("----------------------------------------------- ")
        else {
            continue;
        };
        let here = lines.get(i + 1).is_some_and(|l| l.contains(direction))
            && lines.get(i + 3).is_some_and(|l| l.starts_with(start));
        if here {
            return stamp.trim().to_string();
        }
    }
    panic!("no {start:?} {direction} in the trace:\n{trace}");
}

/// `YYYY-MM-DD HH:MM:SS.ffffff` (SIPp's local time) as unix seconds, through `date`.
fn unix_seconds(stamp: &str) -> f64 {
    let out = std::process::Command::new("date")
        .args(["-d", stamp, "+%s.%N"])
        .output()
        .expect("date runs");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The time-of-day part of a trace timestamp, in seconds (for differences within a test).
fn seconds_of_day(stamp: &str) -> f64 {
    let time = stamp.split(' ').nth(1).unwrap();
    let parts: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

#[test]
fn the_pop_precedes_the_ring_which_a_slow_crm_holds_no_longer_than_the_deadline() {
    if !enabled("screen_pop_timing") {
        return;
    }
    let dir = dialplan_dir("pop-timing", &[("plan.yaml", PLAN)]);
    let ports = PortBlock::claim();
    let crm = SlowCrm::start(ports.port(5));
    let extra = format!(
        "[[queues]]\nname = \"support\"\nskills = {{ support = 1 }}\nwrap_up_secs = 0\n\
         [cti]\nscreen_pop_deadline_ms = {DEADLINE_MS}\n\
         [[cti.lookups]]\nname = \"customer_by_phone\"\n\
         url = \"http://127.0.0.1:{}/customers/by-phone/{{number}}\"\n\
         timeout_ms = 5000\ncache_ttl_secs = 0\n",
        ports.port(5)
    );
    let pbx = Pbx::start_in(ports, "screen_pop_timing", "", &extra, &dir);
    pbx.register(1, "1002");

    // No desktop open: the phone rings at once, though the CRM would take 3 s.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    crm.answer_after(3000);
    let (alone, _) = ring_once(&pbx, &runtime, "alone", None);
    assert!(
        alone.queued_to_ring < 0.5,
        "no desktop, no wait: {:.3} s",
        alone.queued_to_ring
    );

    let token = agent_token(&pbx, "1002");
    let desktop = runtime.block_on(connect(&pbx, &token));

    // A CRM answering in 400 ms: the pop carries its record and arrives before the INVITE.
    crm.answer_after(400);
    let (quick, desktop) = ring_once(&pbx, &runtime, "quick", Some(desktop));
    let (pop_at, pop) = quick.pop.expect("a screen pop");
    assert_eq!(pop["customer"]["record"]["name"], "Anna Nowak", "{pop}");
    assert!(
        pop_at <= quick.invite + TOLERANCE,
        "the pop ({pop_at:.3}) comes before the INVITE ({:.3})",
        quick.invite
    );
    assert!(
        quick.queued_to_ring >= 0.35,
        "the ring waited for the pop: {:.3} s",
        quick.queued_to_ring
    );

    // A CRM slower than the deadline: the pop goes without the record, the ring follows it
    // within the deadline.
    crm.answer_after(3000);
    let (slow, _) = ring_once(&pbx, &runtime, "slow", desktop);
    let (pop_at, pop) = slow.pop.expect("a screen pop");
    assert!(pop["customer"]["record"].is_null(), "{pop}");
    assert!(
        pop_at <= slow.invite + TOLERANCE,
        "the pop still comes first"
    );
    assert!(
        slow.queued_to_ring < DEADLINE_MS / 1000.0 + 0.4,
        "the ring waited {:.3} s, more than the {DEADLINE_MS} ms deadline",
        slow.queued_to_ring
    );
}
