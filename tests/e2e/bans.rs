//! The SIP address ban through the API: three wrong passwords from SIPp ban 127.0.0.1; the
//! ban shows in `GET /api/v1/bans` and in the metrics, an admin lifts it, and the right
//! password registers again.

use std::time::Duration;

use crate::support::{Pbx, TOKEN, enabled};

#[test]
fn a_ban_is_listed_counted_and_lifted_through_the_api() {
    if !enabled("ban_api") {
        return;
    }
    let pbx = Pbx::start(
        "ban_api",
        "[sip.ban]\nmax_failures = 3\nwindow_secs = 60\nban_secs = 600",
    );
    for attempt in 0..3 {
        let bad = pbx
            .sipp(0, &format!("bad-{attempt}"), "register_bad.xml")
            .service("1001")
            .auth("1001", "nope")
            .run()
            .unwrap();
        assert!(bad.check().is_ok(), "{}", bad.describe());
    }
    let bans = pbx.api("/api/v1/bans");
    assert_eq!(bans["items"][0]["address"], "127.0.0.1", "{bans}");
    assert!(bans["items"][0]["remaining_secs"].as_u64().unwrap() > 500);
    assert_eq!(pbx.metric("centrala_banned_addresses"), 1.0);

    let auth = format!("Bearer {TOKEN}");
    let (status, body) = crate::common::centrala::http_request(
        pbx.centrala.http(),
        "DELETE",
        "/api/v1/bans/127.0.0.1",
        &[("Authorization", auth.as_str())],
        "",
    )
    .unwrap();
    assert_eq!(status, 204, "{body}");
    assert_eq!(pbx.api("/api/v1/bans")["items"], serde_json::json!([]));
    assert_eq!(pbx.metric("centrala_banned_addresses"), 0.0);
    std::thread::sleep(Duration::from_millis(100));
    pbx.register(1, "1001");
}
