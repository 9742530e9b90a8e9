//! The reports' speed target (a month of queue log for a 300-agent centre, about 1 million
//! rows, reported in under 2 s per report) as an ignored test with its data generator.
//! Run it on a quiet machine, on SQLite or PostgreSQL (`CENTRALA_TEST_POSTGRES`):
//! `cargo test --release --lib reports::bench -- --ignored --nocapture`
//! (`CENTRALA_REPORT_BENCH_ROWS` sets the size, default 1,000,000).

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Period, ReportKind, ReportRequest, SlVariant, compute};
use crate::store::QueueLogRow;
use crate::store::testing::fresh_store;

/// 2026-11-01 00:00 UTC.
const MONTH_START: i64 = 1_793_491_200_000;
const QUEUES: [&str; 4] = ["sales", "support", "collections", "billing"];

/// About `target` rows of a 30-day month: 300 agents logging in and out daily, contacts
/// spread over the day, each with enqueue, offer, answer (or abandon), complete and wrap-up.
fn month(target: usize) -> Vec<QueueLogRow> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut rows = Vec::with_capacity(target + 1000);
    let per_day = target / 30;
    let mut push = |ts: i64,
                    queue: &str,
                    task: i64,
                    agent: Option<String>,
                    event: &str,
                    wait: Option<i64>,
                    duration: Option<i64>| {
        let n = rows.len();
        rows.push(QueueLogRow {
            id: format!("{ts:013}-{n:08}"),
            ts_ms: ts,
            queue: queue.into(),
            channel: "voice".into(),
            task,
            agent,
            event: event.into(),
            wait_ms: wait,
            duration_ms: duration,
            detail: None,
        });
    };
    let mut task = 0i64;
    for day in 0..30i64 {
        let day_start = MONTH_START + day * 86_400_000;
        for agent in 0..300 {
            let who = Some(format!("{}", 1000 + agent));
            push(
                day_start + 8 * 3_600_000,
                "",
                0,
                who.clone(),
                "login",
                None,
                None,
            );
            push(day_start + 16 * 3_600_000, "", 0, who, "logout", None, None);
        }
        let contacts = per_day.saturating_sub(600) / 5;
        for _ in 0..contacts {
            task += 1;
            let queue = QUEUES[rng.gen_range(0..QUEUES.len())];
            let at = day_start + 8 * 3_600_000 + rng.gen_range(0..8 * 3_600_000);
            let wait = rng.gen_range(0..60_000);
            let agent = Some(format!("{}", 1000 + rng.gen_range(0..300)));
            push(at, queue, task, None, "enqueue", Some(0), None);
            if rng.gen_bool(0.1) {
                push(at + wait, queue, task, None, "abandon", Some(wait), None);
                continue;
            }
            let talk = rng.gen_range(30_000..600_000);
            push(
                at + wait,
                queue,
                task,
                agent.clone(),
                "offer",
                Some(wait),
                None,
            );
            push(
                at + wait,
                queue,
                task,
                agent.clone(),
                "answer",
                Some(wait),
                None,
            );
            let end = at + wait + talk;
            push(
                end,
                queue,
                task,
                agent.clone(),
                "complete",
                None,
                Some(talk),
            );
            push(
                end + 10_000,
                queue,
                task,
                agent,
                "wrap_up",
                None,
                Some(10_000),
            );
        }
    }
    rows
}

#[tokio::test]
#[ignore = "a benchmark: run on a quiet machine (see the module docs)"]
async fn a_month_of_queue_log_reports_within_two_seconds() {
    let target = std::env::var("CENTRALA_REPORT_BENCH_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let (store, _dir) = fresh_store().await;
    let rows = month(target);
    for chunk in rows.chunks(10_000) {
        store.insert_queue_log(chunk).await.unwrap();
    }
    let period = Period::parse("2026-11-01", "2026-12-01", "1d", "Europe/Warsaw").unwrap();
    for kind in [ReportKind::Queues, ReportKind::Channels, ReportKind::Agents] {
        let request = ReportRequest {
            kind,
            period: period.clone(),
            short_abandon_ms: 5000,
            queues: QUEUES
                .iter()
                .map(|q| (q.to_string(), 20_000, SlVariant::default()))
                .collect(),
        };
        let started = Instant::now();
        let report = compute(&store, &request).await.unwrap();
        let took = started.elapsed();
        println!(
            "{kind:?}: {} rows of queue log, {} report rows, {took:?}",
            rows.len(),
            report.rows.len()
        );
        assert!(!report.rows.is_empty());
        assert!(took < Duration::from_secs(2), "{kind:?} took {took:?}");
    }
}
