//! Customers through the API: merge and unmerge with their audit trail, notes, role checks.

use reqwest::Method;
use serde_json::json;

use super::{ADMIN, AGENT_1001, SUPERVISOR, TestApi};
use crate::store::{AuditRow, CustomerRow, IdentityRow};

async fn customer(api: &TestApi, id: &str, kind: &str, value: &str) {
    let row = CustomerRow {
        id: id.into(),
        created_at_ms: 1,
        updated_at_ms: 1,
        ..CustomerRow::default()
    };
    let identity = IdentityRow {
        kind: kind.into(),
        value: value.into(),
        customer_id: id.into(),
        source: "contact".into(),
        created_at_ms: 1,
    };
    let audit = AuditRow {
        id: format!("aud_{id}"),
        customer_id: id.into(),
        action: "created".into(),
        other_id: None,
        actor: None,
        detail: None,
        at_ms: 1,
    };
    assert!(
        api.store
            .create_customer(&row, &[identity], &audit)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_supervisor_merges_and_unmerges_customers_with_an_audit_trail() {
    let api = TestApi::start().await;
    customer(&api, "cus_a", "phone", "+48221112233").await;
    customer(&api, "cus_b", "email", "jan@example.com").await;
    let merge = json!({"from": "cus_b"});
    let (status, merged) = api
        .call(
            Method::POST,
            "/api/v1/customers/cus_a/merge",
            SUPERVISOR,
            Some(merge.clone()),
        )
        .await;
    assert_eq!(status, 200, "{merged}");
    assert_eq!(merged["merged"], json!(["cus_b"]));
    assert_eq!(merged["identities"].as_array().unwrap().len(), 2);
    let (_, via_b) = api.get("/api/v1/customers/cus_b", ADMIN).await;
    assert_eq!(
        via_b["id"], "cus_a",
        "a merged customer answers with its survivor"
    );
    let (status, _) = api
        .call(
            Method::POST,
            "/api/v1/customers/cus_a/merge",
            SUPERVISOR,
            Some(merge),
        )
        .await;
    assert_eq!(status, 409, "merging twice is a conflict");
    let note = json!({"text": "offered the holiday package", "kind": "offer"});
    let (status, _) = api
        .call(
            Method::POST,
            "/api/v1/customers/cus_b/notes",
            SUPERVISOR,
            Some(note),
        )
        .await;
    assert_eq!(status, 201);
    let (_, timeline) = api.get("/api/v1/customers/cus_a/timeline", ADMIN).await;
    assert_eq!(timeline["items"][0]["state"], "offer", "{timeline}");
    let (status, back) = api
        .call(
            Method::POST,
            "/api/v1/customers/cus_b/unmerge",
            SUPERVISOR,
            None,
        )
        .await;
    assert_eq!(
        (status, back["id"].as_str()),
        (200, Some("cus_b")),
        "{back}"
    );
    let mut actions: Vec<&str> = back["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    actions.sort_unstable();
    assert_eq!(actions, ["created", "merged_into", "unmerged"]);
    let bad = json!({"text": "x", "kind": "gossip"});
    let (status, _) = api
        .call(
            Method::POST,
            "/api/v1/customers/cus_a/notes",
            SUPERVISOR,
            Some(bad),
        )
        .await;
    assert_eq!(status, 400);
    // An agent with no task of this customer does not see it.
    let (status, _) = api.get("/api/v1/customers/cus_a", AGENT_1001).await;
    assert_eq!(status, 404);
    let (status, _) = api.get("/api/v1/customers/cus_zzz", ADMIN).await;
    assert_eq!(status, 404);
}
