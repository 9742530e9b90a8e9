//! Registrar bindings: written on every change so that a restart keeps phones reachable.

use sqlx::Row;

use super::{Store, StoreError};

/// One registered contact as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBinding {
    /// Address of record (the extension number).
    pub aor: String,
    /// Contact URI.
    pub contact: String,
    /// Unix seconds when the binding lapses.
    pub expires_at: i64,
    /// Call-ID of the REGISTER that made it.
    pub call_id: String,
    /// Its CSeq.
    pub cseq: i64,
    /// Contact preference times 1000.
    pub q_milli: Option<i64>,
    /// `udp` or `tcp`.
    pub transport: String,
    /// Source address of the REGISTER (`ip:port`).
    pub source: String,
    /// `+sip.instance`, when given.
    pub instance: Option<String>,
    /// User-Agent, when given.
    pub user_agent: Option<String>,
}

impl Store {
    /// Inserts or replaces a binding.
    pub async fn upsert_binding(&self, b: &StoredBinding) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO registrations \
             (aor, contact, expires_at, call_id, cseq, q_milli, transport, source, instance, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (aor, contact) DO UPDATE SET expires_at = excluded.expires_at, \
             call_id = excluded.call_id, cseq = excluded.cseq, q_milli = excluded.q_milli, \
             transport = excluded.transport, source = excluded.source, \
             instance = excluded.instance, user_agent = excluded.user_agent",
        )
        .bind(&b.aor)
        .bind(&b.contact)
        .bind(b.expires_at)
        .bind(&b.call_id)
        .bind(b.cseq)
        .bind(b.q_milli)
        .bind(&b.transport)
        .bind(&b.source)
        .bind(&b.instance)
        .bind(&b.user_agent)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes a binding (absent is fine).
    pub async fn remove_binding(&self, aor: &str, contact: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM registrations WHERE aor = $1 AND contact = $2")
            .bind(aor)
            .bind(contact)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every stored binding that has not lapsed at `now_unix`; lapsed ones are deleted.
    pub async fn live_bindings(&self, now_unix: i64) -> Result<Vec<StoredBinding>, StoreError> {
        sqlx::query("DELETE FROM registrations WHERE expires_at <= $1")
            .bind(now_unix)
            .execute(self.pool())
            .await?;
        let rows = sqlx::query(
            "SELECT aor, contact, expires_at, call_id, cseq, q_milli, transport, source, \
             instance, user_agent FROM registrations ORDER BY aor, contact",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredBinding {
                    aor: row.try_get(0)?,
                    contact: row.try_get(1)?,
                    expires_at: row.try_get(2)?,
                    call_id: row.try_get(3)?,
                    cseq: row.try_get(4)?,
                    q_milli: row.try_get(5)?,
                    transport: row.try_get(6)?,
                    source: row.try_get(7)?,
                    instance: row.try_get(8)?,
                    user_agent: row.try_get(9)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::fresh_store;

    fn binding(contact: &str, expires_at: i64) -> StoredBinding {
        StoredBinding {
            aor: "1001".into(),
            contact: contact.into(),
            expires_at,
            call_id: "c1".into(),
            cseq: 1,
            q_milli: Some(500),
            transport: "udp".into(),
            source: "127.0.0.1:5062".into(),
            instance: None,
            user_agent: Some("baresip".into()),
        }
    }

    #[tokio::test]
    async fn bindings_upsert_list_and_expire() {
        let (store, _dir) = fresh_store().await;
        store
            .upsert_binding(&binding("sip:a@h", 100))
            .await
            .unwrap();
        store.upsert_binding(&binding("sip:b@h", 50)).await.unwrap();
        let mut refreshed = binding("sip:a@h", 200);
        refreshed.cseq = 2;
        store.upsert_binding(&refreshed).await.unwrap();
        assert_eq!(store.live_bindings(60).await.unwrap(), vec![refreshed]);
        store.remove_binding("1001", "sip:a@h").await.unwrap();
        assert!(store.live_bindings(60).await.unwrap().is_empty());
    }
}
