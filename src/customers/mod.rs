//! Customers: one person across channels.
//!
//! Owns: `Customers`, the directory that links a contact's identity (phone number, e-mail
//! address, chat visitor id, messenger id, CRM id) to a customer, creates customers, merges
//! and unmerges them (with an audit trail), and says whose interactions make up a
//! customer's timeline.
//! Must not touch: SQL (through `store::Store` methods), HTTP, routing.
//! Driven by: the channels (each inbound contact is resolved to a customer before it is
//! stored) and the customers API.
//!
//! # Linking rules
//!
//! A contact is linked to an existing customer only on an exact identity match (after
//! normalisation, see `identity`), or through the CRM: the configured lookup for the
//! identity's kind returns a record whose CRM id some customer already has. A record's phones
//! and addresses become identities of the customer it creates, unless another customer holds
//! them already. Names and other weak signals never link. A CRM that fails or times out
//! leaves the contact with a customer of its own; an agent can merge later.
//!
//! A merge marks the absorbed customer `merged_into` the survivor and rewrites nothing, so
//! an unmerge restores both exactly. Readers use the survivor's *group*.

mod crm;
mod identity;

use std::sync::Arc;

use serde_json::{Map, Value};
use thiserror::Error;

pub use crm::{CrmFacts, facts_of};
pub use identity::{Identity, IdentityError, IdentityKind, email_address};

use crate::config::CustomersConfig;
use crate::cti::lookup::{E164Rules, LookupService};
use crate::store::{
    AuditRow, CustomerRow, IdentityRow, OutboxEvent, Store, StoreError, TimelineKeys,
};

/// A customer operation that cannot be done.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CustomerError {
    /// The caller gave an unusable identity.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// No such customer.
    #[error("no customer {0}")]
    NotFound(String),
    /// The request does not fit the customers' state (merge into itself, not merged, ...).
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A customer with everything that identifies it.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The survivor (the customer asked for, or the one it was merged into).
    pub customer: CustomerRow,
    /// The survivor and every customer merged into it.
    pub group: Vec<String>,
    /// The group's identities.
    pub identities: Vec<IdentityRow>,
    /// The group's audit trail, newest first.
    pub audit: Vec<AuditRow>,
}

/// The customer directory; cheap to clone.
#[derive(Debug, Clone)]
pub struct Customers {
    store: Store,
    lookups: Arc<LookupService>,
    rules: E164Rules,
    config: CustomersConfig,
}

impl Customers {
    /// A directory over `store`, asking the CRM through `lookups`.
    pub fn new(
        store: Store,
        lookups: Arc<LookupService>,
        rules: E164Rules,
        config: CustomersConfig,
    ) -> Customers {
        Customers {
            store,
            lookups,
            rules,
            config,
        }
    }

    /// How phone numbers are normalised.
    pub fn rules(&self) -> &E164Rules {
        &self.rules
    }

    /// `raw` as an identity of `kind`.
    pub fn identity(&self, kind: IdentityKind, raw: &str) -> Result<Identity, CustomerError> {
        Ok(Identity::parse(kind, raw, &self.rules)?)
    }

    /// The customer (survivor id) of a contact from `identity`, creating one when nobody
    /// matches (see "Linking rules").
    pub async fn resolve(&self, identity: &Identity, now_ms: i64) -> Result<String, CustomerError> {
        for _ in 0..3 {
            if let Some(owner) = self.owner(identity).await? {
                return Ok(owner);
            }
            let facts = self.ask_crm(identity).await;
            if let Some(facts) = &facts
                && let Some(crm_id) = &facts.crm_id
            {
                let anchor = Identity {
                    kind: IdentityKind::Crm,
                    value: crm_id.clone(),
                };
                if let Some(owner) = self.owner(&anchor).await? {
                    let row = identity_row(identity, &owner, "crm", now_ms);
                    let audit = audit_row(&owner, "identity_added", None, None, now_ms)
                        .with_detail(format!("{}:{}", row.kind, row.value));
                    self.store.add_identity(&row, &audit).await?;
                    return Ok(owner);
                }
            }
            if let Some(id) = self.create(identity, facts.as_ref(), now_ms).await? {
                return Ok(id);
            }
        }
        Err(CustomerError::Conflict(
            "the customer changed three times while being linked; retry".into(),
        ))
    }

    /// The survivor of `id` (following merges), if it exists.
    pub async fn root(&self, id: &str) -> Result<Option<CustomerRow>, CustomerError> {
        let mut current = match self.store.customer(id).await? {
            Some(row) => row,
            None => return Ok(None),
        };
        for _ in 0..64 {
            let Some(next) = current.merged_into.clone() else {
                return Ok(Some(current));
            };
            match self.store.customer(&next).await? {
                Some(row) => current = row,
                None => return Ok(Some(current)),
            }
        }
        Ok(Some(current))
    }

    /// The survivor of `id` with its group, identities and audit trail.
    pub async fn profile(&self, id: &str) -> Result<Profile, CustomerError> {
        let customer = self
            .root(id)
            .await?
            .ok_or_else(|| CustomerError::NotFound(id.to_string()))?;
        let group = self.store.customer_group(&customer.id).await?;
        let identities = self.store.identities_of(&group).await?;
        let audit = self.store.customer_audit(&group).await?;
        Ok(Profile {
            customer,
            group,
            identities,
            audit,
        })
    }

    /// Who a timeline of `profile` reads.
    pub fn timeline_keys(profile: &Profile) -> TimelineKeys {
        let phones = profile
            .identities
            .iter()
            .filter(|i| i.kind == "phone")
            .map(|i| i.value.clone())
            .collect();
        let mut task_keys: Vec<String> =
            profile.identities.iter().map(|i| i.value.clone()).collect();
        task_keys.extend(profile.group.iter().cloned());
        TimelineKeys {
            customers: profile.group.clone(),
            phones,
            task_keys,
        }
    }

