//! The PBX under test: a `centrala` on its own port block and directory, with a test config.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::baresip::{Baresip, BaresipConfig};
use crate::common::baresip_ctrl::Ctrl;
use crate::common::capture::{Capture, Pcap};
use crate::common::centrala::{Centrala, http_get_with, http_request};
use crate::common::ports::{PeerPorts, PortBlock};
use crate::common::process::TestDir;
use crate::common::rtp_pcap::{RtpClock, dtmf_packets, write_pcap, write_tone_wav};
use crate::common::sipp::{Sipp, SippHandle};

/// The token the test config sets for `/api/v1`.
pub const TOKEN: &str = "e2e-token";

/// The carrier's address: a second loopback host (SIPp with `local_ip`).
pub const CARRIER_IP: &str = "127.0.0.2";

/// A `[[trunks]]` "carrier" taking calls from `CARRIER_IP` and sending calls to it on
/// `carrier_port` (peer slot 2's SIP port), with more `[trunks.outbound]` keys in `outbound`.
pub fn carrier_trunk(carrier_port: u16, outbound: &str) -> String {
    format!(
        "[[trunks]]\nname = \"carrier\"\ninbound_ips = [\"{CARRIER_IP}\"]\n\
         [trunks.outbound]\nproxy = \"{CARRIER_IP}:{carrier_port}\"\n{outbound}\n"
    )
}

/// Whether end-to-end tests run here (they need root and the real peers).
pub fn enabled(test: &str) -> bool {
    let on = std::env::var_os("CENTRALA_E2E").is_some();
    if !on {
        eprintln!("{test}: skipped (set CENTRALA_E2E=1 to run the end-to-end tests)");
    }
    on
}

/// A dialplan directory for test `test` holding `files` (name, YAML), for `Pbx::start_in`
/// and `Pbx::start_with_dialplan`.
pub fn dialplan_dir(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("centrala-plan-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dialplan dir");
    for (name, yaml) in files {
        std::fs::write(dir.join(name), yaml).expect("dialplan file");
    }
    dir
}

/// A running PBX and everything a test needs to talk to it.
pub struct Pbx {
    pub ports: PortBlock,
    pub dir: TestDir,
    pub centrala: Centrala,
    pub sip: SocketAddr,
    /// The database URL the PBX runs on (for `query`).
    pub db: String,
}

impl Pbx {
    /// Starts a PBX with the test users 1001-1003 (passwords `pw1001`...) and `extra` TOML
    /// appended to the `[sip]` section.
    pub fn start(test: &str, extra_sip: &str) -> Pbx {
        Self::start_full(test, extra_sip, "")
    }

    /// Like `start`, with more top-level TOML (e.g. `[[trunks]]`) appended.
    pub fn start_full(test: &str, extra_sip: &str, extra_top: &str) -> Pbx {
        Self::start_with_dialplan(test, extra_sip, extra_top, &repo("dialplans"))
    }

    /// Like `start_full`, with the dialplans of `dialplan_dir` (prompts from `sounds/`).
    pub fn start_with_dialplan(
        test: &str,
        extra_sip: &str,
        extra_top: &str,
        dialplan_dir: &Path,
    ) -> Pbx {
        Self::start_in(PortBlock::claim(), test, extra_sip, extra_top, dialplan_dir)
    }

    /// Like `start_with_dialplan` on a port block the test claimed itself (to put its own
    /// servers, e.g. a CRM stub, on the block's spare ports +4..+9 first). Failed API
    /// authentications are not rate-limited here (tests that probe bad tokens, e.g.
    /// schemathesis, would lock themselves out); the limit has its own API tests.
    pub fn start_in(
        ports: PortBlock,
        test: &str,
        extra_sip: &str,
        extra_top: &str,
        dialplan_dir: &Path,
    ) -> Pbx {
        let rtp = ports.rtp_range();
        Self::start_in_range(ports, test, extra_sip, extra_top, dialplan_dir, rtp)
    }

