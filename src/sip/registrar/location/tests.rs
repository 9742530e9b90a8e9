use std::net::SocketAddr;

use super::*;
use crate::sip::peer::Peer;

const T0: u64 = 1_700_000_000;

fn peer() -> Peer {
    Peer::udp(SocketAddr::from(([198, 51, 100, 7], 5062)))
}

fn contact(uri: &str) -> ContactArg<'_> {
    ContactArg {
        uri,
        expires: None,
        q: None,
        instance: None,
    }
}

fn req<'a>(
    contacts: Vec<ContactArg<'a>>,
    expires: Option<u32>,
    call_id: &'a str,
    cseq: u32,
) -> RegisterRequest<'a> {
    RegisterRequest {
        aor: "1001",
        contacts: ContactsArg::List(contacts),
        expires_header: expires,
        call_id,
        cseq,
        source: peer(),
        user_agent: Some("baresip"),
    }
}

fn registrar() -> Registrar {
    Registrar::new(RegistrarConfig::default())
}

fn drain(r: &mut Registrar) -> Vec<BindingChange> {
    std::iter::from_fn(|| r.poll_change()).collect()
}

fn contacts_of(bindings: &[Binding]) -> Vec<&str> {
    bindings.iter().map(|b| b.contact.as_str()).collect()
}

fn ok_bindings(outcome: RegisterOutcome) -> Vec<Binding> {
    match outcome {
        RegisterOutcome::Ok { bindings } => bindings,
        other => panic!("expected Ok, got {other:?}"),
    }
}

fn is_upsert_of(change: &BindingChange, contact: &str) -> bool {
    matches!(change, BindingChange::Upsert(b) if b.contact == contact)
}

fn remove_of(contact: &str) -> BindingChange {
    BindingChange::Remove {
        aor: "1001".into(),
        contact: contact.into(),
    }
}

#[test]
fn several_contacts_per_aor_are_bound_and_persisted() {
    let mut r = registrar();
    let b = ok_bindings(r.register(
        T0,
        req(
            vec![contact("sip:1001@10.0.0.1"), contact("sip:1001@10.0.0.2")],
            Some(600),
            "c1",
            1,
        ),
    ));
    assert_eq!(b.len(), 2);
    assert!(
        b.iter()
            .all(|b| b.expires_at_unix == T0 + 600 && b.source == peer())
    );
    assert_eq!(b[0].user_agent.as_deref(), Some("baresip"));
    let changes = drain(&mut r);
    assert_eq!(changes.len(), 2);
    assert!(
        is_upsert_of(&changes[0], "sip:1001@10.0.0.1")
            && is_upsert_of(&changes[1], "sip:1001@10.0.0.2")
    );
    // A second device registering with its own Call-ID adds a third binding.
    ok_bindings(r.register(
        T0 + 1,
        req(vec![contact("sip:1001@10.0.0.3")], None, "c2", 1),
    ));
    assert_eq!(r.count(), 3);
    assert_eq!(r.lookup(T0 + 1, "1001").len(), 3);
    assert!(r.lookup(T0 + 1, "1002").is_empty());
}

#[test]
fn refresh_updates_expiry_in_place() {
    let mut r = registrar();
    r.register(
        T0,
        req(vec![contact("sip:1001@10.0.0.1")], Some(600), "c1", 1),
    );
    drain(&mut r);
    let b = ok_bindings(r.register(
        T0 + 300,
        req(vec![contact("SIP:1001@10.0.0.1")], Some(600), "c1", 2),
    ));
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].expires_at_unix, b[0].cseq), (T0 + 900, 2));
    assert_eq!(r.count(), 1);
    assert_eq!(r.next_expiry(), Some(T0 + 900));
    // The contact text changed case: the old row goes, the new one comes.
    let changes = drain(&mut r);
    assert_eq!(changes[0], remove_of("sip:1001@10.0.0.1"));
    assert!(is_upsert_of(&changes[1], "SIP:1001@10.0.0.1"));
}

