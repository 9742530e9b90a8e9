use std::sync::Arc;

use super::*;
use crate::config::CtiConfig;
use crate::store::testing::fresh_store;
use crate::store::{ConversationRow, MessageRow, NoteRow};

fn directory(store: &Store) -> Customers {
    let no_crm = CtiConfig {
        lookups: Vec::new(),
        ..CtiConfig::default()
    };
    Customers::new(
        store.clone(),
        Arc::new(LookupService::new(&no_crm).unwrap()),
        E164Rules {
            country_code: "48".into(),
            national_digits: Some(9),
        },
        CustomersConfig::default(),
    )
}

#[tokio::test]
async fn a_contact_links_only_on_an_exact_identity() {
    let (store, _dir) = fresh_store().await;
    let customers = directory(&store);
    let phone = customers
        .identity(IdentityKind::Phone, "22 111 22 33")
        .unwrap();
    let first = customers.resolve(&phone, 1).await.unwrap();
    let again = customers
        .resolve(
            &customers
                .identity(IdentityKind::Phone, "+48221112233")
                .unwrap(),
            2,
        )
        .await
        .unwrap();
    assert_eq!(first, again);
    let email = customers
        .identity(IdentityKind::Email, "Jan@Example.com")
        .unwrap();
    let other = customers.resolve(&email, 3).await.unwrap();
    assert_ne!(first, other, "no link without an identity match or the CRM");
}

#[tokio::test]
async fn a_merge_joins_identities_and_an_unmerge_restores_both() {
    let (store, _dir) = fresh_store().await;
    let customers = directory(&store);
    let phone = customers
        .identity(IdentityKind::Phone, "+48221112233")
        .unwrap();
    let email = customers
        .identity(IdentityKind::Email, "jan@example.com")
        .unwrap();
    let a = customers.resolve(&phone, 1).await.unwrap();
    let b = customers.resolve(&email, 2).await.unwrap();
    customers.merge(&b, &a, "sup", &[], 3).await.unwrap();
    assert_eq!(
        customers.owner(&email).await.unwrap().as_deref(),
        Some(a.as_str())
    );
    let merged = customers.profile(&b).await.unwrap();
    assert_eq!(merged.customer.id, a);
    assert_eq!(merged.group, [a.clone(), b.clone()]);
    assert_eq!(merged.identities.len(), 2);
    assert!(
        merged
            .audit
            .iter()
            .any(|e| e.action == "merged" && e.actor.as_deref() == Some("sup"))
    );
    assert!(matches!(
        customers.merge(&a, &a, "sup", &[], 4).await,
        Err(CustomerError::Conflict(_))
    ));
    assert_eq!(customers.unmerge(&b, "sup", 5).await.unwrap(), a);
    assert_eq!(customers.profile(&b).await.unwrap().customer.id, b);
    assert_eq!(customers.profile(&a).await.unwrap().identities.len(), 1);
    assert!(customers.unmerge(&b, "sup", 6).await.is_err());
}

#[tokio::test]
async fn the_timeline_is_newest_first_across_merged_customers_and_pages() {
    let (store, _dir) = fresh_store().await;
    let customers = directory(&store);
    let phone = customers
        .identity(IdentityKind::Phone, "+48221112233")
        .unwrap();
    let email = customers
        .identity(IdentityKind::Email, "jan@example.com")
        .unwrap();
    let a = customers.resolve(&phone, 1).await.unwrap();
    let b = customers.resolve(&email, 2).await.unwrap();
    let conversation = ConversationRow {
        id: "cnv_1".into(),
        customer_id: b.clone(),
        channel: "email".into(),
        queue: "support".into(),
        state: "open".into(),
        peer: email.value.clone(),
        created_at_ms: 10,
        updated_at_ms: 10,
        ..ConversationRow::default()
    };
    for n in 0..5 {
        let message = MessageRow {
            id: format!("msg_{n}"),
            conversation_id: "cnv_1".into(),
            customer_id: b.clone(),
            channel: "email".into(),
            direction: "in".into(),
            body: format!("hello {n}"),
            status: "received".into(),
            created_at_ms: 20 + n,
            updated_at_ms: 20 + n,
            ..MessageRow::default()
        };
        let first = (n == 0).then_some(&conversation);
        assert!(
            store
                .insert_message(first, &message, None, &[])
                .await
                .unwrap()
        );
    }
    store
        .insert_note(&NoteRow {
            id: "note_1".into(),
            customer_id: a.clone(),
            kind: "note".into(),
            text: "has children".into(),
            author: Some("1001".into()),
            task_id: None,
            created_at_ms: 30,
        })
        .await
        .unwrap();
    let keys = |p: &Profile| Customers::timeline_keys(p);
    let alone = customers.profile(&a).await.unwrap();
    let (rows, more) = store.timeline(&keys(&alone), 10, 0).await.unwrap();
    assert_eq!((rows.len(), more), (1, false));
    customers.merge(&b, &a, "sup", &[], 40).await.unwrap();
    let both = customers.profile(&a).await.unwrap();
    let (page, more) = store.timeline(&keys(&both), 3, 0).await.unwrap();
    let kinds: Vec<(&str, i64)> = page.iter().map(|r| (r.kind.as_str(), r.at_ms)).collect();
    assert_eq!(kinds, [("note", 30), ("message", 24), ("message", 23)]);
    assert!(more);
    let (rest, more) = store.timeline(&keys(&both), 10, 3).await.unwrap();
    let kinds: Vec<(&str, i64)> = rest.iter().map(|r| (r.kind.as_str(), r.at_ms)).collect();
    assert_eq!(
        kinds,
        [
            ("message", 22),
            ("message", 21),
            ("message", 20),
            ("conversation", 10)
        ]
    );
    assert!(!more);
}