    /// Like `start_in` with RTP ports `rtp` (a part of the block's RTP range).
    pub fn start_in_range(
        ports: PortBlock,
        test: &str,
        extra_sip: &str,
        extra_top: &str,
        dialplan_dir: &Path,
        (rtp_min, rtp_max): (u16, u16),
    ) -> Pbx {
        let dir = TestDir::new(test).expect("test dir");
        let sip: SocketAddr = format!("127.0.0.1:{}", ports.sip()).parse().unwrap();
        let http: SocketAddr = format!("127.0.0.1:{}", ports.http()).parse().unwrap();
        let db = database_url(test);
        let config = format!(
            "[sip]\nlisten = \"{sip}\"\n{extra_sip}\n\
             [http]\nlisten = \"{http}\"\napi_token = \"{TOKEN}\"\nauth_max_failures = 100000\n\
             [media]\nbind_ip = \"127.0.0.1\"\nrtp_port_min = {rtp_min}\nrtp_port_max = {rtp_max}\n\
             sounds_dir = \"{sounds}\"\n[dialplan]\ndir = \"{dialplans}\"\n\
             [database]\nurl = \"{db}\"\n\
             [[extensions]]\nnumber = \"1001\"\npassword = \"pw1001\"\nrole = \"agent\"\n\
             skills = {{ sales = 5 }}\n\
             [[extensions]]\nnumber = \"1002\"\npassword = \"pw1002\"\nrole = \"agent\"\n\
             skills = {{ support = 5, collections = 5 }}\n\
             [[extensions]]\nnumber = \"1003\"\npassword = \"pw1003\"\nrole = \"agent\"\n\
             skills = {{ sales = 5, collections = 5 }}\n\
             {email}{extra_top}",
            // The demo's SMTP port is shared; a test that needs e-mail sets its own `[email]`.
            email = if extra_top.contains("[email]") {
                ""
            } else {
                "[email]\nenabled = false\n"
            },
            db = db,
            sounds = repo("sounds").display(),
            dialplans = dialplan_dir.display(),
        );
        let centrala = Centrala::start(&dir, config, http).expect("centrala starts");
        Pbx {
            ports,
            dir,
            centrala,
            sip,
            db,
        }
    }

    /// A SIPp run aimed at the PBX from peer slot `slot`.
    pub fn sipp(&self, slot: u16, name: &str, scenario: &str) -> Sipp {
        Sipp::new(self.dir.path(), name, scenario)
            .remote(self.sip)
            .peer_ports(self.peer(slot))
            .timeout(Duration::from_secs(30))
            .calls(1)
    }

    /// The ports of peer slot `slot`.
    pub fn peer(&self, slot: u16) -> PeerPorts {
        self.ports.peer(slot)
    }

    /// Registers `user` from peer slot `slot`'s SIP port (so a SIPp UAS started there later
    /// receives the calls), asserting success.
    pub fn register(&self, slot: u16, user: &str) {
        let result = self
            .sipp(slot, &format!("register-{user}-{slot}"), "register.xml")
            .service(user)
            .auth(user, &format!("pw{user}"))
            .set("expires", 300)
            .run()
            .expect("sipp runs");
        assert!(
            result.check().is_ok(),
            "REGISTER {user} failed:\n{}",
            result.describe()
        );
    }

    /// A SIPp phone at peer slot `slot` that answers one call (PCMU, `secs` of 440 Hz).
    pub fn answering_phone(&self, slot: u16, secs: u32) -> SippHandle {
        let uas = self
            .sipp(slot, "uas", "uas_answer.xml")
            .set("pt", 0)
            .set("codec", "PCMU");
        uas.media_secs(secs).spawn().expect("sipp starts")
    }

    /// The carrier (SIPp on `CARRIER_IP` at peer slot 2, `uas_hangup.xml`): answers one call
    /// from the PBX in PCMU, plays 440 Hz and hangs up after 2 s.
    pub fn carrier_hanging_up(&self) -> Sipp {
        self.sipp(2, "customer", "uas_hangup.xml")
            .local_ip(CARRIER_IP)
            .set("pt", 0)
            .set("codec", "PCMU")
            .set("secs", 2)
            .media_secs(3)
    }

    /// 1001 calls `number` from peer slot 0 (`secs` of 1 kHz and RFC 4733 digits, then BYE);
    /// asserts success.
    pub fn call_from_1001(&self, number: &str, secs: u32) {
        let uac = self
            .sipp(0, "uac", "uac_call.xml")
            .service(number)
            .key("caller", "1001");
        let uac = uac
            .auth("1001", "pw1001")
            .tone_secs(secs)
            .run()
            .expect("sipp runs");
        assert!(uac.check().is_ok(), "{}", uac.describe());
    }