#[test]
fn expires_zero_removes_by_header_or_parameter() {
    let mut r = registrar();
    r.register(
        T0,
        req(
            vec![contact("sip:1001@a"), contact("sip:1001@b")],
            None,
            "c1",
            1,
        ),
    );
    drain(&mut r);
    let b = ok_bindings(r.register(T0, req(vec![contact("sip:1001@a")], Some(0), "c1", 2)));
    assert_eq!(contacts_of(&b), ["sip:1001@b"]);
    assert_eq!(drain(&mut r), [remove_of("sip:1001@a")]);
    let zero = ContactArg {
        expires: Some(0),
        ..contact("sip:1001@b")
    };
    assert!(ok_bindings(r.register(T0, req(vec![zero], Some(3600), "c1", 3))).is_empty());
    assert_eq!(drain(&mut r), [remove_of("sip:1001@b")]);
    assert_eq!((r.count(), r.next_expiry()), (0, None));
}

#[test]
fn expires_selection_contact_beats_header_beats_default_and_is_clamped() {
    let mut r = registrar();
    let own = ContactArg {
        expires: Some(120),
        ..contact("sip:1001@a")
    };
    let b = ok_bindings(r.register(
        T0,
        req(vec![own, contact("sip:1001@b")], Some(300), "c1", 1),
    ));
    let at = |c: &str| b.iter().find(|b| b.contact == c).map(|b| b.expires_at_unix);
    assert_eq!(
        (at("sip:1001@a"), at("sip:1001@b")),
        (Some(T0 + 120), Some(T0 + 300))
    );
    let b = ok_bindings(r.register(T0, req(vec![contact("sip:1001@c")], None, "c2", 1)));
    assert!(
        b.iter()
            .any(|b| b.contact == "sip:1001@c" && b.expires_at_unix == T0 + 3600)
    );
    let long = ContactArg {
        expires: Some(86_400),
        ..contact("sip:1001@d")
    };
    let b = ok_bindings(r.register(T0, req(vec![long], None, "c3", 1)));
    assert!(
        b.iter()
            .any(|b| b.contact == "sip:1001@d" && b.expires_at_unix == T0 + 3600)
    );
}

#[test]
fn too_brief_interval_is_423_and_changes_nothing() {
    let mut r = registrar();
    let brief = ContactArg {
        expires: Some(30),
        ..contact("sip:1001@b")
    };
    let outcome = r.register(
        T0,
        req(vec![contact("sip:1001@a"), brief], Some(600), "c1", 1),
    );
    assert_eq!(
        outcome,
        RegisterOutcome::IntervalTooBrief { min_expires: 60 }
    );
    assert_eq!(
        r.register(T0, req(vec![contact("sip:1001@a")], Some(59), "c1", 2)),
        RegisterOutcome::IntervalTooBrief { min_expires: 60 }
    );
    assert_eq!(r.count(), 0);
    assert!(drain(&mut r).is_empty());
}

#[test]
fn star_removes_everything_only_with_expires_zero() {
    let mut r = registrar();
    r.register(T0, req(vec![contact("sip:1001@a")], None, "c1", 1));
    r.register(T0, req(vec![contact("sip:1001@b")], None, "c2", 1));
    drain(&mut r);
    let star = |expires, cseq| RegisterRequest {
        contacts: ContactsArg::Star,
        ..req(vec![], expires, "c1", cseq)
    };
    assert!(matches!(
        r.register(T0, star(Some(3600), 2)),
        RegisterOutcome::BadRequest(_)
    ));
    assert!(matches!(
        r.register(T0, star(None, 2)),
        RegisterOutcome::BadRequest(_)
    ));
    let mixed = req(vec![contact("*"), contact("sip:1001@c")], Some(0), "c1", 2);
    assert!(matches!(
        r.register(T0, mixed),
        RegisterOutcome::BadRequest(_)
    ));
    assert_eq!(
        r.register(T0, star(Some(0), 1)),
        RegisterOutcome::OutOfOrder
    );
    assert_eq!(r.count(), 2);
    assert!(drain(&mut r).is_empty());
    assert!(ok_bindings(r.register(T0, star(Some(0), 2))).is_empty());
    let mut changes = drain(&mut r);
    changes.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(changes, [remove_of("sip:1001@a"), remove_of("sip:1001@b")]);
    assert_eq!(r.count(), 0);
    // A lone "*" inside the list behaves like Star.
    r.register(T0, req(vec![contact("sip:1001@a")], None, "c3", 1));
    assert!(ok_bindings(r.register(T0, req(vec![contact("*")], Some(0), "c4", 1))).is_empty());
}

