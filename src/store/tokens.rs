//! API tokens (stored hashed) and the dispositions agents give when they complete a task.
//!
//! The store keeps only the SHA-256 of each secret; `api::auth` hashes what a client presents
//! and looks the hash up here. Config-file tokens have ids `config:<name>` and are re-synced
//! at start-up; API-made tokens are revoked, never deleted, so the audit trail stays.

use sqlx::Row;

use super::{Store, StoreError};

/// One API token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Its id (`config:<name>` for config-file tokens, `tok_<hex>` for API-made ones).
    pub id: String,
    /// A label for people.
    pub name: String,
    /// `agent`, `supervisor`, `admin` or `integration`.
    pub role: String,
    /// For agent tokens: the extension number the token acts for.
    pub agent: Option<String>,
    /// Hex SHA-256 of the secret.
    pub token_hash: String,
    /// Unix ms of creation.
    pub created_at_ms: i64,
    /// Unix ms of revocation; revoked tokens authenticate nothing.
    pub revoked_at_ms: Option<i64>,
}

/// A disposition (wrap-up code) given when a task was completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispositionRow {
    /// Its id.
    pub id: String,
    /// The routing task.
    pub task_id: i64,
    /// The agent's extension number, if an agent gave it.
    pub agent: Option<String>,
    /// The wrap-up code, e.g. `sale` or `no_interest`.
    pub code: String,
    /// Free text.
    pub note: Option<String>,
    /// Unix ms.
    pub created_at_ms: i64,
}

const TOKEN_COLUMNS: &str = "id, name, role, agent, token_hash, created_at_ms, revoked_at_ms";

impl Store {
    /// Inserts a token or replaces its name, role, agent and hash (and un-revokes it).
    pub async fn upsert_token(&self, t: &TokenRow) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, \
             agent = excluded.agent, token_hash = excluded.token_hash, \
             revoked_at_ms = excluded.revoked_at_ms"
        ))
        .bind(&t.id)
        .bind(&t.name)
        .bind(&t.role)
        .bind(&t.agent)
        .bind(&t.token_hash)
        .bind(t.created_at_ms)
        .bind(t.revoked_at_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The live (not revoked) token with this hash.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at_ms IS NULL"
        ))
        .bind(hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(row_to_token).transpose()
    }

    /// Every token, revoked ones included, by id.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_token).collect()
    }

    /// Revokes a live token; false if there is no such live token.
    pub async fn revoke_token(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a disposition.
    pub async fn insert_disposition(&self, d: &DispositionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO dispositions (id, task_id, agent, code, note, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&d.id)
        .bind(d.task_id)
        .bind(&d.agent)
        .bind(&d.code)
        .bind(&d.note)
        .bind(d.created_at_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The dispositions of a task, oldest first.
    pub async fn dispositions_of_task(
        &self,
        task_id: i64,
    ) -> Result<Vec<DispositionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, task_id, agent, code, note, created_at_ms FROM dispositions \
             WHERE task_id = $1 ORDER BY created_at_ms, id",
        )
        .bind(task_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DispositionRow {
                    id: row.try_get(0)?,
                    task_id: row.try_get(1)?,
                    agent: row.try_get(2)?,
                    code: row.try_get(3)?,
                    note: row.try_get(4)?,
                    created_at_ms: row.try_get(5)?,
                })
            })
            .collect()
    }
}

fn row_to_token(row: &sqlx::any::AnyRow) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        role: row.try_get(2)?,
        agent: row.try_get(3)?,
        token_hash: row.try_get(4)?,
        created_at_ms: row.try_get(5)?,
        revoked_at_ms: row.try_get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::fresh_store;

    fn token(id: &str, hash: &str) -> TokenRow {
        TokenRow {
            id: id.into(),
            name: "n".into(),
            role: "agent".into(),
            agent: Some("1001".into()),
            token_hash: hash.into(),
            created_at_ms: 1,
            revoked_at_ms: None,
        }
    }

    #[tokio::test]
    async fn revoked_tokens_no_longer_authenticate() {
        let (store, _dir) = fresh_store().await;
        store.upsert_token(&token("t1", "h1")).await.unwrap();
        assert_eq!(store.token_by_hash("h1").await.unwrap().unwrap().id, "t1");
        assert!(store.revoke_token("t1", 5).await.unwrap());
        assert!(!store.revoke_token("t1", 6).await.unwrap(), "only once");
        assert!(store.token_by_hash("h1").await.unwrap().is_none());
        assert_eq!(store.tokens().await.unwrap()[0].revoked_at_ms, Some(5));
        store.upsert_token(&token("t1", "h2")).await.unwrap();
        assert!(
            store.token_by_hash("h2").await.unwrap().is_some(),
            "re-seeded"
        );
    }
}
