//! Quick loopback load test of the anchored relay (not a timed test).
//!
//! `cargo run --release --example relay_bench -- paced 1000 5` runs 1000 sessions whose caller
//! and callee each send one 172-byte PCMU packet every 20 ms for 5 s (the real call pattern:
//! 100 k packets/s into the relay), and prints throughput, loss and the process CPU time.
//! `... -- saturate 50 3` keeps 32 packets in flight per session (caller to callee only) and
//! prints how many packets per second the relay moves flat out. The load generator runs in
//! the same 2-worker runtime, so the relay gets only part of the CPU time printed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use centrala::media::ports::PortPool;
use centrala::media::relay::{MediaSession, Side};
use tokio::net::UdpSocket;
use tokio::sync::Semaphore;

const WINDOW: usize = 32;

fn main() {
    let relay = runtime("relay");
    let generator = runtime("gen");
    let sessions = relay.block_on(async { open_sessions().await });
    generator.block_on(run(sessions));
}

fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("runtime")
}

async fn open_sessions() -> Vec<MediaSession> {
    let sessions: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let ip = IpAddr::from([127, 0, 0, 1]);
    let pool = PortPool::new(ip, 30000, 40000);
    let mut handles = Vec::new();
    for _ in 0..sessions {
        handles.push(MediaSession::open(&pool, ip).await.expect("open session"));
    }
    handles
}

async fn run(handles: Vec<MediaSession>) {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("paced", String::as_str).to_owned();
    let sessions: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let secs: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let ip = IpAddr::from([127, 0, 0, 1]);
    let received = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    for session in &handles {
        let caller = Arc::new(UdpSocket::bind((ip, 0)).await.expect("bind"));
        let callee = Arc::new(UdpSocket::bind((ip, 0)).await.expect("bind"));
        session.set_remote(Side::A, caller.local_addr().expect("addr"));
        session.set_remote(Side::B, callee.local_addr().expect("addr"));
        let (to_a, to_b) = (session.local(Side::A), session.local(Side::B));
        if mode == "paced" {
            for (from, to) in [(caller.clone(), to_a), (callee.clone(), to_b)] {
                tokio::spawn(paced_sender(from, to, sent.clone(), stop.clone()));
            }
            for socket in [caller, callee] {
                tokio::spawn(receiver(socket, received.clone(), None));
            }
        } else {
            let window = Arc::new(Semaphore::new(WINDOW));
            tokio::spawn(window_sender(
                caller,
                to_a,
                window.clone(),
                sent.clone(),
                stop.clone(),
            ));
            tokio::spawn(receiver(callee, received.clone(), Some(window)));
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu_start = cpu_seconds();
    let sent_start = sent.load(Ordering::Relaxed);
    let start = Instant::now();
    let received_start = received.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let elapsed = start.elapsed().as_secs_f64();
    let moved = received.load(Ordering::Relaxed) - received_start;
    let cpu = cpu_seconds();
    let cpu = (cpu.0 - cpu_start.0, cpu.1 - cpu_start.1);
    let sent = sent.load(Ordering::Relaxed) - sent_start;
    stop.store(true, Ordering::Relaxed);
    let (mut bad, mut no_remote, mut send_errors, mut relay_in, mut relay_out) = (0, 0, 0, 0, 0);
    for session in &handles {
        let stats = session.stats();
        for side in [stats.a, stats.b] {
            bad += side.dropped_bad;
            no_remote += side.dropped_no_remote;
            send_errors += side.send_errors;
            relay_in += side.packets_in;
            relay_out += side.packets_out;
        }
    }
    println!(
        "mode={mode} sessions={sessions} secs={elapsed:.2} sent={sent} relayed={moved} ({:.0} pkt/s) \
         relay cpu={:.2}s ({:.2} us/pkt, {:.0}% of one core) generator cpu={:.2}s \
         dropped_bad={bad} dropped_no_remote={no_remote} send_errors={send_errors} \
         (whole run: relay in={relay_in} out={relay_out})",
        moved as f64 / elapsed,
        cpu.0,
        1e6 * cpu.0 / moved.max(1) as f64,
        100.0 * cpu.0 / elapsed,
        cpu.1,
    );
    for session in handles {
        session.close().await;
    }
}

fn packet(seq: u16) -> [u8; 172] {
    let mut p = [0xd5u8; 172];
    p[..12].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p
}

async fn paced_sender(
    socket: Arc<UdpSocket>,
    to: SocketAddr,
    sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut seq = 0u16;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        seq = seq.wrapping_add(1);
        if socket.send_to(&packet(seq), to).await.is_ok() {
            sent.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn window_sender(
    socket: Arc<UdpSocket>,
    to: SocketAddr,
    window: Arc<Semaphore>,
    sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    let mut seq = 0u16;
    while !stop.load(Ordering::Relaxed) {
        match tokio::time::timeout(Duration::from_millis(50), window.acquire()).await {
            Ok(Ok(permit)) => permit.forget(),
            Ok(Err(_)) => return,
            // Packets were lost: refill the window.
            Err(_) => window.add_permits(WINDOW),
        }
        seq = seq.wrapping_add(1);
        if socket.send_to(&packet(seq), to).await.is_ok() {
            sent.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn receiver(
    socket: Arc<UdpSocket>,
    received: Arc<AtomicU64>,
    window: Option<Arc<Semaphore>>,
) {
    let mut buf = [0u8; 2048];
    while socket.recv_from(&mut buf).await.is_ok() {
        received.fetch_add(1, Ordering::Relaxed);
        if let Some(window) = &window {
            window.add_permits(1);
        }
    }
}

/// User + system CPU seconds of the relay runtime's threads and of the generator's, from
/// /proc (Linux only; zeros elsewhere).
fn cpu_seconds() -> (f64, f64) {
    let mut totals = (0.0, 0.0);
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return totals;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let Some((name, rest)) = stat.split_once('(').and_then(|(_, r)| r.rsplit_once(')')) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
            f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
        });
        if name.starts_with("relay") {
            totals.0 += ticks / 100.0;
        } else {
            totals.1 += ticks / 100.0;
        }
    }
    totals
}
