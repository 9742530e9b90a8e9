//! What a CRM answer says about who a customer is: its id, a name to show, and the phone
//! numbers and e-mail addresses it knows. Pure; the lookup itself is `cti::lookup`'s.
//!
//! The answer (after the lookup's mapping) is read at `crm_id` (or `id`), `name`, `phones`
//! and `emails` (arrays of strings, or one string). Values that do not parse are skipped.

use serde_json::Value;

use super::identity::{Identity, IdentityKind};
use crate::cti::lookup::E164Rules;

/// The identity facts of one CRM record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrmFacts {
    /// The CRM's id of the customer.
    pub crm_id: Option<String>,
    /// A name to show.
    pub name: Option<String>,
    /// Every identity the record names (the CRM id included), sorted, without duplicates.
    pub identities: Vec<Identity>,
}

/// The facts of `record`; `None` when it names no CRM id (then it cannot anchor a link).
pub fn facts_of(record: &Value, rules: &E164Rules) -> Option<CrmFacts> {
    let crm_id = ["crm_id", "id"]
        .iter()
        .find_map(|key| match record.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })?;
    let mut identities = vec![Identity {
        kind: IdentityKind::Crm,
        value: crm_id.clone(),
    }];
    for (key, kind) in [
        ("phones", IdentityKind::Phone),
        ("emails", IdentityKind::Email),
    ] {
        let values: Vec<&str> = match record.get(key) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(one)) => vec![one.as_str()],
            _ => Vec::new(),
        };
        identities.extend(
            values
                .into_iter()
                .filter_map(|v| Identity::parse(kind, v, rules).ok()),
        );
    }
    identities.sort();
    identities.dedup();
    Some(CrmFacts {
        crm_id: Some(crm_id),
        name: record
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string),
        identities,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rules() -> E164Rules {
        E164Rules {
            country_code: "48".into(),
            national_digits: Some(9),
        }
    }

    #[test]
    fn a_record_gives_its_id_name_phones_and_addresses() {
        let record = json!({"crm_id": "C-1002", "name": "Anna Nowak",
            "phones": ["+48225556677", "601 234 567", "n/a"], "emails": "Anna.Nowak@example.com"});
        let facts = facts_of(&record, &rules()).unwrap();
        assert_eq!(facts.crm_id.as_deref(), Some("C-1002"));
        assert_eq!(facts.name.as_deref(), Some("Anna Nowak"));
        let values: Vec<(&str, &str)> = facts
            .identities
            .iter()
            .map(|i| (i.kind.as_str(), i.value.as_str()))
            .collect();
        assert_eq!(
            values,
            [
                ("phone", "+48225556677"),
                ("phone", "+48601234567"),
                ("email", "anna.nowak@example.com"),
                ("crm", "C-1002"),
            ]
        );
    }

    #[test]
    fn a_record_without_an_id_links_nothing() {
        assert_eq!(
            facts_of(
                &json!({"name": "Jan", "phones": ["+48221112233"]}),
                &rules()
            ),
            None
        );
        assert_eq!(
            facts_of(&json!({"id": 17}), &rules())
                .unwrap()
                .crm_id
                .as_deref(),
            Some("17")
        );
    }
}
