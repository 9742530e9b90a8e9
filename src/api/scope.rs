//! What an agent token may see of customers: only its own interactions.
//!
//! Owns: the rules that narrow customer data (history, CRM lookups) to one agent.
//! Must not touch: the store's queries or the CRM (handlers fetch, this filters and decides).
//! Driven by: `v1::customers`, for agent principals only (other roles see everything their
//! route admits).
//!
//! An agent sees a past call when they were its caller, callee, the agent who answered it from
//! a queue, or the agent it was transferred to; tasks carry no agent, so an agent sees none. An agent may ask the CRM about
//! a number only while that number is a party of one of their live calls (the leg that reached
//! their phone decides, as for call control) or when they have a visible past call with it.

use serde_json::Value;

use crate::calls::control::LiveCall;

/// Keeps the calls (history JSON objects with `caller`, `callee`, `agent`, `transferred_to`)
/// that `agent` took part in.
pub fn own_calls(agent: &str, calls: Value) -> Value {
    let Value::Array(calls) = calls else {
        return Value::Array(Vec::new());
    };
    let involved = |call: &Value| {
        ["caller", "callee", "agent", "transferred_to"]
            .iter()
            .any(|field| call[*field].as_str() == Some(agent))
    };
    Value::Array(calls.into_iter().filter(involved).collect())
}

/// Whether two phone numbers name the same line: the same digits, or one the national tail
/// of the other (at least 7 digits), so `+48221112233` and `221112233` match.
pub fn same_number(a: &str, b: &str) -> bool {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let (a, b) = (digits(a), digits(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    short == long || (short.len() >= 7 && long.ends_with(short.as_str()))
}

/// Whether `number` is the other party of one of `agent`'s live calls.
pub fn on_live_call(agent: &str, number: &str, calls: &[LiveCall]) -> bool {
    calls.iter().any(|call| {
        call.has_party(agent)
            && [&call.caller, &call.callee]
                .iter()
                .any(|p| same_number(p, number))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_agent_keeps_only_calls_they_took_part_in() {
        let calls = json!([
            {"call_id": "a", "caller": "+48600100200", "callee": "1001"},
            {"call_id": "b", "caller": "+48600100200", "callee": "1002"},
            {"call_id": "c", "caller": "+48600100200", "callee": "800", "transferred_to": "1001"},
            {"call_id": "d", "caller": "+48600100200", "callee": "8000", "agent": "1001"},
            {"call_id": "e", "caller": "+48600100200", "callee": "8000", "agent": "1002"},
        ]);
        let own = own_calls("1001", calls);
        let ids: Vec<&str> = own
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["call_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["a", "c", "d"]);
    }

    #[test]
    fn national_and_international_forms_are_the_same_number() {
        assert!(same_number("+48221112233", "221112233"));
        assert!(same_number("0048 22 111 22 33", "+48221112233"));
        assert!(!same_number("+48221112233", "2233"));
        assert!(!same_number("", ""));
    }

    #[test]
    fn a_live_call_counts_only_for_the_agent_it_reached() {
        let call = LiveCall {
            id: "x".into(),
            call_id: "x@sip".into(),
            caller: "+48221112233".into(),
            callee: "800".into(),
            started_at_ms: 0,
            agent: Some("1002".into()),
            caller_is_extension: false,
        };
        assert!(on_live_call(
            "1002",
            "221112233",
            std::slice::from_ref(&call)
        ));
        assert!(!on_live_call("1001", "221112233", &[call]));
    }
}