#[test]
fn same_call_id_needs_a_higher_cseq() {
    let mut r = registrar();
    r.register(T0, req(vec![contact("sip:1001@a")], None, "c1", 5));
    drain(&mut r);
    for cseq in [4, 5] {
        assert_eq!(
            r.register(
                T0 + 1,
                req(vec![contact("sip:1001@a")], Some(0), "c1", cseq)
            ),
            RegisterOutcome::OutOfOrder
        );
    }
    assert_eq!(r.count(), 1);
    assert!(drain(&mut r).is_empty());
    // Another Call-ID (a rebooted phone) may use any CSeq.
    ok_bindings(r.register(T0 + 1, req(vec![contact("sip:1001@a")], None, "other", 1)));
    ok_bindings(r.register(T0 + 2, req(vec![contact("sip:1001@a")], None, "other", 2)));
}

#[test]
fn repeating_a_contact_in_one_request_is_not_out_of_order() {
    let mut r = registrar();
    let again = ContactArg {
        expires: Some(120),
        ..contact("sip:1001@a")
    };
    let b = ok_bindings(r.register(T0, req(vec![contact("sip:1001@a"), again], None, "c1", 1)));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].expires_at_unix, T0 + 120);
}

#[test]
fn contact_limit_is_enforced_without_partial_changes() {
    let mut r = Registrar::new(RegistrarConfig {
        max_contacts_per_aor: 2,
        ..RegistrarConfig::default()
    });
    r.register(
        T0,
        req(
            vec![contact("sip:1001@a"), contact("sip:1001@b")],
            None,
            "c1",
            1,
        ),
    );
    drain(&mut r);
    let outcome = r.register(
        T0,
        req(
            vec![contact("sip:1001@a"), contact("sip:1001@c")],
            None,
            "c1",
            2,
        ),
    );
    assert_eq!(outcome, RegisterOutcome::TooManyContacts);
    assert!(drain(&mut r).is_empty());
    assert_eq!(r.lookup(T0, "1001")[0].cseq, 1);
    // Refreshing, or swapping one contact for another, stays within the limit.
    ok_bindings(r.register(
        T0,
        req(
            vec![contact("sip:1001@a"), contact("sip:1001@b")],
            None,
            "c1",
            3,
        ),
    ));
    let gone = ContactArg {
        expires: Some(0),
        ..contact("sip:1001@b")
    };
    let b = ok_bindings(r.register(T0, req(vec![gone, contact("sip:1001@c")], None, "c1", 4)));
    assert_eq!(b.len(), 2);
}

#[test]
fn same_instance_replaces_the_old_contact() {
    let mut r = registrar();
    let urn = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";
    let first = ContactArg {
        instance: Some(urn),
        ..contact("sip:1001@192.168.1.5:5060")
    };
    r.register(T0, req(vec![first], None, "c1", 1));
    drain(&mut r);
    let moved = ContactArg {
        instance: Some(urn),
        ..contact("sip:1001@10.8.0.9:5060")
    };
    let b = ok_bindings(r.register(T0 + 10, req(vec![moved], None, "c2", 1)));
    assert_eq!(contacts_of(&b), ["sip:1001@10.8.0.9:5060"]);
    assert_eq!(b[0].instance.as_deref(), Some(urn));
    let changes = drain(&mut r);
    assert_eq!(changes[0], remove_of("sip:1001@192.168.1.5:5060"));
    assert!(is_upsert_of(&changes[1], "sip:1001@10.8.0.9:5060"));
}

