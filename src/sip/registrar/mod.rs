//! Registrar core (RFC 3261 section 10.3): the in-memory location service mapping an address of
//! record (the user part, e.g. `1001`) to its contact bindings.
//!
//! Owns: bindings and their expiry, the REGISTER processing rules (expires selection, 423,
//! `*` removal, Call-ID/CSeq ordering, contact limit), and the queue of [`BindingChange`]s the
//! shell persists. Must not touch: clocks (`unix_secs` is passed in), the database (the shell
//! writes [`Registrar::poll_change`] outputs and feeds [`Registrar::restore`] at start-up),
//! authentication (done before [`Registrar::register`] is called), SIP message parsing (the
//! shell fills a [`RegisterRequest`]).
//! Driven by: the REGISTER handler shell, which after every mutation drains
//! [`Registrar::poll_change`] and sleeps until [`Registrar::next_expiry`] to call
//! [`Registrar::expire`]; the call router reads [`Registrar::lookup`].
//!
//! Outcome to response mapping (done by the shell): `Ok` 200 listing the bindings with
//! `;expires=`; `IntervalTooBrief` 423 with `Min-Expires`; `BadRequest` 400; `OutOfOrder` 500;
//! `TooManyContacts` 403 (chosen over 503: it is a policy limit, not a transient overload, so
//! a retry after `Retry-After` would fail again; the user must drop bindings first).

mod contact;
mod location;
mod service;

use crate::sip::peer::Peer;

pub use contact::contact_key;
pub use location::Registrar;
pub use service::{BindingObserver, RegistrarService, unix_now};

/// Registrar policy.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistrarConfig {
    /// Shortest non-zero registration accepted; shorter ones get 423 (RFC 3261 10.3 step 7).
    pub min_expires: u32,
    /// Longest registration granted; longer requests are clamped.
    pub max_expires: u32,
    /// Registration time when neither the contact nor the request gives one.
    pub default_expires: u32,
    /// Most bindings one AOR may hold.
    pub max_contacts_per_aor: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_contacts_per_aor: 10,
        }
    }
}

/// One contact bound to an address of record.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The address of record: the user part, e.g. `1001`.
    pub aor: String,
    /// The contact URI text as registered.
    pub contact: String,
    /// Wall-clock second at which the binding expires.
    pub expires_at_unix: u64,
    /// Call-ID of the REGISTER that last set the binding (ordering, RFC 3261 10.3 step 7).
    pub call_id: String,
    /// CSeq number of that REGISTER.
    pub cseq: u32,
    /// The contact's `q` preference, if given.
    pub q: Option<f32>,
    /// Where the REGISTER came from: requests go back there (NAT, TCP connection reuse).
    pub source: Peer,
    /// The `+sip.instance` feature tag (RFC 5626), if given.
    pub instance: Option<String>,
    /// The User-Agent of the registering device, for display.
    pub user_agent: Option<String>,
}

/// One Contact of a REGISTER, as the shell extracted it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContactArg<'a> {
    /// The contact URI text (without `<>` and header parameters).
    pub uri: &'a str,
    /// The contact's `expires` parameter.
    pub expires: Option<u32>,
    /// The contact's `q` parameter.
    pub q: Option<f32>,
    /// The contact's `+sip.instance` parameter (unquoted).
    pub instance: Option<&'a str>,
}

/// The Contact header fields of a REGISTER.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactsArg<'a> {
    /// `Contact: *`: remove every binding (only valid with `Expires: 0`).
    Star,
    /// Zero or more contacts; none means "list the current bindings".
    List(Vec<ContactArg<'a>>),
}

/// A REGISTER request as the registrar needs it (authenticated already).
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterRequest<'a> {
    /// The address of record (user part of the To URI).
    pub aor: &'a str,
    /// The Contact header fields.
    pub contacts: ContactsArg<'a>,
    /// The Expires header, if present.
    pub expires_header: Option<u32>,
    /// The Call-ID.
    pub call_id: &'a str,
    /// The CSeq number.
    pub cseq: u32,
    /// Where the request came from.
    pub source: Peer,
    /// The User-Agent header, if present.
    pub user_agent: Option<&'a str>,
}

/// What [`Registrar::register`] decided. Nothing changes unless it is `Ok`.
#[derive(Debug, Clone, PartialEq)]
pub enum RegisterOutcome {
    /// Done; `bindings` are the AOR's live bindings after the update (for the 200's Contact
    /// header fields), highest q first, then newest.
    Ok {
        /// The current bindings.
        bindings: Vec<Binding>,
    },
    /// A non-zero expiration below the minimum: answer 423 with `Min-Expires`.
    IntervalTooBrief {
        /// The value for the `Min-Expires` header.
        min_expires: u32,
    },
    /// The request is invalid (400), with a reason phrase.
    BadRequest(&'static str),
    /// Same Call-ID with a CSeq not higher than the stored one (500, RFC 3261 10.3 step 7).
    OutOfOrder,
    /// The AOR would hold more than `max_contacts_per_aor` bindings (403).
    TooManyContacts,
}

/// A change to persist.
#[derive(Debug, Clone, PartialEq)]
pub enum BindingChange {
    /// Insert or replace the binding keyed by `(aor, contact)`.
    Upsert(Binding),
    /// Delete the binding keyed by `(aor, contact)`.
    Remove {
        /// The address of record.
        aor: String,
        /// The contact URI text as stored.
        contact: String,
    },
}