    /// A baresip at peer slot `slot` sending 30 s of a `tone_hz` tone, registered with
    /// `account` (`<sip:USER@PBX[;transport=tcp]>;auth_pass=...;...`); returns it with its
    /// control connection once registration succeeded.
    pub fn softphone(
        &self,
        slot: u16,
        name: &str,
        tone_hz: f64,
        account: String,
    ) -> (Baresip, Ctrl) {
        let phone = self.peer(slot);
        let tone = self.dir.join(format!("{name}-tone.wav"));
        write_tone_wav(&tone, tone_hz, 30.0, 8000).expect("tone file");
        let config = BaresipConfig {
            sip_port: phone.sip,
            ctrl_port: phone.ctrl,
            rtp_ports: (phone.media, phone.media_last),
            source_wav: tone,
            accounts: vec![account],
        };
        let baresip = Baresip::start(self.dir.path(), name, &config).expect("baresip starts");
        let mut ctrl = baresip.ctrl().expect("baresip control");
        ctrl.poll("reginfo", "OK", Duration::from_secs(10))
            .expect("the softphone registers with Centrala");
        (baresip, ctrl)
    }

    /// The agent's state as the API shows it (`available`, `busy`, `wrap_up`, ...).
    pub fn agent_state(&self, number: &str) -> String {
        self.api(&format!("/api/v1/agents/{number}"))["state"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// GET on the API with the test token; panics unless 200.
    pub fn api(&self, path: &str) -> Value {
        let auth = format!("Bearer {TOKEN}");
        let (status, body) = http_get_with(self.centrala.http(), path, &[("Authorization", &auth)])
            .expect("API answers");
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }

    /// `POST path` with `body` (JSON) as `token`: the status and the JSON answer (`Null` when
    /// there is none).
    pub fn api_post(&self, token: &str, path: &str, body: &str) -> (u16, Value) {
        self.api_send(token, "POST", path, body)
    }

    /// `method path` with `body` (JSON) as `token`: the status and the JSON answer (`Null`
    /// when there is none).
    pub fn api_send(&self, token: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
        let auth = format!("Bearer {token}");
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        let (status, answer) =
            http_request(self.centrala.http(), method, path, &headers, body).expect("API answers");
        (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
    }

    /// The first live call `token` sees in `GET /api/v1/calls`, waiting up to 10 s.
    pub fn listed_call(&self, token: &str) -> Value {
        let auth = format!("Bearer {token}");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = http_get_with(
                self.centrala.http(),
                "/api/v1/calls",
                &[("Authorization", &auth)],
            )
            .expect("API answers");
            assert_eq!(status, 200, "{body}");
            let calls: Value = serde_json::from_str(&body).expect("JSON");
            if let Some(call) = calls["items"].as_array().and_then(|items| items.first()) {
                return call.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the call was never listed"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What went over the test's ports during the next `secs` seconds (tcpdump on `lo`).
    pub fn capture_for(&self, name: &str, secs: f64) -> Pcap {
        let capture = Capture::start(self.dir.path(), name, "lo", &self.ports.capture_filter())
            .expect("tcpdump starts");
        std::thread::sleep(Duration::from_secs_f64(secs));
        capture.stop().expect("the capture")
    }

    /// The first recording whose index row is `done`, waiting up to 5 s.
    pub fn done_recording(&self) -> Value {
        for _ in 0..50 {
            let list = self.api("/api/v1/recordings");
            if let Some(done) = list["items"]
                .as_array()
                .and_then(|items| items.iter().find(|r| r["state"] == "done"))
            {
                return done.clone();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no finished recording: {}", self.api("/api/v1/recordings"));
    }

    /// The CDRs, newest first, waiting up to 10 s until there are at least `count`.
    pub fn cdrs(&self, count: usize) -> Vec<Value> {
        for _ in 0..100 {
            let items = self.api("/api/v1/cdrs")["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if items.len() >= count {
                return items;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("fewer than {count} CDRs: {}", self.api("/api/v1/cdrs"));
    }

    /// Runs `check` on the PBX's own database (the `[database] url` of its config), for what
    /// the API does not show (stored tasks, the queue log).
    pub fn with_store<T>(&self, check: impl AsyncFnOnce(&centrala::store::Store) -> T) -> T {
        let url = match self.db.strip_prefix("sqlite://") {
            Some(file) => format!("sqlite://{}", self.dir.join(file).display()),
            None => self.db.clone(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = centrala::store::Store::connect(&url)
                .await
                .expect("the PBX's store");
            check(&store).await
        })
    }

    /// Rows of `sql` on the PBX's database (columns joined by `|`), read with the database's
    /// own client (sqlite3 or psql).
    pub fn query(&self, sql: &str) -> Vec<String> {
        let out = match self.db.strip_prefix("sqlite://") {
            Some(file) => Command::new("sqlite3")
                .args(["-separator", "|", "-cmd", ".timeout 5000"])
                .arg(self.dir.join(file))
                .arg(sql)
                .output(),
            None => Command::new("psql")
                .args(["-X", "-A", "-t", "-F", "|", "-d", &self.db, "-c", sql])
                .output(),
        }
        .expect("database client runs");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Like `query`, waiting up to 10 s until it returns at least `count` rows.
    pub fn query_until(&self, sql: &str, count: usize) -> Vec<String> {
        for _ in 0..100 {
            let rows = self.query(sql);
            if rows.len() >= count {
                return rows;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("fewer than {count} rows of {sql}: {:?}", self.query(sql));
    }

    /// Subscribes a webhook to `events` at an address where nobody listens: each event
    /// stays in the outbox, where `outbox_events` reads it.
    pub fn subscribe_outbox(&self, events: &[&str]) {
        self.query(&format!(
            "INSERT INTO webhook_subscriptions \
             (id, url, secret, events, active, next_seq, created_at_ms) \
             VALUES ('e2e-outbox', 'http://127.0.0.1:9/', 'k', ',{},', 1, 0, 0)",
            events.join(",")
        ));
    }

    /// The events of `kind` in the outbox (see `subscribe_outbox`), oldest first, waiting up
    /// to 10 s until there are at least `count`.
    pub fn outbox_events(&self, kind: &str, count: usize) -> Vec<Value> {
        let sql = format!("SELECT body FROM outbox WHERE event_kind = '{kind}' ORDER BY seq");
        self.query_until(&sql, count)
            .iter()
            .map(|body| serde_json::from_str(body).expect("a JSON event"))
            .collect()
    }

    /// The value of a Prometheus sample line starting with `name` (labels included).
    pub fn metric(&self, name: &str) -> f64 {
        let (_, text) = http_get_with(self.centrala.http(), "/metrics", &[]).expect("metrics");
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0.0)
    }
}

/// `[[http.tokens]]` TOML for an agent token of extension `number`: `agent-<number>-token`.
pub fn agent_token(number: &str) -> String {
    format!(
        "[[http.tokens]]\nname = \"agent-{number}\"\ntoken = \"agent-{number}-token\"\n\
         role = \"agent\"\nagent = \"{number}\"\n"
    )
}

/// `sipp` (an IVR caller scenario: `uac_ivr.xml`, `uac_ivr_wait_bye.xml`) made 1001's call to
/// `number` keying `digits` (RFC 4733, written as the run's `dtmf_keys.pcap`) after `wait_ms`.
pub fn with_keys(sipp: Sipp, number: &str, digits: &str, wait_ms: u32) -> Sipp {
    keying(
        sipp.key("caller", "1001").auth("1001", "pw1001"),
        number,
        digits,
        wait_ms,
    )
}

/// `with_keys` for any caller (set `-key caller` and credentials on `sipp` first).
pub fn keying(sipp: Sipp, number: &str, digits: &str, wait_ms: u32) -> Sipp {
    let sipp = sipp
        .service(number)
        .set("wait_ms", wait_ms)
        .timeout(Duration::from_secs(30));
    std::fs::create_dir_all(sipp.dir()).unwrap();
    let packets = dtmf_packets(&mut RtpClock::random(), 101, digits).unwrap();
    write_pcap(&sipp.dir().join("dtmf_keys.pcap"), &packets).unwrap();
    sipp
}

/// A path in the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// SQLite in the test's directory, or a fresh PostgreSQL database when
/// `CENTRALA_TEST_POSTGRES` names a server.
fn database_url(test: &str) -> String {
    let Ok(server) = std::env::var("CENTRALA_TEST_POSTGRES") else {
        return "sqlite://data/centrala.db".into();
    };
    let name = format!("e2e_{}_{}", test, std::process::id());
    let url = url_parts(&server);
    let status = Command::new("psql")
        .env("PGOPTIONS", "--client-min-messages=warning")
        .args([
            "-h", &url.0, "-p", &url.1, "-U", &url.2, "-d", "postgres", "-q",
        ])
        .args(["-c", &format!("DROP DATABASE IF EXISTS {name}")])
        .args(["-c", &format!("CREATE DATABASE {name}")])
        .status()
        .expect("psql runs");
    assert!(status.success(), "creating database {name}");
    format!("{server}/{name}")
}

/// (host, port, user) of `postgres://user@host:port`.
fn url_parts(server: &str) -> (String, String, String) {
    let rest = server
        .trim_start_matches("postgres://")
        .trim_start_matches("postgresql://");
    let (user, host_port) = rest.split_once('@').unwrap_or(("postgres", rest));
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "5432"));
    (host.into(), port.trim_end_matches('/').into(), user.into())
}
