//! The CDR writer against a real SQLite database that stops taking writes (another
//! connection holds its write lock) and comes back: every CDR arrives exactly once.

use std::sync::Arc;
use std::time::Duration;

use sqlx::Executor;

use super::*;
use crate::store::testing::{hold_sqlite_write_lock, sample_cdr};

async fn stored_ids(store: &Store) -> Vec<String> {
    let mut ids: Vec<String> = store
        .recent_cdrs(1000, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort();
    ids
}

async fn wait_for(store: &Store, want: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ids = stored_ids(store).await;
        if ids == want || Instant::now() > deadline {
            return ids;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdrs_written_while_the_database_is_locked_reach_it_through_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/c.db", dir.path().display());
    let store = Store::connect(&url).await.unwrap();
    let journal = CdrJournal::at(dir.path().join("cdr-journal.jsonl"));
    let writer = CdrWriter::start_with(Arc::new(store.clone()), journal.clone());
    writer.write(sample_cdr("a")).await;
    assert_eq!(stored_ids(&store).await, ["a"]);

    let mut lock = hold_sqlite_write_lock(&url).await;
    let started = Instant::now();
    writer.write(sample_cdr("b")).await;
    writer.write(sample_cdr("c")).await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "acknowledged late"
    );
    let journaled: Vec<String> = journal.read().unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(
        journaled,
        ["b", "c"],
        "kept on disk before they were acknowledged"
    );

    lock.execute("ROLLBACK").await.unwrap();
    assert_eq!(wait_for(&store, &["a", "b", "c"]).await, ["a", "b", "c"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while journal.path().exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!journal.path().exists(), "the replayed journal is removed");
    writer.write(sample_cdr("d")).await;
    assert_eq!(stored_ids(&store).await, ["a", "b", "c", "d"]);
}

#[tokio::test]
async fn a_journal_left_by_a_crash_is_replayed_at_start_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/c.db", dir.path().display());
    let store = Store::connect(&url).await.unwrap();
    // "a" was committed although its commit did not answer; "b" only reached the journal.
    store.insert_cdr(&sample_cdr("a")).await.unwrap();
    let journal = CdrJournal::at(dir.path().join("cdr-journal.jsonl"));
    journal.append(&[sample_cdr("a"), sample_cdr("b")]).unwrap();
    let writer = CdrWriter::start_with(Arc::new(store.clone()), journal.clone());
    writer.write(sample_cdr("c")).await;
    assert_eq!(wait_for(&store, &["a", "b", "c"]).await, ["a", "b", "c"]);
    assert!(!journal.path().exists());
}
