//! The storage the routing shell needs, as a trait: `Store` implements it for SQLite and
//! PostgreSQL; the shell's tests use an in-memory one, whose futures complete at once so that
//! tokio's paused clock is never advanced while a write is in flight.

use std::future::Future;
use std::pin::Pin;

use crate::store::{QueueLogRow, Store, StoreError, TaskRow};

/// A boxed future borrowing the store.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Task and queue-log persistence (see `store::tasks` and `store::queue_log`).
pub trait RoutingStore: Send + Sync + 'static {
    /// Stores a new task; resolves once committed.
    fn insert_task<'a>(&'a self, row: &'a TaskRow) -> StoreFuture<'a, ()>;
    /// Updates a task's queue, state, attempts and next attempt.
    fn update_task<'a>(&'a self, row: &'a TaskRow) -> StoreFuture<'a, bool>;
    /// Every open task, oldest first.
    fn open_tasks(&self) -> StoreFuture<'_, Vec<TaskRow>>;
    /// The largest task id ever stored.
    fn max_task_id(&self) -> StoreFuture<'_, i64>;
    /// Appends queue-log rows.
    fn insert_queue_log<'a>(&'a self, rows: &'a [QueueLogRow]) -> StoreFuture<'a, ()>;
}

impl RoutingStore for Store {
    fn insert_task<'a>(&'a self, row: &'a TaskRow) -> StoreFuture<'a, ()> {
        Box::pin(Store::insert_task(self, row))
    }

    fn update_task<'a>(&'a self, row: &'a TaskRow) -> StoreFuture<'a, bool> {
        Box::pin(Store::update_task(
            self,
            row.id,
            &row.queue,
            &row.state,
            row.attempts,
            row.next_attempt_at_ms,
            row.updated_at_ms,
        ))
    }

    fn open_tasks(&self) -> StoreFuture<'_, Vec<TaskRow>> {
        Box::pin(Store::open_tasks(self))
    }

    fn max_task_id(&self) -> StoreFuture<'_, i64> {
        Box::pin(Store::max_task_id(self))
    }

    fn insert_queue_log<'a>(&'a self, rows: &'a [QueueLogRow]) -> StoreFuture<'a, ()> {
        Box::pin(Store::insert_queue_log(self, rows))
    }
}
