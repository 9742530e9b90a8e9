//! Persistence: the one module that imports sqlx.
//!
//! Owns: the connection pool, migrations (`migrations/`), and the repositories for registrar
//! bindings, call detail records, recordings, survey answers, the webhook outbox, routing
//! tasks, the queue log, API tokens and dispositions, customers (identities, notes, merges),
//! conversations and messages, and the customer timeline.
//! Must not touch: SIP, media, routing logic. Other modules hand it plain row structs.
//! Driven by: `main` (connect, migrate) and the subsystems that persist state.
//!
//! One code path serves both databases through sqlx's `Any` driver: SQLite (WAL) in `./data` by
//! default, PostgreSQL when the URL says `postgres://`. The SQL is kept portable (no
//! database-specific types; `ON CONFLICT` upserts work on both).

mod agent_states;
mod bindings;
pub mod cdr_journal;
mod cdrs;
mod conversations;
mod customers;
mod email;
mod outbox;
mod queue_log;
mod recordings;
mod report_slots;
mod surveys;
mod tasks;
mod timeline;
mod tokens;

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use thiserror::Error;

pub use agent_states::AgentStateRow;
pub use bindings::StoredBinding;
pub use cdrs::{CdrRecord, MediaQuality};
pub use conversations::{ConversationFilter, ConversationRow, MessageRow};
pub use customers::{AuditRow, CustomerRow, IdentityRow, NoteRow};
pub use email::EmailRow;
pub use outbox::{OutboxDelivery, OutboxEvent, StoreTransaction, SubscriptionRow};
pub use queue_log::{QueueLogRow, QueueReport};
pub use recordings::RecordingRow;
pub use report_slots::{GroupBy, SLOT_MS, SlotCounts, SlotQuery};
pub use surveys::SurveyAnswerRow;
pub use tasks::TaskRow;
pub use timeline::{TimelineKeys, TimelineRow};
pub use tokens::{DispositionRow, TokenRow};

/// A storage failure. Always our side's problem (the database is part of the deployment).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL cannot be used.
    #[error("bad database url {url:?}: {message}")]
    BadUrl {
        /// The URL as configured.
        url: String,
        /// Why.
        message: String,
    },
    /// Creating the data directory failed.
    #[error("cannot create {path}: {source}")]
    Directory {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database answered with an error.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Events the store writes in the same transaction as the rows they report: `call.ended`
/// with each CDR, `recording.ready` with each completed recording. The store does not know
/// the event format; `cti` does, and installs its hooks with `Store::with_events`.
pub trait StoreEvents: Send + Sync + std::fmt::Debug + 'static {
    /// The event for a finished call.
    fn call_ended(&self, cdr: &CdrRecord) -> OutboxEvent;
    /// The event for a recording that can be fetched.
    fn recording_ready(
        &self,
        id: &str,
        call_id: &str,
        duration_ms: i64,
        size_bytes: i64,
    ) -> OutboxEvent;
    /// The kind of the events `call_ended` builds. The store matches it against the
    /// subscriptions before building any event, so that a batch of CDRs nobody subscribed to
    /// builds none (unless `wants_every_event`).
    fn call_ended_kind(&self) -> &'static str;
    /// Whether `committed` needs the events even when no subscription took them (someone in
    /// this process listens to every committed event).
    fn wants_every_event(&self) -> bool;
    /// Called after the events were committed, with the number of outbox rows they made
    /// (0: no subscription took them, no delivery to start).
    fn committed(&self, events: Vec<OutboxEvent>, rows_written: usize);
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// Hooks that add events to CDR and recording writes; `None`: plain writes.
    events: Option<std::sync::Arc<dyn StoreEvents>>,
}

impl Store {
    /// Connects to `url`, creating the SQLite file (and its directory) when needed, and applies
    /// the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let url = prepare_url(url)?;
        let options = AnyConnectOptions::from_str(&url).map_err(|err| StoreError::BadUrl {
            url: url.clone(),
            message: err.to_string(),
        })?;
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 8 })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool, events: None })
    }

    /// This store with event hooks: CDR and recording writes through it also write their
    /// events (clones share the hooks).
    pub fn with_events(mut self, hooks: std::sync::Arc<dyn StoreEvents>) -> Store {
        self.events = Some(hooks);
        self
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// SQLite: make sure the directory exists and the file is created on first use.
fn prepare_url(url: &str) -> Result<String, StoreError> {
    let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(url.to_string());
    };
    let file = path.split('?').next().unwrap_or(path);
    if let Some(dir) = Path::new(file)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
    }
    Ok(if url.contains('?') {
        url.to_string()
    } else {
        format!("{url}?mode=rwc")
    })
}

#[cfg(test)]
pub(crate) mod testing {
    use super::Store;

    /// A fresh store: SQLite in a temp dir, or a fresh PostgreSQL database when
    /// `CENTRALA_TEST_POSTGRES` holds a server URL (e.g. `postgres://postgres@127.0.0.1:5432`).
    pub async fn fresh_store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match std::env::var("CENTRALA_TEST_POSTGRES") {
            Ok(server) => create_pg_database(&server).await,
            Err(_) => format!("sqlite://{}/t.db", dir.path().display()),
        };
        (Store::connect(&url).await.expect("connect"), dir)
    }

    /// A CDR of an answered call between extensions, with id `id`.
    pub fn sample_cdr(id: &str) -> super::CdrRecord {
        super::CdrRecord {
            id: id.into(),
            call_id: format!("{id}@test"),
            caller: "1001".into(),
            callee: "1002".into(),
            origin: "extension".into(),
            started_at_ms: 1,
            answered_at_ms: Some(2),
            ended_at_ms: 3,
            result: "answered".into(),
            hangup_cause: "normal_clearing".into(),
            hangup_side: "caller".into(),
            transferred_to: None,
            caller_quality: None,
            callee_quality: None,
            queue: None,
            agent: None,
            wait_ms: None,
        }
    }

    /// Another connection to the SQLite database at `url` holding its write lock (writers
    /// elsewhere wait, then fail) until `ROLLBACK` is executed on it or it is dropped.
    pub async fn hold_sqlite_write_lock(url: &str) -> sqlx::AnyConnection {
        use sqlx::{Connection, Executor};
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(url)
            .await
            .expect("second connection");
        conn.execute("BEGIN EXCLUSIVE").await.expect("write lock");
        conn
    }

    async fn create_pg_database(server: &str) -> String {
        use sqlx::Executor;
        sqlx::any::install_default_drivers();
        let name = format!("centrala_unit_{}", rand::random::<u64>());
        let admin = sqlx::AnyPool::connect(&format!("{server}/postgres"))
            .await
            .expect("postgres admin connection");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        format!("{server}/{name}")
    }
}
