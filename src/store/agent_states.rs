//! Agent state that survives a restart: logged in or out, available or on a break (with its
//! reason code), and since when. The routing journal writes a row with each change of it, in
//! the same transaction as the change's `agent.state_changed` event; the routing shell reads
//! them all back at start-up. Busy and wrap-up are not stored (they follow live work).

use sqlx::Row;

use super::{Store, StoreError, StoreTransaction};

/// One agent's stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStateRow {
    /// The agent's extension number.
    pub agent: String,
    /// Logged in.
    pub online: bool,
    /// `available` or `break`.
    pub presence: String,
    /// The break's reason code.
    pub reason: Option<i64>,
    /// Unix ms when this state began.
    pub since_ms: i64,
}

impl Store {
    /// Writes `rows` (each replacing the agent's previous one) inside `tx`.
    pub async fn upsert_agent_states_in(
        tx: &mut StoreTransaction,
        rows: &[AgentStateRow],
    ) -> Result<(), StoreError> {
        for row in rows {
            sqlx::query(
                "INSERT INTO agent_states (agent, online, presence, reason, since_ms) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (agent) DO UPDATE SET online = excluded.online, \
                 presence = excluded.presence, reason = excluded.reason, \
                 since_ms = excluded.since_ms",
            )
            .bind(&row.agent)
            .bind(i64::from(row.online))
            .bind(&row.presence)
            .bind(row.reason)
            .bind(row.since_ms)
            .execute(&mut *tx.tx)
            .await?;
        }
        Ok(())
    }

    /// Every stored agent state, by extension.
    pub async fn agent_states(&self) -> Result<Vec<AgentStateRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT agent, online, presence, reason, since_ms FROM agent_states ORDER BY agent",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AgentStateRow {
                    agent: r.try_get("agent")?,
                    online: r.try_get::<i64, _>("online")? != 0,
                    presence: r.try_get("presence")?,
                    reason: r.try_get("reason")?,
                    since_ms: r.try_get("since_ms")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::fresh_store;

    fn row(agent: &str, online: bool, presence: &str, reason: Option<i64>) -> AgentStateRow {
        AgentStateRow {
            agent: agent.into(),
            online,
            presence: presence.into(),
            reason,
            since_ms: 1_000,
        }
    }

    #[tokio::test]
    async fn the_last_state_of_each_agent_is_kept() {
        let (store, _dir) = fresh_store().await;
        let mut tx = store.begin().await.unwrap();
        let first = [
            row("1001", true, "available", None),
            row("1003", true, "break", Some(4)),
        ];
        Store::upsert_agent_states_in(&mut tx, &first)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let later = row("1001", false, "break", Some(2));
        Store::upsert_agent_states_in(&mut tx, std::slice::from_ref(&later))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // A rolled-back write leaves the row as it was.
        let mut tx = store.begin().await.unwrap();
        Store::upsert_agent_states_in(&mut tx, &[row("1003", false, "available", None)])
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(
            store.agent_states().await.unwrap(),
            [later, first[1].clone()]
        );
    }
}
