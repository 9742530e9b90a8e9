//! Recording index: one row per recording file, written when the recording starts (state
//! `recording`) and updated when it stops (`done`) or when start-up repair finds it (`repaired`).

use sqlx::Row;

use super::{Store, StoreError};

/// One recording as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRow {
    /// Our id of the recording.
    pub id: String,
    /// The call it belongs to (our internal call id).
    pub call_id: String,
    /// Unix milliseconds when the recording started.
    pub started_at_ms: i64,
    /// Audio length in milliseconds (0 while recording).
    pub duration_ms: i64,
    /// The WAV file, relative to the working directory (e.g. `data/recordings/…`).
    pub path: String,
    /// File size in bytes.
    pub size_bytes: i64,
    /// `recording`, `done` or `repaired`.
    pub state: String,
}

const COLUMNS: &str = "id, call_id, started_at_ms, duration_ms, path, size_bytes, state";

impl Store {
    /// Adds a recording's row (at start).
    pub async fn insert_recording(&self, r: &RecordingRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO recordings \
             (id, call_id, started_at_ms, duration_ms, path, size_bytes, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&r.id)
        .bind(&r.call_id)
        .bind(r.started_at_ms)
        .bind(r.duration_ms)
        .bind(&r.path)
        .bind(r.size_bytes)
        .bind(&r.state)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Sets a recording's length, size and state (at stop or repair); false if no such row.
    /// With event hooks, a `recording.ready` event is written in the same transaction.
    pub async fn update_recording(
        &self,
        id: &str,
        duration_ms: i64,
        size_bytes: i64,
        state: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let call_id: Option<String> = sqlx::query_scalar(
            "UPDATE recordings SET duration_ms = $1, size_bytes = $2, state = $3 WHERE id = $4 \
             RETURNING call_id",
        )
        .bind(duration_ms)
        .bind(size_bytes)
        .bind(state)
        .bind(id)
        .fetch_optional(&mut *tx.tx)
        .await?;
        let Some(call_id) = call_id else {
            tx.rollback().await?;
            return Ok(false);
        };
        let event = self
            .events
            .as_ref()
            .filter(|_| state != "recording")
            .map(|hooks| hooks.recording_ready(id, &call_id, duration_ms, size_bytes));
        let mut written = 0;
        if let Some(event) = &event {
            written = Store::enqueue_event_in(&mut tx, event).await?;
        }
        tx.commit().await?;
        if let (Some(hooks), Some(event)) = (&self.events, event) {
            hooks.committed(vec![event], written);
        }
        Ok(true)
    }

    /// One recording by id.
    pub async fn recording(&self, id: &str) -> Result<Option<RecordingRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM recordings WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(row_to_recording).transpose()
    }

    /// The recordings of one call, oldest first.
    pub async fn recordings_of_call(&self, call_id: &str) -> Result<Vec<RecordingRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM recordings WHERE call_id = $1 ORDER BY started_at_ms, id"
        );
        let rows = sqlx::query(&sql)
            .bind(call_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_recording).collect()
    }

    /// Recordings that started in `[from_ms, to_ms)`, oldest first, at most `limit`.
    pub async fn list_recordings(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<RecordingRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM recordings WHERE started_at_ms >= $1 AND started_at_ms < $2 \
             ORDER BY started_at_ms, id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(from_ms)
            .bind(to_ms)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_recording).collect()
    }

    /// Recordings still marked `recording` (left open by a crash; repair them at start-up).
    pub async fn open_recordings(&self) -> Result<Vec<RecordingRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM recordings WHERE state = 'recording' ORDER BY started_at_ms, id"
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        rows.iter().map(row_to_recording).collect()
    }
}

fn row_to_recording(row: &sqlx::any::AnyRow) -> Result<RecordingRow, StoreError> {
    Ok(RecordingRow {
        id: row.try_get(0)?,
        call_id: row.try_get(1)?,
        started_at_ms: row.try_get(2)?,
        duration_ms: row.try_get(3)?,
        path: row.try_get(4)?,
        size_bytes: row.try_get(5)?,
        state: row.try_get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::fresh_store;

    fn recording(id: &str, call: &str, started: i64) -> RecordingRow {
        RecordingRow {
            id: id.into(),
            call_id: call.into(),
            started_at_ms: started,
            duration_ms: 0,
            path: format!("data/recordings/{id}.wav"),
            size_bytes: 44,
            state: "recording".into(),
        }
    }

    #[tokio::test]
    async fn recordings_insert_update_and_list() {
        let (store, _dir) = fresh_store().await;
        store
            .insert_recording(&recording("r1", "c1", 1_000))
            .await
            .unwrap();
        store
            .insert_recording(&recording("r2", "c1", 2_000))
            .await
            .unwrap();
        store
            .insert_recording(&recording("r3", "c2", 3_000))
            .await
            .unwrap();
        assert!(
            store
                .update_recording("r1", 61_000, 976_044, "done")
                .await
                .unwrap()
        );
        assert!(!store.update_recording("nope", 1, 1, "done").await.unwrap());

        let of_call = store.recordings_of_call("c1").await.unwrap();
        assert_eq!(of_call.len(), 2);
        assert_eq!(
            (
                of_call[0].duration_ms,
                of_call[0].size_bytes,
                of_call[0].state.as_str()
            ),
            (61_000, 976_044, "done")
        );
        let window = store.list_recordings(2_000, 10_000, 10).await.unwrap();
        assert_eq!(
            window.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["r2", "r3"]
        );
        assert_eq!(store.list_recordings(0, 10_000, 1).await.unwrap().len(), 1);
        let open = store.open_recordings().await.unwrap();
        assert_eq!(
            open.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["r2", "r3"]
        );
    }
}
