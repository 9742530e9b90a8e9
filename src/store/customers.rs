//! Customers: rows, identities (who is who on each channel), notes, merges with their audit
//! trail. A merge only sets `merged_into` on the absorbed customer, so an unmerge restores
//! exactly what was there; readers work on a customer's *group* (the survivor and everyone
//! merged into it, transitively).

use sqlx::Row;

use super::{OutboxEvent, Store, StoreError};

/// One customer as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerRow {
    /// `cus_…`.
    pub id: String,
    /// A name to show (from the CRM), if known.
    pub display_name: Option<String>,
    /// The CRM's id, if linked.
    pub crm_id: Option<String>,
    /// The survivor this customer was merged into.
    pub merged_into: Option<String>,
    /// Unix ms.
    pub created_at_ms: i64,
    /// Unix ms.
    pub updated_at_ms: i64,
}

/// One identity of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRow {
    /// `phone`, `email`, `chat`, `whatsapp`, `messenger` or `crm`.
    pub kind: String,
    /// The normalised value (E.164, lower-case address, ...).
    pub value: String,
    /// The owner.
    pub customer_id: String,
    /// How it was learnt: `contact` (first seen on a contact), `crm`, `api`.
    pub source: String,
    /// Unix ms.
    pub created_at_ms: i64,
}

/// A note on a customer (`kind`: `note` or `offer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRow {
    /// `note_…`.
    pub id: String,
    /// The customer it was written on.
    pub customer_id: String,
    /// `note` or `offer`.
    pub kind: String,
    /// The text.
    pub text: String,
    /// The agent (extension) or token that wrote it.
    pub author: Option<String>,
    /// The task it was written during, if any.
    pub task_id: Option<i64>,
    /// Unix ms.
    pub created_at_ms: i64,
}

/// One entry of a customer's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// `aud_…`.
    pub id: String,
    /// The customer concerned.
    pub customer_id: String,
    /// `created`, `merged`, `merged_into`, `unmerged`, `identity_added`.
    pub action: String,
    /// The other customer of a merge, if any.
    pub other_id: Option<String>,
    /// Who did it (token id or agent), `None` for Centrala itself.
    pub actor: Option<String>,
    /// Free detail (an identity, ...).
    pub detail: Option<String>,
    /// Unix ms.
    pub at_ms: i64,
}

const CUSTOMER: &str = "id, display_name, crm_id, merged_into, created_at_ms, updated_at_ms";