#[test]
fn lookup_orders_by_q_then_newest() {
    let mut r = registrar();
    let q = |uri, q| ContactArg {
        q: Some(q),
        ..contact(uri)
    };
    r.register(
        T0,
        req(
            vec![q("sip:1001@low", 0.1), contact("sip:1001@none-old")],
            None,
            "c1",
            1,
        ),
    );
    r.register(
        T0 + 1,
        req(
            vec![q("sip:1001@mid", 0.5), contact("sip:1001@none-new")],
            None,
            "c2",
            1,
        ),
    );
    r.register(T0 + 2, req(vec![q("sip:1001@mid-new", 0.5)], None, "c3", 1));
    assert_eq!(
        contacts_of(&r.lookup(T0 + 3, "1001")),
        [
            "sip:1001@none-new",
            "sip:1001@none-old",
            "sip:1001@mid-new",
            "sip:1001@mid",
            "sip:1001@low"
        ]
    );
}

#[test]
fn expire_removes_due_bindings_and_emits_removals() {
    let mut r = registrar();
    r.register(T0, req(vec![contact("sip:1001@a")], Some(60), "c1", 1));
    r.register(T0, req(vec![contact("sip:1001@b")], Some(120), "c2", 1));
    drain(&mut r);
    assert_eq!(r.next_expiry(), Some(T0 + 60));
    r.expire(T0 + 59);
    assert_eq!(r.count(), 2);
    assert_eq!(
        contacts_of(&r.lookup(T0 + 60, "1001")),
        ["sip:1001@b"],
        "lookup hides due bindings"
    );
    r.expire(T0 + 60);
    assert_eq!(drain(&mut r), [remove_of("sip:1001@a")]);
    assert_eq!((r.count(), r.next_expiry()), (1, Some(T0 + 120)));
    r.expire(T0 + 1000);
    assert_eq!(drain(&mut r), [remove_of("sip:1001@b")]);
    assert_eq!((r.count(), r.next_expiry()), (0, None));
}

#[test]
fn register_purges_the_aors_expired_bindings_first() {
    let mut r = Registrar::new(RegistrarConfig {
        max_contacts_per_aor: 1,
        ..RegistrarConfig::default()
    });
    r.register(T0, req(vec![contact("sip:1001@a")], Some(60), "c1", 1));
    drain(&mut r);
    let b = ok_bindings(r.register(T0 + 61, req(vec![contact("sip:1001@b")], None, "c2", 1)));
    assert_eq!(contacts_of(&b), ["sip:1001@b"]);
    let changes = drain(&mut r);
    assert_eq!(changes[0], remove_of("sip:1001@a"));
    assert_eq!(r.count(), 1);
}

#[test]
fn empty_contact_list_only_queries() {
    let mut r = registrar();
    r.register(T0, req(vec![contact("sip:1001@a")], None, "c1", 1));
    drain(&mut r);
    let b = ok_bindings(r.register(T0, req(vec![], None, "c9", 1)));
    assert_eq!(contacts_of(&b), ["sip:1001@a"]);
    assert!(drain(&mut r).is_empty());
}

#[test]
fn restore_drops_expired_and_keeps_live_bindings() {
    let mut source = registrar();
    source.register(T0, req(vec![contact("sip:1001@a")], Some(60), "c1", 1));
    source.register(T0, req(vec![contact("sip:1001@b")], Some(600), "c2", 1));
    let persisted: Vec<Binding> = drain(&mut source)
        .into_iter()
        .filter_map(|c| match c {
            BindingChange::Upsert(b) => Some(b),
            BindingChange::Remove { .. } => None,
        })
        .collect();
    let mut r = registrar();
    r.restore(persisted, T0 + 60);
    assert_eq!(drain(&mut r), [remove_of("sip:1001@a")]);
    assert_eq!(contacts_of(&r.lookup(T0 + 60, "1001")), ["sip:1001@b"]);
    assert_eq!((r.count(), r.next_expiry()), (1, Some(T0 + 600)));
    // The restored binding keeps its Call-ID and CSeq for ordering checks.
    assert_eq!(
        r.register(T0 + 61, req(vec![contact("sip:1001@b")], None, "c2", 1)),
        RegisterOutcome::OutOfOrder
    );
}