    /// Merges `absorbed` into `survivor` (both survivors themselves), writing `events` with
    /// it. `actor` is recorded in the audit trail.
    pub async fn merge(
        &self,
        absorbed: &str,
        survivor: &str,
        actor: &str,
        events: &[OutboxEvent],
        now_ms: i64,
    ) -> Result<(), CustomerError> {
        let a = self.existing(absorbed).await?;
        let s = self.existing(survivor).await?;
        if a.merged_into.is_some() || s.merged_into.is_some() {
            return Err(CustomerError::Conflict(
                "only customers that are not merged themselves can be merged".into(),
            ));
        }
        if a.id == s.id {
            return Err(CustomerError::Conflict(
                "a customer cannot be merged into itself".into(),
            ));
        }
        let audit = [
            &audit_row(&a.id, "merged_into", Some(&s.id), Some(actor), now_ms),
            &audit_row(&s.id, "merged", Some(&a.id), Some(actor), now_ms),
        ];
        if !self
            .store
            .merge_customer(&a.id, &s.id, audit, events, now_ms)
            .await?
        {
            return Err(CustomerError::Conflict(format!(
                "{} was merged meanwhile",
                a.id
            )));
        }
        Ok(())
    }

    /// Undoes the merge of `id` into its survivor.
    pub async fn unmerge(
        &self,
        id: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<String, CustomerError> {
        let row = self.existing(id).await?;
        let Some(survivor) = row.merged_into.clone() else {
            return Err(CustomerError::Conflict(format!("{id} is not merged")));
        };
        let audit = [
            &audit_row(&row.id, "unmerged", Some(&survivor), Some(actor), now_ms),
            &audit_row(
                &survivor,
                "unmerged_from",
                Some(&row.id),
                Some(actor),
                now_ms,
            ),
        ];
        if !self.store.unmerge_customer(&row.id, audit, now_ms).await? {
            return Err(CustomerError::Conflict(format!(
                "{id} was unmerged meanwhile"
            )));
        }
        Ok(survivor)
    }

    /// The survivor owning `identity`, if any.
    pub async fn owner(&self, identity: &Identity) -> Result<Option<String>, CustomerError> {
        let Some(owner) = self
            .store
            .identity_owner(identity.kind.as_str(), &identity.value)
            .await?
        else {
            return Ok(None);
        };
        Ok(self.root(&owner).await?.map(|row| row.id))
    }

    async fn existing(&self, id: &str) -> Result<CustomerRow, CustomerError> {
        self.store
            .customer(id)
            .await?
            .ok_or_else(|| CustomerError::NotFound(id.to_string()))
    }

    /// The CRM's facts about `identity`, when a lookup is configured for its kind and
    /// answers.
    async fn ask_crm(&self, identity: &Identity) -> Option<CrmFacts> {
        let (lookup, param) = match identity.kind {
            IdentityKind::Phone | IdentityKind::Whatsapp => {
                (self.config.phone_lookup.as_ref()?, "number")
            }
            IdentityKind::Email => (self.config.email_lookup.as_ref()?, "email"),
            _ => return None,
        };
        if !self.lookups.names().contains(&lookup.as_str()) {
            return None;
        }
        let mut params = Map::new();
        params.insert(param.into(), Value::from(identity.value.clone()));
        let record = self.lookups.lookup(lookup, params).await.ok()?;
        facts_of(&record, &self.rules)
    }

    /// Creates a customer for `identity` (with the CRM's facts); `None` when someone took
    /// the identity meanwhile.
    async fn create(
        &self,
        identity: &Identity,
        facts: Option<&CrmFacts>,
        now_ms: i64,
    ) -> Result<Option<String>, CustomerError> {
        let id = format!("cus_{}", hex::encode(rand::random::<[u8; 8]>()));
        let mut rows = vec![identity_row(identity, &id, "contact", now_ms)];
        if let Some(facts) = facts {
            for known in &facts.identities {
                if known != identity && self.owner(known).await?.is_none() {
                    rows.push(identity_row(known, &id, "crm", now_ms));
                }
            }
        }
        let row = CustomerRow {
            id: id.clone(),
            display_name: facts.and_then(|f| f.name.clone()),
            crm_id: facts.and_then(|f| f.crm_id.clone()),
            merged_into: None,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
        };
        let audit = audit_row(&id, "created", None, None, now_ms).with_detail(format!(
            "{}:{}",
            identity.kind.as_str(),
            identity.value
        ));
        Ok(self
            .store
            .create_customer(&row, &rows, &audit)
            .await?
            .then_some(id))
    }
}

fn identity_row(identity: &Identity, customer: &str, source: &str, now_ms: i64) -> IdentityRow {
    IdentityRow {
        kind: identity.kind.as_str().to_string(),
        value: identity.value.clone(),
        customer_id: customer.to_string(),
        source: source.to_string(),
        created_at_ms: now_ms,
    }
}

fn audit_row(
    customer: &str,
    action: &str,
    other: Option<&str>,
    actor: Option<&str>,
    now_ms: i64,
) -> AuditRow {
    AuditRow {
        id: format!("aud_{}", hex::encode(rand::random::<[u8; 8]>())),
        customer_id: customer.to_string(),
        action: action.to_string(),
        other_id: other.map(str::to_string),
        actor: actor.map(str::to_string),
        detail: None,
        at_ms: now_ms,
    }
}

trait WithDetail {
    fn with_detail(self, detail: String) -> Self;
}

impl WithDetail for AuditRow {
    fn with_detail(mut self, detail: String) -> AuditRow {
        self.detail = Some(detail);
        self
    }
}

#[cfg(test)]
mod tests;
