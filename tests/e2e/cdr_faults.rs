//! Nothing is lost: SIPp calls end while the database refuses writes (SQLite: another process
//! holds its write lock longer than the busy timeout; PostgreSQL: the database refuses new
//! connections and every session is ended with `pg_terminate_backend`), and afterwards there
//! is exactly one CDR per call SIPp completed (the CDR writer retried, kept them in its
//! journal and replayed it).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{Pbx, dialplan_dir, enabled};

/// 7000 answers, says goodbye and hangs up: each call is short and leaves a CDR.
const PLAN: &str = "languages: [en]\nroutes:\n  - number: \"7000\"\n    flow: main\n\
                    flows:\n  main:\n    steps:\n      - answer\n      - play: [goodbye]\n\
                    \x20     - hangup\n";

/// Calls in the load and how many start per second.
const CALLS: u32 = 40;
const RATE: u32 = 8;

fn pbx(test: &str) -> Pbx {
    let plan = dialplan_dir(test, &[("plan.yaml", PLAN)]);
    Pbx::start_with_dialplan(test, "", "", &plan)
}

/// Runs the call load while `fault` runs on this thread; returns the calls SIPp completed.
fn load_with(pbx: &Pbx, fault: impl FnOnce()) -> u64 {
    let load = pbx
        .sipp(0, "load", "uac_wait_bye.xml")
        .service("7000")
        .auth("1001", "pw1001")
        .key("caller", "1001")
        .calls(CALLS)
        .rate(RATE, 1000)
        .limit(CALLS)
        .timeout(Duration::from_secs(90))
        .spawn()
        .unwrap();
    fault();
    let result = load.wait().unwrap();
    assert!(result.successful > 0, "{}", result.describe());
    result.successful
}

/// Every completed call has exactly one CDR, and the writer did go through its journal.
fn assert_every_cdr_kept(pbx: &Pbx, calls: u64) {
    let rows = pbx.query_until("SELECT id FROM cdrs", calls as usize);
    std::thread::sleep(Duration::from_secs(2));
    let rows_after = pbx.query("SELECT id FROM cdrs");
    assert_eq!(rows.len() as u64, calls, "one CDR per completed call");
    assert_eq!(rows_after.len(), rows.len(), "no late duplicates");
    let logs: String = ["centrala-1.out", "centrala-1.err"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(pbx.dir.join(f)).ok())
        .collect();
    assert!(
        logs.contains("keeping them in the journal"),
        "the fault hit the CDR writer (else this test proves nothing)"
    );
    assert!(
        logs.contains("CDRs from the journal stored"),
        "journal replayed"
    );
}

#[test]
fn cdrs_survive_a_sqlite_database_locked_during_a_call_load() {
    if !enabled("cdr_fault_sqlite") || std::env::var_os("CENTRALA_TEST_POSTGRES").is_some() {
        return;
    }
    let pbx = pbx("cdr_fault_sqlite");
    let calls = load_with(&pbx, || {
        std::thread::sleep(Duration::from_millis(1500));
        // Longer than the store's 5 s busy timeout: writers fail instead of waiting.
        let mut lock = Command::new("sqlite3")
            .arg(pbx.dir.join("data/centrala.db"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = lock.stdin.take().unwrap();
        writeln!(stdin, ".timeout 5000\nBEGIN EXCLUSIVE;").unwrap();
        std::thread::sleep(Duration::from_secs(8));
        writeln!(stdin, "ROLLBACK;\n.quit").unwrap();
        drop(stdin);
        lock.wait().unwrap();
    });
    assert_every_cdr_kept(&pbx, calls);
}

#[test]
fn cdrs_survive_postgresql_sessions_terminated_during_a_call_load() {
    if !enabled("cdr_fault_postgres") {
        return;
    }
    let Ok(server) = std::env::var("CENTRALA_TEST_POSTGRES") else {
        eprintln!("cdr_fault_postgres: needs CENTRALA_TEST_POSTGRES");
        return;
    };
    let pbx = pbx("cdr_fault_postgres");
    let name = pbx.db.rsplit('/').next().unwrap().to_string();
    let admin = |sql: &str| {
        let out = Command::new("psql")
            .args(["-X", "-q", "-d", &format!("{server}/postgres"), "-c", sql])
            .output()
            .unwrap();
        assert!(out.status.success(), "{sql}: {out:?}");
    };
    let terminate = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    let calls = load_with(&pbx, || {
        std::thread::sleep(Duration::from_millis(1500));
        admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"));
        for _ in 0..10 {
            admin(&terminate);
            std::thread::sleep(Duration::from_millis(400));
        }
        admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"));
    });
    assert_every_cdr_kept(&pbx, calls);
}