impl Store {
    /// The owner of an identity, as stored (not followed to its survivor).
    pub async fn identity_owner(
        &self,
        kind: &str,
        value: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT customer_id FROM customer_identities WHERE kind = $1 AND value = $2",
        )
        .bind(kind)
        .bind(value)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Stores a new customer with its identities and a `created` audit entry, all or none.
    /// False (nothing written) when one of the identities already has an owner (a concurrent
    /// contact created it first; the caller reads that owner instead).
    pub async fn create_customer(
        &self,
        customer: &CustomerRow,
        identities: &[IdentityRow],
        audit: &AuditRow,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(&format!(
            "INSERT INTO customers ({CUSTOMER}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(&customer.id)
        .bind(&customer.display_name)
        .bind(&customer.crm_id)
        .bind(&customer.merged_into)
        .bind(customer.created_at_ms)
        .bind(customer.updated_at_ms)
        .execute(&mut *tx)
        .await?;
        for identity in identities {
            let done = sqlx::query(
                "INSERT INTO customer_identities (kind, value, customer_id, source, created_at_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, value) DO NOTHING",
            )
            .bind(&identity.kind)
            .bind(&identity.value)
            .bind(&identity.customer_id)
            .bind(&identity.source)
            .bind(identity.created_at_ms)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Gives `identity` to its customer unless someone owns it already; true if added.
    pub async fn add_identity(
        &self,
        identity: &IdentityRow,
        audit: &AuditRow,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "INSERT INTO customer_identities (kind, value, customer_id, source, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, value) DO NOTHING",
        )
        .bind(&identity.kind)
        .bind(&identity.value)
        .bind(&identity.customer_id)
        .bind(&identity.source)
        .bind(identity.created_at_ms)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One customer as stored.
    pub async fn customer(&self, id: &str) -> Result<Option<CustomerRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {CUSTOMER} FROM customers WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(customer_row).transpose()
    }

    /// The ids of `root` and of every customer merged into it, transitively (root first).
    pub async fn customer_group(&self, root: &str) -> Result<Vec<String>, StoreError> {
        let mut group = vec![root.to_string()];
        let mut next = 0;
        while next < group.len() && group.len() < 1000 {
            let children =
                sqlx::query("SELECT id FROM customers WHERE merged_into = $1 ORDER BY id")
                    .bind(&group[next])
                    .fetch_all(self.pool())
                    .await?;
            for child in children {
                let id: String = child.try_get(0)?;
                if !group.contains(&id) {
                    group.push(id);
                }
            }
            next += 1;
        }
        Ok(group)
    }

    /// The identities of the customers `ids`, by kind and value.
    pub async fn identities_of(&self, ids: &[String]) -> Result<Vec<IdentityRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT kind, value, customer_id, source, created_at_ms FROM customer_identities \
             WHERE customer_id IN ({}) ORDER BY kind, value",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(IdentityRow {
                    kind: r.try_get(0)?,
                    value: r.try_get(1)?,
                    customer_id: r.try_get(2)?,
                    source: r.try_get(3)?,
                    created_at_ms: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Sets `absorbed.merged_into = survivor` with audit entries on both; false when
    /// `absorbed` does not exist or is already merged.
    pub async fn merge_customer(
        &self,
        absorbed: &str,
        survivor: &str,
        audit: [&AuditRow; 2],
        events: &[OutboxEvent],
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        Store::enqueue_events_in(&mut tx, events).await?;
        let done = sqlx::query(
            "UPDATE customers SET merged_into = $1, updated_at_ms = $2 \
             WHERE id = $3 AND merged_into IS NULL",
        )
        .bind(survivor)
        .bind(at_ms)
        .bind(absorbed)
        .execute(&mut *tx.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for row in audit {
            insert_audit(&mut tx.tx, row).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Clears `id.merged_into` with audit entries; false when it was not merged.
    pub async fn unmerge_customer(
        &self,
        id: &str,
        audit: [&AuditRow; 2],
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE customers SET merged_into = NULL, updated_at_ms = $1 \
             WHERE id = $2 AND merged_into IS NOT NULL",
        )
        .bind(at_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for row in audit {
            insert_audit(&mut tx, row).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The audit trail of the customers `ids`, newest first.
    pub async fn customer_audit(&self, ids: &[String]) -> Result<Vec<AuditRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, customer_id, action, other_id, actor, detail, at_ms FROM customer_audit \
             WHERE customer_id IN ({}) ORDER BY at_ms DESC, id DESC LIMIT 200",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    id: r.try_get(0)?,
                    customer_id: r.try_get(1)?,
                    action: r.try_get(2)?,
                    other_id: r.try_get(3)?,
                    actor: r.try_get(4)?,
                    detail: r.try_get(5)?,
                    at_ms: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// Stores a note; returns once committed.
    pub async fn insert_note(&self, note: &NoteRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO customer_notes (id, customer_id, kind, text, author, task_id, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&note.id)
        .bind(&note.customer_id)
        .bind(&note.kind)
        .bind(&note.text)
        .bind(&note.author)
        .bind(note.task_id)
        .bind(note.created_at_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records the customer of a disposition (written by the task API).
    pub async fn set_disposition_customer(
        &self,
        disposition: &str,
        customer: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE dispositions SET customer_id = $1 WHERE id = $2")
            .bind(customer)
            .bind(disposition)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

async fn insert_audit(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    a: &AuditRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO customer_audit (id, customer_id, action, other_id, actor, detail, at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&a.id)
    .bind(&a.customer_id)
    .bind(&a.action)
    .bind(&a.other_id)
    .bind(&a.actor)
    .bind(&a.detail)
    .bind(a.at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn customer_row(r: &sqlx::any::AnyRow) -> Result<CustomerRow, StoreError> {
    Ok(CustomerRow {
        id: r.try_get(0)?,
        display_name: r.try_get(1)?,
        crm_id: r.try_get(2)?,
        merged_into: r.try_get(3)?,
        created_at_ms: r.try_get(4)?,
        updated_at_ms: r.try_get(5)?,
    })
}

/// `$first, $first+1, …` for `count` binds.
pub(super) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
